/*
 * Benchmark of the Okta org read path against the fake Okta org.
 *
 *   npm run bench -- [options]
 *   (= node -r @backstage/cli/config/nodeTransform.cjs dev/bench/index.ts, Node 22)
 *
 * Starts the fake Okta org (dev/fakeOkta/cli.ts) in a separate process with a
 * generated org, Okta's Workforce per-minute limits (users 600, groups 500
 * (group member listings count here too), other 1200, token 600) at an app
 * share, a compressed window and a fixed
 * latency; registers a service app with an RS256 key pair made here. Each
 * run is then a fresh process (dev/bench/runRead.ts), so its CPU seconds and
 * peak RSS are the provider's only. Prints a table per scenario and writes
 * .bench/results.json.
 *
 * Scenarios (--scenario a,b,c,d):
 *   a  every user and group (Everyone skipped) of the main org
 *   b  a groupNames filter of 50 groups (users come from member listings)
 *   c  groupSearchFilter matching ~10% of groups plus userSearchFilter
 *      status eq "ACTIVE" (the user directory is listed with search)
 *   d  end to end: OktaOrgEntityProvider.read() into the real catalog backend
 *      (in-memory SQLite), timed until the catalog serves every entity; a
 *      smaller org (--d-users, --d-groups)
 *   e  incremental steady state: after a full read, 1% of users and groups
 *      change; the next run's requests, time and memory (dev/bench/incremental.ts)
 *   f  a full read stopped at half its member pages, then resumed
 *
 * Options (defaults in brackets):
 *   --users N [50000] --groups N [5000]   main org size (scenarios a–c)
 *   --avg-groups-per-user F [10]          mean groups per user, Everyone included
 *   --d-users N [5000] --d-groups N [500] org size of scenario d
 *   --seed N [1]                          org generator seed
 *   --latency-ms N [50]                   latency the fake adds to every request
 *   --window-seconds N [6]                rate-limit window (Okta: 60; compressed
 *                                         so that a default bench takes minutes)
 *   --app-share F [0.5]                   share of each bucket our app may use
 *   --concurrency N [10]                  the client's maxConcurrency (and the
 *                                         member listings in flight)
 *   --okta-concurrency N [75]             the org's concurrent request limit
 *   --fail-member-pages-from N [off]      the fake answers member pages of N or
 *                                         more with HTTP 500: what the client's
 *                                         page-size fallback costs (requests
 *                                         above the minimum, wall time)
 *   --scenario LIST [a,b,c,d,e,f]         scenarios to run
 *   --runs N [b: 5, others: 1]            runs per scenario (median reported)
 *   --out FILE [.bench/results.json]
 *   --verbose                             the runs' log lines on stderr
 *
 * The lower bound and the minimum request count are explained in bound.ts
 * and printed with every scenario.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseFlagArgs } from '../fakeOkta/cliArgs';
import { generateOrg } from '../fakeOkta/generateOrg';
import type { FakeOrg } from '../fakeOkta/FakeOrg';
import {
  BUCKET_OF,
  lowerBound,
  minimumRequests,
  realWindowCost,
  windowBoundaries,
  type RealWindowCost,
  type Bound,
  type BenchEndpoint,
  type RequestCounts,
} from './bound';
import { runPacing, type LoggedRequest, type RunPacing } from './pacing';
import type { RunRequest, RunResult } from './runRead';
import {
  runIncrementalScenarios,
  type IncrementalReport,
  type IncrementalScenarioId,
} from './incremental';
import {
  defineScenarios,
  longestMemberListingPages,
  selectionFacts,
  type Scenario,
  type ScenarioId,
  type SelectionFacts,
} from './scenarios';

/** Okta's last published Workforce per-minute limits (shared/FACTS.md). */
const WORKFORCE_LIMITS = { users: 600, groups: 500, other: 1200, token: 600 };
/** The fake's endpoint keys for the client's. */
const FAKE_ENDPOINT: Record<BenchEndpoint, string> = {
  token: 'token',
  users: 'users',
  groups: 'groups',
  groupMembers: 'groupUsers',
};
const ENDPOINTS: BenchEndpoint[] = ['token', 'users', 'groups', 'groupMembers'];
const TARGET_REQUEST_RATIO = 1.02;
const TARGET_WALL_RATIO = 1.25;
const LOADER = ['-r', '@backstage/cli/config/nodeTransform.cjs'];

interface BenchOptions {
  users: number;
  groups: number;
  avgGroupsPerUser: number;
  dUsers: number;
  dGroups: number;
  seed: number;
  latencyMs: number;
  windowSeconds: number;
  appShare: number;
  concurrency: number;
  oktaConcurrency: number;
  failMemberPagesFrom?: number;
  scenarios: (ScenarioId | IncrementalScenarioId)[];
  runs: number;
  out: string;
  verbose: boolean;
}

function parseOptions(argv: string[]): BenchOptions {
  const args = parseFlagArgs(argv);
  const known = new Set([
    'users', 'groups', 'avg-groups-per-user', 'd-users', 'd-groups', 'seed', 'latency-ms',
    'window-seconds', 'app-share', 'concurrency', 'okta-concurrency', 'scenario', 'runs',
    'fail-member-pages-from',
    'out', 'verbose',
  ]);
  for (const name of args.keys()) {
    if (!known.has(name)) throw new Error(`Unknown option --${name} (see dev/bench/index.ts)`);
  }
  const num = (name: string, fallback: number, min = 0) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${raw}`);
    return n;
  };
  const scenarios = (args.get('scenario') ?? 'a,b,c,d,e,f').split(',').map(s => s.trim());
  for (const s of scenarios) {
    if (!['a', 'b', 'c', 'd', 'e', 'f'].includes(s)) {
      throw new Error(`--scenario takes a,b,c,d,e,f, got ${s}`);
    }
  }
  return {
    users: num('users', 50000, 1),
    groups: num('groups', 5000, 2),
    avgGroupsPerUser: num('avg-groups-per-user', 10, 1),
    dUsers: num('d-users', 5000, 1),
    dGroups: num('d-groups', 500, 2),
    seed: num('seed', 1),
    latencyMs: num('latency-ms', 50),
    windowSeconds: num('window-seconds', 6, 0.5),
    appShare: num('app-share', 0.5, 0.01),
    concurrency: num('concurrency', 10, 1),
    oktaConcurrency: num('okta-concurrency', 75, 1),
    failMemberPagesFrom:
      args.get('fail-member-pages-from') === undefined ? undefined : num('fail-member-pages-from', 0, 1),
    scenarios: scenarios as (ScenarioId | IncrementalScenarioId)[],
    runs: num('runs', 0, 1),
    out: args.get('out') ?? '.bench/results.json',
    verbose: args.get('verbose') === 'true',
  };
}

/**
 * Runs of a scenario: --runs when given; else 5 for (b), whose sub-second
 * read one run measures mostly as noise, and 1 for the others.
 */
function runsOf(scenario: Scenario, options: BenchOptions): number {
  if (options.runs > 0) return options.runs;
  return scenario.id === 'b' ? 5 : 1;
}

/** Requests per window for one app, as the fake computes it. */
function appLimits(options: BenchOptions): Record<string, number> {
  const share = (n: number) => Math.max(1, Math.floor(n * options.appShare));
  return {
    users: share(WORKFORCE_LIMITS.users),
    groups: share(WORKFORCE_LIMITS.groups),
    other: share(WORKFORCE_LIMITS.other),
    // Counted per org by the fake (no app share).
    token: WORKFORCE_LIMITS.token,
  };
}

// ---- the fake Okta process ----

interface FakeStats {
  requests: Record<string, number>;
  served429: number;
  peakConcurrency: number;
  tokensIssued: number;
  cpu: { user: number; system: number };
}

interface FakeProcess {
  url: string;
  generatedInMs: number;
  userCount: number;
  groupCount: number;
  stats(): Promise<FakeStats>;
  log(): Promise<LoggedRequest[]>;
  resetStats(): Promise<void>;
  change(share: number, seed: number): Promise<{ usersChanged: number; groupsChanged: number }>;
  stop(): Promise<void>;
}

async function startFake(args: string[]): Promise<FakeProcess> {
  const child: ChildProcess = fork(resolve(__dirname, '../fakeOkta/cli.ts'), args, {
    // --expose-gc: the fake collects its garbage between runs (resetStats).
    execArgv: [...LOADER, '--expose-gc'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', code => reject(new Error(`the fake Okta process exited (${code})`))),
  );
  exited.catch(() => undefined);
  const firstLine = new Promise<string>(resolveLine => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
  });
  const started = JSON.parse(await Promise.race([firstLine, exited])) as {
    url: string;
    users: number;
    groups: number;
    generatedInMs: number;
  };
  const ask = <T>(type: string) =>
    Promise.race([
      exited,
      new Promise<T>(resolveReply => {
        const onMessage = (message: { type?: string }) => {
          if (message?.type === type) {
            child.off('message', onMessage);
            resolveReply(message as T);
          }
        };
        child.on('message', onMessage);
        child.send({ type });
      }),
    ]);
  return {
    url: started.url,
    generatedInMs: started.generatedInMs,
    userCount: started.users,
    groupCount: started.groups,
    stats: async () => (await ask<{ stats: FakeStats }>('stats')).stats,
    log: async () => (await ask<{ log: LoggedRequest[] }>('log')).log,
    resetStats: async () => {
      await ask('resetStats');
    },
    change: async (share, seed) => {
      const reply = Promise.race([
        exited,
        new Promise<{ changed: { usersChanged: number; groupsChanged: number } }>(resolveReply => {
          const onMessage = (message: { type?: string }) => {
            if (message?.type === 'change') {
              child.off('message', onMessage);
              resolveReply(message as { changed: { usersChanged: number; groupsChanged: number } });
            }
          };
          child.on('message', onMessage);
          child.send({ type: 'change', share, seed });
        }),
      ]);
      return (await reply).changed;
    },
    stop: async () => {
      child.removeAllListeners('exit');
      const gone = new Promise(resolveExit => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

// ---- one run ----

function runOnce(request: RunRequest): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = fork(resolve(__dirname, 'runRead.ts'), [], {
      execArgv: [...LOADER, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    // The TypeScript loader also sends {type: 'watch'} messages: skip them.
    child.on('message', (message: RunResult | { type: 'error' | 'watch'; message?: string }) => {
      if (message.type === 'result') {
        settled = true;
        resolveRun(message);
      } else if (message.type === 'error') {
        settled = true;
        reject(new Error(`the run failed: ${message.message}`));
      }
    });
    child.once('exit', code => {
      if (!settled) reject(new Error(`the run process exited (${code}) without a result`));
    });
    child.send(request);
  });
}

/** The numbers of a run that failed: NaN where nothing was measured. */
function failedRun(): RunResult {
  return {
    type: 'result',
    startedAtEpochMs: NaN,
    wallSeconds: NaN,
    readSeconds: NaN,
    buildSeconds: NaN,
    cpuUserSeconds: NaN,
    cpuSystemSeconds: NaN,
    peakRssSampledMb: NaN,
    peakRssHwmMb: NaN,
    baselineRssMb: NaN,
    clientStats: { requests: {}, retries: 0, rateLimited: 0, tokensFetched: 0 },
    users: 0,
    groups: 0,
    memberships: 0,
    warnings: [],
  };
}

// ---- results ----

interface RunRow {
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
  users: number;
  groups: number;
  memberships: number;
  emptyGroupsSkipped?: number;
  unmatchedGroupNames?: number;
  warnings: string[];
  pacing?: RunPacing;
}

interface ScenarioReport {
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

const sum = (counts: RequestCounts) => ENDPOINTS.reduce((s, e) => s + counts[e], 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fixed = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);

function printTable(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

const BOUND_EXPLANATION = `Lower bound (dev/bench/bound.ts): bound = max(T_users, T_groups, T_throughput, T_chain)
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

function printScenario(report: ScenarioReport) {
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
      'run', 'req tok/usr/grp/mem', 'req', 'min', 'req/min', '429 (client/fake)', 'retries',
      'wall s', 'bound s', 'wall/bound', 'w/(b+1s·B)', 'read s', d ? 'commit+catalog s' : 'build s',
      'CPU s', 'peak RSS MB', 'base RSS MB', 'held pages/records, in flight', 'fake CPU s', 'fake peak conc',
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
        d ? `${fixed(r.buildSeconds, 2)}+${fixed(r.catalogSeconds, 2)}` : fixed(r.buildSeconds, 2),
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
          b.requests > 1 ? `, 2nd request ${fixed(b.secondRequestAfterSeconds, 3)} s after the 1st` : '';
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
    if (r.error) console.log(`  run ${report.id}${r.run} FAILED (request counts from the fake): ${r.error.slice(0, 300)}`);
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
  for (const w of [...warnings].slice(0, 5)) console.log(`  log: ${w.slice(0, 200)}`);
}

// ---- main ----

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const limits = appLimits(options);
  const startedAt = new Date().toISOString();
  const benchStarted = performance.now();
  console.log(
    `Okta read benchmark: latency ${options.latencyMs} ms, window ${options.windowSeconds} s (Okta: 60 s), ` +
      `app share ${options.appShare} → per window users ${limits.users}, groups (with member listings) ${limits.groups}; ` +
      `client concurrency ${options.concurrency}, org concurrency ${options.oktaConcurrency}; runs ${options.runs || 'b: 5, others: 1'}`,
  );
  console.log(BOUND_EXPLANATION);

  // The key pair of the service app: RS256, with a kid.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = 'bench-key-1';
  const clientId = '0oa-bench-app';
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const workDir = mkdtempSync(join(tmpdir(), 'okta-bench-'));
  const jwkFile = join(workDir, 'public-jwk.json');
  writeFileSync(
    jwkFile,
    JSON.stringify({ ...publicKey.export({ format: 'jwk' }), kid: keyId, alg: 'RS256', use: 'sig' }),
  );

  const orgOptions = {
    main: { users: options.users, groups: options.groups },
    small: { users: options.dUsers, groups: options.dGroups },
  };
  const reports: ScenarioReport[] = [];
  const incrementalReports: IncrementalReport[] = [];
  const wanted = new Set(options.scenarios);
  try {
    for (const orgKind of ['main', 'small'] as const) {
      const size = orgOptions[orgKind];
      const ids = (['a', 'b', 'c', 'd'] as const).filter(id =>
        wanted.has(id) && (id === 'd' ? orgKind === 'small' : orgKind === 'main'),
      );
      const incrementalIds = (['e', 'f'] as const).filter(
        id => wanted.has(id) && orgKind === 'main',
      );
      if (ids.length === 0 && incrementalIds.length === 0) continue;

      const fakeArgs = [
        '--org', 'generated',
        '--users', String(size.users),
        '--groups', String(size.groups),
        '--seed', String(options.seed),
        '--avg-groups-per-user', String(options.avgGroupsPerUser),
        '--latency-ms', String(options.latencyMs),
        ...(options.failMemberPagesFrom !== undefined
          ? ['--fail-member-pages-from', String(options.failMemberPagesFrom)]
          : []),
        '--window-seconds', String(options.windowSeconds),
        '--app-share', String(options.appShare),
        '--concurrency', String(options.oktaConcurrency),
        '--limit-users', String(WORKFORCE_LIMITS.users),
        '--limit-groups', String(WORKFORCE_LIMITS.groups),
        '--limit-other', String(WORKFORCE_LIMITS.other),
        '--limit-token', String(WORKFORCE_LIMITS.token),
        '--client-id', clientId,
        '--public-jwk', jwkFile,
      ];
      const fakeStarting = startFake(fakeArgs);
      fakeStarting.catch(() => undefined);
      // The same org, generated here to know what each scenario selects.
      const generationStarted = performance.now();
      const org: FakeOrg = generateOrg({
        seed: options.seed,
        users: size.users,
        groups: size.groups,
        averageGroupsPerUser: options.avgGroupsPerUser,
      });
      const localGenerationMs = performance.now() - generationStarted;
      const fake = await fakeStarting;
      console.log(
        `\nFake Okta at ${fake.url}: ${fake.userCount} users, ${fake.groupCount} groups, ` +
          `${org.membershipCount()} memberships; generated in ${fake.generatedInMs} ms in the fake's process ` +
          `(${Math.round(localGenerationMs)} ms here), before any run starts`,
      );
      const scenarios = defineScenarios(org).filter(s => ids.includes(s.id));
      let ranOnThisFake = false;
      try {
        for (const scenario of scenarios) {
          const { selectedGroupSizes, ...facts } = selectionFacts(org, scenario.selection);
          const minimum = minimumRequests({ ...facts, selectedGroupSizes });
          const bound = lowerBound({
            requests: minimum,
            longestMemberListingPages: longestMemberListingPages({ ...facts, selectedGroupSizes }),
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
              await new Promise(r => setTimeout(r, (options.windowSeconds + 0.5) * 1000));
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
              timeoutSeconds: Math.max(300, bound.seconds * 10),
              verbose: options.verbose,
            });
            } catch (e) {
              error = String((e as Error).message).split('\n').slice(0, 2).join(' ');
              console.error(`(${scenario.id}) run ${run} FAILED: ${(e as Error).message}`);
              result = failedRun();
            }
            const fakeAfter = await fake.stats();
            const pacing = error
              ? undefined
              : runPacing(await fake.log(), result, options.windowSeconds * 1000, options.latencyMs);
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
                (fakeAfter.cpu.user - fakeBefore.cpu.user + fakeAfter.cpu.system - fakeBefore.cpu.system) / 1e6,
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
            org: { users: fake.userCount, groups: fake.groupCount, generatedInMs: fake.generatedInMs },
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
              requestsWithin102: rows.every(r => !r.error && r.requestRatio <= TARGET_REQUEST_RATIO),
              wallWithin125: scenario.endToEnd
                ? undefined
                : rows.every(r => !r.error) && median(rows.map(r => r.wallRatio)) <= TARGET_WALL_RATIO,
              no429: rows.every(r => r.served429 === 0),
            },
          };
          reports.push(report);
          printScenario(report);
        }
        if (incrementalIds.length > 0) {
          // Last on this fake: they change its org.
          incrementalReports.push(
            ...(await runIncrementalScenarios({
              wanted: new Set(incrementalIds),
              baseRequest: {
                type: 'run',
                orgUrl: fake.url,
                clientId,
                keyId,
                privateKeyPem,
                concurrency: options.concurrency,
                timeoutSeconds: 900,
                verbose: options.verbose,
              },
              runOnce,
              change: (share, seed) => fake.change(share, seed),
              resetStats: () => fake.resetStats(),
              workDir,
              windowSeconds: options.windowSeconds,
              latencySeconds: options.latencyMs / 1000,
              concurrency: Math.min(options.concurrency, options.oktaConcurrency),
              limitPerWindow: limits,
            })),
          );
        }
      } finally {
        await fake.stop();
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt,
        benchSeconds: (performance.now() - benchStarted) / 1000,
        node: process.version,
        options,
        limitsPerWindow: limits,
        buckets: BUCKET_OF,
        boundFormula: BOUND_EXPLANATION,
        scenarios: reports,
        incrementalScenarios: incrementalReports,
      },
      null,
      2,
    )}\n`,
  );
  console.log(
    `\nWrote ${out} (bench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s)`,
  );
}

main().catch(error => {
  console.error(String(error?.stack ?? error));
  process.exit(1);
});
