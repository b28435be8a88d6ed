/*
 * The set-up check's view of Okta: single requests to the management API and
 * the token endpoint, sent through a connection built exactly as the
 * provider's client builds its own (same executor, rate limiter, authorizer
 * and transport), so a check sees Okta's answers as a sync would, with one
 * extra: the raw body of each answer, for Okta's own error text.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  createOktaConnection,
  type OktaConnection,
} from '../okta/client/createOktaOrgClient';
import { OktaAccessTokenSource } from '../okta/client/OktaAccessTokenSource';
import type { OktaHttpResponse } from '../okta/client/OktaAuthorizer';
import { wwwAuthenticateError } from '../okta/client/oktaFixes';
import {
  nextLinkOf,
  nextPageUrl,
  oktaErrorOf,
} from '../okta/client/OktaRequestExecutor';
import { OktaRequestError } from '../okta/client/types';
import { providerClientOptions } from '../okta/providerSync';
import type { OktaProviderConfig } from '../okta/types';

export const USERS_SCOPE = 'okta.users.read';
export const GROUPS_SCOPE = 'okta.groups.read';
export const SCOPES = [USERS_SCOPE, GROUPS_SCOPE];

/** Probes retry less than a sync: a set-up check should answer quickly. */
const PROBE_MAX_RETRIES = 2;
const PROBE_MAX_CONCURRENCY = 2;
const PROBE_RETRY_BASE_DELAY_MS = 500;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** One answer of the management API, or why there was none. */
export type ApiAnswer =
  | {
      kind: 'response';
      status: number;
      errorCode?: string;
      /** Okta's errorSummary with its errorCauses. */
      summary?: string;
      requestId?: string;
      /** The page, when the answer is a JSON array. */
      items?: unknown[];
      next?: string;
    }
  | { kind: 'error'; message: string };

/** One answer of the token endpoint. */
export type TokenAnswer =
  | { ok: true; type: 'Bearer' | 'DPoP' }
  | {
      ok: false;
      status?: number;
      errorCode?: string;
      /** Okta's error_description. */
      description?: string;
      message: string;
    };

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Okta's words for a failed answer: `HTTP 403 E0000006: You do not have...`. */
export function oktaSaid(answer: ApiAnswer): string {
  if (answer.kind === 'error') return answer.message;
  return `HTTP ${answer.status}${answer.errorCode ? ` ${answer.errorCode}` : ''}${
    answer.summary ? `: ${answer.summary}` : ''
  }${answer.requestId ? ` (request id ${answer.requestId})` : ''}`;
}

/** The management API and the token endpoint, as the client reaches them. */
export class OktaProbe {
  private readonly connection: OktaConnection;
  private lastTokenResponse?: OktaHttpResponse;
  private dpopSeen = false;

  /** Throws when the credentials cannot be used at all (say, a malformed key). */
  constructor(
    provider: OktaProviderConfig,
    logger: LoggerService,
    private readonly signal: AbortSignal | undefined,
  ) {
    const options = providerClientOptions(provider, logger);
    this.connection = createOktaConnection(
      {
        ...options,
        maxConcurrency: PROBE_MAX_CONCURRENCY,
        maxRetries: Math.min(
          options.maxRetries ?? PROBE_MAX_RETRIES,
          PROBE_MAX_RETRIES,
        ),
        requestTimeoutMs:
          options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        retryBaseDelayMs: PROBE_RETRY_BASE_DELAY_MS,
      },
      // Keeps the token endpoint's last answer, for Okta's error_description.
      { onTokenResponse: response => (this.lastTokenResponse = response) },
    );
  }

  /** The executor's own token source (private-key authentication). */
  private get tokenSource(): OktaAccessTokenSource | undefined {
    const { authorizer } = this.connection.executor;
    return authorizer instanceof OktaAccessTokenSource ? authorizer : undefined;
  }

  /** Whether the app's tokens are DPoP-bound (known once any token was had). */
  get usesDpop(): boolean {
    return this.dpopSeen || (this.tokenSource?.usesDpop ?? false);
  }

  /** A token for the configured scopes (the one API probes then use). */
  token(): Promise<TokenAnswer> {
    return this.tryToken(this.tokenSource!);
  }

  /** A token for other scopes, from a separate source. */
  tokenFor(scopes: string[]): Promise<TokenAnswer> {
    return this.tryToken(this.connection.tokenSource(scopes));
  }

  /** GET `path` (under the org URL) with `query`, authorized as a sync is. */
  async get(path: string, query: Record<string, string>): Promise<ApiAnswer> {
    const url = `${this.connection.orgUrl}${path}?${new URLSearchParams(query)}`;
    return this.getUrl(url);
  }

  async getUrl(url: string): Promise<ApiAnswer> {
    let response: OktaHttpResponse;
    try {
      response = await this.connection.executor.send({
        method: 'GET',
        url,
        headers: { Accept: 'application/json' },
        authorize: true,
        signal: this.signal,
      });
    } catch (error) {
      return { kind: 'error', message: describeError(error) };
    }
    const requestId = response.headers.get('x-okta-request-id') ?? undefined;
    if (response.status >= 200 && response.status <= 299) {
      let items: unknown[] | undefined;
      try {
        const parsed: unknown = JSON.parse(response.body);
        items = Array.isArray(parsed) ? parsed : undefined;
      } catch {
        items = undefined;
      }
      const next = nextLinkOf(response.headers.get('link'));
      return {
        kind: 'response',
        status: response.status,
        requestId,
        items,
        ...(next
          ? {
              next: nextPageUrl(
                next,
                url,
                new URL(this.connection.orgUrl).origin,
              ),
            }
          : {}),
      };
    }
    const fromBody = oktaErrorOf(response.body);
    // A DPoP proof error has an empty body: Okta's reason is in the challenge.
    const challenge = wwwAuthenticateError(
      response.headers.get('www-authenticate'),
    );
    return {
      kind: 'response',
      status: response.status,
      errorCode: fromBody.errorCode ?? challenge.error,
      summary: fromBody.summary ?? challenge.description,
      requestId,
    };
  }

  private async tryToken(source: OktaAccessTokenSource): Promise<TokenAnswer> {
    this.lastTokenResponse = undefined;
    try {
      const token = await source.accessToken(this.signal);
      this.dpopSeen ||= source.usesDpop;
      return { ok: true, type: token.type };
    } catch (error) {
      // Set by the token hook while accessToken() ran.
      const last = this.lastTokenResponse as OktaHttpResponse | undefined;
      const parsed = last ? oktaErrorOf(last.body) : {};
      const details =
        error instanceof OktaRequestError ? error.details : undefined;
      return {
        ok: false,
        status: details?.status ?? last?.status,
        errorCode: details?.errorCode ?? parsed.errorCode,
        description: parsed.summary,
        message: describeError(error),
      };
    }
  }
}
