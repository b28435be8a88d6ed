/*
 * The default mapping from Okta users and groups to User and Group entities.
 * Okta profile strings are admin- or user-edited and arrive unchecked: they
 * may be null, huge, or hold control characters, so every one is sanitised.
 */
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  type GroupEntity,
  type UserEntity,
} from '@backstage/catalog-model';
import type { OktaGroup, OktaUser } from './client/types';
import {
  OKTA_EMAIL_ANNOTATION,
  OKTA_GROUP_ID_ANNOTATION,
  OKTA_LOGIN_ANNOTATION,
  OKTA_USER_ID_ANNOTATION,
  oktaLocationRef,
} from './constants';
import { normalizeEntityName } from './entityNames';
import type {
  OktaGroupTransformer,
  OktaTransformerContext,
  OktaUserTransformer,
} from './types';

/** Display names and titles: generous, but bounded. */
const MAX_DISPLAY_NAME_LENGTH = 256;
/** `metadata.description` is meant to be a line or two. */
const MAX_DESCRIPTION_LENGTH = 1024;
/**
 * Identifiers (ids, logins, emails) are never cut, as a cut value would
 * silently point at someone else; past this length they are left out.
 * Okta itself limits logins and emails to 100 characters.
 */
const MAX_IDENTIFIER_LENGTH = 320;

/**
 * The default {@link OktaUserTransformer}.
 *
 * The entity name follows `context.userNaming`: with `emailLocalPart` it is
 * the local part of `profile.email`, else of `profile.login` when that is an
 * email, else the login itself; with `email` the whole email (else login);
 * with `login` the login. When none of those leaves a usable name (say, a
 * login written only in CJK characters) the Okta id is used, so that the
 * user can still be signed in by email. Users without an id are skipped.
 *
 * @public
 */
export const defaultUserTransformer: OktaUserTransformer = (
  user: OktaUser,
  context: OktaTransformerContext,
): UserEntity | undefined => {
  const id = sanitizeProfileIdentifier(user.id);
  if (!id) {
    return undefined;
  }
  const email = sanitizeProfileIdentifier(user.profile?.email);
  const login = sanitizeProfileIdentifier(user.profile?.login);
  const name = userEntityName({ email, login, id }, context);
  if (!name) {
    return undefined;
  }
  const location = oktaLocationRef(context.providerId, context.orgUrl, {
    kind: 'user',
    id,
  });

  const displayName =
    sanitizeProfileText(user.profile?.displayName, MAX_DISPLAY_NAME_LENGTH) ??
    sanitizeProfileText(
      [user.profile?.firstName, user.profile?.lastName]
        .filter(part => typeof part === 'string')
        .join(' '),
      MAX_DISPLAY_NAME_LENGTH,
    );

  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: {
      name,
      annotations: {
        [ANNOTATION_LOCATION]: location,
        [ANNOTATION_ORIGIN_LOCATION]: location,
        [OKTA_USER_ID_ANNOTATION]: id,
        ...(email && { [OKTA_EMAIL_ANNOTATION]: email }),
        ...(login && { [OKTA_LOGIN_ANNOTATION]: login }),
      },
    },
    spec: {
      profile: {
        ...(displayName && { displayName }),
        ...(email && { email }),
      },
      memberOf: [],
    },
  };
};

/**
 * The default {@link OktaGroupTransformer}.
 *
 * The entity name is `profile.name`, normalised (the Okta id when the name
 * has no usable characters); `spec.type` is `context.groupType`;
 * `profile.description` becomes the description. Groups without an id or a
 * name are skipped.
 *
 * @public
 */
export const defaultGroupTransformer: OktaGroupTransformer = (
  group: OktaGroup,
  context: OktaTransformerContext,
): GroupEntity | undefined => {
  const id = sanitizeProfileIdentifier(group.id);
  const displayName = sanitizeProfileText(group.profile?.name, MAX_DISPLAY_NAME_LENGTH);
  if (!id || !displayName) {
    return undefined;
  }
  const name =
    normalizeEntityName(displayName) ?? normalizeEntityName(id);
  if (!name) {
    return undefined;
  }
  const description = sanitizeProfileText(group.profile?.description, MAX_DESCRIPTION_LENGTH);
  const location = oktaLocationRef(context.providerId, context.orgUrl, {
    kind: 'group',
    id,
  });

  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      ...(description && { description }),
      annotations: {
        [ANNOTATION_LOCATION]: location,
        [ANNOTATION_ORIGIN_LOCATION]: location,
        [OKTA_GROUP_ID_ANNOTATION]: id,
      },
    },
    spec: {
      type: context.groupType,
      profile: { displayName },
      children: [],
    },
  };
};

function userEntityName(
  user: { email?: string; login?: string; id: string },
  context: OktaTransformerContext,
): string | undefined {
  const loginIsEmail = user.login?.includes('@') ?? false;
  let candidates: Array<string | undefined>;
  switch (context.userNaming) {
    case 'email':
      candidates = [user.email, user.login];
      break;
    case 'login':
      candidates = [user.login];
      break;
    case 'emailLocalPart':
    default:
      candidates = [
        user.email && localPart(user.email),
        loginIsEmail ? localPart(user.login!) : user.login,
      ];
      break;
  }
  for (const candidate of candidates) {
    const name = normalizeEntityName(candidate);
    if (name) {
      return name;
    }
  }
  return normalizeEntityName(user.id);
}

/** The part before the last `@` (a quoted local part may itself hold `@`). */
function localPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at > 0 ? email.slice(0, at) : email;
}

// C0 and C1 controls (incl. DEL), and the bidirectional overrides and
// isolates that can make text display differently from what it holds.
const CONTROL_CHARACTERS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;
const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * A profile string as display text: controls become spaces, whitespace
 * collapses, and the result is cut (on a code point) with an ellipsis.
 * `undefined` for non-strings and blank strings.
 */
export function sanitizeProfileText(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const clean = value
    .replace(LONE_SURROGATES, '\ufffd')
    .replace(CONTROL_CHARACTERS, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length === 0) {
    return undefined;
  }
  const codePoints = Array.from(clean);
  if (codePoints.length <= maxLength) {
    return clean;
  }
  return `${codePoints
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}…`;
}

/**
 * A profile string used as an identifier (id, login, email): trimmed, and
 * `undefined` when blank, too long, or holding characters no identifier has.
 */
export function sanitizeProfileIdentifier(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  // Stray controls at the ends (a pasted NUL or newline) go like whitespace.
  const trimmed = value.replace(
    /^[\s\p{Cc}]+|[\s\p{Cc}]+$/gu,
    '',
  );
  if (
    trimmed.length === 0 ||
    trimmed.length > MAX_IDENTIFIER_LENGTH ||
    /[\p{Cc}\u202a-\u202e\u2066-\u2069\s]/u.test(trimmed) ||
    LONE_SURROGATE.test(trimmed)
  ) {
    return undefined;
  }
  return trimmed;
}
