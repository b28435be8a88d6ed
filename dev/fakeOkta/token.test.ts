import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createServiceAppKeys,
  demoOrg,
  FakeOkta,
  startFakeOkta,
} from './index';
import {
  apiGet,
  clientAssertion,
  getAccessToken,
  requestToken,
  TestKey,
  tokenForm,
} from './testing/fakeOktaClient';

describe('fake Okta token endpoint', () => {
  let okta: FakeOkta;
  let rsa: TestKey;
  let ec: TestKey;
  let tokenUrl: string;

  beforeAll(async () => {
    rsa = await createServiceAppKeys('RS256', 'rsa-1');
    ec = await createServiceAppKeys('ES256', 'ec-1');
    okta = await startFakeOkta({ org: demoOrg() });
    tokenUrl = `${okta.url}/oauth2/v1/token`;
    okta.addServiceApp({
      clientId: 'app-rsa',
      publicJwks: [rsa.publicJwk],
      scopes: ['okta.users.read', 'okta.groups.read'],
    });
    okta.addServiceApp({
      clientId: 'app-ec',
      publicJwks: [ec.publicJwk],
      scopes: ['okta.users.read'],
    });
    okta.addServiceApp({
      clientId: 'app-noadmin',
      publicJwks: [rsa.publicJwk],
      scopes: ['okta.users.read'],
      adminRole: false,
    });
  });
  afterAll(() => okta.close());

  it('issues a Bearer token for a valid RS256 assertion and the token works', async () => {
    const res = await requestToken(
      okta.url,
      tokenForm(clientAssertion(rsa, 'app-rsa', tokenUrl)),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'okta.users.read okta.groups.read',
    });
    const users = await apiGet(`${okta.url}/api/v1/users`, {
      accessToken: res.body.access_token,
    });
    expect(users.status).toBe(200);
    expect(users.body.length).toBe(11);
  });

  it('accepts ES256 assertions', async () => {
    const { accessToken, tokenType } = await getAccessToken(
      okta.url,
      ec,
      'app-ec',
      { scope: 'okta.users.read' },
    );
    expect(tokenType).toBe('Bearer');
    expect(
      (await apiGet(`${okta.url}/api/v1/users?limit=2`, { accessToken }))
        .status,
    ).toBe(200);
    // The token lacks okta.groups.read.
    const groups = await apiGet(`${okta.url}/api/v1/groups`, { accessToken });
    expect(groups.status).toBe(403);
    expect(groups.body.errorCode).toBe('E0000006');
  });

  const refusals: Array<
    [
      string,
      () => Promise<{ status: number; body: any }>,
      number,
      string,
      RegExp,
    ]
  > = [];
  const refuse = (
    name: string,
    run: () => Promise<{ status: number; body: any }>,
    status: number,
    error: string,
    message: RegExp,
  ) => refusals.push([name, run, status, error, message]);

  refuse(
    'a bad signature',
    async () => {
      const other = await createServiceAppKeys('RS256', 'rsa-1');
      return requestToken(
        okta.url,
        tokenForm(clientAssertion(other, 'app-rsa', tokenUrl)),
      );
    },
    401,
    'invalid_client',
    /signature is invalid/,
  );
  refuse(
    'a wrong aud',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(
            rsa,
            'app-rsa',
            `${okta.url}/oauth2/default/v1/token`,
          ),
        ),
      ),
    401,
    'invalid_client',
    /audience/,
  );
  refuse(
    'an expired assertion',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            claims: { exp: Math.floor(Date.now() / 1000) - 10 },
          }),
        ),
      ),
    401,
    'invalid_client',
    /expired/,
  );
  refuse(
    'an assertion without exp',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            claims: { exp: undefined },
          }),
        ),
      ),
    401,
    'invalid_client',
    /exp/,
  );
  refuse(
    'exp more than an hour ahead',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            claims: { exp: Math.floor(Date.now() / 1000) + 3700 },
          }),
        ),
      ),
    401,
    'invalid_client',
    /too far/,
  );
  refuse(
    'a replayed jti',
    async () => {
      const assertion = clientAssertion(rsa, 'app-rsa', tokenUrl, {
        claims: { jti: 'once' },
      });
      const first = await requestToken(okta.url, tokenForm(assertion));
      if (first.status !== 200)
        throw new Error(`first use refused: ${JSON.stringify(first.body)}`);
      return requestToken(okta.url, tokenForm(assertion));
    },
    401,
    'invalid_client',
    /already been used/,
  );
  refuse(
    'a wrong kid',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            header: { kid: 'nope' },
          }),
        ),
      ),
    401,
    'invalid_client',
    /^The client_assertion JWT kid is invalid\.$/,
  );
  refuse(
    'an assertion without kid',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            header: { kid: undefined },
          }),
        ),
      ),
    401,
    'invalid_client',
    /^The client_assertion JWT kid is invalid\.$/,
  );
  refuse(
    'an unknown client',
    async () =>
      requestToken(
        okta.url,
        tokenForm(clientAssertion(rsa, 'app-unknown', tokenUrl)),
      ),
    401,
    'invalid_client',
    /client_id/,
  );
  refuse(
    'iss different from sub',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(rsa, 'app-rsa', tokenUrl, {
            claims: { sub: 'someone' },
          }),
        ),
      ),
    401,
    'invalid_client',
    /iss/,
  );
  refuse(
    'a scope not granted',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion(ec, 'app-ec', tokenUrl),
          'okta.users.read okta.groups.read',
        ),
      ),
    400,
    'invalid_scope',
    /okta\.groups\.read/,
  );
  refuse(
    'no scope',
    async () =>
      requestToken(
        okta.url,
        tokenForm(clientAssertion(ec, 'app-ec', tokenUrl), ''),
      ),
    400,
    'invalid_scope',
    /No scopes/,
  );
  refuse(
    'a wrong client_assertion_type',
    async () =>
      requestToken(okta.url, {
        ...tokenForm(clientAssertion(rsa, 'app-rsa', tokenUrl)),
        client_assertion_type: 'x',
      }),
    400,
    'invalid_request',
    /client_assertion_type/,
  );
  refuse(
    'no credentials',
    async () =>
      requestToken(okta.url, {
        grant_type: 'client_credentials',
        scope: 'okta.users.read',
      }),
    401,
    'invalid_client',
    /No client credentials/,
  );
  refuse(
    'another grant type',
    async () =>
      requestToken(okta.url, {
        ...tokenForm(clientAssertion(rsa, 'app-rsa', tokenUrl)),
        grant_type: 'password',
      }),
    400,
    'unsupported_grant_type',
    /grant type/,
  );
  refuse(
    'an ES256 signature claimed as RS256',
    async () =>
      requestToken(
        okta.url,
        tokenForm(
          clientAssertion({ ...ec, alg: 'ES256' }, 'app-rsa', tokenUrl, {
            header: { kid: 'rsa-1' },
          }),
        ),
      ),
    401,
    'invalid_client',
    /signature is invalid/,
  );

  it.each(refusals)(
    'refuses %s',
    async (_name, run, status, error, message) => {
      const res = await run();
      expect(res.status).toBe(status);
      expect(res.body.error).toBe(error);
      expect(res.body.error_description).toMatch(message);
    },
  );

  it('expires tokens after tokenLifetimeSeconds', async () => {
    let now = Date.now();
    const short = await startFakeOkta({
      org: demoOrg(),
      tokenLifetimeSeconds: 2,
      clock: () => now,
    });
    try {
      short.addServiceApp({
        clientId: 'a',
        publicJwks: [rsa.publicJwk],
        scopes: ['okta.users.read'],
      });
      const { accessToken } = await getAccessToken(short.url, rsa, 'a', {
        scope: 'okta.users.read',
      });
      expect(
        (await apiGet(`${short.url}/api/v1/users`, { accessToken })).status,
      ).toBe(200);
      now += 2500;
      const res = await apiGet(`${short.url}/api/v1/users`, { accessToken });
      expect(res.status).toBe(401);
      expect(res.body.errorCode).toBe('E0000011');
    } finally {
      await short.close();
    }
  });

  it('answers 401 E0000011 for missing or unknown credentials and 403 without an admin role', async () => {
    const none = await apiGet(`${okta.url}/api/v1/users`, undefined);
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({
      errorCode: 'E0000011',
      errorSummary: 'Invalid token provided',
    });
    expect(
      (await apiGet(`${okta.url}/api/v1/users`, { accessToken: 'garbage' }))
        .status,
    ).toBe(401);
    expect(
      (await apiGet(`${okta.url}/api/v1/users`, { ssws: 'unknown' })).status,
    ).toBe(401);
    // A header Okta cannot read: 403 E0000005 "Invalid session".
    for (const authorization of [
      '00sometoken',
      'Bearer ',
      'SSWS two words',
      'Basic dXNlcjpwYXNz',
    ]) {
      const res = await fetch(`${okta.url}/api/v1/users`, {
        headers: { authorization },
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        errorCode: 'E0000005',
        errorSummary: 'Invalid session',
      });
    }
    const { accessToken } = await getAccessToken(okta.url, rsa, 'app-noadmin', {
      scope: 'okta.users.read',
    });
    const denied = await apiGet(`${okta.url}/api/v1/users`, { accessToken });
    expect(denied.status).toBe(403);
    expect(denied.body.errorSummary).toBe(
      'You do not have permission to perform the requested action',
    );
  });

  it('accepts SSWS API tokens', async () => {
    okta.addApiToken('00abcdefSSWS');
    const res = await apiGet(`${okta.url}/api/v1/groups`, {
      ssws: '00abcdefSSWS',
    });
    expect(res.status).toBe(200);
    okta.addApiToken('00noadmin', { adminRole: false });
    expect(
      (await apiGet(`${okta.url}/api/v1/groups`, { ssws: '00noadmin' })).status,
    ).toBe(403);
  });
});
