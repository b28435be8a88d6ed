/*
 * Which Okta endpoint a request goes to: the key the client counts requests
 * by, the rate-limit bucket Okta charges it to, and the path template used in
 * logs and errors (ids and query strings say nothing useful and can be long).
 */

/** Endpoint keys of {@link OktaClientStats.requests}. */
export type OktaEndpointKey =
  'token' | 'users' | 'groups' | 'groupMembers' | 'userGroups' | 'other';

/**
 * Okta's rate-limit buckets for the endpoints this client calls: the token
 * endpoint; `/api/v1/users` (with `/api/v1/users/{id}/groups`);
 * `/api/v1/groups`, which covers every `/api/v1/groups/*` path except exactly
 * `/api/v1/groups/{id}` (so group member listings share it with the group
 * listing); `/api/v1/groups/{id}`; and everything else under `/api/v1`.
 *
 * Source: Okta's path-to-bucket mapping, generated from its service code and
 * published in okta/terraform-provider-okta
 * `okta/internal/apimutex/rate_limit_lines.go` ("/api/v1/groups/ID/users GET
 * /api/v1/groups"), and Okta's rate-limit reference ("/api/v1/groups except
 * /api/v1/groups/{id}").
 */
export type OktaRateLimitBucket =
  'token' | 'users' | 'groups' | 'groupById' | 'userById' | 'other';

/** Where one request goes. */
export interface OktaEndpoint {
  key: OktaEndpointKey;
  bucket: OktaRateLimitBucket;
  /** e.g. `GET /api/v1/groups/{id}/users`. */
  template: string;
}

const ROUTES: Array<{
  pattern: RegExp;
  key: OktaEndpointKey;
  bucket: OktaRateLimitBucket;
  path: string;
}> = [
  {
    pattern: /^\/oauth2\/v1\/token$/,
    key: 'token',
    bucket: 'token',
    path: '/oauth2/v1/token',
  },
  {
    pattern: /^\/api\/v1\/users$/,
    key: 'users',
    bucket: 'users',
    path: '/api/v1/users',
  },
  {
    pattern: /^\/api\/v1\/groups$/,
    key: 'groups',
    bucket: 'groups',
    path: '/api/v1/groups',
  },
  {
    pattern: /^\/api\/v1\/groups\/[^/]+$/,
    key: 'other',
    bucket: 'groupById',
    path: '/api/v1/groups/{id}',
  },
  {
    pattern: /^\/api\/v1\/groups\/[^/]+\/users$/,
    key: 'groupMembers',
    bucket: 'groups',
    path: '/api/v1/groups/{id}/users',
  },
  {
    pattern: /^\/api\/v1\/users\/[^/]+\/groups$/,
    key: 'userGroups',
    bucket: 'users',
    path: '/api/v1/users/{id}/groups',
  },
  {
    pattern: /^\/api\/v1\/users\/[^/]+$/,
    key: 'other',
    bucket: 'userById',
    path: '/api/v1/users/{id}',
  },
];

/** Classifies a request by method and URL (absolute, or a path). */
export function oktaEndpointOf(method: string, url: string): OktaEndpoint {
  const pathname = new URL(url, 'http://okta.invalid').pathname.replace(
    /\/+$/,
    '',
  );
  const verb = method.toUpperCase();
  for (const route of ROUTES) {
    if (route.pattern.test(pathname)) {
      return {
        key: route.key,
        bucket: route.bucket,
        template: `${verb} ${route.path}`,
      };
    }
  }
  // Any other /api/v1/groups/* path (e.g. a group's apps or roles).
  const bucket = pathname.startsWith('/api/v1/groups/') ? 'groups' : 'other';
  return { key: 'other', bucket, template: `${verb} ${pathname || '/'}` };
}
