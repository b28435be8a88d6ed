import { OktaApiTokenAuthorizer } from './OktaAuthorizer';

describe('OktaApiTokenAuthorizer', () => {
  it('sends the token with the SSWS scheme and never renews', async () => {
    const authorizer = new OktaApiTokenAuthorizer(' 00abc ');
    const credentials = await authorizer.credentials();
    expect(
      credentials.headersFor({ method: 'GET', url: 'https://x/api/v1/users' }),
    ).toEqual({
      Authorization: 'SSWS 00abc',
    });
    await expect(authorizer.renew()).resolves.toBe(false);
  });

  it('rejects an empty token naming the config key', () => {
    expect(() => new OktaApiTokenAuthorizer('  ')).toThrow(
      /\(token\) is empty/,
    );
  });
});
