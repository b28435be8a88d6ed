/*
 * The default mapping from Okta users and groups to User and Group entities.
 * Okta profile strings are admin- or user-edited and arrive unchecked: they
 * may be null, huge, or hold control characters, so every one is sanitised.
 */
import type { GroupEntity, UserEntity } from '@backstage/catalog-model';
import type { OktaGroup, OktaUser } from './client/types';
import { OKTA_EMAIL_ANNOTATION, OKTA_LOGIN_ANNOTATION } from './constants';
import {
  entityNameOrOktaId,
  oktaIdAnnotation,
  oktaIdOf,
  oktaLocationAnnotations,
} from './oktaIdentity';
import {
  sanitizeProfileIdentifier,
  sanitizeProfileText,
} from './profileValues';
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
  const id = oktaIdOf(user);
  if (!id) {
    return undefined;
  }
  const email = sanitizeProfileIdentifier(user.profile?.email);
  const login = sanitizeProfileIdentifier(user.profile?.login);
  const name = entityNameOrOktaId(
    userNameCandidates({ email, login }, context),
    id,
  );
  if (!name) {
    return undefined;
  }

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
        ...oktaLocationAnnotations(context, 'user', id),
        [oktaIdAnnotation('user')]: id,
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
  const id = oktaIdOf(group);
  const displayName = sanitizeProfileText(
    group.profile?.name,
    MAX_DISPLAY_NAME_LENGTH,
  );
  if (!id || !displayName) {
    return undefined;
  }
  const name = entityNameOrOktaId([displayName], id);
  if (!name) {
    return undefined;
  }
  const description = sanitizeProfileText(
    group.profile?.description,
    MAX_DESCRIPTION_LENGTH,
  );

  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: {
      name,
      ...(description && { description }),
      annotations: {
        ...oktaLocationAnnotations(context, 'group', id),
        [oktaIdAnnotation('group')]: id,
      },
    },
    spec: {
      type: context.groupType,
      profile: { displayName },
      children: [],
    },
  };
};

/** The names `context.userNaming` asks for, in order of preference. */
function userNameCandidates(
  user: { email?: string; login?: string },
  context: OktaTransformerContext,
): Array<string | undefined> {
  const loginIsEmail = user.login?.includes('@') ?? false;
  switch (context.userNaming) {
    case 'email':
      return [user.email, user.login];
    case 'login':
      return [user.login];
    case 'emailLocalPart':
    default:
      return [
        user.email && localPart(user.email),
        loginIsEmail ? localPart(user.login!) : user.login,
      ];
  }
}

/** The part before the last `@` (a quoted local part may itself hold `@`). */
function localPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at > 0 ? email.slice(0, at) : email;
}
