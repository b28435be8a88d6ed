/*
 * Minimal compact-JWS handling on node:crypto for the fake's authorization
 * server: decoding, signature checks for RS256/384/512 and ES256/384/512,
 * RFC 7638 thumbprints, plus signing for test clients and key generation.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign as cryptoSign,
  verify as cryptoVerify,
  JsonWebKey as NodeJsonWebKey,
} from 'node:crypto';

export type JwsAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

const ALGORITHMS: Record<
  JwsAlgorithm,
  { hash: string; kty: 'RSA' | 'EC'; crv?: string }
> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' },
  ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
};

export function isSupportedAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return (
    typeof alg === 'string' &&
    Object.prototype.hasOwnProperty.call(ALGORITHMS, alg)
  );
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** Decodes a compact JWS without verifying it; undefined when malformed. */
export function decodeJws(token: string): DecodedJws | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(
      Buffer.from(parts[0], 'base64url').toString('utf8'),
    );
    const payload = JSON.parse(
      Buffer.from(parts[1], 'base64url').toString('utf8'),
    );
    if (
      !header ||
      typeof header !== 'object' ||
      !payload ||
      typeof payload !== 'object'
    ) {
      return undefined;
    }
    return {
      header,
      payload,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/** Imports a public JWK; undefined when it is not a usable RSA/EC public key. */
export function importPublicJwk(jwk: JsonWebKey): KeyObject | undefined {
  try {
    if ((jwk as { d?: unknown }).d !== undefined) return undefined;
    return createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** Verifies a decoded JWS's signature with the given key under its header `alg`. */
export function verifyJws(jws: DecodedJws, key: KeyObject): boolean {
  const alg = jws.header.alg;
  if (!isSupportedAlgorithm(alg)) return false;
  const spec = ALGORITHMS[alg];
  if (key.asymmetricKeyType !== (spec.kty === 'RSA' ? 'rsa' : 'ec'))
    return false;
  if (spec.crv) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const expected = {
      'P-256': 'prime256v1',
      'P-384': 'secp384r1',
      'P-521': 'secp521r1',
    }[spec.crv];
    if (curve !== expected) return false;
  }
  try {
    return cryptoVerify(
      spec.hash,
      Buffer.from(jws.signingInput),
      spec.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      jws.signature,
    );
  } catch {
    return false;
  }
}

/** RFC 7638 JWK SHA-256 thumbprint (base64url). */
export function jwkThumbprint(jwk: JsonWebKey): string {
  let members: Record<string, unknown>;
  if (jwk.kty === 'RSA') members = { e: jwk.e, kty: jwk.kty, n: jwk.n };
  else if (jwk.kty === 'EC')
    members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  else throw new Error(`Unsupported key type ${jwk.kty}`);
  return base64url(
    createHash('sha256').update(JSON.stringify(members)).digest(),
  );
}

/** base64url(SHA-256(token)), the DPoP `ath` claim. */
export function accessTokenHash(token: string): string {
  return base64url(createHash('sha256').update(token).digest());
}

/** Signs a compact JWS (for test clients of the fake). */
export function signJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject | string | JsonWebKey,
): string {
  const alg = header.alg;
  if (!isSupportedAlgorithm(alg))
    throw new Error(`Unsupported alg ${String(alg)}`);
  let key: KeyObject;
  if (privateKey instanceof KeyObject) key = privateKey;
  else if (typeof privateKey === 'string') key = createPrivateKey(privateKey);
  else
    key = createPrivateKey({
      key: privateKey as NodeJsonWebKey,
      format: 'jwk',
    });
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const spec = ALGORITHMS[alg];
  const signature = cryptoSign(
    spec.hash,
    Buffer.from(signingInput),
    spec.kty === 'EC' ? { key, dsaEncoding: 'ieee-p1363' } : key,
  );
  return `${signingInput}.${base64url(signature)}`;
}

/** A key pair for a service app, in the forms Okta's console and clients use. */
export interface ServiceAppKeys {
  kid: string;
  alg: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

let kidCounter = 0;

/** Generates an RS256 (2048-bit) or ES256 (P-256) key pair for a service app. */
export async function createServiceAppKeys(
  alg: 'RS256' | 'ES256',
  kid?: string,
): Promise<ServiceAppKeys> {
  const keyId =
    kid ?? `fake-${alg.toLowerCase()}-${process.pid}-${++kidCounter}`;
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPem = pair.privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const privateJwk = {
    ...(pair.privateKey.export({ format: 'jwk' }) as JsonWebKey),
    kid: keyId,
    alg,
    use: 'sig',
  } as JsonWebKey;
  const publicJwk = {
    ...(pair.publicKey.export({ format: 'jwk' }) as JsonWebKey),
    kid: keyId,
    alg,
    use: 'sig',
  } as JsonWebKey;
  return { kid: keyId, alg, privateKeyPem, privateJwk, publicJwk };
}
