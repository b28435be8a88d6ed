/*
 * Pacing by design: Okta tells us on every response how many requests are
 * left in each rate-limit bucket's window and when the window resets. We
 * send while the bucket has room (counting requests still in flight) and
 * otherwise wait for the reset, so a full sync runs each bucket at its limit
 * without collecting 429s. A global, adaptive concurrency limit keeps us
 * under the org's concurrent-request limit.
 */
import { abortableDelay, abortReason } from './abortableDelay';
import type { OktaRateLimitBucket } from './oktaEndpoints';

/** What a response said about the limits. */
export type OktaRateLimitVerdict =
  /** Not a 429. */
  | 'ok'
  /** 429 because the bucket's window is used up; the limiter now waits for its reset. */
  | 'rateLimited'
  /** 429 for too many concurrent requests (or without usable headers); back off briefly. */
  | 'concurrencyLimited';

/** The parts of a response the limiter reads. */
export interface OktaRateLimitObservation {
  status: number;
  headers: { get(name: string): string | null };
  /** Local epoch ms when the request was sent and its response headers arrived. */
  sentAt: number;
  receivedAt: number;
}

/** A slot for one request attempt; release it exactly once. */
export interface OktaRateLimitPermit {
  /** Records the response (none for network errors and timeouts) and frees the slot. */
  release(observation?: OktaRateLimitObservation): OktaRateLimitVerdict;
}

/** Options of {@link OktaRateLimiter}. */
export interface OktaRateLimiterOptions {
  /** Requests in flight at once across all buckets. */
  maxConcurrency: number;
  /**
   * Waited past a bucket's reset time before sending again: covers clock
   * granularity and transit, small against windows of a few seconds.
   */
  resetMarginMs?: number;
  /** Local clock, epoch ms. */
  now?: () => number;
  /**
   * Speed mechanisms, each on unless set to false. Only the benchmark turns
   * them off, to measure what each one buys.
   */
  mechanisms?: OktaRateLimiterMechanisms;
}

/** The limiter's speed mechanisms (see {@link OktaRateLimiterOptions}). */
export interface OktaRateLimiterMechanisms {
  /** Reads Okta's reset times on Okta's clock, estimated from `Date`. */
  serverClock?: boolean;
  /** Shrinks the concurrency limit on concurrency 429s. */
  adaptiveConcurrency?: boolean;
  /** Honours `firstInLine` in {@link OktaRateLimiter.acquire}. */
  firstInLine?: boolean;
}

/** Okta windows are a minute; a reset much further out means a broken clock or header. */
const MAX_RESET_WAIT_MS = 120_000;

/**
 * Estimates the offset between our clock and Okta's from the `Date` header.
 * `Date` has one-second resolution, so each response only bounds the offset;
 * intersecting the bounds of many responses narrows it. While the bounds
 * include zero the clocks are taken to agree.
 */
export class OktaServerClock {
  private low = -Infinity;
  private high = Infinity;

  /** Local ms minus Okta ms (positive when our clock is ahead). */
  get offsetMs(): number {
    if (this.low <= 0 && this.high >= 0) return 0;
    return this.low > 0 ? this.low : this.high;
  }

  observe(sentAt: number, receivedAt: number, dateHeader: string | null): void {
    if (!dateHeader) return;
    const serverSecond = Date.parse(dateHeader);
    if (Number.isNaN(serverSecond)) return;
    // The server stamped the response at some t in [Date, Date + 1 s), after
    // we sent the request and before we received the answer.
    const low = sentAt - (serverSecond + 1000);
    const high = receivedAt - serverSecond;
    if (low > this.high || high < this.low) {
      // The clocks moved (NTP step): start over from this observation.
      this.low = low;
      this.high = high;
    } else {
      this.low = Math.max(this.low, low);
      this.high = Math.min(this.high, high);
    }
  }

  /** Local epoch ms of an Okta epoch-seconds instant. */
  toLocal(epochSeconds: number): number {
    return epochSeconds * 1000 + this.offsetMs;
  }
}

interface BucketState {
  /** The bucket's limit per window, once a response told us. */
  limit?: number;
  /** Requests left in the current window, as of the latest response. */
  remaining?: number;
  /** The current window's reset, epoch seconds as Okta sent it. */
  windowReset?: number;
  /** Local ms from when a new window may be assumed; undefined when unknown. */
  resetAt?: number;
  /** Admitted and not yet answered. */
  inFlight: number;
  /** First-in-line requests waiting for room in this bucket. */
  firstInLineWaiting: number;
  waiters: Array<() => void>;
}

function headerNumber(
  headers: OktaRateLimitObservation['headers'],
  name: string,
): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '' || raw.includes(',')) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * A counting semaphore whose size adapts: it shrinks towards the number of
 * requests in flight when Okta answers 429 for concurrency, and grows back
 * by one after as many successes as its size.
 */
class AdaptiveConcurrencyLimit {
  private cap: number;
  private inFlight = 0;
  private successes = 0;
  private readonly queue: Array<() => void> = [];
  /** How many at the head of the queue came first in line. */
  private firstInLineWaiting = 0;

  constructor(
    private readonly max: number,
    private readonly adaptive = true,
  ) {
    this.cap = max;
  }

  get limit(): number {
    return this.cap;
  }

  async acquire(signal?: AbortSignal, firstInLine = false): Promise<void> {
    if (this.inFlight < this.cap && this.queue.length === 0) {
      this.inFlight++;
      return;
    }
    const queue = this.queue;
    const leaveQueue = (waiter: () => void) => {
      const i = queue.indexOf(waiter);
      if (i < 0) return;
      queue.splice(i, 1);
      if (i < this.firstInLineWaiting) this.firstInLineWaiting--;
    };
    await new Promise<void>((resolve, reject) => {
      function grant() {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      function onAbort() {
        leaveQueue(grant);
        reject(abortReason(signal!));
      }
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (firstInLine) {
        // Behind any others first in line, ahead of everyone else.
        queue.splice(this.firstInLineWaiting++, 0, grant);
      } else {
        queue.push(grant);
      }
    });
  }

  release(outcome: 'success' | 'concurrencyLimited' | 'neutral'): void {
    if (outcome === 'concurrencyLimited' && this.adaptive) {
      // inFlight still counts this request: Okta's limit is below it.
      this.cap = Math.max(1, Math.min(this.cap - 1, this.inFlight - 1));
      this.successes = 0;
    } else if (
      outcome === 'success' &&
      this.cap < this.max &&
      ++this.successes >= this.cap
    ) {
      this.cap++;
      this.successes = 0;
    }
    this.inFlight--;
    this.dispatch();
  }

  private dispatch(): void {
    while (this.inFlight < this.cap && this.queue.length > 0) {
      this.inFlight++;
      this.firstInLineWaiting = Math.max(0, this.firstInLineWaiting - 1);
      this.queue.shift()!();
    }
  }
}

/** Paces requests per Okta rate-limit bucket and limits concurrency. */
export class OktaRateLimiter {
  private readonly buckets = new Map<OktaRateLimitBucket, BucketState>();
  private readonly concurrency: AdaptiveConcurrencyLimit;
  private readonly clock = new OktaServerClock();
  private readonly resetMarginMs: number;
  private readonly now: () => number;
  private readonly serverClock: boolean;
  private readonly honourFirstInLine: boolean;

  constructor(options: OktaRateLimiterOptions) {
    const mechanisms = options.mechanisms ?? {};
    this.concurrency = new AdaptiveConcurrencyLimit(
      Math.max(1, Math.floor(options.maxConcurrency)),
      mechanisms.adaptiveConcurrency ?? true,
    );
    this.resetMarginMs = options.resetMarginMs ?? 50;
    this.now = options.now ?? Date.now;
    this.serverClock = mechanisms.serverClock ?? true;
    this.honourFirstInLine = mechanisms.firstInLine ?? true;
  }

  /** The current (adaptive) concurrency limit. */
  get concurrencyLimit(): number {
    return this.concurrency.limit;
  }

  /**
   * Waits until a request may be sent in `bucket` and a concurrency slot is
   * free. Rejects with the signal's reason when it aborts.
   */
  async acquire(
    bucket: OktaRateLimitBucket,
    signal?: AbortSignal,
    options?: {
      /**
       * Takes the room left in the bucket's window and the next free
       * concurrency slot ahead of requests without it: for sequential cursor
       * listings (the user directory, the group listing), whose every wait
       * adds to the whole read.
       */
      firstInLine?: boolean;
    },
  ): Promise<OktaRateLimitPermit> {
    const state = this.bucketState(bucket);
    const firstInLine = this.honourFirstInLine && !!options?.firstInLine;
    // Okta's buckets are shared by endpoints of different weight (the groups
    // bucket holds the group listing and every member listing): room left in
    // a window goes to first-in-line requests before the others.
    if (signal?.aborted) throw abortReason(signal);
    // Admitted at once without a turn of the event loop when there is room,
    // so that requests asked for together queue for a slot in that order.
    if (!this.tryAdmit(state, firstInLine)) {
      if (firstInLine) state.firstInLineWaiting++;
      try {
        do {
          const resetAt = state.resetAt;
          await this.waitForChange(
            state,
            resetAt !== undefined ? resetAt - this.now() : undefined,
            signal,
          );
        } while (!this.tryAdmit(state, firstInLine));
      } finally {
        if (firstInLine) {
          state.firstInLineWaiting--;
          // The others may now have room this request was keeping.
          this.notify(state);
        }
      }
    }
    try {
      await this.concurrency.acquire(signal, firstInLine);
    } catch (error) {
      state.inFlight--;
      this.notify(state);
      throw error;
    }
    let released = false;
    return {
      release: observation => {
        if (released) return 'ok';
        released = true;
        return this.release(state, observation);
      },
    };
  }

  /**
   * Counts the request in flight in the bucket when it has room for it (in
   * the same turn as the check, so that no other is admitted on that room).
   */
  private tryAdmit(state: BucketState, firstInLine: boolean): boolean {
    if (state.resetAt !== undefined && this.now() >= state.resetAt) {
      // The window is over; Okta opens the next one with the next request
      // it counts, and our next response will say when that one resets.
      state.remaining = Math.max(1, state.limit ?? 1);
      state.resetAt = undefined;
    }
    // Before the first response of a bucket nothing is known: admit as
    // many as the concurrency limit (Okta's limits for the endpoints we
    // call are far above it, and a 429 would tell us the reset), and no
    // more, so none is admitted ahead of what the first answer says.
    // (Sending one probe first cost a round trip per bucket on every run.)
    const room =
      state.remaining === undefined
        ? this.concurrency.limit - state.inFlight
        : state.remaining - state.inFlight;
    // Room left in a window goes to first-in-line requests first.
    const available = firstInLine ? room : room - state.firstInLineWaiting;
    if (available <= 0) return false;
    state.inFlight++;
    return true;
  }

  private release(
    state: BucketState,
    observation: OktaRateLimitObservation | undefined,
  ): OktaRateLimitVerdict {
    let verdict: OktaRateLimitVerdict = 'ok';
    if (observation) {
      const { headers } = observation;
      if (this.serverClock) {
        this.clock.observe(
          observation.sentAt,
          observation.receivedAt,
          headers.get('date'),
        );
      }
      const limit = headerNumber(headers, 'x-rate-limit-limit');
      const remaining = headerNumber(headers, 'x-rate-limit-remaining');
      const reset = headerNumber(headers, 'x-rate-limit-reset');
      const complete =
        limit !== undefined && remaining !== undefined && reset !== undefined;
      if (observation.status === 429) {
        // A window 429 carries the bucket's own limit with nothing remaining.
        // A concurrency 429 carries limit and remaining 0 (Okta: "always 0
        // for concurrent rate limit errors"), which tells it apart even on a
        // bucket's first response; older answers carried another limit or
        // nothing useful. Its headers say nothing of the bucket's window.
        const windowExhausted =
          complete &&
          limit > 0 &&
          remaining === 0 &&
          (state.limit === undefined || limit === state.limit) &&
          this.clock.toLocal(reset) > observation.receivedAt;
        verdict = windowExhausted ? 'rateLimited' : 'concurrencyLimited';
      }
      if (complete && verdict !== 'concurrencyLimited') {
        this.update(state, limit, remaining, reset);
      }
    }
    state.inFlight--;
    let outcome: 'success' | 'concurrencyLimited' | 'neutral' = observation
      ? 'success'
      : 'neutral';
    if (verdict === 'concurrencyLimited') outcome = 'concurrencyLimited';
    this.concurrency.release(outcome);
    this.notify(state);
    return verdict;
  }

  private update(
    state: BucketState,
    limit: number,
    remaining: number,
    reset: number,
  ): void {
    state.limit = limit;
    if (state.windowReset === undefined || reset > state.windowReset) {
      state.windowReset = reset;
      state.remaining = remaining;
      const resetAt = this.clock.toLocal(reset) + this.resetMarginMs;
      state.resetAt = Math.min(resetAt, this.now() + MAX_RESET_WAIT_MS);
    } else if (reset === state.windowReset && state.resetAt !== undefined) {
      // Responses overtake each other; within a window, remaining only falls.
      state.remaining = Math.min(state.remaining ?? remaining, remaining);
    }
    // Otherwise the response belongs to a window already over: ignore it.
  }

  private bucketState(bucket: OktaRateLimitBucket): BucketState {
    let state = this.buckets.get(bucket);
    if (!state) {
      state = { inFlight: 0, firstInLineWaiting: 0, waiters: [] };
      this.buckets.set(bucket, state);
    }
    return state;
  }

  private notify(state: BucketState): void {
    const waiters = state.waiters.splice(0);
    for (const wake of waiters) wake();
  }

  /** Until the reset (when known), a response in this bucket, or a 1 s safety poll. */
  private async waitForChange(
    state: BucketState,
    untilResetMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let wake: () => void = () => {};
    const changed = new Promise<void>(resolve => {
      wake = resolve;
      state.waiters.push(resolve);
    });
    try {
      await Promise.race([
        abortableDelay(
          Math.min(untilResetMs ?? 1000, MAX_RESET_WAIT_MS),
          controller.signal,
        ),
        changed,
      ]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controller.abort();
      const i = state.waiters.indexOf(wake);
      if (i >= 0) state.waiters.splice(i, 1);
    }
    if (signal?.aborted) throw abortReason(signal);
  }
}
