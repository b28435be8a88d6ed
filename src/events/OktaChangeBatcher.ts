/*
 * Gathers the ids that Okta events name into few hand-overs to the sink:
 * events are deduplicated by uuid as they arrive, their ids merged into one
 * pending set, and the set handed over once no event came for a short quiet
 * time, or a longer time after the first pending id at the latest. One
 * hand-over runs at a time; ids arriving meanwhile wait for the next. A
 * burst of 5,000 membership events for one group thus becomes one or two
 * hand-overs naming that group, not 5,000 reads. A failed hand-over keeps
 * its ids pending and is retried with backoff; the scheduled sync remains
 * the safety net for anything lost with the process.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaChangeEvent } from './oktaEvents';
import type {
  OktaChangedIds,
  OktaChangeSink,
  OktaSeenEventStore,
} from './types';

export interface OktaChangeBatcherOptions {
  sink: OktaChangeSink;
  seen: OktaSeenEventStore;
  logger: LoggerService;
  /** Hand over once no event arrived for this long; default 250 ms. */
  quietMs?: number;
  /** Hand over at the latest this long after the first pending id; default 1000 ms. */
  maxDelayMs?: number;
  /** First retry delay after a failed hand-over, doubling to 60 s; default 2000 ms. */
  retryDelayMs?: number;
}

export interface AcceptResult {
  accepted: number;
  duplicates: number;
}

const MAX_RETRY_DELAY_MS = 60_000;

export class OktaChangeBatcher {
  private readonly userIds = new Set<string>();
  private readonly groupIds = new Set<string>();
  private readonly membershipGroupIds = new Set<string>();
  private firstPendingAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: OktaChangeBatcherOptions) {
    this.quietMs = options.quietMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 2000;
  }

  /** Takes the changes of new events (by uuid) into the pending set. */
  async accept(changes: OktaChangeEvent[]): Promise<AcceptResult> {
    if (changes.length === 0) return { accepted: 0, duplicates: 0 };
    const fresh = new Set(
      await this.options.seen.claim(changes.map(c => c.uuid)),
    );
    let accepted = 0;
    for (const change of changes) {
      // Within one batch a uuid may appear twice, too.
      if (!fresh.delete(change.uuid)) continue;
      accepted++;
      for (const id of change.userIds) this.userIds.add(id);
      for (const id of change.groupIds) this.groupIds.add(id);
      for (const id of change.membershipGroupIds)
        this.membershipGroupIds.add(id);
    }
    if (accepted > 0) this.schedule(this.quietMs);
    return { accepted, duplicates: changes.length - accepted };
  }

  /** Resolves when nothing is pending or being handed over (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.pendingCount() > 0) {
      if (this.running) await this.running;
      else if (this.stopped) return;
      else await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pendingCount(): number {
    return (
      this.userIds.size + this.groupIds.size + this.membershipGroupIds.size
    );
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
    if (this.pendingCount() === 0) return;
    const ids: OktaChangedIds = {
      userIds: [...this.userIds].sort(),
      groupIds: [...this.groupIds].sort(),
      membershipGroupIds: [...this.membershipGroupIds].sort(),
    };
    this.userIds.clear();
    this.groupIds.clear();
    this.membershipGroupIds.clear();
    this.firstPendingAt = undefined;
    this.running = this.options.sink.changed(ids).then(
      () => {
        this.failures = 0;
      },
      error => {
        this.failures++;
        // Put them back: they are handed over again with the next ones.
        for (const id of ids.userIds) this.userIds.add(id);
        for (const id of ids.groupIds) this.groupIds.add(id);
        for (const id of ids.membershipGroupIds)
          this.membershipGroupIds.add(id);
        this.options.logger.warn(
          `Applying Okta changes (${ids.userIds.length} users, ${ids.groupIds.length} groups, ${ids.membershipGroupIds.length} group memberships) failed; retrying: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
      },
    );
    this.running.finally(() => {
      this.running = undefined;
      if (this.pendingCount() > 0) {
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

/**
 * The uuids seen by this process, for as long as Okta redelivers (a day),
 * and at most `maxEntries` of them. With several replicas each keeps its
 * own: the database-backed store of the incremental sync replaces it.
 */
export class InMemoryOktaSeenEventStore implements OktaSeenEventStore {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 200_000,
    private readonly ttlMs = 24 * 3600 * 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  async claim(uuids: string[]): Promise<string[]> {
    const now = this.clock();
    const fresh: string[] = [];
    for (const uuid of uuids) {
      const seenAt = this.seen.get(uuid);
      if (seenAt !== undefined && now - seenAt < this.ttlMs) continue;
      this.seen.delete(uuid);
      this.seen.set(uuid, now);
      fresh.push(uuid);
    }
    // A Map iterates in insertion order: the oldest go first.
    for (const uuid of this.seen.keys()) {
      if (this.seen.size <= this.maxEntries) break;
      this.seen.delete(uuid);
    }
    return fresh;
  }
}
