/*
 * Push updates on two backend replicas sharing one PostgreSQL: an event
 * delivered to both (Okta redelivers at least once, a load balancer may
 * pick either replica) is handed over by one of them only, and the System
 * Log, followed as a global task with its cursor in the database, hands
 * each event over once across replicas.
 *
 * Needs OKTA_TEST_POSTGRES_URL (e.g.
 * postgresql://postgres@127.0.0.1:5432/postgres); skipped with a notice
 * without it.
 */
import { changeSinkModule } from '../__testUtils__/oktaChangeEvents';
import { randomBytes } from 'node:crypto';
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { JsonObject } from '@backstage/config';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { knex, type Knex } from 'knex';
import {
  demoOrg,
  fakeChangeFeeds,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  catalogApi,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { OKTA_STATE_TABLES } from '../state/migrations';
import type { OktaChangedIds, OktaChangeSink } from './types';

jest.setTimeout(120_000);

const postgresUrl = process.env.OKTA_TEST_POSTGRES_URL;
if (!postgresUrl) {
  // eslint-disable-next-line no-console
  console.warn(
    'Skipping the push-update multi-replica tests: OKTA_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/postgres).',
  );
}
const describeWithPostgres = postgresUrl ? describe : describe.skip;

const SECRET = 'multi-replica-hook-secret-0123';

class RecordingSink implements OktaChangeSink {
  readonly handOvers: OktaChangedIds[] = [];
  async changed(ids: OktaChangedIds): Promise<void> {
    this.handOvers.push(ids);
  }
}

async function until(
  what: string,
  predicate: () => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/** How often each id was handed over, across sinks. */
function handOverCounts(
  sinks: RecordingSink[],
  pick: (ids: OktaChangedIds) => string[],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sink of sinks) {
    for (const ids of sink.handOvers)
      for (const id of pick(ids)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describeWithPostgres(
  'push updates on several replicas sharing PostgreSQL',
  () => {
    const runId = randomBytes(4).toString('hex');
    let admin: Knex;
    let testNumber = 0;
    const cleanups: Array<() => Promise<void> | void> = [];

    beforeAll(() => {
      admin = knex({
        client: 'pg',
        connection: postgresUrl!,
        pool: { min: 0, max: 2 },
      });
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    afterAll(async () => {
      const { rows } = await admin.raw<{ rows: Array<{ datname: string }> }>(
        'SELECT datname FROM pg_database WHERE datname LIKE ?',
        [`okta_push_${runId}_%`],
      );
      for (const { datname } of rows)
        await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [datname]);
      await admin.destroy();
    });

    async function startFake(): Promise<FakeOkta> {
      const fake = await startFakeOkta({ org: demoOrg() });
      cleanups.push(() => fake.close());
      return fake;
    }

    async function startReplica(
      prefix: string,
      okta: JsonObject,
      sink: RecordingSink,
    ) {
      return (await startReplicaWith(prefix, okta, sink)).url;
    }

    /** A replica; without `sink`, with the module's own (the provider's runs). */
    async function startReplicaWith(
      prefix: string,
      okta: JsonObject,
      sink?: OktaChangeSink,
    ) {
      const logger = new RecordingLogger();
      const backend = await startTestBackend({
        features: [
          catalogPlugin,
          catalogModuleOktaOrgEntityProvider,
          databaseServiceFactory,
          schedulerServiceFactory,
          createServiceFactory({
            service: coreServices.rootLogger,
            deps: {},
            factory: () => logger,
          }),
          ...(sink ? [changeSinkModule(sink)] : []),
          mockServices.rootConfig.factory({
            data: {
              backend: {
                database: {
                  client: 'pg',
                  connection: postgresUrl!,
                  prefix,
                  knexConfig: { pool: { min: 0, max: 5 } },
                },
              },
              catalog: { providers: { okta: { id: 'default', ...okta } } },
            },
          }),
        ],
      });
      let stopped = false;
      const stop = async () => {
        if (!stopped) await backend.stop();
        stopped = true;
      };
      cleanups.push(stop);
      return { url: `http://localhost:${backend.server.port()}`, logger, stop };
    }

    /** A fake org, a database prefix and a provider config with an event hook. */
    async function eventHookSetUp() {
      const prefix = `okta_push_${runId}_${++testNumber}_`;
      const fake = await startFake();
      const app = await addServiceApp(fake);
      const okta = {
        ...app.providerConfig,
        checkSetupOnStart: false,
        schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
        eventHook: { secretHeader: 'X-Okta-Hook-Secret', secret: SECRET },
      };
      return { prefix, fake, okta };
    }

    it('an event delivered to both replicas is handed over by one of them', async () => {
      const { prefix, fake, okta } = await eventHookSetUp();
      const sinks = [new RecordingSink(), new RecordingSink()];
      // One after the other: replicas racing for the catalog's migration lock fail to start.
      const urls = [
        await startReplica(prefix, okta, sinks[0]),
        await startReplica(prefix, okta, sinks[1]),
      ];
      const hooks = fakeChangeFeeds(fake).eventHooks;
      hooks.setDeliveryOptions({ batchWindowMs: 20, maxEventsPerRequest: 25 });
      for (const url of urls) {
        const hook = hooks.create({
          name: url,
          uri: `${url}/api/catalog/okta/event-hooks/default`,
          authScheme: { key: 'X-Okta-Hook-Secret', value: SECRET },
          events: ['group.lifecycle.create'],
        });
        await hooks.verify(String(hook.id));
      }

      const groups = Array.from({ length: 300 }, (_, i) =>
        fake.org.addGroup({ profile: { name: `g${i}` } }),
      );
      await hooks.idle();
      const posts = hooks.requests().filter(r => r.kind === 'events');
      expect(posts).toHaveLength(24);
      expect(posts.every(p => p.outcome === 200)).toBe(true);

      const counts = () => handOverCounts(sinks, ids => ids.groupIds);
      await until(
        'every group handed over',
        () => counts().size === groups.length,
      );
      await new Promise(resolve => setTimeout(resolve, 1500));
      expect([...counts().keys()].sort()).toEqual(groups.map(g => g.id).sort());
      expect([...counts().values()].every(n => n === 1)).toBe(true);
    });

    it('the System Log is followed as one chain across replicas: each event handed over once', async () => {
      const prefix = `okta_push_${runId}_${++testNumber}_`;
      const fake = await startFake();
      const app = await addServiceApp(fake, {
        scopes: ['okta.users.read', 'okta.groups.read', 'okta.logs.read'],
      });
      const okta = {
        ...app.providerConfig,
        checkSetupOnStart: false,
        schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
        systemLog: { pollInterval: { seconds: 2 } },
      };
      const sinks = [new RecordingSink(), new RecordingSink()];
      await startReplica(prefix, okta, sinks[0]);
      await startReplica(prefix, okta, sinks[1]);
      const db = knex({
        client: 'pg',
        connection: `${postgresUrl!.replace(/\/[^/]*$/, '')}/${prefix}catalog`,
        pool: { min: 0, max: 1 },
      });
      cleanups.push(() => db.destroy());
      const deadline = Date.now() + 15_000;
      while (
        (
          await db(OKTA_STATE_TABLES.systemLogCursors).count<
            Array<{ count: string }>
          >('* as count')
        )[0].count === '0'
      ) {
        if (Date.now() > deadline) throw new Error('no cursor stored');
        await new Promise(resolve => setTimeout(resolve, 200));
      }

      const groups: string[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 25; i++)
          groups.push(
            fake.org.addGroup({ profile: { name: `r${round}-${i}` } }).id,
          );
        await new Promise(resolve => setTimeout(resolve, 1500));
      }
      const counts = () => handOverCounts(sinks, ids => ids.groupIds);
      await until(
        'every group handed over',
        () => counts().size === groups.length,
        30_000,
      );
      await new Promise(resolve => setTimeout(resolve, 4000));
      expect([...counts().values()].every(n => n === 1)).toBe(true);
      expect(counts().size).toBe(100);
      // One chain: no page was asked twice except empty pages, which keep their place.
      const logs = fake
        .stats()
        .log.filter(e => e.path.startsWith('/api/v1/logs'));
      expect(logs.every(e => e.status === 200)).toBe(true);
    });

    it('events a replica accepted and never applied are applied by another replica', async () => {
      const { prefix, fake, okta } = await eventHookSetUp();
      const team = fake.org.groups().find(g => g.type !== 'BUILT_IN')!;
      const b = await startReplicaWith(prefix, okta);
      const catalog = catalogApi(b.url);
      await catalog.waitFor(list =>
        list.some(
          e => e.metadata.annotations?.['okta.com/group-id'] === team.id,
        ),
      );
      // A answers Okta, then dies before it applies anything.
      let handOversOnA = 0;
      const a = await startReplicaWith(prefix, okta, {
        async changed() {
          handOversOnA++;
          throw new Error('replica A is going down');
        },
      });
      const hooks = fakeChangeFeeds(fake).eventHooks;
      hooks.setDeliveryOptions({ batchWindowMs: 20 });
      const hook = hooks.create({
        name: 'to A only',
        uri: `${a.url}/api/catalog/okta/event-hooks/default`,
        authScheme: { key: 'X-Okta-Hook-Secret', value: SECRET },
        events: ['user.lifecycle.create', 'group.user_membership.add'],
      });
      await hooks.verify(String(hook.id));
      const hire = fake.org.addUser({
        profile: {
          login: 'orphan.hire@example.com',
          email: 'orphan.hire@example.com',
        },
      });
      fake.org.addMember(team.id, hire.id);
      await hooks.idle();
      expect(
        hooks
          .requests()
          .filter(r => r.kind === 'events')
          .every(r => r.outcome === 200),
      ).toBe(true);
      await until('A to try its hand-over', () => handOversOnA > 0);
      await a.stop();

      // B finds the entries A left in the queue (older than 10 s) and
      // applies them; its schedule (30 minutes) plays no part.
      const acceptedAt = Date.now();
      await catalog.waitFor(
        list => list.some(e => e.metadata.name === 'orphan.hire'),
        40_000,
      );
      expect(
        b.logger
          .messages('info')
          .some(m => /\(with \d+ objects pushed events named\)/.test(m)),
      ).toBe(true);
      // eslint-disable-next-line no-console
      console.log(
        `orphaned events applied by the other replica ${Date.now() - acceptedAt} ms after the accepting one stopped`,
      );
    });
  },
);
