/*
 * A fake EntityProviderConnection that records the mutations a provider
 * applies, optionally passing them on to a real catalog connection. Not part
 * of the published module.
 */
import type { Entity } from '@backstage/catalog-model';
import type {
  EntityProviderConnection,
  EntityProviderMutation,
  EntityProviderRefreshOptions,
} from '@backstage/plugin-catalog-node';

/** Records every applied mutation; forwards them when given a connection. */
export class RecordingConnection implements EntityProviderConnection {
  readonly mutations: EntityProviderMutation[] = [];

  constructor(private readonly forwardTo?: EntityProviderConnection) {}

  async applyMutation(mutation: EntityProviderMutation): Promise<void> {
    this.mutations.push(mutation);
    await this.forwardTo?.applyMutation(mutation);
  }

  async refresh(options: EntityProviderRefreshOptions): Promise<void> {
    await this.forwardTo?.refresh(options);
  }

  /** The entities of the latest full mutation, sorted by kind and name. */
  lastFullEntities(): Entity[] {
    const full = this.mutations.filter(m => m.type === 'full').pop();
    if (!full || full.type !== 'full') {
      throw new Error('No full mutation was applied');
    }
    return full.entities
      .map(deferred => deferred.entity)
      .sort((a, b) =>
        `${a.kind}:${a.metadata.name}`.localeCompare(
          `${b.kind}:${b.metadata.name}`,
        ),
      );
  }
}
