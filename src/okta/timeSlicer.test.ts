import { TimeSlicer } from './timeSlicer';

const busyFor = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
};

describe('TimeSlicer', () => {
  it('lets the event loop run once a slice is spent, and not before', async () => {
    const slicer = new TimeSlicer(5);
    let ioRan = false;
    setImmediate(() => {
      ioRan = true;
    });
    // Within the slice: no wait at all.
    expect(slicer.turn()).toBeUndefined();
    expect(ioRan).toBe(false);
    busyFor(6);
    const turn = slicer.turn();
    expect(turn).toBeDefined();
    await turn;
    expect(ioRan).toBe(true);
    // A new slice starts after the turn.
    expect(slicer.turn()).toBeUndefined();
  });

  it('interleaves two workers with other macrotasks', async () => {
    const slicer = new TimeSlicer(1);
    const events: string[] = [];
    const timer = setInterval(() => events.push('io'), 0);
    const worker = async (name: string) => {
      for (let i = 0; i < 5; i++) {
        await slicer.turn();
        busyFor(2);
        events.push(name);
      }
    };
    await Promise.all([worker('a'), worker('b')]);
    clearInterval(timer);
    // Each piece of work (2 ms) spends a whole slice (1 ms), so each runs in
    // a turn of its own: the interval got many turns in between.
    const work = events.filter(e => e !== 'io');
    expect(work.sort()).toEqual([
      'a',
      'a',
      'a',
      'a',
      'a',
      'b',
      'b',
      'b',
      'b',
      'b',
    ]);
    expect(events.filter(e => e === 'io').length).toBeGreaterThanOrEqual(7);
  });

  it('lets the work that had the last slice go on before others start', async () => {
    const slicer = new TimeSlicer(1);
    const order: string[] = [];
    const worker = async (name: string) => {
      for (let i = 0; i < 3; i++) {
        await slicer.turn();
        busyFor(2);
        order.push(name);
      }
    };
    await Promise.all([worker('a'), worker('b'), worker('c')]);
    // All three ask before any work is done, so all start in the first
    // slice; from then on each runs through before the next one starts.
    expect(order).toEqual(['a', 'b', 'c', 'a', 'a', 'b', 'b', 'c', 'c']);
  });
});
