import type {
  LoggerService,
  SchedulerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { warnAboutOktaSetup } from '../check/startupCheck';
import type { OktaOrgClient } from '../okta/client/types';
import { readOktaProviderConfigs } from '../okta/config';
import { prepareEntityValidation } from '../okta/org';
import {
  createProviderClient,
  readProviderEntities,
  totalRequests,
  type ProviderEntities,
} from '../okta/providerSync';
import {
  syncProviderEntities,
  type OktaSyncReport,
} from '../okta/incrementalSync';
import type {
  OktaLastApplied,
  OktaProviderSyncState,
  OktaSyncStateStore,
} from '../state/OktaSyncStateStore';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from '../okta/types';

/**
 * Options of {@link OktaOrgEntityProvider}.
 *
 * @public
 */
export interface OktaOrgEntityProviderOptions {
  /** One provider's validated configuration. */
  provider: OktaProviderConfig;
  logger: LoggerService;
  /** Runs the sync on the provider's schedule; without it, call `read()` yourself. */
  taskRunner?: SchedulerServiceTaskRunner;
  /** Defaults to a client for `provider.orgUrl` with `provider.auth`. */
  client?: OktaOrgClient;
  userTransformer?: OktaUserTransformer;
  groupTransformer?: OktaGroupTransformer;
  /**
   * Where the provider keeps its sync state (the module passes one on the
   * catalog's database). With it, a run reads from Okta only what changed
   * and a read that stops is continued by the next run; without it, every
   * run reads the whole selection.
   *
   * @alpha
   */
  stateStore?: OktaSyncStateStore;
  /**
   * How far back each lower bound on Okta's change markers reaches, to
   * cover Okta's eventual consistency (ms). Default 5 minutes.
   *
   * @alpha
   */
  changeOverlapMs?: number;
}

/** A transformer for every provider, or one per provider id. */
export type OktaTransformerSelection<T> = T | Record<string, T>;

function pickTransformer<T extends Function>(
  selection: OktaTransformerSelection<T> | undefined,
  providerId: string,
): T | undefined {
  if (selection === undefined || typeof selection === 'function') {
    return selection as T | undefined;
  }
  return (selection as Record<string, T>)[providerId];
}

/**
 * Ingests an Okta org's users and groups as User and Group entities: reads the
 * configured selection completely, then replaces everything this provider
 * emitted before in one full mutation. A read that fails in any part applies
 * nothing, so the catalog keeps its last complete state.
 *
 * @public
 */
export class OktaOrgEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private readonly client: OktaOrgClient;
  private readonly syncState?: OktaProviderSyncState;
  /** Set by fromConfig: run the cheap set-up check once, at connect(). */
  private checkSetupOnConnect = false;

  /**
   * One provider per entry of `catalog.providers.okta`, each scheduled on its
   * own `schedule`. Throws, naming the key, when the config is invalid.
   */
  static fromConfig(
    config: Config,
    options: {
      logger: LoggerService;
      scheduler: SchedulerService;
      userTransformer?: OktaTransformerSelection<OktaUserTransformer>;
      groupTransformer?: OktaTransformerSelection<OktaGroupTransformer>;
      /** See {@link OktaOrgEntityProviderOptions.stateStore}. */
      stateStore?: OktaSyncStateStore;
    },
  ): OktaOrgEntityProvider[] {
    return readOktaProviderConfigs(config).map(provider => {
      const entityProvider = new OktaOrgEntityProvider({
        provider,
        logger: options.logger,
        taskRunner: options.scheduler.createScheduledTaskRunner({
          ...provider.schedule,
          // One replica at a time runs a provider's sync.
          scope: 'global',
        }),
        userTransformer: pickTransformer(
          options.userTransformer,
          provider.id,
        ),
        groupTransformer: pickTransformer(
          options.groupTransformer,
          provider.id,
        ),
        stateStore: options.stateStore,
      });
      // Only the module path checks the set-up: providers built directly
      // (tests, custom wiring) send no requests but their sync's.
      entityProvider.checkSetupOnConnect = provider.checkSetupOnStart ?? true;
      return entityProvider;
    });
  }

  constructor(private readonly options: OktaOrgEntityProviderOptions) {
    const { provider } = options;
    this.client =
      options.client ??
      createProviderClient(
        provider,
        options.logger.child({ oktaProvider: provider.id }),
      );
    this.syncState = options.stateStore?.forProvider(provider.id);
  }

  /**
   * The counts this provider last applied to the catalog, as kept in its
   * state (so they survive restarts); undefined without a state store or
   * before the first commit.
   *
   * @alpha
   */
  async lastApplied(): Promise<OktaLastApplied | undefined> {
    return this.syncState?.lastApplied();
  }

  /**
   * The entities to apply: with a state store, an incremental (or, when due
   * or under way, full) read from the state; else a full read.
   */
  private readEntities(
    logger: LoggerService,
    signal: AbortSignal | undefined,
  ): Promise<ProviderEntities & { sync?: OktaSyncReport }> {
    const { provider, userTransformer, groupTransformer } = this.options;
    const common = { logger, signal, userTransformer, groupTransformer };
    if (this.syncState) {
      return syncProviderEntities(this.client, provider, {
        ...common,
        state: this.syncState,
        changeOverlapMs: this.options.changeOverlapMs,
      });
    }
    return readProviderEntities(this.client, provider, common);
  }

  /** `OktaOrgEntityProvider:<id>`: stable, since renaming it orphans entities. */
  getProviderName(): string {
    return `OktaOrgEntityProvider:${this.options.provider.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    // Once per process, before any sync: see prepareEntityValidation.
    await prepareEntityValidation();
    if (this.checkSetupOnConnect) {
      this.checkSetupOnConnect = false;
      // In the background: start-up never waits for Okta, and the check
      // never throws; failed steps become warnings naming the fix.
      void warnAboutOktaSetup(this.options.provider, this.options.logger);
    }
    const { taskRunner } = this.options;
    if (!taskRunner) {
      return;
    }
    const id = `${this.getProviderName()}:refresh`;
    await taskRunner.run({
      id,
      fn: async (signal?: AbortSignal) => {
        const logger = this.options.logger.child({
          class: OktaOrgEntityProvider.name,
          taskId: id,
          taskInstanceId: crypto.randomUUID(),
        });
        try {
          await this.read({ logger, signal });
        } catch (error) {
          // Logged once here; the scheduler tries again on the next run.
          logger.error(
            `${this.getProviderName()} sync failed; the catalog keeps its previous Okta entities: ${describeError(error)}`,
          );
        }
      },
    });
  }

  /**
   * Reads the whole selection and applies it as one full mutation. Rejects,
   * applying nothing, when any part of the read fails or `signal` aborts.
   */
  async read(options?: {
    logger?: LoggerService;
    signal?: AbortSignal;
  }): Promise<void> {
    if (!this.connection) {
      throw new Error(`${this.getProviderName()} is not connected yet`);
    }
    const { provider } = this.options;
    const logger = options?.logger ?? this.options.logger;
    const started = performance.now();
    const requestsBefore = totalRequests(this.client);

    logger.info(`Reading Okta users and groups from ${provider.orgUrl}`);
    const { users, groups, memberships, unmatchedGroupNames, sync } =
      await this.readEntities(logger, options?.signal);
    for (const name of unmatchedGroupNames) {
      logger.warn(
        `${this.getProviderName()}: groupNames entry "${name}" matches no Okta group; check its spelling in Okta (Directory > Groups)`,
      );
    }
    if (options?.signal?.aborted) {
      throw new Error('The Okta sync was aborted before it was committed');
    }

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    logger.info(
      `${sync ? `${describeSync(sync)}: ` : ''}Read ${users.length} users, ${groups.length} groups and ${memberships} memberships from Okta in ${seconds} seconds (${
        totalRequests(this.client) - requestsBefore
      } requests). Committing...`,
      {
        users: users.length,
        groups: groups.length,
        memberships,
        seconds: Number(seconds),
      },
    );

    const locationKey = this.getProviderName();
    await this.connection.applyMutation({
      type: 'full',
      entities: [...users, ...groups].map(entity => ({
        entity,
        locationKey,
      })),
    });
    await this.syncState?.recordApplied({
      users: users.length,
      groups: groups.length,
    });
    logger.info(
      `Committed ${users.length + groups.length} Okta entities in ${(
        (performance.now() - started) /
        1000
      ).toFixed(1)} seconds`,
    );
  }
}

/** What kind of read a run with state was, for its log line. */
function describeSync(sync: OktaSyncReport): string {
  if (sync.kind === 'incremental') {
    return `Incremental read (${sync.groupsRelisted} member listings, ${sync.usersRead} changed users)`;
  }
  return sync.resumedFullRead
    ? 'Full read (continuing one an earlier run started)'
    : 'Full read';
}

/** The error's message (and Okta's details), never its stack or request. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const details = (error as { details?: Record<string, unknown> }).details;
    if (details && typeof details === 'object') {
      const parts = Object.entries(details)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`);
      if (parts.length) {
        return `${error.message} (${parts.join(', ')})`;
      }
    }
    return error.message;
  }
  return String(error);
}
