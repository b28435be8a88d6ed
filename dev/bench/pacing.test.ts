import { describe, expect, it } from '@jest/globals';
import { bucketPacing, runPacing } from './pacing';

describe('bucketPacing', () => {
  it('re-opens windows as the fake does and measures the loss at each boundary', () => {
    const at = (startedAt: number, status = 200) => ({
      endpoint: 'groupUsers',
      status,
      startedAt,
      ms: 50,
    });
    // Window 1 opens at 1050 (arrival + latency); 2 opens at 3550 (0.5 s late), 3 at 5550 (on time).
    const entries = [at(1000), at(1500), at(2000, 429), at(3500), at(5500)];
    const pacing = bucketPacing('other', entries, 2000, 50);
    expect(pacing.windows).toBe(3);
    expect(pacing.boundaryLossSeconds).toEqual([0.5, 0]);
    expect(pacing.meanBoundaryLossSeconds).toBe(0.25);
    expect(pacing.spanSeconds).toBe(4.55);
    expect(pacing.secondRequestAfterSeconds).toBe(0.5);
  });
});

describe('runPacing', () => {
  it('splits the log by bucket and measures the time around the requests', () => {
    const pacing = runPacing(
      [
        { endpoint: 'token', status: 200, startedAt: 1100, ms: 50 },
        { endpoint: 'users', status: 200, startedAt: 1200, ms: 50 },
        { endpoint: 'groups', status: 200, startedAt: 1200, ms: 60 },
      ],
      { startedAtEpochMs: 1000, wallSeconds: 1 },
      6000,
      50,
    );
    expect(pacing.buckets.map(b => b.bucket)).toEqual(['users', 'groups']);
    expect(pacing.beforeFirstRequestSeconds).toBe(0.1);
    expect(pacing.afterLastResponseSeconds).toBe(0.74);
  });
});
