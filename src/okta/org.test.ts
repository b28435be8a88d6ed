import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  groupEntityV1alpha1Validator,
  makeValidator,
  parseLocationRef,
  userEntityV1alpha1Validator,
  type GroupEntity,
  type UserEntity,
} from '@backstage/catalog-model';
import type { OktaGroup, OktaUser } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import {
  buildOrgEntities,
  OrgEntityBuilder,
  type BuildOrgEntitiesOptions,
} from './org';
import type { OktaOrgSnapshot, OktaTransformerContext } from './types';
import { seededRandom } from '../__testUtils__/seededRandom';

const context: OktaTransformerContext = {
  providerId: 'default',
  orgUrl: 'https://acme.okta.com',
  userNaming: 'emailLocalPart',
  groupType: 'team',
};

function recordingLogger() {
  const warnings: string[] = [];
  const logger: LoggerService = {
    warn: (message: string) => {
      warnings.push(message);
    },
    info: () => {},
    debug: () => {},
    error: () => {},
    child: () => logger,
  };
  return { logger, warnings };
}

function oktaUser(
  id: string,
  email: string | null,
  extra: Partial<OktaUser> = {},
): OktaUser {
  return {
    id,
    status: 'ACTIVE',
    ...extra,
    profile: {
      login: email,
      email,
      firstName: 'F',
      lastName: id,
      ...extra.profile,
    },
  };
}

function oktaGroup(
  id: string,
  name: string | null,
  profile: Record<string, unknown> = {},
): OktaGroup {
  return { id, type: 'OKTA_GROUP', profile: { name, ...profile } };
}

function snapshot(
  users: OktaUser[],
  groups: OktaGroup[],
  members: Record<string, string[]> = {},
): OktaOrgSnapshot {
  return {
    users,
    groups,
    membersByGroupId: new Map(Object.entries(members)),
  };
}

async function build(
  org: OktaOrgSnapshot,
  options: Partial<BuildOrgEntitiesOptions> = {},
) {
  const { logger, warnings } = recordingLogger();
  const result = await buildOrgEntities(org, {
    context,
    userTransformer: defaultUserTransformer,
    groupTransformer: defaultGroupTransformer,
    logger,
    ...options,
  });
  return { ...result, warnings };
}

function byName<T extends UserEntity | GroupEntity>(entities: T[]) {
  return Object.fromEntries(entities.map(e => [e.metadata.name, e]));
}

const policy = EntityPolicies.allOf([
  new FieldFormatEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

async function expectValid(users: UserEntity[], groups: GroupEntity[]) {
  for (const user of users) {
    await expect(policy.enforce(user)).resolves.toBeDefined();
    await expect(userEntityV1alpha1Validator.check(user)).resolves.toBe(true);
  }
  for (const group of groups) {
    await expect(policy.enforce(group)).resolves.toBeDefined();
    await expect(groupEntityV1alpha1Validator.check(group)).resolves.toBe(true);
  }
}

/** Relations agree and refer only to emitted entities (all in one namespace). */
function expectConsistentRelations(users: UserEntity[], groups: GroupEntity[]) {
  const userNames = new Set(users.map(u => u.metadata.name));
  const groupsByName = byName(groups);
  for (const group of groups) {
    for (const member of group.spec.members ?? []) {
      expect(userNames.has(member)).toBe(true);
    }
    for (const child of group.spec.children) {
      expect(groupsByName[child]?.spec.parent).toBe(group.metadata.name);
    }
    if (group.spec.parent) {
      expect(groupsByName[group.spec.parent]?.spec.children).toContain(
        group.metadata.name,
      );
    }
  }
  for (const user of users) {
    for (const groupName of user.spec.memberOf ?? []) {
      expect(groupsByName[groupName]?.spec.members).toContain(
        user.metadata.name,
      );
    }
  }
  for (const group of groups) {
    for (const member of group.spec.members ?? []) {
      const user = users.find(u => u.metadata.name === member)!;
      expect(user.spec.memberOf).toContain(group.metadata.name);
    }
  }
}

describe('buildOrgEntities', () => {
  it('builds users and groups with memberships that agree, sorted by name', async () => {
    const { users, groups, warnings } = await build(
      snapshot(
        [
          oktaUser('00u3', 'zed@acme.com'),
          oktaUser('00u1', 'jane.doe@acme.com'),
          oktaUser('00u2', 'bob@acme.com'),
        ],
        [oktaGroup('00g2', 'Sales'), oktaGroup('00g1', 'Engineering')],
        { '00g1': ['00u1', '00u2'], '00g2': ['00u1'] },
      ),
    );
    expect(warnings).toEqual([]);
    expect(users.map(u => u.metadata.name)).toEqual(['bob', 'jane.doe', 'zed']);
    expect(groups.map(g => g.metadata.name)).toEqual(['engineering', 'sales']);
    const u = byName(users);
    const g = byName(groups);
    expect(u['jane.doe'].spec.memberOf).toEqual(['engineering', 'sales']);
    expect(u.bob.spec.memberOf).toEqual(['engineering']);
    expect(u.zed.spec.memberOf).toEqual([]);
    expect(g.engineering.spec.members).toEqual(['bob', 'jane.doe']);
    expect(g.sales.spec.members).toEqual(['jane.doe']);
    expect(g.sales.spec.children).toEqual([]);
    expect(g.sales.spec).not.toHaveProperty('parent');
    await expectValid(users, groups);
    expectConsistentRelations(users, groups);
  });

  it('lists a member once however often a listing repeats it, in name order', async () => {
    const { users, groups } = await build(
      snapshot(
        [
          oktaUser('00u1', 'zed@acme.com'),
          oktaUser('00u2', 'amy@acme.com'),
          oktaUser('00u3', 'Bob@acme.com'),
        ],
        [oktaGroup('00g1', 'Engineering')],
        // A cursor that went back a record, as a retried page could.
        { '00g1': ['00u1', '00u2', '00u1', '00u3', '00u2'] },
      ),
    );
    expect(byName(groups).engineering.spec.members).toEqual([
      'amy',
      'bob',
      'zed',
    ]);
    expect(byName(users).zed.spec.memberOf).toEqual(['engineering']);
    expectConsistentRelations(users, groups);
  });

  describe('name collisions', () => {
    const jane1 = oktaUser('00uB', 'jane@acme.com', {
      created: '2020-01-01T00:00:00.000Z',
    });
    const jane2 = oktaUser('00uA', 'jane@other.example', {
      created: '2023-05-05T00:00:00.000Z',
    });

    it('keeps the name for the oldest user and suffixes the other with its Okta id', async () => {
      const { users, warnings } = await build(
        snapshot([jane2, jane1], [oktaGroup('00g1', 'Team')], {
          '00g1': ['00uA', '00uB'],
        }),
      );
      expect(
        users.map(u => [
          u.metadata.name,
          u.metadata.annotations?.['okta.com/user-id'],
        ]),
      ).toEqual([
        ['jane', '00uB'],
        ['jane-00ua', '00uA'],
      ]);
      expect(warnings).toEqual([
        'Okta users 00uB and 00uA both map to the entity name "jane"; 00uB keeps it and 00uA is named "jane-00ua"',
      ]);
    });

    it('falls back to the Okta id order without creation times, whatever the input order', async () => {
      const a = oktaUser('00uA', 'sam@acme.com');
      const b = oktaUser('00uB', 'Sam@other.example');
      const c = oktaUser('00uC', 'sam@third.example');
      const results = await Promise.all(
        [
          [a, b, c],
          [c, b, a],
          [b, c, a],
        ].map(order => build(snapshot(order, []))),
      );
      for (const { users } of results) {
        expect(
          users.map(u => [
            u.metadata.name,
            u.metadata.annotations?.['okta.com/user-id'],
          ]),
        ).toEqual([
          ['sam', '00uA'],
          ['sam-00ub', '00uB'],
          ['sam-00uc', '00uC'],
        ]);
      }
      expect(results[0].users).toEqual(results[1].users);
      expect(results[0].warnings).toEqual(results[2].warnings);
    });

    it('never gives a suffixed name that someone already holds', async () => {
      const { users, warnings } = await build(
        snapshot(
          [
            oktaUser('00u1', 'x@acme.com'),
            oktaUser('00u2', 'x@b.example'),
            // Already named what the second "x" would become.
            oktaUser('00u3', 'x-00u2@acme.com'),
          ],
          [],
        ),
      );
      const names = users.map(u => u.metadata.name);
      expect(new Set(names).size).toBe(3);
      expect(names).toEqual(['x', 'x-00u2', 'x-00u2-2']);
      expect(warnings[0]).toMatch(
        /00u1 and 00u2 both map to the entity name "x"/,
      );
    });

    it('keeps suffixed names within 63 characters', async () => {
      const long = `${'l'.repeat(70)}@acme.com`;
      const { users } = await build(
        snapshot(
          [oktaUser('00u1', long), oktaUser('00u2', long.toUpperCase())],
          [],
        ),
      );
      for (const user of users) {
        expect(makeValidator().isValidEntityName(user.metadata.name)).toBe(
          true,
        );
      }
      expect(new Set(users.map(u => u.metadata.name)).size).toBe(2);
    });

    it('resolves group collisions by Okta id and keeps memberships on the right group', async () => {
      const { groups, warnings } = await build(
        snapshot(
          [oktaUser('00u1', 'a@acme.com'), oktaUser('00u2', 'b@acme.com')],
          [oktaGroup('00g9', 'Dev Ops'), oktaGroup('00g1', 'dev-ops!')],
          { '00g9': ['00u1'], '00g1': ['00u2'] },
        ),
      );
      // "Dev Ops" is dev_ops and "dev-ops!" is dev-ops: different names.
      expect(warnings).toEqual([]);
      expect(groups.map(g => g.metadata.name)).toEqual(['dev-ops', 'dev_ops']);

      const clash = await build(
        snapshot(
          [oktaUser('00u1', 'a@acme.com'), oktaUser('00u2', 'b@acme.com')],
          [oktaGroup('00g9', 'Platform'), oktaGroup('00g1', 'platform')],
          { '00g9': ['00u1'], '00g1': ['00u2'] },
        ),
      );
      const g = byName(clash.groups);
      expect(g.platform.metadata.annotations?.['okta.com/group-id']).toBe(
        '00g1',
      );
      expect(g.platform.spec.members).toEqual(['b']);
      expect(g['platform-00g9'].spec.members).toEqual(['a']);
      expect(byName(clash.users).a.spec.memberOf).toEqual(['platform-00g9']);
      expect(clash.warnings).toEqual([
        'Okta groups 00g1 and 00g9 both map to the entity name "platform"; 00g1 keeps it and 00g9 is named "platform-00g9"',
      ]);
    });

    it('lets a user and a group share a name (they are different kinds)', async () => {
      const { users, groups, warnings } = await build(
        snapshot(
          [oktaUser('00u1', 'ops@acme.com')],
          [oktaGroup('00g1', 'ops')],
        ),
      );
      expect(users[0].metadata.name).toBe('ops');
      expect(groups[0].metadata.name).toBe('ops');
      expect(warnings).toEqual([]);
    });
  });

  describe('records that cannot be used', () => {
    it('keeps the first of a duplicated Okta id and warns', async () => {
      const { users, groups, warnings } = await build(
        snapshot(
          [
            oktaUser('00u1', 'first@acme.com'),
            oktaUser('00u1', 'second@acme.com'),
          ],
          [oktaGroup('00g1', 'One'), oktaGroup('00g1', 'Two')],
        ),
      );
      expect(users.map(u => u.metadata.name)).toEqual(['first']);
      expect(groups.map(g => g.metadata.name)).toEqual(['one']);
      expect(warnings).toEqual([
        'Okta listed 1 user(s) more than once; kept the first of each: 00u1',
        'Okta listed 1 group(s) more than once; kept the first of each: 00g1',
      ]);
    });

    it('warns with the Okta id, never the profile, of skipped records', async () => {
      const { users, groups, warnings } = await build(
        snapshot(
          [
            oktaUser('00u1', 'ok@acme.com'),
            { id: '', profile: { login: 'x' } },
          ],
          [oktaGroup('00g1', null, { secretNote: 'do not log me' })],
        ),
      );
      expect(users).toHaveLength(1);
      expect(groups).toHaveLength(0);
      expect(warnings).toEqual([
        'Skipped 1 Okta user(s) without an id',
        'Skipped 1 Okta group(s) that the group transformer made no entity for: 00g1',
      ]);
      expect(warnings.join('\n')).not.toContain('do not log me');
    });

    it('summarises many skipped records in one warning', async () => {
      const groups = Array.from({ length: 30 }, (_, i) =>
        oktaGroup(`00g${i}`, ''),
      );
      const { warnings } = await build(snapshot([], groups));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^Skipped 30 Okta group\(s\) .*: 00g0, 00g1, .* and 10 more$/,
      );
    });

    it('drops members that are not emitted users with one warning', async () => {
      const { users, groups, warnings } = await build(
        snapshot(
          [oktaUser('00u1', 'a@acme.com'), { id: '00u2', profile: {} }],
          [oktaGroup('00g1', 'G1'), oktaGroup('00g2', 'G2')],
          {
            '00g1': ['00u1', '00uGONE', '00u1'],
            '00g2': ['00uGONE', '00uOTHER'],
            '00gUNKNOWN': ['00u1'],
          },
        ),
        {
          userTransformer: (user, ctx) =>
            user.id === '00u2' ? undefined : defaultUserTransformer(user, ctx),
        },
      );
      const g = byName(groups);
      expect(g.g1.spec.members).toEqual(['a']);
      expect(g.g2.spec.members).toEqual([]);
      expect(byName(users).a.spec.memberOf).toEqual(['g1']);
      expect(warnings).toEqual([
        'Skipped 1 Okta user(s) that the user transformer made no entity for: 00u2',
        'Dropped 3 group membership(s) of 2 Okta user(s) that are not among the emitted users: 00uGONE, 00uOTHER',
      ]);
    });

    it('fails, naming the Okta id, when a transformer throws', async () => {
      await expect(
        build(snapshot([oktaUser('00u7', 'a@acme.com')], []), {
          userTransformer: () => {
            throw new Error('boom');
          },
        }),
      ).rejects.toThrow(
        'The user transformer failed for Okta user 00u7; caused by Error: boom',
      );
    });

    it('skips, with a warning, an entity the catalog would reject', async () => {
      const { users, warnings } = await build(
        snapshot(
          [oktaUser('00u1', 'a@acme.com'), oktaUser('00u2', 'b@acme.com')],
          [],
        ),
        {
          userTransformer: async (user, ctx) => {
            const entity = await defaultUserTransformer(user, ctx);
            if (user.id === '00u2') {
              entity!.spec.profile = { displayName: '' };
            }
            return entity;
          },
        },
      );
      expect(users.map(u => u.metadata.name)).toEqual(['a']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^Skipped Okta user 00u2: its entity is not valid: /,
      );
    });

    it('skips an entity of the wrong kind', async () => {
      const { users, warnings } = await build(
        snapshot([oktaUser('00u1', 'a@acme.com')], [oktaGroup('00g1', 'G')]),
        {
          userTransformer: async () =>
            (await defaultGroupTransformer(
              oktaGroup('00g1', 'G'),
              context,
            )) as unknown as UserEntity,
        },
      );
      expect(users).toEqual([]);
      expect(warnings[0]).toMatch(
        /^Skipped Okta user 00u1: its entity is not valid: expected kind User/,
      );
    });
  });

  describe('OrgEntityBuilder, fed as the read goes', () => {
    it('emits only the selected users and warns only about them', async () => {
      const { logger, warnings } = recordingLogger();
      const builder = new OrgEntityBuilder({
        context,
        // 00u3 and 00u4 get no entity; only 00u3 is selected.
        userTransformer: (user, ctx) =>
          ['00u3', '00u4'].includes(user.id)
            ? undefined
            : defaultUserTransformer(user, ctx),
        groupTransformer: defaultGroupTransformer,
        logger,
      });
      await builder.addGroup(oktaGroup('00g1', 'G1'));
      for (const user of [
        oktaUser('00u1', 'in@acme.com'),
        oktaUser('00u2', 'out@acme.com'),
        oktaUser('00u3', 'three@acme.com'),
        oktaUser('00u4', 'four@acme.com'),
      ]) {
        await builder.addUser(user);
      }
      const { users, groups } = await builder.build(
        new Map([['00g1', ['00u1', '00u3']]]),
        new Set(['00u1', '00u3']),
      );
      expect(users.map(u => u.metadata.name)).toEqual(['in']);
      expect(groups[0].spec.members).toEqual(['in']);
      expect(warnings).toEqual([
        'Skipped 1 Okta user(s) that the user transformer made no entity for: 00u3',
        'Dropped 1 group membership(s) of 1 Okta user(s) that are not among the emitted users: 00u3',
      ]);
    });

    it('fails the add, every later add and the build once a transformer throws', async () => {
      const { logger } = recordingLogger();
      const builder = new OrgEntityBuilder({
        context,
        userTransformer: user => {
          if (user.id === '00u2') throw new Error('boom');
          return defaultUserTransformer(user, context);
        },
        groupTransformer: defaultGroupTransformer,
        logger,
      });
      await builder.addUser(oktaUser('00u1', 'a@acme.com'));
      await expect(
        builder.addUser(oktaUser('00u2', 'b@acme.com')),
      ).rejects.toThrow(
        'The user transformer failed for Okta user 00u2; caused by Error: boom',
      );
      await expect(builder.build(new Map())).rejects.toThrow(
        'The user transformer failed for Okta user 00u2; caused by Error: boom',
      );
      await expect(
        builder.addUser(oktaUser('00u3', 'c@acme.com')),
      ).rejects.toThrow('boom');
    });
  });

  describe('custom transformers', () => {
    it('normalises names, adds the Okta annotations and replaces memberships', async () => {
      const { users, groups } = await build(
        snapshot([oktaUser('00u1', 'a@acme.com')], [oktaGroup('00g1', 'G')], {
          '00g1': ['00u1'],
        }),
        {
          userTransformer: user => ({
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'User',
            metadata: { name: `Custom User ${user.id}` },
            spec: { memberOf: ['someone-elses-group'] },
          }),
          groupTransformer: () => ({
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Group',
            metadata: { name: 'Ünïcode Group' },
            spec: { type: '', children: ['x'], members: ['y'] },
          }),
        },
      );
      expect(users[0].metadata).toEqual({
        name: 'custom_user_00u1',
        annotations: {
          'backstage.io/managed-by-location':
            'okta:default:https://acme.okta.com/api/v1/users/00u1',
          'backstage.io/managed-by-origin-location':
            'okta:default:https://acme.okta.com/api/v1/users/00u1',
          'okta.com/user-id': '00u1',
        },
      });
      expect(users[0].spec.memberOf).toEqual(['unicode_group']);
      expect(groups[0].metadata.name).toBe('unicode_group');
      expect(groups[0].spec).toEqual({
        type: 'team',
        children: [],
        members: ['custom_user_00u1'],
      });
    });

    it('does not change the objects a transformer returned', async () => {
      const shared: UserEntity = {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'User',
        metadata: { name: 'Shared' },
        spec: {},
      };
      const copy = structuredClone(shared);
      await build(snapshot([oktaUser('00u1', 'a@acme.com')], []), {
        userTransformer: () => shared,
      });
      expect(shared).toEqual(copy);
    });

    it('qualifies references across namespaces', async () => {
      const { users, groups } = await build(
        snapshot([oktaUser('00u1', 'a@acme.com')], [oktaGroup('00g1', 'G')], {
          '00g1': ['00u1'],
        }),
        {
          groupTransformer: async (group, ctx) => {
            const entity = await defaultGroupTransformer(group, ctx);
            entity!.metadata.namespace = 'okta';
            return entity;
          },
        },
      );
      expect(users[0].spec.memberOf).toEqual(['group:okta/g']);
      expect(groups[0].spec.members).toEqual(['user:default/a']);
    });

    it('keeps a transformer parent and fills the children of emitted parents', async () => {
      const { groups } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g1', 'Root'),
            oktaGroup('00g2', 'Leaf'),
            oktaGroup('00g3', 'Other'),
          ],
        ),
        {
          groupTransformer: async (group, ctx) => {
            const entity = await defaultGroupTransformer(group, ctx);
            if (group.id === '00g2') entity!.spec.parent = 'group:default/root';
            if (group.id === '00g3') entity!.spec.parent = 'outside-okta';
            return entity;
          },
        },
      );
      const g = byName(groups);
      expect(g.root.spec.children).toEqual(['leaf']);
      expect(g.leaf.spec.parent).toBe('root');
      expect(g.other.spec.parent).toBe('outside-okta');
    });
  });

  describe('hierarchy from a group profile attribute', () => {
    const hierarchy = { parentGroupAttribute: 'parent' };

    it('resolves parents by Okta name or id', async () => {
      const { groups, warnings } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g1', 'Company'),
            oktaGroup('00g2', 'Engineering', { parent: 'Company' }),
            oktaGroup('00g3', 'Platform', { parent: '00g2' }),
            oktaGroup('00g4', 'Sales', { parent: ' Company ' }),
            oktaGroup('00g5', 'Loose', { parent: null }),
            oktaGroup('00g6', 'Blank', { parent: '' }),
          ],
        ),
        hierarchy,
      );
      expect(warnings).toEqual([]);
      const g = byName(groups);
      expect(g.company.spec.children).toEqual(['engineering', 'sales']);
      expect(g.engineering.spec.parent).toBe('company');
      expect(g.engineering.spec.children).toEqual(['platform']);
      expect(g.platform.spec.parent).toBe('engineering');
      expect(g.loose.spec).not.toHaveProperty('parent');
      expect(g.blank.spec).not.toHaveProperty('parent');
      expectConsistentRelations([], groups);
    });

    it('follows a renamed (colliding) parent', async () => {
      const { groups } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g1', 'ops'),
            oktaGroup('00g2', 'OPS'),
            oktaGroup('00g3', 'Child', { parent: '00g2' }),
          ],
        ),
        hierarchy,
      );
      expect(byName(groups).child.spec.parent).toBe('ops-00g2');
      expect(byName(groups)['ops-00g2'].spec.children).toEqual(['child']);
    });

    it('makes a group with a missing parent a root, with one warning', async () => {
      const { groups, warnings } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g1', 'A', { parent: 'Nowhere' }),
            oktaGroup('00g2', 'B', { parent: '00gMISSING' }),
          ],
        ),
        hierarchy,
      );
      expect(groups.every(g => g.spec.parent === undefined)).toBe(true);
      expect(warnings).toEqual([
        '2 Okta group(s) name a parent in "parent" that is not among the emitted groups; they are roots: 00g1 ("a", parent "Nowhere"), 00g2 ("b", parent "00gMISSING")',
      ]);
    });

    it('breaks a cycle at the group with the smallest Okta id and warns', async () => {
      const { groups, warnings } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g3', 'C', { parent: 'A' }),
            oktaGroup('00g1', 'A', { parent: 'B' }),
            oktaGroup('00g2', 'B', { parent: 'C' }),
            oktaGroup('00g4', 'D', { parent: 'A' }),
          ],
        ),
        hierarchy,
      );
      const g = byName(groups);
      expect(g.a.spec).not.toHaveProperty('parent');
      expect(g.b.spec.parent).toBe('c');
      expect(g.c.spec.parent).toBe('a');
      expect(g.a.spec.children).toEqual(['c', 'd']);
      expect(warnings).toEqual([
        'Okta groups form a parent cycle: 00g1 ("a") -> 00g2 ("b") -> 00g3 ("c"); 00g1 ("a") is made a root',
      ]);
      expectConsistentRelations([], groups);
    });

    it('treats a group that is its own parent as a cycle', async () => {
      const { groups, warnings } = await build(
        snapshot([], [oktaGroup('00g1', 'Self', { parent: 'Self' })]),
        hierarchy,
      );
      expect(groups[0].spec).not.toHaveProperty('parent');
      expect(groups[0].spec.children).toEqual([]);
      expect(warnings).toEqual([
        'Okta groups form a parent cycle: 00g1 ("self"); 00g1 ("self") is made a root',
      ]);
    });

    it('refuses an ambiguous parent name and a multi-valued attribute', async () => {
      const { groups, warnings } = await build(
        snapshot(
          [],
          [
            oktaGroup('00g1', 'Twin'),
            oktaGroup('00g2', 'Twin'),
            oktaGroup('00g3', 'Kid', { parent: 'Twin' }),
            oktaGroup('00g4', 'Multi', { parent: ['00g1', '00g2'] }),
          ],
        ),
        hierarchy,
      );
      const g = byName(groups);
      expect(g.kid.spec).not.toHaveProperty('parent');
      expect(g.multi.spec).not.toHaveProperty('parent');
      expect(warnings).toEqual([
        'Okta groups 00g1 and 00g2 both map to the entity name "twin"; 00g1 keeps it and 00g2 is named "twin-00g2"',
        'Okta group 00g3 ("kid"): its "parent" names 2 groups (00g1, 00g2); use the parent\'s Okta id instead. The group is a root',
        'Okta group 00g4 ("multi"): its "parent" is not a single name or id; the group is a root',
      ]);
    });

    it('replaces a parent set by the transformer', async () => {
      const { groups } = await build(
        snapshot([], [oktaGroup('00g1', 'A'), oktaGroup('00g2', 'B')]),
        {
          ...hierarchy,
          groupTransformer: async (group, ctx) => {
            const entity = await defaultGroupTransformer(group, ctx);
            entity!.spec.parent = 'somewhere';
            return entity;
          },
        },
      );
      expect(groups.every(g => g.spec.parent === undefined)).toBe(true);
    });
  });

  describe('a large generated org full of odd data', () => {
    const ODD = [
      'jane.doe',
      'Jane.Doe',
      'JANE.DOE',
      'josé',
      'jose',
      'Jürgen',
      '研发',
      '😀',
      '',
      ' ',
      null,
      'a\u0000b',
      'x'.repeat(90),
      'X'.repeat(90),
      'o\u2019brien',
      "o'brien",
      'team (admins)',
      'team-admins',
      'team_admins',
      '-',
      '.',
      'ops',
    ];

    function generate(seed: number) {
      const random = seededRandom(seed);
      const pick = <T>(values: T[]) =>
        values[Math.floor(random() * values.length)];
      const users: OktaUser[] = [];
      for (let i = 0; i < 1500; i++) {
        const local = pick(ODD);
        const id = `00u${(i * 7919).toString(36)}`;
        users.push({
          id: random() < 0.01 ? (users[0]?.id ?? id) : id,
          created:
            random() < 0.5
              ? `2020-01-${String(1 + (i % 28)).padStart(2, '0')}T00:00:00.000Z`
              : null,
          profile: {
            email:
              local === null
                ? null
                : `${local}@${pick(['acme.com', 'x.example'])}`,
            login:
              random() < 0.3 ? pick(ODD) : `${local ?? 'user'}${i}@acme.com`,
            displayName: pick(ODD),
            firstName: pick(ODD),
            lastName: pick(ODD),
          },
        });
      }
      const groups: OktaGroup[] = [];
      for (let i = 0; i < 300; i++) {
        groups.push({
          id: `00g${(i * 104729).toString(36)}`,
          profile: {
            name: pick(ODD),
            description: pick(ODD),
            parent:
              random() < 0.6
                ? pick([
                    ...ODD,
                    `00g${(Math.floor(random() * 300) * 104729).toString(36)}`,
                  ])
                : undefined,
          },
        });
      }
      const membersByGroupId = new Map<string, string[]>();
      for (const group of groups) {
        const members: string[] = [];
        const count = Math.floor(random() * 40);
        for (let j = 0; j < count; j++) {
          members.push(random() < 0.05 ? `00uGONE${j}` : pick(users).id);
        }
        membersByGroupId.set(group.id, members);
      }
      return { users, groups, membersByGroupId };
    }

    it('emits only valid, uniquely named, consistent entities, deterministically', async () => {
      const org = generate(42);
      const { users, groups } = await build(org, {
        parentGroupAttribute: 'parent',
      });

      expect(users.length).toBeGreaterThan(1400);
      expect(groups.length).toBeGreaterThan(200);
      await expectValid(users, groups);
      expectConsistentRelations(users, groups);

      const userNames = users.map(u => u.metadata.name);
      const groupNames = groups.map(g => g.metadata.name);
      expect(new Set(userNames).size).toBe(users.length);
      expect(new Set(groupNames).size).toBe(groups.length);
      expect(userNames).toEqual([...userNames].sort());
      expect(groupNames).toEqual([...groupNames].sort());
      for (const entity of [...users, ...groups]) {
        const location =
          entity.metadata.annotations!['backstage.io/managed-by-location'];
        expect(parseLocationRef(location).type).toBe('okta');
      }

      // No cycles remain.
      const parentOf = new Map(
        groups.map(g => [g.metadata.name, g.spec.parent]),
      );
      for (const group of groups) {
        const seen = new Set<string>();
        let current: string | undefined = group.metadata.name;
        while (current) {
          expect(seen.has(current)).toBe(false);
          seen.add(current);
          current = parentOf.get(current);
        }
      }

      // The same org in another order gives the same entities.
      const reversed = {
        users: [...org.users].reverse(),
        groups: [...org.groups].reverse(),
        membersByGroupId: new Map([...org.membersByGroupId].reverse()),
      };
      // Duplicate ids keep the first listed, so compare without them.
      const firstIds = new Set<string>();
      const unique = org.users.filter(
        u => !firstIds.has(u.id) && firstIds.add(u.id),
      );
      const again = await build(
        { ...org, users: unique },
        { parentGroupAttribute: 'parent' },
      );
      const againReversed = await build(
        { ...reversed, users: [...unique].reverse() },
        { parentGroupAttribute: 'parent' },
      );
      expect(againReversed.users).toEqual(again.users);
      expect(againReversed.groups).toEqual(again.groups);
    });
  });
});
