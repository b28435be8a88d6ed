/*
 * The one reading of an Okta org URL, used by the config reader, the client
 * and the location annotations, so that they all name the org alike.
 */

/** Why a value is not a usable org URL; `message` follows the key's name. */
export class OktaOrgUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OktaOrgUrlError';
  }
}

/**
 * Okta's own domains, whose org hosts have an Admin Console twin
 * `<org>-admin.<domain>`. Custom domains have no such twin, so a `-admin` in
 * their first label is left alone.
 */
const OKTA_DOMAINS =
  /\.(okta\.com|oktapreview\.com|okta-emea\.com|okta-gov\.com|okta\.mil|trexcloud\.com)$/i;

/**
 * The org host for an Admin Console host (`acme-admin.okta.com` →
 * `acme.okta.com`), or undefined for any other host.
 */
export function orgHostOfAdminHost(hostname: string): string | undefined {
  const m = /^([^.]+)-admin(\..+)$/i.exec(hostname);
  if (!m || !OKTA_DOMAINS.test(m[2])) return undefined;
  return `${m[1]}${m[2]}`.toLowerCase();
}

/**
 * Reads an Okta org URL into its canonical form: the origin only (lower-case
 * host, no trailing slash), on the org's own host rather than its Admin
 * Console twin. Okta answers requests to `acme-admin.okta.com` with next
 * links on `acme.okta.com` (its canonical host) and issues tokens for the
 * org host, so the `-admin` host would only work by accident; it is
 * replaced, and `adminHost` says so (for a log line).
 *
 * @throws OktaOrgUrlError naming the problem, never echoing credentials
 */
export function normaliseOktaOrgUrl(
  value: string,
  options: { allowInsecureHttp?: boolean } = {},
): { url: string; adminHost?: string } {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new OktaOrgUrlError(
      'is not a URL; expected the URL of your Okta org, e.g. https://example.okta.com',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OktaOrgUrlError(
      `must be an https URL, got the scheme "${url.protocol}"`,
    );
  }
  if (url.protocol === 'http:' && !options.allowInsecureHttp) {
    throw new OktaOrgUrlError(
      'must use https; set "allowInsecureHttp: true" only for a local test server',
    );
  }
  // Never echo the URL here: credentials in it would be secrets.
  if (url.username || url.password) {
    throw new OktaOrgUrlError('must not contain credentials');
  }
  if (!/^\/*$/.test(url.pathname) || url.search || url.hash) {
    throw new OktaOrgUrlError(
      'must be the org URL only, without a path, query or fragment (e.g. https://example.okta.com, not https://example.okta.com/oauth2/default)',
    );
  }
  const orgHost = orgHostOfAdminHost(url.hostname);
  if (orgHost) {
    const adminHost = url.hostname;
    url.hostname = orgHost;
    return { url: url.origin, adminHost };
  }
  // origin drops the trailing slash and lower-cases the host.
  return { url: url.origin };
}
