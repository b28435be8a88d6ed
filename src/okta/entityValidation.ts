/*
 * Whether the catalog would accept an entity: the same policies and kind
 * validators the catalog applies, so that an entity it would reject is left
 * out with a warning instead of failing the whole commit.
 */
import {
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';
import { OKTA_USER_ID_ANNOTATION } from './constants';
import type { OktaRecordKind } from './oktaIdentity';

const entityPolicy = EntityPolicies.allOf([
  new FieldFormatEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

let validationPrepared: Promise<void> | undefined;

/**
 * Compiles the catalog's entity validators (about 60 ms of CPU, once per
 * process) by validating one sample user and group. The provider calls it
 * when it connects, so that a sync never spends that time between Okta's
 * answers; validation compiles them on first use otherwise.
 */
export function prepareEntityValidation(): Promise<void> {
  validationPrepared ??= (async () => {
    const annotations = { [OKTA_USER_ID_ANNOTATION]: '00u0' };
    await validationProblem('user', {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: 'sample', annotations },
      spec: { profile: { email: 'sample@example.com' }, memberOf: [] },
    });
    await validationProblem('group', {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'sample' },
      spec: { type: 'team', children: [], members: [] },
    });
  })();
  return validationPrepared;
}

export async function validationProblem(
  kind: OktaRecordKind,
  entity: Entity,
): Promise<string | undefined> {
  try {
    await entityPolicy.enforce(entity);
    const validator =
      kind === 'user'
        ? userEntityV1alpha1Validator
        : groupEntityV1alpha1Validator;
    if (!(await validator.check(entity))) {
      return `expected kind ${kind === 'user' ? 'User' : 'Group'}, got ${JSON.stringify(
        entity.kind,
      )}`;
    }
    return undefined;
  } catch (error) {
    // Messages may quote profile values; keep them to a readable size.
    const message = error instanceof Error ? error.message : String(error);
    return message.length > 300 ? `${message.slice(0, 299)}…` : message;
  }
}
