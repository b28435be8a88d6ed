/*
 * Several backend replicas on one real PostgreSQL: the catalog and the
 * scheduler's task table are shared, so the provider's `global` task must run
 * on one replica at a time, and a replica that dies mid-sync must leave the
 * catalog at its last complete state until another replica takes over.
 *
 * Needs OKTA_TEST_POSTGRES_URL (an admin connection, e.g.
 * postgresql://postgres@127.0.0.1:5432/postgres); skipped with a notice
 * without it or when that server does not answer.
 */
import { execFileSync } from 'node:child_process';
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
  type LoggerService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { JsonObject } from '@backstage/config';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { knex, type Knex } from 'knex';
import {
  demoOrg,
  startFakeOkta,
  type FakeOkta,
  type FakeOktaOptions,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  entityKeys,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from './catalogModuleOktaOrgEntityProvider';

const POSTGRES_URL_VARIABLE = 'OKTA_TEST_POSTGRES_URL';
const TASK_ID = 'OktaOrgEntityProvider:default:refresh';
const TASKS_TABLE = 'backstage_backend_tasks__tasks';
// Short enough to see several windows (and a lock expiry) within the test.
const SCHEDULE = { frequency: { seconds: 3 }, timeout: { seconds: 10 } };

jest.setTimeout(60_000);

/**
 * Whether PostgreSQL answers at `url`, asked synchronously (in a child
 * process, 2 s connect timeout) so that the suite can be skipped visibly.
 */
function postgresAnswers(url: string): boolean {
  const probe = `const { Client } = require('pg');
const client = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
client.connect().then(() => client.end()).then(() => process.exit(0), () => process.exit(1));`;
  try {
    execFileSync(process.execPath, ['-e', probe, url], {
      cwd: __dirname,
      timeout: 5000,
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

const postgresUrl = process.env[POSTGRES_URL_VARIABLE];
function reasonToSkip(): string | undefined {
  if (!postgresUrl) {
    return `${POSTGRES_URL_VARIABLE} is not set`;
  }
  if (!postgresAnswers(postgresUrl)) {
    return `PostgreSQL at ${POSTGRES_URL_VARIABLE} does not answer`;
  }
  return undefined;
}
const skipReason = reasonToSkip();
if (skipReason) {
  // eslint-disable-next-line no-console
  console.warn(
    `Skipping the multi-replica tests: ${skipReason}. Set ${POSTGRES_URL_VARIABLE}=postgresql://postgres@127.0.0.1:5432/postgres (a PostgreSQL admin connection) to run them.`,
  );
}
const describeWithPostgres = skipReason ? describe.skip : describe;

/** Log lines of one replica, each stamped with the time it was written. */
class StampedLogger implements LoggerService {
  constructor(readonly recording = new RecordingLogger()) {}

  private static stamp(
    meta?: Error | Record<string, unknown>,
  ): Record<string, unknown> {
    const at = Date.now();
    return meta instanceof Error
      ? { error: `${meta.name}: ${meta.message}`, at }
      : { ...meta, at };
  }

  error(message: string, meta?: Error | Record<string, unknown>) {
    this.recording.error(message, StampedLogger.stamp(meta));
  }
  warn(message: string, meta?: Error | Record<string, unknown>) {
    this.recording.warn(message, StampedLogger.stamp(meta));
  }
  info(message: string, meta?: Error | Record<string, unknown>) {
    this.recording.info(message, StampedLogger.stamp(meta));
  }
  debug(message: string, meta?: Error | Record<string, unknown>) {
    this.recording.debug(message, StampedLogger.stamp(meta));
  }
  child(meta: Record<string, unknown>): LoggerService {
    return new StampedLogger(this.recording.child(meta) as RecordingLogger);
  }
}

/** One run of the provider's task, as the replica that ran it logged it. */
interface SyncRun {
  replica: string;
  taskInstanceId: string;
  startedAt: number;
  /** When it committed or failed; undefined while (or if forever) in flight. */
  endedAt?: number;
  outcome: 'committed' | 'failed' | 'unfinished';
}

interface Replica {
  name: string;
  baseUrl: string;
  logger: StampedLogger;
  stop(): Promise<void>;
}

function syncRuns(replica: Replica): SyncRun[] {
  const byInstance = new Map<unknown, SyncRun>();
  for (const line of replica.logger.recording.lines) {
    const id = line.meta.taskInstanceId;
    const message = String(line.message);
    if (id === undefined) {
      continue;
    }
    const at = Number(line.meta.at);
    if (message.startsWith('Reading Okta users and groups')) {
      byInstance.set(id, {
        replica: replica.name,
        taskInstanceId: String(id),
        startedAt: at,
        outcome: 'unfinished',
      });
    }
    const run = byInstance.get(id);
    if (run && message.startsWith('Committed ')) {
      Object.assign(run, { endedAt: at, outcome: 'committed' });
    } else if (run && message.includes('sync failed')) {
      Object.assign(run, { endedAt: at, outcome: 'failed' });
    }
  }
  return [...byInstance.values()];
}

async function catalogEntities(baseUrl: string): Promise<Entity[]> {
  const response = await fetch(
    `${baseUrl}/api/catalog/entities/by-query?limit=1000`,
  );
  if (!response.ok) {
    throw new Error(`catalog answered ${response.status}`);
  }
  return ((await response.json()) as { items: Entity[] }).items;
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

function urlOfDatabase(database: string): string {
  const url = new URL(postgresUrl!);
  url.pathname = `/${database}`;
  return url.toString();
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describeWithPostgres(
  'OktaOrgEntityProvider on several replicas sharing PostgreSQL',
  () => {
    // Every run gets its own databases (`<prefix>catalog`), dropped afterwards.
    const runId = randomBytes(4).toString('hex');
    let admin: Knex;
    let testNumber = 0;
    let prefix = '';
    const cleanups: Array<() => Promise<void>> = [];

    beforeAll(() => {
      admin = knex({
        client: 'pg',
        connection: postgresUrl!,
        pool: { min: 0, max: 2 },
      });
    });

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) {
        await cleanup();
      }
    });

    afterAll(async () => {
      const { rows } = await admin.raw<{ rows: Array<{ datname: string }> }>(
        `SELECT datname FROM pg_database WHERE datname LIKE ?`,
        [`okta_test_${runId}_%`],
      );
      for (const { datname } of rows) {
        await admin.raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [datname]);
      }
      await admin.destroy();
    });

    function newPrefix(): void {
      prefix = `okta_test_${runId}_${++testNumber}_`;
    }

    /** A connection to the catalog's database of the current test. */
    function catalogDatabase(): Knex {
      const db = knex({
        client: 'pg',
        // (pg lets a connection string's database win over `database`.)
        connection: urlOfDatabase(`${prefix}catalog`),
        pool: { min: 0, max: 1 },
      });
      cleanups.push(() => db.destroy());
      return db;
    }

    async function startFake(
      options: Omit<FakeOktaOptions, 'org'> = {},
    ): Promise<FakeOkta> {
      const fake = await startFakeOkta({ org: demoOrg(), ...options });
      cleanups.push(() => fake.close());
      return fake;
    }

    /**
     * One backend replica: the real catalog plugin, this module, and the real
     * database and scheduler services (instead of the test backend's mocks) on
     * the shared PostgreSQL. `janitor` lets the scheduler start its janitor,
     * which Backstage skips when NODE_ENV is `test`; it is what frees the lock
     * of a task whose replica died.
     */
    async function startReplica(
      name: string,
      okta: JsonObject,
      options: { janitor?: boolean } = {},
    ): Promise<Replica> {
      const logger = new StampedLogger();
      const nodeEnv = process.env.NODE_ENV;
      if (options.janitor) {
        // Read once, when the scheduler first touches the database at startup.
        process.env.NODE_ENV = 'development';
      }
      let backend;
      try {
        backend = await startTestBackend({
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
      } finally {
        process.env.NODE_ENV = nodeEnv;
      }
      let stopped = false;
      const stop = async () => {
        if (!stopped) {
          stopped = true;
          await backend.stop();
        }
      };
      cleanups.push(stop);
      return {
        name,
        baseUrl: `http://localhost:${backend.server.port()}`,
        logger,
        stop,
      };
    }

    it('runs each window of the sync on exactly one replica, and both serve the whole org', async () => {
      newPrefix();
      // Slow enough that a run spans a noticeable time; overlaps would show.
      const fake = await startFake({ latency: { fixedMs: 80 } });
      const app = await addServiceApp(fake);
      const okta = { ...app.providerConfig, schedule: SCHEDULE };

      // One after the other: replicas starting together on a fresh database
      // race for the catalog's migration lock, and the loser fails to start.
      const a = await startReplica('A', okta);
      const b = await startReplica('B', okta);

      // 11 users and 6 groups (the BUILT_IN Everyone group is left out).
      const expectFullOrg = async (replica: Replica) => {
        const entities = await waitUntil('the whole demo org', async () => {
          const list = await catalogEntities(replica.baseUrl);
          return list.length === 17 && list;
        });
        expect(entities.filter(e => e.kind === 'User')).toHaveLength(11);
        expect(entities.filter(e => e.kind === 'Group')).toHaveLength(6);
        return entityKeys(entities);
      };
      const keysFromA = await expectFullOrg(a);
      expect(await expectFullOrg(b)).toEqual(keysFromA);

      // Observe several 3 s windows, then let the run in flight finish.
      await sleep(13_000);
      await waitUntil('the last run to finish', async () =>
        [a, b].every(r =>
          syncRuns(r).every(run => run.outcome !== 'unfinished'),
        ),
      );
      const stats = fake.stats();
      await Promise.all([a.stop(), b.stop()]);

      const runs = [...syncRuns(a), ...syncRuns(b)].sort(
        (x, y) => x.startedAt - y.startedAt,
      );
      // eslint-disable-next-line no-console
      console.log(
        `multi-replica: ${runs.length} runs: ${runs
          .map(
            r =>
              `${r.replica}@+${r.startedAt - runs[0].startedAt}ms/${
                r.endedAt! - r.startedAt
              }ms`,
          )
          .join(
            ', ',
          )}; fake requests ${JSON.stringify(stats.requests)}, tokens ${
          stats.tokensIssued
        }`,
      );
      expect(runs.length).toBeGreaterThanOrEqual(4);
      expect(runs.every(r => r.outcome === 'committed')).toBe(true);
      for (let i = 1; i < runs.length; i++) {
        // Never two runs at once, on one replica or across both...
        expect(runs[i].startedAt).toBeGreaterThanOrEqual(runs[i - 1].endedAt!);
        // ...and one run per window: the replica that loses the claim does
        // not start another run right after the winner released the task.
        expect(runs[i].startedAt - runs[i - 1].startedAt).toBeGreaterThan(
          2_500,
        );
      }
      // The fake saw exactly one read of the whole org per logged run (the
      // set-up check each replica runs at start asks for one user and group).
      const fullListings = (endpoint: string) =>
        stats.log
          .filter(
            entry =>
              entry.endpoint === endpoint &&
              !/[?&]limit=1(&|$)/.test(entry.path),
          )
          .map(entry => entry.startedAt)
          .sort((x, y) => x - y);
      const userListings = fullListings('users');
      expect(userListings).toHaveLength(runs.length);
      expect(fullListings('groups')).toHaveLength(runs.length);
      // Seen from Okta's side too: reads of the org come a window apart (less
      // the first run's token request, which delays only its own listing).
      for (let i = 1; i < userListings.length; i++) {
        expect(userListings[i] - userListings[i - 1]).toBeGreaterThan(1_500);
      }
    });

    it('keeps the last complete state when a replica dies mid-sync, and another replica takes over after the task timeout', async () => {
      newPrefix();
      const fake = await startFake();
      const app = await addServiceApp(fake);
      const okta = { ...app.providerConfig, schedule: SCHEDULE };
      const a = await startReplica('A', okta);

      const oldKeys = entityKeys(
        await waitUntil('the first complete sync', async () => {
          const list = await catalogEntities(a.baseUrl);
          return list.length === 17 && list;
        }),
      );

      // Between runs (none has started reading), change the org in both
      // directions and slow every request down, member listings most.
      await waitUntil('A to be between runs', async () =>
        syncRuns(a).every(run => run.outcome !== 'unfinished'),
      );
      const org = fake.org;
      org.removeUser(org.findUser('carol@acme.example')!.id);
      const support = org.addGroup({ profile: { name: 'Support' } });
      const newcomer = org.addUser({
        profile: {
          login: 'newcomer@acme.example',
          email: 'newcomer@acme.example',
          firstName: 'Nora',
          lastName: 'Newcomer',
        },
      });
      org.addMember(support.id, newcomer.id);
      // The first matching rule wins.
      fake.setFaults([
        { endpoint: 'groupUsers', kind: 'latency', rate: 1, delayMs: 2_000 },
        { kind: 'latency', rate: 1, delayMs: 300 },
      ]);
      fake.resetStats();

      // A's next run is mid-read once users and groups are read and the
      // member listings have been asked for.
      await waitUntil(
        'a run in flight on A',
        async () => {
          const stats = fake.stats();
          return (
            stats.log.some(entry => entry.endpoint === 'groups') &&
            (stats.requests.groupUsers ?? 0) > 0
          );
        },
        15_000,
      );

      // The "crash": A's database connections vanish and it cannot open new
      // ones, as if its process had been killed. Its in-process remains are
      // then stopped, but the database stays closed to them until the lock
      // has expired: stop() returns while the aborted run still unwinds, and
      // given a connection it would release the task, which a crash never does.
      const database = `${prefix}catalog`;
      await admin.raw('ALTER DATABASE ?? WITH ALLOW_CONNECTIONS false', [
        database,
      ]);
      await admin.raw(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()',
        [database],
      );
      const killedAt = Date.now();
      await a.stop();
      const stoppedInMs = Date.now() - killedAt;
      const runsOnA = syncRuns(a);
      expect(runsOnA.map(r => r.outcome)).toEqual(['committed', 'failed']);
      // The task was claimed just before the run logged its start.
      await sleep(runsOnA[1].startedAt + 10_000 + 500 - Date.now());
      await admin.raw('ALTER DATABASE ?? WITH ALLOW_CONNECTIONS true', [
        database,
      ]);

      // The dead run never got as far as committing.
      expect(
        a.logger.recording.lines
          .filter(
            line => line.meta.taskInstanceId === runsOnA[1].taskInstanceId,
          )
          .map(line => String(line.message)),
      ).not.toContainEqual(expect.stringMatching(/Committing/));

      // The lock is still held by the dead run, now past its expiry, and the
      // catalog still serves the state of the last complete run.
      const db = catalogDatabase();
      const [lock] = await db(TASKS_TABLE)
        .where('id', TASK_ID)
        .select(
          'current_run_ticket',
          db.raw('current_run_expires_at < now() AS expired'),
        );
      expect(lock).toEqual({
        current_run_ticket: expect.any(String),
        expired: true,
      });
      const served = await db('final_entities')
        .whereNotNull('final_entity')
        .select('final_entity');
      expect(
        entityKeys(served.map(row => JSON.parse(row.final_entity) as Entity)),
      ).toEqual(oldKeys);

      // B's janitor frees the expired lock at startup (and then once a
      // minute); B takes the overdue run at its next poll.
      const b = await startReplica('B', okta, { janitor: true });
      const newEntities = await waitUntil('the new org state', async () => {
        const list = await catalogEntities(b.baseUrl);
        const keys = entityKeys(list);
        const changed =
          keys.includes('user:newcomer') &&
          keys.includes('group:support') &&
          !keys.includes('user:carol');
        return changed && list;
      });
      expect(entityKeys(newEntities)).toEqual(
        [
          ...oldKeys.filter(key => key !== 'user:carol'),
          'group:support',
          'user:newcomer',
        ].sort(),
      );
      expect(b.logger.recording.messages('warn')).toContain(
        `Task timed out and was lost: ${TASK_ID}`,
      );
      const runsOnB = syncRuns(b);
      expect(runsOnB[0].outcome).toBe('committed');
      // B continued from the state A stored: only what changed was read.
      expect(
        b.logger.recording
          .messages('info')
          .find(m => /^(Full|Incremental) read/.test(m)),
      ).toMatch(/^Incremental read/);
      // eslint-disable-next-line no-console
      console.log(
        `multi-replica: A killed ${
          killedAt - runsOnA[1].startedAt
        } ms into its run (stopped in ${stoppedInMs} ms); B started its run ${
          runsOnB[0].startedAt - killedAt
        } ms after the kill and committed in ${
          runsOnB[0].endedAt! - runsOnB[0].startedAt
        } ms`,
      );
    });

    it('continues from the shared sync state on whichever replica runs next', async () => {
      newPrefix();
      const fake = await startFake();
      const app = await addServiceApp(fake);
      const okta = {
        ...app.providerConfig,
        checkSetupOnStart: false,
        schedule: SCHEDULE,
      };
      const a = await startReplica('A', okta);
      await waitUntil('the first complete sync on A', async () => {
        const list = await catalogEntities(a.baseUrl);
        return list.length === 17 && list;
      });
      await waitUntil('A to be between runs', async () =>
        syncRuns(a).every(run => run.outcome !== 'unfinished'),
      );
      await a.stop();
      expect(a.logger.recording.messages('info')).toContainEqual(
        expect.stringMatching(/^Full read: Read 11 users/),
      );

      // The state is in the shared database, in the module's own tables.
      const db = catalogDatabase();
      const [state] = await db('okta_org_sync_providers').where({
        provider_id: 'default',
      });
      expect(Number(state.last_full_read_at)).toBeGreaterThan(0);
      expect(Number(state.last_applied_users)).toBe(11);

      // One group's members change while no replica runs.
      const org = fake.org;
      const group = org
        .groups()
        .find(g => g.type !== 'BUILT_IN' && org.memberIdsOf(g.id).length > 0)!;
      const joiner = org
        .users()
        .find(u => !org.memberIdsOf(group.id).includes(u.id))!;
      org.addMember(group.id, joiner.id);
      fake.resetStats();

      const b = await startReplica('B', okta);
      await waitUntil('B to commit a run', async () =>
        syncRuns(b).some(run => run.outcome === 'committed'),
      );
      const firstOnB = b.logger.recording
        .messages('info')
        .find(m => /^(Full|Incremental) read/.test(m));
      // B does not start over: it reads only the group whose members changed.
      expect(firstOnB).toMatch(
        /^Incremental read \(1 member listings, 0 changed users\)/,
      );
      const memberListings = fake
        .stats()
        .log.filter(entry => entry.endpoint === 'groupUsers')
        .map(entry => entry.path.split('?')[0]);
      expect(new Set(memberListings)).toEqual(
        new Set([`/api/v1/groups/${group.id}/users`]),
      );
      const entities = await catalogEntities(b.baseUrl);
      const groupEntity = entities.find(
        e =>
          e.kind === 'Group' &&
          e.metadata.annotations?.['okta.com/group-id'] === group.id,
      )!;
      await waitUntil('the new membership in the catalog', async () => {
        const list = await catalogEntities(b.baseUrl);
        const current = list.find(
          e => e.metadata.name === groupEntity.metadata.name,
        );
        const members = (current?.spec?.members ?? []) as string[];
        return members.length === org.memberIdsOf(group.id).length && list;
      });
    });

    it('finishes on another replica a full read that failed partway, without reading again what was read', async () => {
      newPrefix();
      const fake = await startFake();
      const app = await addServiceApp(fake);
      const okta = {
        ...app.providerConfig,
        checkSetupOnStart: false,
        schedule: SCHEDULE,
        // One member listing after another, no retries: a fault ends the run.
        requests: { maxConcurrency: 1, maxRetries: 0 },
      };
      // The third member listing onwards fails (a fault past its retries).
      fake.setFaults([
        {
          endpoint: 'groupUsers',
          kind: 'status5xx',
          status: 503,
          requestNumbers: Array.from({ length: 50 }, (_, i) => i + 3),
        },
      ]);
      const a = await startReplica('A', okta);
      await waitUntil('a failed run on A', async () =>
        syncRuns(a).some(run => run.outcome === 'failed'),
      );
      await a.stop();
      expect(syncRuns(a).some(run => run.outcome === 'committed')).toBe(false);

      // Nothing of the partial read reached the catalog.
      const db = catalogDatabase();
      const served = await db('final_entities')
        .whereNotNull('final_entity')
        .select('final_entity');
      expect(
        entityKeys(served.map(row => JSON.parse(row.final_entity) as Entity)),
      ).toEqual([]);
      const read = (await db('okta_org_sync_groups').select('group_id')).map(
        row => row.group_id as string,
      );
      const nonEmpty = fake.org
        .groups()
        .filter(
          g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length > 0,
        )
        .map(g => g.id);
      const readNonEmpty = nonEmpty.filter(id => read.includes(id));
      expect(readNonEmpty.length).toBeGreaterThan(0);
      expect(readNonEmpty.length).toBeLessThan(nonEmpty.length);

      fake.setFaults([]);
      fake.resetStats();
      const b = await startReplica('B', okta);
      await waitUntil('B to commit a run', async () =>
        syncRuns(b).some(run => run.outcome === 'committed'),
      );
      expect(
        b.logger.recording
          .messages('info')
          .find(m => /^(Full|Incremental) read/.test(m)),
      ).toMatch(
        /^Full read \(continuing one an earlier run started\): Read 11 users, 6 groups/,
      );
      const listedOnB = fake
        .stats()
        .log.filter(entry => entry.endpoint === 'groupUsers')
        .map(entry => entry.path.split('/')[4]);
      expect(listedOnB.filter(id => readNonEmpty.includes(id))).toEqual([]);
      expect(new Set(listedOnB)).toEqual(
        new Set(nonEmpty.filter(id => !readNonEmpty.includes(id))),
      );
      const entities = await waitUntil('the whole demo org on B', async () => {
        const list = await catalogEntities(b.baseUrl);
        return list.length === 17 && list;
      });
      expect(entities).toHaveLength(17);
    });
  },
);
