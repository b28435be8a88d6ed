/*
 * A minimal browser for sign-in tests: real HTTP with `fetch`, redirects
 * followed by hand (`redirect: 'manual'`) so each hop is visible, and a
 * cookie jar that keeps cookies per host and path as a browser would (no
 * expiry beyond `Max-Age=0`/past `Expires` deleting a cookie; no domain
 * widening: every server here is a loopback host).
 */

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

/** One response of a hop, with the body read. */
export interface BrowserResponse {
  url: string;
  status: number;
  headers: Headers;
  body: string;
}

export class TestBrowser {
  private cookies: StoredCookie[] = [];
  /** Every URL visited, in order (for assertions on the flow). */
  readonly visited: string[] = [];

  /** Cookie names and values the jar would send to `url`. */
  cookiesFor(url: string): Map<string, string> {
    const { host, pathname } = new URL(url);
    const sent = new Map<string, string>();
    for (const c of this.cookies) {
      if (
        c.host === host &&
        (pathname === c.path ||
          pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      ) {
        sent.set(c.name, c.value);
      }
    }
    return sent;
  }

  private store(url: string, headers: Headers): void {
    const { host, pathname } = new URL(url);
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map(s => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = pathname.slice(0, pathname.lastIndexOf('/')) || '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        const k = key.toLowerCase();
        if (k === 'path') path = val || '/';
        if (k === 'max-age' && Number(val) <= 0) expired = true;
        if (k === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      this.cookies = this.cookies.filter(
        c => !(c.name === name && c.host === host && c.path === path),
      );
      if (!expired) this.cookies.push({ name, value, host, path });
    }
  }

  /** One request, no redirect followed. */
  async request(
    url: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<BrowserResponse> {
    this.visited.push(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = [...this.cookiesFor(url)]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.store(url, response.headers);
    return {
      url,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
    };
  }

  /**
   * Requests `url` and follows redirects (GET) until a response that is not
   * one, or a redirect to a URL `stopBefore` picks (returned unfollowed).
   */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stopBefore: (next: URL) => boolean = () => false,
  ): Promise<BrowserResponse> {
    let response = await this.request(url, init);
    for (
      let hop = 0;
      hop < 10 && response.status >= 300 && response.status < 400;
      hop++
    ) {
      const location = response.headers.get('location');
      if (!location) break;
      const next = new URL(location, response.url);
      if (stopBefore(next)) break;
      response = await this.request(next.toString());
    }
    return response;
  }
}

/** The value of a named form field in an HTML page (the fake's login form). */
export function formField(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(
    html,
  );
  return m
    ? m[1]
        .replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)))
        .replace(/&amp;/g, '&')
    : undefined;
}

/**
 * Signs in at the fake Okta's login step, as a person would: `page` is the
 * login form the browser was redirected to; the form is posted and the
 * redirects that follow (back to /authorize, then to the app) are followed.
 */
export async function submitFakeOktaLogin(
  browser: TestBrowser,
  page: BrowserResponse,
  username: string,
  password: string,
  stopBefore?: (next: URL) => boolean,
): Promise<BrowserResponse> {
  const fromURI = formField(page.body, 'fromURI');
  if (page.status !== 200 || fromURI === undefined) {
    throw new Error(
      `Expected the fake Okta login form, got HTTP ${page.status} at ${page.url}: ${page.body.slice(0, 200)}`,
    );
  }
  const action = new URL('/login/login.htm', page.url).toString();
  return browser.follow(
    action,
    { form: { username, password, fromURI } },
    stopBefore,
  );
}
