/*
 * Sustained load on push updates: the fake Okta org, at Okta's 60 s rate
 * windows and Workforce limits with the app's 50% share, makes a steady
 * stream of changes (one a second for ten minutes by default), delivered to
 * a real backend by event hooks or found by the System Log follower at its
 * default poll; how the catalog keeps up.
 *
 *   node -r @backstage/cli/config/nodeTransform.cjs dev/bench/sustained.ts \
 *     [--via eventHook|systemLog] [--duration-s 600] [--rate 1] [--users 2000]
 *     [--groups 200] [--window-s 60] [--latency-ms 50] [--seed 1]
 *     [--timeout-s N] [--poll-s N] [--out FILE]
 *   (with Node 22 first on the PATH, as `npm run` puts it: e.g. through
 *   `npm exec -- node -r ...`)
 *
 * The backend is push.ts's (pushBackend.ts), with the org's group hierarchy
 * (`parentGroup`) mapped. Changes happen on a fixed cadence whether or not
 * the previous one is served yet, a seeded random mix of: profile edit
 * (display name), hire (new user into a group), leaver (deactivated),
 * member added, member removed, group renamed, group created (with members),
 * group deleted; the first eight are one of each. Objects a change touches
 * are left alone by later changes until it is served, so that every change
 * has one result to wait for.
 *
 * Reported: every change's time until the catalog's API serves its result
 * (one by-query request for all changes still open, every --catalog-poll-ms),
 * p50/p95/max; changes not served within the timeout; member pages
 * (GET /api/v1/groups/{id}/users) per change; the groups bucket's requests
 * per window of the fake, against the app's share; 429s served; runs that
 * applied and runs that failed ("sync failed" lines in the backend's log);
 * and, once the changes stop and the pipeline is quiet, whether the
 * catalog's users and groups equal a fresh full read of the org (the
 * module's own read path, readProviderEntities).
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import {
  RecordingLogger,
  addServiceApp,
  comparableEntities,
} from '../../src/__testUtils__/oktaCatalogHarness';
import { readOktaProviderConfigs } from '../../src/okta/config';
import {
  createProviderClient,
  readProviderEntities,
} from '../../src/okta/providerSync';
import {
  DEFAULT_APP_SHARE,
  DEFAULT_RATE_LIMITS,
  type FakeOktaRequestLogEntry,
  type FakeOrg,
} from '../fakeOkta';
import { parseFlagArgs } from '../fakeOkta/cliArgs';
import { mulberry32 } from '../fakeOkta/random';
import {
  startPushBenchBackend,
  type PushBenchBackend,
  entitiesByOktaIds,
  isMemberOf,
  OKTA_GROUP_ID,
  OKTA_USER_ID,
  percentile,
  runBenchCli,
} from './pushBackend';

export const SUSTAINED_CHANGE_KINDS = [
  'profile edit',
  'hire',
  'member added',
  'member removed',
  'group renamed',
  'group created',
  'leaver',
  'group deleted',
] as const;
export type SustainedChangeKind = (typeof SUSTAINED_CHANGE_KINDS)[number];

/** How often each kind comes up after the first eight (relative weights). */
const KIND_WEIGHTS: Record<SustainedChangeKind, number> = {
  'profile edit': 25,
  hire: 10,
  'member added': 20,
  'member removed': 20,
  'group renamed': 5,
  'group created': 5,
  leaver: 10,
  'group deleted': 5,
};

export interface SustainedBenchOptions {
  via: 'eventHook' | 'systemLog';
  /** How long changes are made. */
  durationSeconds: number;
  /** Changes per second. */
  rate: number;
  users: number;
  groups: number;
  /** The fake's rate-limit window (Okta: 60 s). */
  windowSeconds: number;
  latencyMs: number;
  seed: number;
  /** A change not served this long after it was made counts as never served; default max(60 s, 3 windows). */
  timeoutMs?: number;
  /** The System Log follower's poll; default the module's. */
  systemLogPollSeconds?: number;
  /** How often the catalog is asked about the open changes; default 100 ms. */
  catalogPollMs?: number;
}

export interface SustainedChangeLatency {
  kind: SustainedChangeKind;
  /** Seconds after the first change. */
  atSeconds: number;
  /** Until the catalog served it; null when it never did. */
  ms: number | null;
}

export interface SustainedBenchResult {
  via: SustainedBenchOptions['via'];
  options: SustainedBenchOptions;
  changes: number;
  served: number;
  /** Changes the catalog did not serve within the timeout. */
  unserved: SustainedChangeLatency[];
  latencies: SustainedChangeLatency[];
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Per kind: how many, and their p50 and max (served ones). */
  byKind: Record<string, { changes: number; p50Ms: number; maxMs: number }>;
  /** The five slowest changes. */
  slowest: SustainedChangeLatency[];
  /** Okta requests from the first change until the pipeline was quiet, by the fake's endpoint keys. */
  oktaRequests: Record<string, number>;
  memberPages: number;
  memberPagesPerChange: number;
  /** The groups bucket (group listings and member pages) per window of the fake. */
  groupsBucket: {
    windowSeconds: number;
    /** What one app may use per window (Workforce 500 × the app share). */
    appShare: number;
    /** Requests counted in each window, in order. */
    perWindow: number[];
    max: number;
    mean: number;
  };
  /** 429s the fake served in that time (any bucket, concurrency included). */
  served429: number;
  /** Provider runs that committed. */
  appliedRuns: number;
  /** Runs that failed ("sync failed" lines at warn or error), and their messages with counts. */
  failedRuns: number;
  failures: Record<string, number>;
  /** Other warnings and errors, with counts. */
  warnings: Record<string, number>;
  /** After the changes stopped: the catalog's users and groups against a fresh full read. */
  finalCatalog: {
    equal: boolean;
    entities: number;
    expected: number;
    /** Up to 20 differences (`kind:name` and what differs). */
    differences: string[];
    /** From the last change until the pipeline was quiet and the catalog compared equal (or gave up). */
    settleSeconds: number;
  };
  wallSeconds: number;
}

/** An open change: the ids it touched and how to tell the catalog serves it. */
interface TrackedChange {
  kind: SustainedChangeKind;
  at: number;
  userIds: string[];
  groupIds: string[];
  served(view: CatalogView): boolean;
  ms?: number | null;
}

/** The catalog's entities of the open changes, by Okta id. */
interface CatalogView {
  user(id: string): Entity | undefined;
  /** A renamed group can briefly be two entities. */
  groups(id: string): Entity[];
}

const VIEW_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.annotations',
  'spec.memberOf',
  'spec.profile',
];

function viewOf(entities: Entity[]): CatalogView {
  const users = new Map<string, Entity>();
  const groups = new Map<string, Entity[]>();
  for (const entity of entities) {
    const annotations = entity.metadata.annotations ?? {};
    const userId = annotations[OKTA_USER_ID];
    const groupId = annotations[OKTA_GROUP_ID];
    if (userId) users.set(userId, entity);
    if (groupId) groups.set(groupId, [...(groups.get(groupId) ?? []), entity]);
  }
  return {
    user: id => users.get(id),
    groups: id => groups.get(id) ?? [],
  };
}

const member = (view: CatalogView, userId: string, groupId: string) =>
  view.groups(groupId).some(group => isMemberOf(view.user(userId), group));

const displayNameOf = (entity: Entity | undefined) =>
  (entity?.spec?.profile as { displayName?: string } | undefined)?.displayName;

/**
 * Makes the changes: a seeded mix of kinds, each on objects no open change
 * touches.
 */
class ChangeMaker {
  private readonly random: () => number;
  readonly busyUsers = new Set<string>();
  readonly busyGroups = new Set<string>();

  constructor(
    private readonly org: FakeOrg,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  private pick<T>(list: readonly T[]): T | undefined {
    return list.length === 0
      ? undefined
      : list[Math.floor(this.random() * list.length)];
  }

  private freeUsers() {
    return this.org
      .users()
      .filter(u => u.status === 'ACTIVE' && !this.busyUsers.has(u.id));
  }

  private freeGroups() {
    return this.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN' && !this.busyGroups.has(g.id));
  }

  kindOf(i: number): SustainedChangeKind {
    if (i < SUSTAINED_CHANGE_KINDS.length) return SUSTAINED_CHANGE_KINDS[i];
    const total = Object.values(KIND_WEIGHTS).reduce((a, b) => a + b, 0);
    let r = this.random() * total;
    for (const kind of SUSTAINED_CHANGE_KINDS) {
      r -= KIND_WEIGHTS[kind];
      if (r < 0) return kind;
    }
    return 'profile edit';
  }

  /** Makes change `i` in the org; undefined when nothing is free for its kind. */
  make(
    i: number,
    kind: SustainedChangeKind,
  ): Omit<TrackedChange, 'at'> | undefined {
    const { org } = this;
    const user = this.pick(this.freeUsers());
    const group = this.pick(this.freeGroups());
    const track = (
      userIds: string[],
      groupIds: string[],
      served: TrackedChange['served'],
    ) => {
      for (const id of userIds) this.busyUsers.add(id);
      for (const id of groupIds) this.busyGroups.add(id);
      return { kind, userIds, groupIds, served };
    };
    switch (kind) {
      case 'profile edit': {
        if (!user) return undefined;
        const displayName = `${user.profile.firstName ?? 'User'} Edited ${i}`;
        org.updateUser(user.id, { profile: { displayName } });
        return track(
          [user.id],
          [],
          view => displayNameOf(view.user(user.id)) === displayName,
        );
      }
      case 'hire': {
        if (!group) return undefined;
        const login = `sustained.hire${i}@example.com`;
        const hired = org.addUser({
          profile: {
            login,
            email: login,
            firstName: 'Sustained',
            lastName: `Hire${i}`,
          },
        });
        org.addMember(group.id, hired.id);
        return track([hired.id], [group.id], view =>
          member(view, hired.id, group.id),
        );
      }
      case 'member added': {
        if (!group) return undefined;
        const members = new Set(org.memberIdsOf(group.id));
        const joining = this.pick(
          this.freeUsers().filter(u => !members.has(u.id)),
        );
        if (!joining) return undefined;
        org.addMember(group.id, joining.id);
        return track([joining.id], [group.id], view =>
          member(view, joining.id, group.id),
        );
      }
      case 'member removed': {
        // Active members only: a deactivated user keeps its groups in Okta
        // but has no entity whose memberOf could show the removal.
        const removable = (groupId: string) =>
          org
            .memberIdsOf(groupId)
            .filter(
              id =>
                !this.busyUsers.has(id) && org.getUser(id)?.status === 'ACTIVE',
            );
        const from = this.pick(
          this.freeGroups().filter(g => removable(g.id).length > 0),
        );
        if (!from) return undefined;
        const leaving = this.pick(removable(from.id))!;
        org.removeMember(from.id, leaving);
        return track(
          [leaving],
          [from.id],
          view =>
            !!view.user(leaving) &&
            view.groups(from.id).length > 0 &&
            !member(view, leaving, from.id),
        );
      }
      case 'group renamed': {
        if (!group) return undefined;
        const name = `${group.profile.name} r${i}`;
        org.renameGroup(group.id, name);
        return track([], [group.id], view =>
          view.groups(group.id).some(g => displayNameOf(g) === name),
        );
      }
      case 'group created': {
        const created = org.addGroup({
          profile: { name: `Sustained team ${i}` },
        });
        const free = this.freeUsers();
        const joining = new Set<string>();
        for (let n = 1 + Math.floor(this.random() * 3); n > 0; n--) {
          const u = this.pick(free);
          if (u) joining.add(u.id);
        }
        for (const id of joining) org.addMember(created.id, id);
        return track([...joining], [created.id], view =>
          joining.size === 0
            ? view.groups(created.id).length > 0
            : [...joining].every(id => member(view, id, created.id)),
        );
      }
      case 'leaver': {
        if (!user) return undefined;
        org.deprovisionUser(user.id);
        return track([user.id], [], view => !view.user(user.id));
      }
      case 'group deleted': {
        if (!group) return undefined;
        org.removeGroup(group.id);
        return track(
          [],
          [group.id],
          view => view.groups(group.id).length === 0,
        );
      }
      default:
        return undefined;
    }
  }

  release(change: TrackedChange): void {
    for (const id of change.userIds) this.busyUsers.delete(id);
    for (const id of change.groupIds) this.busyGroups.delete(id);
  }
}

const sleep = (ms: number) =>
  new Promise(resolve => setTimeout(resolve, Math.max(0, ms)));

function inGroupsBucket(entry: FakeOktaRequestLogEntry): boolean {
  // Every /api/v1/groups/* path but exactly /api/v1/groups/{id} (server.ts).
  return (
    entry.endpoint === 'groups' ||
    entry.endpoint === 'groupUsers' ||
    (entry.endpoint === 'other' && entry.path.startsWith('/api/v1/groups/'))
  );
}

/**
 * The groups bucket's windows as the fake's limiter keeps them, replayed
 * from its request log: a window starts at the first request after the
 * previous one ended and counts the requests it allowed. The limiter counts
 * a request once its latency has passed, so that is when it is placed here.
 */
export function groupsBucketWindows(
  log: FakeOktaRequestLogEntry[],
  options: { windowMs: number; latencyMs: number },
): Array<{ start: number; count: number }> {
  const windows: Array<{ start: number; count: number }> = [];
  const taken = log
    .filter(inGroupsBucket)
    .map(entry => ({
      at: entry.startedAt + options.latencyMs,
      counted: entry.status !== 429,
    }))
    .sort((a, b) => a.at - b.at);
  for (const request of taken) {
    let window = windows[windows.length - 1];
    if (!window || request.at >= window.start + options.windowMs) {
      window = { start: request.at, count: 0 };
      windows.push(window);
    }
    if (request.counted) window.count++;
  }
  return windows;
}

/** `kind:name` of each entity, and the first paths where two differ. */
function differencesBetween(actual: Entity[], expected: Entity[]): string[] {
  const key = (e: Entity) => `${e.kind}:${e.metadata.name}`;
  const want = new Map(expected.map(e => [key(e), e]));
  const have = new Map(actual.map(e => [key(e), e]));
  const out: string[] = [];
  for (const [k, e] of want) {
    if (!have.has(k)) out.push(`${k}: missing from the catalog`);
    else if (!isDeepStrictEqual(have.get(k), e))
      out.push(`${k}: ${pathsThatDiffer(have.get(k), e).join(', ')} differ`);
  }
  for (const k of have.keys())
    if (!want.has(k)) out.push(`${k}: in the catalog, not in a full read`);
  return out;
}

function pathsThatDiffer(a: unknown, b: unknown, path = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  const objects =
    a &&
    b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a);
  if (!objects) return [path || '(entity)'];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap(k =>
    pathsThatDiffer(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      path ? `${path}.${k}` : k,
    ),
  );
}

/** The catalog's users and groups and a fresh full read's, as the catalog serves entities. */
async function catalogAgainstFullRead(
  bench: PushBenchBackend,
  fullRead: () => Promise<Entity[]>,
): Promise<{ actual: Entity[]; expected: Entity[] }> {
  const comparable = (entities: Entity[]) =>
    JSON.parse(JSON.stringify(comparableEntities(entities))) as Entity[];
  const expected = comparable(
    (await fullRead()).map(entity => ({
      ...entity,
      metadata: { namespace: 'default', ...entity.metadata },
    })),
  );
  const actual = comparable(
    (await bench.catalog.entities()).filter(
      e => e.kind === 'User' || e.kind === 'Group',
    ),
  );
  return { actual, expected };
}

function countBy(messages: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const message of messages) {
    // Ids and timings vary; the kind of message is what to count.
    const shape = message
      .replace(/"[^"]*"/g, '"…"')
      .replace(/request id [^)\s]+/g, 'request id …')
      .replace(/\b00[ug][A-Za-z0-9]{10,}\b/g, '<id>')
      .replace(/\d+(\.\d+)?/g, 'N')
      .slice(0, 160);
    counts[shape] = (counts[shape] ?? 0) + 1;
  }
  return counts;
}

export async function runSustainedBenchmark(
  options: SustainedBenchOptions,
): Promise<SustainedBenchResult> {
  const benchStarted = Date.now();
  const windowMs = options.windowSeconds * 1000;
  const timeoutMs = options.timeoutMs ?? Math.max(60_000, 3 * windowMs);
  const bench = await startPushBenchBackend({
    via: options.via,
    users: options.users,
    groups: options.groups,
    latencyMs: options.latencyMs,
    windowSeconds: options.windowSeconds,
    systemLogPollSeconds: options.systemLogPollSeconds,
    providerConfig: { hierarchy: { parentAttribute: 'parentGroup' } },
  });
  const { fake, org, logger, baseUrl } = bench;
  try {
    // Start with a fresh groups window, so none holds the first sync's pages.
    const before = groupsBucketWindows(fake.stats().log, {
      windowMs,
      latencyMs: options.latencyMs,
    });
    const last = before[before.length - 1];
    if (last) await sleep(last.start + windowMs - Date.now() + 50);

    const linesBefore = logger.lines.length;
    const streamStart = Date.now();
    const maker = new ChangeMaker(org, options.seed);
    const changes: TrackedChange[] = [];
    let streaming = true;

    const watch = async () => {
      while (streaming || changes.some(c => c.ms === undefined)) {
        const open = changes.filter(c => c.ms === undefined);
        if (open.length > 0) {
          const items = await entitiesByOktaIds(
            baseUrl,
            {
              userIds: new Set(open.flatMap(c => c.userIds)),
              groupIds: new Set(open.flatMap(c => c.groupIds)),
            },
            VIEW_FIELDS,
          );
          const now = Date.now();
          const view = viewOf(items);
          for (const change of open) {
            if (change.served(view)) change.ms = now - change.at;
            else if (now - change.at > timeoutMs) change.ms = null;
            if (change.ms !== undefined) maker.release(change);
          }
        }
        await sleep(options.catalogPollMs ?? 100);
      }
    };
    const watching = watch();
    watching.catch(() => undefined);

    const total = Math.max(
      1,
      Math.round(options.durationSeconds * options.rate),
    );
    const periodMs = 1000 / options.rate;
    for (let i = 0; i < total; i++) {
      await sleep(streamStart + i * periodMs - Date.now());
      const kind = maker.kindOf(i);
      const at = Date.now();
      // Nothing free for the kind (a tiny org): a profile edit instead.
      const made = maker.make(i, kind) ?? maker.make(i, 'profile edit');
      if (made) changes.push({ ...made, at });
    }
    const lastChangeAt = Date.now();
    streaming = false;
    await watching;

    // The pipeline quiet: no run started or committed for a while (a poll
    // interval and more for the System Log follower).
    const quietMs =
      options.via === 'systemLog'
        ? (options.systemLogPollSeconds ?? 10) * 1000 + 5000
        : 5000;
    const runLine = /^(Reading Okta users|Committed \d+ )/;
    for (;;) {
      const lastRun = logger.lines
        .slice(linesBefore)
        .filter(line => runLine.test(line.message)).length;
      await sleep(quietMs);
      const now = logger.lines
        .slice(linesBefore)
        .filter(line => runLine.test(line.message)).length;
      if (now === lastRun) break;
    }
    const streamEnd = Date.now();
    const stats = fake.stats();
    const inStream = stats.log.filter(
      e => e.startedAt >= streamStart && e.startedAt < streamEnd,
    );
    const lines = logger.lines.slice(linesBefore);

    // The catalog against a fresh full read, with an app of its own so
    // that it takes nothing from the provider's share.
    const reader = await addServiceApp(fake);
    const [readerConfig] = readOktaProviderConfigs(
      new ConfigReader({
        catalog: {
          providers: {
            okta: { ...bench.providerConfig, ...reader.providerConfig },
          },
        },
      }),
    );
    const readerLogger = new RecordingLogger();
    const fullRead = async () => {
      const read = await readProviderEntities(
        createProviderClient(readerConfig, readerLogger),
        readerConfig,
        { logger: readerLogger },
      );
      return [...read.users, ...read.groups];
    };
    let compared = await catalogAgainstFullRead(bench, fullRead);
    const compareDeadline = Date.now() + Math.max(30_000, timeoutMs / 2);
    while (
      !isDeepStrictEqual(compared.actual, compared.expected) &&
      Date.now() < compareDeadline
    ) {
      await sleep(2000);
      compared = await catalogAgainstFullRead(bench, fullRead);
    }

    const latencies: SustainedChangeLatency[] = changes.map(c => ({
      kind: c.kind,
      atSeconds: Math.round((c.at - streamStart) / 100) / 10,
      ms: c.ms ?? null,
    }));
    const servedMs = (list: SustainedChangeLatency[]) =>
      list
        .map(l => l.ms)
        .filter((ms): ms is number => ms !== null)
        .sort((a, b) => a - b);
    const sorted = servedMs(latencies);
    const byKind: SustainedBenchResult['byKind'] = {};
    for (const kind of SUSTAINED_CHANGE_KINDS) {
      const ofKind = latencies.filter(l => l.kind === kind);
      const ms = servedMs(ofKind);
      byKind[kind] = {
        changes: ofKind.length,
        p50Ms: percentile(ms, 50),
        maxMs: ms[ms.length - 1] ?? 0,
      };
    }
    const oktaRequests: Record<string, number> = {};
    for (const entry of inStream) {
      const name =
        entry.endpoint === 'other' ? entry.path.split('?')[0] : entry.endpoint;
      oktaRequests[name] = (oktaRequests[name] ?? 0) + 1;
    }
    const memberPages = oktaRequests.groupUsers ?? 0;
    const perWindow = groupsBucketWindows(stats.log, {
      windowMs,
      latencyMs: options.latencyMs,
    })
      .filter(w => w.start >= streamStart && w.start < streamEnd)
      .map(w => w.count);
    const failedLines = lines
      .filter(l => l.level === 'warn' || l.level === 'error')
      .map(l => l.message);
    const failures = failedLines.filter(m => /sync failed/.test(m));
    return {
      via: options.via,
      options,
      changes: changes.length,
      served: sorted.length,
      unserved: latencies.filter(l => l.ms === null),
      latencies,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      maxMs: sorted[sorted.length - 1] ?? 0,
      byKind,
      slowest: [...latencies]
        .sort((a, b) => (b.ms ?? Infinity) - (a.ms ?? Infinity))
        .slice(0, 5),
      oktaRequests,
      memberPages,
      memberPagesPerChange:
        Math.round((memberPages / Math.max(1, changes.length)) * 100) / 100,
      groupsBucket: {
        windowSeconds: options.windowSeconds,
        appShare: Math.floor(DEFAULT_RATE_LIMITS.groups * DEFAULT_APP_SHARE),
        perWindow,
        max: Math.max(0, ...perWindow),
        mean: perWindow.length
          ? Math.round(
              (perWindow.reduce((a, b) => a + b, 0) / perWindow.length) * 10,
            ) / 10
          : 0,
      },
      served429: inStream.filter(e => e.status === 429).length,
      appliedRuns: lines.filter(l => /^Committed \d+ /.test(l.message)).length,
      failedRuns: failures.length,
      failures: countBy(failures),
      warnings: countBy(failedLines.filter(m => !/sync failed/.test(m))),
      finalCatalog: {
        equal: isDeepStrictEqual(compared.actual, compared.expected),
        entities: compared.actual.length,
        expected: compared.expected.length,
        differences: differencesBetween(
          compared.actual,
          compared.expected,
        ).slice(0, 20),
        settleSeconds: Math.round((Date.now() - lastChangeAt) / 100) / 10,
      },
      wallSeconds: Math.round((Date.now() - benchStarted) / 1000),
    };
  } finally {
    await bench.stop();
  }
}

/** One row of the README's table. */
export function sustainedTableRow(result: SustainedBenchResult): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return `| ${result.via === 'eventHook' ? 'event hook' : `System Log (${result.options.systemLogPollSeconds ?? 10} s poll)`} | ${result.changes} | ${result.served} | ${s(result.p50Ms)} | ${s(result.p95Ms)} | ${s(result.maxMs)} | ${result.memberPagesPerChange} | ${result.groupsBucket.max} / ${result.groupsBucket.mean} (of ${result.groupsBucket.appShare}) | ${result.served429} | ${result.failedRuns} | ${result.finalCatalog.equal ? 'yes' : 'no'} |`;
}

export const SUSTAINED_TABLE_HEADER = [
  '| via | changes | served | p50 | p95 | max | member pages per change | groups bucket per window, max / mean | 429s | failed runs | catalog = full read |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
].join('\n');

async function main() {
  const args = parseFlagArgs(process.argv.slice(2));
  const known = [
    'via',
    'duration-s',
    'rate',
    'users',
    'groups',
    'window-s',
    'latency-ms',
    'seed',
    'timeout-s',
    'poll-s',
    'out',
  ];
  for (const name of args.keys())
    if (!known.includes(name))
      throw new Error(`Unknown option --${name} (see dev/bench/sustained.ts)`);
  const number = (name: string, fallback?: number) => {
    if (!args.has(name)) return fallback;
    const n = Number(args.get(name));
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`--${name} must be a positive number`);
    return n;
  };
  const rows: string[] = [];
  const results: SustainedBenchResult[] = [];
  for (const via of (args.get('via') ?? 'eventHook,systemLog').split(',')) {
    if (via !== 'eventHook' && via !== 'systemLog')
      throw new Error(`--via takes eventHook or systemLog, got ${via}`);
    const timeoutS = number('timeout-s');
    const result = await runSustainedBenchmark({
      via,
      durationSeconds: number('duration-s', 600)!,
      rate: number('rate', 1)!,
      users: number('users', 2000)!,
      groups: number('groups', 200)!,
      windowSeconds: number('window-s', 60)!,
      latencyMs: args.has('latency-ms') ? Number(args.get('latency-ms')) : 50,
      seed: number('seed', 1)!,
      timeoutMs: timeoutS && timeoutS * 1000,
      systemLogPollSeconds: number('poll-s'),
    });
    results.push(result);
    rows.push(sustainedTableRow(result));
    const { groupsBucket: bucket, finalCatalog: final } = result;
    /* eslint-disable no-console */
    console.log(
      `${via}: ${result.changes} changes in ${result.options.durationSeconds} s, ${result.served} served ` +
        `(${result.unserved.length} not within ${(result.options.timeoutMs ?? Math.max(60_000, 3 * result.options.windowSeconds * 1000)) / 1000} s); ` +
        `p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms; wall ${result.wallSeconds} s`,
    );
    console.log(
      `  by kind: ${Object.entries(result.byKind)
        .map(([k, v]) => `${k} ${v.changes} (p50 ${v.p50Ms}, max ${v.maxMs})`)
        .join('; ')}`,
    );
    console.log(
      `  slowest: ${result.slowest.map(l => `${l.kind} at ${l.atSeconds} s: ${l.ms ?? 'never'} ms`).join('; ')}`,
    );
    console.log(
      `  Okta requests ${JSON.stringify(result.oktaRequests)}; member pages ${result.memberPages} (${result.memberPagesPerChange} per change); ` +
        `groups bucket per ${bucket.windowSeconds} s window: max ${bucket.max}, mean ${bucket.mean} of the app's ${bucket.appShare} ` +
        `[${bucket.perWindow.join(', ')}]; 429s ${result.served429}`,
    );
    console.log(
      `  runs applied ${result.appliedRuns}, failed ${result.failedRuns}${result.failedRuns ? `: ${JSON.stringify(result.failures)}` : ''}`,
    );
    console.log(
      `  other warnings: ${Object.keys(result.warnings).length ? JSON.stringify(result.warnings) : 'none'}`,
    );
    console.log(
      `  catalog equal to a fresh full read: ${final.equal ? 'yes' : 'NO'} (${final.entities} entities, full read ${final.expected}; ` +
        `settled ${final.settleSeconds} s after the last change)${final.differences.length ? `\n    ${final.differences.join('\n    ')}` : ''}`,
    );
    /* eslint-enable no-console */
  }
  // eslint-disable-next-line no-console
  console.log(`\n${SUSTAINED_TABLE_HEADER}\n${rows.join('\n')}`);
  const out = args.get('out');
  if (out) {
    mkdirSync(dirname(resolvePath(out)), { recursive: true });
    writeFileSync(resolvePath(out), `${JSON.stringify(results, null, 2)}\n`);
  }
}

if (require.main === module) runBenchCli(main);
