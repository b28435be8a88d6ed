import { BackgroundQueue } from './backgroundQueue';

const tick = () => new Promise(resolve => setImmediate(resolve));

describe('BackgroundQueue', () => {
  it('works on every item once, in order, after the pusher moves on', async () => {
    const done: number[] = [];
    const queue = new BackgroundQueue<number>(n => void done.push(n), { capacity: 100 });
    const pushes = Array.from({ length: 10 }, (_, i) => queue.push(i));
    // Pushing returns before the work runs.
    expect(done).toEqual([]);
    await Promise.all(pushes);
    await queue.drain();
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // It can be used again after draining.
    await queue.push(10);
    await queue.drain();
    expect(done).toHaveLength(11);
  });

  it('makes pushers wait while it is full', async () => {
    const gates: Array<() => void> = [];
    const queue = new BackgroundQueue<number>(
      () => new Promise<void>(resolve => gates.push(resolve)),
      { capacity: 2 },
    );
    // The next item's work starts within a few event-loop turns (the queue
    // yields between slices): wait for it rather than for a fixed count.
    const nextGate = async () => {
      for (let turns = 0; gates.length === 0; turns++) {
        if (turns > 100) throw new Error('no item was started');
        await tick();
      }
      return gates.shift()!;
    };
    await queue.push(1); // taken up by the worker
    const first = await nextGate();
    await queue.push(2);
    await queue.push(3);
    expect(queue.size).toBe(2);
    let fourthQueued = false;
    const fourth = queue.push(4).then(() => (fourthQueued = true));
    await tick();
    expect(fourthQueued).toBe(false);
    first(); // item 1 done; item 2 starts, which makes room
    await fourth;
    expect(queue.size).toBe(2);
    for (let i = 0; i < 3; i++) {
      (await nextGate())();
    }
    await queue.drain();
    expect(queue.size).toBe(0);
  });

  it('stops at the first failure and rejects pushers and drain with it', async () => {
    const done: number[] = [];
    const queue = new BackgroundQueue<number>(
      n => {
        if (n === 3) throw new Error('bad item 3');
        done.push(n);
      },
      { capacity: 100 },
    );
    const pushed = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(i => queue.push(i)));
    expect(pushed.every(p => p.status === 'fulfilled')).toBe(true);
    await expect(queue.drain()).rejects.toThrow('bad item 3');
    expect(done).toEqual([0, 1, 2]);
    await expect(queue.push(7)).rejects.toThrow('bad item 3');
  });

  it('lets I/O through during a long run of work', async () => {
    let timerFired = false;
    let firedAfter = -1;
    let worked = 0;
    const queue = new BackgroundQueue<number>(
      () => {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // busy: 1 ms of CPU per item
        }
        worked++;
      },
      { capacity: 1000, sliceMs: 5 },
    );
    setTimeout(() => {
      timerFired = true;
      firedAfter = worked;
    }, 0);
    for (let i = 0; i < 100; i++) await queue.push(i);
    await queue.drain();
    expect(timerFired).toBe(true);
    // The timer ran long before the 100 ms of work was over.
    expect(firedAfter).toBeLessThan(30);
  });
});
