/*
 * The Okta objects that pushed events named and no sync has re-read yet.
 * Accepting a batch claims its event uuids and queues the ids they name in
 * one step (one transaction in the database), before the endpoint answers
 * Okta: a replica that dies after answering loses nothing, since whichever
 * replica syncs the provider next finds the ids queued. A sync takes what is
 * queued when it starts and, once committed, removes exactly those entries:
 * an id queued again meanwhile carries a new version and stays for the next.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { OKTA_STATE_TABLES } from '../state/migrations';
import { InMemoryOktaSeenEventStore } from './seenEvents';
import type { OktaChangeEvent } from './oktaEvents';
import type {
  OktaChangeQueue,
  OktaChangedIds,
  OktaQueuedChanges,
  OktaSeenEventStore,
} from './types';

export interface AcceptResult {
  accepted: number;
  duplicates: number;
  /**
   * Objects the accepted events named that were not queued because the
   * queue was full (see MAX_QUEUED_ENTRIES); absent when none.
   */
  overflowed?: number;
}

/** The queue the push side writes to (the provider only takes and removes). */
export interface OktaAcceptingChangeQueue extends OktaChangeQueue {
  /** Claims the events' uuids and queues the ids of those not seen before. */
  accept(changes: OktaChangeEvent[]): Promise<AcceptResult>;
  /** When the oldest entry was queued (epoch ms); undefined when empty. */
  oldestQueuedAt(): Promise<number | undefined>;
}

/**
 * 'user', 'group', 'members' (a group's whole member list) and
 * 'membership' (one user's membership of one group; id `groupId:userId`).
 */
type Kind = 'user' | 'group' | 'members' | 'membership';

interface Entry {
  kind: Kind;
  id: string;
}

/** At most this many entries per take; the rest wait for the next sync. */
const MAX_TAKE = 20_000;
/**
 * At most this many entries per provider. The queue holds one entry per
 * Okta object (kind and id), so a flood of events about the same objects
 * only refreshes their entries and never grows it; this bounds a flood
 * about ever new ids (five runs' worth of takes). An object not queued
 * because the queue is full is not lost: the queue only makes a run re-read
 * it sooner, and the provider's scheduled sync finds every change through
 * Okta's own change markers (and its periodic full read).
 */
export const MAX_QUEUED_ENTRIES = 100_000;
/**
 * A batch naming more memberships of one group than this queues the group's
 * member list instead (one entry, one listing of at most a page per 1,000
 * members): a flood of membership events (a group rule adding thousands of
 * users) stays one entry per group, as before memberships were queued.
 */
export const MAX_MEMBERSHIPS_PER_GROUP_IN_A_BATCH = 20;
/** Rows per statement, well under every client's bound-parameter limit. */
const CHUNK = 200;

/** The entries named by the events whose uuid is in `fresh` (each uuid once). */
function entriesOf(
  changes: OktaChangeEvent[],
  fresh: Set<string>,
): { entries: Entry[]; accepted: number } {
  const entries = new Map<string, Entry>();
  const membershipsByGroup = new Map<string, Set<string>>();
  let accepted = 0;
  for (const change of changes) {
    // Within one batch a uuid may appear twice, too.
    if (!fresh.delete(change.uuid)) continue;
    accepted++;
    const add = (kind: Kind, ids: string[]) => {
      for (const id of ids) entries.set(`${kind}:${id}`, { kind, id });
    };
    add('user', change.userIds);
    add('group', change.groupIds);
    add('members', change.membershipGroupIds);
    for (const { groupId, userId } of change.memberships ?? []) {
      const users = membershipsByGroup.get(groupId) ?? new Set();
      users.add(userId);
      membershipsByGroup.set(groupId, users);
    }
  }
  for (const [groupId, userIds] of membershipsByGroup) {
    if (
      userIds.size > MAX_MEMBERSHIPS_PER_GROUP_IN_A_BATCH ||
      entries.has(`members:${groupId}`)
    ) {
      entries.set(`members:${groupId}`, { kind: 'members', id: groupId });
      continue;
    }
    for (const userId of userIds) {
      const id = `${groupId}:${userId}`;
      entries.set(`membership:${id}`, { kind: 'membership', id });
    }
  }
  return { entries: [...entries.values()], accepted };
}

function idsOf(entries: Entry[]): OktaChangedIds {
  const of = (kind: Kind) =>
    entries
      .filter(e => e.kind === kind)
      .map(e => e.id)
      .sort();
  const memberships = of('membership').flatMap(id => {
    const [groupId, userId] = id.split(':');
    return groupId && userId ? [{ groupId, userId }] : [];
  });
  return {
    userIds: of('user'),
    groupIds: of('group'),
    membershipGroupIds: of('members'),
    ...(memberships.length > 0 && { memberships }),
  };
}

/** Versions of the taken entries, kept out of the public shape. */
const takenVersions = new WeakMap<OktaQueuedChanges, string[]>();

function taken(entries: Array<Entry & { version: string }>): OktaQueuedChanges {
  const changes: OktaQueuedChanges = {
    ...idsOf(entries),
    size: entries.length,
  };
  takenVersions.set(
    changes,
    entries.map(e => e.version),
  );
  return changes;
}

/** The queue of one process (tests, and providers without a database). */
export class InMemoryOktaChangeQueue implements OktaAcceptingChangeQueue {
  private readonly entries = new Map<
    string,
    Entry & { version: string; queuedAt: number }
  >();

  constructor(
    private readonly seen: OktaSeenEventStore = new InMemoryOktaSeenEventStore(),
    private readonly maxQueued = MAX_QUEUED_ENTRIES,
  ) {}

  async accept(changes: OktaChangeEvent[]): Promise<AcceptResult> {
    if (changes.length === 0) return { accepted: 0, duplicates: 0 };
    const fresh = new Set(await this.seen.claim(changes.map(c => c.uuid)));
    const { entries, accepted } = entriesOf(changes, fresh);
    let overflowed = 0;
    for (const entry of entries) {
      const key = `${entry.kind}:${entry.id}`;
      if (!this.entries.has(key) && this.entries.size >= this.maxQueued) {
        overflowed++;
        continue;
      }
      // Queued again: to the end, as in the database's order by queued_at.
      this.entries.delete(key);
      this.entries.set(key, {
        ...entry,
        version: randomUUID(),
        queuedAt: Date.now(),
      });
    }
    return {
      accepted,
      duplicates: changes.length - accepted,
      ...(overflowed > 0 && { overflowed }),
    };
  }

  async oldestQueuedAt(): Promise<number | undefined> {
    return this.entries.values().next().value?.queuedAt;
  }

  /** How many entries are queued (take returns at most MAX_TAKE of them). */
  get size(): number {
    return this.entries.size;
  }

  async take(): Promise<OktaQueuedChanges> {
    return taken([...this.entries.values()].slice(0, MAX_TAKE));
  }

  async remove(changes: OktaQueuedChanges): Promise<void> {
    const versions = new Set(takenVersions.get(changes) ?? []);
    for (const [key, entry] of this.entries) {
      if (versions.has(entry.version)) this.entries.delete(key);
    }
  }
}

/**
 * The queue in the catalog's database, shared by every replica. The uuid
 * claim is one `INSERT ... ON CONFLICT DO NOTHING RETURNING`, so an event
 * delivered to two replicas is accepted by one. MySQL has no RETURNING:
 * there each replica claims uuids in memory (the queue is still shared).
 */
export class DatabaseOktaChangeQueue implements OktaAcceptingChangeQueue {
  private lastPrune = 0;
  private readonly memorySeen?: InMemoryOktaSeenEventStore;

  constructor(
    private readonly knex: Knex,
    private readonly providerId: string,
    private readonly options: {
      seenTtlMs: number;
      clock: () => number;
      claimInMemory?: boolean;
      /** Default MAX_QUEUED_ENTRIES. */
      maxQueued?: number;
    },
  ) {
    if (options.claimInMemory)
      this.memorySeen = new InMemoryOktaSeenEventStore();
  }

  async accept(changes: OktaChangeEvent[]): Promise<AcceptResult> {
    if (changes.length === 0) return { accepted: 0, duplicates: 0 };
    const now = this.options.clock();
    await this.pruneNowAndThen(now);
    const uuids = [...new Set(changes.map(c => c.uuid))];
    return this.knex.transaction(async tx => {
      const fresh = new Set(
        this.memorySeen
          ? await this.memorySeen.claim(uuids)
          : await claimInDatabase(tx, this.providerId, uuids, now),
      );
      const { entries, accepted } = entriesOf(changes, fresh);
      const queueing = await this.withinBound(tx, entries);
      for (let i = 0; i < queueing.length; i += CHUNK) {
        await tx(OKTA_STATE_TABLES.changeQueue)
          .insert(
            queueing.slice(i, i + CHUNK).map(entry => ({
              provider_id: this.providerId,
              kind: entry.kind,
              okta_id: entry.id,
              version: randomUUID(),
              queued_at: now,
            })),
          )
          .onConflict(['provider_id', 'kind', 'okta_id'])
          .merge(['version', 'queued_at']);
      }
      const overflowed = entries.length - queueing.length;
      return {
        accepted,
        duplicates: changes.length - accepted,
        ...(overflowed > 0 && { overflowed }),
      };
    });
  }

  /**
   * The entries that fit: those already queued (queued again, the table
   * does not grow) and new ones while there is room. Replicas accepting at
   * the same moment may each fill the last room, so the bound holds up to
   * one batch per replica.
   */
  private async withinBound(tx: Knex, entries: Entry[]): Promise<Entry[]> {
    const maxQueued = this.options.maxQueued ?? MAX_QUEUED_ENTRIES;
    if (entries.length === 0) return entries;
    const row = (await tx(OKTA_STATE_TABLES.changeQueue)
      .where('provider_id', this.providerId)
      .count({ count: '*' })
      .first()) as { count: number | string } | undefined;
    let room = maxQueued - Number(row?.count ?? 0);
    if (room >= entries.length) return entries;
    const queued = new Set<string>();
    for (let i = 0; i < entries.length; i += CHUNK) {
      const ids = entries.slice(i, i + CHUNK).map(e => e.id);
      const rows = (await tx(OKTA_STATE_TABLES.changeQueue)
        .where('provider_id', this.providerId)
        .whereIn('okta_id', ids)
        .select('kind', 'okta_id')) as Array<{ kind: Kind; okta_id: string }>;
      for (const r of rows) queued.add(`${r.kind}:${r.okta_id}`);
    }
    return entries.filter(e => queued.has(`${e.kind}:${e.id}`) || room-- > 0);
  }

  async oldestQueuedAt(): Promise<number | undefined> {
    const row = (await this.knex(OKTA_STATE_TABLES.changeQueue)
      .where('provider_id', this.providerId)
      .min({ oldest: 'queued_at' })
      .first()) as { oldest: unknown } | undefined;
    return row?.oldest === null || row?.oldest === undefined
      ? undefined
      : Number(row.oldest);
  }

  async take(): Promise<OktaQueuedChanges> {
    const rows = (await this.knex(OKTA_STATE_TABLES.changeQueue)
      .where('provider_id', this.providerId)
      .orderBy('queued_at')
      .limit(MAX_TAKE)
      .select('kind', 'okta_id', 'version')) as Array<{
      kind: Kind;
      okta_id: string;
      version: string;
    }>;
    return taken(
      rows.map(r => ({ kind: r.kind, id: r.okta_id, version: r.version })),
    );
  }

  async remove(changes: OktaQueuedChanges): Promise<void> {
    const versions = takenVersions.get(changes) ?? [];
    for (let i = 0; i < versions.length; i += CHUNK) {
      await this.knex(OKTA_STATE_TABLES.changeQueue)
        .where('provider_id', this.providerId)
        .whereIn('version', versions.slice(i, i + CHUNK))
        .delete();
    }
  }

  private async pruneNowAndThen(now: number): Promise<void> {
    if (this.memorySeen || now - this.lastPrune < 10 * 60_000) return;
    this.lastPrune = now;
    await this.knex(OKTA_STATE_TABLES.seenEvents)
      .where('provider_id', this.providerId)
      .andWhere('seen_at', '<', now - this.options.seenTtlMs)
      .delete();
  }
}

async function claimInDatabase(
  tx: Knex,
  providerId: string,
  uuids: string[],
  now: number,
): Promise<string[]> {
  const fresh: string[] = [];
  for (let i = 0; i < uuids.length; i += CHUNK) {
    const rows = (await tx(OKTA_STATE_TABLES.seenEvents)
      .insert(
        uuids.slice(i, i + CHUNK).map(uuid => ({
          provider_id: providerId,
          uuid,
          seen_at: now,
        })),
      )
      .onConflict(['provider_id', 'uuid'])
      .ignore()
      .returning('uuid')) as Array<{ uuid: string }>;
    for (const row of rows) fresh.push(row.uuid);
  }
  return fresh;
}
