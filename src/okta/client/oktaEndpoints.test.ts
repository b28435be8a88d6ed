import { oktaEndpointOf } from './oktaEndpoints';

describe('oktaEndpointOf', () => {
  it.each([
    [
      'POST',
      'https://x.okta.com/oauth2/v1/token',
      'token',
      'token',
      'POST /oauth2/v1/token',
    ],
    [
      'GET',
      'https://x.okta.com/api/v1/users?limit=200&after=00u1',
      'users',
      'users',
      'GET /api/v1/users',
    ],
    [
      'get',
      '/api/v1/groups?expand=stats',
      'groups',
      'groups',
      'GET /api/v1/groups',
    ],
    [
      'GET',
      '/api/v1/groups/00g1',
      'other',
      'groupById',
      'GET /api/v1/groups/{id}',
    ],
    [
      'GET',
      '/api/v1/groups/00g1/users?limit=1000',
      'groupMembers',
      'groups',
      'GET /api/v1/groups/{id}/users',
    ],
    [
      'GET',
      '/api/v1/groups/00g1/roles',
      'other',
      'groups',
      'GET /api/v1/groups/00g1/roles',
    ],
    [
      'GET',
      '/api/v1/users/00u1/groups',
      'userGroups',
      'users',
      'GET /api/v1/users/{id}/groups',
    ],
    [
      'GET',
      '/api/v1/users/00u1',
      'other',
      'userById',
      'GET /api/v1/users/{id}',
    ],
    ['POST', '/api/v1/users', 'users', 'users', 'POST /api/v1/users'],
    ['GET', '/api/v1/apps', 'other', 'other', 'GET /api/v1/apps'],
  ])('%s %s', (method, url, key, bucket, template) => {
    expect(oktaEndpointOf(method, url)).toEqual({ key, bucket, template });
  });
});
