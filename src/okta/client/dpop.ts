/*
 * DPoP (RFC 9449) proofs with an ephemeral EC P-256 key per client. Okta
 * binds the access token to this key, so it lives as long as the client and
 * never leaves memory.
 */
import {
  createHash,
  generateKeyPairSync,
  JsonWebKey,
  randomUUID,
} from 'node:crypto';
import { base64url, OktaSigningKey, signJwt } from './jwt';

/** The DPoP `ath` claim: base64url(SHA-256(access token)). */
export function accessTokenHash(accessToken: string): string {
  return base64url(createHash('sha256').update(accessToken).digest());
}

/** The DPoP `htu` claim: the request URL without query and fragment. */
export function dpopTargetUri(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** Signs DPoP proofs with one ephemeral key. */
export class DpopProofSigner {
  private readonly signingKey: OktaSigningKey;
  private readonly publicJwk: JsonWebKey;

  /** Generates a fresh P-256 key pair. */
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
    });
    this.signingKey = { key: privateKey, alg: 'ES256' };
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
    this.publicJwk = { kty, crv, x, y };
  }

  /**
   * A proof for one HTTP request attempt: proofs are single use, so each
   * attempt (retries included) needs its own.
   */
  proof(request: {
    method: string;
    url: string;
    /** The latest `DPoP-Nonce` the server gave, if any. */
    nonce?: string;
    /** Set on resource requests: binds the proof to the token (`ath`). */
    accessToken?: string;
    /** Epoch milliseconds; default now. */
    now?: number;
  }): string {
    return signJwt(
      { typ: 'dpop+jwt', jwk: this.publicJwk },
      {
        htm: request.method.toUpperCase(),
        htu: dpopTargetUri(request.url),
        iat: Math.floor((request.now ?? Date.now()) / 1000),
        jti: randomUUID(),
        ...(request.nonce ? { nonce: request.nonce } : {}),
        ...(request.accessToken
          ? { ath: accessTokenHash(request.accessToken) }
          : {}),
      },
      this.signingKey,
    );
  }
}
