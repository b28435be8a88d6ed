/*
 * The push benchmark at a tiny size: every kind of change reaches the
 * catalog through each path, and the figures are measured, not made up.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { runPushBenchmark } from './push';

jest.setTimeout(180_000);

describe('push benchmark', () => {
  it.each(['eventHook', 'systemLog'] as const)(
    'runs every kind of change through %s',
    async via => {
      const result = await runPushBenchmark({
        via,
        changes: 6,
        users: 60,
        groups: 8,
        latencyMs: 5,
      });
      expect(result.latenciesMs.map(l => l.kind)).toEqual([
        'hire',
        'membership add',
        'membership remove',
        'group rename',
        'leave',
        'group delete',
      ]);
      expect(result.latenciesMs.every(l => l.ms > 0)).toBe(true);
      expect(result.p95Ms).toBeGreaterThanOrEqual(result.p50Ms);
      // create + activate + add, add, remove, rename, deactivate, delete
      expect(result.events).toBeGreaterThanOrEqual(8);
      expect(result.requestsPerEvent).toBeGreaterThan(0);
      // Pushed runs read what the events name, one request each at most:
      // no group listing, no member page, no lastUpdated sweep.
      expect(result.readsPerEvent).toBeGreaterThan(0);
      expect(result.readsPerEvent).toBeLessThanOrEqual(1);
      expect(result.groupsBucketPerEvent).toBe(0);
      // eslint-disable-next-line no-console
      console.log(JSON.stringify(result));
    },
  );
});
