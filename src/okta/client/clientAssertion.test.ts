import { generateKeyPairSync, KeyObject, verify } from 'node:crypto';
import { createClientAssertion, loadSigningKey } from './clientAssertion';
import { decodeJwt as decode } from '../../__testUtils__/decodeJwt';

function verifies(jwt: string, publicKey: KeyObject, hash: string): boolean {
  const { input, signature } = decode(jwt);
  return verify(
    hash,
    Buffer.from(input),
    publicKey.asymmetricKeyType === 'ec'
      ? { key: publicKey, dsaEncoding: 'ieee-p1363' }
      : publicKey,
    signature,
  );
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const ec521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });

describe('loadSigningKey', () => {
  it.each([
    [
      'RSA PKCS#8 PEM',
      rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      rsa.publicKey,
      'RS256',
      'sha256',
    ],
    [
      'RSA PKCS#1 PEM',
      rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      rsa.publicKey,
      'RS256',
      'sha256',
    ],
    [
      'RSA JWK',
      JSON.stringify(rsa.privateKey.export({ format: 'jwk' })),
      rsa.publicKey,
      'RS256',
      'sha256',
    ],
    [
      'RSA JWK with alg RS512',
      JSON.stringify({
        ...rsa.privateKey.export({ format: 'jwk' }),
        alg: 'RS512',
      }),
      rsa.publicKey,
      'RS512',
      'sha512',
    ],
    [
      'EC P-256 SEC1 PEM',
      ec256.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      ec256.publicKey,
      'ES256',
      'sha256',
    ],
    [
      'EC P-256 PKCS#8 PEM',
      ec256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ec256.publicKey,
      'ES256',
      'sha256',
    ],
    [
      'EC P-256 JWK',
      JSON.stringify(ec256.privateKey.export({ format: 'jwk' })),
      ec256.publicKey,
      'ES256',
      'sha256',
    ],
    [
      'EC P-384 PEM',
      ec384.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      ec384.publicKey,
      'ES384',
      'sha384',
    ],
    [
      'EC P-521 PEM',
      ec521.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ec521.publicKey,
      'ES512',
      'sha512',
    ],
  ])(
    'loads %s and signs a verifiable assertion',
    (_name, privateKey, publicKey, alg, hash) => {
      const signingKey = loadSigningKey(privateKey);
      expect(signingKey.alg).toBe(alg);
      const now = Date.UTC(2025, 0, 1);
      const jwt = createClientAssertion({
        signingKey,
        keyId: 'kid-1',
        clientId: '0oaclient',
        tokenUrl: 'https://x.okta.com/oauth2/v1/token',
        now,
      });
      const { header, claims } = decode(jwt);
      expect(header).toEqual({ typ: 'JWT', kid: 'kid-1', alg });
      expect(claims).toEqual({
        iss: '0oaclient',
        sub: '0oaclient',
        aud: 'https://x.okta.com/oauth2/v1/token',
        iat: now / 1000,
        exp: now / 1000 + 300,
        jti: expect.any(String),
      });
      expect(verifies(jwt, publicKey, hash)).toBe(true);
    },
  );

  it('accepts a PEM with literal \\n sequences (as pasted into env vars)', () => {
    const pem = rsa.privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(loadSigningKey(pem.replace(/\n/g, '\\n')).alg).toBe('RS256');
  });

  it('uses a fresh jti for every assertion', () => {
    const signingKey = loadSigningKey(
      JSON.stringify(ec256.privateKey.export({ format: 'jwk' })),
    );
    const make = () =>
      decode(
        createClientAssertion({
          signingKey,
          keyId: 'k',
          clientId: 'c',
          tokenUrl: 'https://x/oauth2/v1/token',
        }),
      ).claims.jti;
    expect(make()).not.toBe(make());
  });

  it('rejects garbage, public keys and unsupported curves without echoing the key', () => {
    const garbage =
      '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----';
    expect(() => loadSigningKey(garbage)).toThrow(/\(privateKey\) is neither/);
    let message = '';
    try {
      loadSigningKey(garbage);
    } catch (e) {
      message = String(e);
    }
    expect(message).not.toContain('SECRET');
    expect(() =>
      loadSigningKey(
        rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      ),
    ).toThrow(/nor a private JWK/);
    expect(() =>
      loadSigningKey(JSON.stringify(ec256.publicKey.export({ format: 'jwk' }))),
    ).toThrow(/nor a private JWK/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() =>
      loadSigningKey(
        k1.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
    ).toThrow(/P-256, P-384 or P-521/);
    const ed = generateKeyPairSync('ed25519');
    expect(() =>
      loadSigningKey(
        ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
    ).toThrow(/RSA or EC/);
  });
});
