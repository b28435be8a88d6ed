/*
 * What one sync of one provider did, as a typed value: `read()` returns it
 * (or rejects with it attached), and the logs, the metrics, the set-up check
 * and the benchmark read their numbers from it instead of from log text.
 * It holds counts, durations and Okta's error text, never config or secrets.
 */
import type { OktaClientStats } from '../okta/client/types';
import { OktaRequestError } from '../okta/client/types';
import type { OktaDeletionGuardVerdict } from './deletionGuard';

/**
 * How a sync ended: `applied` (the full mutation was committed), `refused`
 * (the deletion guard kept the catalog as it was) or `failed` (the read or
 * the commit failed; nothing was applied).
 *
 * @public
 */
export type OktaSyncOutcome = 'applied' | 'refused' | 'failed';

/**
 * Why a sync failed, as a small fixed set (a metric attribute):
 *
 * - `okta_auth`: the token request failed, or Okta answered 401.
 * - `okta_permission`: Okta answered 403 (scopes or the app's admin role).
 * - `okta_rate_limit`: Okta still answered 429 after the retries.
 * - `okta_server`: Okta still answered 5xx after the retries.
 * - `okta_request`: another answer from Okta (a 400 for a bad filter, a 404,
 *   a malformed record).
 * - `okta_network`: no complete answer (network error, timeout) after the retries.
 * - `aborted`: the schedule's timeout or a shutdown stopped the sync.
 * - `catalog`: the catalog rejected the mutation.
 * - `other`: anything else, e.g. a transformer that threw.
 *
 * @public
 */
export type OktaSyncFailureReason =
  | 'okta_auth'
  | 'okta_permission'
  | 'okta_rate_limit'
  | 'okta_server'
  | 'okta_request'
  | 'okta_network'
  | 'aborted'
  | 'catalog'
  | 'other';

/**
 * Counts of the entities one sync built (or one earlier sync applied).
 *
 * @public
 */
export interface OktaEntityCounts {
  users: number;
  groups: number;
}

/**
 * The Okta requests of one endpoint during one sync.
 *
 * @public
 */
export interface OktaSyncEndpointRequests {
  /** Attempts sent, retries included. */
  requests: number;
  /**
   * Attempts by status class: `2xx`, `3xx`, `4xx`, `5xx`, or `none` (no
   * complete response: network error, timeout, abort).
   */
  byStatusClass: Record<string, number>;
  /** 429 answers (also counted in `4xx`). */
  rateLimited: number;
}

/**
 * The Okta requests of one sync.
 *
 * @public
 */
export interface OktaSyncRequests {
  /** Attempts sent, retries included. */
  total: number;
  /**
   * By endpoint key: `token`, `users`, `groups`, `groupMembers`,
   * `userGroups`, `other`.
   */
  byEndpoint: Record<string, OktaSyncEndpointRequests>;
  /** 429 answers. */
  rateLimited: number;
  /** Retries of any kind (429, 5xx, network, timeout, a cut body). */
  retries: number;
  /** Access tokens fetched. */
  tokensFetched: number;
}

/**
 * What a run read from Okta, when the provider keeps sync state: a full read
 * (the first, a due `fullReadEvery`, a config change, or one continued from an
 * earlier run) or only what changed.
 *
 * @public
 */
export interface OktaSyncReadReport {
  kind: 'full' | 'incremental';
  /** The run continued a full read an earlier run had started. */
  resumedFullRead: boolean;
  /** Group member listings read (only groups whose members changed, or all). */
  memberListings: number;
  /** Users Okta gave as changed (or listed, in a full read). */
  usersRead: number;
}

/**
 * What one run of a provider's sync did.
 *
 * @public
 */
export interface OktaSyncSummary {
  /** The provider's `id`. */
  providerId: string;
  outcome: OktaSyncOutcome;
  /** Set when `outcome` is `failed`. */
  failureReason?: OktaSyncFailureReason;
  /**
   * Why it was not applied: the guard's message when refused, the error's
   * message (with Okta's error code and request id) when failed.
   */
  error?: string;
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** The whole run, in seconds. */
  durationSeconds: number;
  /** Until Okta's last answer was in (entities mapped as they came). */
  readSeconds?: number;
  /** From then until the entities were complete (names, memberships, hierarchy). */
  buildSeconds?: number;
  /** The catalog's `applyMutation` call, when the sync was applied. */
  commitSeconds?: number;
  /** What the read built; absent when the read failed. */
  entities?: OktaEntityCounts & {
    /** Memberships among the selected users and groups. */
    memberships: number;
  };
  /** What the last applied sync had, as the guard compared against; absent when unknown. */
  previous?: OktaEntityCounts;
  /** The deletion guard's verdict, when the read completed. */
  guard?: OktaDeletionGuardVerdict;
  /** The Okta requests of this run. */
  requests: OktaSyncRequests;
  /** Member listings skipped because Okta said the group is empty. */
  emptyGroupsSkipped?: number;
  /** Names from `groupNames` that matched no Okta group. */
  unmatchedGroupNames?: string[];
  /** What was read, with sync state; absent without it (every run a full read). */
  read?: OktaSyncReadReport;
  /**
   * Warnings about Okta's data (name collisions, records left out, parents
   * not found, unmatched groupNames): each is logged by the first run that
   * finds it, and not again while it holds.
   */
  warnings?: {
    total: number;
    /** Not found by the previous run in this process: logged by this one. */
    new: number;
  };
  /**
   * What the catalog was sent, once the run got as far as committing: the
   * whole selection (`full`), or only the changed and removed entities
   * (`delta`).
   */
  mutation?: {
    type: 'full' | 'delta';
    /** Entities sent (every entity in a full mutation). */
    added: number;
    /** Entity refs sent as removed (0 in a full mutation). */
    removed: number;
  };
}

/**
 * What `OktaOrgEntityProvider.read()` rejects with when nothing was applied:
 * the deletion guard refused the sync, or the read or commit failed. The
 * message is the one error logged; `summary` says what the run did. The
 * original error, if any, is `cause`.
 *
 * @public
 */
export class OktaSyncError extends Error {
  /** Okta's details (endpoint, status, error code, request id) when a request to Okta failed. */
  readonly details?: OktaRequestError['details'];

  constructor(
    message: string,
    readonly summary: OktaSyncSummary,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OktaSyncError';
    if (options?.cause instanceof OktaRequestError) {
      this.details = options.cause.details;
    }
  }
}

/** `2xx` ... `5xx`, or `none` for status 0 (no complete response). */
export function statusClassOf(status: number): string {
  return status >= 100 && status < 600
    ? `${Math.floor(status / 100)}xx`
    : 'none';
}

/** The requests between two snapshots of one client's stats. */
export function requestsBetween(
  before: OktaClientStats,
  after: OktaClientStats,
): OktaSyncRequests {
  const byEndpoint: Record<string, OktaSyncEndpointRequests> = {};
  let total = 0;
  for (const [endpoint, count] of Object.entries(after.requests)) {
    const requests = count - (before.requests[endpoint] ?? 0);
    if (requests <= 0) {
      continue;
    }
    total += requests;
    const byStatusClass: Record<string, number> = {};
    let rateLimited = 0;
    const was = before.responses?.[endpoint] ?? {};
    for (const [code, n] of Object.entries(after.responses?.[endpoint] ?? {})) {
      const delta = n - (was[Number(code)] ?? 0);
      if (delta <= 0) {
        continue;
      }
      const statusClass = statusClassOf(Number(code));
      byStatusClass[statusClass] = (byStatusClass[statusClass] ?? 0) + delta;
      if (Number(code) === 429) {
        rateLimited += delta;
      }
    }
    byEndpoint[endpoint] = { requests, byStatusClass, rateLimited };
  }
  return {
    total,
    byEndpoint,
    rateLimited: after.rateLimited - before.rateLimited,
    retries: after.retries - before.retries,
    tokensFetched: after.tokensFetched - before.tokensFetched,
  };
}

/** The reason class of a failed sync's error (see {@link OktaSyncFailureReason}). */
export function failureReasonOf(
  error: unknown,
  context: { signal?: AbortSignal; committing: boolean },
): OktaSyncFailureReason {
  if (context.signal?.aborted) {
    return 'aborted';
  }
  if (context.committing) {
    return 'catalog';
  }
  if (error instanceof OktaRequestError) {
    const { status, endpoint } = error.details;
    if (status === undefined) {
      return 'okta_network';
    }
    if (status === 429) {
      return 'okta_rate_limit';
    }
    if (status >= 500) {
      return 'okta_server';
    }
    if (status === 401 || endpoint.includes('/oauth2/')) {
      return 'okta_auth';
    }
    if (status === 403) {
      return 'okta_permission';
    }
    return 'okta_request';
  }
  return 'other';
}
