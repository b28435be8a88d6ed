import { describe, expect, it } from '@jest/globals';
import http from 'node:http';
import {
  createServiceAppKeys,
  demoOrg,
  FakeOkta,
  startFakeOkta,
} from './index';
import { apiGet, getAccessToken } from './testing/fakeOktaClient';

const SSWS = { ssws: '00limits' };

async function withFake(
  options: Parameters<typeof startFakeOkta>[0],
  run: (okta: FakeOkta) => Promise<void>,
) {
  const okta = await startFakeOkta({ org: demoOrg(), ...options });
  okta.addApiToken(SSWS.ssws);
  try {
    await run(okta);
  } finally {
    await okta.close();
  }
}

/** A raw GET that reports how the response ended (fetch hides truncation details). */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{
  status?: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  error?: string;
  ms: number;
}> {
  const started = Date.now();
  return new Promise(resolve => {
    const req = http.get(url, { headers, agent: false }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', c => (body += c));
      const h = res.headers;
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          headers: h,
          body,
          ms: Date.now() - started,
        }),
      );
      res.on('error', e =>
        resolve({
          status: res.statusCode,
          headers: h,
          body,
          error: e.message,
          ms: Date.now() - started,
        }),
      );
      res.on('aborted', () =>
        resolve({
          status: res.statusCode,
          headers: h,
          body,
          error: 'aborted',
          ms: Date.now() - started,
        }),
      );
    });
    req.on('error', e =>
      resolve({
        headers: {},
        body: '',
        error: e.message,
        ms: Date.now() - started,
      }),
    );
  });
}

describe('fake Okta rate limits', () => {
  it('counts per bucket in windows that start at the first request, with headers on every response', async () => {
    let now = 1_700_000_000_500;
    await withFake(
      {
        clock: () => now,
        rateLimits: {
          windowSeconds: 10,
          limits: { users: 3, groups: 2 },
          appShare: 1,
        },
      },
      async okta => {
        const users = `${okta.url}/api/v1/users`;
        const first = await apiGet(users, SSWS);
        expect(first.headers.get('x-rate-limit-limit')).toBe('3');
        expect(first.headers.get('x-rate-limit-remaining')).toBe('2');
        expect(first.headers.get('x-rate-limit-reset')).toBe(
          String(Math.ceil((now + 10_000) / 1000)),
        );
        expect(first.headers.get('date')).toBeTruthy();
        expect(first.headers.get('x-okta-request-id')).toBeTruthy();
        await apiGet(users, SSWS);
        await apiGet(users, SSWS);
        const limited = await apiGet(users, SSWS);
        expect(limited.status).toBe(429);
        expect(limited.body).toMatchObject({
          errorCode: 'E0000047',
          errorSummary:
            'API call exceeded rate limit due to too many requests.',
        });
        expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
        // Other buckets are separate.
        expect((await apiGet(`${okta.url}/api/v1/groups`, SSWS)).status).toBe(
          200,
        );
        expect(
          (await apiGet(`${okta.url}/api/v1/users/alice@acme.example`, SSWS))
            .status,
        ).toBe(200);
        now += 9_000;
        expect((await apiGet(users, SSWS)).status).toBe(429);
        now += 1_500;
        const again = await apiGet(users, SSWS);
        expect(again.status).toBe(200);
        expect(again.headers.get('x-rate-limit-reset')).toBe(
          String(Math.ceil((now + 10_000) / 1000)),
        );
        expect(okta.stats().served429).toBe(2);
      },
    );
  });

  it('gives one OAuth app and one SSWS token each only appShare of a bucket', async () => {
    await withFake(
      { rateLimits: { limits: { users: 4 }, appShare: 0.5 } },
      async okta => {
        const keys = await createServiceAppKeys('RS256');
        okta.addServiceApp({
          clientId: 'a',
          publicJwks: [keys.publicJwk],
          scopes: ['okta.users.read'],
        });
        const { accessToken } = await getAccessToken(okta.url, keys, 'a', {
          scope: 'okta.users.read',
        });
        const url = `${okta.url}/api/v1/users`;
        const r1 = await apiGet(url, { accessToken });
        expect(r1.headers.get('x-rate-limit-limit')).toBe('2');
        expect((await apiGet(url, { accessToken })).status).toBe(200);
        expect((await apiGet(url, { accessToken })).status).toBe(429);
        const s1 = await apiGet(url, SSWS);
        expect(s1.headers.get('x-rate-limit-limit')).toBe('2');
        expect((await apiGet(url, SSWS)).status).toBe(200);
        expect((await apiGet(url, SSWS)).status).toBe(429);
      },
    );
  });

  it("counts group member listings in the groups bucket, /groups/{id} alone, and a user's groups in the users bucket", async () => {
    await withFake(
      {
        rateLimits: {
          limits: {
            users: 100,
            groups: 100,
            groupById: 100,
            userById: 100,
            other: 100,
          },
          appShare: 1,
        },
      },
      async okta => {
        const group = okta.org.groups()[0];
        const user = okta.org.users()[0];
        const remaining = async (path: string) => {
          const r = await apiGet(`${okta.url}${path}`, SSWS);
          expect(r.status).toBe(200);
          return Number(r.headers.get('x-rate-limit-remaining'));
        };
        // One bucket: the group listing and member listings drain the same count.
        expect(await remaining('/api/v1/groups')).toBe(99);
        expect(await remaining(`/api/v1/groups/${group.id}/users`)).toBe(98);
        expect(await remaining('/api/v1/groups?limit=1')).toBe(97);
        // Exactly /groups/{id} has its own bucket.
        expect(await remaining(`/api/v1/groups/${group.id}`)).toBe(99);
        expect(await remaining(`/api/v1/groups/${group.id}/users`)).toBe(96);
        // A user's groups count with the user listing.
        expect(await remaining('/api/v1/users')).toBe(99);
        expect(await remaining(`/api/v1/users/${user.id}/groups`)).toBe(98);
        // A single user has a bucket of its own (2,000 a minute on Workforce).
        expect(await remaining(`/api/v1/users/${user.id}`)).toBe(99);
        expect(await remaining(`/api/v1/users/${user.id}`)).toBe(98);
        expect(await remaining('/api/v1/users')).toBe(97);
      },
    );
  });

  it('answers 429 beyond the concurrency limit and records the peak', async () => {
    await withFake(
      { rateLimits: { concurrency: 3 }, latency: { fixedMs: 150 } },
      async okta => {
        const results = await Promise.all(
          Array.from({ length: 6 }, () =>
            rawGet(`${okta.url}/api/v1/groups`, {
              authorization: `SSWS ${SSWS.ssws}`,
            }),
          ),
        );
        const statuses = results.map(r => r.status).sort();
        expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
        // Okta: limit and remaining are "always 0 for concurrent rate limit errors".
        for (const r of results.filter(x => x.status === 429)) {
          expect(r.headers['x-rate-limit-limit']).toBe('0');
          expect(r.headers['x-rate-limit-remaining']).toBe('0');
          expect(JSON.parse(r.body).errorCode).toBe('E0000047');
        }
        expect(okta.stats().peakConcurrency).toBeGreaterThanOrEqual(4);
        expect(okta.stats().served429).toBe(3);
        expect(okta.stats().log).toHaveLength(6);
      },
    );
  });

  it('runs its rate windows and Date header on a skewed clock', async () => {
    const skewMs = -30_000;
    await withFake(
      { clockSkewMs: skewMs, rateLimits: { windowSeconds: 60 } },
      async okta => {
        const before = Date.now();
        const r = await rawGet(`${okta.url}/api/v1/groups`, {
          authorization: `SSWS ${SSWS.ssws}`,
        });
        const after = Date.now();
        expect(r.status).toBe(200);
        const date = Date.parse(String(r.headers.date));
        // Date has whole seconds: the skewed instant, rounded down.
        expect(date).toBeGreaterThanOrEqual(
          Math.floor((before + skewMs) / 1000) * 1000,
        );
        expect(date).toBeLessThanOrEqual(after + skewMs);
        // The window opened by this request resets 60 s later on that clock.
        const reset = Number(r.headers['x-rate-limit-reset']) * 1000;
        expect(reset).toBeGreaterThanOrEqual(before + skewMs + 60_000);
        expect(reset).toBeLessThanOrEqual(after + skewMs + 61_000);
      },
    );
  });
});

describe('fake Okta faults', () => {
  const auth = { authorization: `SSWS ${SSWS.ssws}` };

  it('injects each fault kind at chosen request numbers', async () => {
    await withFake(
      {
        faults: [
          {
            endpoint: 'users',
            kind: 'status5xx',
            requestNumbers: [1],
            status: 503,
          },
          { endpoint: 'users', kind: 'drop', requestNumbers: [2] },
          { endpoint: 'users', kind: 'truncate', requestNumbers: [3] },
          { endpoint: 'users', kind: 'malformed', requestNumbers: [4] },
          {
            endpoint: 'users',
            kind: 'slowBody',
            requestNumbers: [5],
            delayMs: 300,
          },
          {
            endpoint: 'users',
            kind: 'latency',
            requestNumbers: [6],
            delayMs: 300,
          },
          { endpoint: 'users', kind: 'status429', requestNumbers: [7] },
        ],
      },
      async okta => {
        const url = `${okta.url}/api/v1/users`;
        const r1 = await rawGet(url, auth);
        expect(r1.status).toBe(503);
        expect(JSON.parse(r1.body).errorCode).toBe('E0000009');
        const r2 = await rawGet(url, auth);
        expect(r2.status).toBeUndefined();
        expect(r2.error).toBeDefined();
        const r3 = await rawGet(url, auth);
        expect(r3.error).toBeDefined();
        expect(() => JSON.parse(r3.body)).toThrow();
        const r4 = await rawGet(url, auth);
        expect(r4.status).toBe(200);
        expect(() => JSON.parse(r4.body)).toThrow();
        const r5 = await rawGet(url, auth);
        expect(JSON.parse(r5.body)).toHaveLength(11);
        expect(r5.ms).toBeGreaterThanOrEqual(250);
        const r6 = await rawGet(url, auth);
        expect(r6.status).toBe(200);
        expect(r6.ms).toBeGreaterThanOrEqual(290);
        const r7 = await rawGet(url, auth);
        expect(r7.status).toBe(429);
        expect(JSON.parse(r7.body).errorCode).toBe('E0000047');
        const r8 = await rawGet(url, auth);
        expect(r8.status).toBe(200);
        // Other endpoints are untouched.
        expect((await rawGet(`${okta.url}/api/v1/groups`, auth)).status).toBe(
          200,
        );
        expect(okta.stats().requests).toMatchObject({ users: 8, groups: 1 });
      },
    );
  });

  it('can fail only big listing pages (minPageSize), by the limit asked or the default', async () => {
    await withFake(
      {
        faults: [
          {
            endpoint: 'groupUsers',
            kind: 'status5xx',
            rate: 1,
            minPageSize: 500,
          },
        ],
      },
      async okta => {
        const group = okta.org.groups()[0];
        const members = `${okta.url}/api/v1/groups/${group.id}/users`;
        expect((await rawGet(members, auth)).status).toBe(500);
        expect((await rawGet(`${members}?limit=500`, auth)).status).toBe(500);
        expect((await rawGet(`${members}?limit=499`, auth)).status).toBe(200);
        expect((await rawGet(`${okta.url}/api/v1/groups`, auth)).status).toBe(
          200,
        );
      },
    );
  });

  it('draws rate-based faults deterministically from the seed', async () => {
    const run = async (seed: number) => {
      const statuses: Array<number | undefined> = [];
      await withFake(
        { seed, faults: [{ endpoint: '*', kind: 'status5xx', rate: 0.3 }] },
        async okta => {
          for (let i = 0; i < 30; i++)
            statuses.push(
              (await rawGet(`${okta.url}/api/v1/groups`, auth)).status,
            );
        },
      );
      return statuses;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(a.filter(s => s === 500).length).toBeGreaterThan(3);
    expect(a.filter(s => s === 200).length).toBeGreaterThan(10);
    expect(await run(43)).not.toEqual(a);
  });

  it('replaces faults at runtime and resets stats', async () => {
    await withFake({}, async okta => {
      okta.setFaults([{ endpoint: 'groupById', kind: 'status5xx', rate: 1 }]);
      const group = okta.org.groups()[0];
      expect(
        (await rawGet(`${okta.url}/api/v1/groups/${group.id}`, auth)).status,
      ).toBe(500);
      okta.setFaults([]);
      expect(
        (await rawGet(`${okta.url}/api/v1/groups/${group.id}`, auth)).status,
      ).toBe(200);
      expect(okta.stats().requests.groupById).toBe(2);
      okta.resetStats();
      expect(okta.stats()).toMatchObject({
        requests: {},
        served429: 0,
        log: [],
      });
    });
  });

  it('adds seeded random latency', async () => {
    await withFake(
      { latency: { fixedMs: 20, randomMs: 30 }, seed: 5 },
      async okta => {
        const r = await rawGet(`${okta.url}/api/v1/groups`, auth);
        expect(r.ms).toBeGreaterThanOrEqual(19);
        const entry = okta.stats().log[0];
        expect(entry).toMatchObject({
          n: 1,
          method: 'GET',
          path: '/api/v1/groups',
          endpoint: 'groups',
          status: 200,
        });
        expect(entry.ms).toBeGreaterThanOrEqual(19);
      },
    );
  });
});
