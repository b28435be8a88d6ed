import { OktaRateLimiter, OktaServerClock } from './OktaRateLimiter';

function observation(
  status: number,
  rate: { limit?: number; remaining?: number; resetInMs?: number } = {},
) {
  const now = Date.now();
  const headers = new Headers();
  if (rate.limit !== undefined)
    headers.set('x-rate-limit-limit', String(rate.limit));
  if (rate.remaining !== undefined)
    headers.set('x-rate-limit-remaining', String(rate.remaining));
  if (rate.resetInMs !== undefined) {
    headers.set(
      'x-rate-limit-reset',
      String(Math.ceil((now + rate.resetInMs) / 1000)),
    );
  }
  return { status, headers, sentAt: now - 5, receivedAt: now };
}

/** Whether a promise settles within `ms`. */
async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise(r => setTimeout(r, ms));
  return settled;
}

describe('OktaRateLimiter', () => {
  it('fills an unknown bucket up to the concurrency limit, then sends as many as remain', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 4 });
    const first = await Promise.all(
      [1, 2, 3, 4].map(() => limiter.acquire('users')),
    );
    // The concurrency limit holds the fifth, not the bucket.
    const fifth = limiter.acquire('users');
    expect(await settlesWithin(fifth, 30)).toBe(false);
    // Okta: 2 remain (the three still in flight are counted against them).
    first[0].release(
      observation(200, { limit: 10, remaining: 2, resetInMs: 5000 }),
    );
    expect(await settlesWithin(fifth, 30)).toBe(false);
    first[1].release(
      observation(200, { limit: 10, remaining: 1, resetInMs: 5000 }),
    );
    first[2].release(
      observation(200, { limit: 10, remaining: 0, resetInMs: 5000 }),
    );
    first[3].release(
      observation(200, { limit: 10, remaining: 0, resetInMs: 5000 }),
    );
    // Nothing remains in this window: the fifth waits for the reset.
    expect(await settlesWithin(fifth, 50)).toBe(false);
    // Other buckets are independent.
    const groups = await Promise.all(
      [1, 2, 3].map(() => limiter.acquire('groups')),
    );
    for (const p of groups) p.release();
  });

  it('gives a freed slot to a request first in line before earlier ones, in order among themselves', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 2 });
    const held = await Promise.all([1, 2].map(() => limiter.acquire('other')));
    const granted: string[] = [];
    const wait = (name: string, firstInLine: boolean, signal?: AbortSignal) =>
      limiter
        .acquire(firstInLine ? 'users' : 'other', signal, { firstInLine })
        .then(permit => {
          granted.push(name);
          return permit;
        });
    const members = [wait('member-1', false), wait('member-2', false)];
    const aborted = new AbortController();
    const gone = wait('cancelled', true, aborted.signal);
    gone.catch(() => undefined);
    const users1 = wait('users-1', true);
    const users2 = wait('users-2', true);
    aborted.abort(new Error('stop'));
    await expect(gone).rejects.toThrow('stop');
    held[0].release();
    (await users1).release();
    held[1].release();
    (await users2).release();
    await Promise.all(members);
    expect(granted).toEqual(['users-1', 'users-2', 'member-1', 'member-2']);
  });

  it('sends only as many as remain once a response told the limits', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 10 });
    (await limiter.acquire('users')).release(
      observation(200, { limit: 10, remaining: 3, resetInMs: 5000 }),
    );
    const held = await Promise.all(
      [1, 2, 3].map(() => limiter.acquire('users')),
    );
    // 3 remained and 3 are in flight: the fourth waits.
    const fourth = limiter.acquire('users');
    expect(await settlesWithin(fourth, 30)).toBe(false);
    for (const p of held)
      p.release(observation(200, { limit: 10, remaining: 0, resetInMs: 5000 }));
    expect(await settlesWithin(fourth, 30)).toBe(false);
  });

  it('waits for the reset once the window is used up, then sends again', async () => {
    const limiter = new OktaRateLimiter({
      maxConcurrency: 10,
      resetMarginMs: 20,
    });
    const permit = await limiter.acquire('other');
    // Reset is whole seconds: wait for the next second boundary.
    const { headers, sentAt, receivedAt } = observation(200, {
      limit: 5,
      remaining: 0,
      resetInMs: 1,
    });
    permit.release({ status: 200, headers, sentAt, receivedAt });
    const resetAt = Number(headers.get('x-rate-limit-reset')) * 1000;
    const next = await limiter.acquire('other');
    expect(Date.now()).toBeGreaterThanOrEqual(resetAt + 15);
    expect(Date.now()).toBeLessThan(resetAt + 500);
    next.release();
  });

  it('tells window 429s from concurrency 429s and shrinks concurrency on the latter', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 4 });
    const probe = await limiter.acquire('groups');
    expect(
      probe.release(
        observation(200, { limit: 100, remaining: 50, resetInMs: 3000 }),
      ),
    ).toBe('ok');
    const permits = await Promise.all(
      [1, 2, 3, 4].map(() => limiter.acquire('groups')),
    );
    // Concurrency 429: the limit header is not the bucket's.
    expect(
      permits[0].release(
        observation(429, { limit: 2, remaining: 0, resetInMs: 1000 }),
      ),
    ).toBe('concurrencyLimited');
    expect(limiter.concurrencyLimit).toBe(3);
    // No headers at all: also concurrency.
    expect(permits[1].release(observation(429))).toBe('concurrencyLimited');
    expect(limiter.concurrencyLimit).toBe(2);
    // The bucket's own limit with nothing remaining: the window is used up.
    expect(
      permits[2].release(
        observation(429, { limit: 100, remaining: 0, resetInMs: 3000 }),
      ),
    ).toBe('rateLimited');
    permits[3].release(
      observation(200, { limit: 100, remaining: 0, resetInMs: 3000 }),
    );
    const waiting = limiter.acquire('groups');
    expect(await settlesWithin(waiting, 50)).toBe(false);
  });

  it("tells a concurrency 429 (limit and remaining 0) even on a bucket's first response, and keeps sending in the bucket", async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 4 });
    const first = await limiter.acquire('groups');
    expect(
      first.release(
        observation(429, { limit: 0, remaining: 0, resetInMs: 1000 }),
      ),
    ).toBe('concurrencyLimited');
    // Its headers did not become the bucket's window: the bucket still admits.
    expect(await settlesWithin(limiter.acquire('groups'), 20)).toBe(true);
    // A window 429 would have stopped the bucket until its reset.
    const other = new OktaRateLimiter({ maxConcurrency: 4 });
    (await other.acquire('groups')).release(
      observation(429, { limit: 250, remaining: 0, resetInMs: 3000 }),
    );
    expect(await settlesWithin(other.acquire('groups'), 50)).toBe(false);
  });

  it('gives room left in a bucket to first-in-line requests before the others waiting', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 10 });
    const first = await limiter.acquire('groups');
    first.release(
      observation(200, { limit: 10, remaining: 2, resetInMs: 30000 }),
    );
    const held = [
      await limiter.acquire('groups'),
      await limiter.acquire('groups'),
    ];
    const order: string[] = [];
    const member = limiter.acquire('groups').then(p => {
      order.push('member');
      return p;
    });
    await new Promise(r => setTimeout(r, 10));
    const listing = limiter
      .acquire('groups', undefined, { firstInLine: true })
      .then(p => {
        order.push('listing');
        return p;
      });
    await new Promise(r => setTimeout(r, 10));
    // A response frees one place in the window: it goes to the listing.
    held[0].release(
      observation(200, { limit: 10, remaining: 2, resetInMs: 30000 }),
    );
    await listing;
    expect(order).toEqual(['listing']);
    expect(await settlesWithin(member, 30)).toBe(false);
    held[1].release(
      observation(200, { limit: 10, remaining: 2, resetInMs: 30000 }),
    );
    await member;
    expect(order).toEqual(['listing', 'member']);
  });

  it('grows concurrency back after successes', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 3 });
    const ok = () =>
      observation(200, { limit: 1000, remaining: 900, resetInMs: 30000 });
    (await limiter.acquire('other')).release(ok());
    const a = await limiter.acquire('other');
    const b = await limiter.acquire('other');
    a.release(observation(429));
    b.release(observation(429));
    expect(limiter.concurrencyLimit).toBe(1);
    for (let i = 0; i < 5; i++) (await limiter.acquire('other')).release(ok());
    expect(limiter.concurrencyLimit).toBe(3);
  });

  it('limits requests in flight', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 2 });
    (await limiter.acquire('other')).release(
      observation(200, { limit: 1000, remaining: 999, resetInMs: 30000 }),
    );
    const a = await limiter.acquire('other');
    await limiter.acquire('other');
    const third = limiter.acquire('other');
    expect(await settlesWithin(third, 20)).toBe(false);
    a.release(
      observation(200, { limit: 1000, remaining: 997, resetInMs: 30000 }),
    );
    expect(await settlesWithin(third, 20)).toBe(true);
  });

  it('stops waiting promptly when aborted', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 10 });
    const permit = await limiter.acquire('users');
    permit.release(
      observation(200, { limit: 10, remaining: 0, resetInMs: 60_000 }),
    );
    const controller = new AbortController();
    const waiting = limiter.acquire('users', controller.signal);
    setTimeout(() => controller.abort(), 20);
    const t0 = Date.now();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    // Not the 60 s until the bucket resets (bounds leave room for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('ignores responses from a window that is already over', async () => {
    const limiter = new OktaRateLimiter({ maxConcurrency: 10 });
    (await limiter.acquire('other')).release(
      observation(200, { limit: 10, remaining: 8, resetInMs: 5000 }),
    );
    const p = await limiter.acquire('other');
    // A straggler stamped with an earlier reset must not drain the new window.
    p.release(observation(200, { limit: 10, remaining: 0, resetInMs: -5000 }));
    expect(await settlesWithin(limiter.acquire('other'), 20)).toBe(true);
  });
});

describe('OktaRateLimiter with a speed mechanism switched off (the benchmark)', () => {
  /** A window used up, answered by an Okta whose clock is `skewMs` off ours. */
  async function exhaustWindow(limiter: OktaRateLimiter, skewMs: number) {
    const permit = await limiter.acquire('users');
    const now = Date.now();
    const headers = new Headers({
      date: new Date(now + skewMs).toUTCString(),
      'x-rate-limit-limit': '10',
      'x-rate-limit-remaining': '0',
      // Okta's window resets 2 s from now, on Okta's clock.
      'x-rate-limit-reset': String(Math.ceil((now + skewMs + 2000) / 1000)),
    });
    permit.release({ status: 200, headers, sentAt: now - 5, receivedAt: now });
  }

  it("waits for a reset on Okta's clock, or on ours without the server clock", async () => {
    // Okta's clock 5 s behind ours: its reset second is 3 s ago on ours.
    const withClock = new OktaRateLimiter({ maxConcurrency: 2 });
    await exhaustWindow(withClock, -5000);
    expect(await settlesWithin(withClock.acquire('users'), 100)).toBe(false);
    const withoutClock = new OktaRateLimiter({
      maxConcurrency: 2,
      mechanisms: { serverClock: false },
    });
    await exhaustWindow(withoutClock, -5000);
    expect(await settlesWithin(withoutClock.acquire('users'), 100)).toBe(true);
  });

  it('keeps its concurrency limit on concurrency 429s without adaptive concurrency', async () => {
    const limiter = new OktaRateLimiter({
      maxConcurrency: 4,
      mechanisms: { adaptiveConcurrency: false },
    });
    const permits = await Promise.all(
      [1, 2].map(() => limiter.acquire('groups')),
    );
    expect(
      permits[0].release(
        observation(429, { limit: 0, remaining: 0, resetInMs: 1000 }),
      ),
    ).toBe('concurrencyLimited');
    expect(limiter.concurrencyLimit).toBe(4);
    permits[1].release();
  });

  it('hands freed slots out in arrival order without first-in-line', async () => {
    const limiter = new OktaRateLimiter({
      maxConcurrency: 1,
      mechanisms: { firstInLine: false },
    });
    // Both buckets have room: the two wait only for the one concurrency slot.
    for (const bucket of ['users', 'other'] as const) {
      (await limiter.acquire(bucket)).release(
        observation(200, { limit: 10, remaining: 10, resetInMs: 5000 }),
      );
    }
    const held = await limiter.acquire('groups');
    const granted: string[] = [];
    const wait = (name: string, firstInLine: boolean) =>
      limiter
        .acquire(firstInLine ? 'users' : 'other', undefined, { firstInLine })
        .then(permit => {
          granted.push(name);
          permit.release();
        });
    const all = [wait('member', false), wait('users', true)];
    held.release();
    await Promise.all(all);
    expect(granted).toEqual(['member', 'users']);
  });
});

describe('OktaServerClock', () => {
  it('takes agreeing clocks as equal despite the one-second Date resolution', () => {
    const clock = new OktaServerClock();
    const now = Date.now();
    clock.observe(now - 20, now, new Date(now).toUTCString());
    clock.observe(now + 400, now + 420, new Date(now + 410).toUTCString());
    expect(clock.offsetMs).toBe(0);
    expect(clock.toLocal(100)).toBe(100_000);
  });

  it('detects a server clock that is behind ours', () => {
    const clock = new OktaServerClock();
    const now = Math.floor(Date.now() / 1000) * 1000;
    // Server is 5 s behind: it stamps now - 5 s.
    clock.observe(
      now + 100,
      now + 120,
      new Date(now - 5000 + 110).toUTCString(),
    );
    expect(clock.offsetMs).toBeGreaterThanOrEqual(4000);
    expect(clock.offsetMs).toBeLessThanOrEqual(5120);
  });
});
