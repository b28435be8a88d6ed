/*
 * Cooperative time slicing for work done between network events. The read
 * maps each record as the listing hands it over (so the Okta record can go
 * at once and no raw record waits in a queue), but a page of a thousand
 * users must not hold the event loop for tens of milliseconds while other
 * listings' responses wait to be read and their next requests to leave.
 */

export class TimeSlicer {
  private sliceStart = performance.now();
  private readonly waiting: Array<() => void> = [];
  private turnScheduled = false;
  /** Whether the last slice went to a waiter that has not come back yet. */
  private holderOut = false;

  /**
   * @param sliceMs - longest run of work, in ms, before the event loop gets
   *   a turn (I/O: responses arriving, requests leaving). Default 1.
   */
  constructor(private readonly sliceMs = 1) {}

  /**
   * Undefined while the current slice lasts; once it is spent, a promise
   * that resolves in a later macrotask, with a new slice to the caller
   * alone. Await it before each piece of work.
   *
   * Waiters are served in order, except that the work which had the last
   * slice goes first when it comes back for more: one listing's page is
   * mapped through before the next one's is started, so pages are done
   * with (and let go) one after another rather than all at the end.
   */
  turn(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < this.sliceMs) return undefined;
    return new Promise<void>(resolve => {
      if (this.holderOut) {
        // The first to find the slice spent after a grant is, in all
        // likelihood, the work it was granted to.
        this.holderOut = false;
        this.waiting.unshift(resolve);
      } else {
        this.waiting.push(resolve);
      }
      this.scheduleTurn();
    });
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    // A macrotask: pending I/O is handled before the next slice starts.
    setImmediate(() => {
      this.turnScheduled = false;
      const next = this.waiting.shift();
      if (!next) return;
      this.sliceStart = performance.now();
      this.holderOut = true;
      next();
      if (this.waiting.length > 0) this.scheduleTurn();
    });
  }
}
