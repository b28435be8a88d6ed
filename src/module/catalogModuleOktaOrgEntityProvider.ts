import { createBackendModule } from '@backstage/backend-plugin-api';

/**
 * Registers the Okta org entity provider with the catalog.
 *
 * @public
 */
export const catalogModuleOktaOrgEntityProvider = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'okta-org-entity-provider',
  register(env) {
    env.registerInit({
      deps: {},
      async init() {},
    });
  },
});
