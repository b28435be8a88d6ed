/*
 * The dev backend: a real Backstage backend with the catalog and this module,
 * SQLite in memory, on http://localhost:7007 (BACKEND_PORT to change it).
 *
 *   npm start
 *
 * Without OKTA_* environment variables it starts the embedded fake Okta org
 * (dev/fakeOkta) with the demo company on a free loopback port and reads it
 * every 15 seconds. To read a real org instead:
 *
 *   OKTA_ORG_URL=https://example.okta.com OKTA_CLIENT_ID=0oa... \
 *   OKTA_KEY_ID=... OKTA_PRIVATE_KEY_FILE=./okta-key.pem npm start
 *
 * (OKTA_PRIVATE_KEY holds the PEM or JWK itself; OKTA_API_TOKEN instead of the
 * three key variables uses an SSWS token.) The service app needs the
 * okta.users.read and okta.groups.read scopes and a read-only admin role.
 *
 * The Okta provider config is a config source under the app-config files, so
 * a catalog.providers.okta in a file passed with `npm start -- --config
 * my.yaml` replaces it.
 */
/* eslint-disable no-console */
import { createBackend } from '@backstage/backend-defaults';
import {
  coreServices,
  createServiceFactory,
  type RootConfigService,
} from '@backstage/backend-plugin-api';
import { ConfigSources, StaticConfigSource } from '@backstage/config-loader';
import { realOktaProviderFromEnv, startDemoOkta } from './devOktaProvider';
import type { DevOktaProviderConfig } from './devOktaProvider';

/**
 * The root config: `defaults` first, then what Backstage loads by default
 * (the --config files, APP_CONFIG_* variables), which win.
 */
function rootConfigWithDefaults(
  defaults: { catalog: { providers: { okta: DevOktaProviderConfig[] } } },
  onLoaded: (config: RootConfigService) => void,
) {
  return createServiceFactory({
    service: coreServices.rootConfig,
    deps: {},
    async factory() {
      const source = ConfigSources.merge([
        StaticConfigSource.create({ data: defaults, context: 'dev/index.ts' }),
        ConfigSources.default({}),
      ]);
      const config = await ConfigSources.toConfig(source);
      onLoaded(config);
      return config;
    },
  });
}

async function main() {
  const real = realOktaProviderFromEnv(process.env);
  const demo = real ? undefined : await startDemoOkta();
  const provider = real ?? demo!.provider;

  let rootConfig: RootConfigService | undefined;
  const backend = createBackend();
  backend.add(
    rootConfigWithDefaults(
      { catalog: { providers: { okta: [provider] } } },
      config => {
        rootConfig = config;
      },
    ),
  );
  backend.add(import('@backstage/plugin-catalog-backend'));
  backend.add(import('../src'));
  await backend.start();

  const baseUrl = rootConfig!.getString('backend.baseUrl');
  const entities = `${baseUrl}/api/catalog/entities`;
  console.log(
    [
      '',
      demo
        ? `Okta dev backend: reading the demo org in the fake Okta at ${demo.okta.url} every 15 s (${demo.expected.users} users, ${demo.expected.groups} groups expected).`
        : `Okta dev backend: reading ${provider.oktaUrl} (provider id "${provider.id}").`,
      'Entities appear a few seconds after each sync:',
      `  Users:   ${entities}?filter=kind=user`,
      `  Groups:  ${entities}?filter=kind=group`,
      `  Compact: ${entities}/by-query?filter=kind=user&fields=metadata.name,spec.profile.displayName,spec.memberOf`,
      '',
    ].join('\n'),
  );
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
