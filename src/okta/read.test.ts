import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { createOktaOrgClient } from './client/createOktaOrgClient';
import type { OktaOrgClient } from './client/types';
import {
  groupNameSearchExpressions,
  quoteOktaSearchValue,
  readOktaOrg,
  selectsDeprovisionedUsers,
} from './read';

describe('search expressions', () => {
  it('quotes values as Okta expects', () => {
    expect(quoteOktaSearchValue('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
  });

  it('selects group names in as few expressions as fit one request', () => {
    const names = Array.from({ length: 300 }, (_, i) => `team-${i}`);
    const expressions = groupNameSearchExpressions([...names, 'team-1']);
    expect(expressions.length).toBeGreaterThan(1);
    expect(expressions.length).toBeLessThanOrEqual(4);
    for (const expression of expressions) {
      expect(expression.length).toBeLessThanOrEqual(3500);
    }
    const terms = expressions.flatMap(e => e.split(' or '));
    expect(terms).toHaveLength(300);
    expect(groupNameSearchExpressions(['Sales'])).toEqual([
      'profile.name eq "Sales"',
    ]);
  });

  it('keeps deprovisioned users only when the filter asks for that status', () => {
    expect(selectsDeprovisionedUsers(undefined)).toBe(false);
    expect(selectsDeprovisionedUsers('status eq "ACTIVE"')).toBe(false);
    expect(selectsDeprovisionedUsers('status eq "DEPROVISIONED"')).toBe(true);
    expect(
      selectsDeprovisionedUsers(
        '(status eq "deprovisioned" or status eq "ACTIVE")',
      ),
    ).toBe(true);
  });
});

describe('readOktaOrg over HTTP against a generated org', () => {
  let fake: FakeOkta;
  let client: OktaOrgClient;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    fake = await startFakeOkta({
      org: generateOrg({
        seed: 11,
        users: 900,
        groups: 60,
        emptyGroupShare: 0.2,
      }),
    });
    const app = await addServiceApp(fake);
    client = createOktaOrgClient({
      orgUrl: fake.url,
      auth: app.auth,
      logger,
    });
  });
  afterAll(() => fake.close());

  const pages = (n: number, size: number) => Math.ceil(n / size);

  it('reads everything with the fewest requests: one page per 200 users, one group page, one member page per non-empty group', async () => {
    fake.resetStats();
    const result = await readOktaOrg(
      client,
      { groupFilter: { kind: 'all' } },
      { logger },
    );
    const visibleUsers = fake.org
      .users()
      .filter(u => u.status !== 'DEPROVISIONED');
    const groups = fake.org.groups().filter(g => g.type !== 'BUILT_IN');
    const nonEmpty = groups.filter(g => fake.org.memberIdsOf(g.id).length > 0);
    expect(result.users.map(u => u.id).sort()).toEqual(
      visibleUsers.map(u => u.id).sort(),
    );
    expect(result.groups).toHaveLength(groups.length);
    expect(result.emptyGroupsSkipped).toBe(groups.length - nonEmpty.length);

    const requests = fake.stats().requests;
    expect(requests.users).toBe(pages(visibleUsers.length, 200));
    expect(requests.groups).toBe(1);
    expect(requests.groupUsers).toBe(
      nonEmpty.reduce(
        (sum, g) => sum + pages(fake.org.memberIdsOf(g.id).length, 1000),
        0,
      ),
    );

    const userIds = new Set(result.users.map(u => u.id));
    for (const group of groups) {
      expect(result.membersByGroupId.get(group.id)!.slice().sort()).toEqual(
        fake.org
          .memberIdsOf(group.id)
          .filter(id => userIds.has(id))
          .slice()
          .sort(),
      );
    }
  });

  it('with a group filter and no user filter never lists the user directory', async () => {
    const names = fake.org
      .groups()
      .filter(g => g.type === 'OKTA_GROUP')
      .slice(0, 5)
      .map(g => g.profile.name);
    fake.resetStats();
    const result = await readOktaOrg(
      client,
      { groupFilter: { kind: 'names', names: [...names, 'missing'] } },
      { logger },
    );
    expect(fake.stats().requests.users ?? 0).toBe(0);
    expect(result.unmatchedGroupNames).toEqual(['missing']);
    const expectedUsers = new Set(
      result.groups.flatMap(g =>
        fake.org
          .memberIdsOf(g.id)
          .filter(id => fake.org.getUser(id)!.status !== 'DEPROVISIONED'),
      ),
    );
    expect(new Set(result.users.map(u => u.id))).toEqual(expectedUsers);
  });

  it('hands users and groups on as they arrive and keeps only ids of the selected users', async () => {
    const groups = fake.org
      .groups()
      .filter(
        g => g.type === 'OKTA_GROUP' && fake.org.memberIdsOf(g.id).length > 0,
      )
      .slice(0, 3);
    const handedUsers: string[] = [];
    const handedGroups: string[] = [];
    let userPagesWhenFirstUserArrived = -1;
    fake.resetStats();
    const result = await readOktaOrg(
      client,
      {
        // The directory is listed (search), so users outside the groups
        // arrive too; they must not stay selected.
        userSearchFilter: 'status eq "ACTIVE"',
        groupFilter: { kind: 'names', names: groups.map(g => g.profile.name) },
      },
      {
        logger,
        onUser: async user => {
          if (handedUsers.length === 0) {
            userPagesWhenFirstUserArrived = fake.stats().requests.users ?? 0;
          }
          handedUsers.push(user.id);
          await new Promise(resolve => setImmediate(resolve));
        },
        onGroup: group => {
          handedGroups.push(group.id);
        },
      },
    );
    const active = fake.org.users().filter(u => u.status === 'ACTIVE');
    const inGroups = new Set(groups.flatMap(g => fake.org.memberIdsOf(g.id)));
    const expected = active
      .filter(u => inGroups.has(u.id))
      .map(u => u.id)
      .sort();

    expect(result.users).toEqual([]);
    expect(handedUsers.slice().sort()).toEqual(active.map(u => u.id).sort());
    expect(new Set(handedUsers).size).toBe(handedUsers.length);
    expect(handedGroups.slice().sort()).toEqual(groups.map(g => g.id).sort());
    expect([...result.selectedUserIds].sort()).toEqual(expected);
    for (const group of groups) {
      expect(result.membersByGroupId.get(group.id)!.slice().sort()).toEqual(
        fake.org
          .memberIdsOf(group.id)
          .filter(id => result.selectedUserIds.has(id))
          .slice()
          .sort(),
      );
    }
    // Users were handed on while the directory was still being read.
    expect(userPagesWhenFirstUserArrived).toBeGreaterThan(0);
    expect(userPagesWhenFirstUserArrived).toBeLessThan(
      fake.stats().requests.users!,
    );
  });

  it('stops every listing and rejects when onUser throws', async () => {
    fake.resetStats();
    let calls = 0;
    await expect(
      readOktaOrg(
        client,
        { groupFilter: { kind: 'all' } },
        {
          logger,
          onUser: () => {
            if (++calls === 250) throw new Error('transformer bug');
          },
        },
      ),
    ).rejects.toThrow('transformer bug');
    const sent = fake.stats().requests;
    await new Promise(resolve => setTimeout(resolve, 200));
    // Nothing more goes out once the read has failed.
    expect(fake.stats().requests).toEqual(sent);
    expect(sent.users).toBeLessThan(pages(fake.org.users().length, 200));
  });

  it('rejects, returning nothing, when a member listing fails', async () => {
    fake.setFaults([{ endpoint: 'groupUsers', kind: 'status5xx', rate: 1 }]);
    fake.resetStats();
    const failing = createOktaOrgClient({
      orgUrl: fake.url,
      auth: { kind: 'apiToken', token: 'read-test-token' },
      logger,
      maxRetries: 1,
      retryBaseDelayMs: 1,
    });
    fake.addApiToken('read-test-token');
    await expect(
      readOktaOrg(failing, { groupFilter: { kind: 'all' } }, { logger }),
    ).rejects.toThrow();
    fake.setFaults([]);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const reading = readOktaOrg(
      client,
      { groupFilter: { kind: 'all' } },
      { logger, signal: controller.signal },
    );
    controller.abort(new Error('schedule timeout'));
    await expect(reading).rejects.toThrow();
  });
});
