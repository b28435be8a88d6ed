import { afterEach, describe, expect, it } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import { knex, type Knex } from 'knex';
import { createDatabasePushStores, SEEN_EVENTS_TABLE } from './databaseStores';

const open: Knex[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy();
});

function sqlite(): Knex {
  const db = knex({
    client: 'better-sqlite3',
    connection: { filename: ':memory:' },
    useNullAsDefault: true,
  });
  open.push(db);
  return db;
}

describe('database push stores (SQLite)', () => {
  it('claims each uuid once per provider, across store instances, and prunes after the time to live', async () => {
    const db = sqlite();
    let now = 1_000_000;
    const database = { getClient: async () => db };
    const logger = mockServices.logger.mock();
    const a = await createDatabasePushStores(database, logger, {
      seenTtlMs: 60_000,
      clock: () => now,
    });
    // A second replica's stores on the same database (the tables exist by then).
    const b = await createDatabasePushStores(database, logger, {
      seenTtlMs: 60_000,
      clock: () => now,
    });
    expect(await a.seenFor('us').claim(['e1', 'e2', 'e2'])).toEqual([
      'e1',
      'e2',
    ]);
    expect(await b.seenFor('us').claim(['e2', 'e3'])).toEqual(['e3']);
    expect(await b.seenFor('emea').claim(['e2'])).toEqual(['e2']);
    const many = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    expect(await a.seenFor('us').claim(many)).toHaveLength(1000);

    now += 11 * 60_000; // past the time to live and the prune interval
    expect(await a.seenFor('us').claim(['e9'])).toEqual(['e9']);
    const left = await db(SEEN_EVENTS_TABLE)
      .where('provider_id', 'us')
      .select('uuid');
    expect(left.map(r => r.uuid)).toEqual(['e9']);
  });

  it('keeps one cursor per provider, overwritten by each write', async () => {
    const db = sqlite();
    const stores = await createDatabasePushStores(
      { getClient: async () => db },
      mockServices.logger.mock(),
    );
    const us = stores.cursorFor('us');
    expect(await us.read()).toBeUndefined();
    await us.write('https://acme.okta.com/api/v1/logs?after=1');
    await us.write('https://acme.okta.com/api/v1/logs?after=2');
    await stores
      .cursorFor('emea')
      .write('https://emea.okta.com/api/v1/logs?after=7');
    expect(await stores.cursorFor('us').read()).toBe(
      'https://acme.okta.com/api/v1/logs?after=2',
    );
    expect(await stores.cursorFor('emea').read()).toBe(
      'https://emea.okta.com/api/v1/logs?after=7',
    );
  });
});
