/*
 * The records the entity builder keeps for one run, and the small pieces
 * its steps (names, relations) share to handle and report them.
 */
import {
  DEFAULT_NAMESPACE,
  type Entity,
  type GroupEntity,
  type UserEntity,
} from '@backstage/catalog-model';
import type { OktaGroup } from './client/types';

/** How many Okta ids a summarised warning lists before "and N more". */
const MAX_IDS_IN_WARNING = 20;

/**
 * One emitted user: its entity and what is kept of the Okta user, which is
 * only what ordering needs (the rest of the record is let go at once).
 */
export interface UserRecord {
  oktaId: string;
  created: string;
  entity: UserEntity;
}
/** One emitted group and its Okta group (groups are few; the hierarchy reads them). */
export interface GroupRecord {
  oktaId: string;
  source: OktaGroup;
  entity: GroupEntity;
}

export function compareByOktaId(
  a: { oktaId: string },
  b: { oktaId: string },
): number {
  if (a.oktaId === b.oktaId) return 0;
  return a.oktaId < b.oktaId ? -1 : 1;
}

export function entityKey(entity: Entity): string {
  return `${entity.metadata.namespace ?? DEFAULT_NAMESPACE}/${entity.metadata.name}`.toLowerCase();
}

export function addToList<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const existing = map.get(key);
  if (existing) {
    existing.push(value);
  } else {
    map.set(key, [value]);
  }
}

/** Okta ids for a warning: the first few, then how many more. */
export function listIds(ids: string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_WARNING).join(', ');
  return ids.length > MAX_IDS_IN_WARNING
    ? `${shown} and ${ids.length - MAX_IDS_IN_WARNING} more`
    : shown;
}
