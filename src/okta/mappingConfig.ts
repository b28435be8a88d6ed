/*
 * How a provider's entities are made: `groupType`, `userNaming` and the
 * group hierarchy (`hierarchy.parentAttribute`).
 */
import type { Config } from '@backstage/config';
import {
  readNonEmptyString,
  readOptional,
  rejectUnknownKeys,
  type ProviderConfigErrors,
} from './configValues';
import type { OktaUserNaming } from './types';

const DEFAULT_GROUP_TYPE = 'team';
const DEFAULT_USER_NAMING: OktaUserNaming = 'emailLocalPart';
const USER_NAMINGS: readonly OktaUserNaming[] = [
  'emailLocalPart',
  'email',
  'login',
];
const HIERARCHY_KEYS = new Set(['parentAttribute']);

/** `groupType`: the `spec.type` of every group entity. */
export function readGroupType(
  config: Config,
  errors: ProviderConfigErrors,
): string {
  return readNonEmptyString(config, 'groupType', errors) ?? DEFAULT_GROUP_TYPE;
}

/** `userNaming`: how user entity names are made. */
export function readUserNaming(
  config: Config,
  errors: ProviderConfigErrors,
): OktaUserNaming {
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
  return (userNaming as OktaUserNaming | undefined) ?? DEFAULT_USER_NAMING;
}

export function readParentAttribute(
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
