import { OKTA_FIXES, oktaFixFor, wwwAuthenticateError } from './oktaFixes';

describe('wwwAuthenticateError', () => {
  it("reads error and error_description from Okta's DPoP challenge", () => {
    // As a real org answered (okta/okta-sdk-nodejs issue 453).
    expect(
      wwwAuthenticateError(
        'DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", realm="https://x.okta.com", scope="okta.groups.read", error="invalid_dpop_proof", error_description="\'htu\' claim in the DPoP proof JWT is invalid.", resource="/api/v1/groups/00g1/users"',
      ),
    ).toEqual({
      error: 'invalid_dpop_proof',
      description: "'htu' claim in the DPoP proof JWT is invalid.",
    });
    expect(wwwAuthenticateError('Bearer error="invalid_token"')).toEqual({
      error: 'invalid_token',
    });
    expect(wwwAuthenticateError('DPoP error_description="only this"')).toEqual({
      description: 'only this',
    });
    expect(wwwAuthenticateError(null)).toEqual({});
  });
});

describe('oktaFixFor', () => {
  it('names one fix per cause, for the client and the set-up check alike', () => {
    const app = { auth: 'privateKey' as const };
    expect(
      oktaFixFor(
        {
          status: 401,
          errorCode: 'invalid_client',
          description: 'The client_assertion JWT kid is invalid.',
        },
        app,
      ),
    ).toBe(OKTA_FIXES.clientAssertionKid);
    expect(
      oktaFixFor({ status: 400, errorCode: 'invalid_dpop_proof' }, app),
    ).toBe(OKTA_FIXES.dpopProof);
    // E0000005 is a 403, but not a missing admin role.
    expect(
      oktaFixFor({ status: 403, errorCode: 'E0000005' }, { auth: 'apiToken' }),
    ).toBe(OKTA_FIXES.invalidSession);
    expect(
      oktaFixFor(
        { status: 403, errorCode: 'E0000006' },
        { auth: 'privateKey', resource: 'Groups' },
      ),
    ).toBe(OKTA_FIXES.adminRole('Groups'));
    expect(
      oktaFixFor(
        { status: 403, errorCode: 'E0000006' },
        { auth: 'apiToken', resource: 'Users' },
      ),
    ).toBe(OKTA_FIXES.apiTokenAdminRole('users'));
    expect(
      oktaFixFor({ status: 401, errorCode: 'E0000011' }, { auth: 'apiToken' }),
    ).toBe(OKTA_FIXES.apiToken);
    expect(
      oktaFixFor({ status: 404, errorCode: 'E0000007' }, app),
    ).toBeUndefined();
    expect(oktaFixFor({ status: 503 }, app)).toBeUndefined();
  });
});
