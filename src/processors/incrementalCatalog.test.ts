/*
 * The incremental sync end to end: a fake Okta org over HTTP, the provider
 * keeping its state in a database, the real catalog. After every round of
 * random changes and one incremental run, the catalog must hold exactly the
 * entities a fresh full read of the same fake gives.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { isDeepStrictEqual } from 'node:util';
import { knex, type Knex } from 'knex';
import { generateOrg, startFakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  catalogApi,
  comparableEntities,
  RecordingLogger,
  startCatalog,
} from '../__testUtils__/oktaCatalogHarness';
import {
  applyRandomOktaChanges,
  deleteGroupWhenListed,
} from '../__testUtils__/randomOktaChanges';
import { seededRandom } from '../__testUtils__/seededRandom';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { createOktaOrgClient } from '../okta/client/createOktaOrgClient';
import { readOktaProviderConfigs } from '../okta/config';
import { readProviderEntities } from '../okta/providerSync';
import { OKTA_STATE_TABLES } from '../state/migrations';
import { OktaSyncStateStore } from '../state/OktaSyncStateStore';
import { ConfigReader } from '@backstage/config';
import { OktaOrgEntityProvider } from './OktaOrgEntityProvider';

jest.setTimeout(180_000);
const CONVERGE_MS = Number(process.env.OKTA_SYNC_CONVERGE_MS ?? 60_000);

const SEED = Number(process.env.OKTA_SYNC_SEED ?? 20261202);
const ROUNDS = Number(process.env.OKTA_SYNC_CATALOG_ROUNDS ?? 6);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/** The catalog's Okta entities as the provider emitted them. */
function oktaEntities(entities: Entity[]): unknown[] {
  // Through JSON: the catalog's objects need not be plain objects.
  return JSON.parse(
    JSON.stringify(
      comparableEntities(
        entities.filter(e => e.kind === 'User' || e.kind === 'Group'),
      ),
    ),
  );
}

describe('incremental sync into the real catalog', () => {
  it(`ends every run equal to a fresh full read (seed ${SEED})`, async () => {
    // Okta's search results lag its changes (the fake's searchLagMs): each
    // run starts once they have settled, so it and the fresh full read see
    // the same Okta state (incrementalSync.test.ts shows a run inside the lag).
    const searchLagMs = 30;
    const fake = await startFakeOkta({
      org: generateOrg({
        seed: SEED,
        users: 60,
        groups: 10,
        averageGroupsPerUser: 3,
      }),
      searchLagMs,
    });
    cleanups.push(() => fake.close());
    const app = await addServiceApp(fake);
    const db: Knex = knex({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    });
    cleanups.push(() => db.destroy());
    const stateStore = await OktaSyncStateStore.create(db);
    const logger = new RecordingLogger();
    const okta = {
      ...app.providerConfig,
      hierarchy: { parentAttribute: 'parentGroup' },
    };
    const [config] = readOktaProviderConfigs(
      new ConfigReader({ catalog: { providers: { okta } } }),
    );
    const provider = new OktaOrgEntityProvider({
      provider: config,
      logger,
      stateStore,
      changeOverlapMs: 1500,
    });
    const catalog = await startCatalog([provider]);
    cleanups.push(() => catalog.stop());
    const random = seededRandom(SEED);
    const history: string[] = [];

    for (let round = 0; round <= ROUNDS; round++) {
      if (round > 0) {
        history.push(
          `round ${round}: ${applyRandomOktaChanges(fake.org, random, 1 + Math.floor(random() * 6)).join('; ')}`,
        );
      }
      await new Promise(resolve => setTimeout(resolve, searchLagMs + 20));
      // Now and then a group is deleted while the run lists members: the
      // run still applies, and the catalog drops the group.
      const deletion =
        round > 0 && random() < 0.5
          ? deleteGroupWhenListed(fake, 1 + Math.floor(random() * 2))
          : undefined;
      await provider.read();
      const deleted = deletion?.();
      if (deleted) history.push(`round ${round}: ${deleted}`);
      const full = await readProviderEntities(
        createOktaOrgClient({ orgUrl: fake.url, auth: app.auth, logger }),
        config,
        { logger },
      );
      // As the catalog serves them: JSON, so without undefined fields.
      const expected = JSON.parse(
        JSON.stringify(
          comparableEntities(
            [...full.users, ...full.groups].map(entity => ({
              ...entity,
              metadata: { namespace: 'default', ...entity.metadata },
            })),
          ),
        ),
      );
      try {
        await catalog.waitFor(
          list => isDeepStrictEqual(oktaEntities(list), expected),
          CONVERGE_MS,
        );
      } catch (error) {
        const actual = oktaEntities(await catalog.entities()) as Entity[];
        const first = actual.findIndex(
          (entity, i) => !isDeepStrictEqual(entity, (expected as Entity[])[i]),
        );
        throw new Error(
          `Seed ${SEED} (OKTA_SYNC_SEED), round ${round}: the catalog differs from a fresh full read ` +
            `(${actual.length} entities, expected ${expected.length}; first difference at ${first}: ` +
            `${JSON.stringify(actual[first])} vs ${JSON.stringify(expected[first])})\n${history.join('\n')}\n${
              (error as Error).message
            }`,
        );
      }
    }
    // Every run applied, those with a group deleted mid-run too.
    expect(history.some(line => line.includes('as its member page'))).toBe(
      true,
    );
    expect(
      logger.messages('info').filter(m => m.startsWith('Incremental read')),
    ).toHaveLength(ROUNDS);
    expect(await provider.lastApplied()).toEqual({
      users: expect.any(Number),
      groups: expect.any(Number),
      at: expect.any(Number),
    });
  });

  it("keeps its state in the catalog plugin's own database, in tables of its own", async () => {
    const fake = await startFakeOkta({
      org: generateOrg({ seed: 3, users: 30, groups: 5 }),
    });
    cleanups.push(() => fake.close());
    const app = await addServiceApp(fake);
    let catalogDb: Knex | undefined;
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              providers: {
                okta: {
                  ...app.providerConfig,
                  checkSetupOnStart: false,
                  schedule: {
                    frequency: { seconds: 1 },
                    timeout: { seconds: 30 },
                  },
                },
              },
            },
          },
        }),
        createBackendModule({
          pluginId: 'catalog',
          moduleId: 'database-probe',
          register(env) {
            env.registerInit({
              deps: { database: coreServices.database },
              async init({ database }) {
                catalogDb = await database.getClient();
              },
            });
          },
        }),
      ],
    });
    cleanups.push(() => backend.stop());
    const catalog = catalogApi(`http://localhost:${backend.server.port()}`);
    await catalog.waitFor(list => list.some(e => e.kind === 'User'));
    const db = catalogDb!;
    // Applied counts are recorded after the commit: wait for them.
    for (let i = 0; i < 100; i++) {
      const row = await db(OKTA_STATE_TABLES.providers)
        .where({ provider_id: 'default' })
        .first();
      if (
        row?.last_applied_users !== null &&
        row?.last_applied_users !== undefined
      )
        break;
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    const row = await db(OKTA_STATE_TABLES.providers)
      .where({ provider_id: 'default' })
      .first();
    const applied = Number(row.last_applied_users);
    const list = await catalog.waitFor(
      entities => entities.filter(e => e.kind === 'User').length === applied,
    );
    const users = list.filter(e => e.kind === 'User').length;
    expect(users).toBeGreaterThan(10);
    expect(Number(row.last_full_read_at)).toBeGreaterThan(0);
    const [{ count }] = await db(OKTA_STATE_TABLES.users).count({ count: '*' });
    expect(Number(count)).toBeGreaterThanOrEqual(users);
    // The catalog's own tables and migrations are still its own.
    expect(await db.schema.hasTable('final_entities')).toBe(true);
    expect(await db.schema.hasTable('okta_org__knex_migrations')).toBe(true);
    const catalogMigrations = await db('knex_migrations').select('name');
    expect(catalogMigrations.map(m => m.name)).not.toContain(
      '20261201000000_init',
    );
    expect(catalogMigrations.length).toBeGreaterThan(0);
  });
});
