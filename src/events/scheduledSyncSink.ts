/*
 * The sink used until changes are applied to the incremental-sync state:
 * it runs the provider's scheduled sync now (Backstage's `triggerTask`, which
 * works across replicas on one database). A sync already running may have
 * read Okta before the change, so a trigger that finds one running waits
 * for it to end and triggers again. Hand-overs are batched, so a burst of
 * events costs one sync, not one per event.
 */
import type {
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import type { OktaChangedIds, OktaChangeSink } from './types';

export interface ScheduledSyncSinkOptions {
  /** The provider's scheduled task (`OktaOrgEntityProvider:<id>:refresh`). */
  taskId: string;
  scheduler: SchedulerService;
  logger: LoggerService;
  /** How often to retry while a sync is running; default 1000 ms. */
  retryIntervalMs?: number;
  /** Give up (the batcher retries later) after this long; default 10 minutes. */
  maxWaitMs?: number;
  /**
   * Tells the provider which objects the events named, before the run is
   * triggered, so that the run re-reads them whatever Okta's change markers
   * say (when it runs on this replica; on another, the markers find them).
   */
  queueReread?: (ids: OktaChangedIds) => void;
}

export class ScheduledSyncSink implements OktaChangeSink {
  constructor(private readonly options: ScheduledSyncSinkOptions) {}

  async changed(ids: OktaChangedIds): Promise<void> {
    const { scheduler, taskId, logger } = this.options;
    const interval = this.options.retryIntervalMs ?? 1000;
    const deadline = Date.now() + (this.options.maxWaitMs ?? 10 * 60_000);
    this.options.queueReread?.(ids);
    for (;;) {
      try {
        await scheduler.triggerTask(taskId);
        logger.info(
          `Okta changed ${ids.userIds.length} users, ${ids.groupIds.length} groups and the members of ${ids.membershipGroupIds.length} groups; started ${taskId}`,
        );
        return;
      } catch (error) {
        if (
          !(error instanceof Error) ||
          error.name !== 'ConflictError' ||
          Date.now() > deadline
        ) {
          throw error;
        }
      }
      await new Promise(resolve => setTimeout(resolve, interval));
    }
  }
}
