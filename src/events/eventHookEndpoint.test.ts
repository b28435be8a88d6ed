/*
 * The event hook handler on a plain Node HTTP server, driven over raw TCP:
 * what it answers to requests it refuses, how much of their bodies it reads
 * (the server counts the bytes it took from each connection), and what it
 * logs about them.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { RecordingLogger } from '../__testUtils__/oktaCatalogHarness';
import { rawHttpRequest } from '../__testUtils__/rawHttp';
import { InMemoryOktaChangeQueue } from './changeQueue';
import {
  createOktaEventHookHandler,
  MAX_EVENT_HOOK_BODY_BYTES,
  oktaEventHookPath,
} from './eventHookEndpoint';
import { OktaChangeBatcher } from './OktaChangeBatcher';
import { RateLimitedWarnings } from './rateLimitedWarnings';
import type { OktaChangedIds } from './types';

const SECRET = 'hook-secret-0123456789-abcdef';
const HEADER = 'X-Okta-Hook-Secret';
const PATH = oktaEventHookPath('default');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Started {
  port: number;
  logger: RecordingLogger;
  warnings: RateLimitedWarnings;
  handOvers: OktaChangedIds[];
  batcher: OktaChangeBatcher;
  /** Bytes the server read from each connection, once it closed. */
  bytesRead: number[];
}

async function start(): Promise<Started> {
  const logger = new RecordingLogger();
  const handOvers: OktaChangedIds[] = [];
  const batcher = new OktaChangeBatcher({
    sink: { changed: async ids => void handOvers.push(ids) },
    queue: new InMemoryOktaChangeQueue(),
    logger,
    quietMs: 10,
    maxDelayMs: 50,
  });
  const warnings = new RateLimitedWarnings(logger);
  const handler = createOktaEventHookHandler(
    [
      {
        providerId: 'default',
        config: { secretHeader: HEADER, secret: SECRET },
        batcher,
      },
    ],
    logger,
    warnings,
  );
  const bytesRead: number[] = [];
  const server: Server = createServer((req, res) =>
    handler(req, res, () => {
      res.statusCode = 404;
      res.end();
    }),
  );
  server.on('connection', socket =>
    socket.on('close', () => bytesRead.push(socket.bytesRead)),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    batcher.stop();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as AddressInfo;
  return { port, logger, warnings, handOvers, batcher, bytesRead };
}

/** A raw request to the handler's server, closed after the test. */
function rawRequest(
  port: number,
  headers: Record<string, string | number>,
  body = '',
  method = 'POST',
  path = PATH,
) {
  const exchange = rawHttpRequest({ port, method, path, headers, body });
  cleanups.push(() => void exchange.socket.destroy());
  return exchange;
}

function hookBody(events: unknown[]): string {
  return JSON.stringify({
    eventType: 'com.okta.event_hook',
    eventId: 'delivery-1',
    data: { events },
  });
}

const membershipEvent = (uuid: string, groupId: string) => ({
  uuid,
  published: new Date().toISOString(),
  eventType: 'group.user_membership.add',
  target: [
    { id: '00u1', type: 'User' },
    { id: groupId, type: 'UserGroup' },
  ],
});

describe('the event hook handler over raw HTTP', () => {
  it('answers 413 to a declared body over the bound before reading it, and closes the connection', async () => {
    const { port, bytesRead, logger } = await start();
    // 50 MB declared, 1 KB sent: the answer must not wait for the rest.
    const { response, closed } = rawRequest(
      port,
      {
        [HEADER]: SECRET,
        'Content-Type': 'application/json',
        'Content-Length': 50 * 1024 * 1024,
      },
      '{"data":{"events":['.padEnd(1024, ' '),
    );
    const { status, headers } = await response;
    expect(status).toBe(413);
    expect(headers.connection).toBe('close');
    await closed;
    expect(bytesRead).toHaveLength(1);
    expect(bytesRead[0]).toBeLessThan(4096);
    expect(logger.messages('warn')).toEqual([
      expect.stringMatching(
        /^Okta event hook default: refused a request with a body over 1048576 bytes/,
      ),
    ]);
  });

  it('stops reading a chunked body as soon as it passes the bound, answers 413 and closes the connection', async () => {
    const { port, bytesRead } = await start();
    const { socket, response, closed } = rawRequest(port, {
      [HEADER]: SECRET,
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
    });
    let answered = false;
    void response.then(
      () => (answered = true),
      () => {},
    );
    let sent = 0;
    const chunk = `${(64 * 1024).toString(16)}\r\n${' '.repeat(64 * 1024)}\r\n`;
    // Up to 64 MB, unless answered (or cut off) first.
    while (!answered && !socket.destroyed && sent < 64 * 1024 * 1024) {
      await new Promise<void>(resolve => socket.write(chunk, () => resolve()));
      sent += 64 * 1024;
    }
    const { status, headers } = await response;
    expect(status).toBe(413);
    expect(headers.connection).toBe('close');
    await closed;
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // What the server took off the connection: the bound, and little more.
    expect(bytesRead[0]).toBeGreaterThan(MAX_EVENT_HOOK_BODY_BYTES);
    expect(bytesRead[0]).toBeLessThan(MAX_EVENT_HOOK_BODY_BYTES + 512 * 1024);
  });

  it('answers 401 to a request without the secret before reading its body, and closes the connection', async () => {
    const { port, bytesRead, logger } = await start();
    const attempts: Array<Record<string, string>> = [
      {},
      { [HEADER]: 'wrong-secret-of-the-same-length-x' },
    ];
    for (const secret of attempts) {
      // 10 MB declared (over the bound too: the secret is checked first).
      const { response, closed } = rawRequest(
        port,
        { ...secret, 'Content-Length': 10 * 1024 * 1024 },
        'FORGED-BODY-MARKER'.padEnd(1024, ' '),
      );
      const { status, headers } = await response;
      expect(status).toBe(401);
      expect(headers.connection).toBe('close');
      await closed;
    }
    expect(bytesRead.every(n => n < 4096)).toBe(true);
    expect(logger.text()).not.toContain('FORGED-BODY-MARKER');
    expect(logger.text()).not.toContain(SECRET);
  });

  it('accepts a delivery up to the bound on a connection it keeps open', async () => {
    const { port, handOvers, batcher } = await start();
    // Padded with whitespace to just under the bound.
    const json = hookBody([membershipEvent('e1', '00gTEAM')]);
    const body = json.padEnd(MAX_EVENT_HOOK_BODY_BYTES, ' ');
    const { response, socket } = rawRequest(
      port,
      {
        [HEADER]: SECRET,
        'Content-Type': 'application/json',
        'Content-Length': body.length,
      },
      body,
    );
    const { status, headers } = await response;
    expect(status).toBe(200);
    expect(headers.connection).not.toBe('close');
    expect(socket.destroyed).toBe(false);
    await new Promise(resolve => setTimeout(resolve, 100));
    await batcher.idle();
    expect(handOvers).toEqual([
      {
        userIds: [],
        groupIds: [],
        membershipGroupIds: [],
        memberships: [{ groupId: '00gTEAM', userId: '00u1' }],
      },
    ]);
  });

  it('warns about refused requests at a bounded rate: 400 refused requests, one warning per kind', async () => {
    const { port, logger, warnings, handOvers } = await start();
    const send = async (
      head: Record<string, string | number>,
      body: string,
      path = PATH,
    ) => {
      const { response, socket } = rawRequest(port, head, body, 'POST', path);
      const { status } = await response;
      socket.destroy();
      return status;
    };
    const statuses = new Map<number, number>();
    const count = (status: number) =>
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    for (let i = 0; i < 100; i++) {
      const body = `{"secret":"${SECRET}","n":${i}`; // not JSON
      count(
        await send(
          { [HEADER]: `wrong-${i}`, 'Content-Length': body.length },
          body,
        ),
      );
      count(
        await send({ [HEADER]: SECRET, 'Content-Length': body.length }, body),
      );
      count(await send({ 'Content-Length': 2 }, '{}', '/okta/event-hooks/x'));
      count(
        await send(
          { [HEADER]: SECRET, 'Content-Length': MAX_EVENT_HOOK_BODY_BYTES + 1 },
          '',
        ),
      );
    }
    expect(Object.fromEntries(statuses)).toEqual({
      400: 100,
      401: 100,
      404: 100,
      413: 100,
    });
    const firsts = logger.messages('warn');
    expect(firsts).toHaveLength(4);
    expect(firsts.join('\n')).toMatch(
      /rejected a POST request without a valid X-Okta-Hook-Secret header/,
    );
    // At the end of the window (here: on shutdown), one line per kind.
    warnings.flush();
    const summaries = logger.messages('warn').slice(4);
    expect(summaries).toHaveLength(4);
    for (const line of summaries) expect(line).toMatch(/ 99 more /);
    expect(logger.text()).not.toContain(SECRET);
    expect(handOvers).toEqual([]);
  });
});
