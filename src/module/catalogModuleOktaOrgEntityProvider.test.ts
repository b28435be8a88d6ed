import { afterEach, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(60_000);
import {
  type BackendFeature,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/config';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  demoOrg,
  FakeOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from '../okta/defaultTransformers';
import { addServiceApp, catalogApi } from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from './catalogModuleOktaOrgEntityProvider';
import { oktaOrgEntityProviderTransformsExtensionPoint } from './extensionPoint';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function startFake(org: FakeOrg = demoOrg()): Promise<FakeOkta> {
  const fake = await startFakeOkta({ org });
  cleanups.push(() => fake.close());
  return fake;
}

/** A backend with the catalog, this module and `catalog.providers.okta`. */
function startBackendWithOktaConfig(
  okta: JsonObject | JsonObject[],
  features: BackendFeature[] = [],
) {
  return startTestBackend({
    features: [
      catalogPlugin,
      catalogModuleOktaOrgEntityProvider,
      mockServices.rootConfig.factory({
        data: { catalog: { providers: { okta } } },
      }),
      ...features,
    ],
  });
}

describe('catalogModuleOktaOrgEntityProvider', () => {
  it('starts inside a backend with the catalog plugin and no Okta config', async () => {
    const backend = await startTestBackend({
      features: [catalogPlugin, catalogModuleOktaOrgEntityProvider],
    });
    cleanups.push(() => backend.stop());
    const response = await fetch(
      `http://localhost:${backend.server.port()}/api/catalog/entities/by-query`,
    );
    expect(response.status).toBe(200);
  });

  it('syncs each configured org on its schedule, with transformers set through the extension point per provider id', async () => {
    const us = await startFake();
    const emeaOrg = new FakeOrg({ seed: 21 });
    const emeaSales = emeaOrg.addGroup({ profile: { name: 'EMEA Sales' } });
    for (const login of ['anna@emea.example', 'henrik@emea.example']) {
      emeaOrg.addMember(
        emeaSales.id,
        emeaOrg.addUser({ profile: { login, email: login } }).id,
      );
    }
    emeaOrg.addUser({
      profile: { login: 'nogroup@emea.example', email: 'nogroup@emea.example' },
    });
    const emea = await startFake(emeaOrg);
    const usApp = await addServiceApp(us);
    const emeaApp = await addServiceApp(emea, { alg: 'ES256' });
    const backend = await startBackendWithOktaConfig(
      [
        {
          id: 'us',
          ...usApp.providerConfig,
          schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
        },
        {
          id: 'emea',
          ...emeaApp.providerConfig,
          groupNames: ['EMEA Sales'],
          userNaming: 'email',
          schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
        },
      ],
      [
        createBackendModule({
          pluginId: 'catalog',
          moduleId: 'okta-custom-transforms',
          register(env) {
            env.registerInit({
              deps: { okta: oktaOrgEntityProviderTransformsExtensionPoint },
              async init({ okta }) {
                okta.setUserTransformer({
                  emea: async (user, context) => {
                    const entity = await defaultUserTransformer(user, context);
                    if (entity) {
                      entity.metadata.labels = { region: 'emea' };
                    }
                    return entity;
                  },
                });
                // A function applies to every provider.
                okta.setGroupTransformer(async (group, context) => {
                  const entity = await defaultGroupTransformer(group, context);
                  if (entity) {
                    entity.metadata.labels = { provider: context.providerId };
                  }
                  return entity;
                });
              },
            });
          },
        }),
      ],
    );
    cleanups.push(() => backend.stop());
    const catalog = catalogApi(`http://localhost:${backend.server.port()}`);

    // us: 11 users + 6 groups; emea: EMEA Sales and its 2 users, named by email.
    const entities = await catalog.waitFor(list => list.length === 20);
    const labelled = entities.filter(e => e.metadata.labels?.region === 'emea');
    expect(labelled.map(e => e.kind)).toEqual(['User', 'User']);
    expect(
      entities.filter(e => e.kind === 'User' && !e.metadata.labels),
    ).toHaveLength(11);
    const groupLabels = entities
      .filter(e => e.kind === 'Group')
      .map(e => e.metadata.labels?.provider)
      .sort();
    expect(groupLabels).toEqual(['emea', 'us', 'us', 'us', 'us', 'us', 'us']);
  });

  it('refuses to start with invalid config, naming the provider and key', async () => {
    const starting = startBackendWithOktaConfig({
      id: 'default',
      oktaUrl: 'https://acme.okta.com',
      clientId: 'abc',
      keyId: 'kid',
      privateKey: 'not a key -----BEGIN secret-material',
    });
    const error = await starting.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/default.*privateKey/s);
    expect(error?.message).not.toContain('secret-material');
  });
});
