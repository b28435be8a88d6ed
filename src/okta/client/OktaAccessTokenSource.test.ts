import {
  createServiceAppKeys,
  FakeOkta,
  generateOrg,
  ServiceAppKeys,
  startFakeOkta,
} from '../../../dev/fakeOkta';
import { createOktaOrgClient } from './createOktaOrgClient';
import { OktaAccessTokenSource } from './OktaAccessTokenSource';
import { OktaRateLimiter } from './OktaRateLimiter';
import { OktaRequestExecutor } from './OktaRequestExecutor';
import { CapturingLogger, drain, rejectionOf } from './oktaClientTestKit';
import { OktaClientOptions, OktaClientStats, OktaRequestError } from './types';

const SCOPES = ['okta.users.read', 'okta.groups.read'];

describe('OktaAccessTokenSource', () => {
  const org = generateOrg({
    seed: 5,
    users: 230,
    groups: 8,
    averageGroupsPerUser: 3,
  });
  const activeUsers = org
    .users()
    .filter(u => u.status !== 'DEPROVISIONED').length;
  let okta: FakeOkta;
  let appCounter = 0;

  beforeAll(async () => {
    okta = await startFakeOkta({
      org,
      rateLimits: { windowSeconds: 1 },
    });
  });
  afterAll(() => okta.close());

  async function app(
    alg: 'RS256' | 'ES256',
    opts: {
      requireDpop?: boolean;
      scopes?: string[];
      adminRole?: boolean;
    } = {},
  ): Promise<{ clientId: string; keys: ServiceAppKeys }> {
    const keys = await createServiceAppKeys(alg);
    const clientId = `0oa-app-${++appCounter}`;
    okta.addServiceApp({
      clientId,
      publicJwks: [keys.publicJwk],
      scopes: opts.scopes ?? SCOPES,
      requireDpop: opts.requireDpop,
      adminRole: opts.adminRole,
    });
    return { clientId, keys };
  }

  function client(
    clientId: string,
    keyId: string,
    privateKey: string,
    extra: Partial<OktaClientOptions> = {},
  ) {
    return createOktaOrgClient({
      orgUrl: okta.url,
      auth: { kind: 'privateKey', clientId, keyId, privateKey },
      logger: new CapturingLogger(),
      retryBaseDelayMs: 5,
      ...extra,
    });
  }

  it.each([
    ['RS256', 'PEM', false],
    ['RS256', 'JWK', false],
    ['ES256', 'PEM', false],
    ['ES256', 'JWK', false],
    ['RS256', 'PEM', true],
    ['ES256', 'JWK', true],
  ] as const)(
    'authenticates with an %s key as %s (DPoP required: %s)',
    async (alg, form, requireDpop) => {
      const { clientId, keys } = await app(alg, { requireDpop });
      const privateKey =
        form === 'PEM' ? keys.privateKeyPem : JSON.stringify(keys.privateJwk);
      const c = client(clientId, keys.kid, privateKey);
      okta.resetStats();
      expect(await drain(c.listUsers({}))).toHaveLength(activeUsers);
      expect(c.stats().tokensFetched).toBe(1);
      // Without DPoP one token request; with it, the proof-less try, the nonce challenge, the token.
      expect(okta.stats().requests.token).toBe(requireDpop ? 3 : 1);
      expect(okta.stats().log.filter(e => e.status === 401)).toHaveLength(0);
    },
  );

  it('names invalid_client and the fix for a wrong key id', async () => {
    const { clientId, keys } = await app('RS256');
    const error = await rejectionOf(
      drain(client(clientId, 'not-the-kid', keys.privateKeyPem).listUsers({})),
    );
    expect(error).toBeInstanceOf(OktaRequestError);
    expect((error as OktaRequestError).details).toMatchObject({
      endpoint: 'POST /oauth2/v1/token',
      status: 401,
      errorCode: 'invalid_client',
      requestId: expect.any(String),
    });
    expect(error.message).toMatch(/kid is invalid/);
    expect(error.message).toMatch(/To fix: keyId does not match/);
  });

  it('reports invalid_scope when a scope is not granted', async () => {
    const { clientId, keys } = await app('ES256', {
      scopes: ['okta.users.read'],
    });
    const error = await rejectionOf(
      drain(client(clientId, keys.kid, keys.privateKeyPem).listGroups({})),
    );
    expect((error as OktaRequestError).details).toMatchObject({
      status: 400,
      errorCode: 'invalid_scope',
    });
    expect(error.message).toMatch(/okta\.groups\.read/);
  });

  it('reports 403 E0000006 when the app has no admin role', async () => {
    const { clientId, keys } = await app('RS256', { adminRole: false });
    const error = await rejectionOf(
      drain(client(clientId, keys.kid, keys.privateKeyPem).listUsers({})),
    );
    expect((error as OktaRequestError).details).toMatchObject({
      endpoint: 'GET /api/v1/users',
      status: 403,
      errorCode: 'E0000006',
    });
    expect(error.message).toMatch(/admin role/);
  });

  it('caches the token across listings and fetches one for concurrent first calls', async () => {
    const { clientId, keys } = await app('ES256', { requireDpop: true });
    const c = client(clientId, keys.kid, keys.privateKeyPem);
    okta.resetStats();
    const groups = org.groups();
    await Promise.all([
      drain(c.listUsers({})),
      drain(c.listGroups({})),
      ...groups.map(g => drain(c.listGroupMembers(g.id))),
    ]);
    await drain(c.listUsers({}));
    expect(c.stats().tokensFetched).toBe(1);
    expect(okta.stats().tokensIssued).toBe(1);
  });

  it('renews the token before it expires', async () => {
    const shortLived = await startFakeOkta({ org, tokenLifetimeSeconds: 2 });
    try {
      const keys = await createServiceAppKeys('RS256');
      shortLived.addServiceApp({
        clientId: 'short',
        publicJwks: [keys.publicJwk],
        scopes: SCOPES,
      });
      const c = createOktaOrgClient({
        orgUrl: shortLived.url,
        auth: {
          kind: 'privateKey',
          clientId: 'short',
          keyId: keys.kid,
          privateKey: keys.privateKeyPem,
        },
        logger: new CapturingLogger(),
      });
      await drain(c.listGroups({}));
      await drain(c.listGroups({}));
      expect(c.stats().tokensFetched).toBe(1);
      await new Promise(r => setTimeout(r, 1700));
      await drain(c.listGroups({}));
      expect(c.stats().tokensFetched).toBe(2);
      // Renewed ahead of time: the API never saw an expired token.
      expect(shortLived.stats().log.filter(e => e.status === 401)).toHaveLength(
        0,
      );
    } finally {
      await shortLived.close();
    }
  });

  it('renews the token once after a 401 and retries the request', async () => {
    // This fake's clock can run ahead of ours, to expire tokens server-side.
    let clockOffsetMs = 0;
    const skewed = await startFakeOkta({
      org,
      tokenLifetimeSeconds: 200,
      clock: () => Date.now() + clockOffsetMs,
    });
    try {
      const keys = await createServiceAppKeys('RS256');
      skewed.addServiceApp({
        clientId: 'skewed',
        publicJwks: [keys.publicJwk],
        scopes: SCOPES,
      });
      const c = createOktaOrgClient({
        orgUrl: skewed.url,
        auth: {
          kind: 'privateKey',
          clientId: 'skewed',
          keyId: keys.kid,
          privateKey: keys.privateKeyPem,
        },
        logger: new CapturingLogger(),
      });
      await drain(c.listGroups({}));
      // Okta's clock passes the token's expiry while ours still trusts it.
      clockOffsetMs = 250_000;
      skewed.resetStats();
      expect(await drain(c.listUsers({}))).toHaveLength(activeUsers);
      expect(c.stats().tokensFetched).toBe(2);
      expect(skewed.stats().log.filter(e => e.status === 401)).toHaveLength(1);
    } finally {
      await skewed.close();
    }
  });

  it('retries throttled DPoP requests with a fresh proof each time', async () => {
    const { clientId, keys } = await app('ES256', { requireDpop: true });
    const c = client(clientId, keys.kid, keys.privateKeyPem);
    await drain(c.listGroups({}));
    okta.resetStats();
    okta.setFaults([
      { endpoint: 'users', kind: 'status429', requestNumbers: [1, 2] },
      { endpoint: 'users', kind: 'status5xx', requestNumbers: [3] },
    ]);
    try {
      expect(await drain(c.listUsers({}))).toHaveLength(activeUsers);
    } finally {
      okta.setFaults([]);
    }
    // A reused proof would have been a 401 (invalid_dpop_proof).
    expect(okta.stats().log.filter(e => e.status === 401)).toHaveLength(0);
    expect(c.stats().rateLimited).toBe(2);
    expect(c.stats().tokensFetched).toBe(1);
  });

  it('shares one token request between concurrent callers, and lets a caller stop waiting', async () => {
    const { clientId, keys } = await app('ES256');
    const stats: OktaClientStats = {
      requests: {},
      retries: 0,
      rateLimited: 0,
      tokensFetched: 0,
    };
    const logger = new CapturingLogger();
    const executor = new OktaRequestExecutor({
      orgUrl: okta.url,
      limiter: new OktaRateLimiter({ maxConcurrency: 10 }),
      logger,
      stats,
      authorizer: send =>
        new OktaAccessTokenSource({
          orgUrl: okta.url,
          clientId,
          keyId: keys.kid,
          privateKey: keys.privateKeyPem,
          scopes: SCOPES,
          logger,
          stats,
          send,
        }),
      maxRetries: 2,
      requestTimeoutMs: 5000,
      retryBaseDelayMs: 5,
    });
    const source = executor.authorizer as OktaAccessTokenSource;
    const aborted = rejectionOf(source.accessToken(AbortSignal.abort()));
    const tokens = await Promise.all(
      [1, 2, 3, 4, 5].map(() => source.accessToken()),
    );
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    expect(new Set(tokens.map(t => t.value)).size).toBe(1);
    expect(stats.tokensFetched).toBe(1);
    expect(source.usesDpop).toBe(false);
  });

  it('renews tokens with a single concurrency slot (no slot held while fetching one)', async () => {
    // Renewed at 80% of the lifetime: each phase below has 1.6 s to finish
    // on one token, and the pause outlasts the first one.
    const shortLived = await startFakeOkta({ org, tokenLifetimeSeconds: 2 });
    try {
      const keys = await createServiceAppKeys('ES256');
      shortLived.addServiceApp({
        clientId: 'one',
        publicJwks: [keys.publicJwk],
        scopes: SCOPES,
        requireDpop: true,
      });
      const c = createOktaOrgClient({
        orgUrl: shortLived.url,
        auth: {
          kind: 'privateKey',
          clientId: 'one',
          keyId: keys.kid,
          privateKey: keys.privateKeyPem,
        },
        logger: new CapturingLogger(),
        maxConcurrency: 1,
      });
      const groups = org.groups();
      await Promise.all(groups.map(g => drain(c.listGroupMembers(g.id))));
      await new Promise(r => setTimeout(r, 1700));
      await Promise.all([
        drain(c.listUsers({})),
        ...groups.map(g => drain(c.listGroupMembers(g.id))),
      ]);
      expect(c.stats().tokensFetched).toBe(2);
      expect(shortLived.stats().peakConcurrency).toBe(1);
    } finally {
      await shortLived.close();
    }
  });

  it('fails fast on an unusable private key', async () => {
    expect(() => client('x', 'k', 'not a key')).toThrow(/\(privateKey\)/);
  });
});
