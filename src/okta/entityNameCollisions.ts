/*
 * One entity per name: when records of one kind want the same entity name,
 * the oldest keeps it and the others are renamed deterministically; and the
 * order entities are committed in (sorted by name, so unchanged entities
 * hash the same).
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { DEFAULT_NAMESPACE, type Entity } from '@backstage/catalog-model';
import { normalizeEntityName, withNameSuffix } from './entityNames';
import type { OktaRecordKind } from './oktaIdentity';
import { compareByOktaId, entityKey, type UserRecord } from './orgRecords';

/** Older users keep their names: a newcomer never renames an existing user. */
export function compareUsersBySeniority(a: UserRecord, b: UserRecord): number {
  const createdA = a.created;
  const createdB = b.created;
  if (createdA !== createdB) {
    // Records without a creation time sort last.
    if (!createdA) return 1;
    if (!createdB) return -1;
    return createdA < createdB ? -1 : 1;
  }
  return compareByOktaId(a, b);
}

export function resolveNameCollisions<
  R extends { oktaId: string; entity: Entity },
>(
  kind: OktaRecordKind,
  records: R[],
  compare: (a: R, b: R) => number,
  logger: LoggerService,
) {
  const claimants = new Map<string, R[]>();
  for (const record of records) {
    const key = entityKey(record.entity);
    const list = claimants.get(key);
    if (list) {
      list.push(record);
    } else {
      claimants.set(key, [record]);
    }
  }

  // Every first claimant keeps its name before any other name is given out,
  // so a suffixed name can never take a name someone holds outright.
  const taken = new Set(claimants.keys());
  const sortedKeys = [...claimants.keys()].sort();
  for (const key of sortedKeys) {
    const [keeper, ...others] = claimants.get(key)!.sort(compare);
    for (const other of others) {
      const wanted = other.entity.metadata.name;
      const idPart = normalizeEntityName(other.oktaId)!.slice(0, 32);
      let renamed = withNameSuffix(wanted, idPart);
      for (
        let n = 2;
        taken.has(entityKeyWithName(other.entity, renamed));
        n++
      ) {
        renamed = withNameSuffix(wanted, `${idPart}-${n}`);
      }
      taken.add(entityKeyWithName(other.entity, renamed));
      other.entity.metadata.name = renamed;
      logger.warn(
        `Okta ${kind}s ${keeper.oktaId} and ${other.oktaId} both map to the entity name "${wanted}"; ${keeper.oktaId} keeps it and ${other.oktaId} is named "${renamed}"`,
      );
    }
  }
}

function entityKeyWithName(entity: Entity, name: string): string {
  return `${entity.metadata.namespace ?? DEFAULT_NAMESPACE}/${name}`.toLowerCase();
}

export function sortByName<T extends Entity>(entities: T[]): T[] {
  return entities
    .map(entity => ({ entity, key: entityKey(entity) }))
    .sort((a, b) => {
      if (a.key === b.key) return 0;
      return a.key < b.key ? -1 : 1;
    })
    .map(({ entity }) => entity);
}
