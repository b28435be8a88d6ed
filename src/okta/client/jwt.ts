/*
 * Compact JWS signing on node:crypto, for client assertions and DPoP proofs.
 * Only what those two need: RS256/384/512 and ES256/384/512.
 */
import { KeyObject, sign } from 'node:crypto';

/** JWS algorithms this client signs with. */
export type OktaJwsAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

/** A private key with the algorithm it signs under. */
export interface OktaSigningKey {
  key: KeyObject;
  alg: OktaJwsAlgorithm;
}

const HASH_OF: Record<OktaJwsAlgorithm, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

/** base64url without padding (RFC 7515). */
export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs a compact JWS; `alg` is set from the key. */
export function signJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signingKey: OktaSigningKey,
): string {
  const input = `${base64url(JSON.stringify({ ...header, alg: signingKey.alg }))}.${base64url(
    JSON.stringify(claims),
  )}`;
  const signature = sign(
    HASH_OF[signingKey.alg],
    Buffer.from(input),
    // JWS wants ECDSA signatures as r||s, not node's default DER.
    signingKey.alg.startsWith('ES')
      ? { key: signingKey.key, dsaEncoding: 'ieee-p1363' }
      : signingKey.key,
  );
  return `${input}.${base64url(signature)}`;
}
