/*
 * The Okta org client: the Okta SDK builds the requests and follows Link
 * headers; our request executor does the HTTP (auth, pacing, retries,
 * timeouts, cancellation); and we read the raw JSON of each page ourselves,
 * because the SDK's Group model drops custom profile attributes and its
 * models turn timestamps into Date objects.
 */
import { Client, Collection } from '@okta/okta-sdk-nodejs';
import { normaliseOktaOrgUrl, OktaOrgUrlError } from '../orgUrl';
import { OktaAccessTokenSource } from './OktaAccessTokenSource';
import {
  OktaApiTokenAuthorizer,
  type OktaAuthorizer,
  type OktaHttpResponse,
} from './OktaAuthorizer';
import { OktaRateLimiter } from './OktaRateLimiter';
import {
  OktaRequestExecutor,
  type OktaHttpRequest,
} from './OktaRequestExecutor';
import {
  OktaClientOptions,
  OktaClientStats,
  OktaGroup,
  OktaOrgClient,
  OktaRequestError,
  OktaUser,
} from './types';

const DEFAULT_SCOPES = ['okta.users.read', 'okta.groups.read'];

/** Okta's maximum page sizes. */
const MAX_PAGE_SIZE = { users: 200, groups: 10000, groupMembers: 1000 };

/** The SDK's token in SSWS mode: never sent, our executor replaces it. */
const PLACEHOLDER_TOKEN = 'replaced-by-OktaRequestExecutor';

type RawObject = Record<string, unknown>;

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | null | undefined {
  if (value === null) return null;
  return typeof value === 'string' ? value : undefined;
}

function pageSize(value: number | undefined, max: number, key: string): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(
      `Okta ${key} must be an integer from 1 to ${max}, got ${value}`,
    );
  }
  return value;
}

function positive(
  value: number | undefined,
  fallback: number,
  key: string,
  min = 1,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min) {
    throw new Error(
      `Okta ${key} must be a number of at least ${min}, got ${value}`,
    );
  }
  return value;
}

/**
 * The org URL in its one canonical form (trailing slashes would make the
 * SDK build `//api/v1` URLs). http is allowed here: the config reader
 * decides whether it may be used.
 */
function normaliseOrgUrl(orgUrl: string): string {
  try {
    return normaliseOktaOrgUrl(orgUrl, { allowInsecureHttp: true }).url;
  } catch (error) {
    if (error instanceof OktaOrgUrlError) {
      throw new Error(`The Okta org URL ${error.message}`);
    }
    throw error;
  }
}

/**
 * Why a raw API object cannot become a user or group, or undefined when it
 * can. Such a record is skipped with a warning: one bad record must not fail
 * the whole read.
 */
function unusableRecordReason(raw: RawObject): string | undefined {
  if (typeof raw.id !== 'string' || raw.id === '') return 'has no id';
  if (!isObject(raw.profile)) return 'has no profile';
  return undefined;
}

/** A user as the contract has it, from a raw API object. */
export function oktaUserFromApi(raw: RawObject, endpoint: string): OktaUser {
  if (typeof raw.id !== 'string' || !isObject(raw.profile)) {
    throw new OktaRequestError(
      `Okta ${endpoint} returned a user without id or profile.`,
      {
        endpoint,
      },
    );
  }
  return {
    id: raw.id,
    status: typeof raw.status === 'string' ? raw.status : undefined,
    created: optionalString(raw.created),
    lastUpdated: optionalString(raw.lastUpdated),
    profile: raw.profile,
  };
}

/** A group as the contract has it, from a raw API object. */
export function oktaGroupFromApi(raw: RawObject, endpoint: string): OktaGroup {
  if (typeof raw.id !== 'string' || !isObject(raw.profile)) {
    throw new OktaRequestError(
      `Okta ${endpoint} returned a group without id or profile.`,
      {
        endpoint,
      },
    );
  }
  const group: OktaGroup = {
    id: raw.id,
    type: typeof raw.type === 'string' ? raw.type : undefined,
    lastUpdated: optionalString(raw.lastUpdated),
    lastMembershipUpdated: optionalString(raw.lastMembershipUpdated),
    profile: raw.profile,
  };
  const stats = isObject(raw._embedded) ? raw._embedded.stats : undefined;
  if (isObject(stats) && typeof stats.usersCount === 'number') {
    group.usersCount = stats.usersCount;
  }
  return group;
}

/**
 * Reads a page's raw JSON array, instead of the SDK's model deserializer:
 * the executor's parsed body when it has one, else the text parsed.
 */
function rawPageParser(executor: OktaRequestExecutor) {
  return {
    async parseResponse(response: {
      headers: Record<string, string | undefined>;
      body: { text(): Promise<string> };
    }): Promise<unknown[]> {
      const page: unknown =
        executor.takeParsedBody(response.headers) ??
        JSON.parse(await response.body.text());
      if (!Array.isArray(page))
        throw new Error('Okta returned a page that is not a JSON array');
      return page;
    },
  };
}

/** Per HTTP request (each attempt), unless the options say otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The request side of a client: the executor every request goes through
 * (with its rate limiter, retries and authorizer) and the counts it keeps.
 * The org client lists through it and the set-up check probes through the
 * same one (see {@link oktaConnectionOf}), so both see Okta's answers alike.
 */
export interface OktaConnection {
  /** The org URL in its canonical form. */
  orgUrl: string;
  executor: OktaRequestExecutor;
  stats: OktaClientStats;
  /**
   * An access-token source for `scopes`, made as the executor's own is and
   * sending through the executor (private-key authentication only).
   */
  tokenSource(scopes: string[]): OktaAccessTokenSource;
}

/** The connection of each client made by {@link createOktaOrgClient}. */
const connections = new WeakMap<OktaOrgClient, OktaConnection>();

/**
 * The connection a client made by {@link createOktaOrgClient} sends
 * through; undefined for any other implementation of the interface.
 */
export function oktaConnectionOf(
  client: OktaOrgClient,
): OktaConnection | undefined {
  return connections.get(client);
}

/**
 * Creates the executor, rate limiter and authorizer of a client.
 *
 * @param options - see {@link OktaClientOptions}; page sizes are not used here
 */
export function createOktaConnection(
  options: OktaClientOptions,
): OktaConnection {
  const orgUrl = normaliseOrgUrl(options.orgUrl);
  const stats: OktaClientStats = {
    requests: {},
    retries: 0,
    rateLimited: 0,
    tokensFetched: 0,
  };
  const limiter = new OktaRateLimiter({
    maxConcurrency: positive(options.maxConcurrency, 10, 'maxConcurrency'),
    mechanisms: options.mechanisms,
  });

  const { auth } = options;
  const newTokenSource = (
    scopes: string[],
    send: (request: OktaHttpRequest) => Promise<OktaHttpResponse>,
  ): OktaAccessTokenSource => {
    if (auth.kind !== 'privateKey') {
      throw new Error('An SSWS API token has no access tokens');
    }
    return new OktaAccessTokenSource({
      orgUrl,
      clientId: auth.clientId,
      keyId: auth.keyId,
      privateKey: auth.privateKey,
      scopes,
      logger: options.logger,
      stats,
      send,
    });
  };
  const executor: OktaRequestExecutor = new OktaRequestExecutor({
    orgUrl,
    limiter,
    logger: options.logger,
    stats,
    authorizer: (send): OktaAuthorizer =>
      auth.kind === 'apiToken'
        ? new OktaApiTokenAuthorizer(auth.token)
        : newTokenSource(
            options.scopes?.length ? options.scopes : DEFAULT_SCOPES,
            send,
          ),
    maxRetries: positive(options.maxRetries, 6, 'maxRetries', 0),
    requestTimeoutMs: positive(
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      'requestTimeoutMs',
    ),
    retryBaseDelayMs: positive(
      options.retryBaseDelayMs,
      1000,
      'retryBaseDelayMs',
      0,
    ),
  });
  return {
    orgUrl,
    executor,
    stats,
    tokenSource: scopes =>
      newTokenSource(scopes, request => executor.send(request)),
  };
}

/**
 * Creates a client that reads users, groups and group members from an Okta
 * org, authenticating with a service app's private key (OAuth 2.0, DPoP when
 * the app requires it) or an SSWS API token.
 *
 * @param options - see {@link OktaClientOptions}
 */
export function createOktaOrgClient(options: OktaClientOptions): OktaOrgClient {
  const sizes = {
    users: pageSize(options.userPageSize, MAX_PAGE_SIZE.users, 'userPageSize'),
    groups: pageSize(
      options.groupPageSize,
      MAX_PAGE_SIZE.groups,
      'groupPageSize',
    ),
    groupMembers: pageSize(
      options.groupMemberPageSize,
      MAX_PAGE_SIZE.groupMembers,
      'groupMemberPageSize',
    ),
  };
  const connection = createOktaConnection(options);
  const { orgUrl, executor, stats } = connection;

  // SSWS mode with a placeholder keeps the SDK's own OAuth and DPoP code out
  // of the way; explicit values here win over OKTA_CLIENT_* variables and
  // okta.yaml files, which the SDK's config loader merges in.
  const sdk = new Client({
    orgUrl,
    authorizationMode: 'SSWS',
    token: PLACEHOLDER_TOKEN,
    requestExecutor: executor,
    // The default cache middleware would serve repeated GETs from memory.
    cacheMiddleware: null,
  });

  const pageParser = rawPageParser(executor);
  // What the listings hold of Okta's data, for the stats: pages from their
  // complete response until the consumer is done with their last record,
  // and those records not yet done with.
  let pagesHeld = 0;
  let recordsHeld = 0;

  async function* list<T>(
    open: () => Promise<Collection<unknown>>,
    map: (raw: RawObject) => T,
    signal: AbortSignal | undefined,
    endpoint: string,
  ): AsyncGenerator<T> {
    signal?.throwIfAborted();
    // The listing's own stop, so that a page asked for ahead is cancelled
    // when the consumer stops early.
    const stop = new AbortController();
    const collection = await open();
    executor.bindSignal(
      collection.request,
      signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
    );
    collection.factory = pageParser;
    let pending: Promise<unknown[]> | undefined = collection.getNextPage();
    let holding = false;
    let recordsLeft = 0;
    try {
      while (pending) {
        const page = await pending;
        // Ask for the next page now, while this one is consumed: a cursor
        // chain then costs one round trip per page, not a round trip plus
        // the time the consumer spends on the page.
        pending = collection.nextUri ? collection.getNextPage() : undefined;
        pending?.catch(() => undefined);
        holding = true;
        pagesHeld++;
        stats.peakPagesHeld = Math.max(stats.peakPagesHeld ?? 0, pagesHeld);
        recordsLeft = page.length;
        recordsHeld += recordsLeft;
        stats.peakRecordsHeld = Math.max(
          stats.peakRecordsHeld ?? 0,
          recordsHeld,
        );
        for (let i = 0; i < page.length; i++) {
          const item = page[i];
          // The page lets go of each record as it is taken, so a record the
          // consumer is done with is not kept alive by the rest of its page.
          page[i] = undefined;
          try {
            signal?.throwIfAborted();
            // An empty page that still has a next link yields null: skip it.
            if (item === null || item === undefined) continue;
            if (!isObject(item))
              throw new Error(
                'Okta returned a page item that is not an object',
              );
            const unusable = unusableRecordReason(item);
            if (unusable) {
              const id =
                typeof item.id === 'string' ? ` ${item.id.slice(0, 40)}` : '';
              options.logger.warn(
                `Skipped an Okta record${id} from ${endpoint}: it ${unusable}`,
              );
              continue;
            }
            // Resumes once the consumer is done with the record.
            yield map(item);
          } finally {
            recordsLeft--;
            recordsHeld--;
          }
        }
        // The consumer is done with the page's last record.
        holding = false;
        pagesHeld--;
      }
    } finally {
      if (holding) pagesHeld--;
      recordsHeld -= recordsLeft;
      stop.abort();
    }
  }

  /**
   * One object by path: its raw JSON through the executor (pacing, retries,
   * auth), or undefined when Okta answers 404 `E0000007` (no such object).
   */
  async function getOne<T>(
    path: string,
    map: (raw: RawObject) => T,
    signal: AbortSignal | undefined,
    endpoint: string,
  ): Promise<T | undefined> {
    signal?.throwIfAborted();
    const request = {
      url: `${orgUrl}${path}`,
      method: 'GET',
      headers: { Accept: 'application/json' },
    };
    executor.bindSignal(request, signal);
    let response;
    try {
      response = await executor.fetch(request);
    } catch (error) {
      if (
        error instanceof OktaRequestError &&
        error.details.status === 404 &&
        (error.details.errorCode === undefined ||
          error.details.errorCode === 'E0000007') &&
        !signal?.aborted
      ) {
        return undefined;
      }
      throw error;
    }
    const raw: unknown = await response.json();
    if (!isObject(raw)) {
      throw new OktaRequestError(`Okta ${endpoint} returned no object.`, {
        endpoint,
      });
    }
    return map(raw);
  }

  const client: OktaOrgClient = {
    listUsers(query, signal) {
      return list(
        () =>
          sdk.userApi.listUsers({ search: query.search, limit: sizes.users }),
        raw => oktaUserFromApi(raw, 'GET /api/v1/users'),
        signal,
        'GET /api/v1/users',
      );
    },
    listGroups(query, signal) {
      return list(
        () =>
          sdk.groupApi.listGroups({
            search: query.search,
            limit: sizes.groups,
            expand: query.expandStats ? 'stats' : undefined,
          }),
        raw => oktaGroupFromApi(raw, 'GET /api/v1/groups'),
        signal,
        'GET /api/v1/groups',
      );
    },
    listGroupMembers(groupId, signal) {
      return list(
        () =>
          sdk.groupApi.listGroupUsers({ groupId, limit: sizes.groupMembers }),
        raw => oktaUserFromApi(raw, 'GET /api/v1/groups/{id}/users'),
        signal,
        'GET /api/v1/groups/{id}/users',
      );
    },
    getUser(userId, signal) {
      return getOne(
        `/api/v1/users/${encodeURIComponent(userId)}`,
        raw => oktaUserFromApi(raw, 'GET /api/v1/users/{id}'),
        signal,
        'GET /api/v1/users/{id}',
      );
    },
    getGroup(groupId, signal) {
      return getOne(
        `/api/v1/groups/${encodeURIComponent(groupId)}`,
        raw => oktaGroupFromApi(raw, 'GET /api/v1/groups/{id}'),
        signal,
        'GET /api/v1/groups/{id}',
      );
    },
    listUserGroups(userId, signal) {
      return list(
        () => sdk.userApi.listUserGroups({ userId }),
        raw => oktaGroupFromApi(raw, 'GET /api/v1/users/{id}/groups'),
        signal,
        'GET /api/v1/users/{id}/groups',
      );
    },
    stats() {
      return {
        ...stats,
        requests: { ...stats.requests },
      };
    },
  };
  connections.set(client, connection);
  return client;
}
