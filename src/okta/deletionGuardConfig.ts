/*
 * How many entities one sync may remove (`deletionGuard`).
 */
import type { Config } from '@backstage/config';
import {
  DEFAULT_MAX_REMOVED_SHARE,
  type OktaDeletionGuardConfig,
} from '../sync/deletionGuard';
import {
  readOptional,
  rejectUnknownKeys,
  type ProviderConfigErrors,
} from './configValues';

const DELETION_GUARD_KEYS = new Set(['maxRemovedShare', 'allowLargeRemovals']);

export function readDeletionGuard(
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
