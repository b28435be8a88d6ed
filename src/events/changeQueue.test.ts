/*
 * The change queue's bound under a flood of events: one entry per Okta
 * object, however many events name it, and at most `maxQueued` entries per
 * provider, in memory and in the database (SQLite, and PostgreSQL when
 * OKTA_TEST_POSTGRES_URL is set).
 */
import { describe, expect, it } from '@jest/globals';
import {
  membershipAdded,
  membershipOf,
  profileUpdated,
} from '../__testUtils__/oktaChangeEvents';
import {
  dropAfterEachTest,
  TEST_DATABASES,
  type TestDatabase,
} from '../__testUtils__/testDatabases';
import { migrateOktaState, OKTA_STATE_TABLES } from '../state/migrations';
import {
  DatabaseOktaChangeQueue,
  InMemoryOktaChangeQueue,
  MAX_QUEUED_ENTRIES,
  type OktaAcceptingChangeQueue,
} from './changeQueue';

const open = dropAfterEachTest();

type Made = { queue: OktaAcceptingChangeQueue; rows: () => Promise<number> };

const queues: Array<[string, (maxQueued?: number) => Promise<Made>]> = [
  [
    'in memory',
    async maxQueued => {
      const queue = new InMemoryOktaChangeQueue(undefined, maxQueued);
      return { queue, rows: async () => queue.size };
    },
  ],
  ...TEST_DATABASES.map(
    ([name, create]): [string, (maxQueued?: number) => Promise<Made>] => [
      `in ${name}`,
      async maxQueued => {
        const database: TestDatabase = await open(create);
        await migrateOktaState(database.db);
        let now = 1_000_000;
        const queue = new DatabaseOktaChangeQueue(database.db, 'default', {
          seenTtlMs: 60_000,
          clock: () => now++,
          maxQueued,
        });
        return {
          queue,
          rows: async () => {
            const row = (await database
              .db(OKTA_STATE_TABLES.changeQueue)
              .count({ count: '*' })
              .first()) as { count: number | string };
            return Number(row.count);
          },
        };
      },
    ],
  ),
];

describe.each(queues)('the change queue %s', (_, make) => {
  it('keeps one entry per object under a flood of events about the same objects', async () => {
    const { queue, rows } = await make();
    for (let batch = 0; batch < 20; batch++) {
      const result = await queue.accept(
        Array.from({ length: 500 }, (_e, i) =>
          i % 2
            ? membershipAdded(`m-${batch}-${i}`, `00g${i % 3}`)
            : profileUpdated(`p-${batch}-${i}`, `00u${i % 7}`),
        ),
      );
      expect(result).toEqual({ accepted: 500, duplicates: 0 });
    }
    // 10,000 events: 3 groups and 7 users.
    expect(await rows()).toBe(10);
    const taken = await queue.take();
    expect(taken.size).toBe(10);
    expect(taken.membershipGroupIds).toEqual(['00g0', '00g1', '00g2']);
    expect(taken.userIds).toHaveLength(7);
  });

  it('queues each membership an event names with its user, and a group named in more than 20 memberships of one batch as one member-list entry', async () => {
    const { queue, rows } = await make();
    await queue.accept([
      membershipOf('a1', '00gA', '00u1'),
      membershipOf('a2', '00gA', '00u2'),
      membershipOf('a3', '00gA', '00u1'), // the same membership again
      membershipOf('b1', '00gB', '00u1'),
    ]);
    expect(await rows()).toBe(3);
    let taken = await queue.take();
    expect(taken.membershipGroupIds).toEqual([]);
    expect(taken.memberships).toEqual([
      { groupId: '00gA', userId: '00u1' },
      { groupId: '00gA', userId: '00u2' },
      { groupId: '00gB', userId: '00u1' },
    ]);
    await queue.remove(taken);

    // A group rule adding 21 users at once: the group's member list.
    await queue.accept(
      Array.from({ length: 21 }, (_e, i) =>
        membershipOf(`c${i}`, '00gC', `00u${i}`),
      ),
    );
    expect(await rows()).toBe(1);
    taken = await queue.take();
    expect(taken.membershipGroupIds).toEqual(['00gC']);
    expect(taken.memberships).toBeUndefined();
  });

  it('queues at most maxQueued objects; beyond that new ones are counted as overflowed, queued ones are still queued again', async () => {
    const { queue, rows } = await make(50);
    expect(
      await queue.accept(
        Array.from({ length: 40 }, (_e, i) => profileUpdated(`a${i}`, `u${i}`)),
      ),
    ).toEqual({ accepted: 40, duplicates: 0 });
    // 30 new objects, room for 10.
    expect(
      await queue.accept(
        Array.from({ length: 30 }, (_e, i) => profileUpdated(`b${i}`, `v${i}`)),
      ),
    ).toEqual({ accepted: 30, duplicates: 0, overflowed: 20 });
    expect(await rows()).toBe(50);
    // Full: a queued object is queued again (a new version, so a sync that
    // took the old one leaves it), a new one is not.
    const before = await queue.take();
    expect(
      await queue.accept([
        profileUpdated('c1', 'u1'),
        membershipAdded('c2', 'g-new'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 0, overflowed: 1 });
    await queue.remove(before);
    expect(await rows()).toBe(1);
    expect(await queue.take()).toMatchObject({
      userIds: ['u1'],
      membershipGroupIds: [],
      size: 1,
    });
  });

  it('is bounded by MAX_QUEUED_ENTRIES by default', async () => {
    const { queue, rows } = await make();
    for (let start = 0; start < MAX_QUEUED_ENTRIES; start += 10_000) {
      await queue.accept(
        Array.from({ length: 10_000 }, (_e, i) =>
          profileUpdated(`e${start + i}`, `u${start + i}`),
        ),
      );
    }
    expect(
      await queue.accept([
        profileUpdated('last', 'u-one-too-many'),
        profileUpdated('again', 'u7'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 0, overflowed: 1 });
    expect(await rows()).toBe(MAX_QUEUED_ENTRIES);
  }, 120_000);
});
