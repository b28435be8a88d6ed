/*
 * The System Log follower against the fake Okta org over HTTP, through the
 * module's own HTTP stack (token with okta.logs.read, pacing, retries).
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  demoOrg,
  fakeChangeFeeds,
  FakeOrg,
  startFakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  catalogApi,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { InMemoryOktaChangeQueue } from './changeQueue';
import { OktaChangeBatcher } from './OktaChangeBatcher';
import {
  DEFAULT_MAX_PAGES_PER_POLL,
  InMemoryOktaSystemLogCursorStore,
  OktaSystemLogFollower,
  SYSTEM_LOG_PAGE_LIMIT,
} from './OktaSystemLogFollower';
import type { OktaLogPage } from './systemLogClient';
import { createOktaSystemLogClient } from './systemLogClient';
import type { OktaChangedIds } from './types';

jest.setTimeout(90_000);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const LOG_SCOPES = ['okta.users.read', 'okta.groups.read', 'okta.logs.read'];

async function setUp(
  org: FakeOrg,
  options: { requireDpop?: boolean; windowSeconds?: number } = {},
) {
  const fake = await startFakeOkta({
    org,
    rateLimits: { windowSeconds: options.windowSeconds ?? 60 },
  });
  cleanups.push(() => fake.close());
  const app = await addServiceApp(fake, {
    scopes: LOG_SCOPES,
    requireDpop: options.requireDpop,
  });
  const logger = new RecordingLogger();
  const client = createOktaSystemLogClient({
    orgUrl: fake.url,
    auth: app.auth,
    logger,
  });
  const handOvers: OktaChangedIds[] = [];
  const cursor = new InMemoryOktaSystemLogCursorStore();
  const follower = (queue = new InMemoryOktaChangeQueue()) => {
    const batcher = new OktaChangeBatcher({
      sink: {
        async changed(ids) {
          handOvers.push(ids);
        },
      },
      queue,
      logger,
      quietMs: 10,
      maxDelayMs: 50,
    });
    cleanups.push(() => batcher.stop());
    return {
      batcher,
      follower: new OktaSystemLogFollower({
        providerId: 'default',
        orgUrl: fake.url,
        fetchPage: client.fetchPage,
        cursor,
        batcher,
        logger,
      }),
    };
  };
  return { fake, client, cursor, follower, handOvers, logger };
}

describe('OktaSystemLogFollower', () => {
  it('starts at now, keeps the cursor through empty pages, follows a backlog and resumes after a restart without repeats', async () => {
    const org = new FakeOrg({ seed: 41 });
    const before = org.addGroup({ profile: { name: 'before the follower' } });
    const { fake, cursor, follower, handOvers } = await setUp(org, {
      requireDpop: true,
    });

    const first = follower();
    expect(await first.follower.poll()).toEqual({
      pages: 1,
      events: 0,
      accepted: 0,
      behind: false,
    });
    const stored = await cursor.read();
    expect(stored).toContain('after=');
    expect(await first.follower.poll()).toEqual({
      pages: 1,
      events: 0,
      accepted: 0,
      behind: false,
    });

    // A backlog: 2,500 membership events and a rename, three pages in one poll.
    const team = org.addGroup({ profile: { name: 'Team' } });
    for (let i = 0; i < 2500; i++) {
      org.addMember(
        team.id,
        org.addUser({ profile: { login: `u${i}@example.com` } }).id,
      );
    }
    org.renameGroup(team.id, 'Team A');
    const poll = await first.follower.poll();
    // 2,500 creates + 2,500 activations + 2,500 memberships + create + rename.
    expect(poll.events).toBe(7502);
    expect(poll.pages).toBe(8);
    await first.batcher.idle();
    const groups = new Set(
      handOvers.flatMap(h => [...h.groupIds, ...h.membershipGroupIds]),
    );
    expect([...groups].sort()).toEqual([team.id]);
    expect(groups.has(before.id)).toBe(false);
    // Handed over as the pages came in: a few hand-overs, not thousands.
    expect(handOvers.length).toBeLessThanOrEqual(poll.pages);

    // A restart (new process: nothing seen in memory) resumes at the stored cursor.
    const handOversBefore = handOvers.length;
    const second = follower();
    expect(await second.follower.poll()).toEqual({
      pages: 1,
      events: 0,
      accepted: 0,
      behind: false,
    });
    org.removeGroup(team.id);
    expect(await second.follower.poll()).toMatchObject({
      events: 1,
      accepted: 1,
    });
    await second.batcher.idle();
    expect(handOvers.slice(handOversBefore)).toEqual([
      { userIds: [], groupIds: [team.id], membershipGroupIds: [] },
    ]);

    // Only the logs bucket was used, each page once.
    // (An empty page's next link is the same URL again: the cursor keeps its place.)
    const logs = fake
      .stats()
      .log.filter(entry => entry.path.startsWith('/api/v1/logs'));
    expect(logs.length).toBe(12);
    expect(logs.every(entry => entry.status === 200)).toBe(true);
    expect(Object.keys(fake.stats().requests).sort()).toEqual([
      'other',
      'token',
    ]);
  });

  it('stays within the logs bucket: a backlog is paced by its headers, without a 429', async () => {
    const org = new FakeOrg({ seed: 42 });
    const { fake, follower } = await setUp(org, { windowSeconds: 1 });
    // 6 requests a second for the org, 3 for this app.
    fakeChangeFeeds(fake).setLogsRateLimit(6);
    const { follower: f } = follower();
    await f.poll();
    for (let i = 0; i < 5500; i++) org.addGroup({ profile: { name: `g${i}` } });
    const started = Date.now();
    const result = await f.poll();
    expect(result).toMatchObject({ pages: 6, events: 5500 });
    // 7 requests at 3 a window: at least 2 window resets waited for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fakeChangeFeeds(fake).logs429).toBe(0);
  });

  it('refuses a stored cursor that points away from the org', async () => {
    const { cursor, follower } = await setUp(new FakeOrg({ seed: 43 }));
    await cursor.write('https://evil.example/api/v1/logs?after=1');
    await expect(follower().follower.poll()).rejects.toThrow(/not on the org/);
  });
});

describe('OktaSystemLogFollower under a flood of events', () => {
  /** An endless backlog: every page full, of membership events for 5 groups. */
  function floodedLog() {
    const urls: string[] = [];
    let served = 0;
    const fetchPage = async (url: string): Promise<OktaLogPage> => {
      urls.push(url);
      const events = Array.from({ length: SYSTEM_LOG_PAGE_LIMIT }, () => {
        const n = served++;
        return {
          uuid: `flood-${n}`,
          published: new Date(n).toISOString(),
          eventType: 'group.user_membership.add',
          target: [
            { id: `00u${n}`, type: 'User' },
            { id: `00gFLOOD${n % 5}`, type: 'UserGroup' },
          ],
        };
      });
      return {
        events,
        next: `https://acme.okta.com/api/v1/logs?after=page${urls.length}`,
      };
    };
    return { urls, fetchPage };
  }

  it('reads at most maxPagesPerPoll pages a poll, of at most 1,000 events, and the next poll continues from the stored next link', async () => {
    const { urls, fetchPage } = floodedLog();
    const cursor = new InMemoryOktaSystemLogCursorStore();
    const queue = new InMemoryOktaChangeQueue();
    const logger = new RecordingLogger();
    const batcher = new OktaChangeBatcher({
      sink: { changed: async () => {} },
      queue,
      logger,
    });
    cleanups.push(() => batcher.stop());
    const follower = new OktaSystemLogFollower({
      providerId: 'default',
      orgUrl: 'https://acme.okta.com',
      fetchPage,
      cursor,
      batcher,
      logger,
    });

    expect(await follower.poll()).toEqual({
      pages: DEFAULT_MAX_PAGES_PER_POLL,
      events: DEFAULT_MAX_PAGES_PER_POLL * SYSTEM_LOG_PAGE_LIMIT,
      accepted: DEFAULT_MAX_PAGES_PER_POLL * SYSTEM_LOG_PAGE_LIMIT,
      behind: true,
    });
    expect(new URL(urls[0]).searchParams.get('limit')).toBe('1000');
    expect(await cursor.read()).toBe(
      'https://acme.okta.com/api/v1/logs?after=page10',
    );
    // The next poll starts at the stored link, not at a moved `since`.
    await follower.poll();
    expect(urls).toHaveLength(2 * DEFAULT_MAX_PAGES_PER_POLL);
    expect(urls[DEFAULT_MAX_PAGES_PER_POLL]).toBe(
      'https://acme.okta.com/api/v1/logs?after=page10',
    );
    // 20,000 events about 5 groups: 5 queue entries, one per group.
    const queued = await queue.take();
    expect(queued.size).toBe(5);
    expect(queued.membershipGroupIds).toHaveLength(5);
  });
});

describe('systemLog config in a real backend', () => {
  it('follows the System Log every 2 s and a new hire reaches the catalog', async () => {
    const fake = await startFakeOkta({ org: demoOrg() });
    cleanups.push(() => fake.close());
    const app = await addServiceApp(fake, { scopes: LOG_SCOPES });
    const logger = new RecordingLogger();
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
        // The real scheduler: periodic runs, and triggerTask as on a real backend.
        schedulerServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              providers: {
                okta: {
                  ...app.providerConfig,
                  checkSetupOnStart: false,
                  schedule: {
                    frequency: { minutes: 30 },
                    timeout: { minutes: 5 },
                  },
                  systemLog: { pollInterval: { seconds: 2 } },
                },
              },
            },
          },
        }),
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: () => logger,
        }),
      ],
    });
    cleanups.push(() => backend.stop());
    const catalog = catalogApi(`http://localhost:${backend.server.port()}`);
    await catalog.waitFor(list => list.some(e => e.kind === 'User'));
    // The follower has taken its starting point.
    const deadline = Date.now() + 10_000;
    while (
      !logger
        .messages('info')
        .some(m => m.includes('System Log follower default: starting'))
    ) {
      if (Date.now() > deadline) throw new Error('the follower did not start');
      await new Promise(resolve => setTimeout(resolve, 100));
    }

    const team = fake.org.groups().find(g => g.type !== 'BUILT_IN')!;
    const changedAt = Date.now();
    const hire = fake.org.addUser({
      profile: { login: 'log.hire@example.com', email: 'log.hire@example.com' },
    });
    fake.org.addMember(team.id, hire.id);
    await catalog.waitFor(
      list =>
        list.some(e => e.kind === 'User' && e.metadata.name === 'log.hire'),
      30_000,
    );
    const ms = Date.now() - changedAt;
    expect(
      logger
        .messages('info')
        .some(m => /\(with \d+ objects pushed events named\)/.test(m)),
    ).toBe(true);
    // eslint-disable-next-line no-console
    console.log(`System Log follower (2 s polls): hire served after ${ms} ms`);
  });
});
