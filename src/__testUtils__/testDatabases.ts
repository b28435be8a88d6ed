/*
 * The databases the state tests run on: SQLite in memory always, and
 * PostgreSQL (a database of its own per test, dropped afterwards) when
 * OKTA_TEST_POSTGRES_URL is set, as CI sets it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from '@jest/globals';
import { knex, type Knex } from 'knex';

export function sqliteInMemory(): Knex {
  return knex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  });
}

export interface TestDatabase {
  db: Knex;
  /** Another client on the same database (a second replica). */
  another(): Knex;
  drop(): Promise<void>;
}

export const testPostgresUrl = process.env.OKTA_TEST_POSTGRES_URL;

async function sqliteDatabase(): Promise<TestDatabase> {
  // A file, so that a second client (replica) sees the same database.
  const dir = await mkdtemp(join(tmpdir(), 'okta-test-db-'));
  const filename = join(dir, 'catalog.sqlite');
  const open = (): Knex =>
    knex({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
    });
  const clients = [open()];
  return {
    db: clients[0],
    another: () => {
      const client = open();
      clients.push(client);
      return client;
    },
    drop: async () => {
      for (const client of clients.reverse()) await client.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function postgresDatabase(url: string): Promise<TestDatabase> {
  const name = `okta_test_${randomBytes(4).toString('hex')}`;
  const admin = knex({ client: 'pg', connection: url });
  await admin.raw('CREATE DATABASE ??', [name]);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const clients = [knex({ client: 'pg', connection: own.toString() })];
  return {
    db: clients[0],
    another: () => {
      const client = knex({ client: 'pg', connection: own.toString() });
      clients.push(client);
      return client;
    },
    drop: async () => {
      for (const client of clients) await client.destroy();
      await admin.raw('DROP DATABASE ?? WITH (FORCE)', [name]);
      await admin.destroy();
    },
  };
}

/** [name, create] for SQLite and, when configured, PostgreSQL. */
export const TEST_DATABASES: Array<[string, () => Promise<TestDatabase>]> = [
  ['SQLite', sqliteDatabase],
  ...(testPostgresUrl
    ? ([['PostgreSQL', () => postgresDatabase(testPostgresUrl)]] as Array<
        [string, () => Promise<TestDatabase>]
      >)
    : []),
];

/**
 * For a test file: `open(create)` makes a database that is dropped after
 * the test that made it.
 */
export function dropAfterEachTest(): (
  create: () => Promise<TestDatabase>,
) => Promise<TestDatabase> {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    for (const database of made.splice(0)) await database.drop();
  });
  return async create => {
    const database = await create();
    made.push(database);
    return database;
  };
}
