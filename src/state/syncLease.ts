/*
 * One writer per provider at a time, across replicas: a provider's
 * scheduled sync and the application of its pushed changes both read Okta
 * and then replace the provider's entities, so two of them at once (on one
 * replica or two) could commit an older read after a newer one. Whoever
 * applies takes the provider's lease first.
 *
 * The lease is a row in the state tables with a holder id and an expiry. The
 * holder renews it while it works (every third of its time to live), so a
 * lease whose replica died is free again within the time to live, not
 * after the schedule's timeout. A holder that fails to renew (the database
 * was unreachable for longer than that) is told so through the signal it
 * works under, and stops before it commits. Within one process a mutex
 * queues the callers, so the database is asked only by the first in line.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { OKTA_STATE_TABLES } from './migrations';

/**
 * The default time to live of a lease (ms), renewed every 5 s: a replica
 * that dies holding it blocks the others for at most this long, and a
 * database outage this long stops the holder's work.
 */
export const DEFAULT_LEASE_TTL_MS = 15_000;
const POLL_MS = 200;

/** The lease was not free within the time the caller would wait. */
export class OktaSyncBusyError extends Error {
  override name = 'OktaSyncBusyError';
}

/** The database lease of one provider. */
export class OktaSyncLease {
  constructor(
    private readonly db: Knex,
    private readonly providerId: string,
    private readonly options: { ttlMs?: number; clock?: () => number } = {},
  ) {}

  get ttlMs(): number {
    return this.options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /** Takes the lease if it is free or expired; the holder id, or undefined. */
  async tryAcquire(): Promise<string | undefined> {
    const holder = randomUUID();
    const now = this.now();
    const table = OKTA_STATE_TABLES.leases;
    const taken = await this.db(table)
      .where('provider_id', this.providerId)
      .andWhere('expires_at', '<', now)
      .update({ holder, expires_at: now + this.ttlMs });
    if (taken === 1) return holder;
    await this.db(table)
      .insert({
        provider_id: this.providerId,
        holder,
        expires_at: now + this.ttlMs,
      })
      .onConflict('provider_id')
      .ignore();
    const row = (await this.db(table)
      .where('provider_id', this.providerId)
      .first('holder')) as { holder: string } | undefined;
    return row?.holder === holder ? holder : undefined;
  }

  /** Extends the lease; false when `holder` no longer holds it. */
  async renew(holder: string): Promise<boolean> {
    const updated = await this.db(OKTA_STATE_TABLES.leases)
      .where({ provider_id: this.providerId, holder })
      .update({ expires_at: this.now() + this.ttlMs });
    return updated === 1;
  }

  async release(holder: string): Promise<void> {
    await this.db(OKTA_STATE_TABLES.leases)
      .where({ provider_id: this.providerId, holder })
      .delete();
  }
}

/** Options of {@link OktaSyncLock.run}. */
export interface OktaSyncLockRunOptions {
  /** Stops waiting (and aborts the work's signal) when aborted. */
  signal?: AbortSignal;
  /** How long to wait for the lease; default: as long as `signal` allows. */
  maxWaitMs?: number;
}

/**
 * Runs work for one provider one at a time: in this process always, and
 * across replicas when given the provider's database lease.
 */
export class OktaSyncLock {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly lease?: OktaSyncLease) {}

  /**
   * Runs `work` once the lock is held, with a signal that aborts when the
   * caller's does or the lease is lost. Rejects with OktaSyncBusyError when
   * the lease was not free within `maxWaitMs`.
   */
  async run<T>(
    work: (signal: AbortSignal) => Promise<T>,
    options: OktaSyncLockRunOptions = {},
  ): Promise<T> {
    const previous = this.tail;
    let done!: () => void;
    const mine = new Promise<void>(resolve => {
      done = resolve;
    });
    this.tail = previous.then(() => mine);
    try {
      await previous;
      return await this.underLease(work, options);
    } finally {
      done();
    }
  }

  private async underLease<T>(
    work: (signal: AbortSignal) => Promise<T>,
    options: OktaSyncLockRunOptions,
  ): Promise<T> {
    const controller = new AbortController();
    const { signal } = options;
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw signal.reason;
      if (!this.lease) return await work(controller.signal);
      const lease = this.lease;
      const holder = await this.acquire(lease, options);
      const heartbeat = setInterval(() => {
        lease.renew(holder).then(
          held => {
            if (!held)
              controller.abort(
                new Error(
                  'Lost the sync lease (another replica took it over); stopping before the commit',
                ),
              );
          },
          error =>
            controller.abort(
              new Error(
                `Could not renew the sync lease: ${error instanceof Error ? error.message : String(error)}`,
              ),
            ),
        );
      }, lease.ttlMs / 3);
      heartbeat.unref();
      try {
        return await work(controller.signal);
      } finally {
        clearInterval(heartbeat);
        await lease.release(holder).catch(() => {
          // Expires by itself.
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async acquire(
    lease: OktaSyncLease,
    options: OktaSyncLockRunOptions,
  ): Promise<string> {
    const deadline =
      options.maxWaitMs === undefined
        ? Infinity
        : Date.now() + options.maxWaitMs;
    for (;;) {
      const holder = await lease.tryAcquire();
      if (holder) return holder;
      if (options.signal?.aborted) throw options.signal.reason;
      if (Date.now() >= deadline) {
        throw new OktaSyncBusyError(
          'Another replica is syncing this provider; trying again later',
        );
      }
      await new Promise(resolve => setTimeout(resolve, POLL_MS));
    }
  }
}
