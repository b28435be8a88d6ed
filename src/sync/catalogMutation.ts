/*
 * What a run sends the catalog. The first run of a process, every full read
 * and a provider without state send the whole selection as a full mutation:
 * a changed transformer or module version takes effect at once, and
 * anything that drifted in the catalog is put right. Every other run sends a
 * delta: only the entities whose hash differs from the one last applied
 * (kept per entity ref in the state, so every replica sees what any of them
 * applied), and the refs that are gone.
 */
import { createHash } from 'node:crypto';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import type { OktaProviderSyncState } from '../state/OktaSyncStateStore';

/** What a run's mutation holds, for its summary and log line. */
export interface OktaCatalogMutationCounts {
  type: 'full' | 'delta';
  /** Entities sent (all of them in a full mutation). */
  added: number;
  /** Entity refs sent as removed (0 in a full mutation: the catalog works them out). */
  removed: number;
}

/** A mutation to apply, and what to record once it is applied. */
export interface OktaCatalogMutationPlan {
  mutation: EntityProviderMutation;
  counts: OktaCatalogMutationCounts;
  /** Call before applying: forgets the hashes the mutation will change. */
  prepare(): Promise<void>;
  /** Call once applied: records the new hashes. */
  record(): Promise<void>;
}

/** The key an applied entity is kept under: its ref, lower-cased as the catalog compares them. */
export function appliedEntityKey(entity: Entity): string {
  return stringifyEntityRef(entity).toLocaleLowerCase('en-US');
}

/** A hash of the entity as it would be applied. */
export function appliedEntityHash(entity: Entity): string {
  return createHash('sha256').update(JSON.stringify(entity)).digest('hex');
}

/**
 * Plans the run's mutation: a delta when `delta` is asked for and the state
 * knows what was applied last, else a full mutation.
 */
export async function planCatalogMutation(
  entities: Entity[],
  options: {
    locationKey: string;
    state?: OktaProviderSyncState;
    delta: boolean;
  },
): Promise<OktaCatalogMutationPlan> {
  const { locationKey, state } = options;
  const hashes = new Map<string, string>();
  const byKey = new Map<string, Entity>();
  for (const entity of entities) {
    const key = appliedEntityKey(entity);
    hashes.set(key, appliedEntityHash(entity));
    byKey.set(key, entity);
  }
  const applied =
    options.delta && state ? await state.loadAppliedHashes() : undefined;
  if (!state || !applied || applied.size === 0) {
    return {
      mutation: {
        type: 'full',
        entities: entities.map(entity => ({ entity, locationKey })),
      },
      counts: { type: 'full', added: entities.length, removed: 0 },
      prepare: async () => state?.forgetAppliedHashes('all'),
      record: async () => state?.recordAppliedHashes(hashes),
    };
  }
  const changed = new Map<string, string>();
  for (const [key, hash] of hashes) {
    if (applied.get(key) !== hash) changed.set(key, hash);
  }
  const removed = [...applied.keys()].filter(key => !hashes.has(key));
  return {
    mutation: {
      type: 'delta',
      added: [...changed.keys()].map(key => ({
        entity: byKey.get(key)!,
        locationKey,
      })),
      removed: removed.map(entityRef => ({ entityRef, locationKey })),
    },
    counts: { type: 'delta', added: changed.size, removed: removed.length },
    prepare: () => state.forgetAppliedHashes([...changed.keys(), ...removed]),
    record: () => state.recordAppliedHashes(changed),
  };
}
