import { describe, expect, it } from '@jest/globals';
import {
  dropAfterEachTest,
  TEST_DATABASES,
} from '../__testUtils__/testDatabases';
import { migrateOktaState } from './migrations';
import { OktaSyncBusyError, OktaSyncLease, OktaSyncLock } from './syncLease';

const open = dropAfterEachTest();

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe.each(TEST_DATABASES)('the sync lease (%s)', (_, create) => {
  async function database() {
    const d = await open(create);
    await migrateOktaState(d.db);
    return d;
  }

  it('is held by one replica at a time, per provider, and free again when released or expired', async () => {
    const d = await database();
    let now = 1_000;
    const clock = () => now;
    const a = new OktaSyncLease(d.db, 'us', { ttlMs: 1_000, clock });
    const b = new OktaSyncLease(d.another(), 'us', { ttlMs: 1_000, clock });
    const held = await a.tryAcquire();
    expect(held).toBeDefined();
    expect(await b.tryAcquire()).toBeUndefined();
    // Another provider's lease is its own.
    expect(
      await new OktaSyncLease(d.db, 'emea', { clock }).tryAcquire(),
    ).toBeDefined();
    await a.release(held!);
    const byB = await b.tryAcquire();
    expect(byB).toBeDefined();
    // B died without releasing: free once its time to live is over.
    now += 999;
    expect(await a.tryAcquire()).toBeUndefined();
    now += 2;
    const byA = await a.tryAcquire();
    expect(byA).toBeDefined();
    // B cannot renew or release what A now holds.
    expect(await b.renew(byB!)).toBe(false);
    await b.release(byB!);
    expect(await b.tryAcquire()).toBeUndefined();
    expect(await a.renew(byA!)).toBe(true);
  });

  it('runs the work of two replicas one after the other, and of one process in order', async () => {
    const d = await database();
    const one = new OktaSyncLock(new OktaSyncLease(d.db, 'us'));
    const two = new OktaSyncLock(new OktaSyncLease(d.another(), 'us'));
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const work = (name: string) => async () => {
      running++;
      most = Math.max(most, running);
      await sleep(150);
      order.push(name);
      running--;
    };
    await Promise.all([
      one.run(work('a1')),
      two.run(work('b1')),
      one.run(work('a2')),
      two.run(work('b2')),
    ]);
    expect(most).toBe(1);
    expect(order).toHaveLength(4);
    // Within one process in the order asked.
    expect(order.indexOf('a1')).toBeLessThan(order.indexOf('a2'));
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('b2'));
  });

  it('gives up after maxWaitMs with OktaSyncBusyError, and aborts the work when the lease is lost', async () => {
    const d = await database();
    const holder = new OktaSyncLease(d.db, 'us');
    const taken = await holder.tryAcquire();
    const waiting = new OktaSyncLock(new OktaSyncLease(d.another(), 'us'));
    await expect(
      waiting.run(async () => 'ran', { maxWaitMs: 300 }),
    ).rejects.toBeInstanceOf(OktaSyncBusyError);
    await holder.release(taken!);

    // A lease taken over behind the holder's back (as after a long database
    // outage) aborts the holder's work at its next renewal.
    const lease = new OktaSyncLease(d.db, 'us', { ttlMs: 300 });
    const lock = new OktaSyncLock(lease);
    const result = lock.run(async signal => {
      await d.db('okta_org_sync_leases').update({ holder: 'someone-else' });
      while (!signal.aborted) await sleep(20);
      throw signal.reason;
    });
    await expect(result).rejects.toThrow(/Lost the sync lease/);
  });
});
