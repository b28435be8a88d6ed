/*
 * The contract between the Okta client (HTTP, auth, paging, pacing, retries)
 * and the rest of the module (reading the org, mapping to entities). The
 * client knows nothing of the catalog; the reader knows nothing of HTTP.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';

/** How the module authenticates to Okta. */
export type OktaAuthOptions =
  | {
      /** OAuth 2.0 client credentials with a private-key JWT (an "API Services" app). */
      kind: 'privateKey';
      clientId: string;
      keyId: string;
      /** PEM (PKCS#8 or PKCS#1/SEC1) or a JWK as a JSON string. */
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
  /** Requests in flight at once across the whole client. */
  maxConcurrency?: number;
  /** Per HTTP request (each attempt), in milliseconds. */
  requestTimeoutMs?: number;
  /** Attempts after the first for one request (429, 5xx, network, timeout, bad body). */
  maxRetries?: number;
  /** Permit http:// org URLs (local development against a fake org only). */
  allowInsecureHttp?: boolean;
}

/** The subset of Okta's User object the module reads. */
export interface OktaUser {
  id: string;
  status: string;
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

/** The subset of Okta's Group object the module reads. */
export interface OktaGroup {
  id: string;
  type?: string;
  lastUpdated?: string | null;
  lastMembershipUpdated?: string | null;
  profile: Record<string, unknown> & {
    name?: string | null;
    description?: string | null;
  };
  /** Present only when listed with expandStats (and, in Okta, only on the first page). */
  usersCount?: number;
}

/** Counters of one client, for logging and the benchmark. */
export interface OktaClientStats {
  /** HTTP requests sent, including retries and token requests, by endpoint key. */
  requests: Record<string, number>;
  retries: number;
  rateLimited: number;
  tokensFetched: number;
}

/**
 * A failed Okta call after retries: names the endpoint, Okta's error code and
 * request id, never a secret.
 */
export class OktaRequestError extends Error {
  constructor(
    message: string,
    readonly details: {
      endpoint: string;
      status?: number;
      errorCode?: string;
      requestId?: string;
    },
  ) {
    super(message);
    this.name = 'OktaRequestError';
  }
}

/** Reads an Okta org, one page at a time. */
export interface OktaOrgClient {
  /** GET /api/v1/users, pages of up to 200. */
  listUsers(
    query: { search?: string },
    signal?: AbortSignal,
  ): AsyncIterable<OktaUser[]>;
  /** GET /api/v1/groups. */
  listGroups(
    query: { search?: string; expandStats?: boolean },
    signal?: AbortSignal,
  ): AsyncIterable<OktaGroup[]>;
  /** GET /api/v1/groups/{id}/users, pages of up to 1000. */
  listGroupMembers(
    groupId: string,
    signal?: AbortSignal,
  ): AsyncIterable<OktaUser[]>;
  stats(): OktaClientStats;
}
