/*
 * The provider's re-read requests (what pushed events name): the next run
 * lists the named groups' members and looks the named users up, whatever
 * Okta's change markers say, and a failed run keeps the request.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigReader } from '@backstage/config';
import Knex, { type Knex as KnexType } from 'knex';
import { demoOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { readOktaProviderConfigs } from '../okta/config';
import { OktaSyncStateStore } from '../state/OktaSyncStateStore';
import { OktaOrgEntityProvider } from './OktaOrgEntityProvider';

describe('OktaOrgEntityProvider.requestReread', () => {
  let fake: FakeOkta;
  let db: KnexType;
  let provider: OktaOrgEntityProvider;

  beforeEach(async () => {
    fake = await startFakeOkta({ org: demoOrg() });
    const app = await addServiceApp(fake);
    db = Knex({
      client: 'better-sqlite3',
      connection: ':memory:',
      useNullAsDefault: true,
    });
    const [config] = readOktaProviderConfigs(
      new ConfigReader({
        catalog: { providers: { okta: app.providerConfig } },
      }),
    );
    provider = new OktaOrgEntityProvider({
      provider: config,
      logger: new RecordingLogger(),
      stateStore: await OktaSyncStateStore.create(db),
    });
    await provider.connect({
      applyMutation: async () => {},
      refresh: async () => {},
    });
    const first = await provider.read();
    if (first.read?.kind !== 'full') {
      throw new Error(
        `the first run should be a full read, was ${first.read?.kind}`,
      );
    }
  });
  afterEach(async () => {
    await fake.close();
    await db.destroy();
  });

  const someGroup = () =>
    fake.org
      .groups()
      .find(
        g => g.type !== 'BUILT_IN' && fake.org.memberIdsOf(g.id).length > 0,
      )!;

  it('lists the named groups on the next run though their markers did not change', async () => {
    const quiet = await provider.read();
    expect(quiet.read).toMatchObject({
      kind: 'incremental',
      memberListings: 0,
    });

    const group = someGroup();
    provider.requestReread({ groupIds: [group.id] });
    fake.resetStats();
    const asked = await provider.read();
    expect(asked.read).toMatchObject({
      kind: 'incremental',
      memberListings: 1,
    });
    expect(
      fake
        .stats()
        .log.map(e => e.path)
        .filter(p => p.includes('/users') && p.startsWith('/api/v1/groups/')),
    ).toEqual([expect.stringContaining(`/api/v1/groups/${group.id}/users`)]);

    // The request is used up.
    expect((await provider.read()).read?.memberListings).toBe(0);
  });

  it('keeps the request when the run fails, for the run after', async () => {
    const group = someGroup();
    provider.requestReread({ groupIds: [group.id] });
    // A run stopped before it read anything (the schedule's timeout).
    await expect(
      provider.read({ signal: AbortSignal.abort() }),
    ).rejects.toThrow();
    expect((await provider.read()).read?.memberListings).toBe(1);
  });
});
