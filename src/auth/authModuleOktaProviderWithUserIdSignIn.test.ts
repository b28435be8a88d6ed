import { describe, expect, it, jest } from '@jest/globals';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import authModuleOktaProvider from '@backstage/plugin-auth-backend-module-okta-provider';
import { authModuleOktaProviderWithUserIdSignIn } from './authModuleOktaProviderWithUserIdSignIn';

jest.setTimeout(60_000);

const config = mockServices.rootConfig.factory({
  data: {
    app: { baseUrl: 'http://localhost:3000' },
    auth: {
      providers: {
        okta: {
          development: {
            clientId: 'c',
            clientSecret: 's',
            audience: 'https://acme.okta.com',
            signIn: {
              resolvers: [
                { resolver: 'oktaUserIdMatchingUserEntityAnnotation' },
              ],
            },
          },
        },
      },
    },
  },
});

describe('authModuleOktaProviderWithUserIdSignIn', () => {
  it('registers the okta provider, which redirects to Okta with the configured resolver accepted', async () => {
    const backend = await startTestBackend({
      features: [authPlugin, authModuleOktaProviderWithUserIdSignIn, config],
    });
    try {
      const res = await fetch(
        `http://localhost:${backend.server.port()}/api/auth/okta/start?env=development`,
        { redirect: 'manual' },
      );
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(
        'https://acme.okta.com/oauth2/v1/authorize',
      );
      expect(location.searchParams.get('scope')?.split(' ').sort()).toEqual([
        'email',
        'offline_access',
        'openid',
        'profile',
      ]);
    } finally {
      await backend.stop();
    }
  });

  it("cannot be added beside Backstage's own Okta module: the backend refuses to start", async () => {
    await expect(
      startTestBackend({
        features: [
          authPlugin,
          authModuleOktaProvider,
          authModuleOktaProviderWithUserIdSignIn,
          config,
        ],
      }),
    ).rejects.toThrow(
      "Module 'okta-provider' for plugin 'auth' is already registered",
    );
  });
});
