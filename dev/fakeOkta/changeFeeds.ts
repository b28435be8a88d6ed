/*
 * The fake org's change feeds as the server serves them: `GET /api/v1/logs`
 * (the System Log, scope `okta.logs.read`, in its own rate-limit bucket of
 * 120 requests a minute) and the event hook management calls
 * (`/api/v1/eventHooks`, scopes `okta.eventHooks.read`/`.manage`). The
 * server hands these paths here after its latency, faults and concurrency
 * checks; everything else about them lives in systemLog.ts and eventHooks.ts.
 */
import { refusedApiReply, type ApiAuthResult } from './authorizationServer';
import type { FakeOrg } from './FakeOrg';
import {
  FakeEventHooks,
  FakeEventHookVerificationError,
  type FakeEventHookRegistration,
} from './eventHooks';
import { FakeRateLimiter } from './rateLimits';
import { errorBody } from './serialize';
import { FakeSystemLog } from './systemLog';
import type { FakeOkta, FakeOktaRateLimitOptions } from './types';

/** Okta's published Workforce limit for /api/v1/logs, per minute. */
export const DEFAULT_LOGS_RATE_LIMIT = 120;

export interface ChangeFeedRequest {
  method: string;
  pathname: string;
  query: string;
  body: string;
  authorization: string | undefined;
  dpop: string | string[] | undefined;
  /** The base URL the client used. */
  base: string;
}

export interface ChangeFeedReply {
  status: number;
  body: unknown;
  headers: Record<string, string | string[]>;
}

/** What the server lends the feeds: its credential checks and error ids. */
export interface ChangeFeedServerContext {
  authenticate(
    authorization: string | undefined,
    dpop: string | string[] | undefined,
    method: string,
    htu: string,
    scope: string,
  ): ApiAuthResult;
  appIdOf(authorization: string | undefined): string | undefined;
  errorId(): string;
  url(): string;
  clock: () => number;
  rateLimits?: FakeOktaRateLimitOptions;
}

export class FakeChangeFeeds {
  readonly systemLog: FakeSystemLog;
  readonly eventHooks: FakeEventHooks;
  private logsLimiter: FakeRateLimiter;

  constructor(
    org: FakeOrg,
    private readonly context: ChangeFeedServerContext,
  ) {
    this.systemLog = new FakeSystemLog(org, context.clock);
    this.eventHooks = new FakeEventHooks(
      this.systemLog,
      context.url,
      context.clock,
    );
    // The logs bucket is separate from the others; the limiter's "other"
    // bucket stands for it here.
    this.logsLimiter = new FakeRateLimiter(
      { ...context.rateLimits, limits: { other: DEFAULT_LOGS_RATE_LIMIT } },
      context.clock,
    );
  }

  /** Replaces the logs bucket's per-window limit (for the whole org; apps get their share). */
  setLogsRateLimit(limit: number): void {
    this.logsLimiter = new FakeRateLimiter(
      { ...this.context.rateLimits, limits: { other: limit } },
      this.context.clock,
    );
  }

  /** 429s served from the logs bucket. */
  logs429 = 0;

  /** Whether a path is one of the feeds' endpoints. */
  static owns(pathname: string): boolean {
    return (
      pathname === '/api/v1/logs' ||
      pathname === '/api/v1/eventHooks' ||
      pathname.startsWith('/api/v1/eventHooks/')
    );
  }

  close(): void {
    this.eventHooks.close();
    this.systemLog.close();
  }

  async handle(request: ChangeFeedRequest): Promise<ChangeFeedReply> {
    const { method, pathname } = request;
    if (pathname === '/api/v1/logs') {
      if (method !== 'GET')
        return this.error(
          405,
          'E0000022',
          'The endpoint does not support the provided HTTP method',
        );
      const denied = this.authenticate(request, 'okta.logs.read');
      if (denied) return denied;
      const decision = this.logsLimiter.take(
        'other',
        this.context.appIdOf(request.authorization),
      );
      const rateHeaders = {
        'X-Rate-Limit-Limit': String(decision.limit),
        'X-Rate-Limit-Remaining': String(decision.remaining),
        'X-Rate-Limit-Reset': String(decision.reset),
      };
      if (!decision.allowed) {
        this.logs429++;
        const reply = this.error(
          429,
          'E0000047',
          'API call exceeded rate limit due to too many requests.',
        );
        return { ...reply, headers: rateHeaders };
      }
      const reply = this.systemLog.list(
        request.query,
        request.base,
        (status, code, summary) => this.error(status, code, summary),
      );
      return {
        status: reply.status,
        body: reply.body,
        headers: { ...reply.headers, ...rateHeaders },
      };
    }
    return this.handleEventHooks(request);
  }

  private async handleEventHooks(
    request: ChangeFeedRequest,
  ): Promise<ChangeFeedReply> {
    const { method, pathname } = request;
    const m =
      /^\/api\/v1\/eventHooks(?:\/([^/]+)(\/lifecycle\/(verify|deactivate))?)?$/.exec(
        pathname,
      );
    if (!m)
      return this.error(
        404,
        'E0000007',
        `Not found: Resource not found: ${pathname} (Endpoint)`,
      );
    const [, id, , action] = m;
    const denied = this.authenticate(
      request,
      method === 'GET' ? 'okta.eventHooks.read' : 'okta.eventHooks.manage',
    );
    if (denied) return denied;
    if (!id) {
      if (method === 'GET') return this.ok(this.eventHooks.list());
      if (method !== 'POST')
        return this.error(
          405,
          'E0000022',
          'The endpoint does not support the provided HTTP method',
        );
      let registration: FakeEventHookRegistration;
      try {
        registration = registrationOf(JSON.parse(request.body));
        return this.ok(this.eventHooks.create(registration));
      } catch (error) {
        return this.error(
          400,
          'E0000001',
          `Api validation failed: ${error instanceof Error ? error.message : 'eventHook'}`,
        );
      }
    }
    const hookId = decodeURIComponent(id);
    if (!this.eventHooks.get(hookId))
      return this.error(
        404,
        'E0000007',
        `Not found: Resource not found: ${hookId} (EventHook)`,
      );
    if (!action) {
      return method === 'GET'
        ? this.ok(this.eventHooks.get(hookId))
        : this.error(
            405,
            'E0000022',
            'The endpoint does not support the provided HTTP method',
          );
    }
    if (method !== 'POST')
      return this.error(
        405,
        'E0000022',
        'The endpoint does not support the provided HTTP method',
      );
    if (action === 'deactivate')
      return this.ok(this.eventHooks.deactivate(hookId));
    try {
      return this.ok(await this.eventHooks.verify(hookId));
    } catch (error) {
      if (error instanceof FakeEventHookVerificationError)
        return this.error(400, 'E0000001', error.message);
      throw error;
    }
  }

  /** An error reply when the credentials do not allow `scope`, else undefined. */
  private authenticate(
    request: ChangeFeedRequest,
    scope: string,
  ): ChangeFeedReply | undefined {
    // The fake's SSWS tokens carry only the read scopes of users and groups;
    // a real SSWS token acts with its admin's rights, so for these paths a
    // token that may read users stands for one that may read logs and hooks.
    const ssws = request.authorization?.toLowerCase().startsWith('ssws ');
    const auth = this.context.authenticate(
      request.authorization,
      request.dpop,
      request.method,
      `${request.base}${request.pathname}`,
      ssws ? 'okta.users.read' : scope,
    );
    return auth.ok ? undefined : refusedApiReply(auth, this.context.errorId());
  }

  private ok(body: unknown): ChangeFeedReply {
    return { status: 200, body, headers: {} };
  }

  private error(
    status: number,
    code: string,
    summary: string,
    causes: string[] = [],
  ): ChangeFeedReply {
    return {
      status,
      body: errorBody(code, summary, this.context.errorId(), causes),
      headers: {},
    };
  }
}

/** Reads Okta's EventHook request body into a registration. */
function registrationOf(body: unknown): FakeEventHookRegistration {
  const hook = body as {
    name?: unknown;
    description?: unknown;
    events?: { type?: unknown; items?: unknown };
    channel?: {
      type?: unknown;
      version?: unknown;
      config?: {
        uri?: unknown;
        headers?: unknown;
        authScheme?: { type?: unknown; key?: unknown; value?: unknown };
      };
    };
  };
  if (typeof hook?.name !== 'string' || !hook.name) throw new Error('name');
  if (hook.events?.type !== 'EVENT_TYPE' || !Array.isArray(hook.events.items))
    throw new Error('events');
  const config = hook.channel?.config;
  if (hook.channel?.type !== 'HTTP' || typeof config?.uri !== 'string')
    throw new Error('channel');
  const auth = config.authScheme;
  if (
    auth &&
    (auth.type !== 'HEADER' ||
      typeof auth.key !== 'string' ||
      typeof auth.value !== 'string')
  ) {
    throw new Error('channel.config.authScheme');
  }
  const headers = Array.isArray(config.headers)
    ? (config.headers as Array<{ key: string; value: string }>)
    : [];
  return {
    name: hook.name,
    ...(typeof hook.description === 'string' && {
      description: hook.description,
    }),
    uri: config.uri,
    events: hook.events.items.map(String),
    headers,
    ...(auth && {
      authScheme: { key: auth.key as string, value: auth.value as string },
    }),
  };
}

const feedsByServer = new WeakMap<FakeOkta, FakeChangeFeeds>();

/** Registers a server's feeds (the server calls this once). */
export function registerChangeFeeds(
  server: FakeOkta,
  feeds: FakeChangeFeeds,
): void {
  feedsByServer.set(server, feeds);
}

/** The System Log and event hooks of a running fake Okta org. */
export function fakeChangeFeeds(server: FakeOkta): FakeChangeFeeds {
  const feeds = feedsByServer.get(server);
  if (!feeds)
    throw new Error('Not a fake Okta server started by startFakeOkta');
  return feeds;
}
