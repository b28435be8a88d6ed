/*
 * The uuids of the Okta events one process has accepted, for queues
 * without a shared database (and for MySQL, which cannot claim atomically).
 */
import type { OktaSeenEventStore } from './types';

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
