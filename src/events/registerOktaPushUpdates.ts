/*
 * Wires the push-update side of each provider into the backend: an event
 * hook endpoint under the catalog plugin's router (for providers with
 * `eventHook`), each with its own batcher and sink.
 */
import type {
  HttpRouterService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import type { OktaProviderConfig } from '../okta/types';
import {
  createOktaEventHookHandler,
  OKTA_EVENT_HOOK_BASE_PATH,
  oktaEventHookPath,
  type OktaEventHookEndpoint,
} from './eventHookEndpoint';
import { InMemoryOktaSeenEventStore, OktaChangeBatcher } from './OktaChangeBatcher';
import { ScheduledSyncSink } from './scheduledSyncSink';
import type { OktaChangeSink, OktaSeenEventStore } from './types';

export interface RegisterOktaPushUpdatesOptions {
  providers: OktaProviderConfig[];
  httpRouter: HttpRouterService;
  scheduler: SchedulerService;
  logger: LoggerService;
  /** Undefined (or returning undefined): run the provider's scheduled sync (see ScheduledSyncSink). */
  sinkFor?: (provider: OktaProviderConfig) => OktaChangeSink | undefined;
  /** Default: in memory, per process. */
  seenFor?: (provider: OktaProviderConfig) => OktaSeenEventStore;
  /** Batching windows, for tests. */
  batching?: { quietMs?: number; maxDelayMs?: number; retryDelayMs?: number };
}

/** The providers' event hook batchers; `stop` them on shutdown. */
export interface OktaPushUpdates {
  batchers: Map<string, OktaChangeBatcher>;
  stop(): void;
}

export function registerOktaPushUpdates(options: RegisterOktaPushUpdatesOptions): OktaPushUpdates {
  const { httpRouter, scheduler, logger } = options;
  const batchers = new Map<string, OktaChangeBatcher>();
  const endpoints: OktaEventHookEndpoint[] = [];
  for (const provider of options.providers) {
    if (!provider.eventHook) continue;
    const providerLogger = logger.child({ oktaProvider: provider.id });
    const sink =
      options.sinkFor?.(provider) ??
      new ScheduledSyncSink({
        taskId: `OktaOrgEntityProvider:${provider.id}:refresh`,
        scheduler,
        logger: providerLogger,
      });
    const batcher = new OktaChangeBatcher({
      sink,
      seen: options.seenFor?.(provider) ?? new InMemoryOktaSeenEventStore(),
      logger: providerLogger,
      ...options.batching,
    });
    batchers.set(provider.id, batcher);
    endpoints.push({ providerId: provider.id, config: provider.eventHook, batcher });
    logger.info(
      `Okta event hook endpoint for provider ${provider.id}: /api/catalog${oktaEventHookPath(provider.id)}`,
    );
  }
  if (endpoints.length > 0) {
    // Okta has no Backstage credentials: each request is checked against
    // its provider's shared secret instead.
    httpRouter.addAuthPolicy({ path: OKTA_EVENT_HOOK_BASE_PATH, allow: 'unauthenticated' });
    httpRouter.use(createOktaEventHookHandler(endpoints, logger));
  }
  return {
    batchers,
    stop() {
      for (const batcher of batchers.values()) batcher.stop();
    },
  };
}
