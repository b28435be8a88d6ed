/*
 * Every HTTP request to Okta goes through here: the Okta SDK's requests (this
 * class is the SDK's `requestExecutor`) and the token requests. Each attempt
 * is paced by the rate limiter, gets fresh credentials, has a timeout and
 * honours the caller's abort signal; the whole body is buffered and checked
 * before the SDK sees it. Transient failures are retried, final ones become
 * an OktaRequestError that names the endpoint and never a secret.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { RequestExecutor } from '@okta/okta-sdk-nodejs';
import { abortableDelay, abortReason } from './abortableDelay';
import {
  OktaApiTokenAuthorizer,
  type OktaAuthorizer,
  type OktaCredentials,
  type OktaHttpResponse,
} from './OktaAuthorizer';
import { oktaFixFor, wwwAuthenticateError } from './oktaFixes';
import { httpTransport } from './httpTransport';
import { oktaEndpointOf } from './oktaEndpoints';
import type { OktaRateLimiter } from './OktaRateLimiter';
import { countResponse } from './responseCounts';
import { OktaClientStats, OktaRequestError } from './types';

/** One logical request; the executor may send it several times. */
export interface OktaHttpRequest {
  method: string;
  url: string;
  /** Headers of every attempt. */
  headers?: Record<string, string>;
  /**
   * Per-attempt headers and body, for single-use parts: client assertions
   * and DPoP proofs.
   */
  prepare?: () => Promise<{ headers?: Record<string, string>; body?: string }>;
  /** Authorize each attempt with the executor's authorizer (API requests). */
  authorize?: boolean;
  signal?: AbortSignal;
}

/** Options of {@link OktaRequestExecutor}. */
export interface OktaRequestExecutorOptions {
  /** Normalised org URL (no trailing slash); credentials go to this origin only. */
  orgUrl: string;
  limiter: OktaRateLimiter;
  logger: LoggerService;
  stats: OktaClientStats;
  /**
   * Creates the authorizer of API requests (required for
   * {@link OktaRequestExecutor.fetch}); it gets the executor's `send` for
   * its own token requests.
   */
  authorizer?: (
    send: (request: OktaHttpRequest) => Promise<OktaHttpResponse>,
  ) => OktaAuthorizer;
  maxRetries: number;
  requestTimeoutMs: number;
  retryBaseDelayMs: number;
  /** Cap of one backoff delay. Default 30 s. */
  maxRetryDelayMs?: number;
}

/** The request object the SDK's Http class hands to `fetch`. */
export interface OktaSdkRequest {
  url?: unknown;
  method?: string;
  headers?: Record<string, unknown>;
  body?: unknown;
}

/** What the SDK's Http and Collection read from a response. */
export interface OktaSdkResponse {
  status: number;
  statusText: string;
  ok: boolean;
  url: string;
  headers: Headers;
  text(): Promise<string>;
  json(): Promise<unknown>;
  buffer(): Promise<Buffer>;
}

/** An Okta error body, management API (`errorCode`) or OAuth (`error`). */
interface OktaErrorBody {
  errorCode?: unknown;
  errorSummary?: unknown;
  errorCauses?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** Okta's error code and summary from an error response body, if it has them. */
export function oktaErrorOf(body: string): {
  errorCode?: string;
  summary?: string;
} {
  let parsed: OktaErrorBody;
  try {
    parsed = JSON.parse(body) as OktaErrorBody;
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const errorCode = str(parsed.errorCode) ?? str(parsed.error);
  let summary = str(parsed.errorSummary) ?? str(parsed.error_description);
  if (Array.isArray(parsed.errorCauses)) {
    const causes = parsed.errorCauses
      .map(c =>
        c && typeof c === 'object'
          ? str((c as OktaErrorBody).errorSummary)
          : undefined,
      )
      .filter(Boolean);
    if (causes.length)
      summary = `${summary ?? ''} (${causes.join('; ')})`.trim();
  }
  return { errorCode, summary };
}

/**
 * Whether Okta rejected the request's DPoP proof: on /api/v1 it answers 400
 * with an empty body and the reason only in WWW-Authenticate.
 */
export function isDpopProofRejection(response: OktaHttpResponse): boolean {
  return (
    response.status === 400 &&
    wwwAuthenticateError(response.headers.get('www-authenticate')).error ===
      'invalid_dpop_proof'
  );
}

/** The error for a final, non-2xx response. */
export function oktaRequestErrorFromResponse(
  template: string,
  response: OktaHttpResponse,
  attempts: number,
  authKind: 'privateKey' | 'apiToken' = 'privateKey',
): OktaRequestError {
  const fromBody = oktaErrorOf(response.body);
  // Without an error body (a DPoP proof error), Okta's reason is in the challenge.
  const challenge = wwwAuthenticateError(
    response.headers.get('www-authenticate'),
  );
  const errorCode = fromBody.errorCode ?? challenge.error;
  const summary = fromBody.summary ?? challenge.description;
  const requestId = response.headers.get('x-okta-request-id') ?? undefined;
  const parts = [`Okta ${template} failed with HTTP ${response.status}`];
  if (errorCode) parts.push(` ${errorCode}`);
  if (summary) parts.push(`: ${summary}`);
  if (requestId) parts.push(` (request id ${requestId})`);
  if (attempts > 1) parts.push(` after ${attempts} attempts`);
  parts.push('.');
  let resource: 'Users' | 'Groups' | undefined;
  if (template.includes('/api/v1/users')) resource = 'Users';
  else if (template.includes('/api/v1/groups')) resource = 'Groups';
  const fix = oktaFixFor(
    { status: response.status, errorCode, description: summary },
    { auth: authKind, resource },
  );
  if (fix) parts.push(` To fix: ${fix}.`);
  return new OktaRequestError(parts.join(''), {
    endpoint: template,
    status: response.status,
    errorCode,
    requestId,
  });
}

/** A failure of one attempt that another attempt may not have. */
interface TransientFailure {
  reason: string;
  status?: number;
  errorCode?: string;
  requestId?: string;
  /** The limiter already waits for the bucket's reset: retry at once. */
  rateLimited?: boolean;
  /** A concurrency 429: retry after a short backoff. */
  concurrencyLimited?: boolean;
  /** A timeout or 5xx: what a page too big for Okta's servers at the moment gets. */
  serverStrain?: boolean;
}

/**
 * Listings whose page size can fall back, and how far: the group listing
 * (pages up to 10,000) and member listings (up to 1,000). User pages are at
 * most 200, the size Okta recommends.
 */
const PAGED_ENDPOINTS: ReadonlySet<string> = new Set([
  'groups',
  'groupMembers',
]);
const MIN_FALLBACK_PAGE_SIZE = 100;

/**
 * The URL asking for half the page (not below 100), or undefined when the
 * request is not a listing page that can get smaller. Okta recommends small
 * pages, and a smaller retry when a big page (group members above all) times
 * out or fails with a 500 (shared/FACTS.md: Okta's current spec recommends
 * 200 for member pages, whose maximum is 1,000). The cursor (`after`) is the
 * last id of the previous page, so a smaller page continues the same
 * listing, and Okta's next links keep the smaller `limit`.
 */
export function smallerPageUrl(
  url: string,
  endpointKey: string,
): string | undefined {
  if (!PAGED_ENDPOINTS.has(endpointKey)) return undefined;
  const limit = pageLimitOf(url);
  if (limit === undefined || limit <= MIN_FALLBACK_PAGE_SIZE) return undefined;
  return withPageLimit(
    url,
    Math.max(MIN_FALLBACK_PAGE_SIZE, Math.floor(limit / 2)),
  );
}

function pageLimitOf(url: string): number | undefined {
  const limit = Number(new URL(url).searchParams.get('limit'));
  return Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

function withPageLimit(url: string, limit: number): string {
  const parsed = new URL(url);
  parsed.searchParams.set('limit', String(limit));
  return parsed.toString();
}

/**
 * How long a page size that worked after a fallback is used for new listings
 * of the same endpoint: the strain that made big pages fail tends to last
 * (every member listing of a sync would otherwise pay the failed big pages
 * again), but not forever, so later syncs try the configured size again.
 */
const LEARNED_PAGE_SIZE_MS = 10 * 60_000;

class AttemptTimeoutError extends Error {}

const yieldToEventLoop = () =>
  new Promise<void>(resolve => setImmediate(resolve));

function describeNetworkError(error: unknown): string {
  if (error instanceof AttemptTimeoutError) return error.message;
  const { code, message, cause } = (error ?? {}) as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  };
  const detail =
    code ?? cause?.code ?? cause?.message ?? message ?? String(error);
  return `network error (${String(detail)})`;
}

function headersOf(
  sdkHeaders: Record<string, unknown> | undefined,
  hasBody: boolean,
) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(sdkHeaders ?? {})) {
    const lower = name.toLowerCase();
    // Our authorizer sets the credentials; the SDK's are a placeholder.
    if (lower === 'authorization' || lower === 'dpop') continue;
    // The generated API sets `Content-Type: undefined` on GETs.
    if (value === undefined || value === null || value === 'undefined')
      continue;
    if (lower === 'content-type' && !hasBody) continue;
    headers[name] = String(value);
  }
  return headers;
}

/** The `rel="next"` URL of a Link header, if any. */
export function nextLinkOf(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2])?.[1];
    if (rel?.split(/\s+/).includes('next')) return match[1];
  }
  return undefined;
}

/**
 * The URL to ask for the page a next link points to: the link resolved
 * against the request, on the org's own origin. Okta builds next links on
 * the org's canonical host (a request to acme-admin.okta.com is answered with
 * links on acme.okta.com; shared/FACTS.md), and a proxy or custom domain can
 * do the same; the cursor is in the path and query, so those are kept and
 * the page is asked for where the credentials belong.
 */
export function nextPageUrl(
  next: string,
  requestUrl: string,
  orgOrigin: string,
): string {
  const resolved = new URL(next, requestUrl);
  if (resolved.origin === orgOrigin) return resolved.toString();
  return new URL(
    `${resolved.pathname}${resolved.search}`,
    orgOrigin,
  ).toString();
}

/** Our own response header naming a parsed body the page parser can take. */
const PARSED_BODY_HEADER = 'x-okta-org-client-parsed-body';

/** Where the SDK is sent for the next page: a short handle of the real URL. */
const NEXT_PAGE_PATH = '/__okta-org-client/next-page/';

/**
 * The Okta SDK's request executor, doing all of the HTTP work itself: the
 * SDK only builds URLs and follows Link headers.
 */
export class OktaRequestExecutor extends RequestExecutor {
  private readonly orgOrigin: string;
  private readonly signals = new WeakMap<object, AbortSignal>();
  /** Parsed bodies of responses handed to the SDK, until the page parser takes them. */
  private readonly parsedBodies = new Map<string, unknown>();
  private parsedBodyCount = 0;
  /** Next-page handles given to the SDK, and the URLs they stand for. */
  private readonly nextPages = new Map<string, string>();
  private nextPageCount = 0;
  private readonly maxRetryDelayMs: number;
  private requestsInFlight = 0;
  private loggedHostChange = false;
  /** Page sizes that worked after a fallback, by endpoint key. */
  private readonly learnedPageSizes = new Map<
    string,
    { limit: number; until: number }
  >();
  /** Attempts behind a final response of `send`, for its error message. */
  private readonly attemptsOf = new WeakMap<OktaHttpResponse, number>();
  /** Authorizes API requests. */
  readonly authorizer?: OktaAuthorizer;

  constructor(private readonly options: OktaRequestExecutorOptions) {
    super();
    this.orgOrigin = new URL(options.orgUrl).origin;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.authorizer = options.authorizer?.(request => this.send(request));
  }

  /**
   * The parsed body of a response this executor handed to the SDK, once;
   * undefined when there is none (the caller then parses the text).
   *
   * @param headers - the response headers as the SDK passes them on
   */
  takeParsedBody(headers: Record<string, string | undefined>): unknown {
    const id = headers[PARSED_BODY_HEADER];
    if (id === undefined) return undefined;
    const parsed = this.parsedBodies.get(id);
    this.parsedBodies.delete(id);
    return parsed;
  }

  /**
   * Ties an SDK request object (a collection's request context, reused for
   * every page) to the abort signal of its listing.
   */
  bindSignal(sdkRequest: object, signal: AbortSignal | undefined): void {
    if (signal) this.signals.set(sdkRequest, signal);
  }

  /** Called by the SDK for every page; resolves with a buffered 2xx response. */
  override async fetch(request: OktaSdkRequest): Promise<OktaSdkResponse> {
    let url = String(request.url);
    const handle = url.startsWith(`${this.options.orgUrl}${NEXT_PAGE_PATH}`);
    if (handle) {
      const real = this.nextPages.get(url);
      this.nextPages.delete(url);
      if (!real) throw new Error('The Okta SDK asked for an unknown next page');
      url = real;
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const endpoint = oktaEndpointOf(method, url);
    if (new URL(url).origin !== this.orgOrigin) {
      // Never send credentials elsewhere (next links are moved to the org's
      // origin above; anything else off it is a bug).
      throw new OktaRequestError(
        `Okta ${endpoint.template} refused: the URL is not on the org ${this.orgOrigin}.`,
        { endpoint: endpoint.template },
      );
    }
    const body = typeof request.body === 'string' ? request.body : undefined;
    const response = await this.send({
      method,
      url,
      headers: headersOf(request.headers, body !== undefined),
      prepare: async () => ({ body }),
      authorize: true,
      signal: this.signals.get(request as object),
    });
    if (response.status < 200 || response.status > 299) {
      throw oktaRequestErrorFromResponse(
        endpoint.template,
        response,
        this.attemptsOf.get(response) ?? 1,
        this.authorizer instanceof OktaApiTokenAuthorizer
          ? 'apiToken'
          : 'privateKey',
      );
    }
    // The SDK's Link parser (parse-link-header) silently returns nothing for
    // headers over 2000 characters, which long search expressions produce,
    // and the listing would end early. It gets a short handle instead.
    const headers = new Headers(response.headers);
    headers.delete('link');
    const next = nextLinkOf(response.headers.get('link'));
    if (next) {
      const nextHandle = `${this.options.orgUrl}${NEXT_PAGE_PATH}${++this.nextPageCount}`;
      const nextUrl = nextPageUrl(next, url, this.orgOrigin);
      if (
        !this.loggedHostChange &&
        new URL(next, url).origin !== this.orgOrigin
      ) {
        this.loggedHostChange = true;
        this.options.logger.debug(
          `Okta's next links are on ${new URL(next, url).origin}, not ${this.orgOrigin}; following them on ${this.orgOrigin}`,
        );
      }
      this.nextPages.set(nextHandle, nextUrl);
      headers.set('link', `<${nextHandle}>; rel="next"`);
    }
    // The body was parsed to check it; the page parser (or json()) takes
    // that value instead of parsing the text again (a member page is up to
    // ~2 MB). Whichever reads it first removes it from the map.
    let parsedId: string | undefined;
    if (response.json !== undefined) {
      parsedId = String(++this.parsedBodyCount);
      this.parsedBodies.set(parsedId, response.json);
      headers.set(PARSED_BODY_HEADER, parsedId);
    }
    const text = response.body;
    return {
      status: response.status,
      statusText: '',
      ok: true,
      url: response.url,
      headers,
      text: async () => text,
      json: async () =>
        this.takeParsedBody({ [PARSED_BODY_HEADER]: parsedId }) ??
        JSON.parse(text),
      buffer: async () => Buffer.from(text),
    };
  }

  /**
   * Sends a request with pacing, timeouts and retries. Resolves with the
   * final response, 2xx or a 4xx that retrying cannot fix; rejects with an
   * OktaRequestError once retries are exhausted, or the abort reason.
   */
  async send(request: OktaHttpRequest): Promise<OktaHttpResponse> {
    const { limiter, logger, stats, maxRetries } = this.options;
    const endpoint = oktaEndpointOf(request.method, request.url);
    const { signal } = request;
    // Changes when a listing page falls back to a smaller size.
    let url = request.url;
    let fellBack = false;
    const learned = this.learnedPageSizes.get(endpoint.key);
    const asked = PAGED_ENDPOINTS.has(endpoint.key)
      ? pageLimitOf(url)
      : undefined;
    if (learned && asked !== undefined) {
      if (Date.now() >= learned.until)
        this.learnedPageSizes.delete(endpoint.key);
      else if (asked > learned.limit) url = withPageLimit(url, learned.limit);
    }
    let retries = 0;
    let renewals = 0;
    let proofRetries = 0;
    let attempts = 0;
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      let credentials: OktaCredentials | undefined;
      if (request.authorize) {
        if (!this.authorizer)
          throw new Error('OktaRequestExecutor has no authorizer');
        // Before taking a slot: a token request must not wait for our own slot.
        credentials = await this.authorizer.credentials(signal);
      }
      // The token and the user and group listings are single cursor chains
      // that everything else waits on; the many member listings are not.
      // The group listing shares its rate-limit bucket with the member
      // listings (Okta's /api/v1/groups bucket): first in line, it takes a
      // window's room before them too.
      const permit = await limiter.acquire(endpoint.bucket, signal, {
        firstInLine: endpoint.key !== 'groupMembers',
      });
      let outcome:
        | { response: OktaHttpResponse; used: Record<string, string> }
        | TransientFailure;
      try {
        outcome = await this.attempt(
          { ...request, url },
          permit,
          endpoint.key,
          credentials,
        );
      } catch (error) {
        // Aborted by the caller, or credentials could not be had (token errors).
        permit.release();
        throw error;
      }
      attempts++;

      if ('response' in outcome) {
        const { response, used } = outcome;
        // A 401 can mean the token expired mid-sync or a DPoP nonce is due:
        // renew and retry, at most twice (nonce, then token) per request.
        if (
          response.status === 401 &&
          request.authorize &&
          renewals < 2 &&
          this.authorizer &&
          (await this.authorizer.renew(response, used))
        ) {
          renewals++;
          stats.retries++;
          logger.debug(
            `Okta ${endpoint.template} answered 401; retrying with renewed credentials (request id ${
              response.headers.get('x-okta-request-id') ?? 'none'
            })`,
          );
          continue;
        }
        // A rejected DPoP proof: retry once with a fresh one (a new jti and
        // iat; the proof is made per attempt). A second rejection is final
        // and its error says what Okta said.
        if (
          request.authorize &&
          proofRetries < 1 &&
          isDpopProofRejection(response)
        ) {
          proofRetries++;
          stats.retries++;
          logger.debug(
            `Okta ${endpoint.template} rejected the DPoP proof (${
              wwwAuthenticateError(response.headers.get('www-authenticate'))
                .description ?? 'no reason given'
            }); retrying with a fresh proof`,
          );
          continue;
        }
        if (fellBack && response.status >= 200 && response.status <= 299) {
          // A smaller page worked: new listings of this endpoint start there.
          const limit = pageLimitOf(url);
          const known = this.learnedPageSizes.get(endpoint.key);
          if (limit !== undefined && (!known || limit <= known.limit)) {
            this.learnedPageSizes.set(endpoint.key, {
              limit,
              until: Date.now() + LEARNED_PAGE_SIZE_MS,
            });
          }
        }
        this.attemptsOf.set(response, attempts);
        return response;
      }

      const failure = outcome;
      if (retries >= maxRetries) {
        throw new OktaRequestError(
          `Okta ${endpoint.template} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${failure.reason}${
            failure.requestId ? ` (request id ${failure.requestId})` : ''
          }.`,
          {
            endpoint: endpoint.template,
            status: failure.status,
            errorCode: failure.errorCode,
            requestId: failure.requestId,
          },
        );
      }
      retries++;
      stats.retries++;
      // A big page timing out or failing: the retry asks for a smaller one
      // (for the rest of the listing), instead of spending the retries on
      // the same size and failing the sync.
      let fallback = '';
      const smaller = failure.serverStrain
        ? smallerPageUrl(url, endpoint.key)
        : undefined;
      if (smaller) {
        fallback = `, asking for pages of ${pageLimitOf(smaller)} instead of ${pageLimitOf(url)} for the rest of this listing`;
        url = smaller;
        fellBack = true;
        stats.pageSizeFallbacks = (stats.pageSizeFallbacks ?? 0) + 1;
      }
      let delayMs = 0;
      if (failure.concurrencyLimited) {
        delayMs = this.backoff(
          retries,
          Math.min(this.options.retryBaseDelayMs, 250),
        );
      } else if (!failure.rateLimited) {
        delayMs = this.backoff(retries, this.options.retryBaseDelayMs);
      }
      const message = `Okta ${endpoint.template}: ${failure.reason}${
        failure.requestId ? ` (request id ${failure.requestId})` : ''
      }; retry ${retries} of ${maxRetries}${
        failure.rateLimited
          ? ' after the rate-limit reset'
          : ` in ${Math.round(delayMs)} ms`
      }${fallback}`;
      if (failure.rateLimited || failure.concurrencyLimited)
        logger.debug(message);
      else logger.warn(message);
      await abortableDelay(delayMs, signal);
    }
  }

  /** Exponential backoff with full jitter. */
  private backoff(retry: number, baseMs: number): number {
    const ceiling = Math.min(this.maxRetryDelayMs, baseMs * 2 ** (retry - 1));
    return Math.random() * ceiling;
  }

  /** One attempt; the permit is released inside. */
  private async attempt(
    request: OktaHttpRequest,
    permit: Awaited<ReturnType<OktaRateLimiter['acquire']>>,
    endpointKey: string,
    credentials: OktaCredentials | undefined,
  ): Promise<
    | { response: OktaHttpResponse; used: Record<string, string> }
    | TransientFailure
  > {
    const { stats, requestTimeoutMs } = this.options;
    const prepared = (await request.prepare?.()) ?? {};
    // Made now, after any wait for a slot, so that proofs are fresh.
    const authHeaders =
      credentials?.headersFor({ method: request.method, url: request.url }) ??
      {};
    const headers = { ...request.headers, ...prepared.headers, ...authHeaders };

    const timeout = new AbortController();
    const timer = setTimeout(
      () =>
        timeout.abort(
          new AttemptTimeoutError(
            `no complete response within ${requestTimeoutMs} ms`,
          ),
        ),
      requestTimeoutMs,
    );
    const signal = request.signal
      ? AbortSignal.any([request.signal, timeout.signal])
      : timeout.signal;
    stats.requests[endpointKey] = (stats.requests[endpointKey] ?? 0) + 1;
    this.requestsInFlight++;
    stats.peakRequestsInFlight = Math.max(
      stats.peakRequestsInFlight ?? 0,
      this.requestsInFlight,
    );
    const sentAt = Date.now();
    let status: number;
    let responseHeaders: Headers;
    let url: string;
    let body: string;
    let receivedAt: number;
    try {
      // Never follows a redirect: Okta's API has none, and following one
      // would carry our credentials.
      const res = await httpTransport.send(request.url, {
        method: request.method,
        headers,
        body: prepared.body,
        signal,
      });
      receivedAt = Date.now();
      status = res.status;
      responseHeaders = res.headers;
      url = request.url;
      // Buffer it all within the attempt's timeout: a slow or cut body is a failed attempt.
      body = await res.body();
    } catch (error) {
      permit.release();
      countResponse(stats, endpointKey, 0);
      if (request.signal?.aborted) throw abortReason(request.signal);
      const timedOut = timeout.signal.aborted;
      return {
        reason: timedOut
          ? describeNetworkError(timeout.signal.reason)
          : describeNetworkError(error),
        serverStrain: timedOut,
      };
    } finally {
      clearTimeout(timer);
      this.requestsInFlight--;
    }

    countResponse(stats, endpointKey, status);
    const verdict = permit.release({
      status,
      headers: responseHeaders,
      sentAt,
      receivedAt,
    });
    // Let a request that was waiting for this slot leave before this body is
    // parsed (parsing a member page takes milliseconds).
    await yieldToEventLoop();
    const requestId = responseHeaders.get('x-okta-request-id') ?? undefined;
    if (status === 429) {
      stats.rateLimited++;
      const { errorCode } = oktaErrorOf(body);
      return {
        reason:
          verdict === 'rateLimited'
            ? 'rate limit exceeded (HTTP 429)'
            : 'too many concurrent requests (HTTP 429)',
        status,
        errorCode,
        requestId,
        rateLimited: verdict === 'rateLimited',
        concurrencyLimited: verdict !== 'rateLimited',
      };
    }
    if (status >= 500) {
      const { errorCode } = oktaErrorOf(body);
      return {
        reason: `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`,
        status,
        errorCode,
        requestId,
        serverStrain: true,
      };
    }
    let json: unknown;
    if (status >= 200 && status <= 299) {
      try {
        json = JSON.parse(body);
      } catch {
        return {
          reason: `HTTP ${status} with a body that is not JSON`,
          status,
          requestId,
        };
      }
    }
    return {
      response: { status, url, headers: responseHeaders, body, json },
      used: authHeaders,
    };
  }
}
