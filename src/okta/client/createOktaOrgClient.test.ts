import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  createServiceAppKeys,
  demoOrg,
  FakeOkta,
  generateOrg,
  startFakeOkta,
} from '../../../dev/fakeOkta';
import { createOktaOrgClient, oktaGroupFromApi } from './createOktaOrgClient';
import {
  CapturingLogger,
  drain,
  recordSentCredentials,
  rejectionOf,
} from './oktaClientTestKit';
import { OktaRequestError } from './types';

const SCOPES = ['okta.users.read', 'okta.groups.read'];
const TOKEN = '00list-test-token';

describe('createOktaOrgClient', () => {
  // Everyone has ~2400 members: three pages of 1000.
  const org = generateOrg({
    seed: 3,
    users: 2500,
    groups: 30,
    averageGroupsPerUser: 3,
  });
  const activeUsers = org.users().filter(u => u.status !== 'DEPROVISIONED');
  let okta: FakeOkta;

  beforeAll(async () => {
    okta = await startFakeOkta({ org });
    okta.addApiToken(TOKEN);
  });
  afterAll(() => okta.close());

  function client(extra: { orgUrl?: string; groupPageSize?: number } = {}) {
    return createOktaOrgClient({
      orgUrl: okta.url,
      auth: { kind: 'apiToken', token: TOKEN },
      logger: new CapturingLogger(),
      ...extra,
    });
  }

  it("reads one user, one group and one user's groups by id, each in one request outside the groups bucket; a deleted object is undefined (404)", async () => {
    const c = client();
    const group = org.groups().find(g => g.type !== 'BUILT_IN')!;
    const userId = org.memberIdsOf(group.id)[0];
    const user = org.users().find(u => u.id === userId)!;
    okta.resetStats();

    const read = await c.getUser!(userId);
    expect(read).toMatchObject({
      id: userId,
      status: user.status,
      lastUpdated: user.lastUpdated,
      profile: { login: user.profile.login },
    });
    const readGroup = await c.getGroup!(group.id);
    expect(readGroup).toMatchObject({
      id: group.id,
      type: group.type,
      lastMembershipUpdated: group.lastMembershipUpdated,
      profile: { name: group.profile.name },
    });
    const groupsOfUser = await drain(c.listUserGroups!(userId));
    expect(groupsOfUser.map(g => g.id).sort()).toEqual(
      [...org.groupIdsOf(userId)].sort(),
    );
    expect(groupsOfUser.map(g => g.id)).toContain(group.id);
    const served = okta.stats();
    expect(served.requests).toEqual({
      userById: 1,
      groupById: 1,
      userGroups: 1,
    });

    expect(await c.getUser!('00unosuchuser')).toBeUndefined();
    expect(await c.getGroup!('00gnosuchgroup')).toBeUndefined();
    const missing = await rejectionOf(
      drain(c.listUserGroups!('00unosuchuser')),
    );
    expect(missing).toBeInstanceOf(OktaRequestError);
    expect((missing as OktaRequestError).details).toMatchObject({
      status: 404,
      errorCode: 'E0000007',
    });
    // Any other failure is an error, not a deletion.
    okta.setFaults([
      { endpoint: 'userById', kind: 'status5xx', status: 503, rate: 1 },
    ]);
    const failing = createOktaOrgClient({
      orgUrl: okta.url,
      auth: { kind: 'apiToken', token: TOKEN },
      logger: new CapturingLogger(),
      maxRetries: 0,
    });
    await expect(failing.getUser!(userId)).rejects.toThrow(/503/);
    okta.setFaults([]);
  });

  it('pages to the end at the maximum page sizes', async () => {
    const c = client();
    okta.resetStats();
    const users = await drain(c.listUsers({}));
    expect(users.map(u => u.id)).toEqual(activeUsers.map(u => u.id));
    expect(okta.stats().requests.users).toBe(
      Math.ceil(activeUsers.length / 200),
    );

    const groups = await drain(c.listGroups({}));
    expect(groups.map(g => g.id)).toEqual(org.groups().map(g => g.id));
    expect(okta.stats().requests.groups).toBe(1);

    const everyone = org.everyone()!;
    const members = await drain(c.listGroupMembers(everyone.id));
    expect(members.map(u => u.id)).toEqual([...org.memberIdsOf(everyone.id)]);
    expect(members.length).toBeGreaterThan(2000);
    expect(okta.stats().requests.groupUsers).toBe(
      Math.ceil(members.length / 1000),
    );
    expect(
      okta.stats().log.every(e => /limit=(200|10000|1000)/.test(e.path)),
    ).toBe(true);

    expect(c.stats()).toEqual({
      requests: {
        users: Math.ceil(activeUsers.length / 200),
        groups: 1,
        groupMembers: Math.ceil(members.length / 1000),
      },
      responses: {
        users: { 200: Math.ceil(activeUsers.length / 200) },
        groups: { 200: 1 },
        groupMembers: { 200: Math.ceil(members.length / 1000) },
      },
      retries: 0,
      rateLimited: 0,
      tokensFetched: 0,
      // One listing after another: one page held (being consumed) while
      // one request (the next page, asked ahead) is on the wire.
      peakPagesHeld: 1,
      peakRequestsInFlight: 1,
      // The biggest page: a full member page.
      peakRecordsHeld: Math.max(200, org.groups().length, 1000),
    });
  });

  it('parses each page once: the check that it is JSON gives the page its items', async () => {
    const c = client();
    const parse = jest.spyOn(JSON, 'parse');
    try {
      okta.resetStats();
      const users = await drain(c.listUsers({}));
      const pages = okta.stats().requests.users!;
      expect(users).toHaveLength(activeUsers.length);
      const pageParses = parse.mock.calls.filter(
        ([text]) => typeof text === 'string' && text.startsWith('[{'),
      );
      expect(pageParses).toHaveLength(pages);
    } finally {
      parse.mockRestore();
    }
  });

  describe('asking for the next page ahead', () => {
    let slow: FakeOkta;
    beforeAll(async () => {
      slow = await startFakeOkta({ org, latency: { fixedMs: 40 } });
      slow.addApiToken(TOKEN);
    });
    afterAll(() => slow.close());

    it('overlaps the next page with the consumer working on this one', async () => {
      const c = client({ orgUrl: slow.url });
      const pages = Math.ceil(activeUsers.length / 200);
      let seen = 0;
      const t0 = Date.now();
      for await (const user of c.listUsers({})) {
        expect(user.id).toBeDefined();
        // 40 ms of consumer work per page, as long as a round trip.
        if (seen++ % 200 === 0)
          await new Promise(resolve => setTimeout(resolve, 40));
      }
      const ms = Date.now() - t0;
      expect(seen).toBe(activeUsers.length);
      // One after the other it would take pages × (40 + 40) ms at least.
      expect(ms).toBeLessThan(pages * 80 - 200);
      expect(ms).toBeGreaterThanOrEqual(pages * 40);
    });

    it('cancels the page asked ahead when the consumer stops, and sends no more', async () => {
      const c = client({ orgUrl: slow.url });
      slow.resetStats();
      for await (const user of c.listUsers({})) {
        expect(user.id).toBeDefined();
        break;
      }
      await new Promise(resolve => setTimeout(resolve, 150));
      expect(slow.stats().requests.users).toBeLessThanOrEqual(2);
    });
  });

  it('lets go of a page the consumer stops in the middle of: it is no longer counted as held', async () => {
    const c = client();
    // 200 users on the first page; stop after the first of them.
    for await (const user of c.listUsers({})) {
      expect(user.id).toBeDefined();
      break;
    }
    const everyone = org.everyone()!;
    await drain(c.listGroupMembers(everyone.id));
    // Only the member pages (1,000 each) at a time: the 199 users left on the
    // abandoned page are not added to them.
    expect(c.stats().peakPagesHeld).toBe(1);
    expect(c.stats().peakRecordsHeld).toBe(1000);
  });

  it('keeps every profile attribute, custom ones included, and ISO timestamps', async () => {
    const demo = await startFakeOkta({ org: demoOrg() });
    try {
      demo.addApiToken(TOKEN);
      const c = createOktaOrgClient({
        orgUrl: demo.url,
        auth: { kind: 'apiToken', token: TOKEN },
        logger: new CapturingLogger(),
      });
      const users = await drain(
        c.listUsers({
          search: 'status eq "ACTIVE" or status eq "DEPROVISIONED"',
        }),
      );
      expect(users.length).toBeGreaterThan(0);
      for (const user of users) {
        const stored = demo.org.getUser(user.id)!;
        expect(user).toEqual({
          id: stored.id,
          status: stored.status,
          created: stored.created,
          lastUpdated: stored.lastUpdated,
          profile: stored.profile,
        });
      }
      const groups = await drain(c.listGroups({}));
      for (const group of groups) {
        const stored = demo.org.getGroup(group.id)!;
        expect(group).toEqual({
          id: stored.id,
          type: stored.type,
          lastUpdated: stored.lastUpdated,
          lastMembershipUpdated: stored.lastMembershipUpdated,
          profile: stored.profile,
        });
      }
      // The SDK's Group model would have dropped this custom attribute.
      expect(groups.some(g => typeof g.profile.parentGroup === 'string')).toBe(
        true,
      );
    } finally {
      await demo.close();
    }
  });

  it('follows next links longer than the Link parser of the SDK accepts', async () => {
    const wanted = activeUsers.slice(0, 90);
    const search = wanted
      .map(u => `profile.login eq "${u.profile.login}"`)
      .join(' or ');
    const c = createOktaOrgClient({
      orgUrl: okta.url,
      auth: { kind: 'apiToken', token: TOKEN },
      logger: new CapturingLogger(),
      userPageSize: 20,
    });
    okta.resetStats();
    const users = await drain(c.listUsers({ search }));
    expect(users.map(u => u.id)).toEqual(wanted.map(u => u.id));
    expect(okta.stats().requests.users).toBe(5);
    expect(okta.stats().log[1].path.length).toBeGreaterThan(2000);
  });

  it('passes search through', async () => {
    const users = await drain(
      client().listUsers({ search: 'status eq "SUSPENDED"' }),
    );
    expect(users.length).toBeGreaterThan(0);
    expect(users.every(u => u.status === 'SUSPENDED')).toBe(true);
  });

  it('reads usersCount with expandStats, on the first page only (Okta drops expand)', async () => {
    const groups = await drain(
      client({ groupPageSize: 10 }).listGroups({ expandStats: true }),
    );
    expect(groups).toHaveLength(30);
    for (const group of groups.slice(0, 10)) {
      expect(group.usersCount).toBe(org.memberIdsOf(group.id).length);
    }
    expect(groups.slice(10).every(g => g.usersCount === undefined)).toBe(true);
    expect(
      (await drain(client().listGroups({})))[0].usersCount,
    ).toBeUndefined();
  });

  it('tolerates a trailing slash on the org URL', async () => {
    okta.resetStats();
    expect(
      await drain(client({ orgUrl: `${okta.url}//` }).listGroups({})),
    ).toHaveLength(30);
    expect(okta.stats().log.map(e => e.path)).toEqual([
      '/api/v1/groups?limit=10000',
    ]);
  });

  it('ignores OKTA_CLIENT_* environment variables', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      OKTA_CLIENT_ORGURL: 'http://127.0.0.1:1',
      OKTA_CLIENT_TOKEN: '00from-the-environment',
      OKTA_CLIENT_AUTHORIZATIONMODE: 'PrivateKey',
      OKTA_CLIENT_CLIENTID: 'env-client',
      OKTA_CLIENT_SCOPES: 'okta.apps.read',
      OKTA_CLIENT_PRIVATEKEY: 'not a key',
    });
    try {
      expect(await drain(client().listGroups({}))).toHaveLength(30);
    } finally {
      process.env = saved;
    }
  });

  it('validates page sizes and the org URL', () => {
    expect(() => client({ groupPageSize: 20000 })).toThrow(
      /groupPageSize must be an integer from 1 to 10000/,
    );
    expect(() => client({ orgUrl: 'example.okta.com' })).toThrow(/not a URL/);
  });

  /** A tiny users endpoint serving these pages in order (cursor = page index). */
  async function withUserPages(
    pages: unknown[][],
    test: (orgUrl: string) => Promise<void>,
  ): Promise<void> {
    const server = http.createServer((req, res) => {
      const base = `http://${req.headers.host}`;
      const index = Number(
        new URL(req.url!, base).searchParams.get('after') ?? 0,
      );
      res.setHeader('Content-Type', 'application/json');
      if (index + 1 < pages.length) {
        res.setHeader(
          'Link',
          `<${base}/api/v1/users?limit=200&after=${index + 1}>; rel="next"`,
        );
      }
      res.end(JSON.stringify(pages[index]));
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    try {
      await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  }

  const user = (id: string) => ({
    id,
    status: 'ACTIVE',
    profile: { login: `${id}@example.com` },
  });

  it('skips the empty page Okta can send with a next link', async () => {
    await withUserPages([[user('00u1')], [], [user('00u3')]], async orgUrl => {
      const c = createOktaOrgClient({
        orgUrl,
        auth: { kind: 'apiToken', token: TOKEN },
        logger: new CapturingLogger(),
      });
      expect((await drain(c.listUsers({}))).map(u => u.id)).toEqual([
        '00u1',
        '00u3',
      ]);
      expect(c.stats().requests.users).toBe(3);
    });
  });

  it('skips a record without id or profile with a warning, keeping the rest', async () => {
    const pages = [
      [user('00u1'), { status: 'ACTIVE', profile: {} }],
      [{ id: '00u2' }, user('00u3')],
    ];
    await withUserPages(pages, async orgUrl => {
      const logger = new CapturingLogger();
      const c = createOktaOrgClient({
        orgUrl,
        auth: { kind: 'apiToken', token: TOKEN },
        logger,
      });
      expect((await drain(c.listUsers({}))).map(u => u.id)).toEqual([
        '00u1',
        '00u3',
      ]);
      const warnings = logger.lines.filter(line => line.startsWith('warn'));
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toContain('has no id');
      expect(warnings[1]).toContain('00u2');
      expect(warnings[1]).toContain('has no profile');
    });
  });

  it('follows next links on another host on the org URL, so credentials go nowhere else', async () => {
    const hosts: string[] = [];
    const server = http.createServer((req, res) => {
      hosts.push(
        `${req.headers.host} ${req.url} ${req.headers.authorization ? 'with' : 'without'} credentials`,
      );
      res.setHeader('Content-Type', 'application/json');
      if (!req.url?.includes('after=')) {
        res.setHeader(
          'Link',
          '<http://127.0.0.2:9/api/v1/users?after=x&limit=200>; rel="next"',
        );
      }
      res.end('[]');
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const c = createOktaOrgClient({
        orgUrl: `http://127.0.0.1:${port}`,
        auth: { kind: 'apiToken', token: TOKEN },
        logger: new CapturingLogger(),
      });
      expect(await drain(c.listUsers({}))).toEqual([]);
      expect(hosts).toEqual([
        `127.0.0.1:${port} /api/v1/users?limit=200 with credentials`,
        `127.0.0.1:${port} /api/v1/users?after=x&limit=200 with credentials`,
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    }
  });

  it("reads every page when Okta's next links are on the canonical host, not the one asked", async () => {
    // As a request to acme-admin.okta.com is answered with links on acme.okta.com.
    const canonical = await startFakeOkta({ org, canonicalHost: 'localhost' });
    canonical.addApiToken(TOKEN);
    try {
      const logger = new CapturingLogger();
      const c = createOktaOrgClient({
        orgUrl: canonical.url,
        auth: { kind: 'apiToken', token: TOKEN },
        logger,
      });
      const first = await fetch(`${canonical.url}/api/v1/users?limit=200`, {
        headers: { authorization: `SSWS ${TOKEN}` },
      });
      expect(first.headers.get('link')).toContain(
        `http://localhost:${new URL(canonical.url).port}/api/v1/users?`,
      );
      const users = await drain(c.listUsers({}));
      expect(users.map(u => u.id)).toEqual(activeUsers.map(u => u.id));
      const biggest = org
        .groups()
        .reduce((a, b) =>
          org.memberIdsOf(b.id).length > org.memberIdsOf(a.id).length ? b : a,
        );
      const members = await drain(c.listGroupMembers(biggest.id));
      expect(members).toHaveLength(org.memberIdsOf(biggest.id).length);
      expect(members.length).toBeGreaterThan(1000);
      // Every request went to the org URL.
      expect(canonical.stats().log.every(e => !e.path.startsWith('http'))).toBe(
        true,
      );
      expect(logger.lines.join('\n')).toContain(
        'next links are on http://localhost:',
      );
    } finally {
      await canonical.close();
    }
  });

  it('retries a rejected DPoP proof once with a fresh one, then says what Okta said and what to check', async () => {
    // The fake's clock jumps 10 minutes after the token is issued: every
    // proof's iat is then too old (Okta allows 5 minutes), the token valid.
    let skewMs = 0;
    const skewed = await startFakeOkta({
      org: demoOrg(),
      clock: () => Date.now() + skewMs,
    });
    try {
      const ec = await createServiceAppKeys('ES256');
      skewed.addServiceApp({
        clientId: 'dpop',
        publicJwks: [ec.publicJwk],
        scopes: SCOPES,
        requireDpop: true,
      });
      const logger = new CapturingLogger();
      const c = createOktaOrgClient({
        orgUrl: skewed.url,
        auth: {
          kind: 'privateKey',
          clientId: 'dpop',
          keyId: ec.kid,
          privateKey: JSON.stringify(ec.privateJwk),
        },
        logger,
      });
      expect((await drain(c.listGroups({}))).length).toBeGreaterThan(0);
      skewed.resetStats();
      skewMs = 600_000;
      const error = await rejectionOf(drain(c.listUsers({})));
      expect(error).toBeInstanceOf(OktaRequestError);
      expect(error.message).toContain(
        'GET /api/v1/users failed with HTTP 400 invalid_dpop_proof',
      );
      expect(error.message).toContain(
        "The DPoP proof JWT 'iat' claim is missing or not recent.",
      );
      expect(error.message).toContain('after 2 attempts');
      expect(error.message).toContain(
        "To fix: Okta rejected the DPoP proof; check that this machine's clock is right",
      );
      expect(skewed.stats().requests.users).toBe(2);
      expect(logger.lines.join('\n')).toContain('rejected the DPoP proof');
    } finally {
      await skewed.close();
    }
  });

  it('puts no secret in any log line or error message', async () => {
    const failing = await startFakeOkta({
      org: demoOrg(),
      rateLimits: { windowSeconds: 1 },
    });
    const recorder = recordSentCredentials();
    const logger = new CapturingLogger();
    const errors: unknown[] = [];
    try {
      const rsa = await createServiceAppKeys('RS256');
      const ec = await createServiceAppKeys('ES256');
      failing.addServiceApp({
        clientId: 'dpop',
        publicJwks: [ec.publicJwk],
        scopes: SCOPES,
        requireDpop: true,
      });
      failing.addServiceApp({
        clientId: 'plain',
        publicJwks: [rsa.publicJwk],
        scopes: ['okta.users.read'],
      });
      failing.addServiceApp({
        clientId: 'noadmin',
        publicJwks: [rsa.publicJwk],
        scopes: SCOPES,
        adminRole: false,
      });
      const make = (clientId: string, keyId: string, privateKey: string) =>
        createOktaOrgClient({
          orgUrl: failing.url,
          auth: { kind: 'privateKey', clientId, keyId, privateKey },
          logger,
          retryBaseDelayMs: 1,
          requestTimeoutMs: 300,
          maxRetries: 2,
        });
      const attempt = async (p: Promise<unknown>) =>
        errors.push(await rejectionOf(p));

      await attempt(
        drain(make('plain', 'wrong-kid', rsa.privateKeyPem).listUsers({})),
      );
      await attempt(
        drain(make('plain', rsa.kid, rsa.privateKeyPem).listGroups({})),
      );
      await attempt(
        drain(make('noadmin', rsa.kid, rsa.privateKeyPem).listUsers({})),
      );
      const dpop = make('dpop', ec.kid, JSON.stringify(ec.privateJwk));
      failing.setFaults([
        { endpoint: 'users', kind: 'status5xx', rate: 1 },
        { endpoint: 'groups', kind: 'slowBody', rate: 1, delayMs: 1000 },
        { endpoint: 'groupUsers', kind: 'status429', requestNumbers: [1] },
        { endpoint: 'groupUsers', kind: 'malformed', rate: 1 },
      ]);
      await attempt(drain(dpop.listUsers({})));
      await attempt(drain(dpop.listGroups({})));
      await attempt(drain(dpop.listGroupMembers('00gdemo0engineering1')));
      expect(dpop.stats().tokensFetched).toBe(1);
    } finally {
      recorder.restore();
      await failing.close();
    }

    expect(errors).toHaveLength(6);
    expect(errors.every(e => e instanceof OktaRequestError)).toBe(true);
    expect(logger.lines.length).toBeGreaterThan(5);
    const said = [
      ...logger.lines,
      ...errors.map(
        e =>
          `${(e as Error).message} ${(e as Error).stack} ${JSON.stringify(e)}`,
      ),
    ].join('\n');
    // Authorization values, tokens, proofs and assertions actually sent.
    expect(recorder.secrets.size).toBeGreaterThan(10);
    const secrets = [...recorder.secrets].filter(secret => secret.length > 20);
    for (const secret of secrets) expect(said).not.toContain(secret);
    expect(said).not.toMatch(/PRIVATE KEY|"d":|eyJ/);
  });
});

describe('oktaGroupFromApi', () => {
  it('rejects an object without id', () => {
    expect(() =>
      oktaGroupFromApi({ profile: {} }, 'GET /api/v1/groups'),
    ).toThrow(OktaRequestError);
  });
});
