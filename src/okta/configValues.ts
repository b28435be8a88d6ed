/*
 * The pieces every part of the config reader uses: messages that name the
 * provider and the key, typed reads whose errors are reworded that way, and
 * the checks shared by several keys (unknown keys, blank strings, ranges).
 */
import type { Config } from '@backstage/config';

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

/** Builds messages that name the provider's place in config and its id. */
export class ProviderConfigErrors {
  id: string | undefined;

  constructor(
    readonly path: string,
    readonly keyPrefix: string = '',
  ) {}

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

export function rejectUnknownKeys(
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
export function readOptional<T>(
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
export function readNonEmptyString(
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

export function readRequiredString(
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

export function readIntegerInRange(
  config: Config,
  key: string,
  [min, max]: [number, number],
  errors: ProviderConfigErrors,
  why: string,
): number | undefined {
  const value = readOptional(key, errors, k => config.getOptionalNumber(k));
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
