/*
 * The seen-event and System Log cursor stores in the catalog plugin's
 * database, shared by every replica: an event delivered to two replicas
 * (Okta redelivers at least once, and a load balancer may pick another
 * replica) is claimed by exactly one, with one atomic
 * `INSERT ... ON CONFLICT DO NOTHING RETURNING`; the cursor a replica
 * stored is where the next replica's poll resumes.
 *
 * The incremental-sync state may take these tables over; until then they
 * are created here, on first use, if missing.
 */
import type {
  DatabaseService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import { InMemoryOktaSeenEventStore } from './OktaChangeBatcher';
import type { OktaSeenEventStore, OktaSystemLogCursorStore } from './types';

export const SEEN_EVENTS_TABLE = 'okta_push_seen_events';
export const SYSTEM_LOG_CURSORS_TABLE = 'okta_push_system_log_cursors';

/** Okta redelivers for hours at most; a day is ample. */
const DEFAULT_SEEN_TTL_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Rows per insert, well under every client's bound-parameter limit. */
const CHUNK = 300;

async function createTableIfMissing(
  knex: Knex,
  table: string,
  build: (t: Knex.CreateTableBuilder) => void,
): Promise<void> {
  if (await knex.schema.hasTable(table)) return;
  try {
    await knex.schema.createTable(table, build);
  } catch (error) {
    // Another replica created it at the same moment.
    if (!(await knex.schema.hasTable(table))) throw error;
  }
}

export class DatabaseOktaSeenEventStore implements OktaSeenEventStore {
  private lastPrune = 0;

  constructor(
    private readonly knex: Knex,
    private readonly providerId: string,
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  async claim(uuids: string[]): Promise<string[]> {
    const now = this.clock();
    await this.pruneNowAndThen(now);
    const unique = [...new Set(uuids)];
    const fresh: string[] = [];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const rows = (await this.knex(SEEN_EVENTS_TABLE)
        .insert(
          unique.slice(i, i + CHUNK).map(uuid => ({
            provider_id: this.providerId,
            uuid,
            seen_at: now,
          })),
        )
        .onConflict(['provider_id', 'uuid'])
        .ignore()
        .returning('uuid')) as Array<{ uuid: string }>;
      for (const row of rows) fresh.push(row.uuid);
    }
    return fresh;
  }

  private async pruneNowAndThen(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.knex(SEEN_EVENTS_TABLE)
      .where('provider_id', this.providerId)
      .andWhere('seen_at', '<', now - this.ttlMs)
      .delete();
  }
}

export class DatabaseOktaSystemLogCursorStore implements OktaSystemLogCursorStore {
  constructor(
    private readonly knex: Knex,
    private readonly providerId: string,
    private readonly clock: () => number,
  ) {}

  async read(): Promise<string | undefined> {
    const row = (await this.knex(SYSTEM_LOG_CURSORS_TABLE)
      .where('provider_id', this.providerId)
      .first('next_url')) as { next_url: string } | undefined;
    return row?.next_url;
  }

  async write(nextUrl: string): Promise<void> {
    await this.knex(SYSTEM_LOG_CURSORS_TABLE)
      .insert({
        provider_id: this.providerId,
        next_url: nextUrl,
        updated_at: this.clock(),
      })
      .onConflict('provider_id')
      .merge(['next_url', 'updated_at']);
  }
}

/** Creates the tables if needed and returns store factories per provider. */
export async function createDatabasePushStores(
  database: DatabaseService,
  logger: LoggerService,
  options: { seenTtlMs?: number; clock?: () => number } = {},
): Promise<{
  seenFor(providerId: string): OktaSeenEventStore;
  cursorFor(providerId: string): OktaSystemLogCursorStore;
}> {
  const knex = await database.getClient();
  const client = String(knex.client.config.client);
  if (/mysql/i.test(client)) {
    // No RETURNING on MySQL: the claim could not be made atomic there.
    logger.warn(
      'Okta push updates: the database is MySQL, on which replicas cannot share the seen-event store; each replica keeps its own in memory',
    );
  }
  await createTableIfMissing(knex, SEEN_EVENTS_TABLE, t => {
    t.string('provider_id', 63).notNullable();
    t.string('uuid', 64).notNullable();
    t.bigInteger('seen_at').notNullable();
    t.primary(['provider_id', 'uuid']);
    t.index(['seen_at']);
  });
  await createTableIfMissing(knex, SYSTEM_LOG_CURSORS_TABLE, t => {
    t.string('provider_id', 63).primary();
    t.text('next_url').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  const ttlMs = options.seenTtlMs ?? DEFAULT_SEEN_TTL_MS;
  const clock = options.clock ?? Date.now;
  return {
    seenFor: providerId =>
      /mysql/i.test(client)
        ? new InMemoryOktaSeenEventStore()
        : new DatabaseOktaSeenEventStore(knex, providerId, ttlMs, clock),
    cursorFor: providerId =>
      new DatabaseOktaSystemLogCursorStore(knex, providerId, clock),
  };
}
