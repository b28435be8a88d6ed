/*
 * The event hook endpoints, one per provider, under the catalog plugin's
 * router: `/api/catalog/okta/event-hooks/<provider id>`. Okta calls them
 * without Backstage credentials, so each request is authenticated by the
 * provider's shared secret header alone, compared in constant time, before
 * any of its body is read; a request without it gets 401 and its connection
 * is closed, its body neither read nor logged. A body declared or found to
 * be over MAX_EVENT_HOOK_BODY_BYTES gets 413 the same way. Refused requests
 * are warned about at a bounded rate (rateLimitedWarnings.ts). A POST is
 * answered 200 as soon as its body is in, well within Okta's 3 s: the events
 * are read, deduplicated and batched after the answer, and the sink re-reads
 * from Okta what they name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaEventHookConfig } from './config';
import type { OktaChangeBatcher } from './OktaChangeBatcher';
import { readOktaEvents } from './oktaEvents';
import { RateLimitedWarnings } from './rateLimitedWarnings';

/** Where the endpoints live, relative to the catalog plugin's base URL. */
export const OKTA_EVENT_HOOK_BASE_PATH = '/okta/event-hooks';

/** The path of one provider's endpoint under the catalog plugin. */
export function oktaEventHookPath(providerId: string): string {
  return `${OKTA_EVENT_HOOK_BASE_PATH}/${providerId}`;
}

/**
 * The largest event hook body this endpoint reads: 1 MB. Okta batches events
 * that happen close together into one delivery's `data.events`, but
 * documents no largest count or size per delivery (its event hook concept
 * page and Event Hooks API reference give only the 400,000 events a day and
 * the 3 s timeout). One System Log event as delivered is a few KB of JSON
 * (actor, client, request, debugContext, targets), so 1 MB holds some
 * hundreds of them. Larger bodies are answered 413 unread; Okta does not
 * retry a 4xx, but the change is not lost: the provider's scheduled sync
 * finds it through Okta's change markers, and a System Log follower
 * (`systemLog`) reads the same events.
 */
export const MAX_EVENT_HOOK_BODY_BYTES = 1024 * 1024;
const MAX_CHALLENGE_LENGTH = 1024;

export interface OktaEventHookEndpoint {
  providerId: string;
  config: OktaEventHookConfig;
  batcher: OktaChangeBatcher;
}

/** An endpoint with its secret's digest and the header's lower-case name. */
interface ResolvedEndpoint extends OktaEventHookEndpoint {
  expected: Buffer;
  header: string;
}

/** The parts of an Express request this handler uses (Express adds `path` and maybe `body`). */
type HookRequest = IncomingMessage & {
  path?: string;
  body?: unknown;
  ip?: string;
};
type Next = (error?: unknown) => void;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality, also for values of different lengths. */
function secretMatches(
  presented: string | string[] | undefined,
  expected: Buffer,
): boolean {
  if (typeof presented !== 'string') return false;
  return timingSafeEqual(digest(presented), expected);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

/** Whether the request says it has a body (declared or chunked). */
function declaresBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0
  );
}

/**
 * Answers without reading the rest of the body: the connection is closed
 * once the answer is out, so that a client sending a large or endless body
 * costs this process nothing more (Node would otherwise read the body to
 * its end to reuse the connection).
 */
function answerUnread(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
): void {
  if (declaresBody(req) && !req.complete) {
    res.setHeader('Connection', 'close');
    res.once('finish', () => req.socket.destroy());
  }
  sendJson(res, status, body);
}

/** The body, or 'too large' as soon as it passes the bound (reading stops there). */
function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onEnd = () => resolve(Buffer.concat(chunks));
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_EVENT_HOOK_BODY_BYTES) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** The address a refused request came from, for the warning (no header, no body). */
function sourceOf(req: HookRequest): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * A request handler for all providers' endpoints, for the catalog plugin's
 * `httpRouter`; other paths pass through. Refused requests are warned about
 * through `refusals`, at a bounded rate.
 */
export function createOktaEventHookHandler(
  endpoints: OktaEventHookEndpoint[],
  logger: LoggerService,
  refusals: RateLimitedWarnings = new RateLimitedWarnings(logger),
): (req: HookRequest, res: ServerResponse, next: Next) => void {
  const byId = new Map<string, ResolvedEndpoint>(
    endpoints.map(endpoint => [
      endpoint.providerId,
      {
        ...endpoint,
        expected: digest(endpoint.config.secret),
        header: endpoint.config.secretHeader.toLowerCase(),
      },
    ]),
  );
  const prefix = `${OKTA_EVENT_HOOK_BASE_PATH}/`;

  return (req, res, next) => {
    const path = req.path ?? (req.url ?? '').split('?')[0];
    if (!path.startsWith(prefix)) {
      next();
      return;
    }
    let endpoint: ResolvedEndpoint | undefined;
    let providerId = '';
    try {
      providerId = decodeURIComponent(
        path.slice(prefix.length).replace(/\/$/, ''),
      );
      endpoint = byId.get(providerId);
    } catch {
      // A malformed escape: no provider has that id.
    }
    const method = req.method ?? 'GET';
    if (!endpoint) {
      // The path is the caller's: not logged, nor used as a kind.
      refusals.warn(
        'unknown provider',
        `Okta event hook: refused a ${method} request to an event hook path of no configured provider (from ${sourceOf(req)}); the hook's URL in Okta must end in /api/catalog${OKTA_EVENT_HOOK_BASE_PATH}/<provider id>`,
        (count, seconds) =>
          `Okta event hook: refused ${count} more requests to event hook paths of no configured provider in the last ${seconds} s`,
      );
      answerUnread(req, res, 404, {
        error: 'No Okta event hook is configured at this path',
      });
      return;
    }
    // The secret first, before anything of the body is read.
    if (!secretMatches(req.headers[endpoint.header], endpoint.expected)) {
      const header = endpoint.config.secretHeader;
      refusals.warn(
        `${providerId}:unauthorized`,
        `Okta event hook ${providerId}: rejected a ${method} request without a valid ${header} header (from ${sourceOf(req)}); check that the event hook's authentication secret in Okta equals eventHook.secret`,
        (count, seconds) =>
          `Okta event hook ${providerId}: rejected ${count} more requests without a valid ${header} header in the last ${seconds} s`,
      );
      answerUnread(req, res, 401, { error: 'Unauthorized' });
      return;
    }
    if (method === 'GET') {
      // Okta's one-time verification: echo the challenge.
      const challenge = req.headers['x-okta-verification-challenge'];
      if (
        typeof challenge !== 'string' ||
        challenge.length === 0 ||
        challenge.length > MAX_CHALLENGE_LENGTH
      ) {
        answerUnread(req, res, 400, {
          error: 'Missing X-Okta-Verification-Challenge header',
        });
        return;
      }
      logger.info(
        `Okta event hook ${providerId}: answered Okta's verification request`,
      );
      answerUnread(req, res, 200, { verification: challenge });
      return;
    }
    if (method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      answerUnread(req, res, 405, { error: 'Method not allowed' });
      return;
    }
    handlePost(req, res, endpoint, logger, refusals).catch(error =>
      next(error),
    );
  };
}

function refusedTooLarge(
  req: HookRequest,
  res: ServerResponse,
  providerId: string,
  refusals: RateLimitedWarnings,
): void {
  refusals.warn(
    `${providerId}:too large`,
    `Okta event hook ${providerId}: refused a request with a body over ${MAX_EVENT_HOOK_BODY_BYTES} bytes (from ${sourceOf(req)}); Okta does not retry it, the scheduled sync will find its changes`,
    (count, seconds) =>
      `Okta event hook ${providerId}: refused ${count} more requests with a body over ${MAX_EVENT_HOOK_BODY_BYTES} bytes in the last ${seconds} s`,
  );
  answerUnread(req, res, 413, { error: 'Request body too large' });
}

async function handlePost(
  req: HookRequest,
  res: ServerResponse,
  endpoint: OktaEventHookEndpoint,
  logger: LoggerService,
  refusals: RateLimitedWarnings,
): Promise<void> {
  const { providerId } = endpoint;
  let payload: unknown = req.body;
  if (payload === undefined || Buffer.isBuffer(payload)) {
    let body: Buffer | 'too large';
    if (Buffer.isBuffer(payload)) {
      body = payload;
    } else if (
      Number(req.headers['content-length'] ?? 0) > MAX_EVENT_HOOK_BODY_BYTES
    ) {
      // Declared too large: answered before a byte of it is read.
      body = 'too large';
    } else {
      body = await readBody(req);
    }
    if (body === 'too large') {
      refusedTooLarge(req, res, providerId, refusals);
      return;
    }
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      refusals.warn(
        `${providerId}:not json`,
        `Okta event hook ${providerId}: refused a request whose body is not JSON (from ${sourceOf(req)})`,
        (count, seconds) =>
          `Okta event hook ${providerId}: refused ${count} more requests whose body is not JSON in the last ${seconds} s`,
      );
      sendJson(res, 400, {
        error: 'The body must be an Okta event hook request (JSON)',
      });
      return;
    }
  }
  const events = (payload as { data?: { events?: unknown } } | null)?.data
    ?.events;
  if (!Array.isArray(events)) {
    refusals.warn(
      `${providerId}:no events`,
      `Okta event hook ${providerId}: refused a request without data.events (from ${sourceOf(req)})`,
      (count, seconds) =>
        `Okta event hook ${providerId}: refused ${count} more requests without data.events in the last ${seconds} s`,
    );
    sendJson(res, 400, {
      error: 'The body must be an Okta event hook request (data.events)',
    });
    return;
  }
  // Answer first: what follows may wait for the database or for Okta.
  res.statusCode = 200;
  res.end();
  const { changes, ignored, malformed } = readOktaEvents(events);
  if (malformed > 0) {
    refusals.warn(
      `${providerId}:malformed events`,
      `Okta event hook ${providerId}: skipped ${malformed} of ${events.length} events that are not shaped like Okta events`,
      (count, seconds) =>
        `Okta event hook ${providerId}: skipped events not shaped like Okta events in ${count} more requests in the last ${seconds} s`,
    );
  }
  try {
    const { accepted, duplicates } = await endpoint.batcher.accept(changes);
    logger.debug(
      `Okta event hook ${providerId}: ${events.length} events, ${accepted} new changes, ${duplicates} already seen, ${ignored} of other types`,
    );
  } catch (error) {
    refusals.warn(
      `${providerId}:not recorded`,
      `Okta event hook ${providerId}: could not record ${changes.length} events; the scheduled sync will pick up their changes: ${
        error instanceof Error ? error.message : String(error)
      }`,
      (count, seconds) =>
        `Okta event hook ${providerId}: could not record the events of ${count} more requests in the last ${seconds} s; the scheduled sync will pick up their changes`,
    );
  }
}
