import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { OktaTransformerSelection } from '../processors/OktaOrgEntityProvider';
import type { OktaGroupTransformer, OktaUserTransformer } from '../okta/types';

/**
 * Lets another backend module replace how Okta users and groups become
 * entities, for every Okta provider or per provider id.
 *
 * @example
 * ```ts
 * env.registerInit({
 *   deps: { okta: oktaOrgEntityProviderTransformsExtensionPoint },
 *   async init({ okta }) {
 *     okta.setUserTransformer({ emea: myEmeaUserTransformer });
 *   },
 * });
 * ```
 *
 * @public
 */
export interface OktaOrgEntityProviderTransformsExtensionPoint {
  /** A transformer for every provider, or a map from provider id to transformer. */
  setUserTransformer(
    transformer: OktaTransformerSelection<OktaUserTransformer>,
  ): void;
  /** A transformer for every provider, or a map from provider id to transformer. */
  setGroupTransformer(
    transformer: OktaTransformerSelection<OktaGroupTransformer>,
  ): void;
}

/**
 * The extension point behind {@link OktaOrgEntityProviderTransformsExtensionPoint}.
 *
 * @public
 */
export const oktaOrgEntityProviderTransformsExtensionPoint =
  createExtensionPoint<OktaOrgEntityProviderTransformsExtensionPoint>({
    id: 'catalog.oktaOrgEntityProvider.transforms',
  });
