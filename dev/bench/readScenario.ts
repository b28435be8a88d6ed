/*
 * One read scenario (a to d): its minimum requests and lower bound from the
 * org, then its runs, each a fresh process against the fake, compared with
 * what the fake counted.
 */
import type { FakeOrg } from '../fakeOkta/FakeOrg';
import {
  lowerBound,
  minimumRequests,
  realWindowCost,
  windowBoundaries,
  type BenchEndpoint,
  type RequestCounts,
} from './bound';
import type { FakeProcess } from './fakeProcess';
import { runsOf, type BenchOptions } from './options';
import { runPacing } from './pacing';
import {
  ENDPOINTS,
  median,
  sum,
  TARGET_REQUEST_RATIO,
  TARGET_WALL_RATIO,
  type RunRow,
  type ScenarioReport,
} from './report';
import { failedRun, runOnce } from './runProcess';
import type { RunResult } from './runRead';
import {
  longestMemberListingPages,
  selectionFacts,
  type Scenario,
} from './scenarios';

/** The fake's endpoint keys for the client's. */
const FAKE_ENDPOINT: Record<BenchEndpoint, string> = {
  token: 'token',
  users: 'users',
  groups: 'groups',
  groupMembers: 'groupUsers',
};

/**
 * Runs one scenario on `fake` (whose org is `org`).
 *
 * @param context.ranOnFake - whether a run already used this fake: each run
 *   then first waits for fresh rate-limit windows
 */
export async function runReadScenario(context: {
  scenario: Scenario;
  org: FakeOrg;
  fake: FakeProcess;
  options: BenchOptions;
  limits: Record<string, number>;
  app: { clientId: string; keyId: string; privateKeyPem: string };
  ranOnFake: boolean;
}): Promise<ScenarioReport> {
  const { scenario, org, fake, options, limits } = context;
  const { clientId, keyId, privateKeyPem } = context.app;
  let ranOnThisFake = context.ranOnFake;
  const { selectedGroupSizes, ...facts } = selectionFacts(
    org,
    scenario.selection,
  );
  const minimum = minimumRequests({ ...facts, selectedGroupSizes });
  const bound = lowerBound({
    requests: minimum,
    longestMemberListingPages: longestMemberListingPages({
      ...facts,
      selectedGroupSizes,
    }),
    limitPerWindow: limits,
    windowSeconds: options.windowSeconds,
    latencySeconds: options.latencyMs / 1000,
    concurrency: Math.min(options.concurrency, options.oktaConcurrency),
  });
  const minimumTotal = sum(minimum);
  const rows: RunRow[] = [];
  const runs = runsOf(scenario, options);
  for (let run = 1; run <= runs; run++) {
    if (ranOnThisFake) {
      // A fresh window in every bucket: windows open with their first request.
      await new Promise(r =>
        setTimeout(r, (options.windowSeconds + 0.5) * 1000),
      );
    }
    await fake.resetStats();
    const fakeBefore = await fake.stats();
    let result: RunResult;
    let error: string | undefined;
    try {
      result = await runOnce({
        type: 'run',
        endToEnd: scenario.endToEnd,
        selection: scenario.selection,
        orgUrl: fake.url,
        clientId,
        keyId,
        privateKeyPem,
        concurrency: options.concurrency,
        off: options.off,
        timeoutSeconds: Math.max(300, bound.seconds * 10),
        verbose: options.verbose,
      });
    } catch (e) {
      error = String((e as Error).message)
        .split('\n')
        .slice(0, 2)
        .join(' ');
      console.error(
        `(${scenario.id}) run ${run} FAILED: ${(e as Error).message}`,
      );
      result = failedRun();
    }
    const fakeAfter = await fake.stats();
    const pacing = error
      ? undefined
      : runPacing(
          await fake.log(),
          result,
          options.windowSeconds * 1000,
          options.latencyMs,
        );
    ranOnThisFake = true;
    const fakeRequests = Object.fromEntries(
      ENDPOINTS.map(e => [e, fakeAfter.requests[FAKE_ENDPOINT[e]] ?? 0]),
    ) as RequestCounts;
    // A failed run sends no stats: count what the fake saw.
    const requests = error
      ? fakeRequests
      : (Object.fromEntries(
          ENDPOINTS.map(e => [e, result.clientStats.requests[e] ?? 0]),
        ) as RequestCounts);
    const otherClient = Object.entries(result.clientStats.requests)
      .filter(([k]) => !ENDPOINTS.includes(k as BenchEndpoint))
      .reduce((s, [, n]) => s + n, 0);
    const totalRequests = sum(requests) + otherClient;
    rows.push({
      run,
      error,
      requests,
      fakeRequests,
      requestsMatchFake: ENDPOINTS.every(e => requests[e] === fakeRequests[e]),
      totalRequests,
      requestRatio: totalRequests / minimumTotal,
      rateLimitedClient: result.clientStats.rateLimited,
      served429: fakeAfter.served429,
      retries: result.clientStats.retries,
      fakePeakConcurrency: fakeAfter.peakConcurrency,
      wallSeconds: result.wallSeconds,
      wallRatio: result.wallSeconds / bound.seconds,
      readSeconds: result.readSeconds,
      buildSeconds: result.buildSeconds,
      catalogSeconds: result.catalogSeconds,
      cpuSeconds: result.cpuUserSeconds + result.cpuSystemSeconds,
      peakRssMb: Math.max(result.peakRssHwmMb || 0, result.peakRssSampledMb),
      peakRssSampledMb: result.peakRssSampledMb,
      baselineRssMb: result.baselineRssMb,
      peakPagesHeld: result.clientStats.peakPagesHeld,
      peakRecordsHeld: result.clientStats.peakRecordsHeld,
      peakRequestsInFlight: result.clientStats.peakRequestsInFlight,
      fakeCpuSeconds:
        (fakeAfter.cpu.user -
          fakeBefore.cpu.user +
          fakeAfter.cpu.system -
          fakeBefore.cpu.system) /
        1e6,
      users: result.users,
      groups: result.groups,
      memberships: result.memberships,
      emptyGroupsSkipped: result.emptyGroupsSkipped,
      unmatchedGroupNames: result.unmatchedGroupNames,
      warnings: result.warnings,
      pacing,
    });
  }
  const report: ScenarioReport = {
    id: scenario.id,
    title: scenario.title,
    selection: scenario.selection,
    org: {
      users: fake.userCount,
      groups: fake.groupCount,
      generatedInMs: fake.generatedInMs,
    },
    facts,
    minimumRequests: minimum,
    minimumTotal,
    bound,
    windowBoundaries: windowBoundaries(minimum, limits),
    atRealWindows: realWindowCost(minimum, limits),
    runs: rows,
    median: {
      wallSeconds: median(rows.map(r => r.wallSeconds)),
      wallRatio: median(rows.map(r => r.wallRatio)),
      requestRatio: median(rows.map(r => r.requestRatio)),
    },
    targets: {
      requestsWithin102: rows.every(
        r => !r.error && r.requestRatio <= TARGET_REQUEST_RATIO,
      ),
      wallWithin125: scenario.endToEnd
        ? undefined
        : rows.every(r => !r.error) &&
          median(rows.map(r => r.wallRatio)) <= TARGET_WALL_RATIO,
      no429: rows.every(r => r.served429 === 0),
    },
  };
  return report;
}
