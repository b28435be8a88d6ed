import { demoOrg, FakeOkta, startFakeOkta } from '../../../dev/fakeOkta';
import { addServiceApp } from '../../__testUtils__/oktaCatalogHarness';
import {
  createOktaConnection,
  createOktaOrgClient,
  oktaConnectionOf,
} from './createOktaOrgClient';
import { OktaAccessTokenSource } from './OktaAccessTokenSource';
import { CapturingLogger } from './oktaClientTestKit';

describe('createOktaConnection', () => {
  let okta: FakeOkta;
  beforeAll(async () => {
    okta = await startFakeOkta({ org: demoOrg() });
  });
  afterAll(() => okta.close());

  it("authorizes API requests with its own token source and keeps Okta's words for a refused token", async () => {
    const app = await addServiceApp(okta, { scopes: ['okta.users.read'] });
    const connection = createOktaConnection({
      orgUrl: `${okta.url}/`,
      auth: app.auth,
      logger: new CapturingLogger(),
      maxRetries: 0,
    });
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
    const own = connection.executor.authorizer as OktaAccessTokenSource;
    expect(own.lastRefusal).toEqual({
      status: 400,
      errorCode: 'invalid_scope',
      description: expect.any(String),
    });

    // A source for other scopes goes through the same executor.
    const other = connection.tokenSource(['okta.users.read']);
    const token = await other.accessToken();
    expect(token.type).toBe('Bearer');
    expect(other.lastRefusal).toBeUndefined();
    expect(connection.stats.requests.token).toBe(2);
  });

  it("is reachable from the client made on it, and only from that client's", async () => {
    const options = {
      orgUrl: okta.url,
      auth: { kind: 'apiToken' as const, token: 'some-token' },
      logger: new CapturingLogger(),
    };
    const client = createOktaOrgClient(options);
    const connection = oktaConnectionOf(client)!;
    expect(connection.orgUrl).toBe(okta.url);
    // Its stats are the client's: a request through it counts there.
    await connection.executor.send({
      method: 'GET',
      url: `${okta.url}/api/v1/users?limit=1`,
      authorize: true,
    });
    expect(client.stats().requests.users).toBe(1);
    expect(oktaConnectionOf(createOktaOrgClient(options))).not.toBe(connection);
    expect(oktaConnectionOf({ ...client })).toBeUndefined();
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
