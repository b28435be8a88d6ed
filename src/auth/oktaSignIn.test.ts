/*
 * Sign-in end to end: a real Backstage backend (auth plugin, the Okta auth
 * provider with this module's resolver, the catalog, this module) against
 * the fake Okta org, driven over HTTP as a browser would: /start, Okta's
 * login step, the callback, then /refresh. It asserts the Backstage identity
 * the auth backend issues (its JWT, signature checked against the auth
 * backend's JWKS): `sub` is the User entity, `ent` holds the user's Okta
 * groups as Group entity refs.
 *
 * Two auth environments share one backend and one Okta web app:
 * `byEmail` (Backstage's emailMatchingUserEntityAnnotation) and `byUserId`
 * (this module's oktaUserIdMatchingUserEntityAnnotation).
 */
import {
  createPublicKey,
  verify as cryptoVerify,
  type JsonWebKey as NodeJsonWebKey,
} from 'node:crypto';
import type {
  SchedulerService,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { FakeOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  submitFakeOktaLogin,
  TestBrowser,
} from '../../dev/fakeOkta/testing/browser';
import { addServiceApp, catalogApi } from '../__testUtils__/oktaCatalogHarness';
import { decodeJwt } from '../__testUtils__/decodeJwt';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { authModuleOktaProviderWithUserIdSignIn } from './authModuleOktaProviderWithUserIdSignIn';

jest.setTimeout(120_000);

const WEB_CLIENT_ID = '0oa-backstage-web';
const WEB_CLIENT_SECRET = 'backstage-web-secret-value';
const SYNC_TASK = 'OktaOrgEntityProvider:default:refresh';

/** What the auth backend's frame handler posts to the app window. */
interface AuthorizationResponse {
  type: 'authorization_response';
  response?: {
    profile: { email?: string; displayName?: string };
    providerInfo: { idToken: string; accessToken: string; scope: string };
    backstageIdentity: {
      token: string;
      identity: { userEntityRef: string; ownershipEntityRefs: string[] };
    };
  };
  error?: { name: string; message: string };
}

/** The auth response JSON inside the frame handler's page (`decodeURIComponent('...')`). */
function postedMessage(html: string): AuthorizationResponse {
  const m = /var authResponse = decodeURIComponent\('([^']*)'\)/.exec(html);
  if (!m) throw new Error(`Not an auth response page: ${html.slice(0, 300)}`);
  return JSON.parse(decodeURIComponent(m[1]));
}

describe('signing in to Backstage with Okta', () => {
  let fake: FakeOkta;
  let baseUrl: string;
  // A MockSchedulerService (its class is not exported): tasks run at start-up
  // and when triggered, so "the next sync" is a call.
  const scheduler = mockServices.scheduler() as SchedulerService & {
    factory(): ServiceFactory;
  };
  const org = new FakeOrg({ seed: 18 });
  const platform = org.addGroup({ profile: { name: 'Platform Team' } });
  const web = org.addGroup({ profile: { name: 'Web Team' } });
  const contractors = org.addGroup({ profile: { name: 'Contractors' } });
  const person = (login: string, firstName: string, groups: string[]) => {
    const user = org.addUser({
      profile: { login, email: login, firstName, lastName: 'Test' },
    });
    for (const groupId of groups) org.addMember(groupId, user.id);
    return user.id;
  };
  const jane = person('jane@acme.test', 'Jane', [platform.id, web.id]);
  const omar = person('omar@acme.test', 'Omar', [platform.id]);
  const una = person('una@acme.test', 'Una', [platform.id]);
  const dana = person('dana@acme.test', 'Dana', [web.id]);
  const sam = person('sam@acme.test', 'Sam', [web.id]);
  const carl = person('carl@acme.test', 'Carl', [contractors.id]);

  const catalog = () => catalogApi(baseUrl);
  const userEntity = async (name: string): Promise<Entity | undefined> =>
    (await catalog().entities('user')).find(e => e.metadata.name === name);
  /**
   * Runs the provider's next sync and waits for the catalog to show its
   * outcome. It starts once Okta's search shows the changes made before it
   * (the fake's search lag, 50 ms): a sync inside the lag finds a change on
   * the sync after it, through its overlap, not on this one.
   */
  const nextSync = async (until: (entities: Entity[]) => boolean) => {
    await new Promise(resolve => setTimeout(resolve, 200));
    await scheduler.triggerTask(SYNC_TASK);
    await catalog().waitFor(until, 60_000);
  };
  const memberOf = (entities: Entity[], name: string) =>
    entities
      .find(e => e.kind === 'User' && e.metadata.name === name)
      ?.relations?.filter(r => r.type === 'memberOf')
      .map(r => r.targetRef)
      .sort() ?? [];

  /** The whole browser flow; `done` is the last page the browser got. */
  async function signIn(
    env: 'byEmail' | 'byUserId',
    username: string,
    browser = new TestBrowser(),
  ) {
    const page = await browser.follow(
      `${baseUrl}/api/auth/okta/start?env=${env}`,
    );
    const done = await submitFakeOktaLogin(
      browser,
      page,
      username,
      `${username}-password`,
    );
    return { browser, done };
  }

  /** Signs in and returns the posted auth response. */
  async function authResponse(env: 'byEmail' | 'byUserId', username: string) {
    const { browser, done } = await signIn(env, username);
    expect(done.url).toMatch(
      new RegExp(`^${baseUrl}/api/auth/okta/handler/frame\\?`),
    );
    expect(done.status).toBe(200);
    return { browser, message: postedMessage(done.body) };
  }

  /** The Backstage identity token's claims, after checking its signature against the auth backend's JWKS. */
  async function verifiedClaims(
    token: string,
  ): Promise<{ sub: string; ent: string[]; iss: string }> {
    const jwt = decodeJwt(token);
    const jwks = (await (
      await fetch(`${baseUrl}/api/auth/.well-known/jwks.json`)
    ).json()) as { keys: Array<NodeJsonWebKey & { kid: string }> };
    const jwk = jwks.keys.find(k => k.kid === jwt.header.kid);
    expect(jwk).toBeDefined();
    expect(jwt.header.alg).toBe('ES256');
    const key = createPublicKey({ key: jwk!, format: 'jwk' });
    expect(
      cryptoVerify(
        'sha256',
        Buffer.from(jwt.input),
        { key, dsaEncoding: 'ieee-p1363' },
        jwt.signature,
      ),
    ).toBe(true);
    return jwt.claims;
  }

  async function identityOf(message: AuthorizationResponse) {
    expect(message.error).toBeUndefined();
    const { token, identity } = message.response!.backstageIdentity;
    const claims = await verifiedClaims(token);
    expect(identity.userEntityRef).toBe(claims.sub);
    return { sub: claims.sub, ent: [...claims.ent].sort(), iss: claims.iss };
  }

  async function refresh(browser: TestBrowser, env: 'byEmail' | 'byUserId') {
    const res = await browser.request(
      `${baseUrl}/api/auth/okta/refresh?env=${env}`,
      {
        headers: { 'X-Requested-With': 'XMLHttpRequest' },
      },
    );
    return { status: res.status, body: JSON.parse(res.body) };
  }

  beforeAll(async () => {
    fake = await startFakeOkta({ org });
    const serviceApp = await addServiceApp(fake);
    const oktaAuth = (resolver: string) => ({
      clientId: WEB_CLIENT_ID,
      clientSecret: WEB_CLIENT_SECRET,
      audience: fake.url,
      signIn: { resolvers: [{ resolver }] },
    });
    const backend = await startTestBackend({
      features: [
        authPlugin,
        authModuleOktaProviderWithUserIdSignIn,
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
        scheduler.factory(),
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: {
              // Backstage leaves `ent` out of its tokens by default (it keeps
              // it for its user-info service); in the token, a test can read it.
              omitIdentityTokenOwnershipClaim: false,
              providers: {
                okta: {
                  byEmail: oktaAuth('emailMatchingUserEntityAnnotation'),
                  byUserId: oktaAuth('oktaUserIdMatchingUserEntityAnnotation'),
                },
              },
            },
            catalog: {
              providers: {
                okta: {
                  ...serviceApp.providerConfig,
                  groupNames: ['Platform Team', 'Web Team'],
                  checkSetupOnStart: false,
                  schedule: {
                    frequency: { minutes: 30 },
                    timeout: { minutes: 5 },
                  },
                },
              },
            },
          },
        }),
      ],
    });
    baseUrl = `http://localhost:${backend.server.port()}`;
    // The sign-in redirect URI of the Okta web app is the auth backend's callback.
    fake.oidc.addWebApp({
      clientId: WEB_CLIENT_ID,
      clientSecret: WEB_CLIENT_SECRET,
      redirectUris: [`${baseUrl}/api/auth/okta/handler/frame`],
    });
    for (const user of org.users())
      fake.oidc.setPassword(user.id, `${user.profile.login}-password`);
    // The first sync ran at start-up; wait until the catalog has stitched the memberships.
    await catalog().waitFor(
      entities =>
        memberOf(entities, 'jane').length === 2 &&
        memberOf(entities, 'sam').length === 1 &&
        memberOf(entities, 'dana').length === 1,
      60_000,
    );
  });
  afterAll(() => fake?.close());

  it('signs a user in with the default resolver, emailMatchingUserEntityAnnotation: sub is their User entity, ent their Okta groups', async () => {
    const { browser, message } = await authResponse(
      'byEmail',
      'jane@acme.test',
    );
    // The flow went through Okta's login step and back through the callback.
    expect(browser.visited.map(u => new URL(u).pathname)).toEqual([
      '/api/auth/okta/start',
      '/oauth2/v1/authorize',
      '/login/login.htm',
      '/login/login.htm',
      '/oauth2/v1/authorize',
      '/api/auth/okta/handler/frame',
    ]);
    const identity = await identityOf(message);
    expect(identity).toEqual({
      sub: 'user:default/jane',
      ent: [
        'group:default/platform_team',
        'group:default/web_team',
        'user:default/jane',
      ],
      iss: `${baseUrl}/api/auth`,
    });
    // The Okta identity behind it: the ID token's subject is Jane's Okta user id.
    expect(message.response!.profile.email).toBe('jane@acme.test');
    expect(decodeJwt(message.response!.providerInfo.idToken).claims.sub).toBe(
      jane,
    );
    expect(
      (await userEntity('jane'))?.metadata.annotations?.['okta.com/user-id'],
    ).toBe(jane);

    // The session refreshes through Okta (refresh token, secret in the body) to the same identity.
    const refreshed = await refresh(browser, 'byEmail');
    expect(refreshed.status).toBe(200);
    const again = await verifiedClaims(refreshed.body.backstageIdentity.token);
    expect(again.sub).toBe('user:default/jane');
    expect([...again.ent].sort()).toEqual(identity.ent);
  });

  it('signs a user in by Okta user id with oktaUserIdMatchingUserEntityAnnotation', async () => {
    const { message } = await authResponse('byUserId', 'jane@acme.test');
    expect(await identityOf(message)).toMatchObject({
      sub: 'user:default/jane',
      ent: [
        'group:default/platform_team',
        'group:default/web_team',
        'user:default/jane',
      ],
    });
  });

  it('a user whose email changed in Okta after the last sync: refused by email until the next sync, signed in by user id throughout', async () => {
    org.updateUser(omar, { profile: { email: 'omar.khan@acme.test' } });

    const byEmail = (await authResponse('byEmail', 'omar@acme.test')).message;
    expect(byEmail.response).toBeUndefined();
    expect(byEmail.error?.message).toMatch(
      /^Failed to sign-in, unable to resolve user identity/,
    );

    const byUserId = (await authResponse('byUserId', 'omar@acme.test')).message;
    expect(await identityOf(byUserId)).toMatchObject({
      sub: 'user:default/omar',
      ent: ['group:default/platform_team', 'user:default/omar'],
    });

    // The next sync names the entity from the new email (userNaming
    // emailLocalPart) and moves the annotation: both resolvers find it again.
    await nextSync(
      entities =>
        memberOf(entities, 'omar.khan').length === 1 &&
        !entities.some(e => e.metadata.name === 'omar'),
    );
    for (const env of ['byEmail', 'byUserId'] as const) {
      const { message } = await authResponse(env, 'omar@acme.test');
      expect(await identityOf(message)).toMatchObject({
        sub: 'user:default/omar.khan',
        ent: ['group:default/platform_team', 'user:default/omar.khan'],
      });
    }
  });

  it('refuses an unverified email with the email resolver; the user id resolver does not use the email', async () => {
    fake.oidc.setEmailVerified(una, false);
    const byEmail = (await authResponse('byEmail', 'una@acme.test')).message;
    expect(byEmail.response).toBeUndefined();
    expect(byEmail.error).toEqual({
      name: 'Error',
      message: 'Okta profile contained no email',
    });

    const byUserId = (await authResponse('byUserId', 'una@acme.test')).message;
    expect(await identityOf(byUserId)).toMatchObject({
      sub: 'user:default/una',
    });
    fake.oidc.setEmailVerified(una, true);
  });

  it("refuses a user who is not in the provider's selection, with a clear message", async () => {
    expect(await userEntity('carl')).toBeUndefined();
    const byEmail = (await authResponse('byEmail', 'carl@acme.test')).message;
    expect(byEmail.error?.message).toMatch(
      /^Failed to sign-in, unable to resolve user identity/,
    );

    const byUserId = (await authResponse('byUserId', 'carl@acme.test')).message;
    expect(byUserId.response).toBeUndefined();
    expect(byUserId.error).toEqual({
      name: 'NotAllowedError',
      message:
        `Okta sign-in refused: no User entity in the catalog has the annotation okta.com/user-id: ${carl}. ` +
        'Check that this Okta user is in the selection of catalog.providers.okta ' +
        '(userSearchFilter, groupNames, groupSearchFilter; deprovisioned users are left out) ' +
        'and that a sync has run since they were added.',
    });
  });

  it('refuses a user taken out of the selection once the next sync has removed their entity', async () => {
    const { browser, message } = await authResponse(
      'byUserId',
      'sam@acme.test',
    );
    expect((await identityOf(message)).sub).toBe('user:default/sam');

    org.removeMember(web.id, sam);
    // Until the next sync the catalog still has Sam.
    expect((await refresh(browser, 'byUserId')).status).toBe(200);
    await nextSync(entities => !entities.some(e => e.metadata.name === 'sam'));
    const refused = await refresh(browser, 'byUserId');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({
      name: 'AuthenticationError',
      message: expect.stringMatching(
        new RegExp(
          `^Refresh failed; caused by NotAllowedError: Okta sign-in refused: no User entity in the catalog has the annotation okta.com/user-id: ${sam}\\.`,
        ),
      ),
    });
  });

  it('refuses a deprovisioned user: Okta ends their session and tokens, and the next sync removes their entity', async () => {
    const { browser, message } = await authResponse(
      'byUserId',
      'dana@acme.test',
    );
    expect((await identityOf(message)).sub).toBe('user:default/dana');

    org.deprovisionUser(dana);
    // Okta refuses the refresh token of a deactivated user...
    const refreshed = await refresh(browser, 'byUserId');
    expect(refreshed.status).toBe(401);
    // (Backstage does not pass Okta's invalid_grant on: node-oauth's error is a plain object.)
    expect(refreshed.body.error).toMatchObject({
      name: 'AuthenticationError',
      message:
        "Refresh failed; caused by Error: Failed to refresh access token; caused by Error: unknown error '[object Object]'",
    });
    // ...and a new sign-in stops at Okta's login step, before Backstage.
    const again = await signIn('byUserId', 'dana@acme.test');
    expect(again.done.status).toBe(401);
    expect(again.done.url).toBe(`${fake.url}/login/login.htm`);
    expect(again.done.body).toContain('Unable to sign in');

    // The catalog keeps Dana until the next sync, which leaves her out.
    expect(await userEntity('dana')).toBeDefined();
    const webTeamMembers = (entities: Entity[]) =>
      entities.find(e => e.kind === 'Group' && e.metadata.name === 'web_team')
        ?.spec?.members;
    await nextSync(
      entities =>
        !entities.some(e => e.metadata.name === 'dana') &&
        JSON.stringify(webTeamMembers(entities)) === '["jane"]',
    );
  });
});
