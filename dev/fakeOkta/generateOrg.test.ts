import { describe, expect, it } from '@jest/globals';
import { demoOrg, generateOrg, USER_STATUSES } from './index';

describe('generateOrg', () => {
  it('is deterministic from the seed', () => {
    const a = generateOrg({ seed: 5, users: 300, groups: 40 });
    const b = generateOrg({ seed: 5, users: 300, groups: 40 });
    const c = generateOrg({ seed: 6, users: 300, groups: 40 });
    expect(JSON.stringify([a.users(), a.groups()])).toBe(
      JSON.stringify([b.users(), b.groups()]),
    );
    expect(a.groups().map(g => a.memberIdsOf(g.id))).toEqual(
      b.groups().map(g => b.memberIdsOf(g.id)),
    );
    expect(a.users()[0].id).not.toBe(c.users()[0].id);
  });

  it('makes realistic, awkward users and groups', () => {
    const org = generateOrg({ seed: 1, users: 2000, groups: 200 });
    const users = org.users();
    expect(users).toHaveLength(2000);
    expect(new Set(users.map(u => u.status))).toEqual(new Set(USER_STATUSES));
    expect(
      users.filter(u => u.status === 'ACTIVE').length / users.length,
    ).toBeGreaterThan(0.75);
    expect(users.every(u => /^00u[0-9A-Za-z]{17}$/.test(u.id))).toBe(true);
    expect(users.some(u => u.profile.lastName === null)).toBe(true);
    expect(users.some(u => u.profile.displayName === undefined)).toBe(true);
    expect(users.some(u => u.profile.email === undefined)).toBe(true);
    expect(users.some(u => !u.profile.login.includes('@'))).toBe(true);
    const nonAscii = (s: string) => [...s].some(ch => ch.charCodeAt(0) > 127);
    expect(
      users.some(u => nonAscii(`${u.profile.firstName}${u.profile.lastName}`)),
    ).toBe(true);
    const locals = new Map<string, Set<string>>();
    for (const u of users) {
      if (!u.profile.email) continue;
      const [local, domain] = u.profile.email.split('@');
      locals.set(local, (locals.get(local) ?? new Set()).add(domain));
    }
    expect([...locals.values()].some(domains => domains.size > 1)).toBe(true);
    expect(users.some(u => u.profile.department !== undefined)).toBe(true);

    const groups = org.groups();
    expect(groups.every(g => /^00g[0-9A-Za-z]{17}$/.test(g.id))).toBe(true);
    expect(
      groups.filter(g => g.type === 'BUILT_IN').map(g => g.profile.name),
    ).toEqual(['Everyone']);
    expect(new Set(groups.map(g => g.type))).toEqual(
      new Set(['BUILT_IN', 'OKTA_GROUP', 'APP_GROUP']),
    );
    const everyone = org.everyone()!;
    expect([...org.memberIdsOf(everyone.id)]).toEqual(
      users.filter(u => u.status !== 'DEPROVISIONED').map(u => u.id),
    );
    const names = new Set(groups.map(g => g.profile.name));
    const withParent = groups.filter(g => g.profile.parentGroup !== undefined);
    expect(withParent.length).toBeGreaterThan(10);
    expect(
      withParent.every(g => names.has(String(g.profile.parentGroup))),
    ).toBe(true);
    expect(names.size).toBe(groups.length);

    const sizes = groups
      .filter(g => g !== everyone)
      .map(g => org.memberIdsOf(g.id).length)
      .sort((x, y) => y - x);
    expect(sizes[0]).toBeGreaterThan(1000); // a few huge groups
    expect(sizes.filter(s => s === 0).length).toBeGreaterThanOrEqual(5); // some empty
    expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThan(100); // many small
    const average = org.membershipCount() / users.length;
    expect(average).toBeGreaterThan(6);
    expect(average).toBeLessThan(11);
    for (const u of users.slice(0, 50)) {
      for (const g of org.groupIdsOf(u.id))
        expect(org.memberIdsOf(g)).toContain(u.id);
    }
  });

  it('generates the benchmark size (50,000 users, 5,000 groups) in a few seconds', () => {
    const started = Date.now();
    const org = generateOrg({ seed: 2024, users: 50_000, groups: 5_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(org.userCount).toBe(50_000);
    expect(org.groupCount).toBe(5_000);
    expect(org.membershipCount() / 50_000).toBeGreaterThan(6);
    expect(seconds).toBeLessThan(15);
  });

  it('provides a small demo org with a group hierarchy', () => {
    const org = demoOrg();
    expect(org.userCount).toBe(12);
    const platform = org.findGroupByName('Platform Team')!;
    expect(platform.profile.parentGroup).toBe('Engineering');
    expect(org.findGroupByName('Engineering')!.profile.parentGroup).toBe(
      'ACME Corp',
    );
    expect(org.membersOf(platform.id).map(u => u.profile.login)).toEqual(
      expect.arrayContaining([
        'bob@acme.example',
        'carol@acme.example',
        'heidi@acme.example',
      ]),
    );
    expect(
      org.groupsOf('00udemo0alice0000001').map(g => g.profile.name),
    ).toEqual(expect.arrayContaining(['Everyone', 'ACME Corp', 'Engineering']));
  });
});
