/*
 * Sign-in by Okta user id: the signed-in Okta user (`sub`) becomes the User
 * entity this module emitted for them, found by its `okta.com/user-id`
 * annotation. Emails and logins change; an Okta user id never does, so this
 * keeps working when someone's email changes between two syncs.
 */
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  createSignInResolverFactory,
  type OAuthAuthenticatorResult,
  type PassportProfile,
  type SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { OKTA_USER_ID_ANNOTATION } from '../okta/constants';

/** The `sub` claim of an ID token, read without verifying it (see below). */
function idTokenSubject(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  try {
    const payload = JSON.parse(
      Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Okta user id of a sign-in: the `sub` that Okta's userinfo endpoint
 * returned for the access token. Okta answered that over TLS to the auth
 * backend, so it is what the sign-in rests on; the ID token came from the
 * same token response and is not verified by the auth backend, so it only
 * has to agree (OpenID Connect Core 5.3.2: a userinfo `sub` that differs
 * from the ID token's must not be used).
 */
export function oktaUserIdOfSignIn(
  result: OAuthAuthenticatorResult<PassportProfile>,
): string {
  const fromUserinfo = result.fullProfile?.id;
  if (typeof fromUserinfo !== 'string' || fromUserinfo === '') {
    throw new NotAllowedError(
      'Okta sign-in refused: the Okta profile carries no user id (the userinfo "sub" claim)',
    );
  }
  const fromIdToken = idTokenSubject(result.session.idToken);
  if (fromIdToken !== undefined && fromIdToken !== fromUserinfo) {
    throw new NotAllowedError(
      `Okta sign-in refused: the ID token's subject (${fromIdToken}) is not the userinfo subject (${fromUserinfo})`,
    );
  }
  return fromUserinfo;
}

/**
 * A sign-in resolver for Backstage's Okta auth provider that signs the Okta
 * user in as the User entity whose `okta.com/user-id` annotation is their
 * Okta user id, which this module writes on every user it emits.
 *
 * @remarks
 *
 * Use it in `auth.providers.okta.<environment>.signIn.resolvers` as
 * `- resolver: oktaUserIdMatchingUserEntityAnnotation`, with an auth module
 * that offers it: {@link authModuleOktaProviderWithUserIdSignIn}, or your
 * own module passing {@link oktaOrgSignInResolvers} to
 * `createOAuthProviderFactory`. It takes no options.
 *
 * When no User entity has the annotation, it refuses the sign-in with a
 * `NotAllowedError` naming the Okta user id, instead of the `NotFoundError`
 * Backstage's resolvers throw: a declarative resolver list stops at it, so
 * list it last when other resolvers should be tried first.
 *
 * @public
 */
export const oktaUserIdMatchingUserEntityAnnotation: SignInResolverFactory<
  OAuthAuthenticatorResult<PassportProfile>,
  unknown
> = createSignInResolverFactory({
  create() {
    return async (info, ctx) => {
      const oktaUserId = oktaUserIdOfSignIn(info.result);
      try {
        return await ctx.signInWithCatalogUser({
          annotations: { [OKTA_USER_ID_ANNOTATION]: oktaUserId },
        });
      } catch (error) {
        if (error instanceof Error && error.name === NotFoundError.name) {
          throw new NotAllowedError(
            `Okta sign-in refused: no User entity in the catalog has the annotation ${OKTA_USER_ID_ANNOTATION}: ${oktaUserId}. ` +
              'Check that this Okta user is in the selection of catalog.providers.okta ' +
              '(userSearchFilter, groupNames, groupSearchFilter; deprovisioned users are left out) ' +
              'and that a sync has run since they were added.',
          );
        }
        throw error;
      }
    };
  },
});

/**
 * The sign-in resolvers this module adds for Backstage's Okta auth provider,
 * by the name they are configured under. Pass them to
 * `createOAuthProviderFactory({ signInResolverFactories })` together with
 * `oktaSignInResolvers` and `commonSignInResolvers`, or use
 * {@link authModuleOktaProviderWithUserIdSignIn}, which does.
 *
 * @public
 */
export const oktaOrgSignInResolvers: {
  oktaUserIdMatchingUserEntityAnnotation: typeof oktaUserIdMatchingUserEntityAnnotation;
} = { oktaUserIdMatchingUserEntityAnnotation };
