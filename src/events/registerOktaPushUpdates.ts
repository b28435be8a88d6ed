/*
 * Wires the push-update side of each provider into the backend: an event
 * hook endpoint under the catalog plugin's router (`eventHook`) and a
 * System Log follower run as a scheduled task (`systemLog`). Both feed one
 * change queue and batcher per provider, so an event that arrives both ways
 * is applied once.
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
import {
  InMemoryOktaChangeQueue,
  type OktaAcceptingChangeQueue,
} from './changeQueue';
import { OktaChangeBatcher } from './OktaChangeBatcher';
import {
  InMemoryOktaSystemLogCursorStore,
  OktaSystemLogFollower,
} from './OktaSystemLogFollower';
import { RateLimitedWarnings } from './rateLimitedWarnings';
import { createOktaSystemLogClient } from './systemLogClient';
import type { OktaChangeSink, OktaSystemLogCursorStore } from './types';

export interface RegisterOktaPushUpdatesOptions {
  providers: OktaProviderConfig[];
  httpRouter: HttpRouterService;
  scheduler: SchedulerService;
  logger: LoggerService;
  /** What applies a provider's queued changes (the module: the provider's sync). */
  sinkFor: (provider: OktaProviderConfig) => OktaChangeSink;
  /** Default: in memory, per process (the module passes the database queue). */
  queueFor?: (provider: OktaProviderConfig) => OktaAcceptingChangeQueue;
  /** Default: in memory, per process, a restart starting at "now" (the module passes the database store). */
  cursorFor?: (provider: OktaProviderConfig) => OktaSystemLogCursorStore;
  /** Batching windows, for tests. */
  batching?: { quietMs?: number; maxDelayMs?: number; retryDelayMs?: number };
}

/** The providers' batchers; `resume` them once the backend has started, `stop` them on shutdown. */
export interface OktaPushUpdates {
  batchers: Map<string, OktaChangeBatcher>;
  /** Hands over what the queues kept from before this process started. */
  resume(): void;
  stop(): void;
}

/** The scheduled task id of a provider's System Log follower. */
export function systemLogTaskId(providerId: string): string {
  return `OktaOrgEntityProvider:${providerId}:system-log`;
}

export function registerOktaPushUpdates(
  options: RegisterOktaPushUpdatesOptions,
): OktaPushUpdates {
  const { httpRouter, scheduler, logger } = options;
  const batchers = new Map<string, OktaChangeBatcher>();
  const endpoints: OktaEventHookEndpoint[] = [];
  const refusals = new RateLimitedWarnings(logger);
  for (const provider of options.providers) {
    if (!provider.eventHook && !provider.systemLog) continue;
    const providerLogger = logger.child({ oktaProvider: provider.id });
    const batcher = new OktaChangeBatcher({
      sink: options.sinkFor(provider),
      queue: options.queueFor?.(provider) ?? new InMemoryOktaChangeQueue(),
      logger: providerLogger,
      ...options.batching,
    });
    batchers.set(provider.id, batcher);

    if (provider.eventHook) {
      endpoints.push({
        providerId: provider.id,
        config: provider.eventHook,
        batcher,
      });
      logger.info(
        `Okta event hook endpoint for provider ${provider.id}: /api/catalog${oktaEventHookPath(provider.id)}`,
      );
    }

    if (provider.systemLog) {
      const client = createOktaSystemLogClient({
        orgUrl: provider.orgUrl,
        auth: provider.auth,
        logger: providerLogger,
        requestTimeoutMs: provider.requests.requestTimeoutMs,
        maxRetries: provider.requests.maxRetries,
      });
      const follower = new OktaSystemLogFollower({
        providerId: provider.id,
        orgUrl: provider.orgUrl,
        fetchPage: client.fetchPage,
        cursor:
          options.cursorFor?.(provider) ??
          new InMemoryOktaSystemLogCursorStore(),
        batcher,
        logger: providerLogger,
      });
      const intervalMs = provider.systemLog.pollIntervalMs;
      // A lasting failure (e.g. okta.logs.read not granted) is warned about
      // once, not every few seconds, until a poll succeeds again.
      let failing = false;
      // Global: one replica polls at a time (the cursor store is what lets
      // the next one resume where it stopped).
      void scheduler
        .scheduleTask({
          id: systemLogTaskId(provider.id),
          frequency: { milliseconds: intervalMs },
          timeout: { minutes: 5 },
          scope: 'global',
          fn: async signal => {
            try {
              await follower.poll(signal as AbortSignal);
              if (failing)
                providerLogger.info(
                  `Okta System Log follower ${provider.id}: polling again`,
                );
              failing = false;
            } catch (error) {
              const message = `Okta System Log follower ${provider.id}: poll failed; the next poll retries from the stored cursor: ${
                error instanceof Error ? error.message : String(error)
              }`;
              if (failing) providerLogger.debug(message);
              else providerLogger.warn(message);
              failing = true;
            }
          },
        })
        .catch(error =>
          providerLogger.error(
            `Could not schedule the Okta System Log follower ${provider.id}: ${String(error)}`,
          ),
        );
    }
  }
  if (endpoints.length > 0) {
    // Okta has no Backstage credentials: each request is checked against
    // its provider's shared secret instead.
    httpRouter.addAuthPolicy({
      path: OKTA_EVENT_HOOK_BASE_PATH,
      allow: 'unauthenticated',
    });
    httpRouter.use(createOktaEventHookHandler(endpoints, logger, refusals));
  }
  return {
    batchers,
    resume() {
      for (const batcher of batchers.values()) batcher.resume();
    },
    stop() {
      for (const batcher of batchers.values()) batcher.stop();
      refusals.flush();
    },
  };
}
