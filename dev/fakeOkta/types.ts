/*
 * Options and public shapes of the fake Okta server.
 */
import type { FakeAdminRoleScope } from './adminRoleScope';
import type { FakeOrg } from './FakeOrg';
import type { FakeOidc } from './oidc';

/** A JWK as registered on an app or held by a client: with `kid`. */
export type FakeJwk = JsonWebKey & { kid?: string };

/** Where a request landed; used for counters, faults and the request log. */
export type FakeOktaEndpoint =
  | 'token'
  | 'users'
  | 'groups'
  | 'groupUsers'
  | 'userGroups'
  | 'groupById'
  | 'userById'
  | 'other';

/** Rate-limit buckets, as Okta groups its management endpoints. */
export type RateLimitBucket =
  'users' | 'groups' | 'groupById' | 'other' | 'token';

export type FaultKind =
  | 'status5xx'
  | 'drop'
  | 'truncate'
  | 'malformed'
  | 'slowBody'
  | 'latency'
  | 'status429';

/** One fault to inject, on one endpoint (or all), at a rate or at chosen request numbers. */
export interface FaultRule {
  endpoint?: Exclude<FakeOktaEndpoint, 'other'> | '*';
  kind: FaultKind;
  /** Probability per request, drawn deterministically from the seed. */
  rate?: number;
  /** 1-based request numbers on that endpoint (counted from start or resetStats). */
  requestNumbers?: number[];
  /** For status5xx; default 500. */
  status?: number;
  /** For slowBody (total body time) and latency (added delay); default 1000. */
  delayMs?: number;
  /**
   * Only for listing pages of at least this many items asked for (`limit`,
   * or the endpoint's default): big pages are the ones that time out or fail
   * under load (Okta recommends pages of 200 for group members and a smaller
   * page on retry). Request numbers and rates count every request.
   */
  minPageSize?: number;
}

export interface FakeOktaRateLimitOptions {
  /** Window length; default 60. A window starts at its first request. */
  windowSeconds?: number;
  /** Requests per window per bucket; defaults are Okta's published Workforce numbers. */
  limits?: Partial<Record<RateLimitBucket, number>>;
  /** Fraction of each bucket one OAuth app or SSWS token may use; default 0.5, as in Okta. */
  appShare?: number;
  /** Requests in flight per org before 429; default 75. */
  concurrency?: number;
}

export interface FakeOktaOptions {
  /** Default: an empty org with only the BUILT_IN "Everyone" group. */
  org?: FakeOrg;
  /** Access token lifetime; default 3600. */
  tokenLifetimeSeconds?: number;
  rateLimits?: FakeOktaRateLimitOptions;
  /** Added to every request; default 0. */
  latency?: { fixedMs?: number; randomMs?: number };
  faults?: FaultRule[];
  /**
   * How long a created or changed object stays out of `search` and `filter`
   * results (Okta's search is eventually consistent); default 50 ms, 0 for
   * none. Plain listings show changes at once.
   */
  searchLagMs?: number;
  /** Drives random latency and rate-based faults; default 1. */
  seed?: number;
  /** Millisecond clock (token expiry, rate windows, timestamps); default Date.now. */
  clock?: () => number;
  /**
   * Milliseconds added to `clock`, with the `Date` header of every response
   * on the skewed clock: an Okta whose clock is off from the client's, as a
   * client machine's clock can be by seconds. Default 0 (and `Date` is then
   * the real time, whatever `clock` says).
   */
  clockSkewMs?: number;
  /**
   * Host name of the org's canonical domain, on which Link URLs are built
   * (Okta answers a request to acme-admin.okta.com with next links on
   * acme.okta.com). Default: the request's host with a `-admin` suffix of
   * its first label removed.
   */
  canonicalHost?: string;
  /** Port to listen on (standalone use); default 0, a free port. */
  port?: number;
  /** Host to listen on; default 127.0.0.1. */
  host?: string;
}

/** An OAuth 2.0 service app ("API Services" integration) registered in the fake org. */
export interface FakeServiceApp {
  clientId: string;
  /** Public keys, each with `kid` (and usually `alg`). */
  publicJwks: FakeJwk[];
  /** Granted Okta API scopes, e.g. okta.users.read. */
  scopes: string[];
  /** Okta console "Require Demonstrating Proof of Possession (DPoP) header"; default false. */
  requireDpop?: boolean;
  /** Whether the app has an admin role (needed for the management APIs); default true. */
  adminRole?: boolean;
  /**
   * Limits the admin role to some groups and users, as an Okta resource set
   * does; default the whole org. Listings show only what it covers.
   */
  adminRoleScope?: FakeAdminRoleScope;
}

export interface FakeOktaRequestLogEntry {
  /** 1-based sequence number over all requests. */
  n: number;
  method: string;
  path: string;
  endpoint: FakeOktaEndpoint;
  status: number;
  /** Milliseconds from arrival to the end of the response (or the drop). */
  ms: number;
  /** Arrival time on the fake's clock. */
  startedAt: number;
}

/** What {@link FakeOkta.onRequest} is told of a request as it arrives. */
export interface FakeOktaArrival {
  method: string;
  /** Path and query, as sent. */
  path: string;
  endpoint: FakeOktaEndpoint;
  /** 1-based number of this request on its endpoint (as fault rules count). */
  endpointN: number;
}

export type FakeOktaRequestListener = (arrival: FakeOktaArrival) => void;

export interface FakeOktaStats {
  requests: Record<string, number>;
  served429: number;
  peakConcurrency: number;
  tokensIssued: number;
  log: FakeOktaRequestLogEntry[];
}

/** A running fake Okta org. */
export interface FakeOkta {
  /** Base URL, e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** The org's data; live and mutable while the server runs. */
  org: FakeOrg;
  addServiceApp(app: FakeServiceApp): void;
  updateServiceApp(
    clientId: string,
    patch: Partial<Omit<FakeServiceApp, 'clientId'>>,
  ): void;
  /** OIDC sign-in: web apps, passwords, email_verified (oidc.ts). */
  readonly oidc: FakeOidc;
  /** Registers an SSWS API token (all read scopes). */
  addApiToken(token: string, opts?: { adminRole?: boolean }): void;
  setFaults(rules: FaultRule[]): void;
  /**
   * Calls `listener` as each request arrives, before it is answered: a test
   * changes the org at a chosen moment of a client's read (a group deleted
   * just as its member listing is asked for). One listener; undefined
   * removes it.
   */
  onRequest(listener: FakeOktaRequestListener | undefined): void;
  stats(): FakeOktaStats;
  resetStats(): void;
  close(): Promise<void>;
}
