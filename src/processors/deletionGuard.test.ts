/*
 * The deletion guard end to end: a fake Okta org over HTTP, the provider,
 * and the real catalog. A read that succeeds but shows far less than the
 * last applied sync (a narrowed admin role, an empty Okta, a filter typo) is
 * refused and leaves the catalog as it was; a deliberate large change goes
 * through once `deletionGuard.allowLargeRemovals` is set.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(60_000);
import type { SchedulerServiceTaskRunner } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/config';
import { demoOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  type CatalogUnderTest,
  entityKeys,
  type FakeServiceAppAccess,
  providersFromConfig,
  RecordingLogger,
  startCatalog,
} from '../__testUtils__/oktaCatalogHarness';
import { InMemoryOktaAppliedCountsStore } from '../sync/appliedCounts';
import { OktaSyncError, type OktaSyncSummary } from '../sync/syncSummary';
import type {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import type { OktaOrgEntityProvider } from './OktaOrgEntityProvider';

const running: Array<{
  close?: () => Promise<void>;
  stop?: () => Promise<void>;
}> = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) {
    await (thing.stop ?? thing.close)?.call(thing);
  }
});

/** The demo org: 11 users (but the deprovisioned one) and 6 groups (but Everyone). */
const DEMO = { users: 11, groups: 6 };

interface Setup {
  fake: FakeOkta;
  app: FakeServiceAppAccess;
  catalog: CatalogUnderTest;
  /** Shared by every provider built here: the guard's baseline, as a database store would keep it across restarts. */
  appliedCounts: InMemoryOktaAppliedCountsStore;
  summaries: OktaSyncSummary[];
  logger: RecordingLogger;
  /** The provider of the first sync. */
  first: OktaOrgEntityProvider;
  /**
   * A provider for `config` (a config change is a new provider, as after a
   * restart), connected to the catalog under the same provider name.
   */
  provider(
    config?: Record<string, unknown>,
    taskRunner?: SchedulerServiceTaskRunner,
  ): Promise<OktaOrgEntityProvider>;
}

/**
 * Stands in the catalog for every provider of one test under their common
 * name, and hands its connection to each: what a restarted backend with a
 * new config would give the new provider.
 */
class CatalogSeat implements EntityProvider {
  connection?: EntityProviderConnection;
  getProviderName() {
    return 'OktaOrgEntityProvider:default';
  }
  async connect(connection: EntityProviderConnection) {
    this.connection = connection;
  }
}

/** A fake demo org, a catalog, and a first applied sync of the whole org. */
async function setUp(): Promise<Setup> {
  const fake = await startFakeOkta({ org: demoOrg() });
  running.push(fake);
  const app = await addServiceApp(fake);
  const appliedCounts = new InMemoryOktaAppliedCountsStore();
  const summaries: OktaSyncSummary[] = [];
  const logger = new RecordingLogger();
  const seat = new CatalogSeat();
  const catalog = await startCatalog([seat]);
  running.push(catalog);
  const provider: Setup['provider'] = async (config = {}, taskRunner) => {
    const [built] = providersFromConfig(
      { id: 'default', ...app.providerConfig, ...config } as JsonObject,
      logger,
      {
        appliedCounts,
        onSyncSummary: s => summaries.push(s),
        ...(taskRunner && { taskRunner }),
      },
    );
    await built.connect(seat.connection!);
    return built;
  };
  const first = await provider();
  await first.read();
  await catalog.waitFor(list => list.length === DEMO.users + DEMO.groups);
  return {
    fake,
    app,
    catalog,
    appliedCounts,
    summaries,
    logger,
    first,
    provider,
  };
}

async function refusal(read: Promise<unknown>): Promise<OktaSyncError> {
  const error = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OktaSyncError);
  return error as OktaSyncError;
}

/** The catalog after a moment: a refused sync must have changed nothing. */
async function unchanged(catalog: CatalogUnderTest, before: string[]) {
  await new Promise(resolve => setTimeout(resolve, 500));
  expect(entityKeys(await catalog.entities())).toEqual(before);
}

describe('the deletion guard against a fake Okta org and the real catalog', () => {
  it('refuses a sync after the admin role was narrowed to one group, keeps the catalog, and re-checks on the next run', async () => {
    const { fake, app, catalog, first, summaries } = await setUp();
    const before = entityKeys(await catalog.entities());
    // A resource set cut down to Sales: 2 users and 1 group are still visible.
    fake.updateServiceApp(app.clientId, {
      adminRoleScope: { groupIds: [fake.org.findGroupByName('Sales')!.id] },
    });

    const error = await refusal(first.read());
    expect(error.summary).toMatchObject({
      providerId: 'default',
      outcome: 'refused',
      entities: { users: 2, groups: 1 },
      previous: DEMO,
      guard: { decision: 'refuse', reasons: ['usersShare', 'groupsShare'] },
    });
    expect(error.message).toContain(
      'OktaOrgEntityProvider:default refused to apply this sync',
    );
    expect(error.message).toContain(
      'before: 11 users, 6 groups; would remain: 2 users, 1 groups',
    );
    expect(error.message).toContain('admin role was narrowed');
    expect(error.message).toContain('deletionGuard.allowLargeRemovals: true');
    await unchanged(catalog, before);

    // The next run checks again, against the same baseline.
    const again = await refusal(first.read());
    expect(again.summary.guard?.reasons).toEqual(['usersShare', 'groupsShare']);
    expect(summaries.map(s => s.outcome)).toEqual([
      'applied',
      'refused',
      'refused',
    ]);

    // Once the role is restored, the sync applies again.
    fake.updateServiceApp(app.clientId, { adminRoleScope: undefined });
    await expect(first.read()).resolves.toMatchObject({ outcome: 'applied' });
    await unchanged(catalog, before);
  });

  it("refuses a role that cannot see Okta's Everyone group nor most users (a group-admin role over two teams)", async () => {
    const { fake, app, catalog, first } = await setUp();
    const before = entityKeys(await catalog.entities());
    fake.updateServiceApp(app.clientId, {
      adminRoleScope: {
        groupIds: ['Platform Team', 'Frontend Team'].map(
          name => fake.org.findGroupByName(name)!.id,
        ),
      },
    });
    const error = await refusal(first.read());
    expect(error.summary.entities).toMatchObject({ users: 5, groups: 2 });
    expect(error.summary.guard?.reasons).toEqual(['usersShare', 'groupsShare']);
    await unchanged(catalog, before);
  });

  it('refuses an empty Okta (no users, no groups), and counts it as refused, not failed', async () => {
    const { fake, catalog, first } = await setUp();
    const before = entityKeys(await catalog.entities());
    for (const user of fake.org.users()) fake.org.removeUser(user.id);
    for (const group of fake.org.groups()) fake.org.removeGroup(group.id);

    const error = await refusal(first.read());
    expect(error.summary).toMatchObject({
      outcome: 'refused',
      entities: { users: 0, groups: 0, memberships: 0 },
      guard: { decision: 'refuse', reasons: ['empty'] },
    });
    expect(error.summary.failureReason).toBeUndefined();
    expect(error.message).toContain('the read returned no users and no groups');
    await unchanged(catalog, before);
  });

  it('refuses a userSearchFilter typo that matches no user, in one error line of the scheduled task', async () => {
    const { catalog, provider, logger } = await setUp();
    const before = entityKeys(await catalog.entities());
    let task: ((signal: AbortSignal) => void | Promise<void>) | undefined;
    const taskRunner: SchedulerServiceTaskRunner = {
      run: async ({ fn }) => {
        task = fn;
      },
    };
    await provider(
      { userSearchFilter: 'profile.department eq "Enginering"' },
      taskRunner,
    );
    logger.lines.splice(0);
    await task!(new AbortController().signal);

    const errors = logger.lines.filter(line => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain(
      'OktaOrgEntityProvider:default refused to apply this sync: it would remove all 11 users (before: 11 users, 6 groups; would remain: 0 users, 6 groups)',
    );
    expect(errors[0].message).toContain(
      'userSearchFilter, groupSearchFilter or groupNames now select far less',
    );
    expect(errors[0].meta).toMatchObject({
      taskId: 'OktaOrgEntityProvider:default:refresh',
    });
    await unchanged(catalog, before);
  });

  it('lets a deliberate large change through once deletionGuard.allowLargeRemovals is set, then guards from the new baseline', async () => {
    const { catalog, provider, logger, appliedCounts } = await setUp();
    const before = entityKeys(await catalog.entities());
    const narrower = { groupNames: ['Sales'] };

    const refused = await refusal((await provider(narrower)).read());
    expect(refused.summary.guard?.reasons).toEqual([
      'usersShare',
      'groupsShare',
    ]);
    await unchanged(catalog, before);

    const allowed = await (
      await provider({
        ...narrower,
        deletionGuard: { allowLargeRemovals: true },
      })
    ).read();
    expect(allowed).toMatchObject({
      outcome: 'applied',
      entities: { users: 2, groups: 1 },
      previous: DEMO,
      guard: { decision: 'allowed', reasons: ['usersShare', 'groupsShare'] },
    });
    expect(logger.messages('warn').join('\n')).toContain(
      'applies a sync the deletion guard would refuse (before: 11 users, 6 groups; would remain: 2 users, 1 groups) because deletionGuard.allowLargeRemovals is true',
    );
    await catalog.waitFor(list => list.length === 3);
    expect(entityKeys(await catalog.entities())).toEqual([
      'group:sales',
      'user:dave',
      'user:erin',
    ]);
    expect(await appliedCounts.lastApplied()).toEqual({ users: 2, groups: 1 });

    // With the key removed again, the same selection applies: the baseline moved.
    await expect((await provider(narrower)).read()).resolves.toMatchObject({
      outcome: 'applied',
      guard: { decision: 'apply', reasons: [] },
    });
  });
});
