import { describe, expect, it } from '@jest/globals';
import type { Entity } from '@backstage/catalog-model';
import { knex } from 'knex';
import { OktaSyncStateStore } from '../state/OktaSyncStateStore';
import { planCatalogMutation } from './catalogMutation';

const user = (name: string, title = ''): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, ...(title && { title }) },
  spec: { memberOf: [] },
});

describe('planCatalogMutation', () => {
  it('sends everything first, then only what differs, and resends what a lost record left unknown', async () => {
    const db = knex({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
    });
    try {
      const state = (await OktaSyncStateStore.create(db)).forProvider('p');
      const options = { locationKey: 'loc', state, delta: true };
      const apply = async (entities: Entity[], record = true) => {
        const plan = await planCatalogMutation(entities, options);
        await plan.prepare();
        if (record) await plan.record();
        return plan;
      };

      // No applied hashes yet: a full mutation, however delta was asked for.
      const first = await apply([user('a'), user('b'), user('c')]);
      expect(first.counts).toEqual({ type: 'full', added: 3, removed: 0 });

      // One changed, one gone, one new: only those.
      const second = await apply([user('a', 'x'), user('b'), user('d')]);
      expect(second.counts).toEqual({ type: 'delta', added: 2, removed: 1 });
      expect(second.mutation).toEqual({
        type: 'delta',
        added: [
          { entity: user('a', 'x'), locationKey: 'loc' },
          { entity: user('d'), locationKey: 'loc' },
        ],
        removed: [{ entityRef: 'user:default/c', locationKey: 'loc' }],
      });

      // Applied but its record lost: what it changed is sent again next time.
      await apply([user('a', 'y'), user('b'), user('d')], false);
      const after = await apply([user('a', 'y'), user('b'), user('d')]);
      expect(after.counts).toEqual({ type: 'delta', added: 1, removed: 0 });

      // Nothing changed: an empty delta.
      const quiet = await apply([user('a', 'y'), user('b'), user('d')]);
      expect(quiet.counts).toEqual({ type: 'delta', added: 0, removed: 0 });

      // A full mutation when asked for one, and without state.
      const full = await planCatalogMutation([user('a')], {
        ...options,
        delta: false,
      });
      expect(full.counts.type).toBe('full');
      const stateless = await planCatalogMutation([user('a')], {
        locationKey: 'loc',
        delta: true,
      });
      expect(stateless.counts.type).toBe('full');
    } finally {
      await db.destroy();
    }
  });
});
