/*
 * The event hook endpoint over real HTTP, in a real backend (the catalog
 * plugin and this module), with the fake Okta org registering, verifying
 * and posting to it as Okta does.
 */
import { changeSinkModule } from '../__testUtils__/oktaChangeEvents';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/config';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  demoOrg,
  fakeChangeFeeds,
  FakeOrg,
  startFakeOkta,
  type FakeEventHookEnvelope,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  catalogApi,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { rawHttpRequest } from '../__testUtils__/rawHttp';
import { OKTA_CHANGE_EVENT_TYPES } from './oktaEvents';
import type { OktaChangedIds, OktaChangeSink } from './types';

jest.setTimeout(90_000);

const SECRET = 'hook-secret-0123456789-abcdef';
const HEADER = 'X-Okta-Hook-Secret';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Records hand-overs; each takes `delayMs`, as re-reading a slow Okta would. */
class RecordingSink implements OktaChangeSink {
  readonly handOvers: OktaChangedIds[] = [];
  constructor(private readonly delayMs = 0) {}
  async changed(ids: OktaChangedIds): Promise<void> {
    this.handOvers.push(ids);
    await new Promise(resolve => setTimeout(resolve, this.delayMs));
  }
}

interface Started {
  fake: FakeOkta;
  logger: RecordingLogger;
  hookUrl: string;
  baseUrl: string;
  hookId: string;
}

async function start(options: {
  org?: FakeOrg;
  sink?: OktaChangeSink;
  events?: readonly string[];
  provider?: JsonObject;
}): Promise<Started> {
  const fake = await startFakeOkta({ org: options.org ?? demoOrg() });
  cleanups.push(() => fake.close());
  const app = await addServiceApp(fake);
  const logger = new RecordingLogger();
  const features = [
    catalogPlugin,
    catalogModuleOktaOrgEntityProvider,
    // The real scheduler: periodic runs, and triggerTask as on a real backend.
    schedulerServiceFactory,
    mockServices.rootConfig.factory({
      data: {
        catalog: {
          providers: {
            okta: {
              id: 'default',
              ...app.providerConfig,
              schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
              checkSetupOnStart: false,
              eventHook: { secretHeader: HEADER, secret: SECRET },
              ...options.provider,
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
  ];
  if (options.sink) {
    const sink = options.sink;
    features.push(changeSinkModule(sink));
  }
  const backend = await startTestBackend({ features });
  cleanups.push(() => backend.stop());
  const baseUrl = `http://localhost:${backend.server.port()}`;
  const hookUrl = `${baseUrl}/api/catalog/okta/event-hooks/default`;
  const hooks = fakeChangeFeeds(fake).eventHooks;
  const hook = hooks.create({
    name: 'Backstage catalog',
    uri: hookUrl,
    authScheme: { key: HEADER, value: SECRET },
    events: [...(options.events ?? OKTA_CHANGE_EVENT_TYPES)],
  });
  return { fake, logger, hookUrl, baseUrl, hookId: String(hook.id) };
}

async function until(
  predicate: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

describe('the Okta event hook endpoint', () => {
  it("answers Okta's verification, and refuses it without the secret", async () => {
    const { fake, hookId, hookUrl } = await start({
      sink: new RecordingSink(),
    });
    const hooks = fakeChangeFeeds(fake).eventHooks;
    await expect(hooks.verify(hookId)).resolves.toMatchObject({
      verificationStatus: 'VERIFIED',
    });

    const wrong = await fetch(hookUrl, {
      headers: {
        'X-Okta-Verification-Challenge': 'abc',
        [HEADER]: 'not the secret at all',
      },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(hookUrl, {
      headers: { 'X-Okta-Verification-Challenge': 'abc', [HEADER]: SECRET },
    });
    expect(await right.json()).toEqual({ verification: 'abc' });
    // Another provider id is not an endpoint.
    const other = await fetch(hookUrl.replace(/default$/, 'other'), {
      headers: { [HEADER]: SECRET },
    });
    expect(other.status).toBe(404);
    const malformed = await fetch(hookUrl.replace(/default$/, '%E0%A4%A'), {
      headers: { [HEADER]: SECRET },
    });
    expect(malformed.status).toBe(404);
  });

  it('a forged request gets 401, its body is not logged and nothing is handed over', async () => {
    const sink = new RecordingSink();
    const { hookUrl, logger } = await start({ sink });
    const forged: FakeEventHookEnvelope['data'] = {
      events: [
        {
          uuid: 'forged-0001',
          published: new Date().toISOString(),
          eventType: 'group.lifecycle.delete',
          target: [
            {
              id: '00gFORGEDMARKER00001',
              type: 'UserGroup',
              alternateId: 'x',
              displayName: 'FORGED-BODY-MARKER',
            },
          ],
        } as never,
      ],
    };
    const body = JSON.stringify({
      eventType: 'com.okta.event_hook',
      data: forged,
    });
    const attempts: Array<Record<string, string>> = [
      {},
      { [HEADER]: 'wrong-secret-of-the-same-length-x' },
      { [HEADER]: `${SECRET}x` },
    ];
    for (const headers of attempts) {
      const res = await fetch(hookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(res.status).toBe(401);
    }
    await new Promise(resolve => setTimeout(resolve, 1500)); // past the batching window
    expect(sink.handOvers).toEqual([]);
    // Warned about once: the next ones within the minute are only counted.
    const rejected = logger
      .messages('warn')
      .filter(m => m.includes('rejected a POST request'));
    expect(rejected).toHaveLength(1);
    expect(logger.text()).not.toContain('FORGED-BODY-MARKER');
    expect(logger.text()).not.toContain('00gFORGEDMARKER00001');
    expect(logger.text()).not.toContain(SECRET);
  });

  it('in the backend too, refuses without reading: 401 before the secret, 413 over the bound, each warned about once', async () => {
    const sink = new RecordingSink();
    const { baseUrl, logger } = await start({ sink });
    const port = Number(new URL(baseUrl).port);
    const path = '/api/catalog/okta/event-hooks/default';
    const exchanges: number[] = [];
    for (let i = 0; i < 50; i++) {
      const attempts: Array<Record<string, string>> = [
        {},
        { [HEADER]: SECRET },
      ];
      for (const secret of attempts) {
        // 20 MB declared, 1 KB sent: answered without the rest.
        const exchange = rawHttpRequest({
          port,
          method: 'POST',
          path,
          headers: {
            ...secret,
            'Content-Type': 'application/json',
            'Content-Length': 20 * 1024 * 1024,
          },
          body: 'FORGED-BODY-MARKER'.padEnd(1024, ' '),
        });
        cleanups.push(() => void exchange.socket.destroy());
        const { status, headers } = await exchange.response;
        expect(headers.connection).toBe('close');
        await exchange.closed;
        exchanges.push(status);
      }
    }
    expect(exchanges.filter(s => s === 401)).toHaveLength(50);
    expect(exchanges.filter(s => s === 413)).toHaveLength(50);
    const warnings = logger
      .messages('warn')
      .filter(m => m.startsWith('Okta event hook'));
    expect(warnings).toEqual([
      expect.stringContaining('rejected a POST request without a valid'),
      expect.stringContaining('refused a request with a body over 1048576'),
    ]);
    expect(logger.text()).not.toContain('FORGED-BODY-MARKER');
    expect(logger.text()).not.toContain(SECRET);
    expect(sink.handOvers).toEqual([]);
  });

  it('a redelivered or replayed batch is handed over once', async () => {
    const org = new FakeOrg({ seed: 31 });
    const team = org.addGroup({ profile: { name: 'Team' } });
    const sink = new RecordingSink();
    const { fake, hookId, hookUrl } = await start({ org, sink });
    const hooks = fakeChangeFeeds(fake).eventHooks;
    await hooks.verify(hookId);
    // Okta delivers at least once: every batch twice here.
    hooks.setDeliveryOptions({ duplicateRate: 1, batchWindowMs: 10 });
    const ada = org.addUser({
      profile: { login: 'ada@example.com', email: 'ada@example.com' },
    });
    org.addMember(team.id, ada.id);
    await hooks.idle();
    await until(() => sink.handOvers.length > 0);
    await new Promise(resolve => setTimeout(resolve, 1500));

    const posts = hooks.requests().filter(r => r.kind === 'events');
    expect(posts.map(p => p.outcome)).toEqual([200, 200]);
    expect(posts[1].redelivery).toBe(true);
    expect(sink.handOvers).toEqual([
      {
        userIds: [ada.id],
        groupIds: [],
        membershipGroupIds: [],
        memberships: [{ groupId: team.id, userId: ada.id }],
      },
    ]);

    // Replayed later by someone holding a captured request: still nothing new.
    const replay = {
      eventType: 'com.okta.event_hook',
      data: { events: fakeChangeFeeds(fake).systemLog.all() },
    };
    const res = await fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [HEADER]: SECRET },
      body: JSON.stringify(replay),
    });
    expect(res.status).toBe(200);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(sink.handOvers).toHaveLength(1);
  });

  it('a burst of 5,000 membership events gets fast 200s and becomes a few hand-overs, even with a slow sink', async () => {
    const org = new FakeOrg({ seed: 32 });
    const group = org.addGroup({
      profile: { name: 'Everyone in Engineering' },
    });
    const users = Array.from({ length: 5000 }, (_, i) =>
      org.addUser({
        profile: {
          login: `user${i}@example.com`,
          email: `user${i}@example.com`,
        },
      }),
    );
    // Each hand-over takes 2 s, as re-reading a slow Okta would.
    const sink = new RecordingSink(2000);
    const { fake, hookId } = await start({
      org,
      sink,
      events: ['group.user_membership.add', 'group.user_membership.remove'],
      provider: { groupNames: ['Everyone in Engineering'] },
    });
    const hooks = fakeChangeFeeds(fake).eventHooks;
    await hooks.verify(hookId);
    hooks.setDeliveryOptions({ batchWindowMs: 20 });
    // A group rule adds everyone at once.
    for (const user of users) org.addMember(group.id, user.id);
    await hooks.idle();

    const posts = hooks.requests().filter(r => r.kind === 'events');
    expect(posts.length).toBe(50); // 100 events a request
    expect(posts.every(p => p.outcome === 200 && p.attempt === 1)).toBe(true);
    const slowest = Math.max(...posts.map(p => p.ms));
    // Within Okta's 3 s, and not waiting for the sink (busy 2 s at a time).
    expect(slowest).toBeLessThan(1500);

    await until(() => sink.handOvers.length > 0, 15_000);
    await new Promise(resolve => setTimeout(resolve, 3000));
    expect(sink.handOvers.length).toBeLessThanOrEqual(3);
    const groups = new Set(sink.handOvers.flatMap(h => h.membershipGroupIds));
    expect([...groups]).toEqual([group.id]);
    expect(sink.handOvers.flatMap(h => h.userIds)).toEqual([]);
    // Reported for the README.
    // eslint-disable-next-line no-console
    console.log(
      `burst: ${posts.length} POSTs of 5,000 events, slowest answer ${slowest} ms, median ${
        [...posts.map(p => p.ms)].sort((a, b) => a - b)[25]
      } ms; ${sink.handOvers.length} hand-overs`,
    );
  });

  it('without another sink, a change in Okta reaches the catalog through an immediate sync', async () => {
    const { fake, hookId, baseUrl, logger } = await start({});
    const catalog = catalogApi(baseUrl);
    const team = fake.org.groups().find(g => g.type !== 'BUILT_IN')!;
    const hasTeam = (list: Awaited<ReturnType<typeof catalog.entities>>) =>
      list.some(
        e =>
          e.kind === 'Group' &&
          e.metadata.annotations?.['okta.com/group-id'] === team.id,
      );
    await catalog.waitFor(hasTeam);
    const hooks = fakeChangeFeeds(fake).eventHooks;
    await hooks.verify(hookId);

    const changedAt = Date.now();
    const hire = fake.org.addUser({
      profile: {
        login: 'new.hire@example.com',
        email: 'new.hire@example.com',
        firstName: 'New',
        lastName: 'Hire',
      },
    });
    fake.org.addMember(team.id, hire.id);
    await catalog.waitFor(
      list =>
        list.some(e => e.kind === 'User' && e.metadata.name === 'new.hire'),
      20_000,
    );
    const hireMs = Date.now() - changedAt;

    const deletedAt = Date.now();
    fake.org.removeGroup(team.id);
    await catalog.waitFor(list => !hasTeam(list), 20_000);
    const deleteMs = Date.now() - deletedAt;
    // Both reached the catalog through runs that re-read what the events
    // named (the schedule is 30 minutes).
    const pushed = logger
      .messages('info')
      .filter(m => /\(with \d+ objects pushed events named\)/.test(m));
    expect(pushed.length).toBeGreaterThanOrEqual(2);
    expect(hireMs).toBeLessThan(10_000);
    // eslint-disable-next-line no-console
    console.log(
      `through the provider's run: hire served after ${hireMs} ms, group delete after ${deleteMs} ms`,
    );
  });
});
