/*
 * Backstage's Okta auth provider, registered as its own module
 * (`@backstage/plugin-auth-backend-module-okta-provider`) registers it, with
 * one more sign-in resolver to choose from in config.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  commonSignInResolvers,
  createOAuthProviderFactory,
} from '@backstage/plugin-auth-node';
import {
  oktaAuthenticator,
  oktaSignInResolvers,
} from '@backstage/plugin-auth-backend-module-okta-provider';
import { oktaOrgSignInResolvers } from './oktaUserIdSignInResolver';

/**
 * An auth backend module that registers Backstage's Okta sign-in provider
 * (`okta`, with Backstage's own Okta authenticator) and offers, besides
 * Backstage's resolvers (`emailMatchingUserEntityAnnotation`,
 * `emailMatchingUserEntityProfileEmail`,
 * `emailLocalPartMatchingUserEntityName`), the resolver
 * `oktaUserIdMatchingUserEntityAnnotation`
 * ({@link oktaUserIdMatchingUserEntityAnnotation}).
 *
 * @remarks
 *
 * Add it instead of `@backstage/plugin-auth-backend-module-okta-provider`,
 * not beside it: both are the auth plugin's module `okta-provider`, and a
 * backend refuses to start with the same module twice. Config is the same
 * (`auth.providers.okta`).
 *
 * @public
 */
export const authModuleOktaProviderWithUserIdSignIn = createBackendModule({
  pluginId: 'auth',
  moduleId: 'okta-provider',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'okta',
          factory: createOAuthProviderFactory({
            authenticator: oktaAuthenticator,
            signInResolverFactories: {
              ...oktaSignInResolvers,
              ...commonSignInResolvers,
              ...oktaOrgSignInResolvers,
            },
          }),
        });
      },
    });
  },
});
