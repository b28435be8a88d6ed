/*
 * The contract between the Okta client (HTTP, auth, paging, pacing, retries)
 * and the rest of the module (reading the org, mapping to entities). The
 * client knows nothing of the catalog; the reader knows nothing of HTTP.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaRateLimiterMechanisms } from './OktaRateLimiter';

/**
 * How the module authenticates to Okta.
 *
 * @public
 */
export type OktaAuthOptions =
  | {
      /** OAuth 2.0 client credentials with a private-key JWT (an "API Services" app). */
      kind: 'privateKey';
      clientId: string;
      keyId: string;
      /** PEM (PKCS#8, PKCS#1 or SEC1) or a JWK as a JSON string. */
      privateKey: string;
    }
  | {
      /** A legacy SSWS API token. */
      kind: 'apiToken';
      token: string;
    };

/** Options of {@link OktaOrgClient}. All limits have production-safe defaults. */
export interface OktaClientOptions {
  /** The org URL, e.g. https://example.okta.com (a trailing slash is tolerated). */
  orgUrl: string;
  auth: OktaAuthOptions;
  /** Defaults to okta.users.read and okta.groups.read. */
  scopes?: string[];
  logger: LoggerService;
  /** Requests in flight at once across the whole client. Default 10. */
  maxConcurrency?: number;
  /** Per HTTP request (each attempt), in milliseconds. Default 30000. */
  requestTimeoutMs?: number;
  /** Attempts after the first for one request (429, 5xx, network, timeout, bad body). Default 6. */
  maxRetries?: number;
  /** First backoff delay for 5xx/network/timeout/bad-body retries, in ms. Default 1000. */
  retryBaseDelayMs?: number;
  /** Page size for GET /api/v1/users (max 200). Default 200. */
  userPageSize?: number;
  /** Page size for GET /api/v1/groups (max 10000). Default 10000. */
  groupPageSize?: number;
  /** Page size for GET /api/v1/groups/{id}/users (max 1000). Default 1000. */
  groupMemberPageSize?: number;
  /**
   * The rate limiter's speed mechanisms, all on by default: not
   * configuration, only the benchmark turns them off to measure them.
   */
  mechanisms?: OktaRateLimiterMechanisms;
}

/**
 * The subset of Okta's User object the module reads.
 *
 * @public
 */
export interface OktaUser {
  id: string;
  status?: string;
  created?: string | null;
  lastUpdated?: string | null;
  profile: Record<string, unknown> & {
    login?: string | null;
    email?: string | null;
    firstName?: string | null;
    lastName?: string | null;
    displayName?: string | null;
  };
}

/**
 * The subset of Okta's Group object the module reads.
 *
 * @public
 */
export interface OktaGroup {
  id: string;
  type?: string;
  lastUpdated?: string | null;
  lastMembershipUpdated?: string | null;
  profile: Record<string, unknown> & {
    name?: string | null;
    description?: string | null;
  };
  /**
   * From `_embedded.stats.usersCount`, present only when listed with
   * `expandStats` (and, in Okta, only on the first page of the listing).
   */
  usersCount?: number;
}

/**
 * Counters of one client, for logging and the benchmark.
 *
 * @public
 */
export interface OktaClientStats {
  /**
   * HTTP requests sent, including retries, by endpoint key: `token`, `users`,
   * `groups`, `groupMembers`, `userGroups`, `other`.
   */
  requests: Record<string, number>;
  /**
   * Attempts by endpoint key, then by HTTP status (`0`: no complete
   * response: a network error, a cut body, a timeout or an abort). Sums to
   * `requests`.
   */
  responses?: Record<string, Record<number, number>>;
  /** Retries of any kind. */
  retries: number;
  /** 429 responses received. */
  rateLimited: number;
  /**
   * Retries of a group or member page that timed out or failed with a 5xx
   * that asked for half the size (for the rest of that listing).
   */
  pageSizeFallbacks?: number;
  /** Access tokens fetched (0 with an API token). */
  tokensFetched: number;
  /** Most requests on the wire at once (sent, response not yet complete). */
  peakRequestsInFlight?: number;
  /**
   * Most listing pages held at once: a page is held from when its response
   * is complete until the listing's consumer has taken its last record.
   */
  peakPagesHeld?: number;
  /** Most records of those pages held at once (not yet done with by the consumer). */
  peakRecordsHeld?: number;
}

/**
 * A failed Okta call after retries: names the endpoint, Okta's error code and
 * request id, never a secret.
 *
 * @public
 */
export class OktaRequestError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** e.g. `GET /api/v1/groups/{id}/users` or `POST /oauth2/v1/token`. */
      endpoint: string;
      status?: number;
      /** Okta's errorCode (E0000011...) or OAuth error (invalid_client...). */
      errorCode?: string;
      /** Okta's X-Okta-Request-Id. */
      requestId?: string;
    },
  ) {
    super(message);
    this.name = 'OktaRequestError';
  }
}

/**
 * Reads an Okta org. Each listing follows Okta's Link headers to the end.
 *
 * @public
 */
export interface OktaOrgClient {
  /** GET /api/v1/users (with `search` when given). */
  listUsers(
    query: { search?: string },
    signal?: AbortSignal,
  ): AsyncIterable<OktaUser>;
  /** GET /api/v1/groups (with `search` and `expand=stats` when asked). */
  listGroups(
    query: { search?: string; expandStats?: boolean },
    signal?: AbortSignal,
  ): AsyncIterable<OktaGroup>;
  /** `GET /api/v1/groups/{id}/users`. */
  listGroupMembers(
    groupId: string,
    signal?: AbortSignal,
  ): AsyncIterable<OktaUser>;
  /**
   * `GET /api/v1/users/{id}` (its own rate-limit bucket, larger than the
   * user listing's): the user, or undefined when Okta has no such user (404
   * `E0000007`). Optional: without it, runs started by pushed events read
   * as scheduled runs do.
   */
  getUser?(userId: string, signal?: AbortSignal): Promise<OktaUser | undefined>;
  /**
   * `GET /api/v1/groups/{id}` (its own bucket, not the 500-a-minute groups
   * bucket): the group, or undefined when Okta has no such group (404).
   */
  getGroup?(
    groupId: string,
    signal?: AbortSignal,
  ): Promise<OktaGroup | undefined>;
  /**
   * `GET /api/v1/users/{id}/groups` (counted in the users bucket): every
   * group the user is a member of. A deleted user's listing fails with a
   * 404 {@link OktaRequestError}.
   */
  listUserGroups?(
    userId: string,
    signal?: AbortSignal,
  ): AsyncIterable<OktaGroup>;
  stats(): OktaClientStats;
}
