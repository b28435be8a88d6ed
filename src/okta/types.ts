/*
 * Shapes shared by the config reader, the org reader, the entity mapping and
 * the provider. The HTTP side's contract is in client/types.ts.
 */
import type { SchedulerServiceTaskScheduleDefinition } from '@backstage/backend-plugin-api';
import type { GroupEntity, UserEntity } from '@backstage/catalog-model';
import type { OktaDeletionGuardConfig } from '../sync/deletionGuard';
import type { OktaAuthOptions, OktaGroup, OktaUser } from './client/types';
import type { OktaPushUpdatesConfig } from '../events/config';

/**
 * How a User entity's `metadata.name` is derived from the Okta profile.
 *
 * @public
 */
export type OktaUserNaming =
  /** The local part of `profile.email` (else of `profile.login`): `jane.doe`. Default. */
  | 'emailLocalPart'
  /** The whole email (else login), normalised: `jane.doe_example.com`. */
  | 'email'
  /** The whole login, normalised. */
  | 'login';

/**
 * Which groups a provider reads.
 *
 * @public
 */
export type OktaGroupFilter =
  | { kind: 'all' }
  /** Groups whose `profile.name` is one of these (exact, case-sensitive as Okta). */
  | { kind: 'names'; names: string[] }
  /** Groups matching an Okta search expression. */
  | { kind: 'search'; search: string };

/**
 * One provider's configuration, read and validated from `catalog.providers.okta`.
 *
 * @public
 */
export interface OktaProviderConfig extends OktaPushUpdatesConfig {
  /** Unique per backend; the provider name is `OktaOrgEntityProvider:<id>`. */
  id: string;
  /** `oktaUrl` without a trailing slash. */
  orgUrl: string;
  auth: OktaAuthOptions;
  schedule: SchedulerServiceTaskScheduleDefinition;
  /** Okta search expression for GET /api/v1/users. */
  userSearchFilter?: string;
  groupFilter: OktaGroupFilter;
  /** `spec.type` of Group entities. Default `team`. */
  groupType: string;
  userNaming: OktaUserNaming;
  /** Group profile attribute naming the parent group (by name or id). */
  parentGroupAttribute?: string;
  /**
   * Whether the backend checks the Okta set-up once at start-up, logging what
   * is wrong as warnings. Default true.
   */
  checkSetupOnStart?: boolean;
  /**
   * When a sync is refused for removing too much (`deletionGuard`); absent
   * means the defaults (share 0.25, not allowed).
   */
  deletionGuard?: OktaDeletionGuardConfig;
  /**
   * With state kept in the database: how often the provider reads the whole
   * selection again instead of only what changed (ms). Default one day.
   */
  fullReadEveryMs?: number;
  /** Client tuning, passed to the Okta client (undefined means its default). */
  requests: {
    maxConcurrency?: number;
    requestTimeoutMs?: number;
    maxRetries?: number;
  };
}

/**
 * What a transformer knows of the run it is called in.
 *
 * @public
 */
export interface OktaTransformerContext {
  providerId: string;
  orgUrl: string;
  userNaming: OktaUserNaming;
  groupType: string;
}

/**
 * Turns an Okta user into a User entity, or `undefined` to leave the user out.
 * `spec.memberOf` is filled in afterwards from Okta's memberships; names are
 * normalised and de-duplicated afterwards.
 *
 * @public
 */
export type OktaUserTransformer = (
  user: OktaUser,
  context: OktaTransformerContext,
) => UserEntity | undefined | Promise<UserEntity | undefined>;

/**
 * Turns an Okta group into a Group entity, or `undefined` to leave it out.
 * `spec.members`, `spec.parent` and `spec.children` are filled in afterwards.
 *
 * @public
 */
export type OktaGroupTransformer = (
  group: OktaGroup,
  context: OktaTransformerContext,
) => GroupEntity | undefined | Promise<GroupEntity | undefined>;

/** What one run read from Okta: the selection, complete. */
export interface OktaOrgSnapshot {
  users: OktaUser[];
  groups: OktaGroup[];
  /** Okta group id -> Okta user ids of its members (only users in `users`). */
  membersByGroupId: Map<string, string[]>;
}
