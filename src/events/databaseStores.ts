/*
 * The push-update stores in the catalog plugin's database, shared by every
 * replica: the change queue (with the uuids already accepted) and the System
 * Log cursor, in the module's state tables (created by its migrations, see
 * src/state/migrations.ts). An event delivered to two replicas (Okta
 * redelivers at least once, and a load balancer may pick another replica)
 * is accepted by exactly one; the cursor a replica stored is where the next
 * replica's poll resumes.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import { OKTA_STATE_TABLES, migrateOktaState } from '../state/migrations';
import {
  DatabaseOktaChangeQueue,
  type OktaAcceptingChangeQueue,
} from './changeQueue';
import type { OktaSystemLogCursorStore } from './types';

/** Okta redelivers for hours at most; a day is ample. */
const DEFAULT_SEEN_TTL_MS = 24 * 3600 * 1000;

export class DatabaseOktaSystemLogCursorStore implements OktaSystemLogCursorStore {
  constructor(
    private readonly knex: Knex,
    private readonly providerId: string,
    private readonly clock: () => number,
  ) {}

  async read(): Promise<string | undefined> {
    const row = (await this.knex(OKTA_STATE_TABLES.systemLogCursors)
      .where('provider_id', this.providerId)
      .first('next_url')) as { next_url: string } | undefined;
    return row?.next_url;
  }

  async write(nextUrl: string): Promise<void> {
    await this.knex(OKTA_STATE_TABLES.systemLogCursors)
      .insert({
        provider_id: this.providerId,
        next_url: nextUrl,
        updated_at: this.clock(),
      })
      .onConflict('provider_id')
      .merge(['next_url', 'updated_at']);
  }
}

/** Per-provider push-update stores on one database. */
export interface OktaPushStores {
  queueFor(providerId: string): OktaAcceptingChangeQueue;
  cursorFor(providerId: string): OktaSystemLogCursorStore;
}

/** Brings the tables up to date (idempotent) and returns store factories per provider. */
export async function createDatabasePushStores(
  knex: Knex,
  logger: LoggerService,
  options: { seenTtlMs?: number; clock?: () => number } = {},
): Promise<OktaPushStores> {
  await migrateOktaState(knex);
  const mysql = /mysql/i.test(String(knex.client.config.client));
  if (mysql) {
    // No RETURNING on MySQL: the uuid claim could not be made atomic there.
    logger.warn(
      'Okta push updates: the database is MySQL, on which replicas cannot share the seen-event store; each replica remembers the event uuids it accepted in memory (the change queue is still shared)',
    );
  }
  const seenTtlMs = options.seenTtlMs ?? DEFAULT_SEEN_TTL_MS;
  const clock = options.clock ?? Date.now;
  return {
    queueFor: providerId =>
      new DatabaseOktaChangeQueue(knex, providerId, {
        seenTtlMs,
        clock,
        claimInMemory: mysql,
      }),
    cursorFor: providerId =>
      new DatabaseOktaSystemLogCursorStore(knex, providerId, clock),
  };
}
