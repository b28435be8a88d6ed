/*
 * Shared fixtures of the Okta client's tests: a logger that keeps every
 * line, and a recorder of every credential the client sent, so tests can
 * assert that no secret leaks into logs or errors.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { httpTransport } from './httpTransport';

/** A logger that records every line with its level and metadata. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];

  constructor(private readonly prefix = '') {}

  private record(level: string, message: string, meta?: unknown) {
    this.lines.push(
      `${level} ${this.prefix}${message} ${meta === undefined ? '' : JSON.stringify(meta)}`,
    );
  }
  error(message: string, meta?: unknown) {
    this.record('error', message, meta);
  }
  warn(message: string, meta?: unknown) {
    this.record('warn', message, meta);
  }
  info(message: string, meta?: unknown) {
    this.record('info', message, meta);
  }
  debug(message: string, meta?: unknown) {
    this.record('debug', message, meta);
  }
  child(): LoggerService {
    return this;
  }
}

/**
 * Records the credentials in every request the client sends (through
 * httpTransport): Authorization values, DPoP proofs, client assertions, and
 * the access tokens Okta answers with.
 */
export function recordSentCredentials(): {
  secrets: Set<string>;
  restore(): void;
} {
  const secrets = new Set<string>();
  const original = httpTransport.send;
  const spy = jest
    .spyOn(httpTransport, 'send')
    .mockImplementation(async (url, init) => {
      const headers = new Headers(init.headers);
      const authorization = headers.get('authorization');
      if (authorization) {
        secrets.add(authorization);
        secrets.add(authorization.slice(authorization.indexOf(' ') + 1));
      }
      const proof = headers.get('dpop');
      if (proof) secrets.add(proof);
      if (typeof init.body === 'string') {
        const assertion = new URLSearchParams(init.body).get(
          'client_assertion',
        );
        if (assertion) secrets.add(assertion);
      }
      const exchange = await original(url, init);
      if (!url.endsWith('/oauth2/v1/token')) return exchange;
      return {
        ...exchange,
        body: async () => {
          const body = await exchange.body();
          const token = /"access_token":"([^"]+)"/.exec(body)?.[1];
          if (token) secrets.add(token);
          return body;
        },
      };
    });
  return { secrets, restore: () => spy.mockRestore() };
}

/** Drains an async iterable. */
export async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected a rejection');
}
