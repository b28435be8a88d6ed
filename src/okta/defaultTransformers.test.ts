import {
  type GroupEntity,
  groupEntityV1alpha1Validator,
  makeValidator,
  parseLocationRef,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import type { OktaGroup, OktaUser } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import type { OktaTransformerContext } from './types';

const context: OktaTransformerContext = {
  providerId: 'default',
  orgUrl: 'https://acme.okta.com',
  userNaming: 'emailLocalPart',
  groupType: 'team',
};

function user(profile: OktaUser['profile'], id = '00u1a2b3c4'): OktaUser {
  return { id, status: 'ACTIVE', profile };
}

function group(profile: OktaGroup['profile'], id = '00g1a2b3c4'): OktaGroup {
  return { id, type: 'OKTA_GROUP', profile };
}

async function transformUser(
  oktaUser: OktaUser,
  overrides: Partial<OktaTransformerContext> = {},
) {
  return defaultUserTransformer(oktaUser, { ...context, ...overrides });
}

async function transformGroup(
  oktaGroup: OktaGroup,
  overrides: Partial<OktaTransformerContext> = {},
) {
  return defaultGroupTransformer(oktaGroup, { ...context, ...overrides });
}

describe('defaultUserTransformer', () => {
  it('makes a User entity', async () => {
    const entity = await transformUser(
      user({
        login: 'jane.doe@acme.com',
        email: 'Jane.Doe@acme.com',
        firstName: 'Jane',
        lastName: 'Doe',
        displayName: 'Jane Q. Doe',
      }),
    );
    expect(entity).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: 'jane.doe',
        annotations: {
          'backstage.io/managed-by-location':
            'okta:default:https://acme.okta.com/api/v1/users/00u1a2b3c4',
          'backstage.io/managed-by-origin-location':
            'okta:default:https://acme.okta.com/api/v1/users/00u1a2b3c4',
          'okta.com/user-id': '00u1a2b3c4',
          'okta.com/email': 'Jane.Doe@acme.com',
          'okta.com/login': 'jane.doe@acme.com',
        },
      },
      spec: {
        profile: { displayName: 'Jane Q. Doe', email: 'Jane.Doe@acme.com' },
        memberOf: [],
      },
    });
    expect(await userEntityV1alpha1Validator.check(entity!)).toBe(true);
  });

  it('writes a location ref that parses as type okta', async () => {
    const entity = await transformUser(user({ login: 'a@b.c' }));
    expect(
      parseLocationRef(
        entity!.metadata.annotations!['backstage.io/managed-by-location'],
      ),
    ).toEqual({
      type: 'okta',
      target: 'default:https://acme.okta.com/api/v1/users/00u1a2b3c4',
    });
  });

  describe('naming', () => {
    it.each([
      // [naming, profile, expected name]
      [
        'emailLocalPart',
        { email: 'jane.doe@acme.com', login: 'jd@acme.com' },
        'jane.doe',
      ],
      ['emailLocalPart', { login: 'jd@acme.com' }, 'jd'],
      ['emailLocalPart', { login: 'jdoe' }, 'jdoe'],
      ['emailLocalPart', { email: '"odd@local"@acme.com' }, 'odd_local'],
      [
        'emailLocalPart',
        { email: '研发@acme.com', login: 'rd.team@acme.com' },
        'rd.team',
      ],
      [
        'email',
        { email: 'jane.doe@acme.com', login: 'jd' },
        'jane.doe_acme.com',
      ],
      ['email', { login: 'jd@acme.com' }, 'jd_acme.com'],
      [
        'login',
        { email: 'jane.doe@acme.com', login: 'JD@acme.com' },
        'jd_acme.com',
      ],
      ['login', { email: 'jane.doe@acme.com', login: 'jdoe' }, 'jdoe'],
      ['emailLocalPart', { email: 'José.Núñez@acme.com' }, 'jose.nunez'],
    ] as const)('with %s names %j as %j', async (userNaming, profile, name) => {
      const entity = await transformUser(user({ ...profile }), { userNaming });
      expect(entity?.metadata.name).toBe(name);
    });

    it('falls back to the Okta id when nothing else gives a name', async () => {
      const entity = await transformUser(
        user({ email: '张伟@acme.cn', login: '张伟@acme.cn' }, '00uABC123'),
      );
      expect(entity?.metadata.name).toBe('00uabc123');
      expect(entity?.metadata.annotations?.['okta.com/email']).toBe(
        '张伟@acme.cn',
      );
    });

    it('falls back to the Okta id for a user with neither email nor login', async () => {
      const entity = await transformUser(user({}, '00uXYZ'));
      expect(entity?.metadata.name).toBe('00uxyz');
      expect(entity?.spec.profile).toEqual({});
      expect(entity?.metadata.annotations).not.toHaveProperty('okta.com/email');
      expect(entity?.metadata.annotations).not.toHaveProperty('okta.com/login');
    });
  });

  describe('display name', () => {
    it.each([
      [{ displayName: '  Jane   Doe ' }, 'Jane Doe'],
      [{ firstName: 'Jane', lastName: 'Doe' }, 'Jane Doe'],
      [{ firstName: 'Jane', lastName: null }, 'Jane'],
      [{ firstName: null, lastName: 'Doe' }, 'Doe'],
      [{ displayName: '', firstName: 'Jane', lastName: 'Doe' }, 'Jane Doe'],
      [{ displayName: null, firstName: ' ', lastName: '' }, undefined],
      [{ displayName: 'Jane\u0000\u001b[31mDoe\u202e' }, 'Jane [31mDoe'],
      [{ displayName: 'line\nbreak' }, 'line break'],
    ])('from %j is %j', async (profile, displayName) => {
      const entity = await transformUser(user({ login: 'jd', ...profile }));
      expect(entity?.spec.profile?.displayName).toBe(displayName);
    });

    it('is capped at 256 characters', async () => {
      const entity = await transformUser(
        user({ login: 'jd', displayName: '😀'.repeat(1000) }),
      );
      const displayName = entity!.spec.profile!.displayName!;
      expect(Array.from(displayName)).toHaveLength(256);
      expect(displayName.endsWith('…')).toBe(true);
    });
  });

  it.each([[''], ['  '], [null], [undefined], [42]])(
    'skips a user whose id is %j',
    async id => {
      const oktaUser = { profile: { login: 'jd' }, id } as unknown as OktaUser;
      expect(await transformUser(oktaUser)).toBeUndefined();
    },
  );

  it('leaves out an email that is not a usable identifier', async () => {
    const entity = await transformUser(
      user({ login: 'jd', email: `${'x'.repeat(400)}@acme.com` }),
    );
    expect(entity?.spec.profile).not.toHaveProperty('email');
    expect(entity?.metadata.annotations).not.toHaveProperty('okta.com/email');
    const withControl = await transformUser(
      user({ login: 'jd', email: 'jd@acme.com\u0000' }),
    );
    // Trailing controls are trimmed like whitespace.
    expect(withControl?.spec.profile?.email).toBe('jd@acme.com');
    const withInnerControl = await transformUser(
      user({ login: 'jd', email: 'jd\u0007x@acme.com' }),
    );
    expect(withInnerControl?.spec.profile).not.toHaveProperty('email');
  });
});

describe('defaultGroupTransformer', () => {
  it('makes a Group entity', async () => {
    const entity = await transformGroup(
      group({
        name: 'Platform Engineering',
        description: 'Builds the platform',
      }),
      { groupType: 'department', providerId: 'emea' },
    );
    expect(entity).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: {
        name: 'platform_engineering',
        description: 'Builds the platform',
        annotations: {
          'backstage.io/managed-by-location':
            'okta:emea:https://acme.okta.com/api/v1/groups/00g1a2b3c4',
          'backstage.io/managed-by-origin-location':
            'okta:emea:https://acme.okta.com/api/v1/groups/00g1a2b3c4',
          'okta.com/group-id': '00g1a2b3c4',
        },
      },
      spec: {
        type: 'department',
        profile: { displayName: 'Platform Engineering' },
        children: [],
      },
    });
    expect(await groupEntityV1alpha1Validator.check(entity!)).toBe(true);
  });

  it('leaves out a null or blank description', async () => {
    for (const description of [null, '', '  \n ']) {
      const entity = await transformGroup(
        group({ name: 'Sales', description }),
      );
      expect(entity?.metadata).not.toHaveProperty('description');
    }
  });

  it('caps a huge description', async () => {
    const entity = await transformGroup(
      group({ name: 'Sales', description: 'x'.repeat(100_000) }),
    );
    expect(entity!.metadata.description!.length).toBeLessThanOrEqual(1024);
  });

  it('names a group whose name has no usable characters by its Okta id', async () => {
    const entity = await transformGroup(group({ name: '研发团队' }, '00gRD'));
    expect(entity?.metadata.name).toBe('00grd');
    expect(entity?.spec.profile?.displayName).toBe('研发团队');
  });

  it.each([
    ['no name', group({ name: null })],
    ['a blank name', group({ name: ' \u0000 ' })],
    ['no id', { profile: { name: 'Sales' } } as unknown as OktaGroup],
  ])('skips a group with %s', async (_label, oktaGroup) => {
    expect(await transformGroup(oktaGroup)).toBeUndefined();
  });
});

describe('entities from odd profiles are always valid', () => {
  const ODD_VALUES: unknown[] = [
    null,
    undefined,
    '',
    ' ',
    'plain',
    'José Núñez',
    '研发',
    '😀👩‍💻',
    '\u0000\u0001\u001f',
    'a\nb\tc',
    '\ud800broken',
    '\u202eevil',
    'x'.repeat(5000),
    'a@b@c',
    '@',
    '.',
    '-_-',
    42,
    { nested: true },
  ];

  it('for users and groups', async () => {
    const validator = makeValidator();
    let checked = 0;
    const groupEntities: Array<GroupEntity | undefined> = [];
    for (const a of ODD_VALUES) {
      for (const b of ODD_VALUES) {
        for (const userNaming of [
          'emailLocalPart',
          'email',
          'login',
        ] as const) {
          const entity = await transformUser(
            {
              id: '00uodd',
              profile: { email: a, login: b, displayName: a, firstName: b },
            } as unknown as OktaUser,
            { userNaming },
          );
          expect(entity).toBeDefined();
          expect(validator.isValidEntityName(entity!.metadata.name)).toBe(true);
          expect(await userEntityV1alpha1Validator.check(entity!)).toBe(true);
          checked++;
        }
        const groupEntity = await transformGroup({
          id: '00godd',
          profile: { name: a, description: b },
        } as unknown as OktaGroup);
        groupEntities.push(groupEntity);
      }
    }
    expect(checked).toBe(ODD_VALUES.length ** 2 * 3);

    const madeGroups = groupEntities.filter(
      (entity): entity is GroupEntity => entity !== undefined,
    );
    // Only the profiles with a usable group name make a group.
    expect(madeGroups.length).toBeGreaterThan(ODD_VALUES.length * 5);
    for (const groupEntity of madeGroups) {
      expect(validator.isValidEntityName(groupEntity.metadata.name)).toBe(true);
      expect(await groupEntityV1alpha1Validator.check(groupEntity)).toBe(true);
      const texts = [
        groupEntity.metadata.description ?? '',
        groupEntity.spec.profile?.displayName ?? '',
      ];
      expect(texts.filter(t => /\p{Cc}/u.test(t))).toEqual([]);
    }
  });
});
