/*
 * A deliberately small Okta client for the fake's own tests: builds client
 * assertions and DPoP proofs with node:crypto and calls the fake with fetch.
 * It is not the provider's client and must not become one.
 */
import { randomUUID } from 'node:crypto';
import { accessTokenHash, signJws } from '../jws';
import type { FakeJwk } from '../types';

export interface TestKey {
  kid: string;
  alg: string;
  privateJwk: FakeJwk;
  publicJwk: FakeJwk;
}

export function clientAssertion(
  key: TestKey,
  clientId: string,
  aud: string,
  overrides: {
    header?: Record<string, unknown>;
    claims?: Record<string, unknown>;
  } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  return signJws(
    { alg: key.alg, kid: key.kid, ...overrides.header },
    {
      iss: clientId,
      sub: clientId,
      aud,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...overrides.claims,
    },
    key.privateJwk,
  );
}

export function dpopProof(
  key: TestKey,
  htm: string,
  htu: string,
  opts: {
    nonce?: string;
    accessToken?: string;
    claims?: Record<string, unknown>;
    header?: Record<string, unknown>;
  } = {},
): string {
  const { d: _d, ...jwk } = key.publicJwk as FakeJwk & { d?: string };
  return signJws(
    { typ: 'dpop+jwt', alg: key.alg, jwk, ...opts.header },
    {
      htm,
      htu,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      ...(opts.nonce ? { nonce: opts.nonce } : {}),
      ...(opts.accessToken ? { ath: accessTokenHash(opts.accessToken) } : {}),
      ...opts.claims,
    },
    key.privateJwk,
  );
}

export async function requestToken(
  baseUrl: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}/oauth2/v1/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export function tokenForm(
  assertion: string,
  scope = 'okta.users.read okta.groups.read',
): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type:
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  };
}

/** Gets a Bearer token (or a DPoP token, going through the nonce challenge when `dpopKey` is given). */
export async function getAccessToken(
  baseUrl: string,
  key: TestKey,
  clientId: string,
  opts: { scope?: string; dpopKey?: TestKey } = {},
): Promise<{ accessToken: string; tokenType: string }> {
  const tokenUrl = `${baseUrl}/oauth2/v1/token`;
  let nonce: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const headers: Record<string, string> = opts.dpopKey
      ? { DPoP: dpopProof(opts.dpopKey, 'POST', tokenUrl, { nonce }) }
      : {};
    const res = await requestToken(
      baseUrl,
      tokenForm(clientAssertion(key, clientId, tokenUrl), opts.scope),
      headers,
    );
    if (res.status === 400 && res.body.error === 'use_dpop_nonce') {
      nonce = res.headers.get('dpop-nonce') ?? undefined;
      continue;
    }
    if (res.status !== 200)
      throw new Error(
        `token request failed: ${res.status} ${JSON.stringify(res.body)}`,
      );
    return {
      accessToken: res.body.access_token,
      tokenType: res.body.token_type,
    };
  }
  throw new Error('no token after the nonce challenge');
}

/** GET through the fake with a token; DPoP proofs are made when `dpopKey` is given. */
export async function apiGet(
  url: string,
  auth:
    { accessToken: string; dpopKey?: TestKey } | { ssws: string } | undefined,
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth && 'ssws' in auth) headers.authorization = `SSWS ${auth.ssws}`;
  else if (auth?.dpopKey) {
    headers.authorization = `DPoP ${auth.accessToken}`;
    headers.dpop = dpopProof(auth.dpopKey, 'GET', url.split('?')[0], {
      accessToken: auth.accessToken,
    });
  } else if (auth) headers.authorization = `Bearer ${auth.accessToken}`;
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, headers: res.headers, text };
}

/** The URL of rel="next" in a Link header, if any. */
export function nextLink(headers: Headers): string | undefined {
  const link = headers.get('link') ?? '';
  const m = /<([^>]+)>;\s*rel="next"/.exec(link);
  return m?.[1];
}
