/*
 * The set-up check's view of Okta: single requests to the management API and
 * the token endpoint, sent through the connection of the client a sync uses
 * (the provider's own when it is given, else one built as the provider
 * builds its own), so a check sees Okta's answers as a sync would, with one
 * extra: the raw body of each answer, for Okta's own error text.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  oktaConnectionOf,
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
import { OktaRequestError, type OktaOrgClient } from '../okta/client/types';
import { createProviderClient } from '../okta/providerSync';
import type { OktaProviderConfig } from '../okta/types';

export const USERS_SCOPE = 'okta.users.read';
export const GROUPS_SCOPE = 'okta.groups.read';
export const SCOPES = [USERS_SCOPE, GROUPS_SCOPE];

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
  private dpopSeen = false;

  /**
   * A probe through `client` (the provider's own), or through a new client
   * set up as the provider's config says when none is given or `client` was
   * not made by `createOktaOrgClient` (its requests cannot be reached). One
   * check uses one probe, and the dry run reads with its `client`.
   *
   * Throws when the credentials cannot be used at all (say, a malformed key).
   */
  static forProvider(
    provider: OktaProviderConfig,
    options: {
      client?: OktaOrgClient;
      logger: LoggerService;
      signal?: AbortSignal;
    },
  ): OktaProbe {
    const given = options.client && oktaConnectionOf(options.client);
    if (options.client && given) {
      return new OktaProbe(options.client, given, options.signal);
    }
    const client = createProviderClient(provider, options.logger);
    return new OktaProbe(client, oktaConnectionOf(client)!, options.signal);
  }

  private constructor(
    /** The client the probe sends through, for the dry run. */
    readonly client: OktaOrgClient,
    private readonly connection: OktaConnection,
    private readonly signal: AbortSignal | undefined,
  ) {}

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
    try {
      const token = await source.accessToken(this.signal);
      this.dpopSeen ||= source.usesDpop;
      return { ok: true, type: token.type };
    } catch (error) {
      const refusal = source.lastRefusal;
      const details =
        error instanceof OktaRequestError ? error.details : undefined;
      return {
        ok: false,
        status: details?.status ?? refusal?.status,
        errorCode: details?.errorCode ?? refusal?.errorCode,
        description: refusal?.description,
        message: describeError(error),
      };
    }
  }
}
