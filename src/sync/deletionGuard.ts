/*
 * The deletion guard: a read that succeeds but returns far less than the
 * provider had would, as a full mutation, delete every user and group it no
 * longer sees (and every ownership and sign-in that hangs on them). When the
 * app's admin role is narrowed, a filter is edited to a typo, or Okta answers
 * empty pages, the read looks like a success. So before committing, the
 * provider compares what it would apply with what the last applied sync had,
 * and refuses a wipe unless the config allows it.
 *
 * The comparison is of counts (the baseline store keeps counts, so it can be
 * shared by replicas and survive restarts): a sync that adds as many as it
 * removes is not a wipe and passes.
 */
import type { OktaEntityCounts } from './syncSummary';

/**
 * The guard's settings, from `deletionGuard` in the provider's config.
 *
 * @public
 */
export interface OktaDeletionGuardConfig {
  /**
   * The largest share (0 to 1) of the users, or of the groups, one sync may
   * remove. Default 0.25.
   */
  maxRemovedShare: number;
  /** Apply syncs the guard would refuse (a deliberate large change). Default false. */
  allowLargeRemovals: boolean;
}

/** A sync every 30 minutes never loses a quarter of an org by churn alone. */
export const DEFAULT_MAX_REMOVED_SHARE = 0.25;

/** The config key that lets a refused sync through, as messages name it. */
export const ALLOW_LARGE_REMOVALS_KEY = 'deletionGuard.allowLargeRemovals';

/**
 * Why the guard refuses (or would refuse) a sync:
 * `empty` (nothing left where there was, or may have been, something),
 * `noUsers` / `noGroups` (none of a kind it had), `usersShare` /
 * `groupsShare` (more than `maxRemovedShare` of a kind removed).
 *
 * @public
 */
export type OktaDeletionGuardReason =
  'empty' | 'noUsers' | 'noGroups' | 'usersShare' | 'groupsShare';

/**
 * The guard's verdict on one sync.
 *
 * - `apply`: nothing to object to.
 * - `refuse`: not applied; `message` says why and how to allow it.
 * - `allowed`: the guard objects (`reasons`), but `allowLargeRemovals` is
 *   set, so it is applied.
 *
 * @public
 */
export interface OktaDeletionGuardVerdict {
  decision: 'apply' | 'refuse' | 'allowed';
  reasons: OktaDeletionGuardReason[];
  /** What the last applied sync had; absent when unknown (e.g. the first sync since start). */
  before?: OktaEntityCounts;
  /** What would remain once applied. */
  after: OktaEntityCounts;
  maxRemovedShare: number;
  /** Set unless the decision is `apply`. */
  message?: string;
}

/**
 * Decides whether a sync that would leave `after` where the last applied
 * sync left `before` may be applied. Pure: no I/O, no clock.
 */
export function decideDeletionGuard(input: {
  /** `OktaOrgEntityProvider:<id>`, for the message. */
  providerName: string;
  providerId: string;
  before: OktaEntityCounts | undefined;
  after: OktaEntityCounts;
  config: OktaDeletionGuardConfig;
}): OktaDeletionGuardVerdict {
  const { before, after, config } = input;
  const reasons = guardReasons(before, after, config.maxRemovedShare);
  const verdict: OktaDeletionGuardVerdict = {
    decision: 'apply',
    reasons,
    ...(before && { before: { ...before } }),
    after: { ...after },
    maxRemovedShare: config.maxRemovedShare,
  };
  if (reasons.length === 0) {
    return verdict;
  }
  if (config.allowLargeRemovals) {
    return {
      ...verdict,
      decision: 'allowed',
      message: `${input.providerName} applies a sync the deletion guard would refuse (${describeChange(
        before,
        after,
      )}) because ${ALLOW_LARGE_REMOVALS_KEY} is true for provider "${input.providerId}"; remove that key once this change is through, so that later syncs are guarded again.`,
    };
  }
  return {
    ...verdict,
    decision: 'refuse',
    message: refusalMessage(input, reasons),
  };
}

function guardReasons(
  before: OktaEntityCounts | undefined,
  after: OktaEntityCounts,
  maxRemovedShare: number,
): OktaDeletionGuardReason[] {
  const nothingLeft = after.users + after.groups === 0;
  if (!before) {
    // Without a record of the last applied sync (the first sync since the
    // process started, with the in-memory baseline), the catalog may well
    // hold this provider's entities: an empty result would delete them all.
    return nothingLeft ? ['empty'] : [];
  }
  if (before.users + before.groups === 0) {
    return [];
  }
  if (nothingLeft) {
    return ['empty'];
  }
  const reasons: OktaDeletionGuardReason[] = [];
  if (before.users > 0 && after.users === 0) {
    reasons.push('noUsers');
  } else if (removedShare(before.users, after.users) > maxRemovedShare) {
    reasons.push('usersShare');
  }
  if (before.groups > 0 && after.groups === 0) {
    reasons.push('noGroups');
  } else if (removedShare(before.groups, after.groups) > maxRemovedShare) {
    reasons.push('groupsShare');
  }
  return reasons;
}

/**
 * The fewest users and groups a sync after one that applied `counts` may
 * leave without the share rule refusing it.
 */
export function fewestKept(
  counts: OktaEntityCounts,
  maxRemovedShare: number,
): OktaEntityCounts {
  // The epsilon keeps 0.25 * 100 at 25 whatever the floating point does.
  const kept = (n: number) =>
    n === 0 ? 0 : Math.max(1, n - Math.floor(n * maxRemovedShare + 1e-9));
  return { users: kept(counts.users), groups: kept(counts.groups) };
}

/** The share of `before` that is gone, by count (0 when it grew). */
function removedShare(before: number, after: number): number {
  return before > 0 && after < before ? (before - after) / before : 0;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function describeChange(
  before: OktaEntityCounts | undefined,
  after: OktaEntityCounts,
): string {
  const remain = `would remain: ${after.users} users, ${after.groups} groups`;
  return before
    ? `before: ${before.users} users, ${before.groups} groups; ${remain}`
    : `before: unknown (no applied sync recorded since start); ${remain}`;
}

function refusalMessage(
  input: Parameters<typeof decideDeletionGuard>[0],
  reasons: OktaDeletionGuardReason[],
): string {
  const { before, after, config } = input;
  const removed = reasons.flatMap(reason => {
    switch (reason) {
      case 'noUsers':
        return [`all ${before!.users} users`];
      case 'noGroups':
        return [`all ${before!.groups} groups`];
      case 'usersShare':
        return [
          `${before!.users - after.users} of ${before!.users} users (${percent(
            removedShare(before!.users, after.users),
          )})`,
        ];
      case 'groupsShare':
        return [
          `${before!.groups - after.groups} of ${before!.groups} groups (${percent(
            removedShare(before!.groups, after.groups),
          )})`,
        ];
      default:
        return [];
    }
  });
  const what = reasons.includes('empty')
    ? 'the read returned no users and no groups'
    : `it would remove ${removed.join(' and ')}`;
  const shareNote = reasons.some(r => r === 'usersShare' || r === 'groupsShare')
    ? `, more than deletionGuard.maxRemovedShare (${percent(config.maxRemovedShare)})`
    : '';
  return (
    `${input.providerName} refused to apply this sync: ${what}${shareNote} ` +
    `(${describeChange(before, after)}). The catalog keeps its previous entities; the next run checks again. ` +
    "Likely causes: the Okta app's admin role was narrowed (a resource set reduced, or a role such as Group Administrator that cannot see every user or Okta's Everyone group); " +
    'userSearchFilter, groupSearchFilter or groupNames now select far less (a typo matches nothing); ' +
    'or Okta answered with empty pages. ' +
    `If the change is deliberate, set ${ALLOW_LARGE_REMOVALS_KEY}: true for provider "${input.providerId}" (catalog.providers.okta) for the sync that should apply it, then remove it.`
  );
}
