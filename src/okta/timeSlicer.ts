/*
 * Cooperative time slicing for work done between network events. The read
 * maps each record as the listing hands it over (so the Okta record can go
 * at once and no raw record waits in a queue), but a page of a thousand
 * users must not hold the event loop for tens of milliseconds while other
 * listings' responses wait to be read and their next requests to leave.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';

export class TimeSlicer {
  private sliceStart = performance.now();

  /**
   * @param sliceMs - longest run of work, in ms, before the event loop gets
   *   a turn (I/O: responses arriving, requests leaving). Default 1.
   */
  constructor(private readonly sliceMs = 1) {}

  /** The turn the spent slice's waiters share. */
  private nextTurn: Promise<void> | undefined;
  /** Whether a waiter has taken the slice that began with the last turn. */
  private taken = false;

  /**
   * Undefined while the current slice lasts; once it is spent, a promise
   * that resolves in a later macrotask, with a new slice. Waiters share
   * turns: after a turn only the first of them to run gets the new slice,
   * the rest wait again. Await it before each piece of work.
   */
  turn(): Promise<void> | undefined {
    return this.spent() ? this.waitForSlice() : undefined;
  }

  private spent(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  private async waitForSlice(): Promise<void> {
    for (;;) {
      this.nextTurn ??= nextMacrotask().then(() => {
        this.nextTurn = undefined;
        this.sliceStart = performance.now();
        this.taken = false;
      });
      await this.nextTurn;
      // The waiters all resume before the first of them has done any work,
      // so the slice goes to the first; the others wait for the next turn.
      if (!this.taken) {
        this.taken = true;
        return;
      }
    }
  }
}
