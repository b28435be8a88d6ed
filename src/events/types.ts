/*
 * What push updates hand over, and the seams the incremental-sync state
 * plugs into: a sink that re-reads what changed, a store of the event ids
 * already applied, and a store for the System Log cursor.
 */

/**
 * The Okta objects that changed, by id, as learned from Okta events. Only
 * ids: the events' other content is never trusted, the sink re-reads the
 * current state of each from Okta.
 *
 * @public
 */
export interface OktaChangedIds {
  /** Users created, changed (profile or status) or deleted: re-read each. */
  userIds: string[];
  /** Groups created, changed (profile) or deleted: re-read each. */
  groupIds: string[];
  /**
   * Groups whose members changed, without the users named (or too many of
   * them to read one by one): re-list their members (one listing per 1,000
   * members).
   */
  membershipGroupIds: string[];
  /**
   * Memberships that changed, each naming its group and user: a run started
   * by pushed events re-reads the user's groups (one request in the users
   * bucket), not the group's whole member listing.
   */
  memberships?: Array<{ groupId: string; userId: string }>;
}

/**
 * What a sync took from the queue of pushed changes: the ids to re-read,
 * and how many entries they are.
 *
 * @public
 */
export interface OktaQueuedChanges extends OktaChangedIds {
  /** How many queue entries these are (0: nothing was queued). */
  size: number;
}

/**
 * The Okta objects pushed events named and no sync has re-read yet, kept
 * where every replica sees them (the module keeps them in the catalog's
 * database). A sync takes what is queued when it starts and removes what it
 * took once it has committed; what was queued again meanwhile stays.
 *
 * @public
 */
export interface OktaChangeQueue {
  /** What is queued now (the oldest first, up to a bound). */
  take(): Promise<OktaQueuedChanges>;
  /** Removes what `take` returned, except entries queued again since. */
  remove(changes: OktaQueuedChanges): Promise<void>;
}

/**
 * Applies changes learned from Okta events. Called one hand-over at a time
 * per provider; a rejection hands the same ids over again later.
 *
 * @alpha
 */
export interface OktaChangeSink {
  changed(ids: OktaChangedIds): Promise<void>;
}

/**
 * Remembers which Okta events (by `uuid`) were already accepted, so that a
 * redelivered or replayed event is applied once. Shared by all replicas when
 * backed by the database.
 *
 * @alpha
 */
export interface OktaSeenEventStore {
  /** Marks the given event uuids as seen and returns those that were not seen before. */
  claim(uuids: string[]): Promise<string[]>;
}

/**
 * Where a System Log follower keeps its cursor (the `next` link Okta
 * returned last), so that a restart or another replica resumes there.
 *
 * @alpha
 */
export interface OktaSystemLogCursorStore {
  read(): Promise<string | undefined>;
  write(nextUrl: string): Promise<void>;
}
