/*
 * An app whose admin role is limited to some groups and users (an Okta
 * resource set): listings show only what the role covers, other groups
 * answer 403, and every body still matches Okta's spec.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createServiceAppKeys,
  FakeOkta,
  FakeOrg,
  startFakeOkta,
} from './index';
import { apiGet, getAccessToken, nextLink } from './testing/fakeOktaClient';
import { OktaOpenApiValidator } from './testing/openApiValidator';

describe('an admin role scoped to some groups and users', () => {
  let okta: FakeOkta;
  let token: { accessToken: string };
  const validator = new OktaOpenApiValidator();
  const org = new FakeOrg({ seed: 3 });
  const sales = org.addGroup({ profile: { name: 'Sales' } });
  const eng = org.addGroup({ profile: { name: 'Engineering' } });
  const ann = org.addUser({
    profile: { login: 'ann@acme.example', email: 'ann@acme.example' },
  });
  const ben = org.addUser({
    profile: { login: 'ben@acme.example', email: 'ben@acme.example' },
  });
  const cat = org.addUser({
    profile: { login: 'cat@acme.example', email: 'cat@acme.example' },
  });
  org.addMember(sales.id, ann.id);
  org.addMember(eng.id, ben.id);

  beforeAll(async () => {
    okta = await startFakeOkta({ org });
    const keys = await createServiceAppKeys('RS256');
    okta.addServiceApp({
      clientId: 'scoped',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read', 'okta.groups.read'],
      adminRoleScope: { groupIds: [sales.id], userIds: [cat.id] },
    });
    token = await getAccessToken(okta.url, keys, 'scoped');
  });
  afterAll(() => okta.close());

  async function list(path: string, specPath: string): Promise<string[]> {
    const ids: string[] = [];
    let next: string | undefined = `${okta.url}${path}`;
    while (next) {
      const res = await apiGet(next, token);
      expect(res.status).toBe(200);
      expect(
        validator.validateResponse(
          'management',
          specPath,
          'GET',
          res.status,
          res.body,
        ).message,
      ).toBe('');
      ids.push(...(res.body as Array<{ id: string }>).map(item => item.id));
      next = nextLink(res.headers);
    }
    return ids.sort();
  }

  it('lists only the covered groups (not Everyone) and users (members of covered groups, covered users)', async () => {
    expect(await list('/api/v1/groups?expand=stats', '/api/v1/groups')).toEqual(
      [sales.id],
    );
    expect(await list('/api/v1/users?limit=1', '/api/v1/users')).toEqual(
      [ann.id, cat.id].sort(),
    );
    expect(
      await list(
        `/api/v1/groups/${sales.id}/users`,
        '/api/v1/groups/{groupId}/users',
      ),
    ).toEqual([ann.id]);
  });

  it('answers 403 E0000006 for a group the role does not cover', async () => {
    for (const [path, specPath] of [
      [`/api/v1/groups/${eng.id}`, '/api/v1/groups/{groupId}'],
      [`/api/v1/groups/${eng.id}/users`, '/api/v1/groups/{groupId}/users'],
    ]) {
      const res = await apiGet(`${okta.url}${path}`, token);
      expect(res.status).toBe(403);
      expect(res.body.errorCode).toBe('E0000006');
      expect(
        validator.validateResponse(
          'management',
          specPath,
          'GET',
          res.status,
          res.body,
        ).valid,
      ).toBe(true);
    }
  });

  it('sees the whole org again once the scope is lifted', async () => {
    okta.updateServiceApp('scoped', { adminRoleScope: undefined });
    expect(await list('/api/v1/users', '/api/v1/users')).toEqual(
      [ann.id, ben.id, cat.id].sort(),
    );
    expect((await list('/api/v1/groups', '/api/v1/groups')).length).toBe(3);
    okta.updateServiceApp('scoped', {
      adminRoleScope: { groupIds: [sales.id], userIds: [cat.id] },
    });
  });
});
