/*
 * Warnings at a bounded rate, for what outsiders can make happen as often as
 * they like: anyone who can reach the event hook endpoint can send refused
 * requests, and one warning each would let them flood the backend's log.
 * The first occurrence of a kind (e.g. provider and reason) is logged at
 * once; those of the same kind within the next window are only counted,
 * then reported in one line when the window ends. So each kind costs at
 * most two lines a window, however many occurrences come.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';

/** The default window: one minute. */
export const RATE_LIMITED_WARNINGS_WINDOW_MS = 60_000;

interface Kind {
  windowStart: number;
  suppressed: number;
  /** The line that reports `count` more occurrences over `seconds`. */
  summary: (count: number, seconds: number) => string;
  timer?: NodeJS.Timeout;
}

export interface RateLimitedWarningsOptions {
  /** Default {@link RATE_LIMITED_WARNINGS_WINDOW_MS}. */
  windowMs?: number;
  clock?: () => number;
}

export class RateLimitedWarnings {
  private readonly kinds = new Map<string, Kind>();
  private readonly windowMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly logger: LoggerService,
    options: RateLimitedWarningsOptions = {},
  ) {
    this.windowMs = options.windowMs ?? RATE_LIMITED_WARNINGS_WINDOW_MS;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * One occurrence of `kind`: `message` is logged if none of this kind was
   * within the window, else it is counted for `summary`. The kinds must be
   * a fixed set (e.g. provider id and reason), never taken from a request,
   * so that this map stays small.
   */
  warn(
    kind: string,
    message: string,
    summary: (count: number, seconds: number) => string,
  ): void {
    const now = this.clock();
    const state = this.kinds.get(kind);
    if (state && now - state.windowStart < this.windowMs) {
      state.suppressed++;
      if (!state.timer) {
        state.timer = setTimeout(
          () => this.report(kind),
          state.windowStart + this.windowMs - now,
        );
        // Never what keeps a process alive.
        state.timer.unref?.();
      }
      return;
    }
    if (state) this.report(kind);
    this.kinds.set(kind, { windowStart: now, suppressed: 0, summary });
    this.logger.warn(message);
  }

  /** Reports what is counted and not reported yet (on shutdown). */
  flush(): void {
    for (const kind of this.kinds.keys()) this.report(kind);
  }

  private report(kind: string): void {
    const state = this.kinds.get(kind);
    if (!state) return;
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    if (state.suppressed === 0) return;
    const seconds = Math.max(
      1,
      Math.round((this.clock() - state.windowStart) / 1000),
    );
    this.logger.warn(state.summary(state.suppressed, seconds));
    state.suppressed = 0;
  }
}
