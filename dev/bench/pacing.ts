/*
 * Where a run's time went, from the fake's request log: per rate-limit
 * bucket, the windows it used (re-simulated as the fake opens them: at the
 * first counted request after the previous window ended) and the time lost
 * at each window boundary beyond the window itself; the pace of the user
 * directory's cursor chain; and the time before the first and after the
 * last request.
 */

/** The parts of a fake request log entry this reads. */
export interface LoggedRequest {
  endpoint: string;
  status: number;
  /** Arrival, epoch ms (the fake's clock, the same machine's). */
  startedAt: number;
  /** Arrival to end of response, ms. */
  ms: number;
}

export interface BucketPacing {
  bucket: string;
  requests: number;
  windows: number;
  /** For each boundary: next window's opening − (this window's opening + W), seconds. */
  boundaryLossSeconds: number[];
  /** Mean of boundaryLossSeconds (0 without boundaries). */
  meanBoundaryLossSeconds: number;
  /** First arrival to last response end, seconds. */
  spanSeconds: number;
  /**
   * Second arrival minus first: about one latency when the client sends a
   * single probe into a bucket it knows nothing of yet, about 0 otherwise.
   */
  secondRequestAfterSeconds: number;
  /** Mean time the fake took per request, arrival to response end, latency included (ms). */
  meanFakeMs: number;
}

export interface RunPacing {
  buckets: BucketPacing[];
  /** Start of the run to the first request's arrival, seconds. */
  beforeFirstRequestSeconds: number;
  /** Last response's end to the end of the run, seconds (mapping, commit, catalog). */
  afterLastResponseSeconds: number;
}

/** The fake's buckets by its endpoint keys (as Okta counts them; see bound.ts). */
const BUCKET_OF_ENDPOINT: Record<string, string> = {
  users: 'users',
  groups: 'groups',
  groupUsers: 'groups',
  userGroups: 'users',
  userById: 'other',
};

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Re-simulates the fake's windows over the counted (non-429) requests of one
 * bucket. The fake counts a request after the configured latency, so a
 * request is counted at `startedAt + latencyMs`.
 */
export function bucketPacing(
  bucket: string,
  entries: LoggedRequest[],
  windowMs: number,
  latencyMs: number,
): BucketPacing {
  const counted = entries
    .filter(e => e.status !== 429 && e.status !== 0)
    .map(e => e.startedAt + latencyMs)
    .sort((a, b) => a - b);
  const openings: number[] = [];
  for (const t of counted) {
    if (
      openings.length === 0 ||
      t >= openings[openings.length - 1] + windowMs
    ) {
      openings.push(t);
    }
  }
  const losses = openings
    .slice(1)
    .map((t, i) => round3((t - (openings[i] + windowMs)) / 1000));
  const arrivals = entries.map(e => e.startedAt).sort((a, b) => a - b);
  const first = entries.reduce((m, e) => Math.min(m, e.startedAt), Infinity);
  const last = entries.reduce(
    (m, e) => Math.max(m, e.startedAt + e.ms),
    -Infinity,
  );
  return {
    bucket,
    requests: entries.length,
    windows: openings.length,
    boundaryLossSeconds: losses,
    meanBoundaryLossSeconds: losses.length
      ? round3(losses.reduce((a, b) => a + b, 0) / losses.length)
      : 0,
    spanSeconds: entries.length ? round3((last - first) / 1000) : 0,
    secondRequestAfterSeconds:
      arrivals.length > 1 ? round3((arrivals[1] - arrivals[0]) / 1000) : 0,
    meanFakeMs: entries.length
      ? Math.round(
          (entries.reduce((a, e) => a + e.ms, 0) / entries.length) * 10,
        ) / 10
      : 0,
  };
}

export function runPacing(
  log: LoggedRequest[],
  run: { startedAtEpochMs: number; wallSeconds: number },
  windowMs: number,
  latencyMs: number,
): RunPacing {
  const byBucket = new Map<string, LoggedRequest[]>();
  for (const entry of log) {
    const bucket = BUCKET_OF_ENDPOINT[entry.endpoint];
    if (!bucket) continue;
    const list = byBucket.get(bucket) ?? [];
    list.push(entry);
    byBucket.set(bucket, list);
  }
  const buckets = ['users', 'groups', 'other']
    .filter(b => byBucket.has(b))
    .map(b => bucketPacing(b, byBucket.get(b)!, windowMs, latencyMs));
  const first = log.length
    ? log.reduce((m, e) => Math.min(m, e.startedAt), Infinity)
    : run.startedAtEpochMs;
  const last = log.length
    ? log.reduce((m, e) => Math.max(m, e.startedAt + e.ms), -Infinity)
    : run.startedAtEpochMs;
  return {
    buckets,
    beforeFirstRequestSeconds: round3((first - run.startedAtEpochMs) / 1000),
    afterLastResponseSeconds: round3(
      (run.startedAtEpochMs + run.wallSeconds * 1000 - last) / 1000,
    ),
  };
}
