/*
 * Reads pages of Okta's System Log through the module's own HTTP stack
 * (request executor, rate limiter, token source or SSWS token: auth, DPoP,
 * pacing, retries, timeouts), composed here rather than added to the org
 * client. It is a client of its own, with its own limiter, on purpose: the
 * org client's endpoint table does not know `/api/v1/logs` and would count
 * it in the "other" bucket; here the limiter sees only the logs bucket's
 * headers, so it paces to the logs bucket's limit. Its token asks for
 * `okta.logs.read` alone.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { OktaAccessTokenSource } from '../okta/client/OktaAccessTokenSource';
import { OktaApiTokenAuthorizer } from '../okta/client/OktaAuthorizer';
import { OktaRateLimiter } from '../okta/client/OktaRateLimiter';
import {
  nextLinkOf,
  oktaRequestErrorFromResponse,
  OktaRequestExecutor,
} from '../okta/client/OktaRequestExecutor';
import {
  OktaRequestError,
  type OktaAuthOptions,
  type OktaClientStats,
} from '../okta/client/types';

/** One page of the System Log and the cursor to the next. */
export interface OktaLogPage {
  events: unknown[];
  /** Okta's `next` link: on a polling query, always there. */
  next?: string;
}

/** Fetches one System Log page by URL. */
export type OktaLogPageFetcher = (
  url: string,
  signal?: AbortSignal,
) => Promise<OktaLogPage>;

export interface OktaSystemLogClientOptions {
  orgUrl: string;
  auth: OktaAuthOptions;
  logger: LoggerService;
  requestTimeoutMs?: number;
  maxRetries?: number;
}

export function createOktaSystemLogClient(
  options: OktaSystemLogClientOptions,
): {
  fetchPage: OktaLogPageFetcher;
  stats(): OktaClientStats;
} {
  const orgUrl = options.orgUrl.replace(/\/+$/, '');
  const stats: OktaClientStats = {
    requests: {},
    retries: 0,
    rateLimited: 0,
    tokensFetched: 0,
  };
  const { auth } = options;
  const executor = new OktaRequestExecutor({
    orgUrl,
    // One poll at a time: a cursor is a single chain.
    limiter: new OktaRateLimiter({ maxConcurrency: 1 }),
    logger: options.logger,
    stats,
    authorizer: send =>
      auth.kind === 'apiToken'
        ? new OktaApiTokenAuthorizer(auth.token)
        : new OktaAccessTokenSource({
            orgUrl,
            clientId: auth.clientId,
            keyId: auth.keyId,
            privateKey: auth.privateKey,
            scopes: ['okta.logs.read'],
            logger: options.logger,
            stats,
            send,
          }),
    maxRetries: options.maxRetries ?? 6,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    retryBaseDelayMs: 1000,
  });
  const origin = new URL(orgUrl).origin;

  return {
    async fetchPage(url, signal) {
      // The cursor comes from storage and Okta: never send credentials elsewhere.
      if (new URL(url).origin !== origin) {
        throw new OktaRequestError(
          `Okta GET /api/v1/logs refused: the URL is not on the org ${origin}.`,
          {
            endpoint: 'GET /api/v1/logs',
          },
        );
      }
      const response = await executor.send({
        method: 'GET',
        url,
        headers: { Accept: 'application/json' },
        authorize: true,
        signal,
      });
      if (response.status < 200 || response.status > 299) {
        throw oktaRequestErrorFromResponse('GET /api/v1/logs', response, 1);
      }
      const body = response.json ?? JSON.parse(response.body);
      if (!Array.isArray(body)) {
        throw new OktaRequestError(
          'Okta GET /api/v1/logs returned a page that is not a JSON array.',
          {
            endpoint: 'GET /api/v1/logs',
          },
        );
      }
      const next = nextLinkOf(response.headers.get('link'));
      return {
        events: body,
        ...(next && { next: new URL(next, url).toString() }),
      };
    },
    stats: () => ({ ...stats, requests: { ...stats.requests } }),
  };
}
