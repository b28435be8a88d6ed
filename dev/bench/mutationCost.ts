/*
 * The catalog's own cost of committing a run in which little changed: a full
 * mutation of the whole selection (what the provider sends) against a delta
 * mutation of only the changed entities, on the real catalog backend (SQLite
 * in memory, as in the dev backend).
 *
 *   node -r @backstage/cli/config/nodeTransform.cjs dev/bench/mutationCost.ts \
 *     [--users 5000] [--groups 500] [--share 0.01] [--wait true]
 *
 * Applies the org once and (with --wait, the default) waits until the catalog
 * has processed it; then changes `share` of the entities and times (1) a full
 * mutation of everything and (2) a delta mutation of another such change,
 * each until the catalog serves the changed entities. With --wait false
 * (for big orgs, whose first processing takes many minutes) only the
 * applyMutation calls are timed, while the catalog is still processing.
 */
import type {
  DeferredEntity,
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import type { Entity } from '@backstage/catalog-model';
import { parseFlagArgs } from '../fakeOkta/cliArgs';
import { generateOrg } from '../fakeOkta/generateOrg';
import { buildOrgEntities } from '../../src/okta/org';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from '../../src/okta/defaultTransformers';
import { startCatalog } from '../../src/__testUtils__/oktaCatalogHarness';
import type { LoggerService } from '@backstage/backend-plugin-api';

const quiet: LoggerService = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  child() {
    return quiet;
  },
};

async function main() {
  const args = parseFlagArgs(process.argv.slice(2));
  const users = Number(args.get('users') ?? 5000);
  const groups = Number(args.get('groups') ?? 500);
  const share = Number(args.get('share') ?? 0.01);
  const wait = args.get('wait') !== 'false';
  const org = generateOrg({ seed: 1, users, groups });
  const snapshot = {
    users: org.users().filter(u => u.status !== 'DEPROVISIONED'),
    groups: org.groups().filter(g => g.type !== 'BUILT_IN'),
    membersByGroupId: new Map(
      org.groups().map(g => [g.id, [...org.memberIdsOf(g.id)]]),
    ),
  };
  const built = await buildOrgEntities(snapshot, {
    context: {
      providerId: 'cost',
      orgUrl: 'https://cost.okta.example',
      userNaming: 'emailLocalPart',
      groupType: 'team',
    },
    userTransformer: defaultUserTransformer,
    groupTransformer: defaultGroupTransformer,
    logger: quiet,
  });
  const entities: Entity[] = [...built.users, ...built.groups];
  let connection!: EntityProviderConnection;
  const provider: EntityProvider = {
    getProviderName: () => 'mutation-cost',
    connect: async c => {
      connection = c;
    },
  };
  const catalog = await startCatalog([provider]);
  const locationKey = 'mutation-cost';
  const deferred = (list: Entity[]): DeferredEntity[] =>
    list.map(entity => ({ entity, locationKey }));
  const count = async () => {
    const response = await fetch(
      `${catalog.baseUrl}/api/catalog/entities/by-query?limit=1&filter=kind=user&filter=kind=group`,
    );
    return ((await response.json()) as { totalItems: number }).totalItems;
  };
  const servedTitle = async (name: string) => {
    const response = await fetch(
      `${catalog.baseUrl}/api/catalog/entities/by-name/user/default/${name}`,
    );
    if (!response.ok) return undefined;
    return ((await response.json()) as Entity).spec?.profile as
      { displayName?: string } | undefined;
  };
  const until = async (probe: () => Promise<boolean>) => {
    for (;;) {
      if (await probe()) return;
      await new Promise(r => setTimeout(r, 100));
    }
  };

  let t = performance.now();
  await connection.applyMutation({
    type: 'full',
    entities: deferred(entities),
  });
  const firstApply = (performance.now() - t) / 1000;
  if (wait) await until(async () => (await count()) >= entities.length);
  const firstProcessed = (performance.now() - t) / 1000;
  console.log(
    `${built.users.length} users, ${built.groups.length} groups: first full mutation ${firstApply.toFixed(1)} s, ` +
      `${wait ? `processed after ${firstProcessed.toFixed(1)} s` : 'not waited for'}`,
  );

  const userEntities = built.users;
  const changeSome = (tag: string) => {
    const changed: Entity[] = [];
    const n = Math.max(1, Math.round(entities.length * share));
    for (let i = 0; i < n; i++) {
      const entity =
        userEntities[(i * 7919 + tag.length * 31) % userEntities.length];
      (entity.spec.profile ??= {}).displayName = `${tag} ${i}`;
      changed.push(entity);
    }
    return changed;
  };
  const rss = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

  const changedFull = changeSome('full');
  t = performance.now();
  await connection.applyMutation({
    type: 'full',
    entities: deferred(entities),
  });
  const fullApply = (performance.now() - t) / 1000;
  const lastFull = changedFull[changedFull.length - 1];
  if (wait) {
    await until(
      async () =>
        (await servedTitle(lastFull.metadata.name))?.displayName ===
        (lastFull.spec!.profile as { displayName?: string }).displayName,
    );
  }
  const fullVisible = (performance.now() - t) / 1000;

  const changedDelta = changeSome('delta');
  t = performance.now();
  await connection.applyMutation({
    type: 'delta',
    added: deferred(changedDelta),
    removed: [],
  });
  const deltaApply = (performance.now() - t) / 1000;
  const lastDelta = changedDelta[changedDelta.length - 1];
  if (wait) {
    await until(
      async () =>
        (await servedTitle(lastDelta.metadata.name))?.displayName ===
        (lastDelta.spec!.profile as { displayName?: string }).displayName,
    );
  }
  const deltaVisible = (performance.now() - t) / 1000;

  console.log(
    `${changedFull.length} of ${entities.length} entities changed:\n` +
      `  full mutation (all ${entities.length}): applyMutation ${fullApply.toFixed(2)} s, changes served after ${fullVisible.toFixed(2)} s\n` +
      `  delta mutation (${changedDelta.length}): applyMutation ${deltaApply.toFixed(2)} s, changes served after ${deltaVisible.toFixed(2)} s\n` +
      `  RSS ${rss()} MB`,
  );
  await catalog.stop();
  process.exit(0);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
