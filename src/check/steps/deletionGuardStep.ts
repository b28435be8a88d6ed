/*
 * The `deletionGuard` step: what the deletion guard would say of the
 * selection just read, against the last applied counts when known.
 */
import type { OktaProviderConfig } from '../../okta/types';
import {
  ALLOW_LARGE_REMOVALS_KEY,
  decideDeletionGuard,
  DEFAULT_MAX_REMOVED_SHARE,
  fewestKept,
} from '../../sync/deletionGuard';
import type { OktaEntityCounts } from '../../sync/syncSummary';
import type { OktaSetupSelection } from '../types';
import type { OktaSetupStepResult } from './stepList';

/** Step h: the deletion guard's verdict on the selection just read. */
export function deletionGuardStep(
  provider: OktaProviderConfig,
  selection: OktaSetupSelection,
  lastApplied: OktaEntityCounts | undefined,
): OktaSetupStepResult {
  const config = provider.deletionGuard ?? {
    maxRemovedShare: DEFAULT_MAX_REMOVED_SHARE,
    allowLargeRemovals: false,
  };
  const after = {
    users: selection.users.length,
    groups: selection.groups.length,
  };
  const verdict = decideDeletionGuard({
    providerName: `OktaOrgEntityProvider:${provider.id}`,
    providerId: provider.id,
    before: lastApplied,
    after,
    config,
  });
  const next = fewestKept(after, config.maxRemovedShare);
  const share = `${Math.round(config.maxRemovedShare * 100)}%`;
  const later = `Once applied, a later sync is refused when it keeps fewer than ${next.users} of these ${after.users} users or ${next.groups} of these ${after.groups} groups (deletionGuard.maxRemovedShare ${share}), or none of a kind.`;
  const baseline = lastApplied
    ? `Compared with the last applied sync (${lastApplied.users} users, ${lastApplied.groups} groups)`
    : 'With no record of the last applied sync here (pass --last-applied USERS,GROUPS to compare)';
  if (verdict.decision === 'apply') {
    return {
      id: 'deletionGuard',
      status: 'passed',
      detail: `${baseline}, the guard would apply this sync. ${later}`,
    };
  }
  if (verdict.decision === 'allowed') {
    return {
      id: 'deletionGuard',
      status: 'warning',
      detail: verdict.message!,
      fix: `remove ${ALLOW_LARGE_REMOVALS_KEY} once the large change is applied`,
    };
  }
  return {
    id: 'deletionGuard',
    // Without a baseline an empty result may have nothing to protect: a
    // warning, as for a selection that is empty.
    status: lastApplied ? 'failed' : 'warning',
    detail: verdict.message!,
    fix: `check the app's admin role and the filters; if the change is deliberate, set ${ALLOW_LARGE_REMOVALS_KEY}: true for the sync that should apply it`,
  };
}
