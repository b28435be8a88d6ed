/*
 * The fake org authorization server's OpenID Connect sign-in, for an OIDC
 * *Web Application* (client id and secret), as Backstage's Okta auth provider
 * (`@backstage/plugin-auth-backend-module-okta-provider`, through
 * `@davidzemon/passport-okta-oauth`) uses it:
 *
 * - `GET /oauth2/v1/authorize`: the authorization-code request. Without an
 *   Okta session it redirects to the login step, `/login/login.htm`, a form
 *   a test posts `username` and `password` to over plain HTTP; the login sets
 *   the `sid` session cookie and sends the browser back to `/authorize`,
 *   which redirects to the app's `redirect_uri` with `code` and `state`.
 * - `POST /oauth2/v1/token`: `authorization_code` and `refresh_token`
 *   grants, with the client secret in an `Authorization: Basic` header or in
 *   the body (never both). passport-okta-oauth sends `Basic: <base64>` (with
 *   a colon) for the code exchange, and Backstage's refresh sends the secret
 *   in the body; both are accepted, as the provider works against Okta.
 * - `GET`/`POST /oauth2/v1/userinfo` (the strategy POSTs), the discovery
 *   document and `/oauth2/v1/keys`, and ID tokens signed with RS256 under
 *   the key `/keys` publishes.
 *
 * Users sign in with a password set here, only while their status is
 * ACTIVE; a user who is deprovisioned (or suspended) afterwards loses the
 * session and every token, so a refresh fails with `invalid_grant`.
 * `email_verified` is kept per user (default true).
 *
 * It answers only the web apps registered here; client-credentials requests
 * of API Services apps go on to `authorizationServer.ts`.
 */
import {
  createHash,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { oauthError } from './authorizationServer';
import type { FakeOrg, OktaUser } from './FakeOrg';
import { base64url, signJws } from './jws';

/** An OIDC Web Application ("Sign-in method: OIDC", "Web Application") in the fake org. */
export interface FakeOidcWebApp {
  clientId: string;
  clientSecret: string;
  /** "Sign-in redirect URIs": `redirect_uri` must equal one of them. */
  redirectUris: string[];
}

/** The sign-in side of the fake org, as tests drive it. */
export interface FakeOidc {
  addWebApp(app: FakeOidcWebApp): void;
  /** Sets the password a user (by id or login) signs in with at the login step. */
  setPassword(userIdOrLogin: string, password: string): void;
  /** Whether Okta considers the user's primary email verified (default true). */
  setEmailVerified(userIdOrLogin: string, verified: boolean): void;
}

/** What the server's router sends back (the same shape as its own replies). */
export interface OidcReply {
  status: number;
  body: unknown;
  json?: string;
  headers?: Record<string, string | string[]>;
}

/** A request as the server's router hands it over. */
export interface OidcRequest {
  method: string;
  pathname: string;
  query: string;
  body: string;
  headers: IncomingHttpHeaders;
  /** The org URL the client used, e.g. http://127.0.0.1:54321. */
  base: string;
}

const LOGIN_PATH = '/login/login.htm';
const AUTHORIZE_PATH = '/oauth2/v1/authorize';
const SESSION_COOKIE = 'sid';
const CODE_LIFETIME_MS = 5 * 60 * 1000;
const ACCESS_TOKEN_LIFETIME_S = 3600;
const ID_TOKEN_LIFETIME_S = 3600;
const SIGNING_KID = 'fake-okta-oidc-1';
/** The org's own identity provider id, the `idp` claim of its ID tokens. */
const ORG_IDP_ID = '00o1fakeOktaOrgIdp00';
const SUPPORTED_SCOPES = [
  'openid',
  'profile',
  'email',
  'address',
  'phone',
  'offline_access',
];

interface Session {
  userId: string;
  authTime: number;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  userId: string;
  scopes: string[];
  nonce?: string;
  authTime: number;
  expiresAt: number;
}

interface OidcGrant {
  clientId: string;
  userId: string;
  scopes: string[];
  authTime: number;
}

interface AccessToken extends OidcGrant {
  expiresAt: number;
}

function html(
  status: number,
  title: string,
  content: string,
  headers: Record<string, string | string[]> = {},
): OidcReply {
  const page = `<!DOCTYPE html><html><head><title>${escapeHtml(title)}</title></head><body>${content}</body></html>`;
  return {
    status,
    body: undefined,
    json: page,
    headers: { 'Content-Type': 'text/html; charset=utf-8', ...headers },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}

function redirect(
  location: string,
  headers: Record<string, string | string[]> = {},
): OidcReply {
  return {
    status: 302,
    body: undefined,
    json: '',
    headers: { Location: location, 'Content-Type': 'text/html', ...headers },
  };
}

function cookies(headers: IncomingHttpHeaders): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function opaque(prefix: string): string {
  return `${prefix}${base64url(randomBytes(24))}`;
}

export class FakeOidcProvider implements FakeOidc {
  private readonly apps = new Map<string, FakeOidcWebApp>();
  private readonly passwords = new Map<string, string>();
  private readonly unverifiedEmails = new Set<string>();
  private readonly sessions = new Map<string, Session>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, OidcGrant>();
  private signingKey:
    { privateKey: KeyObject; publicJwk: JsonWebKey } | undefined;

  constructor(
    private readonly org: FakeOrg,
    private readonly clock: () => number,
  ) {}

  addWebApp(app: FakeOidcWebApp): void {
    if (!app.clientId || !app.clientSecret) {
      throw new Error('An OIDC web app needs a clientId and a clientSecret');
    }
    this.apps.set(app.clientId, {
      ...app,
      redirectUris: [...app.redirectUris],
    });
  }

  setPassword(userIdOrLogin: string, password: string): void {
    this.passwords.set(this.requireUser(userIdOrLogin).id, password);
  }

  setEmailVerified(userIdOrLogin: string, verified: boolean): void {
    const { id } = this.requireUser(userIdOrLogin);
    if (verified) this.unverifiedEmails.delete(id);
    else this.unverifiedEmails.add(id);
  }

  /** Answers the OIDC endpoints; undefined for requests that are not for it. */
  route(request: OidcRequest): OidcReply | undefined {
    const { method, pathname } = request;
    switch (pathname) {
      case AUTHORIZE_PATH:
        return method === 'GET'
          ? this.authorize(request)
          : this.methodNotAllowed();
      case LOGIN_PATH:
        if (method === 'GET')
          return this.loginPage(
            new URLSearchParams(request.query).get('fromURI') ?? '',
            undefined,
          );
        return method === 'POST'
          ? this.login(request)
          : this.methodNotAllowed();
      case '/oauth2/v1/token':
        return method === 'POST' ? this.token(request) : undefined;
      case '/oauth2/v1/userinfo':
        return method === 'GET' || method === 'POST'
          ? this.userinfo(request)
          : this.methodNotAllowed();
      case '/oauth2/v1/keys':
        return method === 'GET'
          ? { status: 200, body: { keys: [this.key().publicJwk] } }
          : this.methodNotAllowed();
      case '/.well-known/openid-configuration':
        return method === 'GET'
          ? { status: 200, body: this.discovery(request.base) }
          : this.methodNotAllowed();
      default:
        return undefined;
    }
  }

  private methodNotAllowed(): OidcReply {
    return oauthError(
      405,
      'invalid_request',
      'The endpoint does not support the provided HTTP method',
    );
  }

  private requireUser(userIdOrLogin: string): OktaUser {
    const user = this.org.findUser(userIdOrLogin);
    if (!user) throw new Error(`No user ${userIdOrLogin} in the fake org`);
    return user;
  }

  /** A user who may hold a session or tokens: still in the org and ACTIVE. */
  private activeUser(userId: string): OktaUser | undefined {
    const user = this.org.getUser(userId);
    return user && user.status === 'ACTIVE' ? user : undefined;
  }

  private key(): { privateKey: KeyObject; publicJwk: JsonWebKey } {
    // Made on first use: most fakes never sign anybody in.
    if (!this.signingKey) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const publicJwk = {
        ...(pair.publicKey.export({ format: 'jwk' }) as JsonWebKey),
        kid: SIGNING_KID,
        alg: 'RS256',
        use: 'sig',
      } as JsonWebKey;
      this.signingKey = { privateKey: pair.privateKey, publicJwk };
    }
    return this.signingKey;
  }

  private discovery(base: string): Record<string, unknown> {
    return {
      issuer: base,
      authorization_endpoint: `${base}${AUTHORIZE_PATH}`,
      token_endpoint: `${base}/oauth2/v1/token`,
      userinfo_endpoint: `${base}/oauth2/v1/userinfo`,
      jwks_uri: `${base}/oauth2/v1/keys`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'client_credentials',
      ],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: SUPPORTED_SCOPES,
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      claims_supported: [
        'iss',
        'ver',
        'sub',
        'aud',
        'iat',
        'exp',
        'jti',
        'auth_time',
        'amr',
        'idp',
        'nonce',
        'name',
        'preferred_username',
        'given_name',
        'family_name',
        'email',
        'email_verified',
      ],
      code_challenge_methods_supported: ['S256'],
    };
  }

  // ---- the browser's side: /authorize and the login step ----

  private authorize(request: OidcRequest): OidcReply {
    const params = new URLSearchParams(request.query);
    const clientId = params.get('client_id');
    const redirectUri = params.get('redirect_uri');
    const app = clientId ? this.apps.get(clientId) : undefined;
    // Without a valid client and redirect URI Okta shows an error page and
    // never redirects: the redirect target is not trusted.
    if (!app) {
      return html(
        400,
        'Error',
        `<p id="error">invalid_client: The client_id is not valid.</p>`,
      );
    }
    if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
      return html(
        400,
        'Error',
        `<p id="error">invalid_request: The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.</p>`,
      );
    }
    const state = params.get('state');
    const back = (error: string, description: string) => {
      const target = new URL(redirectUri);
      target.searchParams.set('error', error);
      target.searchParams.set('error_description', description);
      if (state) target.searchParams.set('state', state);
      return redirect(target.toString());
    };
    if (params.get('response_type') !== 'code') {
      return back(
        'unsupported_response_type',
        'The response type is not supported by the authorization server. Configured response types: [code].',
      );
    }
    if (!state) {
      return back('invalid_request', "The 'state' parameter is required.");
    }
    const scopes = (params.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scopes.includes('openid')) {
      return back(
        'invalid_scope',
        "The authentication request has an invalid 'scope' parameter: openid is required.",
      );
    }
    const unknown = scopes.filter(s => !SUPPORTED_SCOPES.includes(s));
    if (unknown.length > 0) {
      return back(
        'invalid_scope',
        `One or more scopes are not configured for the authorization server resource: ${unknown.join(' ')}`,
      );
    }

    const sid = cookies(request.headers).get(SESSION_COOKIE);
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session || !this.activeUser(session.userId)) {
      if (sid) this.sessions.delete(sid);
      const fromURI = `${AUTHORIZE_PATH}?${request.query}`;
      return redirect(
        `${request.base}${LOGIN_PATH}?${new URLSearchParams({ fromURI })}`,
      );
    }
    const code = base64url(randomBytes(32));
    this.codes.set(code, {
      clientId: app.clientId,
      redirectUri,
      userId: session.userId,
      scopes,
      nonce: params.get('nonce') ?? undefined,
      authTime: session.authTime,
      expiresAt: this.clock() + CODE_LIFETIME_MS,
    });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    target.searchParams.set('state', state);
    return redirect(target.toString());
  }

  private loginPage(
    fromURI: string,
    failure: string | undefined,
    status = 200,
  ): OidcReply {
    return html(
      status,
      'Sign In',
      `${failure ? `<p id="error">${escapeHtml(failure)}</p>` : ''}<form id="login" method="post" action="${LOGIN_PATH}">` +
        `<input name="username" type="text"><input name="password" type="password">` +
        `<input name="fromURI" type="hidden" value="${escapeHtml(fromURI)}"><button type="submit">Sign In</button></form>`,
    );
  }

  private login(request: OidcRequest): OidcReply {
    const form = new URLSearchParams(request.body);
    const fromURI = form.get('fromURI') ?? '';
    // Only back into this org's /authorize: no open redirect.
    if (!fromURI.startsWith(`${AUTHORIZE_PATH}?`)) {
      return html(
        400,
        'Error',
        '<p id="error">The sign-in request is missing or invalid.</p>',
      );
    }
    const user = this.org.findUser(form.get('username') ?? '');
    const password = user ? this.passwords.get(user.id) : undefined;
    const given = form.get('password') ?? '';
    // Okta's sign-in page says the same for an unknown user, a wrong password
    // and a user who may not sign in (deprovisioned, suspended, staged...).
    if (
      !user ||
      password === undefined ||
      !sameSecret(password, given) ||
      user.status !== 'ACTIVE'
    ) {
      return this.loginPage(fromURI, 'Unable to sign in', 401);
    }
    const sid = opaque('102');
    this.sessions.set(sid, {
      userId: user.id,
      authTime: Math.floor(this.clock() / 1000),
    });
    return redirect(`${request.base}${fromURI}`, {
      // Okta's is also Secure; the fake serves plain http.
      'Set-Cookie': `${SESSION_COOKIE}=${sid}; Path=/; HttpOnly`,
    });
  }

  // ---- the app's side: /token and /userinfo ----

  /** Client authentication with the secret; undefined when not a web app's request. */
  private authenticateClient(
    request: OidcRequest,
    form: URLSearchParams,
  ): { app: FakeOidcWebApp } | { error: OidcReply } | undefined {
    const authorization = request.headers.authorization;
    let basic: { id: string; secret: string } | undefined;
    if (authorization) {
      const m = /^basic:?\s+(\S+)$/i.exec(authorization.trim());
      if (m) {
        const decoded = Buffer.from(m[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) {
          basic = {
            id: decodeURIComponent(decoded.slice(0, colon)),
            secret: decodeURIComponent(decoded.slice(colon + 1)),
          };
        }
      }
    }
    const postSecret = form.get('client_secret');
    const clientId = basic?.id ?? form.get('client_id') ?? undefined;
    const app = clientId ? this.apps.get(clientId) : undefined;
    if (!app) return undefined;
    if (
      basic &&
      (postSecret !== null || form.get('client_assertion') !== null)
    ) {
      return {
        error: oauthError(
          400,
          'invalid_request',
          "Can't supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a `client_assertion` in the post body.",
        ),
      };
    }
    const secret = basic?.secret ?? postSecret;
    if (secret === null) {
      return {
        error: oauthError(401, 'invalid_client', 'No client credentials found'),
      };
    }
    if (!sameSecret(secret, app.clientSecret)) {
      return {
        error: oauthError(
          401,
          'invalid_client',
          'The client secret supplied for a confidential client is invalid.',
        ),
      };
    }
    return { app };
  }

  private token(request: OidcRequest): OidcReply | undefined {
    const contentType = request.headers['content-type'] ?? '';
    if (
      !contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')
    )
      return undefined;
    const form = new URLSearchParams(request.body);
    const grantType = form.get('grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
      return undefined;
    const client = this.authenticateClient(request, form);
    if (!client) return undefined;
    if ('error' in client) return client.error;
    const { app } = client;
    const now = this.clock();

    let grant: OidcGrant;
    let nonce: string | undefined;
    let refreshToken: string | undefined;
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const issued = this.codes.get(code);
      // Single use, whatever follows.
      this.codes.delete(code);
      if (!issued || issued.expiresAt <= now) {
        return oauthError(
          400,
          'invalid_grant',
          'The authorization code is invalid or has expired.',
        );
      }
      if (issued.clientId !== app.clientId) {
        return oauthError(
          400,
          'invalid_grant',
          'The grant was issued to another client. Ensure that the `client_id` matches the one used at the authorize request.',
        );
      }
      if (form.get('redirect_uri') !== issued.redirectUri) {
        return oauthError(
          400,
          'invalid_grant',
          "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        );
      }
      if (!this.activeUser(issued.userId)) {
        return oauthError(
          400,
          'invalid_grant',
          'The authorization code is invalid or has expired.',
        );
      }
      grant = {
        clientId: app.clientId,
        userId: issued.userId,
        scopes: issued.scopes,
        authTime: issued.authTime,
      };
      nonce = issued.nonce;
      if (issued.scopes.includes('offline_access')) {
        refreshToken = opaque('rt.');
        this.refreshTokens.set(refreshToken, grant);
      }
    } else {
      refreshToken = form.get('refresh_token') ?? '';
      const held = this.refreshTokens.get(refreshToken);
      if (
        !held ||
        held.clientId !== app.clientId ||
        !this.activeUser(held.userId)
      ) {
        if (held && !this.activeUser(held.userId))
          this.refreshTokens.delete(refreshToken);
        return oauthError(
          400,
          'invalid_grant',
          'The refresh token is invalid or expired.',
        );
      }
      const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
      const notGranted = requested.filter(s => !held.scopes.includes(s));
      if (notGranted.length > 0) {
        return oauthError(
          400,
          'invalid_scope',
          `The requested scopes exceed the scopes of the refresh token: ${notGranted.join(' ')}`,
        );
      }
      grant = {
        ...held,
        scopes: requested.length > 0 ? requested : held.scopes,
      };
    }

    const user = this.org.getUser(grant.userId)!;
    const accessToken = this.mintAccessToken(grant, request.base, now);
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_LIFETIME_S,
      access_token: accessToken,
      scope: grant.scopes.join(' '),
    };
    if (refreshToken) body.refresh_token = refreshToken;
    if (grant.scopes.includes('openid')) {
      body.id_token = this.idToken(
        user,
        grant,
        app.clientId,
        request.base,
        accessToken,
        nonce,
        now,
      );
    }
    return {
      status: 200,
      body,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    };
  }

  private mintAccessToken(grant: OidcGrant, base: string, now: number): string {
    const nowS = Math.floor(now / 1000);
    // JWT-shaped but opaque to clients; the fake keeps the state.
    const header = base64url(
      JSON.stringify({ kid: SIGNING_KID, alg: 'RS256' }),
    );
    const claims = base64url(
      JSON.stringify({
        ver: 1,
        jti: `AT.${base64url(randomBytes(12))}`,
        iss: base,
        aud: base,
        sub: this.org.getUser(grant.userId)?.profile.login,
        iat: nowS,
        exp: nowS + ACCESS_TOKEN_LIFETIME_S,
        cid: grant.clientId,
        uid: grant.userId,
        scp: grant.scopes,
      }),
    );
    const token = `${header}.${claims}.${base64url(randomBytes(32))}`;
    if (this.accessTokens.size > 10000) {
      for (const [t, info] of this.accessTokens)
        if (info.expiresAt <= now) this.accessTokens.delete(t);
    }
    this.accessTokens.set(token, {
      ...grant,
      expiresAt: now + ACCESS_TOKEN_LIFETIME_S * 1000,
    });
    return token;
  }

  /** The claims userinfo returns and the ID token carries, by granted scope. */
  private claims(user: OktaUser, scopes: string[]): Record<string, unknown> {
    const p = user.profile;
    const claims: Record<string, unknown> = { sub: user.id };
    if (scopes.includes('profile')) {
      const name = [p.firstName, p.lastName]
        .filter(v => typeof v === 'string' && v)
        .join(' ');
      claims.name = name || p.displayName || p.login;
      claims.preferred_username = p.login;
      if (p.firstName) claims.given_name = p.firstName;
      if (p.lastName) claims.family_name = p.lastName;
      claims.zoneinfo = 'America/Los_Angeles';
      claims.updated_at = Math.floor(Date.parse(user.lastUpdated) / 1000);
    }
    if (scopes.includes('email') && p.email) {
      claims.email = p.email;
      claims.email_verified = !this.unverifiedEmails.has(user.id);
    }
    return claims;
  }

  private idToken(
    user: OktaUser,
    grant: OidcGrant,
    clientId: string,
    base: string,
    accessToken: string,
    nonce: string | undefined,
    now: number,
  ): string {
    const nowS = Math.floor(now / 1000);
    const digest = createHash('sha256').update(accessToken).digest();
    const payload: Record<string, unknown> = {
      ...this.claims(user, grant.scopes),
      ver: 1,
      iss: base,
      aud: clientId,
      iat: nowS,
      exp: nowS + ID_TOKEN_LIFETIME_S,
      jti: `ID.${base64url(randomBytes(12))}`,
      amr: ['pwd'],
      idp: ORG_IDP_ID,
      auth_time: grant.authTime,
      at_hash: base64url(digest.subarray(0, digest.length / 2)),
    };
    if (nonce) payload.nonce = nonce;
    return signJws(
      { kid: SIGNING_KID, alg: 'RS256' },
      payload,
      this.key().privateKey,
    );
  }

  private userinfo(request: OidcRequest): OidcReply {
    const invalid = (description: string): OidcReply => ({
      status: 401,
      body: undefined,
      json: '',
      headers: {
        'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
      },
    });
    const m = /^bearer\s+(\S+)$/i.exec(
      (request.headers.authorization ?? '').trim(),
    );
    if (!m) return invalid('The access token is missing.');
    const token = this.accessTokens.get(m[1]);
    if (!token || token.expiresAt <= this.clock())
      return invalid('The access token is invalid.');
    const user = this.activeUser(token.userId);
    if (!user) return invalid('The access token is invalid.');
    if (
      !token.scopes.some(s =>
        ['profile', 'email', 'address', 'phone'].includes(s),
      )
    ) {
      return {
        status: 403,
        body: undefined,
        json: '',
        headers: {
          'WWW-Authenticate':
            'Bearer error="insufficient_scope", error_description="The access token must provide access to at least one of these scopes - profile, email, address or phone"',
        },
      };
    }
    return { status: 200, body: this.claims(user, token.scopes) };
  }
}
