/*
 * Access tokens for an Okta service app: OAuth 2.0 client credentials with a
 * private_key_jwt assertion against the org authorization server, DPoP when
 * the app requires it (detected from the token endpoint's answer). One token
 * is shared by all requests, renewed shortly before it expires or when the
 * API rejects it, and concurrent callers share one token request.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  createClientAssertion,
  JWT_BEARER_ASSERTION_TYPE,
  loadSigningKey,
} from './clientAssertion';
import { DpopProofSigner } from './dpop';
import type { OktaSigningKey } from './jwt';
import type {
  OktaAuthorizer,
  OktaCredentials,
  OktaHttpResponse,
} from './OktaAuthorizer';
import { oktaFixFor } from './oktaFixes';
import type { OktaHttpRequest } from './OktaRequestExecutor';
import { OktaClientStats, OktaRequestError } from './types';

const TOKEN_ENDPOINT = 'POST /oauth2/v1/token';

/** Renew this long before expiry (less for very short-lived tokens). */
const RENEW_BEFORE_EXPIRY_MS = 60_000;

/** Options of {@link OktaAccessTokenSource}. */
export interface OktaAccessTokenSourceOptions {
  /** Normalised org URL, no trailing slash. */
  orgUrl: string;
  clientId: string;
  keyId: string;
  /** PEM or JWK JSON string. */
  privateKey: string;
  scopes: string[];
  logger: LoggerService;
  stats: OktaClientStats;
  /** Sends a request through the executor (pacing, timeouts, retries). */
  send: (request: OktaHttpRequest) => Promise<OktaHttpResponse>;
}

/** A token request Okta refused, in Okta's words. */
export interface OktaTokenRefusal {
  status: number;
  /** The OAuth error, e.g. `invalid_client`. */
  errorCode?: string;
  /** Okta's `error_description`. */
  description?: string;
}

interface AccessToken {
  value: string;
  type: 'Bearer' | 'DPoP';
  /** Local epoch ms after which a new token is fetched. */
  renewAt: number;
}

interface TokenResponseBody {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  error?: unknown;
  error_description?: unknown;
}

function parseBody(body: string): TokenResponseBody {
  try {
    const parsed = JSON.parse(body);
    return parsed && typeof parsed === 'object'
      ? (parsed as TokenResponseBody)
      : {};
  } catch {
    return {};
  }
}

/** What to change for a token endpoint error (the shared table). */
function hintFor(
  error: string | undefined,
  description: string | undefined,
): string {
  if (!error) return '';
  const fix = oktaFixFor(
    { errorCode: error, description },
    { auth: 'privateKey' },
  );
  return fix ? ` To fix: ${fix}.` : '';
}

/** Fetches, caches and renews access tokens; authorizes API requests with them. */
export class OktaAccessTokenSource implements OktaAuthorizer {
  private readonly tokenUrl: string;
  private readonly signingKey: OktaSigningKey;
  private token?: AccessToken;
  private pending?: Promise<AccessToken>;
  /** Set once the app turns out to require DPoP; one key for the client's life. */
  private dpop?: DpopProofSigner;
  private tokenNonce?: string;
  private resourceNonce?: string;
  private refusal?: OktaTokenRefusal;

  constructor(private readonly options: OktaAccessTokenSourceOptions) {
    this.tokenUrl = `${options.orgUrl}/oauth2/v1/token`;
    // Fail at construction, not at the first sync, on an unusable key.
    this.signingKey = loadSigningKey(options.privateKey);
  }

  /** Whether tokens are DPoP-bound (known after the first token request). */
  get usesDpop(): boolean {
    return this.dpop !== undefined;
  }

  /**
   * Okta's answer to the last token request when it refused it, until the
   * next token request; the set-up check quotes its `error_description`.
   */
  get lastRefusal(): OktaTokenRefusal | undefined {
    return this.refusal;
  }

  async credentials(signal?: AbortSignal): Promise<OktaCredentials> {
    const token = await this.accessToken(signal);
    if (token.type === 'DPoP') {
      const dpop = this.dpop!;
      return {
        headersFor: request => ({
          Authorization: `DPoP ${token.value}`,
          DPoP: dpop.proof({
            method: request.method,
            url: request.url,
            accessToken: token.value,
            nonce: this.resourceNonce,
          }),
        }),
      };
    }
    return { headersFor: () => ({ Authorization: `Bearer ${token.value}` }) };
  }

  async renew(
    response: OktaHttpResponse,
    used: Record<string, string>,
  ): Promise<boolean> {
    const challenge = response.headers.get('www-authenticate') ?? '';
    const nonce = response.headers.get('dpop-nonce');
    if (this.dpop && nonce && /use_dpop_nonce/.test(challenge)) {
      this.resourceNonce = nonce;
      return true;
    }
    // Expired or revoked. Drop the token only if it is the one that failed:
    // a concurrent request may already have fetched a new one.
    const failed = used.Authorization?.slice(
      used.Authorization.indexOf(' ') + 1,
    );
    if (this.token && this.token.value === failed) this.token = undefined;
    return true;
  }

  /**
   * The current token, fetching one when there is none or it is about to
   * expire. Concurrent callers share one token request; a caller's abort
   * stops its wait, not the shared request.
   */
  async accessToken(signal?: AbortSignal): Promise<AccessToken> {
    if (this.token && Date.now() < this.token.renewAt) return this.token;
    if (!this.pending) {
      this.pending = this.fetchToken().finally(() => {
        this.pending = undefined;
      });
    }
    if (!signal) return this.pending;
    return new Promise<AccessToken>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending!.then(resolve, reject).finally(() =>
        signal.removeEventListener('abort', onAbort),
      );
    });
  }

  private async fetchToken(): Promise<AccessToken> {
    const { logger, stats, send, clientId, keyId, scopes } = this.options;
    this.refusal = undefined;
    // Protocol steps, not retries of failures: DPoP discovery and nonce
    // challenges (transient failures are retried inside `send`).
    for (let step = 0; step < 4; step++) {
      const startedAt = Date.now();
      const dpop = this.dpop;
      const response = await send({
        method: 'POST',
        url: this.tokenUrl,
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        // A fresh assertion and proof per attempt: Okta accepts each jti once.
        prepare: async () => ({
          headers: dpop
            ? {
                DPoP: dpop.proof({
                  method: 'POST',
                  url: this.tokenUrl,
                  nonce: this.tokenNonce,
                }),
              }
            : undefined,
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            scope: scopes.join(' '),
            client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
            client_assertion: createClientAssertion({
              signingKey: this.signingKey,
              keyId,
              clientId,
              tokenUrl: this.tokenUrl,
            }),
          }).toString(),
        }),
      });
      const body = parseBody(response.body);
      const error = typeof body.error === 'string' ? body.error : undefined;

      if (
        response.status === 200 &&
        typeof body.access_token === 'string' &&
        body.access_token
      ) {
        const type =
          String(body.token_type).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
        if (type === 'DPoP' && !dpop) {
          throw new OktaRequestError(
            'Okta issued a DPoP-bound token without a DPoP proof.',
            { endpoint: TOKEN_ENDPOINT, status: 200 },
          );
        }
        const lifetimeMs =
          (Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600) * 1000;
        const token: AccessToken = {
          value: body.access_token,
          type,
          renewAt:
            startedAt +
            lifetimeMs -
            Math.min(RENEW_BEFORE_EXPIRY_MS, lifetimeMs / 5),
        };
        this.token = token;
        stats.tokensFetched++;
        logger.debug(
          `Fetched an Okta access token (${type}, expires in ${Math.round(lifetimeMs / 1000)} s)`,
        );
        return token;
      }

      const nonce = response.headers.get('dpop-nonce');
      if (
        response.status === 400 &&
        error === 'use_dpop_nonce' &&
        nonce &&
        dpop
      ) {
        this.tokenNonce = nonce;
        continue;
      }
      if (response.status === 400 && error === 'invalid_dpop_proof' && !dpop) {
        // The app has "Require DPoP" on: Okta wants a proof we did not send.
        logger.info(
          `Okta app ${clientId} requires DPoP; using DPoP-bound access tokens`,
        );
        this.dpop = new DpopProofSigner();
        continue;
      }

      const description =
        typeof body.error_description === 'string'
          ? body.error_description
          : undefined;
      this.refusal = { status: response.status, errorCode: error, description };
      const requestId = response.headers.get('x-okta-request-id') ?? undefined;
      throw new OktaRequestError(
        `Okta token request (${TOKEN_ENDPOINT}) for client ${clientId} failed with HTTP ${
          response.status
        } ${error ?? ''}${description === undefined ? '' : `: ${description}`}${
          requestId ? ` (request id ${requestId})` : ''
        }.${hintFor(error, description)}`,
        {
          endpoint: TOKEN_ENDPOINT,
          status: response.status,
          errorCode: error,
          requestId,
        },
      );
    }
    throw new OktaRequestError(
      'Okta token request kept asking for a new DPoP proof or nonce.',
      { endpoint: TOKEN_ENDPOINT, status: 400 },
    );
  }
}
