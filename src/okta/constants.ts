/*
 * Annotation names the module writes on User and Group entities, and the
 * format of their location annotations.
 */
import { normaliseOktaOrgUrl } from './orgUrl';

/**
 * The Okta id of the user an entity was made from (`00u...`).
 *
 * @public
 */
export const OKTA_USER_ID_ANNOTATION = 'okta.com/user-id';

/**
 * The Okta id of the group an entity was made from (`00g...`).
 *
 * @public
 */
export const OKTA_GROUP_ID_ANNOTATION = 'okta.com/group-id';

/**
 * The user's `profile.email` in Okta. Backstage's Okta sign-in resolver
 * `emailMatchingUserEntityAnnotation` finds users by this annotation, so it
 * is written verbatim (trimmed, never truncated).
 *
 * @public
 */
export const OKTA_EMAIL_ANNOTATION = 'okta.com/email';

/**
 * The user's `profile.login` in Okta (the username they sign in with).
 *
 * @public
 */
export const OKTA_LOGIN_ANNOTATION = 'okta.com/login';

/**
 * The location type of every entity this module emits, the `okta` in
 * `backstage.io/managed-by-location: okta:...`.
 *
 * @public
 */
export const OKTA_LOCATION_TYPE = 'okta';

/** The last org URL normalised (called once per entity with the same URL). */
let lastOrgUrl: { raw: string; base: string } | undefined;
function orgBase(orgUrl: string): string {
  if (lastOrgUrl?.raw !== orgUrl) {
    lastOrgUrl = {
      raw: orgUrl,
      base: normaliseOktaOrgUrl(orgUrl, { allowInsecureHttp: true }).url,
    };
  }
  return lastOrgUrl.base;
}

/**
 * The value of `backstage.io/managed-by-location` and
 * `backstage.io/managed-by-origin-location` for an Okta user or group:
 * `okta:<providerId>:<orgUrl>/api/v1/users/<id>` (or `/groups/<id>`).
 *
 * @remarks
 *
 * Why this shape:
 * - The type is `okta`, not `url`: a `url` location would invite the catalog
 *   UI ("View source", "Unregister location") and URL readers to fetch it,
 *   and the Okta API needs credentials the catalog does not have.
 * - The provider id comes first so that an operator can tell which configured
 *   provider owns an entity (as msgraph's `msgraph:<providerId>/<id>` does).
 * - The rest is the exact management API address of the object, so the value
 *   is unambiguous across orgs and can be pasted into an API call when
 *   debugging. Okta ids are URL-safe; they are encoded anyway.
 *
 * `parseLocationRef` splits at the first colon, so this reads as type `okta`
 * and target `<providerId>:<orgUrl>/api/v1/...`.
 *
 * @public
 */
export function oktaLocationRef(
  providerId: string,
  orgUrl: string,
  object: { kind: 'user' | 'group'; id: string },
): string {
  const collection = object.kind === 'user' ? 'users' : 'groups';
  const base = orgBase(orgUrl);
  return `${OKTA_LOCATION_TYPE}:${providerId}:${base}/api/v1/${collection}/${encodeURIComponent(
    object.id,
  )}`;
}
