import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import {
  DEFAULT_SEARCH_LAG_MS,
  FakeOkta,
  generateOrg,
  startFakeOkta,
} from './index';
import { apiGet, nextLink } from './testing/fakeOktaClient';

const SSWS = { ssws: '00listing' };

describe('fake Okta listings', () => {
  let okta: FakeOkta;
  const org = generateOrg({
    seed: 3,
    users: 700,
    groups: 40,
    averageGroupsPerUser: 5,
  });

  beforeAll(async () => {
    okta = await startFakeOkta({ org });
    okta.addApiToken(SSWS.ssws);
  });
  afterAll(() => okta.close());

  async function walk(url: string) {
    const pages: any[][] = [];
    const links: string[] = [];
    let next: string | undefined = url;
    while (next) {
      const res = await apiGet(next, SSWS);
      expect(res.status).toBe(200);
      pages.push(res.body);
      links.push(res.headers.get('link')!);
      next = nextLink(res.headers);
    }
    return { pages, links, items: pages.flat() };
  }

  it('builds links on the canonical host: a request to acme-admin gets links on acme', async () => {
    const port = new URL(okta.url).port;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(
          `${okta.url}/api/v1/users?limit=2`,
          {
            headers: {
              host: `acme-admin.okta.example:${port}`,
              authorization: `SSWS ${SSWS.ssws}`,
            },
            agent: false,
          },
          resolve,
        )
        .on('error', reject);
    });
    let body = '';
    for await (const chunk of res) body += chunk;
    expect(res.statusCode).toBe(200);
    expect(res.headers.link).toMatch(
      new RegExp(
        `^<http://acme\\.okta\\.example:${port}/api/v1/users\\?limit=2>; rel="self", <http://acme\\.okta\\.example:${port}/api/v1/users\\?limit=2&after=`,
      ),
    );
    expect(JSON.parse(body)[0]._links.self.href).toMatch(
      /^http:\/\/acme\.okta\.example:/,
    );
  });

  it('pages users 200 at a time with self and next links, leaving out DEPROVISIONED', async () => {
    const { pages, links, items } = await walk(`${okta.url}/api/v1/users`);
    const expected = org.users().filter(u => u.status !== 'DEPROVISIONED');
    expect(items.map(u => u.id)).toEqual(expected.map(u => u.id));
    expect(pages.slice(0, -1).every(p => p.length === 200)).toBe(true);
    expect(links[0]).toBe(
      `<${okta.url}/api/v1/users>; rel="self", <${okta.url}/api/v1/users?after=${pages[0][199].id}>; rel="next"`,
    );
    expect(links[links.length - 1]).not.toContain('rel="next"');
    expect(items[0]._links.self.href).toBe(
      `${okta.url}/api/v1/users/${items[0].id}`,
    );
  });

  it('caps limit at 200 for users and keeps search and filter in next links', async () => {
    const capped = await apiGet(`${okta.url}/api/v1/users?limit=5000`, SSWS);
    expect(capped.body).toHaveLength(200);
    const search = 'status eq "DEPROVISIONED" or status eq "ACTIVE"';
    const first = await apiGet(
      `${okta.url}/api/v1/users?limit=50&search=${encodeURIComponent(search)}`,
      SSWS,
    );
    const next = new URL(nextLink(first.headers)!);
    expect(next.searchParams.get('search')).toBe(search);
    expect(next.searchParams.get('limit')).toBe('50');
    const { items } = await walk(
      `${okta.url}/api/v1/users?limit=50&search=${encodeURIComponent(search)}`,
    );
    expect(items.some(u => u.status === 'DEPROVISIONED')).toBe(true);
    expect(items).toHaveLength(
      org
        .users()
        .filter(u => u.status === 'ACTIVE' || u.status === 'DEPROVISIONED')
        .length,
    );
    const filtered = await walk(
      `${okta.url}/api/v1/users?filter=${encodeURIComponent('status eq "DEPROVISIONED"')}`,
    );
    expect(filtered.items.length).toBe(
      org.users().filter(u => u.status === 'DEPROVISIONED').length,
    );
  });

  it('answers 400 E0000031 for an unparseable search', async () => {
    const res = await apiGet(
      `${okta.url}/api/v1/users?search=${encodeURIComponent('status eq')}`,
      SSWS,
    );
    expect(res.status).toBe(400);
    expect(res.body.errorCode).toBe('E0000031');
    const groups = await apiGet(
      `${okta.url}/api/v1/groups?filter=${encodeURIComponent('profile.name eq "x"')}`,
      SSWS,
    );
    expect(groups.status).toBe(400);
  });

  it('lists all groups in one page by default and drops expand=stats from next links', async () => {
    const all = await apiGet(`${okta.url}/api/v1/groups?expand=stats`, SSWS);
    expect(all.body).toHaveLength(40);
    expect(nextLink(all.headers)).toBeUndefined();
    for (const g of all.body)
      expect(g._embedded.stats.usersCount).toBe(org.memberIdsOf(g.id).length);
    const first = await apiGet(
      `${okta.url}/api/v1/groups?limit=15&expand=stats`,
      SSWS,
    );
    expect(first.body[0]._embedded.stats).toBeDefined();
    const next = nextLink(first.headers)!;
    expect(next).not.toContain('expand');
    const second = await apiGet(next, SSWS);
    expect(second.body).toHaveLength(15);
    expect(second.body[0]._embedded).toBeUndefined();
    const types = new Set(all.body.map((g: any) => g.type));
    expect(types).toEqual(new Set(['BUILT_IN', 'OKTA_GROUP', 'APP_GROUP']));
    const filtered = await apiGet(
      `${okta.url}/api/v1/groups?filter=${encodeURIComponent('type eq "BUILT_IN"')}`,
      SSWS,
    );
    expect(filtered.body.map((g: any) => g.profile.name)).toEqual(['Everyone']);
  });

  it("pages group members up to 1000 and lists a user's groups", async () => {
    const everyone = org.everyone()!;
    const { pages, items } = await walk(
      `${okta.url}/api/v1/groups/${everyone.id}/users?limit=5000`,
    );
    expect(pages[0].length).toBe(
      Math.min(1000, org.memberIdsOf(everyone.id).length),
    );
    expect(items.map(u => u.id)).toEqual([...org.memberIdsOf(everyone.id)]);
    const small = await walk(
      `${okta.url}/api/v1/groups/${everyone.id}/users?limit=100`,
    );
    expect(small.pages.length).toBe(Math.ceil(items.length / 100));
    const user = org.users()[5];
    const groups = await apiGet(
      `${okta.url}/api/v1/users/${user.id}/groups`,
      SSWS,
    );
    expect(groups.body.map((g: any) => g.id)).toEqual([
      ...org.groupIdsOf(user.id),
    ]);
  });

  it('gets a user by id or login and a group by id, 404 E0000007 otherwise', async () => {
    const user = org.users()[1];
    expect(
      (await apiGet(`${okta.url}/api/v1/users/${user.id}`, SSWS)).body.id,
    ).toBe(user.id);
    expect(
      (
        await apiGet(
          `${okta.url}/api/v1/users/${encodeURIComponent(user.profile.login.toUpperCase())}`,
          SSWS,
        )
      ).body.id,
    ).toBe(user.id);
    const group = org.groups()[2];
    expect(
      (await apiGet(`${okta.url}/api/v1/groups/${group.id}`, SSWS)).body.profile
        .name,
    ).toBe(group.profile.name);
    for (const path of [
      '/api/v1/users/00unope',
      '/api/v1/groups/00gnope',
      '/api/v1/groups/00gnope/users',
      '/api/v1/users/00unope/groups',
    ]) {
      const res = await apiGet(`${okta.url}${path}`, SSWS);
      expect(res.status).toBe(404);
      expect(res.body.errorCode).toBe('E0000007');
    }
  });

  it('shows org changes, with lastUpdated and lastMembershipUpdated, in filters', async () => {
    const since = new Date(Date.now() - 1).toISOString();
    const changed = (resource: string) =>
      apiGet(
        `${okta.url}/api/v1/${resource}?filter=${encodeURIComponent(`lastUpdated gt "${since}"`)}`,
        SSWS,
      );
    const membership = () =>
      apiGet(
        `${okta.url}/api/v1/groups?filter=${encodeURIComponent(`lastMembershipUpdated gt "${since}"`)}`,
        SSWS,
      );
    expect((await changed('users')).body).toEqual([]);
    expect((await membership()).body).toEqual([]);

    const newcomer = okta.org.addUser({
      profile: {
        login: 'new.person@example.com',
        email: 'new.person@example.com',
        firstName: 'New',
        lastName: 'Person',
      },
    });
    const team = okta.org.addGroup({
      profile: { name: 'Brand New Team', parentGroup: 'Everyone' },
    });
    okta.org.addMember(team.id, newcomer.id);
    // Search and filter results are eventually consistent (searchLagMs).
    const settle = () =>
      new Promise(r => setTimeout(r, DEFAULT_SEARCH_LAG_MS + 5));
    expect((await changed('users')).body).toEqual([]);
    await settle();
    const users = (await changed('users')).body.map((u: any) => u.id);
    expect(users).toEqual([newcomer.id]);
    const groupIds = (await membership()).body.map((g: any) => g.id).sort();
    expect(groupIds).toEqual([org.everyone()!.id, team.id].sort());

    const renamedSince = new Date(Date.now() - 1).toISOString();
    await new Promise(r => setTimeout(r, 2));
    okta.org.renameGroup(team.id, 'Renamed Team');
    await settle();
    const renamed = await apiGet(
      `${okta.url}/api/v1/groups?filter=${encodeURIComponent(`lastUpdated gt "${renamedSince}"`)}`,
      SSWS,
    );
    expect(renamed.body.map((g: any) => g.profile.name)).toEqual([
      'Renamed Team',
    ]);

    // Listings serve each user's JSON from a cache: a change must show at once.
    const byId = `${okta.url}/api/v1/users?search=${encodeURIComponent(`id eq "${newcomer.id}"`)}`;
    expect((await apiGet(byId, SSWS)).body[0].profile.title).toBeUndefined();
    okta.org.updateUser(newcomer.id, { profile: { title: 'Chief Newcomer' } });
    await settle();
    expect((await apiGet(byId, SSWS)).body[0].profile.title).toBe(
      'Chief Newcomer',
    );
    const members = await apiGet(
      `${okta.url}/api/v1/groups/${team.id}/users`,
      SSWS,
    );
    expect(members.body[0].profile.title).toBe('Chief Newcomer');

    okta.org.deprovisionUser(newcomer.id);
    await settle();
    const listed = await apiGet(
      `${okta.url}/api/v1/users?search=${encodeURIComponent(`id eq "${newcomer.id}"`)}`,
      SSWS,
    );
    expect(listed.body[0].status).toBe('DEPROVISIONED');
    expect(org.memberIdsOf(org.everyone()!.id)).not.toContain(newcomer.id);
    okta.org.removeMember(team.id, newcomer.id);
    expect(org.membersOf(team.id)).toEqual([]);
    okta.org.removeUser(newcomer.id);
    okta.org.removeGroup(team.id);
    expect(
      (await apiGet(`${okta.url}/api/v1/users/${newcomer.id}`, SSWS)).status,
    ).toBe(404);
    expect(okta.org.findGroupByName('Renamed Team')).toBeUndefined();
  });
});

describe('fake Okta search', () => {
  it('refuses ne in user search with 400 E0000031, as Okta does (groups accept it)', async () => {
    const okta = await startFakeOkta({
      org: generateOrg({ seed: 1, users: 20, groups: 3 }),
    });
    okta.addApiToken(SSWS.ssws);
    try {
      const users = await apiGet(
        `${okta.url}/api/v1/users?search=${encodeURIComponent('status ne "ACTIVE"')}`,
        SSWS,
      );
      expect(users.status).toBe(400);
      expect(users.body).toMatchObject({
        errorCode: 'E0000031',
        errorSummary: 'Invalid search criteria.',
      });
      const groups = await apiGet(
        `${okta.url}/api/v1/groups?search=${encodeURIComponent('type ne "BUILT_IN"')}`,
        SSWS,
      );
      expect(groups.status).toBe(200);
    } finally {
      await okta.close();
    }
  });

  it('leaves objects created or changed within searchLagMs out of search and filter results, not out of listings', async () => {
    let now = Date.UTC(2026, 0, 1);
    const org = generateOrg({ seed: 1, users: 20, groups: 3 });
    const okta = await startFakeOkta({
      org,
      clock: () => now,
      searchLagMs: 1000,
    });
    okta.addApiToken(SSWS.ssws);
    try {
      const user = okta.org.addUser({
        profile: {
          login: 'new@example.com',
          email: 'new@example.com',
          firstName: 'New',
          lastName: 'User',
        },
      });
      const group = okta.org.addGroup({ profile: { name: 'fresh-group' } });
      const ids = async (path: string) =>
        (
          (await apiGet(`${okta.url}${path}`, SSWS)).body as Array<{
            id: string;
          }>
        ).map(x => x.id);
      const userSearch = `/api/v1/users?search=${encodeURIComponent('profile.login eq "new@example.com"')}`;
      const userFilter = `/api/v1/users?filter=${encodeURIComponent('profile.login eq "new@example.com"')}`;
      const groupSearch = `/api/v1/groups?search=${encodeURIComponent('profile.name eq "fresh-group"')}`;
      expect(await ids(userSearch)).toEqual([]);
      expect(await ids(userFilter)).toEqual([]);
      expect(await ids(groupSearch)).toEqual([]);
      expect(await ids('/api/v1/users?limit=200')).toContain(user.id);
      expect(await ids('/api/v1/groups')).toContain(group.id);
      now += 1000;
      expect(await ids(userSearch)).toEqual([user.id]);
      expect(await ids(userFilter)).toEqual([user.id]);
      expect(await ids(groupSearch)).toEqual([group.id]);
      // A change hides it again until the lag has passed.
      okta.org.renameGroup(group.id, 'fresh-group');
      expect(await ids(groupSearch)).toEqual([]);
      now += 1000;
      expect(await ids(groupSearch)).toEqual([group.id]);
    } finally {
      await okta.close();
    }
  });
});
