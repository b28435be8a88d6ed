/*
 * Reading and validating `catalog.providers.okta`. Everything an admin can get
 * wrong is caught here, at start-up, with a message that names the provider and
 * the key to fix, and never a secret.
 *
 * This file reads the list of providers and each provider's identity (`id`,
 * `oktaUrl`) and puts together the parts read by the files per concern:
 * credentials (authConfig), schedule, requests, the selection of users and
 * groups, the mapping (group type, naming, hierarchy) and the deletion guard.
 */
import type { Config } from '@backstage/config';
import { readAuth } from './authConfig';
import {
  ProviderConfigErrors,
  readOptional,
  readRequiredString,
  rejectUnknownKeys,
} from './configValues';
import { readDeletionGuard } from './deletionGuardConfig';
import {
  readGroupType,
  readParentAttribute,
  readUserNaming,
} from './mappingConfig';
import { normaliseOktaOrgUrl, OktaOrgUrlError } from './orgUrl';
import { PUSH_UPDATE_KEYS, readOktaPushUpdatesConfig } from '../events/config';
import { readRequests } from './requestsConfig';
import { readFullReadEvery, readSchedule } from './scheduleConfig';
import { readGroupFilter, readUserSearchFilter } from './selectionConfig';
import type { OktaProviderConfig } from './types';

/** Where the providers are configured. */
export const OKTA_PROVIDERS_CONFIG_KEY = 'catalog.providers.okta';

/** The id of a provider configured as a single object. */
export const DEFAULT_PROVIDER_ID = 'default';

// The id becomes part of the provider name, the task id and location refs.
const PROVIDER_ID_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;

const PROVIDER_KEYS = new Set([
  'id',
  'oktaUrl',
  'clientId',
  'keyId',
  'privateKey',
  'token',
  'schedule',
  'userSearchFilter',
  'groupNames',
  'groupSearchFilter',
  'groupType',
  'userNaming',
  'hierarchy',
  'allowInsecureHttp',
  'checkSetupOnStart',
  'fullReadEvery',
  'requests',
  'deletionGuard',
  ...PUSH_UPDATE_KEYS,
]);

/**
 * Reads every Okta provider from `catalog.providers.okta`, which is either one
 * provider object (its `id` defaults to `default`) or a list of them, each
 * with its own unique `id`. Returns an empty list when the key is absent.
 *
 * @throws Error naming the provider and the key when the configuration is
 * invalid. Messages never contain a private key or token.
 */
export function readOktaProviderConfigs(config: Config): OktaProviderConfig[] {
  if (!config.has(OKTA_PROVIDERS_CONFIG_KEY)) {
    return [];
  }
  const raw = config.get(OKTA_PROVIDERS_CONFIG_KEY);
  if (Array.isArray(raw)) {
    const providers = config
      .getConfigArray(OKTA_PROVIDERS_CONFIG_KEY)
      .map((providerConfig, index) =>
        readProviderConfig(providerConfig, {
          path: `${OKTA_PROVIDERS_CONFIG_KEY}[${index}]`,
          idRequired: true,
        }),
      );
    rejectDuplicateIds(providers);
    return providers;
  }
  return [
    readProviderConfig(config.getConfig(OKTA_PROVIDERS_CONFIG_KEY), {
      path: OKTA_PROVIDERS_CONFIG_KEY,
      idRequired: false,
    }),
  ];
}

function readProviderConfig(
  config: Config,
  options: { path: string; idRequired: boolean },
): OktaProviderConfig {
  const errors = new ProviderConfigErrors(options.path);
  const id = readProviderId(config, errors, options.idRequired);
  errors.id = id;

  rejectUnknownKeys(config, PROVIDER_KEYS, '', errors);

  const allowInsecureHttp = readOptional('allowInsecureHttp', errors, k =>
    config.getOptionalBoolean(k),
  );
  const orgUrl = readOrgUrl(config, errors, allowInsecureHttp ?? false);
  const auth = readAuth(config, errors);
  const schedule = readSchedule(config, errors);

  const userSearchFilter = readUserSearchFilter(config, errors);
  const groupFilter = readGroupFilter(config, errors);

  const groupType = readGroupType(config, errors);
  const userNaming = readUserNaming(config, errors);

  const parentGroupAttribute = readParentAttribute(config, errors);
  const requests = readRequests(config, errors);
  const checkSetupOnStart = readOptional('checkSetupOnStart', errors, k =>
    config.getOptionalBoolean(k),
  );
  const deletionGuard = readDeletionGuard(config, errors);
  const fullReadEveryMs = readFullReadEvery(config, errors);

  return {
    id,
    orgUrl,
    auth,
    schedule,
    ...(userSearchFilter !== undefined && { userSearchFilter }),
    groupFilter,
    groupType,
    userNaming,
    ...(parentGroupAttribute !== undefined && { parentGroupAttribute }),
    requests,
    checkSetupOnStart: checkSetupOnStart ?? true,
    deletionGuard,
    ...(fullReadEveryMs !== undefined && { fullReadEveryMs }),
    ...readOktaPushUpdatesConfig(config, message => errors.error(message)),
  };
}

function readProviderId(
  config: Config,
  errors: ProviderConfigErrors,
  required: boolean,
): string {
  const id = readOptional('id', errors, k => config.getOptionalString(k));
  if (id === undefined) {
    if (required) {
      throw errors.error(
        '"id" is required for each provider when "catalog.providers.okta" is a list',
      );
    }
    return DEFAULT_PROVIDER_ID;
  }
  if (!PROVIDER_ID_PATTERN.test(id)) {
    throw errors.error(
      `"id" must be 1 to 63 letters, digits, "-" or "_", starting and ending with a letter or digit; got ${JSON.stringify(
        id.slice(0, 80),
      )}`,
    );
  }
  return id;
}

function rejectDuplicateIds(providers: OktaProviderConfig[]) {
  const seen = new Map<string, number>();
  providers.forEach((provider, index) => {
    // Case-insensitive: task ids and location keys should not differ by case only.
    const key = provider.id.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new Error(
        `${OKTA_PROVIDERS_CONFIG_KEY}[${index}] (id "${provider.id}"): "id" must be unique; ${OKTA_PROVIDERS_CONFIG_KEY}[${first}] has the same id`,
      );
    }
    seen.set(key, index);
  });
}

function readOrgUrl(
  config: Config,
  errors: ProviderConfigErrors,
  allowInsecureHttp: boolean,
): string {
  const value = readRequiredString(
    config,
    'oktaUrl',
    errors,
    ' (the URL of your Okta org, e.g. https://example.okta.com)',
  );
  // One reading of org URLs for config, client and annotations; an Admin
  // Console host (acme-admin.okta.com) becomes the org's (acme.okta.com).
  try {
    return normaliseOktaOrgUrl(value, { allowInsecureHttp }).url;
  } catch (error) {
    if (error instanceof OktaOrgUrlError) {
      throw errors.error(`"oktaUrl" ${error.message}`);
    }
    throw error;
  }
}
