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
}

/** Supplies the credentials of each API request attempt. */
export interface OktaAuthorizer {
  /**
   * Headers authorizing one attempt of a request. Called again for every
   * retry: DPoP proofs are single use.
   */
  authorize(
    request: { method: string; url: string },
    signal?: AbortSignal,
  ): Promise<Record<string, string>>;
  /**
   * Called when the API answered 401 to an attempt made with `used`
   * headers; resolves true when a retry with renewed credentials may help.
   */
  renew(response: OktaHttpResponse, used: Record<string, string>): Promise<boolean>;
}

/** An SSWS API token: nothing to renew. */
export class OktaApiTokenAuthorizer implements OktaAuthorizer {
  constructor(private readonly token: string) {
    if (!token.trim()) {
      throw new Error('The Okta API token (auth.token) is empty');
    }
  }

  async authorize(): Promise<Record<string, string>> {
    return { Authorization: `SSWS ${this.token.trim()}` };
  }

  async renew(): Promise<boolean> {
    return false;
  }
}
