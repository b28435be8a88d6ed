import { describe, expect, it } from '@jest/globals';
import {
  lowerBound,
  minimumRequests,
  realWindowCost,
  windowBoundaries,
} from './bound';

describe('minimumRequests', () => {
  it('counts pages per endpoint, skipping empty groups and an unlisted directory', () => {
    expect(
      minimumRequests({
        listsUserDirectory: true,
        listedUsers: 48004,
        groupListings: 1,
        listedGroups: 5000,
        selectedGroupSizes: [0, 1, 1000, 1001, 50000],
      }),
    ).toEqual({
      token: 1,
      users: 241,
      groups: 1,
      groupMembers: 1 + 1 + 2 + 50,
    });
    expect(
      minimumRequests({
        listsUserDirectory: false,
        listedUsers: 0,
        groupListings: 3,
        listedGroups: 50,
        selectedGroupSizes: [],
      }),
    ).toEqual({ token: 1, users: 0, groups: 3, groupMembers: 0 });
  });
});

describe('lowerBound', () => {
  const base = {
    limitPerWindow: { users: 300, groups: 250, other: 600, token: 600 },
    windowSeconds: 6,
    latencySeconds: 0.05,
    concurrency: 10,
  };

  it('is bound by the groups bucket, which member listings share with the group listing', () => {
    const bound = lowerBound({
      ...base,
      requests: { token: 1, users: 241, groups: 1, groupMembers: 4979 },
      longestMemberListingPages: 50,
    });
    // 4980 requests at 250 per window: 1·λ + 19 windows·6 s + ceil(230/10)·λ,
    // or the 4979 member pages alone after 2·λ: 19 windows + ceil(229/10)·λ.
    expect(bound.seconds).toBeCloseTo(0.1 + 19 * 6 + 23 * 0.05, 6);
    expect(bound.binding).toBe('bucket groups');
    expect(bound.terms.map(t => t.name)).not.toContain('bucket other');
  });

  it('is bound by the sequential user listing when the rest is small', () => {
    const bound = lowerBound({
      ...base,
      requests: { token: 1, users: 213, groups: 1, groupMembers: 200 },
      longestMemberListingPages: 4,
    });
    // 1·λ + 213 pages one after another
    expect(bound.seconds).toBeCloseTo(0.05 * 214, 6);
    expect(bound.binding).toBe('bucket users');
  });

  it('counts the concurrency when the limits are generous', () => {
    const bound = lowerBound({
      ...base,
      limitPerWindow: { users: 1e6, groups: 1e6, other: 1e6, token: 1e6 },
      concurrency: 2,
      requests: { token: 1, users: 0, groups: 1, groupMembers: 100 },
      longestMemberListingPages: 1,
    });
    const term = (name: string) =>
      bound.terms.find(t => t.name === name)?.seconds;
    expect(term('throughput')).toBeCloseTo(0.05 + (101 * 0.05) / 2, 6);
    // The groups bucket: the 100 member pages 2 at a time after the token
    // and the groups page (2·λ + 50·λ) bind more than 101 requests after the token.
    expect(term('bucket groups')).toBeCloseTo(0.1 + 50 * 0.05, 6);
    expect(bound.binding).toBe('bucket groups');
  });

  it('counts the window boundaries of the busiest bucket', () => {
    expect(
      windowBoundaries(
        { token: 1, users: 241, groups: 1, groupMembers: 4979 },
        base.limitPerWindow,
      ),
    ).toBe(19);
  });
});

describe('realWindowCost', () => {
  it("counts Okta's 60 s windows of the busiest bucket and the 30-minute timeout", () => {
    const limits = { users: 300, groups: 250, token: 600 };
    // 50k users / 5k groups: 1 + 4979 requests in the groups bucket.
    expect(
      realWindowCost(
        { token: 1, users: 241, groups: 1, groupMembers: 4979 },
        limits,
      ),
    ).toEqual({
      windows: 20,
      minutes: 19,
      exceedsTimeout: false,
    });
    // 7,500 non-empty groups: 30 windows, 29 minutes of waiting at least.
    expect(
      realWindowCost(
        { token: 1, users: 241, groups: 1, groupMembers: 7499 },
        limits,
      ).exceedsTimeout,
    ).toBe(false);
    expect(
      realWindowCost(
        { token: 1, users: 241, groups: 1, groupMembers: 7500 },
        limits,
      ),
    ).toEqual({
      windows: 31,
      minutes: 30,
      exceedsTimeout: true,
    });
  });
});
