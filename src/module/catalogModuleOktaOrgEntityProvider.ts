import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { OktaSyncMetrics } from '../metrics/oktaSyncMetrics';
import {
  OktaOrgEntityProvider,
  type OktaTransformerSelection,
} from '../processors/OktaOrgEntityProvider';
import type { OktaGroupTransformer, OktaUserTransformer } from '../okta/types';
import { oktaOrgEntityProviderTransformsExtensionPoint } from './extensionPoint';
import { OktaSyncStateStore } from '../state/OktaSyncStateStore';
import { readOktaProviderConfigs } from '../okta/config';
import { registerOktaPushUpdates } from '../events/registerOktaPushUpdates';
import { createDatabasePushStores } from '../events/databaseStores';
import {
  isOneSink,
  oktaChangeSinkExtensionPoint,
} from '../events/extensionPoint';
import type { OktaChangeSink } from '../events/types';

/**
 * Registers one {@link OktaOrgEntityProvider} per entry of
 * `catalog.providers.okta` with the catalog.
 *
 * @public
 */
export const catalogModuleOktaOrgEntityProvider = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'okta-org-entity-provider',
  register(env) {
    let userTransformer:
      OktaTransformerSelection<OktaUserTransformer> | undefined;
    let groupTransformer:
      OktaTransformerSelection<OktaGroupTransformer> | undefined;
    env.registerExtensionPoint(oktaOrgEntityProviderTransformsExtensionPoint, {
      setUserTransformer(transformer) {
        if (userTransformer) {
          throw new Error('The Okta user transformer may only be set once');
        }
        userTransformer = transformer;
      },
      setGroupTransformer(transformer) {
        if (groupTransformer) {
          throw new Error('The Okta group transformer may only be set once');
        }
        groupTransformer = transformer;
      },
    });

    let changeSink: OktaChangeSink | Record<string, OktaChangeSink> | undefined;
    env.registerExtensionPoint(oktaChangeSinkExtensionPoint, {
      setChangeSink(sink) {
        changeSink = sink;
      },
    });

    env.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        database: coreServices.database,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        lifecycle: coreServices.lifecycle,
        metrics: metricsServiceRef,
      },
      async init({
        catalog,
        config,
        database,
        logger,
        scheduler,
        httpRouter,
        lifecycle,
        metrics,
      }) {
        if (!config.has('catalog.providers.okta')) {
          logger.warn(
            'No catalog.providers.okta config: the Okta org entity provider reads nothing',
          );
          return;
        }
        const syncMetrics = new OktaSyncMetrics(metrics);
        // The catalog's own database, in tables (and a migrations table) of
        // the module's own: see src/state/migrations.ts.
        const knex = await database.getClient();
        const stateStore = await OktaSyncStateStore.create(knex);
        // Event hooks and System Log followers (eventHook, systemLog), see
        // src/events/: their events go into a change queue per provider in
        // the same database, which every run of the provider takes from.
        const providers = readOktaProviderConfigs(config);
        const pushing = providers.filter(p => p.eventHook || p.systemLog);
        const stores =
          pushing.length > 0
            ? await createDatabasePushStores(knex, logger)
            : undefined;
        const queues = new Map(
          stores ? pushing.map(p => [p.id, stores.queueFor(p.id)]) : [],
        );
        const customSinkFor = (providerId: string) =>
          changeSink &&
          (isOneSink(changeSink) ? changeSink : changeSink[providerId]);
        const entityProviders = OktaOrgEntityProvider.fromConfig(config, {
          logger,
          scheduler,
          lifecycle,
          stateStore,
          // A custom sink replaces what the provider does with the queue.
          changeQueue: providerId =>
            customSinkFor(providerId) ? undefined : queues.get(providerId),
          userTransformer,
          groupTransformer,
          onSyncSummary: summary => syncMetrics.record(summary),
        });
        catalog.addEntityProvider(entityProviders);
        const pushUpdates = registerOktaPushUpdates({
          providers: pushing,
          httpRouter,
          scheduler,
          logger,
          queueFor: provider => queues.get(provider.id)!,
          cursorFor: stores && (provider => stores.cursorFor(provider.id)),
          sinkFor: provider => {
            const custom = customSinkFor(provider.id);
            if (custom) return custom;
            const entityProvider = entityProviders.find(
              p =>
                p.getProviderName() === `OktaOrgEntityProvider:${provider.id}`,
            )!;
            // A run of the provider now, on this replica: it takes what the
            // queue holds. While another run applies (the schedule's, or one
            // on another replica) it waits up to 30 s, then the batcher
            // tries again later; that other run may have taken the entries.
            return {
              changed: async () => {
                await entityProvider.read({ maxWaitMs: 30_000, pushed: true });
              },
            };
          },
        });
        lifecycle.addStartupHook(() => pushUpdates.resume());
        lifecycle.addShutdownHook(() => pushUpdates.stop());
      },
    });
  },
});
