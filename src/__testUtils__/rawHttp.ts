/*
 * An HTTP/1.1 request over a raw TCP connection, for tests that must send
 * only part of what a request declares (a body's first bytes, or none) and
 * see whether and how the server answers and closes the connection.
 */
import { connect, type Socket } from 'node:net';

export interface RawHttpExchange {
  socket: Socket;
  /** The response's status and headers (names lower-cased). */
  response: Promise<{ status: number; headers: Record<string, string> }>;
  /** Resolves when the connection is closed, by either side. */
  closed: Promise<void>;
}

/** Sends a request head (and `body`, if any); more can be written to `socket`. */
export function rawHttpRequest(options: {
  port: number;
  method: string;
  path: string;
  headers: Record<string, string | number>;
  body?: string;
}): RawHttpExchange {
  const socket = connect(options.port, '127.0.0.1');
  // The server may reset the connection while this side still writes.
  socket.on('error', () => {});
  const lines = [
    `${options.method} ${options.path} HTTP/1.1`,
    'Host: 127.0.0.1',
    ...Object.entries(options.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`);
  let received = '';
  const response = new Promise<{
    status: number;
    headers: Record<string, string>;
  }>((resolve, reject) => {
    socket.on('data', chunk => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...headerLines] = received.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line
          .slice(colon + 1)
          .trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
    socket.on('close', () =>
      reject(new Error(`The connection closed before a response: ${received}`)),
    );
  });
  // Settled by `resolve` above when a response came; never unhandled.
  response.catch(() => {});
  const closed = new Promise<void>(resolve => socket.on('close', resolve));
  return { socket, response, closed };
}
