import { describe, expect, it, jest } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import {
  membershipAdded,
  profileUpdated,
} from '../__testUtils__/oktaChangeEvents';
import { InMemoryOktaChangeQueue } from './changeQueue';
import { OktaChangeBatcher } from './OktaChangeBatcher';
import { RecordingLogger } from '../__testUtils__/oktaCatalogHarness';
import { InMemoryOktaSeenEventStore } from './seenEvents';
import type { OktaChangedIds } from './types';

function batcher(
  changed: (ids: OktaChangedIds) => Promise<void>,
  options: { quietMs?: number; maxDelayMs?: number } = {},
) {
  return new OktaChangeBatcher({
    sink: { changed },
    queue: new InMemoryOktaChangeQueue(),
    logger: mockServices.logger.mock(),
    quietMs: options.quietMs ?? 20,
    maxDelayMs: options.maxDelayMs ?? 200,
    retryDelayMs: 20,
  });
}

describe('OktaChangeBatcher', () => {
  it('warns once a minute, not once a batch, while the queue is full', async () => {
    const logger = new RecordingLogger();
    const handOvers: OktaChangedIds[] = [];
    const b = new OktaChangeBatcher({
      sink: { changed: async ids => void handOvers.push(ids) },
      // Room for 3 objects.
      queue: new InMemoryOktaChangeQueue(undefined, 3),
      logger,
      quietMs: 20,
    });
    for (let batch = 0; batch < 50; batch++) {
      const result = await b.accept(
        Array.from({ length: 10 }, (_e, i) =>
          profileUpdated(`e${batch}-${i}`, `u${batch}-${i}`),
        ),
      );
      expect(result.overflowed).toBe(batch === 0 ? 7 : 10);
    }
    await b.idle();
    b.stop();
    expect(handOvers).toEqual([
      {
        userIds: ['u0-0', 'u0-1', 'u0-2'],
        groupIds: [],
        membershipGroupIds: [],
      },
    ]);
    expect(logger.messages('warn')).toEqual([
      "The Okta change queue is full: 7 changed objects were not queued; the scheduled sync finds their changes through Okta's change markers",
      expect.stringMatching(
        /^The Okta change queue was full for 49 more batches/,
      ),
    ]);
  });

  it('merges events into one hand-over and drops uuids already seen, also within one batch', async () => {
    const handOvers: OktaChangedIds[] = [];
    const b = batcher(async ids => {
      handOvers.push(ids);
    });
    expect(
      await b.accept([
        membershipAdded('e1', 'g1'),
        membershipAdded('e1', 'g1'),
        profileUpdated('e2', 'u2'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 1 });
    expect(
      await b.accept([
        membershipAdded('e1', 'g1'),
        membershipAdded('e3', 'g1'),
        profileUpdated('e4', 'u1'),
      ]),
    ).toEqual({ accepted: 2, duplicates: 1 });
    await b.idle();
    expect(handOvers).toEqual([
      { userIds: ['u1', 'u2'], groupIds: [], membershipGroupIds: ['g1'] },
    ]);
    expect(await b.accept([membershipAdded('e3', 'g1')])).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    await b.idle();
    expect(handOvers).toHaveLength(1);
  });

  it('hands over at most maxDelayMs after the first event while events keep coming', async () => {
    // Fake timers: the batcher's windows, not the machine's load, decide.
    jest.useFakeTimers();
    try {
      const times: number[] = [];
      const b = batcher(
        async () => {
          times.push(Date.now());
        },
        { quietMs: 50, maxDelayMs: 150 },
      );
      const start = Date.now();
      // An event every 20 ms for 400 ms: never 50 ms of quiet.
      for (let i = 0; i < 20; i++) {
        await b.accept([profileUpdated(`e${i}`, `u${i}`)]);
        await jest.advanceTimersByTimeAsync(20);
      }
      await jest.advanceTimersByTimeAsync(1000);
      b.stop();
      const offsets = times.map(t => t - start);
      // The first at maxDelayMs, not at the end of the stream; then each
      // at most maxDelayMs after its first event; the last after the quiet.
      expect(offsets[0]).toBe(150);
      expect(offsets.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < offsets.length - 1; i++)
        expect(offsets[i] - offsets[i - 1]).toBeLessThanOrEqual(150 + 20);
      expect(offsets[offsets.length - 1]).toBeLessThanOrEqual(400 + 50);
    } finally {
      jest.useRealTimers();
    }
  });

  it('runs one hand-over at a time and gathers what arrives meanwhile into the next', async () => {
    const handOvers: OktaChangedIds[] = [];
    let running = 0;
    let maxRunning = 0;
    const b = batcher(async ids => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      handOvers.push(ids);
      await new Promise(resolve => setTimeout(resolve, 150));
      running--;
    });
    await b.accept([profileUpdated('a', 'u1')]);
    await new Promise(resolve => setTimeout(resolve, 60));
    for (let i = 0; i < 100; i++)
      await b.accept([membershipAdded(`m${i}`, `g${i % 3}`)]);
    await b.idle();
    expect(maxRunning).toBe(1);
    expect(handOvers).toEqual([
      { userIds: ['u1'], groupIds: [], membershipGroupIds: [] },
      { userIds: [], groupIds: [], membershipGroupIds: ['g0', 'g1', 'g2'] },
    ]);
  });

  it('keeps the ids of a failed hand-over and hands them over again', async () => {
    const calls: OktaChangedIds[] = [];
    const b = batcher(async ids => {
      calls.push(ids);
      if (calls.length === 1) throw new Error('Okta is down');
    });
    await b.accept([profileUpdated('a', 'u1')]);
    await new Promise(resolve => setTimeout(resolve, 50));
    await b.idle();
    expect(calls).toEqual([
      { userIds: ['u1'], groupIds: [], membershipGroupIds: [] },
      { userIds: ['u1'], groupIds: [], membershipGroupIds: [] },
    ]);
  });

  it('hands over entries another process queued and never handed over, once they are old enough', async () => {
    jest.useFakeTimers();
    try {
      const queue = new InMemoryOktaChangeQueue();
      const handOvers: OktaChangedIds[] = [];
      const b = new OktaChangeBatcher({
        sink: {
          async changed(ids) {
            handOvers.push(ids);
          },
        },
        queue,
        logger: mockServices.logger.mock(),
        quietMs: 20,
        orphanCheckMs: 100,
        orphanAgeMs: 500,
      });
      b.resume(); // at start-up: nothing queued yet
      await jest.advanceTimersByTimeAsync(50);
      // Another replica accepts an event and dies before its hand-over.
      await queue.accept([profileUpdated('e1', 'u1')]);
      await jest.advanceTimersByTimeAsync(400);
      expect(handOvers).toEqual([]); // not yet: it may still be handed over there
      await jest.advanceTimersByTimeAsync(300);
      expect(handOvers).toEqual([
        { userIds: ['u1'], groupIds: [], membershipGroupIds: [] },
      ]);
      expect((await queue.take()).size).toBe(0);
      b.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('InMemoryOktaSeenEventStore', () => {
  it('forgets the oldest uuids beyond its size and after its time to live', async () => {
    let now = 0;
    const store = new InMemoryOktaSeenEventStore(2, 1000, () => now);
    expect(await store.claim(['a', 'b'])).toEqual(['a', 'b']);
    expect(await store.claim(['a', 'c'])).toEqual(['c']);
    expect(await store.claim(['a'])).toEqual(['a']); // evicted by c
    now = 2000;
    expect(await store.claim(['c'])).toEqual(['c']);
  });
});
