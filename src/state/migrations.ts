/*
 * The tables the incremental sync keeps its state in, created in the
 * catalog's own database (the one `coreServices.database` gives the
 * catalog's modules). Every table, and knex's own bookkeeping of these
 * migrations, is prefixed `okta_org_` so that nothing can clash with the
 * catalog's tables or its migrations. The migrations live in code (a knex
 * `migrationSource`) so that they ship with the compiled module.
 */
import type { Knex } from 'knex';

/** knex's bookkeeping table for these migrations (its lock table gets `_lock`). */
export const OKTA_STATE_MIGRATIONS_TABLE = 'okta_org__knex_migrations';

export const OKTA_STATE_TABLES = {
  /** One row per provider: fingerprint, progress markers, last applied counts. */
  providers: 'okta_org_sync_providers',
  /** The provider's users as Okta last gave them (the raw record, as JSON). */
  users: 'okta_org_sync_users',
  /**
   * Each group's member ids, Okta's membership marker when they were read,
   * and the group's record (its profile) as Okta last gave it.
   */
  groups: 'okta_org_sync_groups',
  /** Which replica runs a provider's sync (or applies its pushed changes) now, and until when. */
  leases: 'okta_org_sync_leases',
  /** The uuids of the Okta events already accepted (deduplication across replicas). */
  seenEvents: 'okta_org_push_seen_events',
  /** The Okta objects pushed events named and no sync has re-read yet. */
  changeQueue: 'okta_org_push_queue',
  /** Each System Log follower's polling cursor (the `next` link Okta returned last). */
  systemLogCursors: 'okta_org_push_system_log_cursors',
  /**
   * Each entity the provider last applied to the catalog, by entity ref,
   * with a hash of it: an incremental run sends the catalog only what
   * differs (a delta mutation).
   */
  appliedEntities: 'okta_org_sync_applied_entities',
} as const;

interface OktaStateMigration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const migrations: OktaStateMigration[] = [
  {
    name: '20261201000000_init',
    async up(knex) {
      await knex.schema.createTable(OKTA_STATE_TABLES.providers, table => {
        table.string('provider_id', 255).primary();
        // The config and state format the rows below were written for: any
        // difference discards them (then a full read) instead of misreading.
        table.text('fingerprint').notNullable();
        // Epoch milliseconds (this backend's clock).
        table.bigInteger('full_read_started_at').nullable();
        table.bigInteger('last_full_read_at').nullable();
        table.bigInteger('users_synced_through').nullable();
        table.integer('last_applied_users').nullable();
        table.integer('last_applied_groups').nullable();
        table.bigInteger('last_applied_at').nullable();
      });
      await knex.schema.createTable(OKTA_STATE_TABLES.users, table => {
        table.string('provider_id', 255).notNullable();
        table.string('user_id', 255).notNullable();
        table.text('record').notNullable();
        table.primary(['provider_id', 'user_id']);
      });
      await knex.schema.createTable(OKTA_STATE_TABLES.groups, table => {
        table.string('provider_id', 255).notNullable();
        table.string('group_id', 255).notNullable();
        // Okta's lastMembershipUpdated as the group listing showed it when
        // the members below were read.
        table.string('membership_marker', 64).nullable();
        table.bigInteger('members_read_at').notNullable();
        // JSON array of Okta user ids.
        table.text('member_ids').notNullable();
        table.primary(['provider_id', 'group_id']);
      });
    },
    async down(knex) {
      await knex.schema.dropTable(OKTA_STATE_TABLES.groups);
      await knex.schema.dropTable(OKTA_STATE_TABLES.users);
      await knex.schema.dropTable(OKTA_STATE_TABLES.providers);
    },
  },
  {
    name: '20261202000000_push_updates',
    async up(knex) {
      await knex.schema.createTable(OKTA_STATE_TABLES.leases, table => {
        table.string('provider_id', 255).primary();
        // A random id per acquisition: a replica never mistakes another's
        // lease, or an earlier one of its own, for the one it holds.
        table.string('holder', 64).notNullable();
        // Epoch ms; a lease not renewed by then is free (its holder died).
        table.bigInteger('expires_at').notNullable();
      });
      await knex.schema.createTable(OKTA_STATE_TABLES.seenEvents, table => {
        table.string('provider_id', 255).notNullable();
        table.string('uuid', 64).notNullable();
        table.bigInteger('seen_at').notNullable();
        table.primary(['provider_id', 'uuid']);
        table.index(['seen_at']);
      });
      await knex.schema.createTable(OKTA_STATE_TABLES.changeQueue, table => {
        table.string('provider_id', 255).notNullable();
        // 'user' (re-read the user), 'group' (re-read the group) or
        // 'members' (list the group's members).
        table.string('kind', 16).notNullable();
        table.string('okta_id', 255).notNullable();
        // Replaced whenever the id is queued again, so that a sync removes
        // only the entries it read, not one queued while it ran.
        table.string('version', 64).notNullable();
        table.bigInteger('queued_at').notNullable();
        table.primary(['provider_id', 'kind', 'okta_id']);
      });
      await knex.schema.createTable(
        OKTA_STATE_TABLES.systemLogCursors,
        table => {
          table.string('provider_id', 255).primary();
          table.text('next_url').notNullable();
          table.bigInteger('updated_at').notNullable();
        },
      );
    },
    async down(knex) {
      await knex.schema.dropTable(OKTA_STATE_TABLES.systemLogCursors);
      await knex.schema.dropTable(OKTA_STATE_TABLES.changeQueue);
      await knex.schema.dropTable(OKTA_STATE_TABLES.seenEvents);
      await knex.schema.dropTable(OKTA_STATE_TABLES.leases);
    },
  },
  {
    name: '20261204000000_applied_entities',
    async up(knex) {
      await knex.schema.createTable(
        OKTA_STATE_TABLES.appliedEntities,
        table => {
          table.string('provider_id', 255).notNullable();
          // The entity ref, lower-cased (kind:namespace/name).
          table.string('entity_ref', 512).notNullable();
          // sha256 (hex) of the entity as applied.
          table.string('hash', 64).notNullable();
          table.primary(['provider_id', 'entity_ref']);
        },
      );
    },
    async down(knex) {
      await knex.schema.dropTable(OKTA_STATE_TABLES.appliedEntities);
    },
  },
  {
    name: '20261205000000_group_records',
    async up(knex) {
      // The group as Okta last gave it (raw record, as JSON), so that a run
      // started by pushed events builds the Group entities without listing
      // the groups. Null in rows written before: such a state is brought up
      // to date by the next scheduled run, which lists the groups.
      await knex.schema.alterTable(OKTA_STATE_TABLES.groups, table => {
        table.text('record').nullable();
      });
    },
    async down(knex) {
      await knex.schema.alterTable(OKTA_STATE_TABLES.groups, table => {
        table.dropColumn('record');
      });
    },
  },
];

/** The module's migrations as knex takes them in code. */
export const oktaStateMigrationSource: Knex.MigrationSource<OktaStateMigration> =
  {
    getMigrations: async () => migrations,
    getMigrationName: migration => migration.name,
    getMigration: async migration => migration,
  };

/** Brings the state tables up to date (idempotent; safe from several replicas at once). */
export async function migrateOktaState(knex: Knex): Promise<void> {
  // Replicas starting together race to create knex's bookkeeping tables
  // and then for its migration lock; the losers try again (knex's latest()
  // is idempotent) instead of failing their start-up.
  for (let attempt = 1; ; attempt++) {
    try {
      await knex.migrate.latest({
        migrationSource: oktaStateMigrationSource,
        tableName: OKTA_STATE_MIGRATIONS_TABLE,
      });
      return;
    } catch (error) {
      const locked = (error as Error)?.name === 'MigrationLocked';
      if (attempt >= (locked ? 60 : 3)) {
        throw error;
      }
      await new Promise(resolve => setTimeout(resolve, locked ? 500 : 100));
    }
  }
}
