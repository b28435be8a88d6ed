/*
 * Walks a generated org through every endpoint the fake serves, including
 * error responses and the token endpoint, and validates each body against
 * the vendored Okta OpenAPI specs.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  createServiceAppKeys,
  FakeOkta,
  generateOrg,
  startFakeOkta,
} from './index';
import {
  apiGet,
  clientAssertion,
  dpopProof,
  getAccessToken,
  nextLink,
  requestToken,
  tokenForm,
} from './testing/fakeOktaClient';
import {
  OktaOpenApiValidator,
  ValidationResult,
} from './testing/openApiValidator';

jest.setTimeout(60_000);

describe('fake Okta responses conform to the OpenAPI specs', () => {
  let okta: FakeOkta;
  let validator: OktaOpenApiValidator;
  const org = generateOrg({
    seed: 99,
    users: 320,
    groups: 30,
    averageGroupsPerUser: 4,
  });
  const failures: string[] = [];
  const fallbacks = new Set<string>();
  let checked = 0;

  const check = (
    spec: 'management' | 'oauth',
    path: string,
    method: string,
    res: { status: number; body: unknown },
  ): ValidationResult => {
    const result = validator.validateResponse(
      spec,
      path,
      method,
      res.status,
      res.body,
    );
    checked++;
    if (result.fallback) fallbacks.add(`${method} ${path} ${res.status}`);
    if (!result.valid)
      failures.push(`${method} ${path} ${res.status}:\n${result.message}`);
    return result;
  };

  beforeAll(async () => {
    validator = new OktaOpenApiValidator();
    okta = await startFakeOkta({
      org,
      rateLimits: { limits: { groupById: 1000 } },
    });
    okta.addApiToken('00conformance');
  });
  afterAll(() => okta.close());

  it('token endpoint responses match oauth.yaml', async () => {
    const keys = await createServiceAppKeys('RS256');
    const dpopKey = await createServiceAppKeys('ES256');
    okta.addServiceApp({
      clientId: 'c',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read'],
    });
    okta.addServiceApp({
      clientId: 'd',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read'],
      requireDpop: true,
    });
    const tokenUrl = `${okta.url}/oauth2/v1/token`;
    const path = '/oauth2/v1/token';
    check(
      'oauth',
      path,
      'POST',
      await requestToken(
        okta.url,
        tokenForm(clientAssertion(keys, 'c', tokenUrl), 'okta.users.read'),
      ),
    );
    check(
      'oauth',
      path,
      'POST',
      await requestToken(
        okta.url,
        tokenForm(clientAssertion(keys, 'c', tokenUrl), 'okta.groups.read'),
      ),
    );
    check(
      'oauth',
      path,
      'POST',
      await requestToken(
        okta.url,
        tokenForm(clientAssertion(keys, 'x', tokenUrl)),
      ),
    );
    check(
      'oauth',
      path,
      'POST',
      await requestToken(
        okta.url,
        tokenForm(clientAssertion(keys, 'd', tokenUrl), 'okta.users.read'),
      ),
    );
    const challenge = await requestToken(
      okta.url,
      tokenForm(clientAssertion(keys, 'd', tokenUrl), 'okta.users.read'),
      {
        DPoP: dpopProof(dpopKey, 'POST', tokenUrl),
      },
    );
    expect(challenge.body.error).toBe('use_dpop_nonce');
    check('oauth', path, 'POST', challenge);
    const dpop = await requestToken(
      okta.url,
      tokenForm(clientAssertion(keys, 'd', tokenUrl), 'okta.users.read'),
      {
        DPoP: dpopProof(dpopKey, 'POST', tokenUrl, {
          nonce: challenge.headers.get('dpop-nonce')!,
        }),
      },
    );
    expect(dpop.status).toBe(200);
    // Known spec gap: TokenResponseTokenType lists only Bearer and N_A, but Okta
    // (and RFC 9449) answer token_type "DPoP" for DPoP-bound tokens. The fake
    // follows Okta here; everything else in the body must conform.
    const result = validator.validateResponse(
      'oauth',
      path,
      'POST',
      dpop.status,
      dpop.body,
    );
    expect(result.errors.map(e => `${e.instancePath} ${e.keyword}`)).toEqual([
      '/token_type enum',
    ]);
  });

  it('management API responses match management.yaml, across every endpoint', async () => {
    const ssws = { ssws: '00conformance' };
    const base = okta.url;
    const walk = async (url: string, path: string) => {
      let next: string | undefined = url;
      while (next) {
        const res = await apiGet(next, ssws);
        expect(res.status).toBe(200);
        check('management', path, 'GET', res);
        next = nextLink(res.headers);
      }
    };
    await walk(`${base}/api/v1/users?limit=100`, '/api/v1/users');
    await walk(
      `${base}/api/v1/users?search=${encodeURIComponent('status pr')}`,
      '/api/v1/users',
    );
    await walk(`${base}/api/v1/groups?expand=stats&limit=12`, '/api/v1/groups');
    for (const group of org.groups()) {
      check(
        'management',
        '/api/v1/groups/{groupId}',
        'GET',
        await apiGet(`${base}/api/v1/groups/${group.id}`, ssws),
      );
      await walk(
        `${base}/api/v1/groups/${group.id}/users?limit=200`,
        '/api/v1/groups/{groupId}/users',
      );
    }
    const statuses = new Set<string>();
    for (const user of org.users()) {
      if (statuses.has(user.status) && statuses.size < 8) continue;
      statuses.add(user.status);
      check(
        'management',
        '/api/v1/users/{userId}',
        'GET',
        await apiGet(`${base}/api/v1/users/${user.id}`, ssws),
      );
      check(
        'management',
        '/api/v1/users/{userId}/groups',
        'GET',
        await apiGet(`${base}/api/v1/users/${user.id}/groups`, ssws),
      );
      if (statuses.size === 8) break;
    }
    expect(statuses.size).toBe(8);

    // Errors: 401, 403, 404, 400 and 429 in Okta's error shape.
    const errorCases: Array<
      [string, string, { ssws: string } | undefined, number]
    > = [
      ['/api/v1/users', '/api/v1/users', undefined, 401],
      ['/api/v1/groups', '/api/v1/groups', { ssws: 'wrong' }, 401],
      [
        `/api/v1/users?search=${encodeURIComponent('status eq')}`,
        '/api/v1/users',
        ssws,
        400,
      ],
      [
        `/api/v1/groups?search=${encodeURIComponent('(type eq "OKTA_GROUP"')}`,
        '/api/v1/groups',
        ssws,
        400,
      ],
      ['/api/v1/groups/00gnope', '/api/v1/groups/{groupId}', ssws, 404],
      [
        '/api/v1/groups/00gnope/users',
        '/api/v1/groups/{groupId}/users',
        ssws,
        404,
      ],
      ['/api/v1/users/00unope', '/api/v1/users/{userId}', ssws, 404],
      [
        '/api/v1/users/00unope/groups',
        '/api/v1/users/{userId}/groups',
        ssws,
        404,
      ],
    ];
    okta.addApiToken('00noadmin', { adminRole: false });
    errorCases.push([
      '/api/v1/users',
      '/api/v1/users',
      { ssws: '00noadmin' },
      403,
    ]);
    errorCases.push([
      '/api/v1/groups',
      '/api/v1/groups',
      { ssws: '00noadmin' },
      403,
    ]);
    // User search without `ne`, as Okta.
    errorCases.push([
      `/api/v1/users?search=${encodeURIComponent('status ne "ACTIVE"')}`,
      '/api/v1/users',
      ssws,
      400,
    ]);
    for (const [url, path, auth, status] of errorCases) {
      const res = await apiGet(`${base}${url}`, auth);
      expect(res.status).toBe(status);
      expect(res.body.errorCode).toMatch(/^E\d{7}$/);
      check('management', path, 'GET', res);
    }

    // An Authorization header Okta cannot read: 403 E0000005.
    const unreadable = await fetch(`${base}/api/v1/users`, {
      headers: { authorization: 'Basic x' },
    });
    const unreadableBody = await unreadable.json();
    expect(unreadable.status).toBe(403);
    expect(unreadableBody.errorCode).toBe('E0000005');
    check('management', '/api/v1/users', 'GET', {
      status: 403,
      body: unreadableBody,
    });

    // OAuth app tokens: 403 for a scope the token lacks, and 429 when the bucket is empty.
    const limited = await startFakeOkta({
      org,
      rateLimits: { limits: { users: 1, groups: 1 } },
    });
    try {
      const keys = await createServiceAppKeys('RS256');
      limited.addServiceApp({
        clientId: 'c',
        publicJwks: [keys.publicJwk],
        scopes: ['okta.users.read'],
      });
      const { accessToken } = await getAccessToken(limited.url, keys, 'c', {
        scope: 'okta.users.read',
      });
      check(
        'management',
        '/api/v1/groups',
        'GET',
        await apiGet(`${limited.url}/api/v1/groups`, { accessToken }),
      );
      await apiGet(`${limited.url}/api/v1/users`, { accessToken });
      const tooMany = await apiGet(`${limited.url}/api/v1/users`, {
        accessToken,
      });
      expect(tooMany.status).toBe(429);
      check('management', '/api/v1/users', 'GET', tooMany);
    } finally {
      await limited.close();
    }

    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(100);
    // Statuses the spec does not declare for an operation were checked against ModelError.
    expect([...fallbacks].sort()).toEqual([
      'GET /api/v1/groups 400',
      'GET /api/v1/groups 401',
      'GET /api/v1/users 400',
      'GET /api/v1/users 401',
    ]);
  });
});

describe('the OpenAPI validator itself', () => {
  it('rejects a body that breaks the spec and names the failing schema path', () => {
    const validator = new OktaOpenApiValidator();
    const result = validator.validateResponse(
      'management',
      '/api/v1/users',
      'GET',
      200,
      [
        {
          id: '00u1',
          status: 'SLEEPING',
          created: 'yesterday',
          profile: { login: 'a@example.com', email: 'nope' },
        },
      ],
    );
    expect(result.valid).toBe(false);
    expect(result.message).toContain(
      '/0/status must be equal to one of the allowed values',
    );
    expect(result.message).toContain('#/components/schemas/UserStatus/enum');
    expect(result.message).toContain(
      '/0/created must match format "date-time"',
    );
    expect(result.message).toContain(
      '/0/profile/email must match format "email"',
    );
  });
});
