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
}

/** The queue the push side writes to (the provider only takes and removes). */
export interface OktaAcceptingChangeQueue extends OktaChangeQueue {
  /** Claims the events' uuids and queues the ids of those not seen before. */
  accept(changes: OktaChangeEvent[]): Promise<AcceptResult>;
  /** When the oldest entry was queued (epoch ms); undefined when empty. */
  oldestQueuedAt(): Promise<number | undefined>;
}

type Kind = 'user' | 'group' | 'members';

interface Entry {
  kind: Kind;
  id: string;
}

/** At most this many entries per take; the rest wait for the next sync. */
const MAX_TAKE = 20_000;
/** Rows per statement, well under every client's bound-parameter limit. */
const CHUNK = 200;

/** The entries named by the events whose uuid is in `fresh` (each uuid once). */
function entriesOf(
  changes: OktaChangeEvent[],
  fresh: Set<string>,
): { entries: Entry[]; accepted: number } {
  const entries = new Map<string, Entry>();
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
  }
  return { entries: [...entries.values()], accepted };
}

function idsOf(entries: Entry[]): OktaChangedIds {
  const of = (kind: Kind) =>
    entries
      .filter(e => e.kind === kind)
      .map(e => e.id)
      .sort();
  return {
    userIds: of('user'),
    groupIds: of('group'),
    membershipGroupIds: of('members'),
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
  ) {}

  async accept(changes: OktaChangeEvent[]): Promise<AcceptResult> {
    if (changes.length === 0) return { accepted: 0, duplicates: 0 };
    const fresh = new Set(await this.seen.claim(changes.map(c => c.uuid)));
    const { entries, accepted } = entriesOf(changes, fresh);
    for (const entry of entries) {
      const key = `${entry.kind}:${entry.id}`;
      // Queued again: to the end, as in the database's order by queued_at.
      this.entries.delete(key);
      this.entries.set(key, {
        ...entry,
        version: randomUUID(),
        queuedAt: Date.now(),
      });
    }
    return { accepted, duplicates: changes.length - accepted };
  }

  async oldestQueuedAt(): Promise<number | undefined> {
    return this.entries.values().next().value?.queuedAt;
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
      for (let i = 0; i < entries.length; i += CHUNK) {
        await tx(OKTA_STATE_TABLES.changeQueue)
          .insert(
            entries.slice(i, i + CHUNK).map(entry => ({
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
      return { accepted, duplicates: changes.length - accepted };
    });
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
