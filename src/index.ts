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
  type OktaTransformerSelection,
} from './processors/OktaOrgEntityProvider';
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
  OktaAuthOptions,
  OktaClientStats,
  OktaGroup,
  OktaOrgClient,
  OktaUser,
} from './okta/client/types';
export {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './okta/defaultTransformers';
export * from './okta/constants';
