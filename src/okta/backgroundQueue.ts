/*
 * Runs work on queued items in the background, one at a time and in order,
 * with a bound on how many may wait. The read hands each user to it as the
 * user arrives and goes straight on to ask Okta for the next page, so mapping
 * one page overlaps with waiting for the next; the bound makes a reader wait
 * when mapping falls behind, so a slow transformer cannot make the read hold
 * the whole org in memory.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';

/** Options of {@link BackgroundQueue}. */
export interface BackgroundQueueOptions {
  /** Items queued and not yet started, at most; `push` waits beyond it. */
  capacity: number;
  /**
   * Longest run of work, in ms, before the queue lets the event loop handle
   * I/O (responses arriving, requests leaving). Default 1: mapping must
   * never hold up the next request by more than that.
   */
  sliceMs?: number;
}

export class BackgroundQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private running: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private spaceWaiters: Array<() => void> = [];
  private readonly capacity: number;
  private readonly sliceMs: number;

  constructor(
    private readonly work: (item: T) => void | Promise<void>,
    options: BackgroundQueueOptions,
  ) {
    this.capacity = Math.max(1, Math.floor(options.capacity));
    this.sliceMs = options.sliceMs ?? 1;
  }

  /** Items waiting to be worked on. */
  get size(): number {
    return this.items.length - this.head;
  }

  /**
   * Queues an item; waits while the queue is full. Rejects with the work's
   * error once any item's work has failed (nothing further is worked on).
   */
  async push(item: T): Promise<void> {
    while (!this.failure && this.size >= this.capacity) {
      await new Promise<void>(resolve => this.spaceWaiters.push(resolve));
    }
    if (this.failure) throw this.failure.error;
    this.items.push(item);
    this.running ??= this.run();
  }

  /** Waits until every queued item has been worked on; rejects with the first failure. */
  async drain(): Promise<void> {
    while (this.running) {
      await this.running;
    }
    if (this.failure) throw this.failure.error;
  }

  private async run(): Promise<void> {
    // Start after the pusher's current turn, never inside it.
    await Promise.resolve();
    let sliceStart = performance.now();
    try {
      while (this.size > 0 && !this.failure) {
        const item = this.items[this.head];
        this.items[this.head++] = undefined as T;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        this.wakePushers();
        await this.work(item);
        if (performance.now() - sliceStart >= this.sliceMs) {
          await nextMacrotask();
          sliceStart = performance.now();
        }
      }
    } catch (error) {
      this.failure = { error };
      this.items.length = 0;
      this.head = 0;
    } finally {
      this.running = undefined;
      this.wakePushers();
    }
  }

  private wakePushers(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }
}
