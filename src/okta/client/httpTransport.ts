/*
 * One HTTP exchange, buffered: what the request executor needs from the
 * network and no more. node:http(s) with keep-alive agents rather than
 * fetch: a sync sends thousands of requests with bodies of up to ~2 MB, and
 * fetch's stream machinery costs about 0.5 ms of CPU more per response, on
 * the thread that also maps the entities.
 */
import http from 'node:http';
import https from 'node:https';

/** A response whose headers have arrived; `body()` buffers the rest. */
export interface HttpExchange {
  status: number;
  headers: Headers;
  /** The whole body as UTF-8; rejects when the connection ends before it is complete. */
  body(): Promise<string>;
}

export interface HttpRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Aborts the exchange, body included. */
  signal: AbortSignal;
}

// One keep-alive pool per process and scheme, as fetch has.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

function headersOf(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      headers.append(name, v);
  }
  return headers;
}

/**
 * Sends one request and resolves when the response headers arrive. Never
 * follows redirects (Okta's API has none; following one would carry the
 * credentials elsewhere).
 */
function sendHttpRequest(
  url: string,
  init: HttpRequestInit,
): Promise<HttpExchange> {
  const target = new URL(url);
  const agent = agents[target.protocol as 'http:' | 'https:'];
  if (!agent) {
    return Promise.reject(new Error(`Unsupported protocol ${target.protocol}`));
  }
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<HttpExchange>((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: init.method,
        headers: {
          ...init.headers,
          ...(init.body !== undefined && {
            'content-length': String(Buffer.byteLength(init.body)),
          }),
        },
        agent,
        signal: init.signal,
      },
      res => {
        const body = new Promise<string>((resolveBody, fail) => {
          const rejectBody = (error: unknown) =>
            fail(init.signal.aborted ? init.signal.reason : error);
          const chunks: Buffer[] = [];
          let ended = false;
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            ended = true;
            if (res.complete)
              resolveBody(Buffer.concat(chunks).toString('utf8'));
            else
              rejectBody(
                new Error('the connection closed before the body was complete'),
              );
          });
          res.on('error', rejectBody);
          res.on('close', () => {
            if (!ended)
              rejectBody(
                new Error('the connection closed before the body was complete'),
              );
          });
        });
        // Handled by whoever calls body(); never an unhandled rejection here.
        body.catch(() => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: headersOf(res.headers),
          body: () => body,
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The executor sends through this object (tests wrap `send` to watch what goes out). */
export const httpTransport = { send: sendHttpRequest };
