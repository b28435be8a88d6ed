/*
 * Benchmark of push updates: how long a change in Okta takes to be served by
 * the catalog, and how many Okta requests each event costs, through an
 * event hook or the System Log follower.
 *
 *   node -r @backstage/cli/config/nodeTransform.cjs dev/bench/push.ts \
 *     [--via eventHook|systemLog] [--changes N] [--users N] [--groups N] [--latency-ms N]
 *     [--window-s N (the fake's rate-limit window; default Okta's 60)] [--timeout-s N (per change)]
 *   (with Node 22 first on the PATH, as `npm run` puts it)
 *
 * In one process: the fake Okta org (with event hooks and the System Log),
 * and a real backend (catalog plugin on in-memory SQLite, this module, the
 * real scheduler) whose provider has a 30-minute schedule, so that only
 * push updates can bring a change in quickly. The changes run one after
 * another, cycling through: a hire (new user added to a group), a
 * membership added, a membership removed, a group renamed, a leaver
 * (deactivated), a group deleted. Each is timed from the change in the
 * fake org until the catalog's API serves its result. The fake and the
 * backend are set up in pushBackend.ts, shared with sustained.ts.
 */
import type { Entity } from '@backstage/catalog-model';
import { parseFlagArgs } from '../fakeOkta/cliArgs';
import {
  OKTA_GROUP_ID,
  OKTA_USER_ID,
  entitiesByOktaIds,
  isMemberOf,
  percentile,
  runBenchCli,
  startPushBenchBackend,
} from './pushBackend';

export interface PushBenchOptions {
  via: 'eventHook' | 'systemLog';
  changes: number;
  users: number;
  groups: number;
  latencyMs: number;
  /** Per change; default 30 s. */
  timeoutMs?: number;
  /**
   * The fake's rate-limit window in seconds (Okta's: 60). A big org's first
   * read takes ~20 windows at Okta's limits: compress them to let it finish.
   */
  windowSeconds?: number;
}

export interface PushBenchResult {
  via: PushBenchOptions['via'];
  changes: number;
  /**
   * Milliseconds from each change until the catalog served it, in order, and
   * until the module had applied it (its run's commit returned; the rest is
   * the catalog's processing and stitching).
   */
  latenciesMs: Array<{ kind: string; ms: number; appliedMs?: number }>;
  /** Percentiles of `appliedMs`: the module's share of the latency. */
  appliedP50Ms: number;
  appliedP95Ms: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Okta requests during the changes (System Log polls included), by the fake's endpoint keys. */
  oktaRequests: Record<string, number>;
  events: number;
  /** All Okta requests (token, System Log polls included) per event. */
  requestsPerEvent: number;
  /**
   * The syncs' reads of users and groups per event (no token, no System
   * Log poll), and how many of them went to Okta's 500-a-minute groups
   * bucket (the group listing and member listings).
   */
  readsPerEvent: number;
  groupsBucketPerEvent: number;
  /** 429s the fake served during the changes. */
  served429: number;
  /** The provider's sync log lines during the changes ("Read N users ... in X seconds"). */
  syncs: string[];
  /** Warnings and errors logged during the changes (a failed or waiting run shows here). */
  warnings: string[];
  /** Entities the runs during the changes sent the catalog (added or changed, and removed refs). */
  entitiesSent: number;
  /** Mutations sent during the changes, by type. */
  mutations: { full: number; delta: number };
  /** Seconds from the start until the first read had settled in the catalog. */
  firstReadSeconds: number;
}

/** What the runs' commit lines say they sent the catalog. */
function sentDuring(
  lines: Array<{ message: string; meta: Record<string, unknown> }>,
): Pick<PushBenchResult, 'entitiesSent' | 'mutations'> {
  const mutations = { full: 0, delta: 0 };
  let entitiesSent = 0;
  for (const { message, meta } of lines) {
    if (!message.startsWith('Committed ')) continue;
    const type = meta.mutation === 'delta' ? 'delta' : 'full';
    mutations[type] += 1;
    entitiesSent += Number(meta.sent ?? 0);
  }
  return { entitiesSent, mutations };
}

export async function runPushBenchmark(
  options: PushBenchOptions,
): Promise<PushBenchResult> {
  const firstReadStarted = Date.now();
  const bench = await startPushBenchBackend({
    windowSeconds: options.windowSeconds,
    via: options.via,
    users: options.users,
    groups: options.groups,
    latencyMs: options.latencyMs,
    systemLogPollSeconds: 2,
  });
  const { fake, org, feeds, logger, baseUrl } = bench;
  const firstReadSeconds = (Date.now() - firstReadStarted) / 1000;
  try {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const groups = org.groups().filter(g => g.type !== 'BUILT_IN');
    // One entity by its Okta id, asked of the catalog's API (not the whole catalog each time).
    const byAnnotation = async (
      key: string,
      id: string,
    ): Promise<Entity | undefined> =>
      (
        await entitiesByOktaIds(
          baseUrl,
          key === OKTA_USER_ID ? { userIds: [id] } : { groupIds: [id] },
        )
      )[0];
    const isMember = async (userId: string, groupId: string) => {
      const [user, group] = await Promise.all([
        byAnnotation(OKTA_USER_ID, userId),
        byAnnotation(OKTA_GROUP_ID, groupId),
      ]);
      return isMemberOf(user, group);
    };
    /** Waits until `done`; returns when the first commit after the change was logged (ms after it). */
    const waitUntil = async (
      kind: string,
      done: () => Promise<boolean>,
      since: number,
      linesAtStart: number,
    ): Promise<number | undefined> => {
      const deadline = Date.now() + timeoutMs;
      let appliedMs: number | undefined;
      const noteCommit = () => {
        if (
          appliedMs === undefined &&
          logger.lines
            .slice(linesAtStart)
            .some(line => line.message.startsWith('Committed '))
        ) {
          appliedMs = Date.now() - since;
        }
      };
      while (!(await done())) {
        noteCommit();
        if (Date.now() > deadline)
          throw new Error(
            `The catalog did not serve the ${kind} within ${timeoutMs} ms`,
          );
        await new Promise(resolve => setTimeout(resolve, 50));
      }
      noteCommit();
      return appliedMs;
    };

    const eventsBefore = feeds.systemLog.all().length;
    const linesBefore = logger.lines.length;
    fake.resetStats();
    const latenciesMs: PushBenchResult['latenciesMs'] = [];
    const hires: string[] = [];
    let alive = [...groups];
    for (let i = 0; i < options.changes; i++) {
      const kinds = [
        'hire',
        'membership add',
        'membership remove',
        'group rename',
        'leave',
        'group delete',
      ] as const;
      const kind = kinds[i % kinds.length];
      const group = alive[i % alive.length];
      let done: () => Promise<boolean>;
      const started = Date.now();
      const linesAtStart = logger.lines.length;
      if (kind === 'hire') {
        const login = `bench.hire${i}@example.com`;
        const user = org.addUser({
          profile: {
            login,
            email: login,
            firstName: 'Bench',
            lastName: `Hire${i}`,
          },
        });
        org.addMember(group.id, user.id);
        hires.push(user.id);
        done = () => isMember(user.id, group.id);
      } else if (kind === 'membership add' || kind === 'membership remove') {
        const userId = hires[hires.length - 1];
        if (kind === 'membership add') {
          org.addMember(group.id, userId);
          done = () => isMember(userId, group.id);
        } else {
          const memberOf = org
            .groupIdsOf(userId)
            .find(id => id !== org.everyone()?.id)!;
          org.removeMember(memberOf, userId);
          done = async () =>
            !!(await byAnnotation(OKTA_USER_ID, userId)) &&
            !(await isMember(userId, memberOf));
        }
      } else if (kind === 'group rename') {
        const name = `${group.profile.name} renamed ${i}`;
        org.renameGroup(group.id, name);
        done = async () => {
          const entity = await byAnnotation(OKTA_GROUP_ID, group.id);
          return (
            (entity?.spec?.profile as { displayName?: string } | undefined)
              ?.displayName === name
          );
        };
      } else if (kind === 'leave') {
        const userId = hires.shift()!;
        org.deprovisionUser(userId);
        done = async () => !(await byAnnotation(OKTA_USER_ID, userId));
      } else {
        org.removeGroup(group.id);
        alive = alive.filter(g => g.id !== group.id);
        done = async () => !(await byAnnotation(OKTA_GROUP_ID, group.id));
      }
      const appliedMs = await waitUntil(kind, done, started, linesAtStart);
      latenciesMs.push({ kind, ms: Date.now() - started, appliedMs });
    }
    const sorted = latenciesMs.map(l => l.ms).sort((a, b) => a - b);
    const applied = latenciesMs
      .map(l => l.appliedMs)
      .filter((ms): ms is number => ms !== undefined)
      .sort((a, b) => a - b);
    const oktaRequests = { ...fake.stats().requests };
    const total = Object.values(oktaRequests).reduce((a, b) => a + b, 0);
    const events = feeds.systemLog.all().length - eventsBefore;
    const count = (keys: string[]) =>
      keys.reduce((sum, key) => sum + (oktaRequests[key] ?? 0), 0);
    const reads = count([
      'users',
      'groups',
      'groupUsers',
      'userGroups',
      'groupById',
      'userById',
    ]);
    const inGroupsBucket = count(['groups', 'groupUsers']);
    const perEvent = (n: number) =>
      events ? Math.round((n / events) * 100) / 100 : 0;
    return {
      via: options.via,
      changes: options.changes,
      latenciesMs,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      maxMs: sorted[sorted.length - 1] ?? 0,
      appliedP50Ms: percentile(applied, 50),
      appliedP95Ms: percentile(applied, 95),
      oktaRequests,
      events,
      requestsPerEvent: perEvent(total),
      readsPerEvent: perEvent(reads),
      groupsBucketPerEvent: perEvent(inGroupsBucket),
      served429: fake.stats().served429,
      syncs: logger.lines
        .slice(linesBefore)
        .map(line => line.message)
        .filter(message => /\bRead \d+ users\b/.test(message)),
      warnings: logger.lines
        .slice(linesBefore)
        .filter(line => line.level === 'warn' || line.level === 'error')
        .map(line => line.message),
      ...sentDuring(logger.lines.slice(linesBefore)),
      firstReadSeconds,
    };
  } finally {
    await bench.stop();
  }
}

async function main() {
  const args = parseFlagArgs(process.argv.slice(2));
  const number = (name: string, fallback: number) =>
    args.has(name) ? Number(args.get(name)) : fallback;
  for (const via of (args.get('via') ?? 'eventHook,systemLog').split(
    ',',
  ) as Array<PushBenchOptions['via']>) {
    const result = await runPushBenchmark({
      via,
      changes: number('changes', 24),
      users: number('users', 2000),
      groups: number('groups', 200),
      latencyMs: number('latency-ms', 50),
      windowSeconds: args.has('window-s') ? number('window-s', 60) : undefined,
      timeoutMs: args.has('timeout-s')
        ? number('timeout-s', 60) * 1000
        : undefined,
    });
    // eslint-disable-next-line no-console
    console.log(
      `${via}: ${result.changes} changes, p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms; ${result.events} events, Okta requests ${JSON.stringify(result.oktaRequests)} (${result.requestsPerEvent} per event; reads of users and groups ${result.readsPerEvent} per event, ${result.groupsBucketPerEvent} in the groups bucket), ${result.served429} 429s, ${result.syncs.length} syncs`,
    );
    // eslint-disable-next-line no-console
    console.log(
      `  applied by the module (its run's commit returned): p50 ${result.appliedP50Ms} ms, p95 ${result.appliedP95Ms} ms; the rest is the catalog's processing and stitching`,
    );
    // eslint-disable-next-line no-console
    console.log(
      `  first read settled in ${result.firstReadSeconds.toFixed(0)} s; during the changes: ${result.mutations.delta} delta and ${result.mutations.full} full mutations, ${result.entitiesSent} entities sent (${(result.entitiesSent / Math.max(1, result.changes)).toFixed(1)} per change)`,
    );
    // eslint-disable-next-line no-console
    console.log(
      `  per change (served / applied ms): ${result.latenciesMs.map(l => `${l.kind} ${l.ms}/${l.appliedMs ?? '-'}`).join(', ')}`,
    );
    // eslint-disable-next-line no-console
    console.log(`  syncs: ${result.syncs.join(' | ')}`);
    // eslint-disable-next-line no-console
    console.log(`  warnings: ${result.warnings.join(' | ') || 'none'}`);
  }
}

if (require.main === module) runBenchCli(main);
