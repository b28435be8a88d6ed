/*
 * The fake's OIDC sign-in over real HTTP, as a browser and a web app (the
 * way passport-okta-oauth calls it) drive it; every JSON body is validated
 * against the vendored oauth.yaml, and ID tokens are checked with
 * node:crypto against the keys /oauth2/v1/keys publishes.
 */
import {
  createHash,
  createPublicKey,
  verify as cryptoVerify,
  type JsonWebKey as NodeJsonWebKey,
} from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeOkta, FakeOrg, startFakeOkta } from './index';
import { submitFakeOktaLogin, TestBrowser } from './testing/browser';
import { OktaOpenApiValidator } from './testing/openApiValidator';

const CLIENT_ID = '0oa-web-app';
const CLIENT_SECRET = 'web-app-secret';
const REDIRECT_URI = 'http://app.test/api/auth/okta/handler/frame';
const SCOPE = 'openid email profile offline_access';
/** The app's redirect URI does not resolve: the browser stops at the redirect to it. */
const atApp = (next: URL) => next.host === 'app.test';

function decode(jwt: string) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(p, 'base64url').toString()),
    input: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

describe('fake Okta OIDC sign-in', () => {
  let okta: FakeOkta;
  let validator: OktaOpenApiValidator;
  let jane: string;
  let omar: string;

  beforeAll(async () => {
    validator = new OktaOpenApiValidator();
    const org = new FakeOrg({ seed: 5 });
    jane = org.addUser({
      profile: {
        login: 'jane@acme.test',
        email: 'jane@acme.test',
        firstName: 'Jane',
        lastName: 'Doe',
      },
    }).id;
    omar = org.addUser({
      profile: {
        login: 'omar@acme.test',
        email: 'omar@acme.test',
        firstName: 'Omar',
      },
    }).id;
    okta = await startFakeOkta({ org });
    okta.oidc.addWebApp({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      redirectUris: [REDIRECT_URI],
    });
    okta.oidc.setPassword('jane@acme.test', 'jane-password');
    okta.oidc.setPassword(omar, 'omar-password');
  });
  afterAll(() => okta.close());

  const valid = (
    path: string,
    method: string,
    res: { status: number; body: unknown },
  ) => {
    const result = validator.validateResponse(
      'oauth',
      path,
      method,
      res.status,
      res.body,
    );
    expect({ valid: result.valid, message: result.message }).toEqual({
      valid: true,
      message: '',
    });
  };

  const authorizeUrl = (params: Record<string, string> = {}) =>
    `${okta.url}/oauth2/v1/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state: 'st-1',
      ...params,
    })}`;

  /** Up to the redirect to the app: returns the code (or the error redirect). */
  async function signIn(
    username: string,
    password: string,
    browser = new TestBrowser(),
  ) {
    const page = await browser.follow(authorizeUrl());
    const done = await submitFakeOktaLogin(
      browser,
      page,
      username,
      password,
      atApp,
    );
    return { browser, done };
  }

  async function codeFor(username: string, password: string): Promise<string> {
    const { done } = await signIn(username, password);
    expect(done.status).toBe(302);
    const location = new URL(done.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('st-1');
    return location.searchParams.get('code')!;
  }

  /** The code exchange exactly as passport-okta-oauth sends it. */
  async function exchange(
    code: string,
    opts: { redirectUri?: string; authorization?: string } = {},
  ) {
    const response = await fetch(`${okta.url}/oauth2/v1/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization:
          opts.authorization ??
          `Basic: ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        redirect_uri: opts.redirectUri ?? REDIRECT_URI,
        code,
      }).toString(),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  /** A refresh as Backstage sends it (node-oauth: the secret in the body). */
  async function refresh(
    refreshToken: string,
    extra: Record<string, string> = {},
  ) {
    const response = await fetch(`${okta.url}/oauth2/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        ...extra,
      }).toString(),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  async function userinfo(
    accessToken: string,
    method: 'GET' | 'POST' = 'POST',
  ) {
    const response = await fetch(`${okta.url}/oauth2/v1/userinfo`, {
      method,
      headers: { Authorization: `Bearer ${accessToken}` },
      body: method === 'POST' ? '' : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  }

  it('serves the discovery document and signing keys', async () => {
    const discovery = await fetch(
      `${okta.url}/.well-known/openid-configuration`,
    );
    const metadata = {
      status: discovery.status,
      body: (await discovery.json()) as any,
    };
    expect(metadata.status).toBe(200);
    valid('/.well-known/openid-configuration', 'GET', metadata);
    expect(metadata.body).toMatchObject({
      issuer: okta.url,
      authorization_endpoint: `${okta.url}/oauth2/v1/authorize`,
      token_endpoint: `${okta.url}/oauth2/v1/token`,
      userinfo_endpoint: `${okta.url}/oauth2/v1/userinfo`,
      jwks_uri: `${okta.url}/oauth2/v1/keys`,
    });
    const keys = await fetch(metadata.body.jwks_uri);
    const jwks = { status: keys.status, body: (await keys.json()) as any };
    valid('/oauth2/v1/keys', 'GET', jwks);
    expect(jwks.body.keys).toEqual([
      expect.objectContaining({
        kty: 'RSA',
        alg: 'RS256',
        use: 'sig',
        kid: expect.any(String),
      }),
    ]);
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  it('signs a user in: login step, code, token exchange with the Basic: header, signed ID token, userinfo, refresh', async () => {
    const browser = new TestBrowser();
    const first = await browser.request(authorizeUrl());
    // No session yet: to the login step.
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(
      new RegExp(`^${okta.url}/login/login.htm\\?fromURI=`),
    );
    const page = await browser.follow(first.headers.get('location')!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const done = await submitFakeOktaLogin(
      browser,
      page,
      'jane@acme.test',
      'jane-password',
      atApp,
    );
    expect(
      browser.cookiesFor(`${okta.url}/oauth2/v1/authorize`).has('sid'),
    ).toBe(true);
    const code = new URL(done.headers.get('location')!).searchParams.get(
      'code',
    )!;

    const tokens = await exchange(code);
    expect(tokens.status).toBe(200);
    valid('/oauth2/v1/token', 'POST', tokens);
    expect(tokens.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      scope: SCOPE,
    });
    expect(typeof tokens.body.refresh_token).toBe('string');

    const idToken = decode(tokens.body.id_token);
    const jwks = (await (await fetch(`${okta.url}/oauth2/v1/keys`)).json()) as {
      keys: Array<NodeJsonWebKey & { kid?: string }>;
    };
    const jwk = jwks.keys.find(k => k.kid === idToken.header.kid)!;
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    expect(idToken.header.alg).toBe('RS256');
    expect(
      cryptoVerify(
        'sha256',
        Buffer.from(idToken.input),
        publicKey,
        idToken.signature,
      ),
    ).toBe(true);
    // A changed claim breaks the signature.
    expect(
      cryptoVerify(
        'sha256',
        Buffer.from(`${idToken.input}x`),
        publicKey,
        idToken.signature,
      ),
    ).toBe(false);
    const nowS = Math.floor(Date.now() / 1000);
    expect(idToken.claims).toMatchObject({
      iss: okta.url,
      aud: CLIENT_ID,
      sub: jane,
      email: 'jane@acme.test',
      email_verified: true,
      name: 'Jane Doe',
      preferred_username: 'jane@acme.test',
      amr: ['pwd'],
    });
    // at_hash: the left half of SHA-256 of the access token (OIDC Core 3.1.3.6).
    const digest = createHash('sha256')
      .update(tokens.body.access_token)
      .digest();
    expect(idToken.claims.at_hash).toBe(
      digest.subarray(0, 16).toString('base64url'),
    );
    expect(idToken.claims.exp).toBeGreaterThan(nowS);
    expect(idToken.claims.iat).toBeLessThanOrEqual(nowS + 1);

    for (const method of ['POST', 'GET'] as const) {
      const info = await userinfo(tokens.body.access_token, method);
      expect(info.status).toBe(200);
      valid('/oauth2/v1/userinfo', 'GET', info);
      expect(info.body).toMatchObject({
        sub: jane,
        email: 'jane@acme.test',
        email_verified: true,
        given_name: 'Jane',
        family_name: 'Doe',
      });
    }

    // The session is reused: a second /authorize goes straight back to the
    // app, and a nonce sent there comes back in the ID token.
    const again = await browser.request(
      authorizeUrl({ state: 'st-2', nonce: 'n-0S6_WzA2Mj' }),
    );
    expect(again.status).toBe(302);
    const secondRedirect = new URL(again.headers.get('location')!);
    expect(secondRedirect.searchParams.get('state')).toBe('st-2');
    const second = await exchange(secondRedirect.searchParams.get('code')!);
    expect(decode(second.body.id_token).claims).toMatchObject({
      sub: jane,
      nonce: 'n-0S6_WzA2Mj',
    });
    expect(idToken.claims.nonce).toBeUndefined();

    const refreshed = await refresh(tokens.body.refresh_token);
    expect(refreshed.status).toBe(200);
    valid('/oauth2/v1/token', 'POST', refreshed);
    expect(decode(refreshed.body.id_token).claims.sub).toBe(jane);
    expect((await userinfo(refreshed.body.access_token)).body.sub).toBe(jane);
  });

  it('reports email_verified per user', async () => {
    okta.oidc.setEmailVerified(omar, false);
    const tokens = await exchange(
      await codeFor('omar@acme.test', 'omar-password'),
    );
    expect(decode(tokens.body.id_token).claims).toMatchObject({
      sub: omar,
      email: 'omar@acme.test',
      email_verified: false,
    });
    expect((await userinfo(tokens.body.access_token)).body).toMatchObject({
      sub: omar,
      email_verified: false,
    });
    okta.oidc.setEmailVerified(omar, true);
    expect((await userinfo(tokens.body.access_token)).body.email_verified).toBe(
      true,
    );
  });

  it('refuses a wrong password or an unknown user at the login step, without redirecting', async () => {
    for (const [username, password] of [
      ['jane@acme.test', 'wrong'],
      ['nobody@acme.test', 'jane-password'],
    ]) {
      const { done } = await signIn(username, password);
      expect(done.status).toBe(401);
      expect(done.body).toContain('Unable to sign in');
      expect(done.headers.get('location')).toBeNull();
    }
  });

  it('refuses an unregistered redirect URI or client with an error page, never redirecting to it', async () => {
    const browser = new TestBrowser();
    const badRedirect = await browser.request(
      authorizeUrl({ redirect_uri: 'http://evil.test/cb' }),
    );
    expect(badRedirect.status).toBe(400);
    expect(badRedirect.headers.get('location')).toBeNull();
    expect(badRedirect.body).toContain('redirect_uri');
    const badClient = await browser.request(
      authorizeUrl({ client_id: '0oa-unknown' }),
    );
    expect(badClient.status).toBe(400);
    expect(badClient.headers.get('location')).toBeNull();
  });

  it('redirects request errors back to the app with error and state', async () => {
    const browser = new TestBrowser();
    const noOpenid = await browser.request(
      authorizeUrl({ scope: 'email profile' }),
    );
    const location = new URL(noOpenid.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
    expect(location.searchParams.get('state')).toBe('st-1');
  });

  it('refuses codes used twice, for another redirect URI, and bad client credentials', async () => {
    const reused = await codeFor('jane@acme.test', 'jane-password');
    expect((await exchange(reused)).status).toBe(200);
    const second = await exchange(reused);
    expect(second).toEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description: 'The authorization code is invalid or has expired.',
      },
    });
    valid('/oauth2/v1/token', 'POST', second);

    const otherUri = await exchange(
      await codeFor('jane@acme.test', 'jane-password'),
      { redirectUri: 'http://app.test/other' },
    );
    expect(otherUri.status).toBe(400);
    expect(otherUri.body.error).toBe('invalid_grant');

    const wrongSecret = await exchange(
      await codeFor('jane@acme.test', 'jane-password'),
      {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}`,
      },
    );
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.body.error).toBe('invalid_client');
    valid('/oauth2/v1/token', 'POST', wrongSecret);
    expect(JSON.stringify(wrongSecret.body)).not.toContain(CLIENT_SECRET);

    const both = await fetch(`${okta.url}/oauth2/v1/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        redirect_uri: REDIRECT_URI,
        code: await codeFor('jane@acme.test', 'jane-password'),
        client_secret: CLIENT_SECRET,
      }).toString(),
    });
    expect(both.status).toBe(400);
    expect(((await both.json()) as any).error_description).toMatch(
      /multiple client credentials/,
    );
  });

  it('ends the session and every token of a user who is deprovisioned, and refuses them at the login step', async () => {
    const org = okta.org;
    const kim = org.addUser({
      profile: { login: 'kim@acme.test', email: 'kim@acme.test' },
    }).id;
    okta.oidc.setPassword(kim, 'kim-password');
    const { browser, done } = await signIn('kim@acme.test', 'kim-password');
    const tokens = await exchange(
      new URL(done.headers.get('location')!).searchParams.get('code')!,
    );
    expect(tokens.status).toBe(200);
    // A code issued before the deprovisioning is refused too.
    const pending = await codeFor('kim@acme.test', 'kim-password');

    org.deprovisionUser(kim);
    expect((await exchange(pending)).body.error).toBe('invalid_grant');
    expect(await refresh(tokens.body.refresh_token)).toEqual({
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description: 'The refresh token is invalid or expired.',
      },
    });
    const info = await userinfo(tokens.body.access_token);
    expect(info.status).toBe(401);
    expect(info.headers.get('www-authenticate')).toMatch(/invalid_token/);
    // The session is gone: /authorize asks to sign in again, and the login fails.
    const back = await browser.follow(authorizeUrl(), {}, atApp);
    expect(back.url).toMatch(/\/login\/login\.htm\?/);
    const refused = await submitFakeOktaLogin(
      browser,
      back,
      'kim@acme.test',
      'kim-password',
      atApp,
    );
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('Unable to sign in');
  });

  it('leaves client-credentials requests of API Services apps to the org authorization server', async () => {
    const response = await fetch(`${okta.url}/oauth2/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'okta.users.read',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }).toString(),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).error).toBe('invalid_client');
  });
});
