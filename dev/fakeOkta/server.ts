/*
 * The fake Okta org's HTTP server: routing, credentials, rate limits,
 * concurrency, faults, latency, paging and the request log.
 */
import { randomBytes } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { AdminRoleView } from './adminRoleScope';
import {
  FakeAuthorizationServer,
  refusedApiReply,
} from './authorizationServer';
import { FakeChangeFeeds, registerChangeFeeds } from './changeFeeds';
import { FakeOrg, OktaGroup, OktaUser, upperBound } from './FakeOrg';
import { FakeOidcProvider } from './oidc';
import { drawFor } from './random';
import { FakeRateLimiter } from './rateLimits';
import {
  compileSearch,
  GROUP_FILTER_RULES,
  GROUP_SEARCH_RULES,
  matchesSearch,
  SearchExpression,
  SearchRules,
  SearchSyntaxError,
  USER_FILTER_RULES,
  USER_SEARCH_RULES,
} from './search';
import {
  errorBody,
  groupToApi,
  listedUserToJson,
  userToApi,
} from './serialize';
import type {
  FakeOkta,
  FakeOktaEndpoint,
  FakeOktaOptions,
  FakeOktaRequestListener,
  FakeOktaRequestLogEntry,
  FaultRule,
  RateLimitBucket,
} from './types';

const USERS_LIMIT = { default: 200, max: 200 };
const USERS_QUERY_LIMIT = { default: 10, max: 200 };
const GROUPS_LIMIT = { default: 10000, max: 10000 };
const GROUPS_QUERY_LIMIT = { default: 300, max: 10000 };
const GROUP_USERS_LIMIT = { default: 1000, max: 1000 };
const MAX_FORM_BYTES = 64 * 1024;
/** Small, so that tests meet the lag without waiting long for it. */
export const DEFAULT_SEARCH_LAG_MS = 50;

/**
 * Okta's buckets, from its path-to-bucket mapping (generated from Okta's
 * service code, published in okta/terraform-provider-okta
 * `okta/internal/apimutex/rate_limit_lines.go`: "/api/v1/groups/ID/users GET
 * /api/v1/groups") and its rate-limit reference ("/api/v1/groups except
 * /api/v1/groups/{id}"): every /api/v1/groups/* path except exactly
 * /api/v1/groups/{id} counts in the groups bucket, so member listings drain
 * the same X-Rate-Limit-Remaining as the group listing; /api/v1/groups/{id}
 * has its own; /api/v1/users/{id}/groups counts in the users bucket.
 */
const BUCKET_OF: Record<FakeOktaEndpoint, RateLimitBucket> = {
  token: 'token',
  users: 'users',
  groups: 'groups',
  groupById: 'groupById',
  groupUsers: 'groups',
  userGroups: 'users',
  userById: 'other',
  other: 'other',
};

/** The bucket of a request; paths the fake does not serve count as Okta would. */
function bucketOf(
  endpoint: FakeOktaEndpoint,
  pathname: string,
): RateLimitBucket {
  if (endpoint === 'other' && pathname.startsWith('/api/v1/groups/'))
    return 'groups';
  return BUCKET_OF[endpoint];
}

/** Endpoints whose answer the fake prepares during the latency (pure reads). */
const LATENCY_HIDES_WORK: ReadonlySet<FakeOktaEndpoint> = new Set([
  'users',
  'groups',
  'groupUsers',
]);

interface Route {
  endpoint: FakeOktaEndpoint;
  id?: string;
}

/** Maps a path to its endpoint key (method checks happen in the handlers). */
function classify(pathname: string): Route {
  if (pathname === '/oauth2/v1/token') return { endpoint: 'token' };
  if (pathname === '/api/v1/users') return { endpoint: 'users' };
  if (pathname === '/api/v1/groups') return { endpoint: 'groups' };
  let m = /^\/api\/v1\/groups\/([^/]+)$/.exec(pathname);
  if (m) return { endpoint: 'groupById', id: m[1] };
  m = /^\/api\/v1\/groups\/([^/]+)\/users$/.exec(pathname);
  if (m) return { endpoint: 'groupUsers', id: m[1] };
  m = /^\/api\/v1\/users\/([^/]+)\/groups$/.exec(pathname);
  if (m) return { endpoint: 'userGroups', id: m[1] };
  m = /^\/api\/v1\/users\/([^/]+)$/.exec(pathname);
  if (m) return { endpoint: 'userById', id: m[1] };
  return { endpoint: 'other' };
}

interface Reply {
  status: number;
  body: unknown;
  /** The body already serialized (user listings), instead of `body`. */
  json?: string;
  headers?: Record<string, string | string[]>;
}

function sleep(ms: number): Promise<void> {
  return ms > 0
    ? new Promise(resolve => setTimeout(resolve, ms))
    : Promise.resolve();
}

function parseLimit(
  raw: string | null,
  spec: { default: number; max: number },
): number {
  if (raw === null) return spec.default;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 1) return spec.default;
  return Math.min(n, spec.max);
}

/** The page size a listing request asks for (undefined for other endpoints). */
const LISTING_LIMITS: Partial<
  Record<FakeOktaEndpoint, { default: number; max: number }>
> = {
  users: USERS_LIMIT,
  groups: GROUPS_LIMIT,
  groupUsers: GROUP_USERS_LIMIT,
};

function pageSizeOf(
  endpoint: FakeOktaEndpoint,
  query: string,
): number | undefined {
  const spec = LISTING_LIMITS[endpoint];
  if (!spec) return undefined;
  return parseLimit(new URLSearchParams(query).get('limit'), spec);
}

class FakeOktaServer implements FakeOkta {
  url = '';
  readonly org: FakeOrg;
  private readonly server: http.Server;
  private readonly auth: FakeAuthorizationServer;
  /** OIDC sign-in for web apps (oidc.ts). */
  readonly oidc: FakeOidcProvider;
  private readonly limiter: FakeRateLimiter;
  private readonly clock: () => number;
  private readonly seed: number;
  private readonly concurrency: number;
  private readonly searchLagMs: number;
  private faults: FaultRule[];
  private requestListener: FakeOktaRequestListener | undefined;
  private inFlight = 0;
  private sequence = 0;
  private requests: Record<string, number> = {};
  private served429 = 0;
  private peakConcurrency = 0;
  private tokensIssuedBase = 0;
  private log: FakeOktaRequestLogEntry[] = [];
  /** System Log and event hooks (changeFeeds.ts). */
  private readonly changeFeeds: FakeChangeFeeds;

  constructor(private readonly options: FakeOktaOptions) {
    const clock = options.clock ?? Date.now;
    const skewMs = options.clockSkewMs ?? 0;
    this.clock = skewMs ? () => clock() + skewMs : clock;
    this.org = options.org ?? new FakeOrg({ clock: this.clock });
    if (options.clock || skewMs) this.org.clock = this.clock;
    this.seed = options.seed ?? 1;
    this.concurrency = options.rateLimits?.concurrency ?? 75;
    this.searchLagMs = options.searchLagMs ?? DEFAULT_SEARCH_LAG_MS;
    this.faults = [...(options.faults ?? [])];
    this.auth = new FakeAuthorizationServer(
      this.clock,
      options.tokenLifetimeSeconds ?? 3600,
    );
    this.limiter = new FakeRateLimiter(options.rateLimits, this.clock);
    this.oidc = new FakeOidcProvider(this.org, this.clock);
    this.changeFeeds = new FakeChangeFeeds(this.org, {
      authenticate: (...args) => this.auth.authenticateApi(...args),
      // OAuth apps and SSWS tokens alike get their share of each bucket.
      appIdOf: authorization => this.auth.peekPrincipalId(authorization),
      errorId: () => this.errorId(),
      url: () => this.url,
      clock: this.clock,
      rateLimits: options.rateLimits,
    });
    registerChangeFeeds(this, this.changeFeeds);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(error => {
        if (!res.headersSent) {
          this.sendJson(
            res,
            500,
            errorBody(
              'E0000009',
              `Internal Server Error: ${String(error)}`,
              this.errorId(),
            ),
          );
        } else {
          res.destroy();
        }
      });
    });
    this.server.keepAliveTimeout = 5000;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(
        this.options.port ?? 0,
        this.options.host ?? '127.0.0.1',
        () => resolve(),
      );
    });
    const address = this.server.address() as AddressInfo;
    const host =
      address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
  }

  addServiceApp: FakeOkta['addServiceApp'] = app =>
    this.auth.addServiceApp(app);
  updateServiceApp: FakeOkta['updateServiceApp'] = (id, patch) =>
    this.auth.updateServiceApp(id, patch);
  addApiToken: FakeOkta['addApiToken'] = (token, opts) =>
    this.auth.addApiToken(token, opts);

  setFaults(rules: FaultRule[]): void {
    this.faults = [...rules];
  }

  onRequest(listener: FakeOktaRequestListener | undefined): void {
    this.requestListener = listener;
  }

  stats() {
    return {
      requests: { ...this.requests },
      served429: this.served429,
      peakConcurrency: this.peakConcurrency,
      tokensIssued: this.auth.tokensIssued - this.tokensIssuedBase,
      log: [...this.log],
    };
  }

  resetStats(): void {
    this.requests = {};
    this.served429 = 0;
    this.peakConcurrency = this.inFlight;
    this.tokensIssuedBase = this.auth.tokensIssued;
    this.log = [];
  }

  async close(): Promise<void> {
    this.changeFeeds.close();
    await new Promise<void>(resolve => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private errorId(): string {
    return `oae${randomBytes(16).toString('base64url').slice(0, 22)}`;
  }

  private baseOf(req: IncomingMessage): string {
    return req.headers.host ? `http://${req.headers.host}` : this.url;
  }

  /**
   * Where Link URLs (and `_links`) point: Okta builds them on the org's
   * canonical host, so a request to acme-admin.okta.com gets next links on
   * acme.okta.com (shared/FACTS.md). The port of the request is kept.
   */
  private linkBaseOf(req: IncomingMessage): string {
    const host = req.headers.host;
    if (!host) return this.url;
    const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(host);
    const [name, port] = m ? [m[1], m[2] ?? ''] : [host, ''];
    const canonical =
      this.options.canonicalHost ?? name.replace(/^([^.]+)-admin\./i, '$1.');
    return `http://${canonical}${port}`;
  }

  private matchingFault(
    endpoint: FakeOktaEndpoint,
    n: number,
    kinds: ReadonlyArray<FaultRule['kind']>,
    pageSize: number | undefined,
  ): FaultRule | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const rule = this.faults[i];
      if (!kinds.includes(rule.kind)) continue;
      const on = rule.endpoint ?? '*';
      if (on !== '*' && on !== endpoint) continue;
      if (
        rule.minPageSize !== undefined &&
        (pageSize === undefined || pageSize < rule.minPageSize)
      ) {
        continue;
      }
      if (rule.requestNumbers?.includes(n)) return rule;
      if (
        rule.rate !== undefined &&
        drawFor(this.seed, 'fault', i, endpoint, n) < rule.rate
      ) {
        return rule;
      }
    }
    return undefined;
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const n = ++this.sequence;
    const startedAt = this.clock();
    const t0 = performance.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const route = classify(pathname);
    const endpoint = route.endpoint;
    const endpointN = (this.requests[endpoint] =
      (this.requests[endpoint] ?? 0) + 1);
    this.inFlight++;
    if (this.inFlight > this.peakConcurrency)
      this.peakConcurrency = this.inFlight;
    let logged = false;
    const finish = () => {
      if (logged) return;
      logged = true;
      this.inFlight--;
      this.log.push({
        n,
        method: req.method ?? 'GET',
        path: rawUrl,
        endpoint,
        status: res.headersSent ? res.statusCode : 0,
        ms: Math.round((performance.now() - t0) * 10) / 10,
        startedAt,
      });
    };
    res.on('close', finish);
    this.requestListener?.({
      method: req.method ?? 'GET',
      path: rawUrl,
      endpoint,
      endpointN,
    });
    res.setHeader('X-Okta-Request-Id', randomBytes(15).toString('base64url'));
    if (this.options.clockSkewMs) {
      res.setHeader('Date', new Date(this.clock()).toUTCString());
    }

    if (this.inFlight > this.concurrency) {
      this.served429++;
      // Okta's rate-limit headers doc: X-Rate-Limit-Limit and -Remaining are
      // "always 0 for concurrent rate limit errors", which is how a client
      // tells them from a bucket's window 429.
      res.setHeader('X-Rate-Limit-Limit', '0');
      res.setHeader('X-Rate-Limit-Remaining', '0');
      res.setHeader(
        'X-Rate-Limit-Reset',
        String(Math.ceil(this.clock() / 1000) + 1),
      );
      this.sendJson(res, 429, this.tooManyRequests());
      return;
    }

    // The listings are pure reads: answer them while the latency runs, as a
    // real server works within its response time. Done after the latency,
    // the fake's own serializing (milliseconds per big page, one page at a
    // time in this one process) would add to every response. The work waits
    // for one macrotask first, so that requests arriving together all have
    // their arrival taken (and their latency started) before any of it:
    // Okta's servers answer concurrent requests in parallel, this one
    // process cannot.
    let early: ReturnType<FakeOktaServer['answer']> | undefined;
    if (req.method === 'GET' && LATENCY_HIDES_WORK.has(endpoint)) {
      await nextMacrotask();
      early = this.answer(req, route, rawUrl, q, '');
    }

    const latency = this.options.latency;
    if (latency && (latency.fixedMs || latency.randomMs)) {
      const latencyMs =
        (latency.fixedMs ?? 0) +
        (latency.randomMs ?? 0) * drawFor(this.seed, 'latency', n);
      await sleep(latencyMs - (performance.now() - t0));
    }
    const pageSize = pageSizeOf(endpoint, q < 0 ? '' : rawUrl.slice(q + 1));
    const extraLatency = this.matchingFault(
      endpoint,
      endpointN,
      ['latency'],
      pageSize,
    );
    if (extraLatency) await sleep(extraLatency.delayMs ?? 1000);

    const preFault = this.matchingFault(
      endpoint,
      endpointN,
      ['drop', 'status5xx', 'status429'],
      pageSize,
    );
    if (preFault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }

    const body = req.method === 'POST' ? await this.readBody(req) : '';
    if (body === undefined) {
      this.sendJson(
        res,
        413,
        errorBody(
          'E0000001',
          'Api validation failed: request body too large',
          this.errorId(),
        ),
      );
      return;
    }

    // ---- System Log and event hooks: their own auth, bucket and answers (changeFeeds.ts) ----
    if (FakeChangeFeeds.owns(pathname)) {
      const reply = await this.changeFeeds.handle({
        method: req.method ?? 'GET',
        pathname,
        query: q < 0 ? '' : rawUrl.slice(q + 1),
        body,
        authorization: req.headers.authorization,
        dpop: req.headers.dpop,
        base: this.baseOf(req),
      });
      for (const [name, value] of Object.entries(reply.headers))
        res.setHeader(name, value);
      if (reply.body === undefined) this.sendRaw(res, reply.status, '');
      else this.sendJson(res, reply.status, reply.body);
      return;
    }
    // ---- end System Log and event hooks ----

    // OAuth apps and SSWS tokens alike get their share of each bucket.
    const principalId = this.auth.peekPrincipalId(req.headers.authorization);
    const decision = this.limiter.take(
      bucketOf(endpoint, pathname),
      principalId,
    );
    res.setHeader('X-Rate-Limit-Limit', String(decision.limit));
    res.setHeader('X-Rate-Limit-Remaining', String(decision.remaining));
    res.setHeader('X-Rate-Limit-Reset', String(decision.reset));

    if (preFault?.kind === 'status5xx') {
      const status = preFault.status ?? 500;
      this.sendJson(
        res,
        status,
        errorBody('E0000009', 'Internal Server Error', this.errorId()),
      );
      return;
    }
    if (!decision.allowed || preFault?.kind === 'status429') {
      this.served429++;
      if (preFault?.kind === 'status429')
        res.setHeader('X-Rate-Limit-Remaining', '0');
      this.sendJson(res, 429, this.tooManyRequests());
      return;
    }

    const { reply, json } = early ?? this.answer(req, route, rawUrl, q, body);
    if (reply.status === 429) this.served429++;
    const postFault = this.matchingFault(
      endpoint,
      endpointN,
      ['truncate', 'malformed', 'slowBody'],
      pageSize,
    );
    for (const [name, value] of Object.entries(reply.headers ?? {}))
      res.setHeader(name, value);
    if (!postFault) {
      this.sendRaw(res, reply.status, json);
    } else if (postFault.kind === 'malformed') {
      this.sendRaw(
        res,
        reply.status,
        `${json.slice(0, Math.floor(json.length / 2))}<html><body>502 Bad Gateway`,
      );
    } else if (postFault.kind === 'truncate') {
      const bytes = Buffer.from(json);
      res.writeHead(reply.status, {
        'Content-Type': 'application/json',
        'Content-Length': String(bytes.length),
      });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
        res.destroy();
      });
    } else {
      const bytes = Buffer.from(json);
      res.writeHead(reply.status, {
        'Content-Type': 'application/json',
        'Content-Length': String(bytes.length),
      });
      const chunks = 10;
      const size = Math.ceil(bytes.length / chunks);
      for (let i = 0; i < chunks && !res.destroyed; i++) {
        res.write(bytes.subarray(i * size, (i + 1) * size));
        await sleep((postFault.delayMs ?? 1000) / chunks);
      }
      res.end();
    }
  }

  private answer(
    req: IncomingMessage,
    route: Route,
    rawUrl: string,
    q: number,
    body: string,
  ): { reply: Reply; json: string } {
    const reply = this.route(
      req,
      route,
      rawUrl,
      q < 0 ? '' : rawUrl.slice(q + 1),
      body,
    );
    return { reply, json: reply.json ?? JSON.stringify(reply.body) };
  }

  private tooManyRequests() {
    return errorBody(
      'E0000047',
      'API call exceeded rate limit due to too many requests.',
      this.errorId(),
    );
  }

  private readBody(req: IncomingMessage): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_FORM_BYTES) chunks.push(chunk);
      });
      req.on('end', () =>
        resolve(
          size > MAX_FORM_BYTES
            ? undefined
            : Buffer.concat(chunks).toString('utf8'),
        ),
      );
      req.on('error', reject);
    });
  }

  private sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.sendRaw(res, status, JSON.stringify(body));
  }

  private sendRaw(res: ServerResponse, status: number, json: string): void {
    const bytes = Buffer.from(json);
    // An empty body (a DPoP proof error) comes without a content type.
    res.writeHead(status, {
      // A reply may set its own (the OIDC login step's HTML).
      ...(bytes.length
        ? {
            'Content-Type': res.getHeader('Content-Type') ?? 'application/json',
          }
        : {}),
      'Content-Length': String(bytes.length),
    });
    res.end(bytes);
  }

  private error(
    status: number,
    code: string,
    summary: string,
    causes: string[] = [],
  ): Reply {
    return { status, body: errorBody(code, summary, this.errorId(), causes) };
  }

  private route(
    req: IncomingMessage,
    route: Route,
    rawUrl: string,
    query: string,
    body: string,
  ): Reply {
    const method = req.method ?? 'GET';
    const base = this.baseOf(req);
    // OIDC sign-in (oidc.ts): /authorize, the login step, userinfo, keys,
    // discovery, and the web apps' token requests.
    const oidcReply = this.oidc.route({
      method,
      pathname: rawUrl.split('?')[0],
      query,
      body,
      headers: req.headers,
      base,
    });
    if (oidcReply) return oidcReply;
    if (route.endpoint === 'token') {
      if (method !== 'POST') {
        return this.error(
          405,
          'E0000022',
          'The endpoint does not support the provided HTTP method',
        );
      }
      const result = this.auth.token(
        new URLSearchParams(body),
        req.headers['content-type'],
        req.headers.dpop,
        `${base}/oauth2/v1/token`,
      );
      return {
        status: result.status,
        body: result.body,
        headers: result.headers,
      };
    }
    if (route.endpoint === 'other') {
      return this.error(
        404,
        'E0000007',
        `Not found: Resource not found: ${rawUrl.split('?')[0]} (Endpoint)`,
      );
    }
    if (method !== 'GET') {
      return this.error(
        405,
        'E0000022',
        'The endpoint does not support the provided HTTP method',
      );
    }
    const pathname = rawUrl.split('?')[0];
    const scope = pathname.startsWith('/api/v1/users')
      ? 'okta.users.read'
      : 'okta.groups.read';
    const auth = this.auth.authenticateApi(
      req.headers.authorization,
      req.headers.dpop,
      method,
      `${base}${pathname}`,
      scope,
    );
    if (!auth.ok) {
      const reply = refusedApiReply(auth, this.errorId());
      // No body at all for a DPoP proof error.
      return reply.body === undefined ? { ...reply, json: '' } : reply;
    }
    const params = new URLSearchParams(query);
    // Links are on the canonical host; the checks above use the host asked.
    const links = this.linkBaseOf(req);
    const selfLink = `<${links}${rawUrl}>; rel="self"`;
    // An admin role limited to part of the org (a resource set) sees only that part.
    const roleScope = auth.principal.adminRoleScope;
    const view = roleScope ? new AdminRoleView(this.org, roleScope) : undefined;
    try {
      switch (route.endpoint) {
        case 'users':
          return this.listUsers(params, links, selfLink, view);
        case 'groups':
          return this.listGroups(params, links, selfLink, view);
        case 'groupById': {
          const group = this.org.getGroup(decodeURIComponent(route.id!));
          if (!group) return this.notFound(route.id!, 'UserGroup');
          if (view && !view.canSeeGroup(group)) return this.forbidden();
          return { status: 200, body: groupToApi(group, links) };
        }
        case 'userById': {
          const user = this.org.findUser(decodeURIComponent(route.id!));
          if (!user) return this.notFound(route.id!, 'User');
          return { status: 200, body: userToApi(user, links, true) };
        }
        case 'groupUsers':
          return this.listGroupUsers(
            decodeURIComponent(route.id!),
            params,
            links,
            selfLink,
            view,
          );
        case 'userGroups': {
          const userId = decodeURIComponent(route.id!);
          const user = this.org.findUser(userId);
          if (!user) return this.notFound(userId, 'User');
          return {
            status: 200,
            body: this.org.groupsOf(user.id).map(g => groupToApi(g, links)),
            headers: { Link: [selfLink] },
          };
        }
        default:
          return this.error(404, 'E0000007', 'Not found: Resource not found');
      }
    } catch (error) {
      if (error instanceof SearchSyntaxError) {
        return this.error(400, 'E0000031', 'Invalid search criteria.', [
          error.message,
        ]);
      }
      throw error;
    }
  }

  private forbidden(): Reply {
    return this.error(
      403,
      'E0000006',
      'You do not have permission to perform the requested action',
    );
  }

  private notFound(id: string, kind: string): Reply {
    return this.error(
      404,
      'E0000007',
      `Not found: Resource not found: ${id} (${kind})`,
    );
  }

  /** Pages through sorted ids after the cursor, keeping those that match. */
  private page<T>(
    ids: readonly string[],
    resolve: (id: string) => T,
    after: string | null,
    limit: number,
    keep: ((item: T) => boolean) | undefined,
  ): { items: T[]; next: string | undefined } {
    const items: T[] = [];
    let i = after ? upperBound(ids, after) : 0;
    for (; i < ids.length; i++) {
      const item = resolve(ids[i]);
      if (keep && !keep(item)) continue;
      if (items.length === limit) {
        return { items, next: this.lastId(items) };
      }
      items.push(item);
    }
    return { items, next: undefined };
  }

  private lastId(items: unknown[]): string {
    return (items[items.length - 1] as { id: string }).id;
  }

  private nextLink(
    base: string,
    pathname: string,
    params: URLSearchParams,
    after: string,
    drop: string[] = [],
  ): string {
    const next = new URLSearchParams(params);
    next.delete('after');
    for (const name of drop) next.delete(name);
    next.set('after', after);
    return `<${base}${pathname}?${next.toString()}>; rel="next"`;
  }

  private compile(
    params: URLSearchParams,
    searchRules: SearchRules,
    filterRules: SearchRules,
  ) {
    const search = params.get('search');
    const filter = params.get('filter');
    const expressions: Array<{
      expression: SearchExpression;
      rules: SearchRules;
    }> = [];
    if (search !== null)
      expressions.push({
        expression: compileSearch(search, searchRules),
        rules: searchRules,
      });
    if (filter !== null)
      expressions.push({
        expression: compileSearch(filter, filterRules),
        rules: filterRules,
      });
    return { expressions, searched: search !== null || filter !== null };
  }

  /**
   * The newest lastUpdated that `search` and `filter` results show: Okta's
   * search index is eventually consistent (its Users API reference: search
   * results "might not reflect the latest information"; older reference
   * pages put the lag of filter at "typically less than one second"), so an
   * object created or changed within the last `searchLagMs` is left out of
   * them until the lag has passed. Plain listings show it at once.
   */
  private settledBefore(): string {
    return new Date(this.clock() - this.searchLagMs).toISOString();
  }

  private listUsers(
    params: URLSearchParams,
    base: string,
    selfLink: string,
    view?: AdminRoleView,
  ): Reply {
    const { expressions, searched } = this.compile(
      params,
      USER_SEARCH_RULES,
      USER_FILTER_RULES,
    );
    const q = params.get('q');
    const limit = parseLimit(
      params.get('limit'),
      q !== null && !searched ? USERS_QUERY_LIMIT : USERS_LIMIT,
    );
    const qLower = q?.toLowerCase();
    const settled = this.settledBefore();
    const keep = (user: OktaUser): boolean => {
      if (!searched && user.status === 'DEPROVISIONED') return false;
      if (view && !view.canSeeUser(user)) return false;
      if (searched && user.lastUpdated > settled) return false;
      for (const { expression, rules } of expressions) {
        if (!matchesSearch(user, expression, rules)) return false;
      }
      if (qLower !== undefined) {
        const p = user.profile;
        return [p.firstName, p.lastName, p.email, p.login].some(
          v => typeof v === 'string' && v.toLowerCase().startsWith(qLower),
        );
      }
      return true;
    };
    const { items, next } = this.page(
      this.org.sortedUserIds(),
      id => this.org.getUser(id)!,
      params.get('after'),
      limit,
      keep,
    );
    const links = [selfLink];
    // A query (q) cannot be paged.
    if (next && (q === null || searched))
      links.push(this.nextLink(base, '/api/v1/users', params, next));
    return {
      status: 200,
      body: undefined,
      json: `[${items.map(u => listedUserToJson(u, base)).join(',')}]`,
      headers: { Link: links },
    };
  }

  private listGroups(
    params: URLSearchParams,
    base: string,
    selfLink: string,
    view?: AdminRoleView,
  ): Reply {
    const { expressions, searched } = this.compile(
      params,
      GROUP_SEARCH_RULES,
      GROUP_FILTER_RULES,
    );
    const q = params.get('q');
    const limit = parseLimit(
      params.get('limit'),
      q !== null && !searched ? GROUPS_QUERY_LIMIT : GROUPS_LIMIT,
    );
    const qLower = q?.toLowerCase();
    const settled = this.settledBefore();
    const keep =
      expressions.length === 0 && qLower === undefined && !view
        ? undefined
        : (group: OktaGroup): boolean => {
            if (view && !view.canSeeGroup(group)) return false;
            if (searched && group.lastUpdated > settled) return false;
            for (const { expression, rules } of expressions) {
              if (!matchesSearch(group, expression, rules)) return false;
            }
            return (
              qLower === undefined ||
              String(group.profile.name).toLowerCase().startsWith(qLower)
            );
          };
    const { items, next } = this.page(
      this.org.sortedGroupIds(),
      id => this.org.getGroup(id)!,
      params.get('after'),
      limit,
      keep,
    );
    const withStats = (params.get('expand') ?? '').split(',').includes('stats');
    const links = [selfLink];
    // Okta's next links drop `expand`, so later pages come without stats.
    if (next && (q === null || searched)) {
      links.push(
        this.nextLink(base, '/api/v1/groups', params, next, ['expand']),
      );
    }
    return {
      status: 200,
      body: items.map(g =>
        groupToApi(
          g,
          base,
          withStats ? this.org.memberIdsOf(g.id).length : undefined,
        ),
      ),
      headers: { Link: links },
    };
  }

  private listGroupUsers(
    groupId: string,
    params: URLSearchParams,
    base: string,
    selfLink: string,
    view?: AdminRoleView,
  ): Reply {
    const group = this.org.getGroup(groupId);
    if (!group) return this.notFound(groupId, 'UserGroup');
    if (view && !view.canSeeGroup(group)) return this.forbidden();
    const limit = parseLimit(params.get('limit'), GROUP_USERS_LIMIT);
    const { items, next } = this.page(
      this.org.memberIdsOf(groupId),
      id => this.org.getUser(id)!,
      params.get('after'),
      limit,
      undefined,
    );
    const links = [selfLink];
    if (next)
      links.push(
        this.nextLink(base, `/api/v1/groups/${groupId}/users`, params, next),
      );
    return {
      status: 200,
      body: undefined,
      json: `[${items.map(u => listedUserToJson(u, base)).join(',')}]`,
      headers: { Link: links },
    };
  }
}

/** Starts a fake Okta org on a free loopback port (unless `port`/`host` say otherwise). */
export async function startFakeOkta(
  options: FakeOktaOptions = {},
): Promise<FakeOkta> {
  const server = new FakeOktaServer(options);
  await server.listen();
  return server;
}
