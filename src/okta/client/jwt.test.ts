import { generateKeyPairSync, verify } from 'node:crypto';
import { base64url, signJwt } from './jwt';

describe('signJwt', () => {
  it('signs ES256 as r||s (64 bytes) and sets alg from the key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
    });
    const jwt = signJwt(
      { typ: 'x', alg: 'none' },
      { a: 1 },
      { key: privateKey, alg: 'ES256' },
    );
    const [h, p, s] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({
      typ: 'x',
      alg: 'ES256',
    });
    expect(Buffer.from(s, 'base64url')).toHaveLength(64);
    expect(
      verify(
        'sha256',
        Buffer.from(`${h}.${p}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      ),
    ).toBe(true);
  });

  it('encodes base64url without padding', () => {
    expect(base64url(Buffer.from([0xfb, 0xff]))).toBe('-_8');
  });
});
