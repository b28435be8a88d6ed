import { describe, expect, it } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import {
  membershipAdded,
  profileUpdated,
} from '../__testUtils__/oktaChangeEvents';
import {
  dropAfterEachTest,
  TEST_DATABASES,
} from '../__testUtils__/testDatabases';
import { OKTA_STATE_TABLES } from '../state/migrations';
import { createDatabasePushStores } from './databaseStores';

const open = dropAfterEachTest();

describe.each(TEST_DATABASES)('database push stores (%s)', (_, create) => {
  async function twoReplicas(clock: () => number) {
    const database = await open(create);
    const logger = mockServices.logger.mock();
    const options = { seenTtlMs: 60_000, clock };
    return {
      database,
      a: await createDatabasePushStores(database.db, logger, options),
      // A second replica's client on the same database.
      b: await createDatabasePushStores(database.another(), logger, options),
    };
  }

  it('accepts each uuid once per provider across replicas, and queues what the new ones name', async () => {
    let now = 1_000_000;
    const { database, a, b } = await twoReplicas(() => now);
    expect(
      await a
        .queueFor('us')
        .accept([
          membershipAdded('e1', 'g1'),
          profileUpdated('e2', 'u2'),
          profileUpdated('e2', 'u2'),
        ]),
    ).toEqual({ accepted: 2, duplicates: 1 });
    // Redelivered to the other replica: only e3 is new.
    expect(
      await b
        .queueFor('us')
        .accept([profileUpdated('e2', 'u2'), profileUpdated('e3', 'u3')]),
    ).toEqual({ accepted: 1, duplicates: 1 });
    // Another provider has its own uuids and queue.
    expect(
      await b.queueFor('emea').accept([profileUpdated('e2', 'u9')]),
    ).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    expect(await b.queueFor('us').take()).toEqual({
      userIds: ['u2', 'u3'],
      groupIds: [],
      membershipGroupIds: ['g1'],
      size: 3,
    });
    const many = Array.from({ length: 1000 }, (_e, i) =>
      profileUpdated(`m${i}`, `u${i % 250}`),
    );
    expect((await a.queueFor('us').accept(many)).accepted).toBe(1000);

    now += 11 * 60_000; // past the time to live and the prune interval
    await a.queueFor('us').accept([profileUpdated('e9', 'u9')]);
    const left = await database
      .db(OKTA_STATE_TABLES.seenEvents)
      .where('provider_id', 'us')
      .select('uuid');
    expect(left.map(r => r.uuid)).toEqual(['e9']);
  });

  it('removes what a sync took, but not what was queued again while it ran', async () => {
    const { a, b } = await twoReplicas(Date.now);
    const queue = a.queueFor('us');
    await queue.accept([
      profileUpdated('e1', 'u1'),
      membershipAdded('e2', 'g1'),
    ]);
    const taken = await b.queueFor('us').take();
    expect(taken.size).toBe(2);
    // While the sync runs, u1 changes again (a new event names it).
    await queue.accept([profileUpdated('e3', 'u1')]);
    await b.queueFor('us').remove(taken);
    expect(await queue.take()).toEqual({
      userIds: ['u1'],
      groupIds: [],
      membershipGroupIds: [],
      size: 1,
    });
    // Removing twice (the batcher after the provider's run) changes nothing.
    await queue.remove(taken);
    const again = await queue.take();
    expect(again.size).toBe(1);
    await queue.remove(again);
    expect((await queue.take()).size).toBe(0);
  });

  it('keeps one System Log cursor per provider, overwritten by each write', async () => {
    const { a, b } = await twoReplicas(Date.now);
    const us = a.cursorFor('us');
    expect(await us.read()).toBeUndefined();
    await us.write('https://acme.okta.com/api/v1/logs?after=1');
    await us.write('https://acme.okta.com/api/v1/logs?after=2');
    await a
      .cursorFor('emea')
      .write('https://emea.okta.com/api/v1/logs?after=7');
    expect(await b.cursorFor('us').read()).toBe(
      'https://acme.okta.com/api/v1/logs?after=2',
    );
    expect(await b.cursorFor('emea').read()).toBe(
      'https://emea.okta.com/api/v1/logs?after=7',
    );
  });
});
