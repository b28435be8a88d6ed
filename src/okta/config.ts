/*
 * Reading and validating `catalog.providers.okta`. Everything an admin can get
 * wrong is caught here, at start-up, with a message that names the provider and
 * the key to fix, and never a secret.
 */
import { normaliseOktaOrgUrl, OktaOrgUrlError } from './orgUrl';
import {
  createPrivateKey,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  type SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  ConfigReader,
  readDurationFromConfig,
  type Config,
} from '@backstage/config';
import { Duration } from 'luxon';
import { PUSH_UPDATE_KEYS, readOktaPushUpdatesConfig } from '../events/config';
import { signingAlgorithmOf } from './client/clientAssertion';
import {
  DEFAULT_MAX_REMOVED_SHARE,
  type OktaDeletionGuardConfig,
} from '../sync/deletionGuard';
import type { OktaAuthOptions } from './client/types';
import type {
  OktaGroupFilter,
  OktaProviderConfig,
  OktaUserNaming,
} from './types';

/** Where the providers are configured. */
export const OKTA_PROVIDERS_CONFIG_KEY = 'catalog.providers.okta';

/** The id of a provider configured as a single object. */
export const DEFAULT_PROVIDER_ID = 'default';

/** Recommended by Okta integrators: every 30 minutes, timing out after 30. */
const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 30 },
  timeout: { minutes: 30 },
};

const DEFAULT_GROUP_TYPE = 'team';
const DEFAULT_USER_NAMING: OktaUserNaming = 'emailLocalPart';
const USER_NAMINGS: readonly OktaUserNaming[] = [
  'emailLocalPart',
  'email',
  'login',
];

/** Okta allows at most 75 requests in flight per org (35 on the free plan). */
const MAX_CONCURRENCY_LIMIT = 75;
const MAX_RETRIES_LIMIT = 20;

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
const HIERARCHY_KEYS = new Set(['parentAttribute']);
const REQUESTS_KEYS = new Set(['maxConcurrency', 'timeout', 'maxRetries']);
const DELETION_GUARD_KEYS = new Set(['maxRemovedShare', 'allowLargeRemovals']);

/** Keys admins plausibly write for a key of ours (from other providers' docs). */
const KEY_SUGGESTIONS: Record<string, string> = {
  groups: 'groupNames',
  groupFilter: 'groupSearchFilter',
  groupSearch: 'groupSearchFilter',
  userFilter: 'userSearchFilter',
  userSearch: 'userSearchFilter',
  orgUrl: 'oktaUrl',
  url: 'oktaUrl',
  apiToken: 'token',
  kid: 'keyId',
};

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

/** Builds messages that name the provider's place in config and its id. */
class ProviderConfigErrors {
  id: string | undefined;

  constructor(readonly path: string, readonly keyPrefix: string = '') {}

  /** The same provider, for keys nested under `prefix` (e.g. `requests.`). */
  at(prefix: string): ProviderConfigErrors {
    const nested = new ProviderConfigErrors(this.path, this.keyPrefix + prefix);
    nested.id = this.id;
    return nested;
  }

  error(message: string): Error {
    const where =
      this.id === undefined ? this.path : `${this.path} (id "${this.id}")`;
    return new Error(`${where}: ${message}`);
  }

  /** Rewords an error of Backstage's config reader under this provider. */
  wrap(key: string, cause: unknown): Error {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return this.error(`"${this.keyPrefix}${key}" is invalid: ${reason}`);
  }
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

  const userSearchFilter = readNonEmptyString(config, 'userSearchFilter', errors);
  const groupFilter = readGroupFilter(config, errors);

  const groupType =
    readNonEmptyString(config, 'groupType', errors) ?? DEFAULT_GROUP_TYPE;

  const userNaming = readOptional('userNaming', errors, k =>
    config.getOptionalString(k),
  );
  if (
    userNaming !== undefined &&
    !(USER_NAMINGS as readonly string[]).includes(userNaming)
  ) {
    throw errors.error(
      `"userNaming" must be one of ${USER_NAMINGS.map(n => `"${n}"`).join(
        ', ',
      )}, got ${JSON.stringify(userNaming)}`,
    );
  }

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
    userNaming: (userNaming as OktaUserNaming | undefined) ?? DEFAULT_USER_NAMING,
    ...(parentGroupAttribute !== undefined && { parentGroupAttribute }),
    requests,
    checkSetupOnStart: checkSetupOnStart ?? true,
    deletionGuard,
    ...(fullReadEveryMs !== undefined && { fullReadEveryMs }),
    ...readOktaPushUpdatesConfig(config, message => errors.error(message)),
  };
}

/** `fullReadEvery`: a positive duration (at least a minute), in ms. */
function readFullReadEvery(
  config: Config,
  errors: ProviderConfigErrors,
): number | undefined {
  if (!config.has('fullReadEvery')) {
    return undefined;
  }
  let ms: number;
  try {
    const duration = readDurationFromConfig(config, { key: 'fullReadEvery' });
    ms = Duration.fromObject(duration).as('milliseconds');
  } catch (error) {
    throw errors.wrap('fullReadEvery', error);
  }
  if (!Number.isFinite(ms) || ms < 60_000) {
    throw errors.error(
      '"fullReadEvery" must be a duration of at least one minute, e.g. { hours: 24 }',
    );
  }
  return ms;
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

function rejectUnknownKeys(
  config: Config,
  known: Set<string>,
  prefix: string,
  errors: ProviderConfigErrors,
) {
  for (const key of config.keys()) {
    if (!known.has(key)) {
      const suggestion = KEY_SUGGESTIONS[key];
      throw errors.error(
        `unknown key "${prefix}${key}"${
          suggestion ? `; did you mean "${suggestion}"?` : ''
        } (known keys: ${[...known].map(k => `${prefix}${k}`).join(', ')})`,
      );
    }
  }
}

/** Runs a typed read, rewording the config reader's type errors. */
function readOptional<T>(
  key: string,
  errors: ProviderConfigErrors,
  read: (key: string) => T | undefined,
): T | undefined {
  try {
    return read(key);
  } catch (error) {
    // The reader's messages name the key and the type, never the value.
    throw errors.wrap(key, error);
  }
}

/** An optional string that, when present, must not be blank. Trimmed. */
function readNonEmptyString(
  config: Config,
  key: string,
  errors: ProviderConfigErrors,
): string | undefined {
  // Checked before the typed read, whose message for '' is "got empty-string".
  const raw = config.getOptional(key);
  if (typeof raw === 'string' && raw.trim().length === 0) {
    throw errors.error(`"${errors.keyPrefix}${key}" must not be empty`);
  }
  const value = readOptional(key, errors, k => config.getOptionalString(k));
  if (value === undefined) {
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length === 0) {
    throw errors.error(`"${errors.keyPrefix}${key}" must not be empty`);
  }
  return trimmed;
}

function readRequiredString(
  config: Config,
  key: string,
  errors: ProviderConfigErrors,
  why: string,
): string {
  const value = readNonEmptyString(config, key, errors);
  if (value === undefined) {
    throw errors.error(`"${errors.keyPrefix}${key}" is required${why}`);
  }
  return value;
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

function readAuth(
  config: Config,
  errors: ProviderConfigErrors,
): OktaAuthOptions {
  const privateKey = readNonEmptyString(config, 'privateKey', errors);
  const token = readNonEmptyString(config, 'token', errors);
  const clientId = readNonEmptyString(config, 'clientId', errors);
  const keyId = readNonEmptyString(config, 'keyId', errors);

  if (privateKey !== undefined && token !== undefined) {
    throw errors.error(
      '"privateKey" and "token" cannot both be set; use "clientId", "keyId" and "privateKey" (an API Services app), or "token" (an SSWS API token)',
    );
  }
  if (token !== undefined) {
    const stray = [clientId && 'clientId', keyId && 'keyId'].filter(Boolean);
    if (stray.length > 0) {
      throw errors.error(
        `${stray
          .map(k => `"${k}"`)
          .join(' and ')} only apply with "privateKey", not with "token"; remove ${
          stray.length > 1 ? 'them' : 'it'
        } or use a private key instead of the token`,
      );
    }
    return { kind: 'apiToken', token };
  }
  if (privateKey === undefined) {
    throw errors.error(
      'no credentials: set "clientId", "keyId" and "privateKey" (an Okta API Services app with private_key_jwt), or "token" (an SSWS API token)',
    );
  }
  if (clientId === undefined) {
    throw errors.error(
      '"clientId" is required with "privateKey" (the client id of the Okta API Services app)',
    );
  }
  const parsed = parsePrivateKey(privateKey, errors);
  if (keyId !== undefined && parsed.jwkKeyId && parsed.jwkKeyId !== keyId) {
    throw errors.error(
      `"keyId" is "${keyId}" but the JWK in "privateKey" has kid "${parsed.jwkKeyId}"; Okta rejects a client assertion whose kid does not match the registered key`,
    );
  }
  const resolvedKeyId = keyId ?? parsed.jwkKeyId;
  if (resolvedKeyId === undefined) {
    throw errors.error(
      '"keyId" is required with "privateKey" (the KID of the public key registered in the Okta app)',
    );
  }
  return {
    kind: 'privateKey',
    clientId,
    keyId: resolvedKeyId,
    privateKey: parsed.privateKey,
  };
}

/**
 * Checks that the private key parses, so that a bad key stops start-up rather
 * than every run. Returns the key as the client should receive it.
 *
 * Error messages of the parsers are not passed on: JSON.parse quotes the
 * input it failed on, which here is the key.
 */
function parsePrivateKey(
  value: string,
  errors: ProviderConfigErrors,
): { privateKey: string; jwkKeyId?: string } {
  if (value.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(value);
    } catch {
      throw errors.error(
        '"privateKey" looks like a JWK but is not valid JSON (expected a PEM private key or a JWK as a JSON string)',
      );
    }
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
      throw errors.error('"privateKey" is not a JWK object');
    }
    const fields = jwk as Record<string, unknown>;
    if (typeof fields.d !== 'string') {
      throw errors.error(
        '"privateKey" is a JWK without its private part ("d"); paste the private key, not the public one',
      );
    }
    const key = tryCreatePrivateKey(() =>
      createPrivateKey({ key: fields as JsonWebKey, format: 'jwk' }),
    );
    if (!key) {
      throw errors.error('"privateKey" is a JWK that does not parse as a private key');
    }
    checkKeyType(key, errors, fields.alg);
    return {
      privateKey: value,
      ...(typeof fields.kid === 'string' && fields.kid.length > 0
        ? { jwkKeyId: fields.kid }
        : {}),
    };
  }

  // Keys passed through environment variables often arrive with literal "\n".
  const pem = value.includes('\\n') && !value.includes('\n')
    ? value.replace(/\\n/g, '\n')
    : value;
  if (!pem.includes('-----BEGIN')) {
    throw errors.error(
      '"privateKey" is neither a PEM private key ("-----BEGIN PRIVATE KEY-----...") nor a JWK JSON string',
    );
  }
  if (/-----BEGIN (?:RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(pem)) {
    throw errors.error(
      '"privateKey" holds a public key or certificate; paste the private key generated with the Okta app',
    );
  }
  const key = tryCreatePrivateKey(() => createPrivateKey(pem));
  if (!key) {
    throw errors.error(
      '"privateKey" is a PEM block that does not parse as a private key (check that it was copied whole, with its BEGIN and END lines)',
    );
  }
  checkKeyType(key, errors);
  return { privateKey: pem };
}

function tryCreatePrivateKey(create: () => KeyObject): KeyObject | undefined {
  try {
    return create();
  } catch {
    return undefined;
  }
}

/** Only keys the client can sign with pass: the client's own rule decides. */
function checkKeyType(key: KeyObject, errors: ProviderConfigErrors, preferred?: unknown) {
  const usable = signingAlgorithmOf(key, preferred);
  if ('unusable' in usable) {
    throw errors.error(`"privateKey" ${usable.unusable}`);
  }
}

function readSchedule(
  config: Config,
  errors: ProviderConfigErrors,
): SchedulerServiceTaskScheduleDefinition {
  if (!config.has('schedule')) {
    return DEFAULT_SCHEDULE;
  }
  try {
    const scheduleConfig = config.getConfig('schedule');
    // A schedule that names only one of frequency and timeout gets the
    // default for the other, rather than a start-up error.
    const withDefaults = new ConfigReader(
      {
        frequency: { minutes: 30 },
        timeout: { minutes: 30 },
        ...scheduleConfig.get<object>(),
      },
      `${errors.path}.schedule`,
    );
    const schedule =
      readSchedulerServiceTaskScheduleDefinitionFromConfig(withDefaults);
    // The reader sets absent optional fields to undefined; drop them so the
    // result compares and logs cleanly.
    return Object.fromEntries(
      Object.entries(schedule).filter(([, v]) => v !== undefined),
    ) as unknown as SchedulerServiceTaskScheduleDefinition;
  } catch (error) {
    throw errors.wrap('schedule', error);
  }
}

function readGroupFilter(
  config: Config,
  errors: ProviderConfigErrors,
): OktaGroupFilter {
  const names = readOptional('groupNames', errors, k =>
    config.getOptionalStringArray(k),
  );
  const search = readNonEmptyString(config, 'groupSearchFilter', errors);
  if (names !== undefined && search !== undefined) {
    throw errors.error(
      '"groupNames" and "groupSearchFilter" cannot both be set; use one way of choosing groups',
    );
  }
  if (search !== undefined) {
    return { kind: 'search', search };
  }
  if (names === undefined) {
    return { kind: 'all' };
  }
  if (names.length === 0) {
    // An empty list would select no groups, and then no users: everything
    // this provider emitted before would be deleted.
    throw errors.error(
      '"groupNames" is empty; list at least one Okta group name, or remove the key to read all groups',
    );
  }
  const blank = names.findIndex(name => name.trim().length === 0);
  if (blank >= 0) {
    throw errors.error(`"groupNames[${blank}]" is empty`);
  }
  // Okta matches names exactly, so entries are kept as written (not trimmed).
  return { kind: 'names', names: [...new Set(names)] };
}

function readParentAttribute(
  config: Config,
  errors: ProviderConfigErrors,
): string | undefined {
  if (!config.has('hierarchy')) {
    return undefined;
  }
  const hierarchy = readOptional('hierarchy', errors, k =>
    config.getOptionalConfig(k),
  );
  if (!hierarchy) {
    return undefined;
  }
  rejectUnknownKeys(hierarchy, HIERARCHY_KEYS, 'hierarchy.', errors);
  const attribute = readNonEmptyString(
    hierarchy,
    'parentAttribute',
    errors.at('hierarchy.'),
  );
  if (attribute === undefined) {
    throw errors.error(
      '"hierarchy.parentAttribute" is required when "hierarchy" is set',
    );
  }
  // Admins copy attribute paths from Okta's expression language.
  const name = attribute.replace(/^profile\./, '');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw errors.error(
      `"hierarchy.parentAttribute" must be the name of a group profile attribute (letters, digits, "_"), got ${JSON.stringify(
        attribute.slice(0, 80),
      )}`,
    );
  }
  return name;
}

function readRequests(
  config: Config,
  errors: ProviderConfigErrors,
): OktaProviderConfig['requests'] {
  if (!config.has('requests')) {
    return {};
  }
  const requests = readOptional('requests', errors, k =>
    config.getOptionalConfig(k),
  );
  if (!requests) {
    return {};
  }
  rejectUnknownKeys(requests, REQUESTS_KEYS, 'requests.', errors);
  const nested = errors.at('requests.');

  const maxConcurrency = readIntegerInRange(
    requests,
    'maxConcurrency',
    [1, MAX_CONCURRENCY_LIMIT],
    nested,
    ` (Okta allows at most ${MAX_CONCURRENCY_LIMIT} concurrent requests per org)`,
  );
  const maxRetries = readIntegerInRange(
    requests,
    'maxRetries',
    [0, MAX_RETRIES_LIMIT],
    nested,
    '',
  );
  let requestTimeoutMs: number | undefined;
  if (requests.has('timeout')) {
    try {
      const duration = readDurationFromConfig(requests, { key: 'timeout' });
      requestTimeoutMs = Duration.fromObject(duration).as('milliseconds');
    } catch (error) {
      throw nested.wrap('timeout', error);
    }
    if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
      throw errors.error('"requests.timeout" must be a positive duration');
    }
  }

  return {
    ...(maxConcurrency !== undefined && { maxConcurrency }),
    ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
    ...(maxRetries !== undefined && { maxRetries }),
  };
}

function readDeletionGuard(
  config: Config,
  errors: ProviderConfigErrors,
): OktaDeletionGuardConfig {
  const guard = readOptional('deletionGuard', errors, k =>
    config.getOptionalConfig(k),
  );
  if (!guard) {
    return {
      maxRemovedShare: DEFAULT_MAX_REMOVED_SHARE,
      allowLargeRemovals: false,
    };
  }
  rejectUnknownKeys(guard, DELETION_GUARD_KEYS, 'deletionGuard.', errors);
  const nested = errors.at('deletionGuard.');
  const maxRemovedShare = readOptional('maxRemovedShare', nested, k =>
    guard.getOptionalNumber(k),
  );
  if (
    maxRemovedShare !== undefined &&
    !(maxRemovedShare > 0 && maxRemovedShare <= 1)
  ) {
    throw errors.error(
      `"deletionGuard.maxRemovedShare" must be a number above 0 and at most 1 (a share: 0.25 is a quarter), got ${maxRemovedShare}`,
    );
  }
  const allowLargeRemovals = readOptional('allowLargeRemovals', nested, k =>
    guard.getOptionalBoolean(k),
  );
  return {
    maxRemovedShare: maxRemovedShare ?? DEFAULT_MAX_REMOVED_SHARE,
    allowLargeRemovals: allowLargeRemovals ?? false,
  };
}

function readIntegerInRange(
  config: Config,
  key: string,
  [min, max]: [number, number],
  errors: ProviderConfigErrors,
  why: string,
): number | undefined {
  const value = readOptional(key, errors, k =>
    config.getOptionalNumber(k),
  );
  if (value === undefined) {
    return undefined;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.error(
      `"${errors.keyPrefix}${key}" must be a whole number from ${min} to ${max}${why}, got ${value}`,
    );
  }
  return value;
}
