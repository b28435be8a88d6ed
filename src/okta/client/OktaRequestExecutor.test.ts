import {
  FakeOkta,
  FaultKind,
  generateOrg,
  startFakeOkta,
} from '../../../dev/fakeOkta';
import { createOktaOrgClient } from './createOktaOrgClient';
import { nextLinkOf, oktaErrorOf } from './OktaRequestExecutor';
import { CapturingLogger, drain, rejectionOf } from './oktaClientTestKit';
import { OktaClientOptions, OktaRequestError } from './types';

const TOKEN = '00executor-test-token';

describe('OktaRequestExecutor', () => {
  const org = generateOrg({
    seed: 9,
    users: 450,
    groups: 25,
    averageGroupsPerUser: 4,
  });
  const activeUsers = org
    .users()
    .filter(u => u.status !== 'DEPROVISIONED').length;

  async function start(
    options: Parameters<typeof startFakeOkta>[0] = {},
  ): Promise<FakeOkta> {
    const okta = await startFakeOkta({ org, ...options });
    okta.addApiToken(TOKEN);
    return okta;
  }

  function client(okta: FakeOkta, extra: Partial<OktaClientOptions> = {}) {
    const logger = new CapturingLogger();
    const c = createOktaOrgClient({
      orgUrl: okta.url,
      auth: { kind: 'apiToken', token: TOKEN },
      logger,
      retryBaseDelayMs: 5,
      requestTimeoutMs: 400,
      ...extra,
    });
    return { client: c, logger };
  }

  describe('faults', () => {
    let okta: FakeOkta;
    beforeAll(async () => {
      okta = await start();
    });
    afterAll(() => okta.close());
    afterEach(() => okta.setFaults([]));

    // Every row has both values: with fewer, jest passes a `done` callback.
    it.each<[FaultKind, number | undefined]>([
      ['status5xx', undefined],
      ['drop', undefined],
      ['truncate', undefined],
      ['malformed', undefined],
      ['slowBody', 2000],
      ['latency', 2000],
    ])('retries %s to success', async (kind, delayMs) => {
      // The 400 ms request timeout is what the slow faults need; the others
      // get room, so that a loaded machine does not add a timeout's retry.
      const { client: c, logger } = client(
        okta,
        delayMs ? {} : { requestTimeoutMs: 5000 },
      );
      okta.resetStats();
      okta.setFaults([
        {
          endpoint: 'users',
          kind,
          requestNumbers: [1, 3],
          delayMs,
          status: 503,
        },
      ]);
      const users = await drain(c.listUsers({}));
      expect(users).toHaveLength(activeUsers);
      expect(new Set(users.map(u => u.id)).size).toBe(activeUsers);
      expect(c.stats().retries).toBe(2);
      expect(c.stats().requests.users).toBe(5);
      expect(logger.lines.filter(l => l.startsWith('warn'))).toHaveLength(2);
      expect(logger.lines.join('\n')).toContain('GET /api/v1/users');
    });

    it('gives up after maxRetries with an error naming endpoint, status, errorCode and request id', async () => {
      // At 100 a page does not get smaller: only the retries are left.
      const { client: c } = client(okta, {
        maxRetries: 3,
        groupMemberPageSize: 100,
      });
      okta.setFaults([
        { endpoint: 'groupUsers', kind: 'status5xx', rate: 1, status: 503 },
      ]);
      okta.resetStats();
      const error = await rejectionOf(
        drain(c.listGroupMembers(org.groups()[1].id)),
      );
      expect(error).toBeInstanceOf(OktaRequestError);
      expect((error as OktaRequestError).details).toEqual({
        endpoint: 'GET /api/v1/groups/{id}/users',
        status: 503,
        errorCode: 'E0000009',
        requestId: expect.any(String),
      });
      expect(error.message).toMatch(
        /GET \/api\/v1\/groups\/\{id\}\/users failed after 4 attempts: HTTP 503 E0000009/,
      );
      expect(error.message).not.toContain(TOKEN);
      expect(okta.stats().requests.groupUsers).toBe(4);
    });

    it.each<[string, FaultKind, number | undefined]>([
      ['fail (HTTP 500)', 'status5xx', undefined],
      ['time out', 'latency', 2000],
    ])(
      'asks for smaller pages when big member pages %s, for the rest of the listing',
      async (_what, kind, delayMs) => {
        const everyone = org.everyone()!;
        const members = org.memberIdsOf(everyone.id);
        expect(members.length).toBeGreaterThan(250);
        const { client: c, logger } = client(okta, { maxRetries: 2 });
        // Pages of 500 or more fail; the client asks for 1000, then 500, then
        // 250: each smaller page is one of the retries.
        okta.setFaults([
          { endpoint: 'groupUsers', kind, rate: 1, minPageSize: 500, delayMs },
        ]);
        okta.resetStats();
        const read = await drain(c.listGroupMembers(everyone.id));
        expect(read.map(u => u.id)).toEqual([...members]);
        expect(c.stats().pageSizeFallbacks).toBe(2);
        const limits = okta
          .stats()
          .log.map(e => new URL(e.path, okta.url).searchParams.get('limit'));
        expect(limits).toEqual([
          '1000',
          '500',
          ...Array(Math.ceil(members.length / 250)).fill('250'),
        ]);
        const warnings = logger.lines.filter(l => l.startsWith('warn'));
        expect(warnings[0]).toMatch(
          /retry 1 of 2 in \d+ ms, asking for pages of 500 instead of 1000 for the rest of this listing/,
        );
        expect(warnings[1]).toContain('retry 2 of 2');
        expect(warnings[1]).toContain('asking for pages of 250 instead of 500');
        // Later member listings start at the size that worked: no failed pages.
        okta.resetStats();
        const other = org
          .groups()
          .find(g => g.id !== everyone.id && org.memberIdsOf(g.id).length > 0)!;
        expect(await drain(c.listGroupMembers(other.id))).toHaveLength(
          org.memberIdsOf(other.id).length,
        );
        expect(
          okta
            .stats()
            .log.map(e => new URL(e.path, okta.url).searchParams.get('limit')),
        ).toEqual(['250']);
        expect(c.stats().pageSizeFallbacks).toBe(2);
      },
    );

    it('does not retry other 4xx', async () => {
      const { client: c } = client(okta);
      const error = await rejectionOf(
        drain(c.listGroupMembers('00gdoesnotexist')),
      );
      expect((error as OktaRequestError).details).toMatchObject({
        endpoint: 'GET /api/v1/groups/{id}/users',
        status: 404,
        errorCode: 'E0000007',
      });
      expect(c.stats().retries).toBe(0);
    });

    it('rejects an SSWS token Okta does not know, without retrying or echoing it', async () => {
      const c = createOktaOrgClient({
        orgUrl: okta.url,
        auth: { kind: 'apiToken', token: '00unknown-token' },
        logger: new CapturingLogger(),
      });
      const error = await rejectionOf(drain(c.listUsers({})));
      expect((error as OktaRequestError).details).toMatchObject({
        status: 401,
        errorCode: 'E0000011',
      });
      expect(error.message).not.toContain('00unknown-token');
      expect(c.stats().requests.users).toBe(1);
    });

    it('stops a listing promptly when aborted, in flight or waiting', async () => {
      const { client: c } = client(okta, { requestTimeoutMs: 30_000 });
      okta.setFaults([
        { endpoint: 'users', kind: 'latency', rate: 1, delayMs: 5000 },
      ]);
      const controller = new AbortController();
      const listing = rejectionOf(drain(c.listUsers({}, controller.signal)));
      setTimeout(() => controller.abort(), 100);
      const t0 = Date.now();
      expect(await listing).toMatchObject({ name: 'AbortError' });
      expect(Date.now() - t0).toBeLessThan(1000);

      // An already aborted signal sends nothing.
      okta.resetStats();
      await expect(
        drain(c.listGroups({}, AbortSignal.abort())),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(okta.stats().requests.groups).toBeUndefined();
    });
  });

  it('paces a listing to the bucket limit without any 429', async () => {
    // An SSWS token gets half of each bucket, as in Okta: 20 user and 10
    // group requests per second-long window.
    const okta = await start({
      rateLimits: { windowSeconds: 1, limits: { users: 40, groups: 20 } },
    });
    try {
      // A request timeout far above the fake's answer times, so that machine
      // load cannot turn a slow answer into a retry (an extra request).
      const { client: c } = client(okta, {
        userPageSize: 10,
        requestTimeoutMs: 5000,
      });
      const t0 = Date.now();
      const [users, groups] = await Promise.all([
        drain(c.listUsers({})),
        drain(c.listGroups({})),
        // Member listings share the groups bucket with the group listing.
        Promise.all(org.groups().map(g => drain(c.listGroupMembers(g.id)))),
      ]);
      const seconds = (Date.now() - t0) / 1000;
      expect(users).toHaveLength(activeUsers);
      expect(groups).toHaveLength(org.groups().length);
      expect(okta.stats().served429).toBe(0);
      expect(c.stats().rateLimited).toBe(0);
      // 45 user pages at 20 per window, and 1 + 25 requests in the groups
      // bucket at 10 per window: 3 windows each, so 2 s at least.
      expect(okta.stats().requests.users).toBe(Math.ceil(activeUsers / 10));
      expect(
        okta.stats().requests.groups + okta.stats().requests.groupUsers,
      ).toBe(26);
      expect(seconds).toBeGreaterThan(1.9);
      expect(seconds).toBeLessThan(8);
    } finally {
      await okta.close();
    }
  });

  it('survives an org concurrency limit below its own', async () => {
    const okta = await start({
      rateLimits: { concurrency: 3 },
      latency: { fixedMs: 20 },
    });
    try {
      const { client: c, logger } = client(okta, { maxConcurrency: 10 });
      const results = await Promise.all(
        org.groups().map(g => drain(c.listGroupMembers(g.id))),
      );
      expect(results.map(r => r.length)).toEqual(
        org.groups().map(g => org.memberIdsOf(g.id).length),
      );
      expect(okta.stats().peakConcurrency).toBeLessThanOrEqual(4);
      // The fake's concurrency 429s (limit and remaining 0, some on the
      // bucket's very first responses) are told from window 429s.
      expect(okta.stats().served429).toBeGreaterThan(0);
      const said = logger.lines.join('\n');
      expect(said).toContain('too many concurrent requests (HTTP 429)');
      expect(said).not.toContain('rate limit exceeded');
    } finally {
      await okta.close();
    }
  });
});

describe('nextLinkOf', () => {
  it('finds rel="next" among several links', () => {
    expect(
      nextLinkOf(
        '<https://x/api/v1/users?limit=2>; rel="self", <https://x/api/v1/users?after=a%2Cb&limit=2>; rel="next"',
      ),
    ).toBe('https://x/api/v1/users?after=a%2Cb&limit=2');
    expect(nextLinkOf('<https://x/a>; rel=self')).toBeUndefined();
    expect(nextLinkOf(null)).toBeUndefined();
  });
});

describe('oktaErrorOf', () => {
  it('reads management API and OAuth error bodies', () => {
    expect(
      oktaErrorOf(
        JSON.stringify({
          errorCode: 'E0000011',
          errorSummary: 'Invalid token provided',
          errorCauses: [{ errorSummary: 'why' }],
        }),
      ),
    ).toEqual({
      errorCode: 'E0000011',
      summary: 'Invalid token provided (why)',
    });
    expect(
      oktaErrorOf(
        JSON.stringify({ error: 'invalid_scope', error_description: 'nope' }),
      ),
    ).toEqual({
      errorCode: 'invalid_scope',
      summary: 'nope',
    });
    expect(oktaErrorOf('<html>')).toEqual({});
  });
});
