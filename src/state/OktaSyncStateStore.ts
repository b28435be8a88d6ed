/*
 * What one provider keeps between runs so that a run reads only what changed
 * and a read that stops partway is continued, on any replica: the users as
 * Okta last gave them, each group's members with the membership marker they
 * were read at, and the progress markers of the run. Rows are keyed by
 * provider id, so two providers (two orgs) never share state; a row written
 * for another config or state format is discarded, never reinterpreted.
 */
import type { Knex } from 'knex';
import type { OktaGroup, OktaUser } from '../okta/client/types';
import { OKTA_STATE_TABLES, migrateOktaState } from './migrations';
import { OktaSyncLease } from './syncLease';

/**
 * The progress markers of one provider (epoch milliseconds, this backend's clock).
 *
 * @public
 */
export interface OktaSyncProgress {
  /** Set while a full read is under way (across runs): when it started. */
  fullReadStartedAt: number | null;
  /** When the last completed full read started. */
  lastFullReadAt: number | null;
  /**
   * Users are known as of this time: the next run asks Okta only for users
   * changed since then (less an overlap). Null: list the user directory.
   */
  usersSyncedThrough: number | null;
}

/**
 * The counts the provider last applied to the catalog.
 *
 * @public
 */
export interface OktaLastApplied {
  users: number;
  groups: number;
  /** Epoch milliseconds. */
  at: number;
}

/**
 * One group's members as last read.
 *
 * @public
 */
export interface OktaStoredGroupMembers {
  /** Okta's `lastMembershipUpdated` when the members were read. */
  marker: string | null;
  /** When the member listing started (epoch ms). */
  readAt: number;
  memberIds: string[];
  /**
   * The group as Okta last gave it (without `usersCount`); undefined in
   * state written before the module kept it, or when unreadable.
   */
  record?: OktaGroup;
}

/** A group's record as stored: without the member count, which changes with every membership. */
function storedGroupRecord(group: OktaGroup): string {
  const { usersCount: _usersCount, ...record } = group;
  return JSON.stringify(record);
}

/** A stored group record, or undefined when there is none or it cannot be read. */
function groupRecordOf(text: string | null): OktaGroup | undefined {
  if (!text) return undefined;
  try {
    const record: unknown = JSON.parse(text);
    return record &&
      typeof record === 'object' &&
      typeof (record as OktaGroup).id === 'string' &&
      typeof (record as OktaGroup).profile === 'object'
      ? (record as OktaGroup)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Rows per insert statement (SQLite allows 999 bound values). */
const BATCH = 200;

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * The state of one provider, in the shared tables.
 *
 * @public
 */
export class OktaProviderSyncState {
  constructor(
    private readonly db: Knex,
    readonly providerId: string,
  ) {}

  /**
   * The provider's lease: who applies to the catalog now (see syncLease.ts).
   *
   * @internal
   */
  lease(options?: { ttlMs?: number; clock?: () => number }): OktaSyncLease {
    return new OktaSyncLease(this.db, this.providerId, options);
  }

  /**
   * The provider's progress, when its state was written for `fingerprint`.
   * Otherwise (no state, another config, another state format) every row of
   * the provider is discarded and a fresh state is returned, which makes the
   * next read a full one.
   */
  async open(fingerprint: string): Promise<OktaSyncProgress> {
    const row = await this.db(OKTA_STATE_TABLES.providers)
      .where({ provider_id: this.providerId })
      .first();
    if (row && row.fingerprint === fingerprint) {
      return {
        fullReadStartedAt: toNumber(row.full_read_started_at),
        lastFullReadAt: toNumber(row.last_full_read_at),
        usersSyncedThrough: toNumber(row.users_synced_through),
      };
    }
    await this.db.transaction(async tx => {
      await tx(OKTA_STATE_TABLES.users)
        .where({ provider_id: this.providerId })
        .delete();
      await tx(OKTA_STATE_TABLES.groups)
        .where({ provider_id: this.providerId })
        .delete();
      // The last applied counts describe the catalog, not Okta: kept across
      // a reset so that a deletion guard still has its baseline.
      await tx(OKTA_STATE_TABLES.providers)
        .insert({
          provider_id: this.providerId,
          fingerprint,
          full_read_started_at: null,
          last_full_read_at: null,
          users_synced_through: null,
          last_applied_users: row?.last_applied_users ?? null,
          last_applied_groups: row?.last_applied_groups ?? null,
          last_applied_at: row?.last_applied_at ?? null,
        })
        .onConflict('provider_id')
        .merge();
    });
    return {
      fullReadStartedAt: null,
      lastFullReadAt: null,
      usersSyncedThrough: null,
    };
  }

  async saveProgress(progress: Partial<OktaSyncProgress>): Promise<void> {
    const update: Record<string, number | null> = {};
    if ('fullReadStartedAt' in progress) {
      update.full_read_started_at = progress.fullReadStartedAt ?? null;
    }
    if ('lastFullReadAt' in progress) {
      update.last_full_read_at = progress.lastFullReadAt ?? null;
    }
    if ('usersSyncedThrough' in progress) {
      update.users_synced_through = progress.usersSyncedThrough ?? null;
    }
    if (Object.keys(update).length > 0) {
      await this.db(OKTA_STATE_TABLES.providers)
        .where({ provider_id: this.providerId })
        .update(update);
    }
  }

  /** The counts last applied to the catalog; undefined before the first. */
  async lastApplied(): Promise<OktaLastApplied | undefined> {
    const row = await this.db(OKTA_STATE_TABLES.providers)
      .where({ provider_id: this.providerId })
      .first();
    const users = toNumber(row?.last_applied_users);
    const groups = toNumber(row?.last_applied_groups);
    const at = toNumber(row?.last_applied_at);
    return users === null || groups === null || at === null
      ? undefined
      : { users, groups, at };
  }

  /** Records what the provider just applied to the catalog. */
  async recordApplied(counts: {
    users: number;
    groups: number;
  }): Promise<void> {
    await this.db(OKTA_STATE_TABLES.providers)
      .where({ provider_id: this.providerId })
      .update({
        last_applied_users: counts.users,
        last_applied_groups: counts.groups,
        last_applied_at: Date.now(),
      });
  }

  /**
   * The hash of each entity last applied to the catalog, by lower-cased
   * entity ref. Empty before the first recorded apply (or after one whose
   * record was lost): the provider then sends a full mutation.
   */
  async loadAppliedHashes(): Promise<Map<string, string>> {
    const rows: { entity_ref: string; hash: string }[] = await this.db(
      OKTA_STATE_TABLES.appliedEntities,
    )
      .where({ provider_id: this.providerId })
      .select('entity_ref', 'hash');
    return new Map(rows.map(row => [row.entity_ref, row.hash]));
  }

  /**
   * Forgets the applied hashes of these refs (or of every entity), before a
   * mutation that changes them: if the mutation is applied but recording its
   * hashes fails, those entities are sent again, never wrongly skipped.
   */
  async forgetAppliedHashes(refs: Iterable<string> | 'all'): Promise<void> {
    const table = () =>
      this.db(OKTA_STATE_TABLES.appliedEntities).where({
        provider_id: this.providerId,
      });
    if (refs === 'all') {
      await table().delete();
      return;
    }
    const list = [...refs];
    for (let i = 0; i < list.length; i += BATCH) {
      await table()
        .whereIn('entity_ref', list.slice(i, i + BATCH))
        .delete();
    }
  }

  /** Records the hashes of the entities a mutation just applied. */
  async recordAppliedHashes(hashes: Map<string, string>): Promise<void> {
    const rows = [...hashes].map(([ref, hash]) => ({
      provider_id: this.providerId,
      entity_ref: ref,
      hash,
    }));
    for (let i = 0; i < rows.length; i += BATCH) {
      await this.db(OKTA_STATE_TABLES.appliedEntities)
        .insert(rows.slice(i, i + BATCH))
        .onConflict(['provider_id', 'entity_ref'])
        .merge();
    }
  }

  /** Every stored user, by Okta id. A record that cannot be parsed is dropped. */
  async loadUsers(): Promise<Map<string, OktaUser>> {
    const rows: { user_id: string; record: string }[] = await this.db(
      OKTA_STATE_TABLES.users,
    )
      .where({ provider_id: this.providerId })
      .select('user_id', 'record');
    const users = new Map<string, OktaUser>();
    for (const row of rows) {
      try {
        users.set(row.user_id, JSON.parse(row.record) as OktaUser);
      } catch {
        // Unreadable state is not trusted: the user is read again when it
        // next changes or at the next full read.
      }
    }
    return users;
  }

  async upsertUsers(users: Iterable<OktaUser>): Promise<void> {
    const rows = [...users].map(user => ({
      provider_id: this.providerId,
      user_id: user.id,
      record: JSON.stringify(user),
    }));
    for (let i = 0; i < rows.length; i += BATCH) {
      await this.db(OKTA_STATE_TABLES.users)
        .insert(rows.slice(i, i + BATCH))
        .onConflict(['provider_id', 'user_id'])
        .merge();
    }
  }

  async deleteUsers(ids: Iterable<string>): Promise<void> {
    const list = [...ids];
    for (let i = 0; i < list.length; i += BATCH) {
      await this.db(OKTA_STATE_TABLES.users)
        .where({ provider_id: this.providerId })
        .whereIn('user_id', list.slice(i, i + BATCH))
        .delete();
    }
  }

  /** Every stored group's members, by Okta group id. */
  async loadGroups(): Promise<Map<string, OktaStoredGroupMembers>> {
    const rows: {
      group_id: string;
      membership_marker: string | null;
      members_read_at: unknown;
      member_ids: string;
      record: string | null;
    }[] = await this.db(OKTA_STATE_TABLES.groups)
      .where({ provider_id: this.providerId })
      .select(
        'group_id',
        'membership_marker',
        'members_read_at',
        'member_ids',
        'record',
      );
    const groups = new Map<string, OktaStoredGroupMembers>();
    for (const row of rows) {
      try {
        const memberIds = JSON.parse(row.member_ids);
        if (!Array.isArray(memberIds)) continue;
        const stored: OktaStoredGroupMembers = {
          marker: row.membership_marker,
          readAt: toNumber(row.members_read_at) ?? 0,
          memberIds: memberIds.filter(
            (id): id is string => typeof id === 'string',
          ),
        };
        const record = groupRecordOf(row.record);
        if (record) stored.record = record;
        groups.set(row.group_id, stored);
      } catch {
        // As for users: unreadable means read again.
      }
    }
    return groups;
  }

  /**
   * Stores one group's members (and its record, when `members.record` is
   * set; else the stored record stays), and the users the member listing
   * gave (when users come from member listings), in one transaction: a read
   * that stops later keeps this group.
   */
  async saveGroupMembers(
    groupId: string,
    members: OktaStoredGroupMembers,
    users: OktaUser[] = [],
  ): Promise<void> {
    await this.db.transaction(async tx => {
      await tx(OKTA_STATE_TABLES.groups)
        .insert({
          provider_id: this.providerId,
          group_id: groupId,
          membership_marker: members.marker,
          members_read_at: members.readAt,
          member_ids: JSON.stringify(members.memberIds),
          ...(members.record && {
            record: storedGroupRecord(members.record),
          }),
        })
        .onConflict(['provider_id', 'group_id'])
        .merge();
      const rows = users.map(user => ({
        provider_id: this.providerId,
        user_id: user.id,
        record: JSON.stringify(user),
      }));
      for (let i = 0; i < rows.length; i += BATCH) {
        await tx(OKTA_STATE_TABLES.users)
          .insert(rows.slice(i, i + BATCH))
          .onConflict(['provider_id', 'user_id'])
          .merge();
      }
    });
  }

  /**
   * Replaces the stored records of these groups (those with a stored row;
   * others are stored with their members).
   */
  async saveGroupRecords(groups: Iterable<OktaGroup>): Promise<void> {
    for (const group of groups) {
      await this.db(OKTA_STATE_TABLES.groups)
        .where({ provider_id: this.providerId, group_id: group.id })
        .update({ record: storedGroupRecord(group) });
    }
  }

  async deleteGroups(ids: Iterable<string>): Promise<void> {
    const list = [...ids];
    for (let i = 0; i < list.length; i += BATCH) {
      await this.db(OKTA_STATE_TABLES.groups)
        .where({ provider_id: this.providerId })
        .whereIn('group_id', list.slice(i, i + BATCH))
        .delete();
    }
  }
}

/**
 * The incremental sync's state tables of every provider of one backend, in a
 * database of the catalog plugin (`coreServices.database`). The module
 * creates one; build one yourself only when you construct providers in code.
 *
 * @public
 */
export class OktaSyncStateStore {
  private constructor(private readonly db: Knex) {}

  /** Migrates the tables (idempotent) and returns the store. */
  static async create(db: Knex): Promise<OktaSyncStateStore> {
    await migrateOktaState(db);
    return new OktaSyncStateStore(db);
  }

  /** The state of one provider. */
  forProvider(providerId: string): OktaProviderSyncState {
    return new OktaProviderSyncState(this.db, providerId);
  }
}
