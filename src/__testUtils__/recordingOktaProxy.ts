/*
 * A recording HTTP proxy in front of a fake Okta org: it forwards every
 * request unchanged (the Host header too, so next links, client assertion
 * audiences and DPoP `htu` keep naming the proxy) and keeps what crossed the
 * wire that must never reach a log or an error: access tokens, client
 * assertions and DPoP proofs. Faults pass through as they are: a dropped or
 * cut upstream connection drops the client's, a slow body stays slow. Not
 * part of the published module.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy saw it. */
export interface OktaWireExchange {
  method: string;
  path: string;
  /** 0 when the upstream dropped the connection before answering. */
  status: number;
  wwwAuthenticate?: string;
  /** The Authorization scheme (`Bearer`, `DPoP`, `SSWS`), if any. */
  scheme?: string;
  /** The DPoP proof sent, if any. */
  dpopProof?: string;
}

/** The secrets exchanged on the wire. */
export interface OktaWireSecrets {
  /** Access tokens, from token responses and Authorization headers. */
  accessTokens: Set<string>;
  /** `client_assertion` JWTs of token requests. */
  clientAssertions: Set<string>;
  /** `DPoP` header proofs, token and API requests. */
  dpopProofs: Set<string>;
}

/** A running recording proxy. */
export interface RecordingOktaProxy {
  /** The proxy's base URL; point `oktaUrl` here. */
  readonly url: string;
  /** Where requests go; may be changed between runs. */
  target: string;
  readonly exchanges: OktaWireExchange[];
  readonly secrets: OktaWireSecrets;
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding'];

/** Starts a recording proxy on a free loopback port, forwarding to `target`. */
export async function startRecordingOktaProxy(
  target: string,
): Promise<RecordingOktaProxy> {
  const exchanges: OktaWireExchange[] = [];
  const secrets: OktaWireSecrets = {
    accessTokens: new Set(),
    clientAssertions: new Set(),
    dpopProofs: new Set(),
  };
  // No keep-alive upstream: a pooled socket the fake closes while idle would
  // surface as a drop the fake never injected.
  const agent = new http.Agent({ keepAlive: false });
  const state = { target };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const isToken = path.startsWith('/oauth2/v1/token');
      const exchange: OktaWireExchange = {
        method: req.method ?? 'GET',
        path,
        status: 0,
      };
      exchanges.push(exchange);

      const authorization = req.headers.authorization;
      if (authorization) {
        exchange.scheme = authorization.slice(0, authorization.indexOf(' '));
        secrets.accessTokens.add(
          authorization.slice(authorization.indexOf(' ') + 1),
        );
      }
      const dpop = req.headers.dpop;
      if (typeof dpop === 'string') {
        exchange.dpopProof = dpop;
        secrets.dpopProofs.add(dpop);
      }
      if (isToken) {
        const assertion = new URLSearchParams(body.toString('utf8')).get(
          'client_assertion',
        );
        if (assertion) secrets.clientAssertions.add(assertion);
      }

      const headers = { ...req.headers };
      for (const name of HOP_BY_HOP) delete headers[name];
      const upstream = http.request(
        new URL(path, state.target),
        { method: req.method, headers, agent },
        response => {
          exchange.status = response.statusCode ?? 0;
          const challenge = response.headers['www-authenticate'];
          if (typeof challenge === 'string')
            exchange.wwwAuthenticate = challenge;
          const responseHeaders = { ...response.headers };
          for (const name of HOP_BY_HOP) delete responseHeaders[name];
          res.writeHead(response.statusCode ?? 502, responseHeaders);
          const responseChunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => {
            if (isToken) responseChunks.push(chunk);
            res.write(chunk);
          });
          response.on('end', () => {
            if (isToken) {
              try {
                const token = JSON.parse(
                  Buffer.concat(responseChunks).toString('utf8'),
                ).access_token;
                if (typeof token === 'string') secrets.accessTokens.add(token);
              } catch {
                // A truncated or malformed token response carries no token.
              }
            }
            res.end();
          });
          response.on('error', () => res.destroy());
          response.on('close', () => {
            if (!response.complete) res.destroy();
          });
        },
      );
      upstream.on('error', () => res.destroy());
      // The client gave up (its timeout or abort): let the fake see it too.
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get target() {
      return state.target;
    },
    set target(value: string) {
      state.target = value;
    },
    exchanges,
    secrets,
    close: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
