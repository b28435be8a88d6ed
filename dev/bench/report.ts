/*
 * What the benchmark reports: the rows of each run and scenario, the tables
 * printed, and the explanation of the lower bound.
 */
import type {
  Bound,
  BenchEndpoint,
  RealWindowCost,
  RequestCounts,
} from './bound';
import type { RunPacing } from './pacing';
import type { RunResult } from './runRead';
import type { Scenario, ScenarioId, SelectionFacts } from './scenarios';

export const ENDPOINTS: BenchEndpoint[] = [
  'token',
  'users',
  'groups',
  'groupMembers',
];
export const TARGET_REQUEST_RATIO = 1.02;
export const TARGET_WALL_RATIO = 1.25;

/** One run as reported: what it read (as the run process said) and what it cost. */
export interface RunRow extends Pick<
  RunResult,
  | 'users'
  | 'groups'
  | 'memberships'
  | 'emptyGroupsSkipped'
  | 'unmatchedGroupNames'
  | 'warnings'
> {
  run: number;
  /** Why the run failed (its numbers are then as far as it got). */
  error?: string;
  requests: RequestCounts;
  fakeRequests: RequestCounts;
  requestsMatchFake: boolean;
  totalRequests: number;
  requestRatio: number;
  rateLimitedClient: number;
  served429: number;
  retries: number;
  fakePeakConcurrency: number;
  wallSeconds: number;
  wallRatio: number;
  readSeconds: number;
  buildSeconds: number;
  catalogSeconds?: number;
  cpuSeconds: number;
  peakRssMb: number;
  peakRssSampledMb: number;
  baselineRssMb: number;
  /** Most listing pages the read held at once (complete, not yet wholly mapped). */
  peakPagesHeld?: number;
  /** Most Okta records of those pages held at once (not yet mapped). */
  peakRecordsHeld?: number;
  /** Most requests on the wire at once. */
  peakRequestsInFlight?: number;
  fakeCpuSeconds: number;
  pacing?: RunPacing;
}

export interface ScenarioReport {
  id: ScenarioId;
  title: string;
  selection: Scenario['selection'];
  org: { users: number; groups: number; generatedInMs: number };
  facts: Omit<SelectionFacts, 'selectedGroupSizes'>;
  minimumRequests: RequestCounts;
  minimumTotal: number;
  bound: Bound;
  windowBoundaries: number;
  /** The same minimum requests at Okta's real 60 s windows and a 30-minute timeout. */
  atRealWindows: RealWindowCost;
  runs: RunRow[];
  median: { wallSeconds: number; wallRatio: number; requestRatio: number };
  targets: {
    requestsWithin102: boolean;
    wallWithin125?: boolean;
    no429: boolean;
  };
}

export const sum = (counts: RequestCounts) =>
  ENDPOINTS.reduce((s, e) => s + counts[e], 0);
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fixed = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

export function printTable(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map(r => r[i].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(headers));
  console.log(
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const row of rows) console.log(line(row));
}

export const BOUND_EXPLANATION = `Lower bound (dev/bench/bound.ts): bound = max(T_users, T_groups, T_throughput, T_chain)
  T_b          = d_b·λ + (ceil(n_b/L_b) − 1)·W + ceil(r_b/C)·λ   per rate-limit bucket b, n_b its minimum requests,
                 L_b = floor(limit × app share) per window W, r_b = requests in its last window, d_b = 1 (the token
                 comes first); groups: n = group pages + member pages (Okta counts /groups/{id}/users in the groups
                 bucket); users: r·λ, one cursor listing is sequential
  T_throughput = λ + (N − 1)·λ/C                                  N = all minimum requests, C = min(client, org) concurrency
  T_chain      = λ·max(1 + user pages, 2 + pages of the biggest selected group)   cursor paging is sequential
  Not included: X-Rate-Limit-Reset is in whole seconds and a window opens when its first request ARRIVES. A client
  that never sends before the reset second opens each window a little after a whole second, so (with a whole-second
  W) that window ends a little after a whole second too and the next reset is rounded up by almost 1 s: every
  window boundary of the busiest bucket costs ~1 s. Column "w/(b+1s·B)" = wall / (bound + 1 s × boundaries B).
  At Okta's 60 s window that is ≤ 1.7%; at a compressed W it weighs 60/W times more.
Minimum requests: token 1; users ceil(listed/200) when the directory must be listed; groups ceil(listed/10000)
  per listing (one per name-search chunk); group members Σ over NON-EMPTY selected groups of ceil(members/1000).`;

export function printScenario(report: ScenarioReport) {
  const f = report.facts;
  console.log(`\n=== (${report.id}) ${report.title} ===`);
  console.log(
    `org ${report.org.users} users / ${report.org.groups} groups; selected ${f.selectedGroups} groups ` +
      `(${f.nonEmptySelectedGroups} non-empty, biggest ${f.biggestGroup}), ${f.memberships} memberships, ` +
      `${f.listsUserDirectory ? `user directory listed (${f.listedUsers} users)` : 'users from member listings'}, ` +
      `~${f.expectedUsers} users expected`,
  );
  const m = report.minimumRequests;
  console.log(
    `minimum requests ${report.minimumTotal} (token ${m.token}, users ${m.users}, groups ${m.groups}, members ${m.groupMembers})`,
  );
  const terms = report.bound.terms
    .map(t => `${t.name} ${fixed(t.seconds, 2)} s = ${t.formula}`)
    .join('; ');
  console.log(
    `bound ${fixed(report.bound.seconds, 2)} s (binding: ${report.bound.binding}); ${terms}`,
  );
  const real = report.atRealWindows;
  console.log(
    `at Okta's 60 s windows: ${real.windows} window(s) of the busiest bucket, at least ${fixed(real.minutes, 0)} min` +
      `${real.exceedsTimeout ? ' (cannot finish inside a 30-minute timeout)' : ''}`,
  );
  const d = report.id === 'd';
  printTable(
    [
      'run',
      'req tok/usr/grp/mem',
      'req',
      'min',
      'req/min',
      '429 (client/fake)',
      'retries',
      'wall s',
      'bound s',
      'wall/bound',
      'w/(b+1s·B)',
      'read s',
      d ? 'commit+catalog s' : 'build s',
      'CPU s',
      'peak RSS MB',
      'base RSS MB',
      'held pages/records, in flight',
      'fake CPU s',
      'fake peak conc',
    ],
    report.runs.map(r => {
      const protocolBound = report.bound.seconds + report.windowBoundaries;
      return [
        `${report.id}${r.run}`,
        `${r.requests.token}/${r.requests.users}/${r.requests.groups}/${r.requests.groupMembers}${
          r.requestsMatchFake ? '' : ' (fake differs!)'
        }`,
        String(r.totalRequests),
        String(report.minimumTotal),
        fixed(r.requestRatio, 3),
        `${r.rateLimitedClient}/${r.served429}`,
        String(r.retries),
        fixed(r.wallSeconds, 2),
        fixed(report.bound.seconds, 2),
        fixed(r.wallRatio, 2),
        fixed(r.wallSeconds / protocolBound, 2),
        fixed(r.readSeconds, 2),
        d
          ? `${fixed(r.buildSeconds, 2)}+${fixed(r.catalogSeconds, 2)}`
          : fixed(r.buildSeconds, 2),
        fixed(r.cpuSeconds, 2),
        fixed(r.peakRssMb, 0),
        fixed(r.baselineRssMb, 0),
        `${r.peakPagesHeld ?? '-'}/${r.peakRecordsHeld ?? '-'}, ${r.peakRequestsInFlight ?? '-'}`,
        fixed(r.fakeCpuSeconds, 2),
        String(r.fakePeakConcurrency),
      ];
    }),
  );
  for (const r of report.runs) {
    if (r.pacing) {
      const p = r.pacing;
      const buckets = p.buckets.map(b => {
        const pace =
          b.bucket === 'users'
            ? ` (${fixed((b.spanSeconds * 1000) / b.requests, 1)} ms/page)`
            : '';
        const losses = b.boundaryLossSeconds.map(x => fixed(x, 2)).join(' ');
        const lost = b.boundaryLossSeconds.length
          ? `, lost ${fixed(b.meanBoundaryLossSeconds, 2)} s per boundary beyond W (${losses})`
          : '';
        const probe =
          b.requests > 1
            ? `, 2nd request ${fixed(b.secondRequestAfterSeconds, 3)} s after the 1st`
            : '';
        const fakeMs = `, fake ${fixed(b.meanFakeMs, 1)} ms/req`;
        return `${b.bucket}: ${b.requests} req in ${b.windows} window(s) over ${fixed(b.spanSeconds, 2)} s${pace}${fakeMs}${probe}${lost}`;
      });
      console.log(
        `  pacing ${report.id}${r.run}: ${fixed(p.beforeFirstRequestSeconds, 2)} s before the first request, ${fixed(
          p.afterLastResponseSeconds,
          2,
        )} s after the last response; ${buckets.join('; ')}`,
      );
    }
    if (r.error)
      console.log(
        `  run ${report.id}${r.run} FAILED (request counts from the fake): ${r.error.slice(0, 300)}`,
      );
  }
  const t = report.targets;
  const wallTarget =
    t.wallWithin125 === undefined
      ? 'wall vs bound: not a target (catalog processing included)'
      : `wall ≤ ${TARGET_WALL_RATIO}×bound ${t.wallWithin125 ? 'OK' : 'MISSED'}`;
  const medianWall =
    report.runs.length > 1
      ? ` (median of ${report.runs.length} runs: wall ${fixed(report.median.wallSeconds, 2)} s, wall/bound ${fixed(report.median.wallRatio, 2)})`
      : '';
  console.log(
    `targets: requests ≤ ${TARGET_REQUEST_RATIO}×min ${
      t.requestsWithin102 ? 'OK' : 'MISSED'
    }; ${wallTarget}; 429s ${t.no429 ? 'none' : 'SOME'}${medianWall}`,
  );
  const warnings = new Set(report.runs.flatMap(r => r.warnings));
  for (const w of [...warnings].slice(0, 5))
    console.log(`  log: ${w.slice(0, 200)}`);
}
