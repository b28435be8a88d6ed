/*
 * The sustained-load benchmark, short: 20 s of a change a second through an
 * event hook into a small org, at compressed 5 s rate windows. What must
 * hold at any size: every change served, no 429, the groups bucket never
 * over the app's share, no failed run, and the catalog equal to a fresh
 * full read at the end.
 */
import { describe, expect, it, jest } from '@jest/globals';
import {
  SUSTAINED_CHANGE_KINDS,
  groupsBucketWindows,
  runSustainedBenchmark,
} from './sustained';

jest.setTimeout(120_000);

describe('sustained push benchmark', () => {
  it('serves a steady stream of every kind of change through an event hook', async () => {
    const result = await runSustainedBenchmark({
      via: 'eventHook',
      durationSeconds: 20,
      rate: 1,
      users: 80,
      groups: 12,
      windowSeconds: 5,
      latencyMs: 5,
      seed: 1,
      timeoutMs: 15_000,
    });
    // eslint-disable-next-line no-console
    console.log(JSON.stringify({ ...result, latencies: undefined }));

    expect(result.changes).toBe(20);
    expect(new Set(result.latencies.map(l => l.kind))).toEqual(
      new Set(SUSTAINED_CHANGE_KINDS),
    );
    expect(result.unserved).toEqual([]);
    expect(result.served).toBe(result.changes);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p95Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.maxMs).toBeGreaterThanOrEqual(result.p95Ms);
    expect(result.memberPages).toBeGreaterThan(0);
    expect(result.memberPagesPerChange).toBeCloseTo(
      result.memberPages / result.changes,
      1,
    );
    expect(result.groupsBucket.appShare).toBe(250);
    expect(result.groupsBucket.perWindow.length).toBeGreaterThan(0);
    expect(result.groupsBucket.max).toBeLessThanOrEqual(250);
    expect(result.served429).toBe(0);
    expect(result.appliedRuns).toBeGreaterThan(0);
    expect(result.failures).toEqual({});
    expect(result.failedRuns).toBe(0);
    expect(result.finalCatalog.differences).toEqual([]);
    expect(result.finalCatalog.equal).toBe(true);
    expect(result.finalCatalog.entities).toBeGreaterThan(80);
  });

  it('replays the groups bucket windows as the fake counts them', () => {
    const entry = (
      startedAt: number,
      endpoint: 'groups' | 'users' | 'groupUsers',
      status = 200,
    ) => ({
      n: 0,
      method: 'GET',
      path: '/api/v1/x',
      endpoint,
      status,
      ms: 1,
      startedAt,
    });
    const windows = groupsBucketWindows(
      [
        entry(1000, 'groups'),
        entry(1500, 'users'),
        entry(2000, 'groupUsers'),
        entry(6000, 'groupUsers', 429),
        entry(6050, 'groupUsers'),
        entry(6100, 'groupUsers'),
      ],
      { windowMs: 5000, latencyMs: 10 },
    );
    // A refused request lands at the first window's end: it opens the
    // next window, uncounted, as the fake's limiter does.
    expect(windows).toEqual([
      { start: 1010, count: 2 },
      { start: 6010, count: 2 },
    ]);
  });
});
