import { describe, expect, it } from '@jest/globals';
import {
  decideDeletionGuard,
  DEFAULT_MAX_REMOVED_SHARE,
  type OktaDeletionGuardConfig,
} from './deletionGuard';

const guarded: OktaDeletionGuardConfig = {
  maxRemovedShare: DEFAULT_MAX_REMOVED_SHARE,
  allowLargeRemovals: false,
};

function decide(
  before: { users: number; groups: number } | undefined,
  after: { users: number; groups: number },
  config: Partial<OktaDeletionGuardConfig> = {},
) {
  return decideDeletionGuard({
    providerName: 'OktaOrgEntityProvider:emea',
    providerId: 'emea',
    before,
    after,
    config: { ...guarded, ...config },
  });
}

describe('decideDeletionGuard', () => {
  it.each([
    ['no change', { users: 100, groups: 10 }, { users: 100, groups: 10 }],
    ['growth', { users: 100, groups: 10 }, { users: 500, groups: 40 }],
    [
      'churn within the share (25 of 100 users, 2 of 10 groups)',
      { users: 100, groups: 10 },
      { users: 75, groups: 8 },
    ],
    [
      'a first sync with entities and no baseline',
      undefined,
      { users: 3, groups: 0 },
    ],
    [
      'an empty result over an empty baseline',
      { users: 0, groups: 0 },
      { users: 0, groups: 0 },
    ],
    [
      'a kind that was empty stays empty',
      { users: 10, groups: 0 },
      { users: 10, groups: 0 },
    ],
  ])('applies %s', (_, before, after) => {
    const verdict = decide(before, after);
    expect(verdict.decision).toBe('apply');
    expect(verdict.reasons).toEqual([]);
    expect(verdict.message).toBeUndefined();
  });

  it.each([
    [
      'an empty result where there were entities',
      { users: 100, groups: 10 },
      { users: 0, groups: 0 },
      ['empty'],
    ],
    [
      'an empty result with no baseline (the first sync since start)',
      undefined,
      { users: 0, groups: 0 },
      ['empty'],
    ],
    [
      'none of the users it had',
      { users: 100, groups: 10 },
      { users: 0, groups: 10 },
      ['noUsers'],
    ],
    [
      'none of the groups it had',
      { users: 100, groups: 10 },
      { users: 100, groups: 0 },
      ['noGroups'],
    ],
    [
      'more than the share of the users (26 of 100)',
      { users: 100, groups: 10 },
      { users: 74, groups: 10 },
      ['usersShare'],
    ],
    [
      'more than the share of the groups (3 of 10)',
      { users: 100, groups: 10 },
      { users: 100, groups: 7 },
      ['groupsShare'],
    ],
    [
      'both kinds over the share',
      { users: 100, groups: 10 },
      { users: 10, groups: 1 },
      ['usersShare', 'groupsShare'],
    ],
  ])('refuses %s', (_, before, after, reasons) => {
    const verdict = decide(before, after);
    expect(verdict.decision).toBe('refuse');
    expect(verdict.reasons).toEqual(reasons);
  });

  it('honours a configured share', () => {
    expect(
      decide(
        { users: 100, groups: 10 },
        { users: 55, groups: 10 },
        { maxRemovedShare: 0.5 },
      ).decision,
    ).toBe('apply');
    expect(
      decide(
        { users: 100, groups: 10 },
        { users: 45, groups: 10 },
        { maxRemovedShare: 0.5 },
      ).decision,
    ).toBe('refuse');
    // A share of 1 leaves only the rules about nothing left.
    expect(
      decide(
        { users: 100, groups: 10 },
        { users: 1, groups: 1 },
        { maxRemovedShare: 1 },
      ).decision,
    ).toBe('apply');
    expect(
      decide(
        { users: 100, groups: 10 },
        { users: 0, groups: 1 },
        { maxRemovedShare: 1 },
      ).reasons,
    ).toEqual(['noUsers']);
  });

  it('names the provider, the counts, the likely causes and the key that allows it', () => {
    const verdict = decide({ users: 120, groups: 8 }, { users: 30, groups: 2 });
    expect(verdict.message).toBe(
      'OktaOrgEntityProvider:emea refused to apply this sync: it would remove 90 of 120 users (75%) and 6 of 8 groups (75%), ' +
        'more than deletionGuard.maxRemovedShare (25%) (before: 120 users, 8 groups; would remain: 30 users, 2 groups). ' +
        'The catalog keeps its previous entities; the next run checks again. ' +
        "Likely causes: the Okta app's admin role was narrowed (a resource set reduced, or a role such as Group Administrator that cannot see every user or Okta's Everyone group); " +
        'userSearchFilter, groupSearchFilter or groupNames now select far less (a typo matches nothing); or Okta answered with empty pages. ' +
        'If the change is deliberate, set deletionGuard.allowLargeRemovals: true for provider "emea" (catalog.providers.okta) for the sync that should apply it, then remove it.',
    );
    expect(verdict.before).toEqual({ users: 120, groups: 8 });
    expect(verdict.after).toEqual({ users: 30, groups: 2 });
  });

  it('says so when there is no baseline', () => {
    expect(decide(undefined, { users: 0, groups: 0 }).message).toContain(
      'the read returned no users and no groups (before: unknown (no applied sync recorded since start); would remain: 0 users, 0 groups)',
    );
  });

  it('lets a refused sync through when allowLargeRemovals is set, saying it should be removed again', () => {
    const verdict = decide(
      { users: 120, groups: 8 },
      { users: 0, groups: 0 },
      { allowLargeRemovals: true },
    );
    expect(verdict.decision).toBe('allowed');
    expect(verdict.reasons).toEqual(['empty']);
    expect(verdict.message).toContain(
      'because deletionGuard.allowLargeRemovals is true for provider "emea"',
    );
    expect(verdict.message).toContain(
      'remove that key once this change is through',
    );
    // Nothing to allow: no message.
    expect(
      decide(
        { users: 1, groups: 1 },
        { users: 1, groups: 1 },
        { allowLargeRemovals: true },
      ).decision,
    ).toBe('apply');
  });
});
