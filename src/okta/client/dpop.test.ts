import { createHash, createPublicKey, verify } from 'node:crypto';
import { accessTokenHash, dpopTargetUri, DpopProofSigner } from './dpop';
import { decodeJwt as decode } from '../../__testUtils__/decodeJwt';

describe('DpopProofSigner', () => {
  it('signs proofs verifiable with the public JWK in the header', () => {
    const signer = new DpopProofSigner();
    const proof = signer.proof({
      method: 'get',
      url: 'https://x.okta.com/api/v1/users?limit=200#frag',
      nonce: 'n1',
      accessToken: 'tok',
      now: 1_700_000_000_500,
    });
    const { header, claims, input, signature } = decode(proof);
    expect(header.typ).toBe('dpop+jwt');
    expect(header.alg).toBe('ES256');
    expect(Object.keys(header.jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']); // no private `d`
    expect(claims).toEqual({
      htm: 'GET',
      htu: 'https://x.okta.com/api/v1/users',
      iat: 1_700_000_000,
      jti: expect.any(String),
      nonce: 'n1',
      ath: createHash('sha256').update('tok').digest('base64url'),
    });
    const key = createPublicKey({ key: header.jwk, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(input),
        { key, dsaEncoding: 'ieee-p1363' },
        signature,
      ),
    ).toBe(true);
  });

  it('omits nonce and ath when not given, and never repeats a jti', () => {
    const signer = new DpopProofSigner();
    const a = decode(
      signer.proof({
        method: 'POST',
        url: 'https://x.okta.com/oauth2/v1/token',
      }),
    ).claims;
    const b = decode(
      signer.proof({
        method: 'POST',
        url: 'https://x.okta.com/oauth2/v1/token',
      }),
    ).claims;
    expect(a.nonce).toBeUndefined();
    expect(a.ath).toBeUndefined();
    expect(a.jti).not.toBe(b.jti);
  });

  it('keeps one key per signer and a different one per signer', () => {
    const s1 = new DpopProofSigner();
    const s2 = new DpopProofSigner();
    const jwk = (s: DpopProofSigner) =>
      decode(s.proof({ method: 'GET', url: 'https://x/' })).header.jwk;
    expect(jwk(s1)).toEqual(jwk(s1));
    expect(jwk(s1)).not.toEqual(jwk(s2));
  });

  it('computes htu and ath as RFC 9449 says', () => {
    expect(
      dpopTargetUri('http://127.0.0.1:8080/api/v1/groups/00g1/users?after=x'),
    ).toBe('http://127.0.0.1:8080/api/v1/groups/00g1/users');
    expect(accessTokenHash('abc')).toBe(
      'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0',
    );
  });
});
