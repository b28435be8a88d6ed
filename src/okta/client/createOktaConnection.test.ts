import { demoOrg, FakeOkta, startFakeOkta } from '../../../dev/fakeOkta';
import { addServiceApp } from '../../__testUtils__/oktaCatalogHarness';
import { createOktaConnection } from './createOktaOrgClient';
import type { OktaHttpResponse } from './OktaAuthorizer';
import { OktaAccessTokenSource } from './OktaAccessTokenSource';
import { CapturingLogger } from './oktaClientTestKit';

describe('createOktaConnection', () => {
  let okta: FakeOkta;
  beforeAll(async () => {
    okta = await startFakeOkta({ org: demoOrg() });
  });
  afterAll(() => okta.close());

  it('authorizes API requests with its own token source and shows every token answer to the hook', async () => {
    const app = await addServiceApp(okta, { scopes: ['okta.users.read'] });
    const tokenAnswers: OktaHttpResponse[] = [];
    const connection = createOktaConnection(
      {
        orgUrl: `${okta.url}/`,
        auth: app.auth,
        logger: new CapturingLogger(),
        maxRetries: 0,
      },
      { onTokenResponse: response => tokenAnswers.push(response) },
    );
    // The org URL in its one canonical form, as the client uses it.
    expect(connection.orgUrl).toBe(okta.url);
    expect(connection.executor.authorizer).toBeInstanceOf(
      OktaAccessTokenSource,
    );

    // The executor's source asks for both default scopes: the app has one.
    const refused = await connection.executor
      .send({
        method: 'GET',
        url: `${okta.url}/api/v1/users?limit=1`,
        headers: { Accept: 'application/json' },
        authorize: true,
      })
      .catch((error: Error) => error);
    expect(String(refused)).toContain('invalid_scope');
    expect(tokenAnswers.map(r => r.status)).toEqual([400]);

    // A source for other scopes goes through the same executor and hook.
    const token = await connection
      .tokenSource(['okta.users.read'])
      .accessToken();
    expect(token.type).toBe('Bearer');
    expect(tokenAnswers.map(r => r.status)).toEqual([400, 200]);
    expect(connection.stats.requests.token).toBe(2);
  });

  it('has no access tokens for an SSWS API token', () => {
    const connection = createOktaConnection({
      orgUrl: okta.url,
      auth: { kind: 'apiToken', token: 'some-token' },
      logger: new CapturingLogger(),
    });
    expect(() => connection.tokenSource(['okta.users.read'])).toThrow(
      'An SSWS API token has no access tokens',
    );
  });
});
