import { type UserEntity } from '@backstage/catalog-model';
import { mockServices } from '@backstage/backend-test-utils';
import { defaultUserTransformer } from './defaultTransformers';
import { buildOrgEntities } from './org';
import {
  entityNameOrOktaId,
  oktaIdOf,
  oktaLocationAnnotations,
} from './oktaIdentity';
import type { OktaTransformerContext } from './types';

const context: OktaTransformerContext = {
  providerId: 'default',
  orgUrl: 'https://acme.okta.com',
  userNaming: 'emailLocalPart',
  groupType: 'team',
};

describe('oktaIdOf', () => {
  it.each([
    [{ id: '00u1' }, '00u1'],
    [{ id: ' 00u1\n' }, '00u1'],
    [{ id: '00u1\u0000' }, '00u1'],
    [{ id: '00u 1' }, undefined],
    [{ id: '' }, undefined],
    [{ id: 7 }, undefined],
    [{}, undefined],
    [undefined, undefined],
  ])('reads %j as %j', (record, expected) => {
    expect(oktaIdOf(record)).toBe(expected);
  });
});

describe('entityNameOrOktaId', () => {
  it('takes the first candidate that gives a name, else the id', () => {
    expect(entityNameOrOktaId([undefined, '田中', 'Jane Doe'], '00u1')).toBe(
      'jane_doe',
    );
    expect(entityNameOrOktaId(['田中', 42], '00U1')).toBe('00u1');
    expect(entityNameOrOktaId([], '田中')).toBeUndefined();
  });
});

describe('one identity for default and custom entities', () => {
  // The default transformer and the builder read the Okta id by one rule, so
  // the id annotation and the locations of an entity always name one id.
  it('gives the same id, name and locations whichever path made the entity', async () => {
    const user = {
      id: '00u1\u0000',
      status: 'ACTIVE',
      created: '2024-01-01T00:00:00.000Z',
      profile: { login: '田中@acme.com' },
    };
    const direct = defaultUserTransformer(user, context) as UserEntity;
    const built = await buildOrgEntities(
      { users: [user], groups: [], membersByGroupId: new Map() },
      {
        context,
        userTransformer: defaultUserTransformer,
        groupTransformer: () => undefined,
        logger: mockServices.logger.mock(),
      },
    );
    const custom = await buildOrgEntities(
      { users: [user], groups: [], membersByGroupId: new Map() },
      {
        context,
        userTransformer: () => ({
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'User',
          metadata: { name: '田中' },
          spec: {},
        }),
        groupTransformer: () => undefined,
        logger: mockServices.logger.mock(),
      },
    );
    const expected = {
      ...oktaLocationAnnotations(context, 'user', '00u1'),
      'okta.com/user-id': '00u1',
    };
    expect(direct.metadata.name).toBe('00u1');
    expect(direct.metadata.annotations).toEqual({
      ...expected,
      'okta.com/login': '田中@acme.com',
    });
    expect(built.users.map(u => u.metadata)).toEqual([direct.metadata]);
    expect(custom.users.map(u => u.metadata)).toEqual([
      { name: '00u1', annotations: expected },
    ]);
  });
});
