/*
 * How the fake renders stored users and groups as Okta API objects: links
 * point at the base URL the client used, as Okta's point at the org domain.
 */
import type { OktaGroup, OktaUser } from './FakeOrg';

/** The app an APP_GROUP was imported from (one fake AD directory). */
export const FAKE_DIRECTORY_APP_ID = '0oa1fakeAdDirectory0';

const LOGO_BASE =
  'https://op1static.oktacdn.com/assets/img/logos/groups/odyssey';

/** A user as Okta's `User` schema, with the `_links` Okta puts on it. */
export function userToApi(
  user: OktaUser,
  base: string,
  single = false,
): Record<string, unknown> {
  const self = `${base}/api/v1/users/${user.id}`;
  const links: Record<string, unknown> = { self: { href: self } };
  if (single) {
    links.type = { href: `${base}/api/v1/meta/types/user/${user.type.id}` };
    links.schema = { href: `${base}/api/v1/meta/schemas/user/${user.type.id}` };
  }
  return { ...user, _links: links };
}

/** A user's JSON in listings, and what it was made from. */
interface CachedUserJson {
  base: string;
  profile: OktaUser['profile'];
  status: OktaUser['status'];
  lastUpdated: string;
  json: string;
}

const listedUserJson = new WeakMap<OktaUser, CachedUserJson>();

/**
 * `JSON.stringify(userToApi(user, base))`, kept per user until the user
 * changes (FakeOrg replaces the profile object and stamps lastUpdated on
 * every change): a page of 1000 users is then a join, not a serialization,
 * and the fake answers as fast as a real org would.
 */
export function listedUserToJson(user: OktaUser, base: string): string {
  const cached = listedUserJson.get(user);
  if (
    cached &&
    cached.base === base &&
    cached.profile === user.profile &&
    cached.status === user.status &&
    cached.lastUpdated === user.lastUpdated
  ) {
    return cached.json;
  }
  const json = JSON.stringify(userToApi(user, base));
  listedUserJson.set(user, {
    base,
    profile: user.profile,
    status: user.status,
    lastUpdated: user.lastUpdated,
    json,
  });
  return json;
}

/** A group as Okta's `Group` schema, optionally with `_embedded.stats`. */
export function groupToApi(
  group: OktaGroup,
  base: string,
  usersCount?: number,
): Record<string, unknown> {
  const links: Record<string, unknown> = {
    logo: [
      {
        name: 'medium',
        href: `${LOGO_BASE}/okta-medium.png`,
        type: 'image/png',
      },
      { name: 'large', href: `${LOGO_BASE}/okta-large.png`, type: 'image/png' },
    ],
    users: { href: `${base}/api/v1/groups/${group.id}/users` },
    apps: { href: `${base}/api/v1/groups/${group.id}/apps` },
  };
  if (group.type === 'APP_GROUP') {
    links.source = { href: `${base}/api/v1/apps/${FAKE_DIRECTORY_APP_ID}` };
  }
  const result: Record<string, unknown> = { ...group, _links: links };
  if (usersCount !== undefined) {
    result._embedded = {
      stats: {
        usersCount,
        appsCount: 0,
        groupPushMappingsCount: 0,
        hasAdminPrivilege: false,
      },
    };
  }
  return result;
}

/** Okta's error body (the spec's `Error`/`ModelError` schema). */
export function errorBody(
  errorCode: string,
  errorSummary: string,
  errorId: string,
  causes: string[] = [],
): Record<string, unknown> {
  return {
    errorCode,
    errorSummary,
    errorLink: errorCode,
    errorId,
    errorCauses: causes.map(summary => ({ errorSummary: summary })),
  };
}
