/*
 * The deletion guard's baseline: how many users and groups the provider's
 * last applied sync had. The provider takes it as a small interface so that
 * a store shared by replicas and kept across restarts (the database state
 * store) can stand in for the in-memory default without the provider
 * knowing how it is kept.
 */
import type { OktaEntityCounts } from './syncSummary';

/**
 * Where a provider keeps the counts of its last applied sync, for the
 * deletion guard. One store per provider id.
 *
 * The default, {@link InMemoryOktaAppliedCountsStore}, lives as long as the
 * process: after a restart the first sync has no baseline, and the guard then
 * refuses only an empty result. A store in the backend's database makes the
 * guard hold across restarts and replicas.
 *
 * @public
 */
export interface OktaAppliedCountsStore {
  /** The counts of the last applied sync, or undefined when none is recorded. */
  lastApplied(): Promise<OktaEntityCounts | undefined>;
  /** Records the counts of a sync that was just applied. */
  recordApplied(counts: OktaEntityCounts): Promise<void>;
}

/**
 * An {@link OktaAppliedCountsStore} in memory: the provider's default.
 *
 * @public
 */
export class InMemoryOktaAppliedCountsStore implements OktaAppliedCountsStore {
  private counts?: OktaEntityCounts;

  async lastApplied(): Promise<OktaEntityCounts | undefined> {
    return this.counts && { ...this.counts };
  }

  async recordApplied(counts: OktaEntityCounts): Promise<void> {
    this.counts = { users: counts.users, groups: counts.groups };
  }
}
