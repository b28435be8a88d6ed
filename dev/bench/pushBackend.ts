/*
 * What the push benchmarks (push.ts, sustained.ts) share: a fake Okta org
 * and a real backend (the catalog plugin on in-memory SQLite, this module,
 * the real scheduler) whose provider follows the org by event hook or
 * System Log, started and settled after its first full sync; and asking the
 * catalog's API for entities by their Okta ids.
 */
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import type { JsonObject } from '@backstage/config';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  RecordingLogger,
  addServiceApp,
  catalogApi,
} from '../../src/__testUtils__/oktaCatalogHarness';
import { OKTA_CHANGE_EVENT_TYPES } from '../../src/events/oktaEvents';
import { catalogModuleOktaOrgEntityProvider } from '../../src/module/catalogModuleOktaOrgEntityProvider';
import {
  fakeChangeFeeds,
  generateOrg,
  startFakeOkta,
  type FakeChangeFeeds,
  type FakeOkta,
  type FakeOrg,
} from '../fakeOkta';

export const OKTA_GROUP_ID = 'okta.com/group-id';
export const OKTA_USER_ID = 'okta.com/user-id';

const SECRET = 'push-benchmark-secret-0123456789';

export interface PushBenchBackendOptions {
  via: 'eventHook' | 'systemLog';
  users: number;
  groups: number;
  latencyMs: number;
  /** Org generator seed; default 17. */
  seed?: number;
  /** The fake's rate-limit window; default Okta's 60 s (Workforce limits, 50% app share). */
  windowSeconds?: number;
  /** The System Log follower's poll; default the module's own. */
  systemLogPollSeconds?: number;
  /** More keys of the provider's config (e.g. `hierarchy`). */
  providerConfig?: JsonObject;
}

/** A running fake Okta org and backend, its first sync in the catalog. */
export interface PushBenchBackend {
  fake: FakeOkta;
  org: FakeOrg;
  feeds: FakeChangeFeeds;
  /** Every line the backend logged. */
  logger: RecordingLogger;
  baseUrl: string;
  catalog: ReturnType<typeof catalogApi>;
  /** `catalog.providers.okta` as the backend was given it. */
  providerConfig: JsonObject;
  stop(): Promise<void>;
}

export async function startPushBenchBackend(
  options: PushBenchBackendOptions,
): Promise<PushBenchBackend> {
  const org = generateOrg({
    seed: options.seed ?? 17,
    users: options.users,
    groups: options.groups,
    averageGroupsPerUser: 3,
  });
  const fake = await startFakeOkta({
    org,
    latency: { fixedMs: options.latencyMs },
    ...(options.windowSeconds !== undefined && {
      rateLimits: { windowSeconds: options.windowSeconds },
    }),
  });
  const logger = new RecordingLogger();
  let stop = async () => fake.close();
  try {
    const app = await addServiceApp(fake, {
      scopes: ['okta.users.read', 'okta.groups.read', 'okta.logs.read'],
    });
    const providerConfig: JsonObject = {
      ...app.providerConfig,
      ...options.providerConfig,
      checkSetupOnStart: false,
      // Only push updates can bring a change in quickly.
      schedule: { frequency: { minutes: 30 }, timeout: { minutes: 10 } },
      ...(options.via === 'eventHook'
        ? { eventHook: { secretHeader: 'X-Okta-Hook-Secret', secret: SECRET } }
        : {
            systemLog:
              options.systemLogPollSeconds === undefined
                ? { enabled: true }
                : { pollInterval: { seconds: options.systemLogPollSeconds } },
          }),
    };
    const backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
        schedulerServiceFactory,
        createServiceFactory({
          service: coreServices.rootLogger,
          deps: {},
          factory: () => logger,
        }),
        mockServices.rootConfig.factory({
          data: { catalog: { providers: { okta: providerConfig } } },
        }),
      ],
    });
    stop = async () => {
      await backend.stop();
      await fake.close();
    };
    const baseUrl = `http://localhost:${backend.server.port()}`;
    const catalog = catalogApi(baseUrl);
    // The first sync's entities processed and stitched: the count holds
    // still. The catalog is asked for its count, not listed (a big org's
    // catalog takes seconds to list).
    const entityCount = async () => {
      const response = await fetch(
        `${baseUrl}/api/catalog/entities/by-query?limit=1`,
      );
      if (!response.ok) throw new Error(`catalog answered ${response.status}`);
      return ((await response.json()) as { totalItems: number }).totalItems;
    };
    const counts: number[] = [];
    const settleDeadline = Date.now() + 60 * 60_000;
    while (
      counts.length < 3 ||
      counts[counts.length - 1] === 0 ||
      new Set(counts.slice(-3)).size > 1
    ) {
      if (Date.now() > settleDeadline)
        throw new Error('The first sync did not settle in the catalog');
      await new Promise(resolve => setTimeout(resolve, 2000));
      counts.push(await entityCount());
    }

    const feeds = fakeChangeFeeds(fake);
    if (options.via === 'eventHook') {
      const hook = feeds.eventHooks.create({
        name: 'bench',
        uri: `${baseUrl}/api/catalog/okta/event-hooks/default`,
        authScheme: { key: 'X-Okta-Hook-Secret', value: SECRET },
        events: [...OKTA_CHANGE_EVENT_TYPES],
      });
      await feeds.eventHooks.verify(String(hook.id));
    } else {
      const deadline = Date.now() + 30_000;
      while (
        !logger
          .messages('info')
          .some(m => m.includes('System Log follower default: starting'))
      ) {
        if (Date.now() > deadline)
          throw new Error('The System Log follower did not start');
        await new Promise(resolve => setTimeout(resolve, 100));
      }
    }
    return {
      fake,
      org,
      feeds,
      logger,
      baseUrl,
      catalog,
      providerConfig,
      stop: () => stop(),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The entities carrying any of these Okta ids, in one by-query request of
 * the catalog's API (not the whole catalog each time). `fields` limits what
 * comes back (a group's `spec.members` can be long).
 */
export async function entitiesByOktaIds(
  baseUrl: string,
  ids: { userIds?: Iterable<string>; groupIds?: Iterable<string> },
  fields?: string[],
): Promise<Entity[]> {
  const query = new URLSearchParams({ limit: '1000' });
  for (const id of ids.userIds ?? [])
    query.append('filter', `metadata.annotations.${OKTA_USER_ID}=${id}`);
  for (const id of ids.groupIds ?? [])
    query.append('filter', `metadata.annotations.${OKTA_GROUP_ID}=${id}`);
  if (!query.has('filter')) return [];
  if (fields) query.set('fields', fields.join(','));
  const response = await fetch(
    `${baseUrl}/api/catalog/entities/by-query?${query}`,
  );
  if (!response.ok) throw new Error(`catalog answered ${response.status}`);
  return ((await response.json()) as { items: Entity[] }).items;
}

/** Whether the user entity's `spec.memberOf` names the group entity. */
export function isMemberOf(
  user: Entity | undefined,
  group: Entity | undefined,
): boolean {
  if (!user || !group) return false;
  const memberOf = (user.spec?.memberOf ?? []) as string[];
  return memberOf.some(
    ref =>
      ref === group.metadata.name || ref.endsWith(`/${group.metadata.name}`),
  );
}

/** The p-th percentile (nearest rank) of ascending numbers; 0 for none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

/** Runs a benchmark's main as a command; exits when done, since the stopped backend leaves timers of its libraries behind. */
export function runBenchCli(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    error => {
      // eslint-disable-next-line no-console
      console.error(error);
      process.exit(1);
    },
  );
}
