import { afterEach, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(60_000);
import type { JsonObject } from '@backstage/config';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  demoOrg,
  FakeOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  type CatalogUnderTest,
  entityKeys,
  providersFromConfig,
  RecordingLogger,
  startCatalog,
} from '../__testUtils__/oktaCatalogHarness';

const USER_ID = 'okta.com/user-id';
const GROUP_ID = 'okta.com/group-id';

const running: Array<{
  close?: () => Promise<void>;
  stop?: () => Promise<void>;
}> = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) {
    await (thing.stop ?? thing.close)?.call(thing);
  }
});

async function fakeOkta(org: FakeOrg = demoOrg()): Promise<FakeOkta> {
  const fake = await startFakeOkta({ org });
  running.push(fake);
  return fake;
}

async function catalogWith(
  ...providers: Parameters<typeof startCatalog>[0]
): Promise<CatalogUnderTest> {
  const catalog = await startCatalog(providers);
  running.push(catalog);
  return catalog;
}

/**
 * One provider with id `default` for a fresh fake org and a fresh catalog,
 * after its first sync.
 */
async function ingest(
  extraConfig: Record<string, unknown> = {},
  org?: FakeOrg,
) {
  const fake = await fakeOkta(org);
  const app = await addServiceApp(fake);
  const logger = new RecordingLogger();
  const [provider] = providersFromConfig(
    { id: 'default', ...app.providerConfig, ...extraConfig } as JsonObject,
    logger,
  );
  const catalog = await catalogWith(provider);
  fake.resetStats();
  await provider.read();
  return { fake, app, logger, provider, catalog };
}

function oktaIdOf(entity: Entity): string | undefined {
  return (
    entity.metadata.annotations?.[USER_ID] ??
    entity.metadata.annotations?.[GROUP_ID]
  );
}

function byOktaId(entities: Entity[]): Map<string, Entity> {
  return new Map(entities.map(e => [oktaIdOf(e)!, e]));
}

/** The Okta ids of the targets of an entity's relations of one type. */
function relatedOktaIds(entity: Entity, type: string, all: Entity[]): string[] {
  const byRef = new Map(all.map(e => [stringifyEntityRef(e), e]));
  return (entity.relations ?? [])
    .filter(r => r.type === type)
    .map(r => oktaIdOf(byRef.get(r.targetRef)!)!)
    .sort();
}

/** What Okta says about memberships, for the users and groups given. */
function oktaMemberIds(fake: FakeOkta, groupId: string, userIds: Set<string>) {
  return fake.org
    .memberIdsOf(groupId)
    .filter(id => userIds.has(id))
    .slice()
    .sort();
}

describe('OktaOrgEntityProvider against a fake Okta org and the real catalog', () => {
  it('ingests users and groups with memberships both ways, leaving out deprovisioned users and Everyone', async () => {
    const { fake, catalog, logger } = await ingest();

    const expectedUsers = fake.org
      .users()
      .filter(u => u.status !== 'DEPROVISIONED');
    const expectedGroups = fake.org.groups().filter(g => g.type !== 'BUILT_IN');
    const all = await catalog.waitFor(
      list => list.length === expectedUsers.length + expectedGroups.length,
    );
    const users = all.filter(e => e.kind === 'User');
    const groups = all.filter(e => e.kind === 'Group');
    expect(users.map(oktaIdOf).sort()).toEqual(
      expectedUsers.map(u => u.id).sort(),
    );
    expect(groups.map(oktaIdOf).sort()).toEqual(
      expectedGroups.map(g => g.id).sort(),
    );

    // Relations, as the catalog resolved them from spec.memberOf and
    // spec.members, agree with Okta's memberships both ways.
    const userIds = new Set(expectedUsers.map(u => u.id));
    for (const group of groups) {
      const id = oktaIdOf(group)!;
      expect(relatedOktaIds(group, 'hasMember', all)).toEqual(
        oktaMemberIds(fake, id, userIds),
      );
    }
    for (const user of users) {
      const id = oktaIdOf(user)!;
      expect(relatedOktaIds(user, 'memberOf', all)).toEqual(
        fake.org
          .groupIdsOf(id)
          .filter(g => fake.org.getGroup(g)?.type !== 'BUILT_IN')
          .slice()
          .sort(),
      );
    }

    const alice = byOktaId(users).get('00udemo0alice0000001')!;
    expect(alice.metadata.annotations).toMatchObject({
      'okta.com/email': 'alice@acme.example',
      'okta.com/login': 'alice@acme.example',
    });
    expect(alice.spec?.profile).toMatchObject({
      displayName: 'Alice Anderson',
      email: 'alice@acme.example',
    });
    expect(logger.messages('info').join('\n')).toMatch(
      /Read 11 users, 6 groups and \d+ memberships from Okta in [\d.]+ seconds \(\d+ requests\)/,
    );
  });

  it('lets Backstage sign-in find a user by okta.com/email, as emailMatchingUserEntityAnnotation does', async () => {
    const { catalog } = await ingest();
    await catalog.waitFor(list => list.length === 17);
    // The resolver asks the catalog for the user whose annotation matches the
    // signed-in email: exactly this query.
    const response = await fetch(
      `${catalog.baseUrl}/api/catalog/entities/by-query?${new URLSearchParams({
        filter:
          'kind=user,metadata.annotations.okta.com/email=zoe@acme.example',
      })}`,
    );
    const { items } = (await response.json()) as { items: Entity[] };
    expect(items).toHaveLength(1);
    expect(oktaIdOf(items[0])).toBe('00udemo0zoe000000001');
  });

  it('applies userSearchFilter', async () => {
    const { fake, catalog } = await ingest({
      userSearchFilter: 'status eq "ACTIVE"',
    });
    const expected = fake.org.users().filter(u => u.status === 'ACTIVE');
    const all = await catalog.waitFor(
      list => list.filter(e => e.kind === 'User').length === expected.length,
    );
    expect(
      all
        .filter(e => e.kind === 'User')
        .map(oktaIdOf)
        .sort(),
    ).toEqual(expected.map(u => u.id).sort());
  });

  it('with groupNames reads only those groups, their members from the member listings, never the user directory, and warns of unknown names', async () => {
    const { fake, catalog, logger } = await ingest({
      groupNames: ['Platform Team', 'Sales', 'No Such Team'],
    });
    expect(fake.stats().requests.users ?? 0).toBe(0);

    const all = await catalog.waitFor(list => list.length === 7);
    const groups = all.filter(e => e.kind === 'Group');
    expect(groups.map(oktaIdOf).sort()).toEqual([
      '00gdemo0platform0001',
      '00gdemo0sales0000001',
    ]);
    // Platform Team: bob, carol, lukasz (heidi is deprovisioned); Sales: dave, erin.
    expect(
      all
        .filter(e => e.kind === 'User')
        .map(oktaIdOf)
        .sort(),
    ).toEqual([
      '00udemo0bob000000001',
      '00udemo0carol0000001',
      '00udemo0dave00000001',
      '00udemo0erin00000001',
      '00udemo0lukasz000001',
    ]);
    expect(logger.messages('warn').join('\n')).toContain('No Such Team');
  });

  it('with groupSearchFilter and userSearchFilter keeps only selected users in selected groups', async () => {
    const { catalog } = await ingest({
      groupSearchFilter: 'profile.name sw "Frontend"',
      userSearchFilter: 'profile.firstName sw "Z" or profile.firstName sw "Ł"',
    });
    const all = await catalog.waitFor(list => list.length >= 3);
    expect(all.filter(e => e.kind === 'Group').map(oktaIdOf)).toEqual([
      '00gdemo0frontend0001',
    ]);
    // yamada is in Frontend but not selected by the user filter.
    expect(
      all
        .filter(e => e.kind === 'User')
        .map(oktaIdOf)
        .sort(),
    ).toEqual(['00udemo0lukasz000001', '00udemo0zoe000000001']);
  });

  it('builds the group hierarchy from a profile attribute, keeping groups whose parent is missing or cyclic', async () => {
    const org = demoOrg();
    org.addGroup({
      id: '00gorphan00000000001',
      profile: { name: 'Orphans', parentGroup: 'Gone Department' },
    });
    org.addGroup({
      id: '00gcycle0a000000001',
      profile: { name: 'Cycle A', parentGroup: 'Cycle B' },
    });
    org.addGroup({
      id: '00gcycle0b000000001',
      profile: { name: 'Cycle B', parentGroup: '00gcycle0a000000001' },
    });
    const { catalog, logger } = await ingest(
      {
        groupType: 'department',
        hierarchy: { parentAttribute: 'parentGroup' },
      },
      org,
    );
    const all = await catalog.waitFor(
      list => list.filter(e => e.kind === 'Group').length === 9,
    );
    const groups = byOktaId(all.filter(e => e.kind === 'Group'));
    expect(groups.get('00gdemo0platform0001')!.spec?.type).toBe('department');
    expect(
      relatedOktaIds(groups.get('00gdemo0platform0001')!, 'childOf', all),
    ).toEqual(['00gdemo0engineering1']);
    expect(
      relatedOktaIds(groups.get('00gdemo0engineering1')!, 'parentOf', all),
    ).toEqual(['00gdemo0frontend0001', '00gdemo0platform0001']);
    expect(
      relatedOktaIds(groups.get('00gorphan00000000001')!, 'childOf', all),
    ).toEqual([]);
    const warnings = logger.messages('warn').join('\n');
    expect(warnings).toContain('Gone Department');
    expect(warnings).toMatch(/cycle/i);
    // A cycle is broken somewhere: at most one of the two keeps its parent.
    const a = relatedOktaIds(
      groups.get('00gcycle0a000000001')!,
      'childOf',
      all,
    );
    const b = relatedOktaIds(
      groups.get('00gcycle0b000000001')!,
      'childOf',
      all,
    );
    expect(a.length + b.length).toBeLessThanOrEqual(1);
  });

  it('resolves name collisions deterministically and with a warning, never dropping a user', async () => {
    const org = new FakeOrg({ seed: 3 });
    org.addUser({
      id: '00ucollide000000002',
      profile: { login: 'sam@beta.example', email: 'sam@beta.example' },
    });
    org.addUser({
      id: '00ucollide000000001',
      profile: { login: 'sam@alpha.example', email: 'sam@alpha.example' },
    });
    org.addUser({
      id: '00ucollide000000003',
      profile: { login: 'SAM@gamma.example', email: 'SAM@gamma.example' },
    });
    const fake = await fakeOkta(org);
    const app = await addServiceApp(fake);
    const names: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const logger = new RecordingLogger();
      const [provider] = providersFromConfig(
        { id: `collide${run}`, ...app.providerConfig },
        logger,
      );
      const catalog = await catalogWith(provider);
      await provider.read();
      const all = await catalog.waitFor(
        list => list.filter(e => e.kind === 'User').length === 3,
      );
      const users = byOktaId(all.filter(e => e.kind === 'User'));
      names.push(
        [
          '00ucollide000000001',
          '00ucollide000000002',
          '00ucollide000000003',
        ].map(id => users.get(id)!.metadata.name),
      );
      expect(new Set(names[run]).size).toBe(3);
      expect(logger.messages('warn').join('\n')).toMatch(
        /00ucollide00000000[23]/,
      );
    }
    expect(names[0]).toEqual(names[1]);
  });

  it('warns of a collision once, not on every run, counts it in every run line, and warns again when it comes back', async () => {
    const org = new FakeOrg({ seed: 4 });
    const first = org.addUser({
      profile: { login: 'kim@alpha.example', email: 'kim@alpha.example' },
    });
    org.addUser({
      profile: { login: 'kim@beta.example', email: 'kim@beta.example' },
    });
    const { fake, logger, provider } = await ingest({}, org);
    const collisions = () =>
      logger.messages('warn').filter(m => m.includes('kim'));
    const runLine = () =>
      logger
        .messages('info')
        .filter(m => m.includes('Committing'))
        .at(-1);
    expect(collisions()).toHaveLength(1);
    expect(runLine()).toMatch(/1 warning about Okta's data \(logged above\)/);
    await provider.read();
    await provider.read();
    expect(collisions()).toHaveLength(1);
    expect(runLine()).toMatch(/1 warning about Okta's data \(0 new/);
    // Resolved, then back: the collision is news again.
    fake.org.updateUser(first.id, {
      profile: {
        login: 'kimberly@alpha.example',
        email: 'kimberly@alpha.example',
      },
    });
    const resolved = await provider.read();
    expect(resolved.warnings).toEqual({ total: 0, new: 0 });
    fake.org.updateUser(first.id, {
      profile: { login: 'kim@alpha.example', email: 'kim@alpha.example' },
    });
    const back = await provider.read();
    expect(back.warnings).toEqual({ total: 1, new: 1 });
    expect(collisions()).toHaveLength(2);
  });

  it('repairs or skips odd Okta records with a warning and never fails the run', async () => {
    const org = new FakeOrg({ seed: 4 });
    const group = org.addGroup({ profile: { name: 'Odd Ones' } });
    const odd = [
      { login: 'no-at-sign-login' },
      {
        login: 'ctrl@x.example',
        email: 'ctrl@x.example',
        firstName: 'Tab\tand\u0000nul',
        lastName: 'x'.repeat(5000),
      },
      {
        login: 'ünïcødé@x.example',
        email: 'ünïcødé@x.example',
        displayName: '   ',
      },
      { login: '...@x.example', email: '...@x.example' },
      {
        login: 'nulls@x.example',
        email: null,
        firstName: null,
        lastName: null,
        displayName: null,
      },
    ] as Array<{ login: string } & Record<string, unknown>>;
    for (const profile of odd) {
      const user = org.addUser({ profile });
      org.addMember(group.id, user.id);
    }
    const { catalog } = await ingest({}, org);
    const all = await catalog.waitFor(
      list => list.filter(e => e.kind === 'User').length >= odd.length - 1,
    );
    // Every entity the catalog accepted is valid (it rejects invalid ones).
    const users = all.filter(e => e.kind === 'User');
    expect(users.length).toBeGreaterThanOrEqual(odd.length - 1);
    for (const user of users) {
      const strings: string[] = [];
      JSON.stringify(user, (_key, value) => {
        if (typeof value === 'string') strings.push(value);
        return value;
      });
      const controlChars = strings
        .flatMap(text => [...text])
        .filter(c => c.charCodeAt(0) < 0x20);
      expect(controlChars).toEqual([]);
      for (const text of strings) {
        expect(text.length).toBeLessThan(5000);
      }
    }
  });

  it('leaves the catalog exactly as it was when part of the read fails, and recovers on the next run', async () => {
    const { fake, catalog, provider } = await ingest({
      requests: { maxRetries: 1 },
    });
    const before = await catalog.waitFor(list => list.length === 17);

    // Okta changes, but one group's member listing keeps failing.
    fake.org.removeUser('00udemo0bob000000001');
    fake.setFaults([{ endpoint: 'groupUsers', kind: 'status5xx', rate: 1 }]);
    await expect(provider.read()).rejects.toThrow(/groups\/\{id\}\/users/);
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(entityKeys(await catalog.entities())).toEqual(entityKeys(before));

    fake.setFaults([]);
    await provider.read();
    const after = await catalog.waitFor(list => list.length === 16);
    expect(after.some(e => oktaIdOf(e) === '00udemo0bob000000001')).toBe(false);
  });

  it('removes a user deleted in Okta on the next run, reusing the token of the first', async () => {
    const { fake, catalog, provider } = await ingest();
    await catalog.waitFor(list => list.length === 17);
    fake.org.removeUser('00udemo0carol0000001');
    fake.org.deprovisionUser('00udemo0dave00000001');
    await provider.read();
    const after = await catalog.waitFor(list => list.length === 15);
    const ids = after.map(oktaIdOf);
    expect(ids).not.toContain('00udemo0carol0000001');
    expect(ids).not.toContain('00udemo0dave00000001');
    // One token per token lifetime, not one per run.
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('runs two orgs side by side, each provider owning its own entities', async () => {
    const first = await fakeOkta();
    const secondOrg = new FakeOrg({ seed: 9 });
    const team = secondOrg.addGroup({ profile: { name: 'EMEA Ops' } });
    const olga = secondOrg.addUser({
      profile: { login: 'olga@emea.example', email: 'olga@emea.example' },
    });
    secondOrg.addMember(team.id, olga.id);
    const second = await fakeOkta(secondOrg);
    const firstApp = await addServiceApp(first);
    const secondApp = await addServiceApp(second, { alg: 'ES256' });
    const providers = providersFromConfig(
      [
        { id: 'us', ...firstApp.providerConfig },
        { id: 'emea', ...secondApp.providerConfig },
      ],
      new RecordingLogger(),
    );
    const catalog = await catalogWith(...providers);
    await Promise.all(providers.map(p => p.read()));
    const all = await catalog.waitFor(list => list.length === 19);
    expect(all.map(oktaIdOf)).toEqual(
      expect.arrayContaining([olga.id, team.id, '00udemo0alice0000001']),
    );

    // One org failing leaves the other's entities alone, and its own too.
    second.setFaults([{ endpoint: '*', kind: 'status5xx', rate: 1 }]);
    await expect(providers[1].read()).rejects.toThrow();
    first.org.removeUser('00udemo0erin00000001');
    await providers[0].read();
    const after = await catalog.waitFor(list => list.length === 18);
    expect(after.map(oktaIdOf)).toEqual(
      expect.arrayContaining([olga.id, team.id]),
    );
  });

  it.each([
    ['an ES256 key', { alg: 'ES256' as const }, {}],
    ['an app that requires DPoP', { requireDpop: true }, {}],
    ['a JWK private key', {}, { jwk: true }],
    ['an SSWS API token', {}, { ssws: true }],
  ])('authenticates with %s', async (_, appOptions, how) => {
    const fake = await fakeOkta();
    const app = await addServiceApp(fake, appOptions);
    fake.addApiToken('00test-ssws-token');
    let providerConfig: Record<string, unknown> = app.providerConfig;
    if ('jwk' in how) {
      providerConfig = {
        ...providerConfig,
        keyId: undefined,
        privateKey: JSON.stringify(app.keys.privateJwk),
      };
    } else if ('ssws' in how) {
      providerConfig = {
        oktaUrl: fake.url,
        allowInsecureHttp: true,
        token: '00test-ssws-token',
      };
    }
    const [provider] = providersFromConfig(
      JSON.parse(JSON.stringify({ id: 'default', ...providerConfig })),
      new RecordingLogger(),
    );
    const catalog = await catalogWith(provider);
    await provider.read();
    const all = await catalog.waitFor(list => list.length === 17);
    expect(all.filter(e => e.kind === 'User')).toHaveLength(11);
  });
});
