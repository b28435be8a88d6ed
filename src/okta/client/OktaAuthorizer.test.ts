import { OktaApiTokenAuthorizer } from './OktaAuthorizer';

describe('OktaApiTokenAuthorizer', () => {
  it('sends the token with the SSWS scheme and never renews', async () => {
    const authorizer = new OktaApiTokenAuthorizer(' 00abc ');
    await expect(authorizer.authorize()).resolves.toEqual({ Authorization: 'SSWS 00abc' });
    await expect(authorizer.renew()).resolves.toBe(false);
  });

  it('rejects an empty token naming the config key', () => {
    expect(() => new OktaApiTokenAuthorizer('  ')).toThrow(/auth\.token/);
  });
});
