/*
 * Okta-style rate limits: per-bucket request counts in windows that start at
 * the first request after the previous window ended (not aligned to clock
 * minutes), with each OAuth app and each SSWS API token limited to a share of
 * the org's bucket.
 */
import type { FakeOktaRateLimitOptions, RateLimitBucket } from './types';

/**
 * The share of each bucket one OAuth app or one SSWS API token gets unless an
 * admin changes it (Okta's default: 50%, for both; Okta's rate-limit docs,
 * "Rate limit percentage" per app/token in the Admin Console's Rate limits
 * dashboard; shared/FACTS.md).
 */
export const DEFAULT_APP_SHARE = 0.5;

/**
 * Okta's last published per-minute Workforce limits (and a token endpoint
 * figure). Which paths count in which bucket: see BUCKET_OF in server.ts.
 */
export const DEFAULT_RATE_LIMITS: Record<RateLimitBucket, number> = {
  users: 600,
  groups: 500,
  groupById: 1000,
  // GET /api/v1/users/{id}: its own bucket on Workforce orgs (shared/FACTS.md).
  userById: 2000,
  other: 1200,
  token: 600,
};

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds (ceil) when the window resets. */
  reset: number;
}

interface Window {
  start: number;
  count: number;
  byPrincipal: Map<string, number>;
}

export class FakeRateLimiter {
  private readonly windowMs: number;
  private readonly limits: Record<RateLimitBucket, number>;
  private readonly appShare: number;
  private readonly windows = new Map<RateLimitBucket, Window>();

  constructor(
    options: FakeOktaRateLimitOptions = {},
    private readonly clock: () => number,
  ) {
    this.windowMs = (options.windowSeconds ?? 60) * 1000;
    this.limits = { ...DEFAULT_RATE_LIMITS, ...options.limits };
    this.appShare = options.appShare ?? DEFAULT_APP_SHARE;
  }

  /**
   * Counts one request against a bucket when allowed. `appId` is set for
   * an authenticated caller (an OAuth app or an SSWS token), whose share of
   * the bucket is limited by `appShare`.
   */
  take(bucket: RateLimitBucket, appId: string | undefined): RateLimitDecision {
    const now = this.clock();
    let window = this.windows.get(bucket);
    if (!window || now >= window.start + this.windowMs) {
      window = { start: now, count: 0, byPrincipal: new Map() };
      this.windows.set(bucket, window);
    }
    const orgLimit = this.limits[bucket];
    const appLimit = appId
      ? Math.max(1, Math.floor(orgLimit * this.appShare))
      : orgLimit;
    const used = appId ? (window.byPrincipal.get(appId) ?? 0) : window.count;
    const reset = Math.ceil((window.start + this.windowMs) / 1000);
    const allowed = window.count < orgLimit && used < appLimit;
    if (allowed) {
      window.count++;
      if (appId) window.byPrincipal.set(appId, used + 1);
    }
    const remaining = Math.max(
      0,
      Math.min(
        orgLimit - window.count,
        appLimit -
          (appId ? (window.byPrincipal.get(appId) ?? 0) : window.count),
      ),
    );
    return { allowed, limit: appLimit, remaining, reset };
  }
}
