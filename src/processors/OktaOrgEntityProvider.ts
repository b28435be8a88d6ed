import type {
  LifecycleService,
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
import { prepareEntityValidation } from '../okta/entityValidation';
import {
  createProviderClient,
  readProviderEntities,
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
import {
  InMemoryOktaAppliedCountsStore,
  type OktaAppliedCountsStore,
} from '../sync/appliedCounts';
import {
  DEFAULT_MAX_REMOVED_SHARE,
  decideDeletionGuard,
} from '../sync/deletionGuard';
import { OktaSyncLock } from '../state/syncLease';
import { planCatalogMutation } from '../sync/catalogMutation';
import { RepeatedWarnings } from '../sync/repeatedWarnings';
import type { OktaChangeQueue, OktaQueuedChanges } from '../events/types';
import {
  failureReasonOf,
  OktaSyncError,
  requestsBetween,
  type OktaSyncSummary,
} from '../sync/syncSummary';

/**
 * Receives the summary of every sync run, applied, refused or failed (the
 * module's metrics are recorded this way).
 *
 * @public
 */
export type OktaSyncSummaryListener = (summary: OktaSyncSummary) => void;

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
   * Run the cheap set-up check (no full read) once, in the background, at
   * `connect()`, logging a warning per failed step. Default false;
   * `fromConfig` sets it from `checkSetupOnStart`.
   */
  checkSetupOnConnect?: boolean;
  /** Its shutdown cancels the set-up check and anything else in flight. */
  lifecycle?: Pick<LifecycleService, 'addShutdownHook'>;
  /**
   * The deletion guard's baseline: the counts of the last applied sync.
   * Default in memory (lost on restart, not shared by replicas).
   */
  appliedCounts?: OktaAppliedCountsStore;
  /** Called with the summary of every run, applied, refused or failed. */
  onSyncSummary?: OktaSyncSummaryListener;
  /**
   * Where the provider keeps its sync state (the module passes one on the
   * catalog's database). With it, a run reads from Okta only what changed
   * and a read that stops is continued by the next run; without it, every
   * run reads the whole selection.
   */
  stateStore?: OktaSyncStateStore;
  /**
   * How far back each lower bound on Okta's change markers reaches, to
   * cover Okta's eventual consistency (ms). Default 5 minutes.
   */
  changeOverlapMs?: number;
  /**
   * The Okta objects pushed events named (the module passes its queue in
   * the catalog's database): every run re-reads what is queued when it
   * starts, whatever Okta's change markers say, and removes it once
   * committed.
   */
  changeQueue?: OktaChangeQueue;
}

/**
 * A transformer for every provider, or one per provider id.
 *
 * @public
 */
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
  private setupCheckPending: boolean;
  /** Aborted when the backend shuts down. */
  private readonly shutdown = new AbortController();
  private readonly appliedCounts: OktaAppliedCountsStore;
  private readonly syncState?: OktaProviderSyncState;
  /** One run at a time: in this process, and across replicas with a state store. */
  private readonly lock: OktaSyncLock;
  /**
   * Whether this process has applied a full mutation yet: until it has,
   * every run sends one (see catalogMutation.ts).
   */
  private appliedFullInThisProcess = false;
  /** Warnings about Okta's data: logged when they first appear. */
  private readonly recordWarnings = new RepeatedWarnings();
  /** Objects named by requestReread, for the next run on this backend. */
  private readonly pendingReread = {
    userIds: new Set<string>(),
    groupIds: new Set<string>(),
  };

  /**
   * One provider per entry of `catalog.providers.okta`, each scheduled on its
   * own `schedule`. Throws, naming the key, when the config is invalid.
   */
  static fromConfig(
    config: Config,
    options: {
      logger: LoggerService;
      scheduler: SchedulerService;
      lifecycle?: Pick<LifecycleService, 'addShutdownHook'>;
      userTransformer?: OktaTransformerSelection<OktaUserTransformer>;
      groupTransformer?: OktaTransformerSelection<OktaGroupTransformer>;
      /** The deletion guard's baseline per provider id; default in memory. */
      appliedCounts?: (providerId: string) => OktaAppliedCountsStore;
      onSyncSummary?: OktaSyncSummaryListener;
      /** See {@link OktaOrgEntityProviderOptions.stateStore}. */
      stateStore?: OktaSyncStateStore;
      /** See {@link OktaOrgEntityProviderOptions.changeQueue}; per provider id. */
      changeQueue?: (providerId: string) => OktaChangeQueue | undefined;
    },
  ): OktaOrgEntityProvider[] {
    return readOktaProviderConfigs(config).map(provider => {
      const entityProvider = new OktaOrgEntityProvider({
        provider,
        logger: options.logger,
        lifecycle: options.lifecycle,
        // Only the module path checks the set-up: providers built directly
        // (tests, custom wiring) send no requests but their sync's.
        checkSetupOnConnect: provider.checkSetupOnStart ?? true,
        taskRunner: options.scheduler.createScheduledTaskRunner({
          ...provider.schedule,
          // One replica at a time runs a provider's sync.
          scope: 'global',
        }),
        userTransformer: pickTransformer(options.userTransformer, provider.id),
        groupTransformer: pickTransformer(
          options.groupTransformer,
          provider.id,
        ),
        appliedCounts: options.appliedCounts?.(provider.id),
        onSyncSummary: options.onSyncSummary,
        stateStore: options.stateStore,
        changeQueue: options.changeQueue?.(provider.id),
      });
      return entityProvider;
    });
  }

  constructor(private readonly options: OktaOrgEntityProviderOptions) {
    const { provider } = options;
    this.setupCheckPending = options.checkSetupOnConnect ?? false;
    options.lifecycle?.addShutdownHook(() => this.shutdown.abort());
    this.client =
      options.client ??
      createProviderClient(
        provider,
        options.logger.child({ oktaProvider: provider.id }),
      );
    this.syncState = options.stateStore?.forProvider(provider.id);
    this.lock = new OktaSyncLock(this.syncState?.lease());
    // The guard's baseline: with state, the counts kept in the database
    // (they survive restarts and are shared by replicas).
    this.appliedCounts =
      options.appliedCounts ??
      this.syncState ??
      new InMemoryOktaAppliedCountsStore();
  }

  /**
   * The counts this provider last applied to the catalog, as kept in its
   * state (so they survive restarts); undefined without a state store or
   * before the first commit.
   */
  async lastApplied(): Promise<OktaLastApplied | undefined> {
    return this.syncState?.lastApplied();
  }

  /**
   * The entities to apply: with a state store, an incremental (or, when due
   * or under way, full) read from the state; else a full read.
   */
  private async readEntities(
    logger: LoggerService,
    signal: AbortSignal | undefined,
    queued: OktaQueuedChanges | undefined,
    pushed = false,
  ): Promise<ProviderEntities & { sync?: OktaSyncReport }> {
    const { provider, userTransformer, groupTransformer } = this.options;
    const common = { logger, signal, userTransformer, groupTransformer };
    if (!this.syncState) {
      return readProviderEntities(this.client, provider, common);
    }
    const reread = {
      userIds: [...this.pendingReread.userIds, ...(queued?.userIds ?? [])],
      groupIds: [
        ...this.pendingReread.groupIds,
        ...(queued?.groupIds ?? []),
        ...(queued?.membershipGroupIds ?? []),
      ],
      memberships: queued?.memberships ?? [],
    };
    this.pendingReread.userIds.clear();
    this.pendingReread.groupIds.clear();
    try {
      return await syncProviderEntities(this.client, provider, {
        ...common,
        state: this.syncState,
        changeOverlapMs: this.options.changeOverlapMs,
        reread,
        pushed,
      });
    } catch (error) {
      // The next run tries them again (memberships, as their groups).
      this.requestReread({
        userIds: reread.userIds,
        groupIds: [
          ...reread.groupIds,
          ...reread.memberships.map(m => m.groupId),
        ],
      });
      throw error;
    }
  }

  /**
   * Has the next run on this backend re-read these Okta users and list these
   * groups' members whatever Okta's change markers say (the module calls it
   * for the objects that pushed events name, before it triggers the run).
   * Only with a state store; a run without one reads everything anyway.
   */
  requestReread(ids: {
    userIds?: Iterable<string>;
    groupIds?: Iterable<string>;
  }): void {
    for (const id of ids.userIds ?? []) this.pendingReread.userIds.add(id);
    for (const id of ids.groupIds ?? []) this.pendingReread.groupIds.add(id);
  }

  /** `OktaOrgEntityProvider:<id>`: stable, since renaming it orphans entities. */
  getProviderName(): string {
    return `OktaOrgEntityProvider:${this.options.provider.id}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    // Once per process, before any sync: see prepareEntityValidation.
    await prepareEntityValidation();
    if (this.setupCheckPending) {
      this.setupCheckPending = false;
      // In the background: start-up never waits for Okta, and the check
      // never throws; failed steps become warnings naming the fix.
      void warnAboutOktaSetup(this.options.provider, this.options.logger, {
        signal: this.shutdown.signal,
        client: this.client,
      });
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
          // Waits (up to the task's timeout) for a run of another replica
          // or of pushed changes to finish.
          await this.read({ logger, signal });
        } catch (error) {
          // Logged once here; the scheduler tries again on the next run.
          logger.error(
            error instanceof OktaSyncError
              ? error.message
              : `${this.getProviderName()} sync failed; the catalog keeps its previous Okta entities: ${describeError(error)}`,
          );
        }
      },
    });
  }

  /**
   * Reads the whole selection and, unless the deletion guard refuses it,
   * applies it as one full mutation. Resolves with the run's summary once
   * applied. Rejects with an {@link OktaSyncError} (carrying the summary),
   * applying nothing, when the guard refuses, any part of the read fails or
   * `signal` aborts.
   */
  async read(options?: {
    logger?: LoggerService;
    signal?: AbortSignal;
    /**
     * How long to wait while another run of this provider (here or on
     * another replica) applies; default as long as `signal` allows. Past
     * it, rejects with an error named `OktaSyncBusyError`.
     */
    maxWaitMs?: number;
    /**
     * The run is started by pushed events: it re-reads only what the queued
     * events name and leaves the sweeps by Okta's change markers to the
     * scheduled runs (see incrementalSync.ts).
     */
    pushed?: boolean;
  }): Promise<OktaSyncSummary> {
    if (!this.connection) {
      throw new Error(`${this.getProviderName()} is not connected yet`);
    }
    const connection = this.connection;
    // The backend's shutdown stops a run, or the wait for one, too.
    const signal = options?.signal
      ? AbortSignal.any([options.signal, this.shutdown.signal])
      : this.shutdown.signal;
    return this.lock.run(
      locked => this.readLocked(connection, locked, options),
      { signal, maxWaitMs: options?.maxWaitMs },
    );
  }

  private async readLocked(
    connection: EntityProviderConnection,
    signal: AbortSignal,
    options?: { logger?: LoggerService; pushed?: boolean },
  ): Promise<OktaSyncSummary> {
    const { provider } = this.options;
    const logger = options?.logger ?? this.options.logger;
    const startedAt = new Date().toISOString();
    const started = performance.now();
    const statsBefore = this.client.stats();
    let run: Partial<OktaSyncSummary> = {};
    const summary = (
      fields: Pick<OktaSyncSummary, 'outcome'> & Partial<OktaSyncSummary>,
    ): OktaSyncSummary => ({
      providerId: provider.id,
      startedAt,
      durationSeconds: (performance.now() - started) / 1000,
      requests: requestsBetween(statsBefore, this.client.stats()),
      ...run,
      ...fields,
    });
    let committing = false;
    const warnings = this.recordWarnings.start(logger);

    try {
      const queued = await this.options.changeQueue?.take();
      logger.info(
        `Reading Okta users and groups from ${provider.orgUrl}${queued?.size ? ` (with ${queued.size} objects pushed events named)` : ''}`,
      );
      const read = await this.readEntities(
        warnings.logger,
        signal,
        queued,
        options?.pushed,
      );
      const { users, groups, memberships, unmatchedGroupNames } = read;
      for (const name of unmatchedGroupNames) {
        warnings.logger.warn(
          `${this.getProviderName()}: groupNames entry "${name}" matches no Okta group; check its spelling in Okta (Directory > Groups)`,
        );
      }
      if (signal?.aborted) {
        throw new Error('The Okta sync was aborted before it was committed');
      }
      run = {
        readSeconds: read.readSeconds,
        buildSeconds: read.finishSeconds,
        entities: { users: users.length, groups: groups.length, memberships },
        emptyGroupsSkipped: read.emptyGroupsSkipped,
        unmatchedGroupNames,
        ...(read.sync && {
          read: {
            kind: read.sync.kind,
            resumedFullRead: read.sync.resumedFullRead,
            memberListings: read.sync.groupsRelisted,
            usersRead: read.sync.usersRead,
          },
        }),
      };

      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const requests = requestsBetween(statsBefore, this.client.stats());
      const warned = warnings.counts();
      run = { ...run, warnings: warned };
      logger.info(
        `${read.sync ? `${describeSync(read.sync)}: ` : ''}Read ${users.length} users, ${groups.length} groups and ${memberships} memberships from Okta in ${seconds} seconds (${requests.total} requests)${describeWarnings(warned)}. Committing...`,
        {
          users: users.length,
          groups: groups.length,
          memberships,
          seconds: Number(seconds),
          requests: requests.total,
          warnings: warned.total,
          newWarnings: warned.new,
        },
      );

      const previous = await this.appliedCounts.lastApplied();
      const counts = { users: users.length, groups: groups.length };
      const guard = decideDeletionGuard({
        providerName: this.getProviderName(),
        providerId: provider.id,
        before: previous,
        after: counts,
        config: provider.deletionGuard ?? {
          maxRemovedShare: DEFAULT_MAX_REMOVED_SHARE,
          allowLargeRemovals: false,
        },
      });
      run = { ...run, ...(previous && { previous }), guard };
      if (guard.decision === 'refuse') {
        throw new OktaSyncError(
          guard.message!,
          summary({ outcome: 'refused', error: guard.message }),
        );
      }
      if (guard.decision === 'allowed') {
        logger.warn(guard.message!);
      }

      committing = true;
      const commitStarted = performance.now();
      const plan = await planCatalogMutation([...users, ...groups], {
        locationKey: this.getProviderName(),
        state: this.syncState,
        delta:
          this.appliedFullInThisProcess && read.sync?.kind === 'incremental',
      });
      run = { ...run, mutation: plan.counts };
      await plan.prepare();
      await connection.applyMutation(plan.mutation);
      const commitSeconds = (performance.now() - commitStarted) / 1000;
      committing = false;
      if (plan.counts.type === 'full') this.appliedFullInThisProcess = true;
      await plan.record().catch(error =>
        // Applied all the same: what it changed is sent again next time.
        logger.warn(
          `${this.getProviderName()}: could not record the applied entities: ${describeError(error)}`,
        ),
      );
      if (queued?.size) {
        await this.options.changeQueue!.remove(queued).catch(error =>
          // Read again by the next run; nothing is lost.
          logger.warn(
            `${this.getProviderName()}: could not remove the applied entries from the change queue: ${describeError(error)}`,
          ),
        );
      }
      try {
        await this.appliedCounts.recordApplied(counts);
      } catch (error) {
        // Applied all the same: the guard compares the next run with the
        // older counts, which errs on the side of refusing.
        logger.warn(
          `${this.getProviderName()}: could not record the applied counts for the deletion guard: ${describeError(error)}`,
        );
      }
      const applied = summary({ outcome: 'applied', commitSeconds });
      logger.info(
        plan.counts.type === 'full'
          ? `Committed ${users.length + groups.length} Okta entities in ${applied.durationSeconds.toFixed(1)} seconds`
          : `Committed ${plan.counts.added} changed and ${plan.counts.removed} removed of ${users.length + groups.length} Okta entities in ${applied.durationSeconds.toFixed(1)} seconds`,
        {
          outcome: applied.outcome,
          mutation: plan.counts.type,
          sent: plan.counts.added + plan.counts.removed,
          users: users.length,
          groups: groups.length,
          requests: applied.requests.total,
          rateLimited: applied.requests.rateLimited,
          retries: applied.requests.retries,
          seconds: Number(applied.durationSeconds.toFixed(3)),
        },
      );
      warnings.finish(true);
      this.report(applied, logger);
      return applied;
    } catch (error) {
      warnings.finish(false);
      if (error instanceof OktaSyncError) {
        this.report(error.summary, logger);
        throw error;
      }
      const message = describeError(error);
      const failed = summary({
        outcome: 'failed',
        failureReason: failureReasonOf(error, { signal, committing }),
        error: message,
      });
      this.report(failed, logger);
      throw new OktaSyncError(
        `${this.getProviderName()} sync failed; the catalog keeps its previous Okta entities: ${message}`,
        failed,
        { cause: error },
      );
    }
  }

  /** Hands the summary to the listener; a throwing listener never fails a sync. */
  private report(summary: OktaSyncSummary, logger: LoggerService) {
    try {
      this.options.onSyncSummary?.(summary);
    } catch (error) {
      logger.warn(
        `${this.getProviderName()}: the sync summary listener failed: ${describeError(error)}`,
      );
    }
  }
}

/** The warnings about Okta's data, for the run's log line. */
function describeWarnings(counts: { total: number; new: number }): string {
  if (counts.total === 0) return '';
  const logged =
    counts.new === counts.total
      ? 'logged above'
      : `${counts.new} new, logged above; the others as logged by earlier runs`;
  return `; ${counts.total} warning${counts.total === 1 ? '' : 's'} about Okta's data (${logged})`;
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
