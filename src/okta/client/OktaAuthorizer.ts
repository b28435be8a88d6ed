/*
 * How the request executor authenticates API requests, whatever the
 * credential: an SSWS API token, or an OAuth access token (with DPoP).
 */

/** A response as the executor buffered it. */
export interface OktaHttpResponse {
  status: number;
  url: string;
  headers: Headers;
  /** The whole body, as text. */
  body: string;
  /** The body parsed, for 2xx responses (checked to be JSON before it is returned). */
  json?: unknown;
}

/** Credentials in hand (e.g. a fetched access token). */
export interface OktaCredentials {
  /**
   * Headers authorizing one attempt of a request, made just before it is
   * sent. Called again for every retry: DPoP proofs are single use.
   */
  headersFor(request: { method: string; url: string }): Record<string, string>;
}

/** Supplies the credentials of API requests. */
export interface OktaAuthorizer {
  /**
   * Gets credentials, fetching a token if needed. The executor calls this
   * before it takes a rate-limit and concurrency slot for the request, so a
   * token request never waits for a slot held by the request it serves.
   */
  credentials(signal?: AbortSignal): Promise<OktaCredentials>;
  /**
   * Called when the API answered 401 to an attempt made with `used`
   * headers; resolves true when a retry with renewed credentials may help.
   */
  renew(
    response: OktaHttpResponse,
    used: Record<string, string>,
  ): Promise<boolean>;
}

/** An SSWS API token: nothing to renew. */
export class OktaApiTokenAuthorizer implements OktaAuthorizer {
  constructor(private readonly token: string) {
    if (!token.trim()) {
      throw new Error('The Okta API token (token) is empty');
    }
  }

  async credentials(): Promise<OktaCredentials> {
    const headers = { Authorization: `SSWS ${this.token.trim()}` };
    return { headersFor: () => headers };
  }

  async renew(): Promise<boolean> {
    return false;
  }
}
