/**
 * A Backstage catalog module that ingests Okta users and groups as User and
 * Group entities.
 *
 * @packageDocumentation
 */
export { catalogModuleOktaOrgEntityProvider as default } from './module/catalogModuleOktaOrgEntityProvider';
export {
  oktaOrgEntityProviderTransformsExtensionPoint,
  type OktaOrgEntityProviderTransformsExtensionPoint,
} from './module/extensionPoint';
export {
  OktaOrgEntityProvider,
  type OktaOrgEntityProviderOptions,
  type OktaSyncSummaryListener,
  type OktaTransformerSelection,
} from './processors/OktaOrgEntityProvider';
export {
  OktaSyncError,
  type OktaEntityCounts,
  type OktaSyncEndpointRequests,
  type OktaSyncFailureReason,
  type OktaSyncOutcome,
  type OktaSyncRequests,
  type OktaSyncReadReport,
  type OktaSyncSummary,
} from './sync/syncSummary';
export type {
  OktaDeletionGuardConfig,
  OktaDeletionGuardReason,
  OktaDeletionGuardVerdict,
} from './sync/deletionGuard';
export {
  InMemoryOktaAppliedCountsStore,
  type OktaAppliedCountsStore,
} from './sync/appliedCounts';
export type {
  OktaGroupFilter,
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaTransformerContext,
  OktaUserNaming,
  OktaUserTransformer,
} from './okta/types';
export type {
  OktaEventHookConfig,
  OktaPushUpdatesConfig,
  OktaSystemLogConfig,
} from './events/config';
export type {
  OktaChangeQueue,
  OktaChangedIds,
  OktaQueuedChanges,
} from './events/types';
export type {
  OktaAuthOptions,
  OktaClientStats,
  OktaGroup,
  OktaOrgClient,
  OktaUser,
} from './okta/client/types';
export { OktaRequestError } from './okta/client/types';
export {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './okta/defaultTransformers';
export * from './okta/constants';
export {
  oktaOrgSignInResolvers,
  oktaUserIdMatchingUserEntityAnnotation,
} from './auth/oktaUserIdSignInResolver';
export { authModuleOktaProviderWithUserIdSignIn } from './auth/authModuleOktaProviderWithUserIdSignIn';
export {
  OktaSyncStateStore,
  OktaProviderSyncState,
  type OktaLastApplied,
  type OktaStoredGroupMembers,
  type OktaSyncProgress,
} from './state/OktaSyncStateStore';
