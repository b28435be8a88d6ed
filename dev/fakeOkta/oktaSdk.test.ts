import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@okta/okta-sdk-nodejs';
import {
  createServiceAppKeys,
  FakeOkta,
  generateOrg,
  startFakeOkta,
} from './index';

/** Drains an SDK collection (skipping the `null` an empty page with a next link yields). */
async function drain<T>(collection: AsyncIterable<T | null>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of collection) if (item) items.push(item);
  return items;
}

describe('the unmodified Okta Node SDK against the fake', () => {
  let okta: FakeOkta;
  const org = generateOrg({
    seed: 11,
    users: 450,
    groups: 25,
    averageGroupsPerUser: 4,
  });

  beforeAll(async () => {
    okta = await startFakeOkta({ org });
  });
  afterAll(() => okta.close());

  const expectFullOrg = async (client: Client) => {
    const users = await drain(await client.userApi.listUsers({}));
    const expected = org.users().filter(u => u.status !== 'DEPROVISIONED');
    expect(users.map(u => u.id)).toEqual(expected.map(u => u.id));
    expect(expected.length).toBeGreaterThan(400); // three pages of 200

    const groups = await drain(await client.groupApi.listGroups({ limit: 10 }));
    expect(groups.map(g => g.id)).toEqual(org.groups().map(g => g.id));

    const biggest = org
      .groups()
      .reduce((a, b) =>
        org.memberIdsOf(a.id).length >= org.memberIdsOf(b.id).length ? a : b,
      );
    const members = await drain(
      await client.groupApi.listGroupUsers({ groupId: biggest.id, limit: 100 }),
    );
    expect(members.map(u => u.id)).toEqual([...org.memberIdsOf(biggest.id)]);
    expect(members.length).toBeGreaterThan(200);
  };

  it('lists users, groups and members with a private key (RS256, DPoP off)', async () => {
    const keys = await createServiceAppKeys('RS256');
    okta.addServiceApp({
      clientId: 'sdk-app',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read', 'okta.groups.read'],
    });
    const client = new Client({
      orgUrl: okta.url,
      authorizationMode: 'PrivateKey',
      clientId: 'sdk-app',
      scopes: ['okta.users.read', 'okta.groups.read'],
      privateKey: keys.privateKeyPem,
      keyId: keys.kid,
    });
    okta.resetStats();
    await expectFullOrg(client);
    expect(okta.stats().tokensIssued).toBe(1);
    expect(okta.stats().requests.users).toBe(3);
  });

  it('lists through a DPoP-requiring app (the SDK answers the nonce challenge)', async () => {
    const keys = await createServiceAppKeys('RS256');
    okta.addServiceApp({
      clientId: 'sdk-dpop-app',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read', 'okta.groups.read'],
      requireDpop: true,
    });
    const client = new Client({
      orgUrl: okta.url,
      authorizationMode: 'PrivateKey',
      clientId: 'sdk-dpop-app',
      scopes: ['okta.users.read', 'okta.groups.read'],
      privateKey: keys.privateJwk as any,
      keyId: keys.kid,
    });
    await expectFullOrg(client);
    expect(okta.stats().requests.token).toBeGreaterThanOrEqual(2); // the nonce challenge, then the token
  });

  it('lists with an SSWS API token', async () => {
    okta.addApiToken('00sdk-ssws-token');
    const client = new Client({ orgUrl: okta.url, token: '00sdk-ssws-token' });
    await expectFullOrg(client);
    expect(okta.stats().served429).toBe(0);
  });
});
