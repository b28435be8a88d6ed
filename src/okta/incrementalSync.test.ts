import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ConfigReader, type JsonObject } from '@backstage/config';
import { knex, type Knex } from 'knex';
import {
  fakeChangeFeeds,
  generateOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import { InMemoryOktaChangeQueue } from '../events/changeQueue';
import { readOktaEvents } from '../events/oktaEvents';
import {
  addServiceApp,
  RecordingLogger,
  type FakeServiceAppAccess,
} from '../__testUtils__/oktaCatalogHarness';
import {
  applyRandomOktaChanges,
  deleteGroupWhenListed,
} from '../__testUtils__/randomOktaChanges';
import { seededRandom } from '../__testUtils__/seededRandom';
import { OktaSyncStateStore } from '../state/OktaSyncStateStore';
import { createOktaOrgClient } from './client/createOktaOrgClient';
import type { OktaOrgClient } from './client/types';
import { readOktaProviderConfigs } from './config';
import { syncProviderEntities } from './incrementalSync';
import { readProviderEntities } from './providerSync';
import type { OktaProviderConfig } from './types';

jest.setTimeout(120_000);

/** Okta's consistency is simulated exactly by the fake; a short overlap suffices. */
const OVERLAP_MS = 1500;
/**
 * The fake's search lag (Okta's search and filter results are eventually
 * consistent). A run compared with a fresh full read starts once the changes
 * are past it: the same, settled, Okta state; the test below shows what a
 * run inside the lag misses and how the next one catches up.
 */
const SEARCH_LAG_MS = 30;
const settled = () =>
  new Promise(resolve => setTimeout(resolve, SEARCH_LAG_MS + 20));
const SEED = Number(process.env.OKTA_SYNC_SEED ?? 20261201);
const ROUNDS = Number(process.env.OKTA_SYNC_ROUNDS ?? 12);
const LATE_GROUPS = ['Late Group A', 'Late Group B'];

function sqlite(): Knex {
  return knex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  });
}

/**
 * The databases the equivalence test runs on: SQLite in memory, and
 * PostgreSQL (a database of its own, dropped afterwards) when
 * OKTA_TEST_POSTGRES_URL is set.
 */
const postgresUrl = process.env.OKTA_TEST_POSTGRES_URL;
if (!postgresUrl) {
  // eslint-disable-next-line no-console
  console.warn(
    'OKTA_TEST_POSTGRES_URL is not set: the incremental sync is tested on SQLite only',
  );
}
const DATABASES: [
  string,
  () => Promise<{ db: Knex; drop: () => Promise<void> }>,
][] = [
  [
    'SQLite',
    async () => {
      const db = sqlite();
      return { db, drop: () => db.destroy() };
    },
  ],
  ...(postgresUrl
    ? ([
        [
          'PostgreSQL',
          async () => {
            const name = `okta_sync_test_${randomBytes(4).toString('hex')}`;
            const admin = knex({ client: 'pg', connection: postgresUrl });
            await admin.raw('CREATE DATABASE ??', [name]);
            const url = new URL(postgresUrl);
            url.pathname = `/${name}`;
            const db = knex({ client: 'pg', connection: url.toString() });
            return {
              db,
              drop: async () => {
                await db.destroy();
                await admin.raw('DROP DATABASE ?? WITH (FORCE)', [name]);
                await admin.destroy();
              },
            };
          },
        ],
      ] as [string, () => Promise<{ db: Knex; drop: () => Promise<void> }>][])
    : []),
];

function providerConfig(
  app: FakeServiceAppAccess,
  extra: JsonObject,
): OktaProviderConfig {
  return readOktaProviderConfigs(
    new ConfigReader({
      catalog: { providers: { okta: { ...app.providerConfig, ...extra } } },
    }),
  )[0];
}

const CONFIGS: Record<string, (fake: FakeOkta) => JsonObject> = {
  'all users and groups': () => ({}),
  'userSearchFilter by department, hierarchy': () => ({
    userSearchFilter:
      'profile.department eq "Engineering" or profile.department eq "Data"',
    hierarchy: { parentAttribute: 'parentGroup' },
  }),
  'groupNames (users from member listings)': fake => ({
    groupNames: [
      ...fake.org
        .groups()
        .filter(g => g.type !== 'BUILT_IN')
        .slice(0, 5)
        .map(g => g.profile.name),
      ...LATE_GROUPS,
    ],
  }),
  'groupSearchFilter and userSearchFilter, email naming': () => ({
    groupSearchFilter: 'type eq "OKTA_GROUP"',
    userSearchFilter:
      'profile.department eq "Engineering" or profile.department eq "Support"',
    userNaming: 'email',
  }),
};

/** The client, failing every listing once `count` member listings are through. */
function stoppingAfter(client: OktaOrgClient, count: number): OktaOrgClient {
  let done = 0;
  const stop = new Error('stopped by the test');
  const check = () => {
    if (done >= count) throw stop;
  };
  return {
    listUsers: (query, signal) => client.listUsers(query, signal),
    listGroups: (query, signal) => client.listGroups(query, signal),
    listGroupMembers: (groupId, signal) =>
      (async function* listing() {
        check();
        yield* client.listGroupMembers(groupId, signal);
        done += 1;
        check();
      })(),
    stats: () => client.stats(),
  };
}

/**
 * What pushed events since `from` (an index into the fake's System Log)
 * name, as the change queue hands it to a run: the `reread` of a pushed run.
 */
async function pushedSince(fake: FakeOkta, from: number) {
  const events = fakeChangeFeeds(fake).systemLog.all().slice(from);
  const queue = new InMemoryOktaChangeQueue();
  await queue.accept(readOktaEvents(events).changes);
  const taken = await queue.take();
  return {
    events: events.length,
    reread: {
      userIds: taken.userIds,
      groupIds: taken.groupIds,
      memberListGroupIds: taken.membershipGroupIds,
      memberships: taken.memberships ?? [],
    },
  };
}

/** Throws, with `context`, unless a pushed run read as pushed and equals the fresh full read. */
function expectPushedRunEqualsFullRead(
  pushed: Awaited<ReturnType<typeof syncProviderEntities>>,
  fresh: Awaited<ReturnType<typeof readProviderEntities>>,
  context: string,
): void {
  try {
    expect(pushed.sync).toMatchObject({ kind: 'incremental', pushed: true });
    expect(pushed.users).toEqual(fresh.users);
    expect(pushed.groups).toEqual(fresh.groups);
    expect(pushed.memberships).toBe(fresh.memberships);
    expect(pushed.unmatchedGroupNames).toEqual(fresh.unmatchedGroupNames);
  } catch (error) {
    throw new Error(`${context}\n${(error as Error).message}`);
  }
}

describe.each(DATABASES)(
  'syncProviderEntities on %s: incremental runs equal fresh full reads',
  (_database, connect) => {
    let fake: FakeOkta;
    let app: FakeServiceAppAccess;
    let db: Knex;
    let drop: () => Promise<void>;
    const logger = new RecordingLogger();

    beforeEach(async () => {
      fake = await startFakeOkta({
        searchLagMs: SEARCH_LAG_MS,
        org: generateOrg({
          seed: SEED,
          users: 120,
          groups: 16,
          averageGroupsPerUser: 3,
        }),
        // Many rounds of small pages: far beyond Okta's per-minute limits.
        rateLimits: {
          limits: { users: 1e6, groups: 1e6, groupById: 1e6, other: 1e6 },
        },
      });
      app = await addServiceApp(fake);
      ({ db, drop } = await connect());
    });
    afterEach(async () => {
      await fake.close();
      await drop();
    });

    const client = (): OktaOrgClient =>
      createOktaOrgClient({
        orgUrl: fake.url,
        auth: app.auth,
        logger,
        userPageSize: 25,
        groupMemberPageSize: 20,
      });

    it.each(Object.entries(CONFIGS))(
      `%s: after every round of random changes (seed ${SEED})`,
      async (name, extra) => {
        const provider = providerConfig(app, extra(fake));
        const store = await OktaSyncStateStore.create(db);
        const state = store.forProvider(provider.id);
        const incremental = client();
        const random = seededRandom(SEED + name.length);
        const history: string[] = [];
        const first = await syncProviderEntities(incremental, provider, {
          logger,
          state,
          changeOverlapMs: OVERLAP_MS,
        });
        expect(first.sync.kind).toBe('full');
        const systemLog = fakeChangeFeeds(fake).systemLog;
        let pushedRounds = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const logBefore = systemLog.all().length;
          history.push(
            `round ${round}: ${applyRandomOktaChanges(
              fake.org,
              random,
              1 + Math.floor(random() * 8),
              LATE_GROUPS,
            ).join('; ')}`,
          );
          // Now and then a full read is due (fullReadEvery passed), and now and
          // then a run stops partway (a timeout): the next one continues it.
          await settled();
          if (random() < 0.5) {
            // A run started by the pushed events of these changes: it reads
            // only what they name, and still equals a fresh full read.
            const { events, reread } = await pushedSince(fake, logBefore);
            history.push(
              `round ${round}: pushed run for ${events} events (${JSON.stringify(reread)})`,
            );
            const pushed = await syncProviderEntities(incremental, provider, {
              logger,
              state,
              changeOverlapMs: OVERLAP_MS,
              reread,
              pushed: true,
            });
            const fresh = await readProviderEntities(client(), provider, {
              logger,
            });
            expectPushedRunEqualsFullRead(
              pushed,
              fresh,
              `Seed ${SEED} (OKTA_SYNC_SEED), config "${name}", round ${round}: the pushed run's result differs from a full read.\n${history.join('\n')}`,
            );
            pushedRounds += 1;
            if (random() < 0.5) continue;
            // Else a scheduled run follows: it still finds everything.
          }
          const fullReadDue = random() < 0.15;
          const runProvider = fullReadDue
            ? { ...provider, fullReadEveryMs: 1 }
            : provider;
          const options = { logger, state, changeOverlapMs: OVERLAP_MS };
          if (random() < 0.25) {
            const stopAfter = 1 + Math.floor(random() * 6);
            history.push(
              `round ${round}: stopped after ${stopAfter} member listings`,
            );
            // (A run with fewer listings than that completes: also fine.)
            await syncProviderEntities(
              stoppingAfter(incremental, stopAfter),
              runProvider,
              options,
            ).catch(() => undefined);
          }
          // Now and then a group is deleted while the run lists members.
          const deletion =
            random() < 0.3
              ? deleteGroupWhenListed(fake, 1 + Math.floor(random() * 3))
              : undefined;
          const synced = await syncProviderEntities(
            incremental,
            runProvider,
            options,
          ).finally(() => {
            const deleted = deletion?.();
            if (deleted) history.push(`round ${round}: ${deleted}`);
          });
          const fullClient = client();
          const full = await readProviderEntities(fullClient, provider, {
            logger,
          });
          try {
            expect(synced.sync.kind).toBe(fullReadDue ? 'full' : 'incremental');
            expect(synced.users).toEqual(full.users);
            expect(synced.groups).toEqual(full.groups);
            expect(synced.memberships).toBe(full.memberships);
            expect(synced.unmatchedGroupNames).toEqual(
              full.unmatchedGroupNames,
            );
          } catch (error) {
            throw new Error(
              `Seed ${SEED} (OKTA_SYNC_SEED), config "${name}", round ${round}: the incremental result differs from a full read.\n${history.join('\n')}\n${(error as Error).message}`,
            );
          }
        }
        // The rounds did delete groups in the middle of runs, and had
        // pushed runs.
        expect(history.some(line => line.includes('as its member page'))).toBe(
          true,
        );
        expect(pushedRounds).toBeGreaterThan(ROUNDS / 4);
      },
    );
  },
);

describe('syncProviderEntities: what a run reads, and when it reads everything', () => {
  let fake: FakeOkta;
  let app: FakeServiceAppAccess;
  let db: Knex;
  const logger = new RecordingLogger();

  beforeEach(async () => {
    fake = await startFakeOkta({
      searchLagMs: SEARCH_LAG_MS,
      org: generateOrg({
        seed: 41,
        users: 400,
        groups: 30,
        averageGroupsPerUser: 3,
      }),
      rateLimits: {
        limits: { users: 1e6, groups: 1e6, groupById: 1e6, other: 1e6 },
      },
    });
    app = await addServiceApp(fake);
    db = sqlite();
  });
  afterEach(async () => {
    await fake.close();
    await db.destroy();
  });

  const newClient = (): OktaOrgClient =>
    createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
      groupMemberPageSize: 50,
    });

  /** A fresh state of this provider in the test's database. */
  const stateOf = async (provider: OktaProviderConfig) =>
    (await OktaSyncStateStore.create(db)).forProvider(provider.id);

  /** Requests the fake served since the last call, by endpoint. */
  const served = () => {
    const stats = fake.stats();
    fake.resetStats();
    return {
      users: stats.requests.users ?? 0,
      groups: stats.requests.groups ?? 0,
      groupUsers: stats.requests.groupUsers ?? 0,
      paths: stats.log.map(entry => entry.path),
    };
  };

  it('lists only groups whose members changed and only users who changed', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: 0 };
    await syncProviderEntities(client, provider, options);
    const full = served();
    expect(full.groupUsers).toBeGreaterThan(25);

    // Nothing changed: the group listing and one page of changed users.
    await settled();
    const quiet = await syncProviderEntities(client, provider, options);
    expect(quiet.sync).toMatchObject({
      kind: 'incremental',
      groupsRelisted: 0,
      usersRead: 0,
    });
    expect(served()).toMatchObject({ users: 1, groups: 1, groupUsers: 0 });

    // One membership and one profile changed.
    const group = fake.org
      .groups()
      .find(
        g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length > 0,
      )!;
    const user = fake.org
      .users()
      .find(
        u =>
          u.status === 'ACTIVE' &&
          !fake.org.memberIdsOf(group.id).includes(u.id),
      )!;
    fake.org.addMember(group.id, user.id);
    fake.org.updateUser(user.id, { profile: { title: 'Changed' } });
    await settled();
    const changed = await syncProviderEntities(client, provider, options);
    const requests = served();
    expect(changed.sync).toMatchObject({
      kind: 'incremental',
      groupsRelisted: 1,
      usersRead: 1,
    });
    expect(requests.groupUsers).toBe(
      Math.ceil(fake.org.memberIdsOf(group.id).length / 50),
    );
    expect(
      requests.paths.filter(
        p => p.includes('/users') && p.includes('/groups/'),
      ),
    ).toEqual(
      requests.paths.filter(p =>
        p.startsWith(`/api/v1/groups/${group.id}/users`),
      ),
    );
    expect(requests.users).toBe(1);
    const fresh = await readProviderEntities(newClient(), provider, { logger });
    expect(changed.users).toEqual(fresh.users);
    expect(changed.groups).toEqual(fresh.groups);
  });

  it('drops a group deleted after the group listing, before or between its member pages, and goes on: incremental, full and stateless reads', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const options = { logger, state, changeOverlapMs: 0 };
    await syncProviderEntities(newClient(), provider, options);
    const listed = () =>
      fake.org
        .groups()
        .filter(g => g.type !== 'BUILT_IN')
        .sort(
          (a, b) =>
            fake.org.memberIdsOf(b.id).length -
            fake.org.memberIdsOf(a.id).length,
        );
    const groupIdOf = (e: { metadata: { annotations?: object } }) =>
      (e.metadata.annotations as Record<string, string>)['okta.com/group-id'];
    const fresh = () => readProviderEntities(newClient(), provider, { logger });

    // Incremental: two groups change, one of them is deleted as its member
    // listing is asked for.
    const [doomed, other] = listed().slice(-2);
    const newcomer = fake.org
      .users()
      .find(u => u.status === 'ACTIVE' && !u.profile.login?.includes('x'))!;
    fake.org.addMember(doomed.id, newcomer.id);
    fake.org.addMember(other.id, newcomer.id);
    await settled();
    fake.onRequest(arrival => {
      if (arrival.path.startsWith(`/api/v1/groups/${doomed.id}/users`)) {
        fake.org.removeGroup(doomed.id);
      }
    });
    const incremental = await syncProviderEntities(
      newClient(),
      provider,
      options,
    );
    fake.onRequest(undefined);
    expect(incremental.sync).toMatchObject({
      kind: 'incremental',
      groupsDropped: 1,
    });
    expect(incremental.groups.map(groupIdOf)).not.toContain(doomed.id);
    expect((await state.loadGroups()).has(doomed.id)).toBe(false);
    const afterIncremental = await fresh();
    expect(incremental.users).toEqual(afterIncremental.users);
    expect(incremental.groups).toEqual(afterIncremental.groups);

    // A full read: the biggest group is deleted between its first and its
    // second member page (pages of 50 here).
    const big = listed()[0];
    expect(fake.org.memberIdsOf(big.id).length).toBeGreaterThan(50);
    const betweenPages = (id: string) =>
      fake.onRequest(arrival => {
        if (
          arrival.path.startsWith(`/api/v1/groups/${id}/users`) &&
          arrival.path.includes('after=')
        ) {
          fake.org.removeGroup(id);
        }
      });
    betweenPages(big.id);
    const full = await syncProviderEntities(
      newClient(),
      { ...provider, fullReadEveryMs: 1 },
      options,
    );
    fake.onRequest(undefined);
    expect(full.sync.kind).toBe('full');
    expect(full.groups.map(groupIdOf)).not.toContain(big.id);
    const afterFull = await fresh();
    expect(full.users).toEqual(afterFull.users);
    expect(full.groups).toEqual(afterFull.groups);
    expect(full.memberships).toBe(afterFull.memberships);

    // The read without state (the set-up check's dry run, the benchmark).
    const next = listed()[0];
    betweenPages(next.id);
    const stateless = await fresh();
    fake.onRequest(undefined);
    expect(stateless.groups.map(groupIdOf)).not.toContain(next.id);
    const afterStateless = await fresh();
    expect(stateless.users).toEqual(afterStateless.users);
    expect(stateless.groups).toEqual(afterStateless.groups);
    expect(logger.messages('error')).toEqual([]);
  });

  it('fails the run on any other failure of a member listing (a 5xx is no deletion)', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    fake.setFaults([
      { endpoint: 'groupUsers', kind: 'status5xx', status: 503, rate: 1 },
    ]);
    const client = createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
      maxRetries: 0,
    });
    await expect(
      syncProviderEntities(client, provider, {
        logger,
        state,
        changeOverlapMs: 0,
      }),
    ).rejects.toThrow(/503/);
    fake.setFaults([]);
  });

  it('lists a changed group once, and once more only after the overlap: N changes to different groups cost about N member listings', async () => {
    const overlap = 2500;
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: overlap };
    await syncProviderEntities(client, provider, options);
    await new Promise(resolve => setTimeout(resolve, overlap));
    expect(
      (await syncProviderEntities(client, provider, options)).sync
        .groupsRelisted,
    ).toBe(0);

    const groups = fake.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length)
      .slice(0, 6);
    const user = fake.org.users().find(u => u.status === 'ACTIVE')!;
    const relisted: number[] = [];
    const started = Date.now();
    let lastChange = started;
    for (const group of groups) {
      lastChange = Date.now();
      if (fake.org.memberIdsOf(group.id).includes(user.id)) {
        fake.org.removeMember(group.id, user.id);
      } else {
        fake.org.addMember(group.id, user.id);
      }
      await settled();
      const run = await syncProviderEntities(client, provider, options);
      relisted.push(run.sync.groupsRelisted);
    }
    // Every run inside the overlap of the changes before it: each lists
    // only its own change's group, not the groups changed before.
    expect(Date.now() - started).toBeLessThan(overlap);
    expect(relisted).toEqual(groups.map(() => 1));

    // Once the overlap has passed since the last change: each changed group
    // is listed once more (its first listing came within the overlap), then
    // never again until it changes.
    await new Promise(resolve =>
      setTimeout(resolve, overlap - (Date.now() - lastChange) + 50),
    );
    const late = await syncProviderEntities(client, provider, options);
    expect(late.sync.groupsRelisted).toBe(groups.length);
    const quiet = await syncProviderEntities(client, provider, options);
    expect(quiet.sync.groupsRelisted).toBe(0);
    const fresh = await readProviderEntities(newClient(), provider, { logger });
    expect(quiet.users).toEqual(fresh.users);
    expect(quiet.groups).toEqual(fresh.groups);
  });

  it('reads everything again every fullReadEvery, and at once when the config changes', async () => {
    let now = Date.now();
    const provider = { ...providerConfig(app, {}), fullReadEveryMs: 3600_000 };
    const state = await stateOf(provider);
    const client = newClient();
    const run = (p: OktaProviderConfig) =>
      syncProviderEntities(client, p, {
        logger,
        state,
        changeOverlapMs: 0,
        now: () => now,
      });
    expect((await run(provider)).sync.kind).toBe('full');
    now += 1000;
    expect((await run(provider)).sync.kind).toBe('incremental');
    now += 3600_000;
    expect((await run(provider)).sync.kind).toBe('full');
    now += 1000;
    expect((await run(provider)).sync.kind).toBe('incremental');
    // Another naming: the state is discarded and read again in full.
    served();
    const renamed = await run({ ...provider, userNaming: 'email' });
    expect(renamed.sync.kind).toBe('full');
    expect(served().groupUsers).toBeGreaterThan(25);
    expect(renamed.users.map(u => u.metadata.name)).toEqual(
      (
        await readProviderEntities(
          newClient(),
          { ...provider, userNaming: 'email' },
          { logger },
        )
      ).users.map(u => u.metadata.name),
    );
  });

  it('continues a full read that stopped partway instead of starting over, and applies nothing until it is complete', async () => {
    const provider = providerConfig(app, { requests: { maxConcurrency: 2 } });
    const state = await stateOf(provider);
    // One page per group (Okta's default page size): the pages a stopped
    // run loses are those of the listings in flight, 2 x maxConcurrency.
    const inner = createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
    });
    const inFlight = 4;
    // Stops the run (as the schedule's timeout would) once half the member
    // pages are read.
    const groupsToList = fake.org
      .groups()
      .filter(
        g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length > 0,
      ).length;
    const stop = new AbortController();
    const pages = fake.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN')
      .reduce(
        (n, g) => n + Math.ceil(fake.org.memberIdsOf(g.id).length / 1000),
        0,
      );
    const stopping: OktaOrgClient = {
      listUsers: (query, signal) => inner.listUsers(query, signal),
      listGroups: (query, signal) => inner.listGroups(query, signal),
      listGroupMembers: (groupId, signal) =>
        (async function* listing() {
          for await (const member of inner.listGroupMembers(groupId, signal)) {
            yield member;
            if ((fake.stats().requests.groupUsers ?? 0) >= pages / 2) {
              stop.abort(new Error('stopped by the test'));
            }
          }
        })(),
      stats: () => inner.stats(),
    };
    await expect(
      syncProviderEntities(stopping, provider, {
        logger,
        state,
        changeOverlapMs: 0,
        signal: stop.signal,
      }),
    ).rejects.toThrow('stopped by the test');
    const firstPart = served();
    const kept = [...(await state.loadGroups()).keys()].filter(
      id => fake.org.memberIdsOf(id).length > 0,
    ).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(groupsToList);

    // A change while the read is paused is not lost either.
    const user = fake.org.users().find(u => u.status === 'ACTIVE')!;
    fake.org.updateUser(user.id, { profile: { firstName: 'Paused' } });
    await settled();

    const resumed = await syncProviderEntities(inner, provider, {
      logger,
      state,
      changeOverlapMs: 0,
    });
    const secondPart = served();
    expect(resumed.sync).toMatchObject({ kind: 'full', resumedFullRead: true });
    expect(resumed.sync.groupsRelisted).toBe(groupsToList - kept);
    const fresh = await readProviderEntities(inner, provider, { logger });
    const fullRead = served();
    // The member pages the stopped run read are not read again: the resumed
    // run reads the rest, and those of the listings that were in flight.
    expect(fullRead.groupUsers).toBe(pages);
    expect(firstPart.groupUsers).toBeGreaterThanOrEqual(pages / 2);
    expect(secondPart.groupUsers).toBeLessThanOrEqual(
      pages - firstPart.groupUsers + inFlight,
    );
    expect(secondPart.groupUsers).toBeLessThanOrEqual(0.7 * pages);
    expect(resumed.users).toEqual(fresh.users);
    expect(resumed.groups).toEqual(fresh.groups);
  });

  it('catches a change that Okta search did not show yet on the next run, through the overlap', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: 1000 };
    await syncProviderEntities(client, provider, options);
    await settled();
    const user = fake.org.users().find(u => u.status === 'ACTIVE')!;
    fake.org.updateUser(user.id, { profile: { firstName: 'Lagging' } });

    // At once: the search does not show it yet (the plain listing does).
    const early = await syncProviderEntities(client, provider, options);
    const fresh = await readProviderEntities(newClient(), provider, { logger });
    expect(early.users).not.toEqual(fresh.users);

    // The next run's lower bound reaches back over the lag: it is caught.
    await settled();
    const next = await syncProviderEntities(client, provider, options);
    expect(next.sync).toMatchObject({ kind: 'incremental', usersRead: 1 });
    expect(next.users).toEqual(fresh.users);
    expect(next.groups).toEqual(fresh.groups);
  });

  it('a pushed run reads what its events name: a profile change costs one request and none in the groups bucket; a membership change in a big group lists no member page', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: 0 };
    await syncProviderEntities(client, provider, options);
    const logFrom = () => fakeChangeFeeds(fake).systemLog.all().length;
    /** The fake's endpoints that count in Okta's 500-a-minute groups bucket. */
    const inGroupsBucket = (requests: ReturnType<typeof served>) =>
      requests.groups + requests.groupUsers;
    const pushedRun = async (from: number) => {
      const { reread } = await pushedSince(fake, from);
      served();
      const run = await syncProviderEntities(client, provider, {
        ...options,
        reread,
        pushed: true,
      });
      const stats = fake.stats();
      const requests = { ...served(), all: stats.requests };
      const fresh = await readProviderEntities(newClient(), provider, {
        logger,
      });
      expect(run.sync).toMatchObject({ kind: 'incremental', pushed: true });
      expect(run.users).toEqual(fresh.users);
      expect(run.groups).toEqual(fresh.groups);
      expect(run.memberships).toBe(fresh.memberships);
      return { run, requests };
    };

    // A profile change: GET /api/v1/users/{id}, nothing else.
    const user = fake.org.users().find(u => u.status === 'ACTIVE')!;
    let from = logFrom();
    fake.org.updateUser(user.id, { profile: { title: 'Pushed' } });
    let { run, requests } = await pushedRun(from);
    expect(requests.all).toEqual({ userById: 1 });
    expect(inGroupsBucket(requests)).toBe(0);
    expect(run.sync.usersRead).toBe(1);

    // A status change (deactivation), likewise.
    from = logFrom();
    fake.org.deprovisionUser(user.id);
    ({ requests } = await pushedRun(from));
    expect(requests.all).toEqual({ userById: 1 });

    // A membership added to the biggest group (pages of 50 here): the
    // user's groups, no member page, no group listing.
    const big = fake.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN')
      .sort(
        (a, b) =>
          fake.org.memberIdsOf(b.id).length - fake.org.memberIdsOf(a.id).length,
      )[0];
    expect(fake.org.memberIdsOf(big.id).length).toBeGreaterThan(100);
    const joiner = fake.org
      .users()
      .find(
        u =>
          u.status === 'ACTIVE' && !fake.org.memberIdsOf(big.id).includes(u.id),
      )!;
    from = logFrom();
    fake.org.addMember(big.id, joiner.id);
    ({ run, requests } = await pushedRun(from));
    expect(requests.all).toEqual({ userGroups: 1 });
    expect(run.sync.groupsRelisted).toBe(0);
    // And one removed: likewise.
    from = logFrom();
    fake.org.removeMember(big.id, fake.org.memberIdsOf(big.id)[0]);
    ({ run, requests } = await pushedRun(from));
    expect(requests.all).toEqual({ userGroups: 1 });

    // More changed memberships of a small group than it has pages of
    // members (1,000 a page): its listing is the cheaper read.
    const small = fake.org
      .groups()
      .find(
        g =>
          g.type !== 'BUILT_IN' &&
          g.id !== big.id &&
          fake.org.memberIdsOf(g.id).length > 0 &&
          fake.org.memberIdsOf(g.id).length < 40,
      )!;
    const newcomers = fake.org
      .users()
      .filter(
        u =>
          u.status === 'ACTIVE' &&
          !fake.org.memberIdsOf(small.id).includes(u.id),
      )
      .slice(0, 3);
    from = logFrom();
    for (const newcomer of newcomers) fake.org.addMember(small.id, newcomer.id);
    ({ run, requests } = await pushedRun(from));
    expect(requests.all).toEqual({ groupUsers: 1 });
    expect(run.sync.groupsRelisted).toBe(1);

    // A group renamed, and one deleted: one GET /api/v1/groups/{id} each.
    const [renamed, deleted] = fake.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN' && g.id !== big.id);
    from = logFrom();
    fake.org.renameGroup(renamed.id, 'Renamed by a push');
    fake.org.removeGroup(deleted.id);
    ({ run, requests } = await pushedRun(from));
    expect(requests.all).toEqual({ groupById: 2 });
    expect(run.sync.groupsDropped).toBe(1);

    // The next scheduled run verifies the groups whose members pushed runs
    // patched or listed, by their markers (it lists each once), and equals
    // a fresh full read.
    await settled();
    const scheduled = await syncProviderEntities(client, provider, options);
    expect(scheduled.sync).toMatchObject({
      kind: 'incremental',
      groupsRelisted: 2,
    });
    const fresh = await readProviderEntities(newClient(), provider, {
      logger,
    });
    expect(scheduled.users).toEqual(fresh.users);
    expect(scheduled.groups).toEqual(fresh.groups);
  });

  it('a pushed run reads as a scheduled run does while the state is not complete (first run) and when the client has no single-object reads', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: 0, pushed: true };
    const first = await syncProviderEntities(client, provider, options);
    expect(first.sync).toMatchObject({ kind: 'full', pushed: false });
    const {
      getUser: _g,
      getGroup: _gg,
      listUserGroups: _l,
      ...listingOnly
    } = client;
    served();
    const fallback = await syncProviderEntities(
      listingOnly as OktaOrgClient,
      provider,
      options,
    );
    expect(fallback.sync).toMatchObject({
      kind: 'incremental',
      pushed: false,
    });
    expect(served().groups).toBe(1);
  });

  it('re-reads the users and groups it is told to, whatever their markers say (for pushed events)', async () => {
    const provider = providerConfig(app, {});
    const state = await stateOf(provider);
    const client = newClient();
    const options = { logger, state, changeOverlapMs: 0 };
    await syncProviderEntities(client, provider, options);
    const group = fake.org
      .groups()
      .find(
        g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length > 0,
      )!;
    const user = fake.org.users().find(u => u.status === 'ACTIVE')!;
    await settled();
    served();
    const result = await syncProviderEntities(client, provider, {
      ...options,
      reread: { groupIds: [group.id], userIds: [user.id] },
    });
    const requests = served();
    expect(result.sync.groupsRelisted).toBe(1);
    expect(
      requests.paths.filter(
        p => p.includes('/users') && p.startsWith('/api/v1/groups/'),
      ),
    ).toEqual(
      requests.paths.filter(p =>
        p.startsWith(`/api/v1/groups/${group.id}/users`),
      ),
    );
    // The changed-users search, and one lookup by id.
    expect(requests.users).toBe(2);
    expect(
      requests.paths.some(p =>
        decodeURIComponent(p).includes(`id eq "${user.id}"`),
      ),
    ).toBe(true);
  });
});
