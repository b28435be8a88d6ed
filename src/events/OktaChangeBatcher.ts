/*
 * Turns the events a provider accepts into few hand-overs to the sink.
 * Events go into the provider's change queue as they arrive (deduplicated by
 * uuid, see changeQueue.ts); the batcher only decides when to hand over:
 * once no event came for a short quiet time, or a longer time after the
 * first waiting event at the latest. One hand-over runs at a time; events
 * arriving meanwhile wait for the next. A burst of 5,000 membership events
 * for one group thus becomes one or two hand-overs naming that group, not
 * 5,000 reads. A failed hand-over leaves its entries queued and is retried
 * with backoff; what a process loses when it dies is only the timer, since
 * the queue is in the database and the next sync, here or on another
 * replica, takes it. So that this does not wait for the schedule, every
 * batcher looks at the queue now and then and hands over entries that have
 * waited longer than any live replica lets them (orphans of a replica that
 * died between answering Okta and handing over).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { AcceptResult, OktaAcceptingChangeQueue } from './changeQueue';
import type { OktaChangeEvent } from './oktaEvents';
import { RateLimitedWarnings } from './rateLimitedWarnings';
import type { OktaChangeSink } from './types';

export type { AcceptResult } from './changeQueue';

export interface OktaChangeBatcherOptions {
  sink: OktaChangeSink;
  queue: OktaAcceptingChangeQueue;
  logger: LoggerService;
  /** Hand over once no event arrived for this long; default 250 ms. */
  quietMs?: number;
  /** Hand over at the latest this long after the first waiting event; default 1000 ms. */
  maxDelayMs?: number;
  /** First retry delay after a failed hand-over, doubling to 60 s; default 2000 ms. */
  retryDelayMs?: number;
  /**
   * How often to look for entries no replica handed over (0: never), and how
   * old they must be; default every 10 s, older than 10 s.
   */
  orphanCheckMs?: number;
  orphanAgeMs?: number;
}

const MAX_RETRY_DELAY_MS = 60_000;

export class OktaChangeBatcher {
  /** Events were accepted since the last hand-over started. */
  private waiting = false;
  private firstPendingAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private orphanCheck: NodeJS.Timeout | undefined;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private readonly retryDelayMs: number;
  private readonly warnings: RateLimitedWarnings;

  constructor(private readonly options: OktaChangeBatcherOptions) {
    this.warnings = new RateLimitedWarnings(options.logger);
    this.quietMs = options.quietMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 2000;
  }

  /**
   * Queues the changes of new events (by uuid); resolves once they are
   * queued, which for the database queue means committed.
   */
  async accept(changes: OktaChangeEvent[]): Promise<AcceptResult> {
    const result = await this.options.queue.accept(changes);
    if (result.overflowed) {
      this.warnings.warn(
        'queue full',
        `The Okta change queue is full: ${result.overflowed} changed objects were not queued; the scheduled sync finds their changes through Okta's change markers`,
        (count, seconds) =>
          `The Okta change queue was full for ${count} more batches of events in the last ${seconds} s; the scheduled sync finds their changes through Okta's change markers`,
      );
    }
    if (result.accepted > 0) {
      this.waiting = true;
      this.schedule(this.quietMs);
    }
    return result;
  }

  /**
   * Hands over whatever the queue holds (left by a process that stopped
   * before its hand-over) after the quiet time, and from then on looks for
   * such entries every `orphanCheckMs`.
   */
  resume(): void {
    if (this.stopped) return;
    this.waiting = true;
    this.schedule(this.quietMs);
    const every = this.options.orphanCheckMs ?? 10_000;
    if (every > 0 && !this.orphanCheck) {
      this.orphanCheck = setInterval(() => void this.adoptOrphans(), every);
      this.orphanCheck.unref();
    }
  }

  private async adoptOrphans(): Promise<void> {
    if (this.running || this.waiting || this.stopped) return;
    try {
      const oldest = await this.options.queue.oldestQueuedAt();
      const age = this.options.orphanAgeMs ?? 10_000;
      if (oldest !== undefined && Date.now() - oldest > age && !this.waiting) {
        this.options.logger.info(
          `Applying Okta changes queued ${Math.round((Date.now() - oldest) / 1000)} s ago and not applied yet (the replica that accepted them may have stopped)`,
        );
        this.resume();
      }
    } catch (error) {
      this.options.logger.debug(
        `Could not look at the Okta change queue: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Resolves when nothing is pending or being handed over (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.waiting) {
      if (this.running) await this.running;
      else if (this.stopped) return;
      else await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  stop(): void {
    this.stopped = true;
    this.warnings.flush();
    if (this.orphanCheck) clearInterval(this.orphanCheck);
    this.orphanCheck = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const now = Date.now();
    this.firstPendingAt ??= now;
    // Never later than maxDelayMs after the first pending id (unless retrying).
    const latest =
      this.failures > 0 ? delayMs : this.firstPendingAt + this.maxDelayMs - now;
    const wait = Math.max(0, Math.min(delayMs, latest));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.handOver();
    }, wait);
  }

  private handOver(): void {
    if (this.running) return; // the running hand-over schedules the next
    if (!this.waiting) return;
    this.waiting = false;
    this.firstPendingAt = undefined;
    const { queue, sink, logger } = this.options;
    this.running = (async () => {
      const changes = await queue.take();
      if (changes.size === 0) return;
      await sink.changed({
        userIds: changes.userIds,
        groupIds: changes.groupIds,
        membershipGroupIds: changes.membershipGroupIds,
        ...(changes.memberships && { memberships: changes.memberships }),
      });
      // The sink's sync may have removed them already; then this is a no-op.
      await queue.remove(changes);
    })().then(
      () => {
        this.failures = 0;
      },
      error => {
        // Still queued: handed over again with the next ones.
        this.failures++;
        this.waiting = true;
        logger.warn(
          `Applying queued Okta changes failed; retrying: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      },
    );
    this.running.finally(() => {
      this.running = undefined;
      if (this.waiting) {
        const delay =
          this.failures > 0
            ? Math.min(
                MAX_RETRY_DELAY_MS,
                this.retryDelayMs * 2 ** (this.failures - 1),
              )
            : this.quietMs;
        this.schedule(delay);
      }
    });
  }
}
