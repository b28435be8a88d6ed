/*
 * The event hook endpoints, one per provider, under the catalog plugin's
 * router: `/api/catalog/okta/event-hooks/<provider id>`. Okta calls them
 * without Backstage credentials, so each request is authenticated by the
 * provider's shared secret header alone, compared in constant time; a
 * request without it gets 401 and is logged without its body. A POST is
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

/** Where the endpoints live, relative to the catalog plugin's base URL. */
export const OKTA_EVENT_HOOK_BASE_PATH = '/okta/event-hooks';

/** The path of one provider's endpoint under the catalog plugin. */
export function oktaEventHookPath(providerId: string): string {
  return `${OKTA_EVENT_HOOK_BASE_PATH}/${providerId}`;
}

/** Event hook bodies are batches of events; this is far above Okta's. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
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

function readBody(req: HookRequest): Promise<Buffer | 'too large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      resolve(size > MAX_BODY_BYTES ? 'too large' : Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/**
 * A request handler for all providers' endpoints, for the catalog plugin's
 * `httpRouter`; other paths pass through.
 */
export function createOktaEventHookHandler(
  endpoints: OktaEventHookEndpoint[],
  logger: LoggerService,
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
    if (!endpoint) {
      req.resume();
      sendJson(res, 404, {
        error: 'No Okta event hook is configured at this path',
      });
      return;
    }
    const method = req.method ?? 'GET';
    if (!secretMatches(req.headers[endpoint.header], endpoint.expected)) {
      // Never read, never logged: the body of an unauthenticated request.
      req.resume();
      logger.warn(
        `Okta event hook ${providerId}: rejected a ${method} request without a valid ${endpoint.config.secretHeader} header (from ${
          req.ip ?? req.socket.remoteAddress ?? 'unknown'
        }); check that the event hook's authentication secret in Okta equals eventHook.secret`,
      );
      sendJson(res, 401, { error: 'Unauthorized' });
      return;
    }
    if (method === 'GET') {
      // Okta's one-time verification: echo the challenge.
      req.resume();
      const challenge = req.headers['x-okta-verification-challenge'];
      if (
        typeof challenge !== 'string' ||
        challenge.length === 0 ||
        challenge.length > MAX_CHALLENGE_LENGTH
      ) {
        sendJson(res, 400, {
          error: 'Missing X-Okta-Verification-Challenge header',
        });
        return;
      }
      logger.info(
        `Okta event hook ${providerId}: answered Okta's verification request`,
      );
      sendJson(res, 200, { verification: challenge });
      return;
    }
    if (method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'GET, POST');
      sendJson(res, 405, { error: 'Method not allowed' });
      return;
    }
    handlePost(req, res, endpoint, logger).catch(error => next(error));
  };
}

async function handlePost(
  req: HookRequest,
  res: ServerResponse,
  endpoint: OktaEventHookEndpoint,
  logger: LoggerService,
): Promise<void> {
  let payload: unknown = req.body;
  if (payload === undefined || Buffer.isBuffer(payload)) {
    const body = Buffer.isBuffer(payload) ? payload : await readBody(req);
    if (body === 'too large') {
      sendJson(res, 413, { error: 'Request body too large' });
      return;
    }
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      logger.warn(
        `Okta event hook ${endpoint.providerId}: ignored a request whose body is not JSON`,
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
    logger.warn(
      `Okta event hook ${endpoint.providerId}: ignored a request without data.events`,
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
    logger.warn(
      `Okta event hook ${endpoint.providerId}: skipped ${malformed} of ${events.length} events that are not shaped like Okta events`,
    );
  }
  try {
    const { accepted, duplicates } = await endpoint.batcher.accept(changes);
    logger.debug(
      `Okta event hook ${endpoint.providerId}: ${events.length} events, ${accepted} new changes, ${duplicates} already seen, ${ignored} of other types`,
    );
  } catch (error) {
    logger.warn(
      `Okta event hook ${endpoint.providerId}: could not record ${changes.length} events; the scheduled sync will pick up their changes: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
