/*
 * The fake org authorization server: service apps, SSWS tokens, the
 * client_credentials token endpoint with private_key_jwt client
 * authentication, DPoP (RFC 9449) and the checks the management API makes on
 * each request's credentials.
 */
import { randomBytes } from 'node:crypto';
import {
  accessTokenHash,
  base64url,
  decodeJws,
  importPublicJwk,
  isSupportedAlgorithm,
  jwkThumbprint,
  verifyJws,
} from './jws';
import type { FakeJwk, FakeServiceApp } from './types';
import type { FakeAdminRoleScope } from './adminRoleScope';
import { errorBody } from './serialize';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 300;
const DPOP_IAT_WINDOW_S = 300;
const NONCE_ROTATION_MS = 24 * 3600 * 1000;
const NONCE_VALIDITY_MS = 3 * 24 * 3600 * 1000;

/** All read scopes an SSWS token carries in this fake. */
const READ_SCOPES = ['okta.users.read', 'okta.groups.read'];

export interface OAuthErrorResult {
  status: number;
  body: { error: string; error_description: string };
  headers?: Record<string, string>;
}

export interface TokenSuccess {
  status: 200;
  body: {
    token_type: 'Bearer' | 'DPoP';
    expires_in: number;
    access_token: string;
    scope: string;
  };
  headers?: Record<string, string>;
}

interface IssuedToken {
  clientId: string;
  scopes: Set<string>;
  expiresAt: number;
  jkt?: string;
}

/** Who is calling the management API. */
export interface ApiPrincipal {
  kind: 'app' | 'ssws';
  /** Client id for apps, a stable label for SSWS tokens (rate-limit shares). */
  id: string;
  scopes: Set<string>;
  adminRole: boolean;
  /** What the admin role covers; absent: the whole org. */
  adminRoleScope?: FakeAdminRoleScope;
}

export type ApiAuthResult =
  | { ok: true; principal: ApiPrincipal }
  | {
      ok: false;
      status: 401 | 403;
      errorCode: 'E0000011' | 'E0000006' | 'E0000005';
      summary: string;
      cause?: string;
      wwwAuthenticate?: string;
    }
  | {
      ok: false;
      /** A bad DPoP proof: an empty body, the reason only in WWW-Authenticate. */
      status: 400;
      emptyBody: true;
      wwwAuthenticate: string;
    };

/**
 * Okta's answer to an API request its credentials do not allow: an error
 * body, or for a bad DPoP proof none (`body` undefined), with the challenge.
 */
export function refusedApiReply(
  auth: Exclude<ApiAuthResult, { ok: true }>,
  errorId: string,
): { status: number; body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = auth.wwwAuthenticate
    ? { 'WWW-Authenticate': auth.wwwAuthenticate }
    : {};
  if ('emptyBody' in auth)
    return { status: auth.status, body: undefined, headers };
  return {
    status: auth.status,
    body: errorBody(
      auth.errorCode,
      auth.summary,
      errorId,
      auth.cause ? [auth.cause] : [],
    ),
    headers,
  };
}

/** The algorithms a DPoP challenge names (those the fake verifies). */
const DPOP_ALGS = 'RS256 RS384 RS512 ES256 ES384 ES512';

/** Okta's path comparison for `htu`: percent-decoded (see checkDpopProof). */
function decodedPath(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${decodeURIComponent(parsed.pathname)}`;
  } catch {
    return undefined;
  }
}

interface RegisteredApp extends Required<
  Omit<FakeServiceApp, 'adminRoleScope'>
> {
  adminRoleScope?: FakeAdminRoleScope;
}

/** An OAuth error answer (RFC 6749 section 5.2), as Okta's endpoints give it. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers?: Record<string, string>,
): OAuthErrorResult {
  return { status, body: { error, error_description: description }, headers };
}

/** Single-use identifiers remembered until they could no longer be accepted. */
class ReplayCache {
  private readonly seen = new Map<string, number>();

  /** Records the id; false when it was already seen. */
  use(id: string, keepUntil: number, now: number): boolean {
    const previous = this.seen.get(id);
    if (previous !== undefined && previous > now) return false;
    if (this.seen.size > 50000) {
      for (const [key, until] of this.seen)
        if (until <= now) this.seen.delete(key);
    }
    this.seen.set(id, keepUntil);
    return true;
  }
}

export class FakeAuthorizationServer {
  private readonly apps = new Map<string, RegisteredApp>();
  private readonly apiTokens = new Map<
    string,
    { adminRole: boolean; label: string }
  >();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly assertionJtis = new ReplayCache();
  private readonly proofJtis = new ReplayCache();
  private nonces: Array<{ value: string; issuedAt: number }> = [];
  tokensIssued = 0;

  constructor(
    private readonly clock: () => number,
    private readonly tokenLifetimeSeconds: number,
  ) {}

  addServiceApp(app: FakeServiceApp): void {
    if (!app.clientId) throw new Error('A service app needs a clientId');
    for (const jwk of app.publicJwks) {
      if (!importPublicJwk(jwk)) {
        throw new Error(
          `Key ${jwk.kid ?? '(no kid)'} of app ${app.clientId} is not a public RSA/EC JWK`,
        );
      }
    }
    this.apps.set(app.clientId, {
      clientId: app.clientId,
      publicJwks: [...app.publicJwks],
      scopes: [...app.scopes],
      requireDpop: app.requireDpop ?? false,
      adminRole: app.adminRole ?? true,
      ...(app.adminRoleScope && { adminRoleScope: app.adminRoleScope }),
    });
  }

  updateServiceApp(
    clientId: string,
    patch: Partial<Omit<FakeServiceApp, 'clientId'>>,
  ): void {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`No service app ${clientId} in the fake org`);
    this.addServiceApp({ ...app, ...patch, clientId });
  }

  addApiToken(token: string, opts: { adminRole?: boolean } = {}): void {
    this.apiTokens.set(token, {
      adminRole: opts.adminRole ?? true,
      label: `ssws-${this.apiTokens.size + 1}`,
    });
  }

  /** The current DPoP nonce (rotated daily, each valid for three days). */
  currentNonce(): string {
    const now = this.clock();
    const latest = this.nonces[this.nonces.length - 1];
    if (!latest || now - latest.issuedAt >= NONCE_ROTATION_MS) {
      this.nonces.push({ value: base64url(randomBytes(24)), issuedAt: now });
      this.nonces = this.nonces.filter(
        n => now - n.issuedAt < NONCE_VALIDITY_MS,
      );
    }
    return this.nonces[this.nonces.length - 1].value;
  }

  private isValidNonce(nonce: unknown): boolean {
    const now = this.clock();
    this.currentNonce();
    return this.nonces.some(
      n => n.value === nonce && now - n.issuedAt < NONCE_VALIDITY_MS,
    );
  }

  /** Which app a live access token belongs to, for rate-limit shares. */
  peekPrincipalId(authorization: string | undefined): string | undefined {
    if (!authorization) return undefined;
    const space = authorization.indexOf(' ');
    const scheme = authorization.slice(0, space).toLowerCase();
    const credential = authorization.slice(space + 1).trim();
    if (scheme === 'ssws') return this.apiTokens.get(credential)?.label;
    return this.tokens.get(credential)?.clientId;
  }

  /** POST /oauth2/v1/token. */
  token(
    form: URLSearchParams,
    contentType: string | undefined,
    dpopHeader: string | string[] | undefined,
    tokenUrl: string,
  ): TokenSuccess | OAuthErrorResult {
    const now = this.clock();
    const nowS = Math.floor(now / 1000);
    if (
      !contentType ||
      !contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')
    ) {
      return oauthError(
        400,
        'invalid_request',
        'The request must be application/x-www-form-urlencoded.',
      );
    }
    const grantType = form.get('grant_type');
    if (!grantType) {
      return oauthError(
        400,
        'invalid_request',
        "The 'grant_type' parameter is required.",
      );
    }
    const assertion = form.get('client_assertion');
    if (!assertion && !form.get('client_secret')) {
      return oauthError(401, 'invalid_client', 'No client credentials found.');
    }
    if (!assertion) {
      return oauthError(
        401,
        'invalid_client',
        'The client is configured for private_key_jwt; client secrets are not accepted.',
      );
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      return oauthError(
        400,
        'invalid_request',
        'The `client_assertion_type` is invalid.',
      );
    }
    const jws = decodeJws(assertion);
    if (!jws) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion token is malformed.',
      );
    }
    const { header, payload } = jws;
    const clientId = payload.iss;
    if (typeof clientId !== 'string' || payload.sub !== clientId) {
      return oauthError(
        401,
        'invalid_client',
        "The client_assertion token's 'iss' and 'sub' claims must both be the client id.",
      );
    }
    const formClientId = form.get('client_id');
    if (formClientId && formClientId !== clientId) {
      return oauthError(
        401,
        'invalid_client',
        "The 'client_id' parameter does not match the client_assertion issuer.",
      );
    }
    const app = this.apps.get(clientId);
    if (!app) {
      return oauthError(
        401,
        'invalid_client',
        "Invalid value for 'client_id' parameter.",
      );
    }
    if (!isSupportedAlgorithm(header.alg)) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion JWT signature algorithm is not supported.',
      );
    }
    // Okta requires the kid of a registered key; without one the answer is
    // the same as for an unknown kid (Okta's private_key_jwt docs: "kid" is
    // required when the app has keys; the message is Okta's).
    const candidates = app.publicJwks.filter(
      k => header.kid !== undefined && k.kid === header.kid,
    );
    if (candidates.length === 0) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion JWT kid is invalid.',
      );
    }
    const verified = candidates.some(jwk => {
      const key = importPublicJwk(jwk);
      return (
        key !== undefined &&
        (jwk.alg === undefined || jwk.alg === header.alg) &&
        verifyJws(jws, key)
      );
    });
    if (!verified) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion signature is invalid.',
      );
    }
    const aud = payload.aud;
    if (!(aud === tokenUrl || (Array.isArray(aud) && aud.includes(tokenUrl)))) {
      return oauthError(
        401,
        'invalid_client',
        'The audience claim for client_assertion must be the endpoint invoking the request.',
      );
    }
    if (typeof payload.exp !== 'number') {
      return oauthError(
        401,
        'invalid_client',
        "The client_assertion token must contain an 'exp' claim.",
      );
    }
    if (payload.exp <= nowS) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion token is expired.',
      );
    }
    if (payload.exp > nowS + MAX_ASSERTION_LIFETIME_S) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion token has an expiration too far into the future.',
      );
    }
    if (typeof payload.iat === 'number' && payload.iat > nowS + CLOCK_SKEW_S) {
      return oauthError(
        401,
        'invalid_client',
        'The client_assertion token was issued in the future.',
      );
    }
    if (payload.jti !== undefined) {
      if (
        !this.assertionJtis.use(
          `${clientId}:${String(payload.jti)}`,
          payload.exp * 1000,
          now,
        )
      ) {
        return oauthError(
          401,
          'invalid_client',
          'The client_assertion token has already been used.',
        );
      }
    }
    if (grantType !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        "The grant type in the request isn't supported.",
      );
    }
    const requested = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) {
      return oauthError(400, 'invalid_scope', 'No scopes were requested.');
    }
    const notGranted = requested.filter(s => !app.scopes.includes(s));
    if (notGranted.length > 0) {
      return oauthError(
        400,
        'invalid_scope',
        `The following scopes are not allowed: ${notGranted.join(' ')}`,
      );
    }

    let jkt: string | undefined;
    if (app.requireDpop) {
      const proof = this.checkDpopProof(
        dpopHeader,
        'POST',
        tokenUrl,
        undefined,
      );
      if (!proof.ok)
        return oauthError(400, 'invalid_dpop_proof', proof.description);
      if (!this.isValidNonce(proof.payload.nonce)) {
        return oauthError(
          400,
          'use_dpop_nonce',
          'Authorization server requires nonce in DPoP proof.',
          {
            'DPoP-Nonce': this.currentNonce(),
          },
        );
      }
      jkt = proof.jkt;
    }

    const accessToken = this.mintToken(clientId, requested, jkt, nowS);
    this.tokensIssued++;
    return {
      status: 200,
      body: {
        token_type: jkt ? 'DPoP' : 'Bearer',
        expires_in: this.tokenLifetimeSeconds,
        access_token: accessToken,
        scope: requested.join(' '),
      },
    };
  }

  private mintToken(
    clientId: string,
    scopes: string[],
    jkt: string | undefined,
    nowS: number,
  ): string {
    // JWT-shaped but opaque: clients must not rely on its contents, the fake keeps state.
    const header = base64url(
      JSON.stringify({ kid: 'fake-okta-org-as', alg: 'RS256' }),
    );
    const claims = base64url(
      JSON.stringify({
        ver: 1,
        jti: `AT.${base64url(randomBytes(12))}`,
        iat: nowS,
        exp: nowS + this.tokenLifetimeSeconds,
        cid: clientId,
        scp: scopes,
        ...(jkt ? { cnf: { jkt } } : {}),
      }),
    );
    const token = `${header}.${claims}.${base64url(randomBytes(32))}`;
    if (this.tokens.size > 10000) {
      const now = this.clock();
      for (const [t, info] of this.tokens)
        if (info.expiresAt <= now) this.tokens.delete(t);
    }
    this.tokens.set(token, {
      clientId,
      scopes: new Set(scopes),
      expiresAt: (nowS + this.tokenLifetimeSeconds) * 1000,
      jkt,
    });
    return token;
  }

  private checkDpopProof(
    dpopHeader: string | string[] | undefined,
    htm: string,
    htu: string,
    accessToken: string | undefined,
  ):
    | { ok: true; jkt: string; payload: Record<string, unknown> }
    | { ok: false; description: string } {
    if (dpopHeader === undefined) {
      return {
        ok: false,
        description: 'The DPoP proof JWT header is missing.',
      };
    }
    if (Array.isArray(dpopHeader)) {
      return {
        ok: false,
        description: 'Only one DPoP proof JWT header is allowed.',
      };
    }
    const jws = decodeJws(dpopHeader);
    if (!jws)
      return { ok: false, description: 'The DPoP proof JWT is malformed.' };
    const { header, payload } = jws;
    if (header.typ !== 'dpop+jwt') {
      return {
        ok: false,
        description: "The DPoP proof JWT 'typ' header must be 'dpop+jwt'.",
      };
    }
    if (!isSupportedAlgorithm(header.alg)) {
      return {
        ok: false,
        description: 'The DPoP proof JWT signature algorithm is not supported.',
      };
    }
    const jwk = header.jwk as FakeJwk | undefined;
    const key =
      jwk && typeof jwk === 'object' ? importPublicJwk(jwk) : undefined;
    if (!jwk || !key) {
      return {
        ok: false,
        description: "The DPoP proof JWT 'jwk' header must be a public key.",
      };
    }
    if (!verifyJws(jws, key)) {
      return {
        ok: false,
        description: 'The DPoP proof JWT signature is invalid.',
      };
    }
    if (payload.htm !== htm) {
      return {
        ok: false,
        description:
          "The DPoP proof JWT 'htm' claim does not match the request method.",
      };
    }
    // Okta percent-decodes the request path before comparing it with htu
    // (okta/okta-sdk-python issue 541, okta/okta-sdk-nodejs issue 521: a
    // proof for /api/v1/users/a%40b fails with "'htu' claim in the DPoP proof
    // JWT is invalid."), so an encoded and a decoded path are the same URL.
    const htuPath =
      typeof payload.htu === 'string' ? decodedPath(payload.htu) : undefined;
    if (htuPath === undefined || htuPath !== decodedPath(htu)) {
      return {
        ok: false,
        description: "'htu' claim in the DPoP proof JWT is invalid.",
      };
    }
    const nowS = Math.floor(this.clock() / 1000);
    if (
      typeof payload.iat !== 'number' ||
      Math.abs(payload.iat - nowS) > DPOP_IAT_WINDOW_S
    ) {
      return {
        ok: false,
        description: "The DPoP proof JWT 'iat' claim is missing or not recent.",
      };
    }
    if (typeof payload.jti !== 'string' || !payload.jti) {
      return {
        ok: false,
        description: "The DPoP proof JWT 'jti' claim is missing.",
      };
    }
    if (
      accessToken !== undefined &&
      payload.ath !== accessTokenHash(accessToken)
    ) {
      return {
        ok: false,
        description:
          "The DPoP proof JWT 'ath' claim does not match the access token.",
      };
    }
    if (
      !this.proofJtis.use(
        payload.jti,
        (payload.iat + 2 * DPOP_IAT_WINDOW_S) * 1000,
        this.clock(),
      )
    ) {
      return {
        ok: false,
        description: 'The DPoP proof JWT has already been used.',
      };
    }
    return { ok: true, jkt: jwkThumbprint(jwk), payload };
  }

  /**
   * Checks a management API request's credentials and the scope it needs
   * (`okta.users.read` is also satisfied by `okta.users.manage`, and so on).
   */
  authenticateApi(
    authorization: string | undefined,
    dpopHeader: string | string[] | undefined,
    method: string,
    htu: string,
    requiredScope: string,
  ): ApiAuthResult {
    const invalid = (
      cause?: string,
      wwwAuthenticate?: string,
    ): ApiAuthResult => ({
      ok: false,
      status: 401,
      errorCode: 'E0000011',
      summary: 'Invalid token provided',
      cause,
      wwwAuthenticate,
    });
    // An Authorization header Okta cannot read (no scheme and credential, or
    // a scheme it does not know) is 403 E0000005 "Invalid session", unlike a
    // missing header or an unknown token (401 E0000011): the issue behind
    // this behaviour (shared/FACTS.md), and okta/okta-powershell-cli PR 84
    // ("API calls failed with E0000005 (Invalid session) due to incorrect
    // authentication headers").
    const malformed: ApiAuthResult = {
      ok: false,
      status: 403,
      errorCode: 'E0000005',
      summary: 'Invalid session',
    };
    if (!authorization) return invalid();
    const space = authorization.indexOf(' ');
    if (space < 0) return malformed;
    const scheme = authorization.slice(0, space).toLowerCase();
    const credential = authorization.slice(space + 1).trim();
    if (!credential || /\s/.test(credential)) return malformed;
    let principal: ApiPrincipal;
    if (scheme === 'ssws') {
      const apiToken = this.apiTokens.get(credential);
      if (!apiToken) return invalid();
      principal = {
        kind: 'ssws',
        id: apiToken.label,
        scopes: new Set(READ_SCOPES),
        adminRole: apiToken.adminRole,
      };
    } else if (scheme === 'bearer' || scheme === 'dpop') {
      const token = this.tokens.get(credential);
      if (!token || token.expiresAt <= this.clock()) {
        return invalid(
          undefined,
          scheme === 'dpop'
            ? 'DPoP error="invalid_token"'
            : 'Bearer error="invalid_token"',
        );
      }
      if (scheme === 'bearer' && token.jkt) {
        return invalid(
          'The access token is DPoP-bound; use the DPoP authorization scheme with a DPoP proof.',
          'DPoP error="invalid_token", error_description="DPoP-bound token used as a Bearer token"',
        );
      }
      if (scheme === 'dpop') {
        if (!token.jkt) {
          return invalid(
            'The access token is not DPoP-bound.',
            'Bearer error="invalid_token"',
          );
        }
        // Okta answers a bad or missing proof on /api/v1 with HTTP 400, an
        // empty body and the reason only in WWW-Authenticate, shaped as in
        // okta/okta-sdk-nodejs issue 453 (a real org's answer: `DPoP
        // algs="RS256 ...", realm=..., scope=..., error="invalid_dpop_proof",
        // error_description="...", resource="/api/v1/..."`; shared/FACTS.md).
        const realm = new URL(htu).origin;
        const badProof = (description: string): ApiAuthResult => ({
          ok: false,
          status: 400,
          emptyBody: true,
          wwwAuthenticate: `DPoP algs="${DPOP_ALGS}", realm="${realm}", scope="${requiredScope}", error="invalid_dpop_proof", error_description="${description}", resource="${new URL(htu).pathname}"`,
        });
        const proof = this.checkDpopProof(dpopHeader, method, htu, credential);
        if (!proof.ok) return badProof(proof.description);
        if (proof.jkt !== token.jkt) {
          return badProof(
            'The DPoP proof key does not match the access token binding.',
          );
        }
      }
      const app = this.apps.get(token.clientId);
      principal = {
        kind: 'app',
        id: token.clientId,
        scopes: token.scopes,
        adminRole: app?.adminRole ?? false,
        ...(app?.adminRoleScope && { adminRoleScope: app.adminRoleScope }),
      };
    } else {
      return malformed;
    }
    const manageScope = requiredScope.replace(/\.read$/, '.manage');
    if (
      !principal.adminRole ||
      !(
        principal.scopes.has(requiredScope) || principal.scopes.has(manageScope)
      )
    ) {
      return {
        ok: false,
        status: 403,
        errorCode: 'E0000006',
        summary: 'You do not have permission to perform the requested action',
        wwwAuthenticate: principal.adminRole
          ? `${scheme === 'dpop' ? 'DPoP' : 'Bearer'} error="insufficient_scope", error_description="The access token provided does not contain the required scopes."`
          : undefined,
      };
    }
    return { ok: true, principal };
  }
}
