import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ConfigReader, type JsonObject } from '@backstage/config';
import { knex, type Knex } from 'knex';
import {
  generateOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  RecordingLogger,
  type FakeServiceAppAccess,
} from '../__testUtils__/oktaCatalogHarness';
import { applyRandomOktaChanges } from '../__testUtils__/randomOktaChanges';
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

function providerConfig(app: FakeServiceAppAccess, extra: JsonObject): OktaProviderConfig {
  return readOktaProviderConfigs(
    new ConfigReader({
      catalog: { providers: { okta: { ...app.providerConfig, ...extra } } },
    }),
  )[0];
}

const CONFIGS: Record<string, (fake: FakeOkta) => JsonObject> = {
  'all users and groups': () => ({}),
  'userSearchFilter by department, hierarchy': () => ({
    userSearchFilter: 'profile.department eq "Engineering" or profile.department eq "Data"',
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
    userSearchFilter: 'profile.department eq "Engineering" or profile.department eq "Support"',
    userNaming: 'email',
  }),
};

describe('syncProviderEntities: incremental runs equal fresh full reads', () => {
  let fake: FakeOkta;
  let app: FakeServiceAppAccess;
  let db: Knex;
  const logger = new RecordingLogger();

  beforeEach(async () => {
    fake = await startFakeOkta({
      org: generateOrg({ seed: SEED, users: 120, groups: 16, averageGroupsPerUser: 3 }),
      // Many rounds of small pages: far beyond Okta's per-minute limits.
      rateLimits: { limits: { users: 1e6, groups: 1e6, groupById: 1e6, other: 1e6 } },
    });
    app = await addServiceApp(fake);
    db = sqlite();
  });
  afterEach(async () => {
    await fake.close();
    await db.destroy();
  });

  const client = (): OktaOrgClient =>
    createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
      userPageSize: 25,
      groupMemberPageSize: 20,
    });

  for (const [name, extra] of Object.entries(CONFIGS)) {
    it(`${name}: after every round of random changes (seed ${SEED})`, async () => {
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
      for (let round = 1; round <= ROUNDS; round++) {
        history.push(
          `round ${round}: ${applyRandomOktaChanges(
            fake.org,
            random,
            1 + Math.floor(random() * 8),
            LATE_GROUPS,
          ).join('; ')}`,
        );
        const synced = await syncProviderEntities(incremental, provider, {
          logger,
          state,
          changeOverlapMs: OVERLAP_MS,
        });
        const fullClient = client();
        const full = await readProviderEntities(fullClient, provider, { logger });
        try {
          expect(synced.sync.kind).toBe('incremental');
          expect(synced.users).toEqual(full.users);
          expect(synced.groups).toEqual(full.groups);
          expect(synced.memberships).toBe(full.memberships);
          expect(synced.unmatchedGroupNames).toEqual(full.unmatchedGroupNames);
        } catch (error) {
          throw new Error(
            `Seed ${SEED} (OKTA_SYNC_SEED), config "${name}", round ${round}: the incremental result differs from a full read.\n${history.join('\n')}\n${(error as Error).message}`,
          );
        }
      }
    });
  }
});
