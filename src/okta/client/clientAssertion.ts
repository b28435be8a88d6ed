/*
 * The private_key_jwt client assertion Okta's token endpoint takes from a
 * service ("API Services") app, and loading the app's private key.
 */
import {
  createPrivateKey,
  JsonWebKey,
  KeyObject,
  randomUUID,
} from 'node:crypto';
import { OktaJwsAlgorithm, OktaSigningKey, signJwt } from './jwt';

/** Client assertion type of RFC 7523, sent as `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE =
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Okta accepts at most an hour; five minutes keeps a leaked assertion short-lived. */
const ASSERTION_LIFETIME_S = 300;

const EC_ALGORITHMS: Record<string, OktaJwsAlgorithm> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/**
 * The algorithm Okta verifies a client assertion signed with this key under
 * (RS256, or the JWK's RS384/RS512, for RSA; ES256/384/512 by EC curve), or
 * why Okta cannot use the key. The one rule for which keys are usable: config
 * validation asks it at start-up, the client when it loads the key.
 */
export function signingAlgorithmOf(
  key: KeyObject,
  preferred?: unknown,
): { alg: OktaJwsAlgorithm } | { unusable: string } {
  if (key.asymmetricKeyType === 'rsa') {
    // A JWK may say which RSA algorithm its public half is registered under.
    if (preferred === 'RS384' || preferred === 'RS512')
      return { alg: preferred };
    return { alg: 'RS256' };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    const alg = EC_ALGORITHMS[curve];
    if (alg) return { alg };
    return {
      unusable: `is an EC key on curve ${curve}, which Okta does not accept; use P-256, P-384 or P-521 (or an RSA key)`,
    };
  }
  return {
    unusable: `is a ${key.asymmetricKeyType ?? 'unknown'} key; Okta accepts RSA or EC (P-256, P-384, P-521) keys only`,
  };
}

/**
 * Loads a private key given as PEM (PKCS#8, PKCS#1 RSA or SEC1 EC) or as a
 * JWK JSON string, and picks its signing algorithm: RS256 for RSA (or the
 * JWK's RS384/RS512), ES256/ES384/ES512 by EC curve. Errors never include
 * the key.
 */
export function loadSigningKey(privateKey: string): OktaSigningKey {
  const text = privateKey.trim();
  let key: KeyObject;
  let preferred: unknown;
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as JsonWebKey & { alg?: unknown };
      preferred = jwk.alg;
      key = createPrivateKey({ key: jwk, format: 'jwk' });
    } else {
      // Config files sometimes carry PEMs with literal "\n" sequences.
      key = createPrivateKey(
        text.includes('\\n') ? text.replace(/\\n/g, '\n') : text,
      );
    }
  } catch {
    throw new Error(
      'The Okta private key (privateKey) is neither a PEM private key (PKCS#8, PKCS#1 or SEC1) nor a private JWK',
    );
  }
  if (key.type !== 'private') {
    throw new Error(
      'The Okta private key (privateKey) is a public key; give the private key',
    );
  }
  const usable = signingAlgorithmOf(key, preferred);
  if ('unusable' in usable) {
    throw new Error(`The Okta private key (privateKey) ${usable.unusable}`);
  }
  return { key, alg: usable.alg };
}

/** Builds a signed client assertion for the org authorization server's token endpoint. */
export function createClientAssertion(options: {
  signingKey: OktaSigningKey;
  keyId: string;
  clientId: string;
  /** The full token URL, `{orgUrl}/oauth2/v1/token`. */
  tokenUrl: string;
  /** Epoch milliseconds; default now. */
  now?: number;
}): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return signJwt(
    { typ: 'JWT', kid: options.keyId },
    {
      iss: options.clientId,
      sub: options.clientId,
      aud: options.tokenUrl,
      iat,
      exp: iat + ASSERTION_LIFETIME_S,
      // Okta consumes each jti once: a fresh one for every token request.
      jti: randomUUID(),
    },
    options.signingKey,
  );
}
