/*
 * The benchmark's command line (documented in index.ts) and what follows
 * from it: runs per scenario and the per-window limits of the app.
 */
import { parseFlagArgs } from '../fakeOkta/cliArgs';
import type { IncrementalScenarioId } from './incremental';
import type { Scenario, ScenarioId } from './scenarios';

/** Okta's last published Workforce per-minute limits (shared/FACTS.md). */
export const WORKFORCE_LIMITS = {
  users: 600,
  groups: 500,
  other: 1200,
  token: 600,
};

/**
 * The read path's speed mechanisms, which `--off` switches off one by one to
 * measure what each buys (README, Benchmark).
 */
export const MECHANISMS = [
  'server-clock',
  'adaptive-concurrency',
  'first-in-line',
] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export interface BenchOptions {
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
  oktaClockSkewMs: number;
  off: Mechanism[];
  failMemberPagesFrom?: number;
  scenarios: (ScenarioId | IncrementalScenarioId)[];
  runs: number;
  out: string;
  verbose: boolean;
}

export function parseOptions(argv: string[]): BenchOptions {
  const args = parseFlagArgs(argv);
  const known = new Set([
    'users',
    'groups',
    'avg-groups-per-user',
    'd-users',
    'd-groups',
    'seed',
    'latency-ms',
    'window-seconds',
    'app-share',
    'concurrency',
    'okta-concurrency',
    'okta-clock-skew-ms',
    'off',
    'scenario',
    'runs',
    'fail-member-pages-from',
    'out',
    'verbose',
  ]);
  for (const name of args.keys()) {
    if (!known.has(name))
      throw new Error(`Unknown option --${name} (see dev/bench/index.ts)`);
  }
  const num = (name: string, fallback: number, min = 0) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`--${name} must be a number ≥ ${min}, got ${raw}`);
    return n;
  };
  const off = (args.get('off') ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  for (const m of off) {
    if (!(MECHANISMS as readonly string[]).includes(m)) {
      throw new Error(`--off takes ${MECHANISMS.join(',')}, got ${m}`);
    }
  }
  const scenarios = (args.get('scenario') ?? 'a,b,c,d,e,f')
    .split(',')
    .map(s => s.trim());
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
    oktaClockSkewMs: num('okta-clock-skew-ms', 0, -Infinity),
    off: off as Mechanism[],
    failMemberPagesFrom:
      args.get('fail-member-pages-from') === undefined
        ? undefined
        : num('fail-member-pages-from', 0, 1),
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
export function runsOf(scenario: Scenario, options: BenchOptions): number {
  if (options.runs > 0) return options.runs;
  return scenario.id === 'b' ? 5 : 1;
}

/** Requests per window for one app, as the fake computes it. */
export function appLimits(options: BenchOptions): Record<string, number> {
  const share = (n: number) => Math.max(1, Math.floor(n * options.appShare));
  return {
    users: share(WORKFORCE_LIMITS.users),
    groups: share(WORKFORCE_LIMITS.groups),
    other: share(WORKFORCE_LIMITS.other),
    // Counted per org by the fake (no app share).
    token: WORKFORCE_LIMITS.token,
  };
}
