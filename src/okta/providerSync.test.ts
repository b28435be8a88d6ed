import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigReader } from '@backstage/config';
import { generateOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { createOktaOrgClient } from './client/createOktaOrgClient';
import type { OktaOrgClient } from './client/types';
import { readOktaProviderConfigs } from './config';
import { defaultUserTransformer } from './defaultTransformers';
import { readProviderEntities } from './providerSync';
import type { OktaProviderConfig, OktaUserTransformer } from './types';

const PAGE = 20;
const CONCURRENCY = 4;

/**
 * A user transformer that stalls every call until released, as a slow
 * custom transformer (one that looks something up) would.
 */
function stallingTransformer() {
  let release!: () => void;
  const gate = new Promise<void>(resolve => {
    release = resolve;
  });
  const state = { started: 0 };
  const transformer: OktaUserTransformer = async (user, context) => {
    state.started++;
    await gate;
    return defaultUserTransformer(user, context);
  };
  return { transformer, release, state };
}

const waitFor = async (condition: () => boolean) => {
  for (let i = 0; !condition(); i++) {
    if (i > 500) throw new Error('condition not met within 5 s');
    await new Promise(resolve => setTimeout(resolve, 10));
  }
};

describe('readProviderEntities: raw Okta data held while mapping', () => {
  let fake: FakeOkta;
  let app: Awaited<ReturnType<typeof addServiceApp>>;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    fake = await startFakeOkta({
      org: generateOrg({
        seed: 23,
        users: 600,
        groups: 12,
        emptyGroupShare: 0,
      }),
    });
    app = await addServiceApp(fake);
  });
  afterAll(() => fake.close());

  // Small pages, so that a read that ran ahead of its mapping would show as
  // many requests. A new client per test: its stats hold peaks.
  function smallPageClient(): OktaOrgClient {
    return createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
      maxConcurrency: CONCURRENCY,
      userPageSize: PAGE,
      groupMemberPageSize: PAGE,
    });
  }

  function provider(selection: Record<string, unknown>): OktaProviderConfig {
    const [config] = readOktaProviderConfigs(
      new ConfigReader({
        catalog: {
          providers: {
            okta: {
              id: 'held',
              ...app.providerConfig,
              requests: { maxConcurrency: CONCURRENCY },
              ...selection,
            },
          },
        },
      }),
    );
    return config;
  }

  it('stops the user listing one page ahead of a stalled mapping, then completes', async () => {
    const stall = stallingTransformer();
    const client = smallPageClient();
    fake.resetStats();
    const reading = readProviderEntities(client, provider({}), {
      logger,
      userTransformer: stall.transformer,
    });
    await waitFor(() => stall.state.started > 0);
    // Time for a read that queued records to page through the directory.
    await new Promise(resolve => setTimeout(resolve, 300));
    // The page being mapped and the next one asked for ahead: no more.
    expect(fake.stats().requests.users).toBeLessThanOrEqual(2);
    expect(stall.state.started).toBe(1);
    // The stalled user page, and at most the group page beside it.
    expect(client.stats().peakPagesHeld).toBeLessThanOrEqual(2);
    expect(client.stats().peakRecordsHeld).toBeLessThanOrEqual(2 * PAGE);

    stall.release();
    const result = await reading;
    const listed = fake.org.users().filter(u => u.status !== 'DEPROVISIONED');
    expect(result.users).toHaveLength(listed.length);
    expect(fake.stats().requests.users).toBe(Math.ceil(listed.length / PAGE));
    // One page per listing at most: the user and group listings and the
    // member listings (twice the concurrency) running beside them.
    expect(client.stats().peakPagesHeld).toBeLessThanOrEqual(
      2 + 2 * CONCURRENCY,
    );
    expect(client.stats().peakRequestsInFlight).toBeLessThanOrEqual(
      CONCURRENCY,
    );
  });

  it('holds at most one page per member listing while the mapping is stalled', async () => {
    const groups = fake.org
      .groups()
      .filter(
        g =>
          g.type === 'OKTA_GROUP' &&
          fake.org.memberIdsOf(g.id).length > 3 * PAGE,
      )
      .slice(0, 3);
    expect(groups).toHaveLength(3);
    const stall = stallingTransformer();
    const client = smallPageClient();
    fake.resetStats();
    const reading = readProviderEntities(
      client,
      provider({ groupNames: groups.map(g => g.profile.name) }),
      { logger, userTransformer: stall.transformer },
    );
    await waitFor(() => stall.state.started === groups.length);
    await new Promise(resolve => setTimeout(resolve, 300));
    // Each listing: the page it is mapping, and the next one asked for.
    expect(fake.stats().requests.groupUsers).toBeLessThanOrEqual(
      2 * groups.length,
    );
    // One user at a time per listing: nothing waits in a queue.
    expect(stall.state.started).toBe(groups.length);
    // The page each member listing is mapping, and at most the group page.
    expect(client.stats().peakPagesHeld).toBeLessThanOrEqual(groups.length + 1);
    expect(client.stats().peakRecordsHeld).toBeLessThanOrEqual(
      (groups.length + 1) * PAGE,
    );

    stall.release();
    const result = await reading;
    const members = new Set(groups.flatMap(g => fake.org.memberIdsOf(g.id)));
    const expected = [...members].filter(
      id => fake.org.getUser(id)!.status !== 'DEPROVISIONED',
    );
    expect(result.users).toHaveLength(expected.length);
    expect(fake.stats().requests.groupUsers).toBe(
      groups.reduce(
        (n, g) => n + Math.ceil(fake.org.memberIdsOf(g.id).length / PAGE),
        0,
      ),
    );
  });
});
