/*
 * The benchmark's incremental scenarios, on the main org (default 50,000
 * users, 5,000 groups), each run a process of its own with the sync's state
 * in a SQLite file (so that it outlives the process, as a database does):
 *
 *   e  steady state: a full read through the incremental sync, then 1% of
 *      the users (profile edits, renames, deprovisionings) and 1% of the
 *      groups (a member joins and one leaves, or a rename) change, then the
 *      measured incremental run; then a fresh full read without state, whose
 *      entities must hash the same as the incremental run's.
 *   f  resumed full read: a full read stopped after half of its member pages
 *      (as a schedule timeout would stop it), then the measured run that
 *      finishes it; its entities must hash the same as the fresh full read's.
 *
 * Requests are compared with the full read's own; the wall time with the
 * lower bound of the run's own requests (bound.ts), at the bench's window and
 * at Okta's real 60 s one.
 */
import { join } from 'node:path';
import { lowerBound, type Bound, type RequestCounts } from './bound';
import type { RunRequest, RunResult } from './runRead';

export type IncrementalScenarioId = 'e' | 'f';

const ENDPOINTS = ['token', 'users', 'groups', 'groupMembers'] as const;

export interface IncrementalContext {
  wanted: Set<IncrementalScenarioId>;
  baseRequest: Omit<RunRequest, 'sync' | 'selection' | 'endToEnd'>;
  runOnce(request: RunRequest): Promise<RunResult>;
  change(
    share: number,
    seed: number,
  ): Promise<{ usersChanged: number; groupsChanged: number }>;
  resetStats(): Promise<void>;
  workDir: string;
  windowSeconds: number;
  latencySeconds: number;
  concurrency: number;
  limitPerWindow: Record<string, number>;
}

export interface IncrementalRunSummary {
  label: string;
  kind?: string;
  requests: RequestCounts;
  totalRequests: number;
  /** 429 answers the client got. */
  rateLimited: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  users: number;
  groups: number;
  memberships: number;
  entitiesHash?: string;
}

export interface IncrementalReport {
  id: IncrementalScenarioId;
  title: string;
  runs: IncrementalRunSummary[];
  /** The measured run's requests over the full read's. */
  requestShare: number;
  target: number;
  /** Lower bound of the measured run's own requests, at the bench's window and at 60 s. */
  bound: Bound;
  boundAt60s: Bound;
  wallRatio: number;
  /** The measured run's entities hash the same as a fresh full read's. */
  equalToFullRead: boolean;
  changed?: { usersChanged: number; groupsChanged: number };
}

function summarize(label: string, result: RunResult): IncrementalRunSummary {
  const requests = Object.fromEntries(
    ENDPOINTS.map(e => [e, result.clientStats.requests[e] ?? 0]),
  ) as RequestCounts;
  return {
    label,
    kind: result.sync?.stopped ? 'stopped' : result.sync?.kind,
    requests,
    totalRequests: Object.values(result.clientStats.requests).reduce(
      (a, b) => a + b,
      0,
    ),
    rateLimited: result.clientStats.rateLimited,
    wallSeconds: result.wallSeconds,
    cpuSeconds: result.cpuUserSeconds + result.cpuSystemSeconds,
    peakRssMb: Math.max(result.peakRssHwmMb || 0, result.peakRssSampledMb),
    users: result.users,
    groups: result.groups,
    memberships: result.memberships,
    entitiesHash: result.entitiesHash,
  };
}

export async function runIncrementalScenarios(
  context: IncrementalContext,
): Promise<IncrementalReport[]> {
  const { baseRequest, windowSeconds } = context;
  // Okta's eventual consistency overlap (5 min at 60 s windows), compressed
  // like the window.
  const overlapMs = Math.round(5 * 60_000 * (windowSeconds / 60));
  const freshWindow = () =>
    new Promise(r => setTimeout(r, (windowSeconds + 0.5) * 1000));
  const run = async (sync?: RunRequest['sync']) => {
    await freshWindow();
    await context.resetStats();
    return context.runOnce({
      ...baseRequest,
      endToEnd: false,
      selection: {},
      sync,
    });
  };
  const bounds = (summary: IncrementalRunSummary) => {
    const input = {
      requests: summary.requests,
      longestMemberListingPages: summary.requests.groupMembers > 0 ? 1 : 0,
      limitPerWindow: context.limitPerWindow,
      latencySeconds: context.latencySeconds,
      concurrency: context.concurrency,
    };
    return {
      bound: lowerBound({ ...input, windowSeconds }),
      boundAt60s: lowerBound({ ...input, windowSeconds: 60 }),
    };
  };

  const reports: IncrementalReport[] = [];
  const stateE = join(context.workDir, 'state-e.sqlite');
  const full = summarize(
    'full read (incremental sync, no state yet)',
    await run({ stateFile: stateE, overlapMs }),
  );
  let freshHash: string | undefined;
  let fresh: IncrementalRunSummary | undefined;
  if (context.wanted.has('e')) {
    const changed = await context.change(0.01, 20261201);
    const steady = summarize(
      'incremental run after 1% changed',
      await run({ stateFile: stateE, overlapMs }),
    );
    fresh = summarize('fresh full read (no state)', await run());
    freshHash = fresh.entitiesHash;
    const { bound, boundAt60s } = bounds(steady);
    reports.push({
      id: 'e',
      title: 'steady state: 1% of users and groups changed since the last run',
      runs: [full, steady, fresh],
      requestShare: steady.totalRequests / full.totalRequests,
      target: 0.02,
      bound,
      boundAt60s,
      wallRatio: steady.wallSeconds / bound.seconds,
      equalToFullRead:
        steady.entitiesHash !== undefined &&
        steady.entitiesHash === fresh.entitiesHash,
      changed,
    });
  }
  if (context.wanted.has('f')) {
    const stateF = join(context.workDir, 'state-f.sqlite');
    const stopped = summarize(
      'full read stopped at half its member pages',
      await run({
        stateFile: stateF,
        overlapMs,
        stopAtMemberPages: Math.ceil(full.requests.groupMembers / 2),
      }),
    );
    const resumed = summarize(
      'the run that finishes it',
      await run({ stateFile: stateF, overlapMs }),
    );
    if (!fresh) {
      fresh = summarize('fresh full read (no state)', await run());
      freshHash = fresh.entitiesHash;
    }
    const { bound, boundAt60s } = bounds(resumed);
    reports.push({
      id: 'f',
      title: 'a full read stopped at about half, then resumed',
      runs: [stopped, resumed, fresh],
      requestShare: resumed.totalRequests / full.totalRequests,
      target: 0.55,
      bound,
      boundAt60s,
      wallRatio: resumed.wallSeconds / bound.seconds,
      equalToFullRead:
        resumed.entitiesHash !== undefined &&
        resumed.entitiesHash === freshHash,
    });
  }
  const fullBounds = bounds(full);
  for (const report of reports)
    printReport(report, full, fullBounds.boundAt60s);
  return reports;
}

function printReport(
  report: IncrementalReport,
  full: IncrementalRunSummary,
  fullBoundAt60s: Bound,
) {
  const measured = report.runs[1];
  console.log(`\n(${report.id}) ${report.title}`);
  if (report.changed) {
    console.log(
      `  changed: ${report.changed.usersChanged} users, ${report.changed.groupsChanged} groups`,
    );
  }
  for (const r of report.runs) {
    console.log(
      `  ${r.label}: ${r.kind ?? 'full (readProviderEntities)'}, requests ${r.totalRequests} ` +
        `(users ${r.requests.users}, groups ${r.requests.groups}, member pages ${r.requests.groupMembers}, token ${r.requests.token}; 429s ${r.rateLimited}), ` +
        `wall ${r.wallSeconds.toFixed(2)} s, CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${Math.round(r.peakRssMb)} MB, ` +
        `${r.users} users, ${r.groups} groups, ${r.memberships} memberships`,
    );
  }
  console.log(
    `  measured run: ${measured.totalRequests} requests = ${(100 * report.requestShare).toFixed(2)}% of the full read's ${full.totalRequests} ` +
      `(target ≤ ${Math.round(100 * report.target)}%: ${report.requestShare <= report.target ? 'met' : 'NOT met'}); ` +
      `wall ${measured.wallSeconds.toFixed(2)} s vs lower bound ${report.bound.seconds.toFixed(2)} s (${report.wallRatio.toFixed(2)}×); ` +
      `at Okta's 60 s windows the bound is ${report.boundAt60s.seconds.toFixed(1)} s (a full read's: ${fullBoundAt60s.seconds.toFixed(0)} s); ` +
      `entities equal to a fresh full read: ${report.equalToFullRead ? 'yes' : 'NO'}`,
  );
}
