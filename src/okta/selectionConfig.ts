/*
 * Which users and groups a provider reads: `userSearchFilter`, and either
 * `groupNames` or `groupSearchFilter`.
 */
import type { Config } from '@backstage/config';
import {
  readNonEmptyString,
  readOptional,
  type ProviderConfigErrors,
} from './configValues';
import type { OktaGroupFilter } from './types';

/** `userSearchFilter`: an Okta search expression, trimmed. */
export function readUserSearchFilter(
  config: Config,
  errors: ProviderConfigErrors,
): string | undefined {
  return readNonEmptyString(config, 'userSearchFilter', errors);
}

export function readGroupFilter(
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
