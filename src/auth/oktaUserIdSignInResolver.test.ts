import { describe, expect, it, jest } from '@jest/globals';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  AuthResolverContext,
  OAuthAuthenticatorResult,
  PassportProfile,
} from '@backstage/plugin-auth-node';
import { oktaUserIdMatchingUserEntityAnnotation } from './oktaUserIdSignInResolver';

const OKTA_ID = '00u1abcdEFGHijkl5d7';

function idToken(claims: Record<string, unknown>): string {
  const part = (value: unknown) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2ln`;
}

function signInInfo(sub: string | undefined, idTokenSub?: string) {
  const result: OAuthAuthenticatorResult<PassportProfile> = {
    fullProfile: { provider: 'okta', id: sub as string, displayName: 'Jane' },
    session: {
      accessToken: 'at',
      tokenType: 'Bearer',
      scope: 'openid',
      idToken:
        idTokenSub === undefined ? undefined : idToken({ sub: idTokenSub }),
    },
  };
  return { profile: { email: 'jane@acme.test' }, result };
}

function context(
  signInWithCatalogUser: AuthResolverContext['signInWithCatalogUser'],
) {
  return { signInWithCatalogUser } as unknown as AuthResolverContext;
}

describe('oktaUserIdMatchingUserEntityAnnotation', () => {
  const resolver = oktaUserIdMatchingUserEntityAnnotation();

  it('signs in as the User entity annotated with the userinfo subject', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => ({ token: 't' }),
    );
    await expect(
      resolver(signInInfo(OKTA_ID, OKTA_ID), context(signIn)),
    ).resolves.toEqual({ token: 't' });
    expect(signIn).toHaveBeenCalledWith({
      annotations: { 'okta.com/user-id': OKTA_ID },
    });
  });

  it('works without an ID token (the userinfo subject is what counts)', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => ({ token: 't' }),
    );
    await resolver(signInInfo(OKTA_ID), context(signIn));
    expect(signIn).toHaveBeenCalledWith({
      annotations: { 'okta.com/user-id': OKTA_ID },
    });
  });

  it('refuses when the ID token names another subject, without asking the catalog', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => ({ token: 't' }),
    );
    await expect(
      resolver(signInInfo(OKTA_ID, '00uSomebodyElse'), context(signIn)),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: `Okta sign-in refused: the ID token's subject (00uSomebodyElse) is not the userinfo subject (${OKTA_ID})`,
    });
    expect(signIn).not.toHaveBeenCalled();
  });

  it('refuses a profile without a subject', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => ({ token: 't' }),
    );
    await expect(
      resolver(signInInfo(undefined), context(signIn)),
    ).rejects.toMatchObject({ name: 'NotAllowedError' });
    expect(signIn).not.toHaveBeenCalled();
  });

  it('turns "no such user" into a refusal naming the Okta user id and where to look', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => {
        throw new NotFoundError('User not found');
      },
    );
    await expect(
      resolver(signInInfo(OKTA_ID), context(signIn)),
    ).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringContaining(
        `no User entity in the catalog has the annotation okta.com/user-id: ${OKTA_ID}`,
      ),
    });
  });

  it('passes other catalog errors on (two entities with the same Okta id)', async () => {
    const signIn = jest.fn<AuthResolverContext['signInWithCatalogUser']>(
      async () => {
        throw new ConflictError('User lookup resulted in multiple matches');
      },
    );
    await expect(
      resolver(signInInfo(OKTA_ID), context(signIn)),
    ).rejects.toMatchObject({ name: 'ConflictError' });
  });

  it('takes no options', () => {
    expect(() =>
      oktaUserIdMatchingUserEntityAnnotation({ allowedDomains: ['acme.test'] }),
    ).toThrow('sign-in resolver does not accept options');
  });
});
