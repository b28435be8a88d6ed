/*
 * The state store on SQLite in memory (as in the dev backend and tests) and
 * on PostgreSQL (as in production) when OKTA_TEST_POSTGRES_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { knex, type Knex } from 'knex';
import { TEST_DATABASES } from '../__testUtils__/testDatabases';
import {
  OKTA_STATE_MIGRATIONS_TABLE,
  OKTA_STATE_TABLES,
  oktaStateMigrationSource,
} from './migrations';
import {
  OktaProviderSyncState,
  OktaSyncStateStore,
} from './OktaSyncStateStore';

const postgresUrl = process.env.OKTA_TEST_POSTGRES_URL;
if (!postgresUrl) {
  // eslint-disable-next-line no-console
  console.warn(
    'OKTA_TEST_POSTGRES_URL is not set: the state store is tested on SQLite only',
  );
}

const engines: [
  string,
  () => Promise<{ db: Knex; cleanup: () => Promise<void> }>,
][] = [
  [
    'SQLite',
    async () => {
      const db = knex({
        client: 'better-sqlite3',
        connection: { filename: ':memory:' },
        useNullAsDefault: true,
      });
      return { db, cleanup: () => db.destroy() };
    },
  ],
];
if (postgresUrl) {
  engines.push([
    'PostgreSQL',
    async () => {
      const name = `okta_state_test_${randomBytes(4).toString('hex')}`;
      const admin = knex({ client: 'pg', connection: postgresUrl });
      await admin.raw(`CREATE DATABASE ${name}`);
      const url = new URL(postgresUrl);
      url.pathname = `/${name}`;
      const db = knex({ client: 'pg', connection: url.toString() });
      return {
        db,
        cleanup: async () => {
          await db.destroy();
          await admin.raw(`DROP DATABASE ${name}`);
          await admin.destroy();
        },
      };
    },
  ]);
}

describe.each(engines)('OktaSyncStateStore on %s', (_engine, connect) => {
  let db: Knex;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ db, cleanup } = await connect());
  });
  afterAll(() => cleanup());

  it('creates only prefixed tables and its own migrations table, idempotently and concurrently', async () => {
    await Promise.all([
      OktaSyncStateStore.create(db),
      OktaSyncStateStore.create(db),
    ]);
    await OktaSyncStateStore.create(db);
    for (const table of [
      ...Object.values(OKTA_STATE_TABLES),
      OKTA_STATE_MIGRATIONS_TABLE,
    ]) {
      expect(table.startsWith('okta_org_')).toBe(true);
      expect(await db.schema.hasTable(table)).toBe(true);
    }
    // knex's default bookkeeping table (the catalog's) is not touched.
    expect(await db.schema.hasTable('knex_migrations')).toBe(false);
    const applied = await db(OKTA_STATE_MIGRATIONS_TABLE).select('name');
    expect(applied.map(row => row.name)).toEqual([
      '20261201000000_init',
      '20261202000000_push_updates',
      '20261204000000_applied_entities',
      '20261205000000_group_records',
    ]);
  });

  it('keeps the hashes of the applied entities per provider, forgets some or all, and writes more than one statement binds', async () => {
    const store = await OktaSyncStateStore.create(db);
    const e = store.forProvider('e');
    const f = store.forProvider('f');
    const many = new Map(
      Array.from({ length: 1234 }, (_, i) => [`user:default/u${i}`, `h${i}`]),
    );
    await e.recordAppliedHashes(many);
    await f.recordAppliedHashes(new Map([['group:default/g', 'x']]));
    expect(await e.loadAppliedHashes()).toEqual(many);
    await e.recordAppliedHashes(new Map([['user:default/u1', 'changed']]));
    expect((await e.loadAppliedHashes()).get('user:default/u1')).toBe(
      'changed',
    );
    await e.forgetAppliedHashes(
      Array.from({ length: 1000 }, (_, i) => `user:default/u${i}`),
    );
    expect((await e.loadAppliedHashes()).size).toBe(234);
    await e.forgetAppliedHashes('all');
    expect((await e.loadAppliedHashes()).size).toBe(0);
    expect(await f.loadAppliedHashes()).toEqual(
      new Map([['group:default/g', 'x']]),
    );
  });

  it('keeps users, groups and progress per provider, and discards them for another fingerprint', async () => {
    const store = await OktaSyncStateStore.create(db);
    const a = store.forProvider('a');
    const b = store.forProvider('b');
    expect(await a.open('f1')).toEqual({
      fullReadStartedAt: null,
      lastFullReadAt: null,
      usersSyncedThrough: null,
    });
    await b.open('f1');
    await a.upsertUsers([
      {
        id: '00u1',
        profile: { login: 'x' },
        lastUpdated: '2025-01-01T00:00:00.000Z',
      },
    ]);
    await a.upsertUsers([{ id: '00u1', profile: { login: 'y' } }]);
    await b.upsertUsers([{ id: '00u2', profile: { login: 'z' } }]);
    await a.saveGroupMembers('00g1', {
      marker: 'm',
      readAt: 5,
      memberIds: ['00u1'],
    });
    await a.saveProgress({
      usersSyncedThrough: 1_800_000_000_000,
      lastFullReadAt: 7,
    });
    await a.recordApplied({ users: 1, groups: 1 });

    expect([...(await a.loadUsers()).values()]).toEqual([
      { id: '00u1', profile: { login: 'y' } },
    ]);
    expect([...(await b.loadUsers()).keys()]).toEqual(['00u2']);
    expect(await a.loadGroups()).toEqual(
      new Map([['00g1', { marker: 'm', readAt: 5, memberIds: ['00u1'] }]]),
    );
    expect(await b.loadGroups()).toEqual(new Map());
    expect(await a.open('f1')).toEqual({
      fullReadStartedAt: null,
      lastFullReadAt: 7,
      usersSyncedThrough: 1_800_000_000_000,
    });

    // Another config or state format: nothing of the old state is read...
    expect(await a.open('f2')).toEqual({
      fullReadStartedAt: null,
      lastFullReadAt: null,
      usersSyncedThrough: null,
    });
    expect((await a.loadUsers()).size).toBe(0);
    expect((await a.loadGroups()).size).toBe(0);
    // ...but what was applied to the catalog is still known, and b is untouched.
    expect(await a.lastApplied()).toEqual({
      users: 1,
      groups: 1,
      at: expect.any(Number),
    });
    expect([...(await b.loadUsers()).keys()]).toEqual(['00u2']);
    expect(await b.lastApplied()).toBeUndefined();
  });

  it("keeps each group's record with its members: written with them or alone, kept when members are saved without one", async () => {
    const store = await OktaSyncStateStore.create(db);
    const e = store.forProvider('e');
    await e.open('f');
    const group = (name: string) => ({
      id: '00g7',
      type: 'OKTA_GROUP',
      lastUpdated: '2026-01-01T00:00:00.000Z',
      profile: { name, custom: 'x' },
    });
    await e.saveGroupMembers('00g7', {
      marker: 'm1',
      readAt: 1,
      memberIds: ['00u1'],
      record: { ...group('One'), usersCount: 1 },
    });
    expect((await e.loadGroups()).get('00g7')?.record).toEqual(group('One'));
    await e.saveGroupMembers('00g7', {
      marker: 'm2',
      readAt: 2,
      memberIds: ['00u1', '00u2'],
    });
    expect((await e.loadGroups()).get('00g7')).toEqual({
      marker: 'm2',
      readAt: 2,
      memberIds: ['00u1', '00u2'],
      record: group('One'),
    });
    await e.saveGroupRecords([group('Two'), { ...group('Gone'), id: '00g8' }]);
    const groups = await e.loadGroups();
    expect(groups.get('00g7')?.record).toEqual(group('Two'));
    // No row for 00g8: records are stored with members, never alone.
    expect(groups.has('00g8')).toBe(false);
    await db(OKTA_STATE_TABLES.groups)
      .where({ provider_id: 'e', group_id: '00g7' })
      .update({ record: '{nope' });
    expect((await e.loadGroups()).get('00g7')).toEqual({
      marker: 'm2',
      readAt: 2,
      memberIds: ['00u1', '00u2'],
    });
  });

  it('drops unreadable rows instead of misreading them', async () => {
    const store = await OktaSyncStateStore.create(db);
    const c = store.forProvider('c');
    await c.open('f');
    await db(OKTA_STATE_TABLES.users).insert({
      provider_id: 'c',
      user_id: 'bad',
      record: '{nope',
    });
    await db(OKTA_STATE_TABLES.groups).insert({
      provider_id: 'c',
      group_id: 'bad',
      membership_marker: null,
      members_read_at: 1,
      member_ids: '"not a list"',
    });
    expect((await c.loadUsers()).size).toBe(0);
    expect((await c.loadGroups()).size).toBe(0);
  });

  it('writes and deletes more rows than one statement binds', async () => {
    const store = await OktaSyncStateStore.create(db);
    const d = store.forProvider('d');
    await d.open('f');
    const users = Array.from({ length: 1234 }, (_, i) => ({
      id: `00u${i}`,
      profile: {},
    }));
    await d.upsertUsers(users);
    expect((await d.loadUsers()).size).toBe(1234);
    await d.deleteUsers(users.slice(0, 1000).map(u => u.id));
    expect((await d.loadUsers()).size).toBe(234);
  });
});

describe.each(TEST_DATABASES)(
  'the state migrations on %s',
  (_engine, create) => {
    it('upgrade a database of the first migration without losing its state', async () => {
      const database = await create();
      try {
        const { db } = database;
        const knexOptions = {
          migrationSource: oktaStateMigrationSource,
          tableName: OKTA_STATE_MIGRATIONS_TABLE,
        };
        // The module's first release: only the sync tables.
        await db.migrate.up(knexOptions);
        expect(await db.schema.hasTable(OKTA_STATE_TABLES.changeQueue)).toBe(
          false,
        );
        const before = new OktaProviderSyncState(db, 'us');
        await before.open('fp-1');
        await before.saveProgress({ usersSyncedThrough: 42 });
        await before.saveGroupMembers('00g1', {
          marker: 'm',
          readAt: 5,
          memberIds: ['00u1'],
        });

        await OktaSyncStateStore.create(db);
        for (const table of Object.values(OKTA_STATE_TABLES)) {
          expect(await db.schema.hasTable(table)).toBe(true);
        }
        expect(
          await new OktaProviderSyncState(db, 'us').open('fp-1'),
        ).toMatchObject({ usersSyncedThrough: 42 });
        // A group stored before records were kept: members kept, no record.
        const upgraded = new OktaProviderSyncState(db, 'us');
        expect(await upgraded.loadGroups()).toEqual(
          new Map([['00g1', { marker: 'm', readAt: 5, memberIds: ['00u1'] }]]),
        );
        expect((await upgraded.loadGroups()).get('00g1')).not.toHaveProperty(
          'record',
        );
        const record = {
          id: '00g1',
          type: 'OKTA_GROUP',
          lastMembershipUpdated: 'm',
          profile: { name: 'Team' },
        };
        await upgraded.saveGroupRecords([{ ...record, usersCount: 3 }]);
        expect((await upgraded.loadGroups()).get('00g1')).toEqual({
          marker: 'm',
          readAt: 5,
          memberIds: ['00u1'],
          record,
        });

        // And back down, for an operator rolling the module back.
        await db.migrate.down(knexOptions);
        expect(
          await db.schema.hasColumn(OKTA_STATE_TABLES.groups, 'record'),
        ).toBe(false);
        expect(
          await db.schema.hasTable(OKTA_STATE_TABLES.appliedEntities),
        ).toBe(true);
        await db.migrate.down(knexOptions);
        expect(
          await db.schema.hasTable(OKTA_STATE_TABLES.appliedEntities),
        ).toBe(false);
        expect(await db.schema.hasTable(OKTA_STATE_TABLES.leases)).toBe(true);
        await db.migrate.down(knexOptions);
        expect(await db.schema.hasTable(OKTA_STATE_TABLES.leases)).toBe(false);
        expect(await db.schema.hasTable(OKTA_STATE_TABLES.users)).toBe(true);
      } finally {
        await database.drop();
      }
    });
  },
);
