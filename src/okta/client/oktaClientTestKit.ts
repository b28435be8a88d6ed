/*
 * Shared fixtures of the Okta client's tests: a logger that keeps every
 * line, and a recorder of every credential the client sent, so tests can
 * assert that no secret leaks into logs or errors.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';

/** A logger that records every line with its level and metadata. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];

  constructor(private readonly prefix = '') {}

  private record(level: string, message: string, meta?: unknown) {
    this.lines.push(`${level} ${this.prefix}${message} ${meta === undefined ? '' : JSON.stringify(meta)}`);
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
 * Records the credentials in every request made with global fetch:
 * Authorization values, DPoP proofs and client assertions.
 */
export function recordSentCredentials(): { secrets: Set<string>; restore(): void } {
  const secrets = new Set<string>();
  const original = globalThis.fetch;
  const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const headers = new Headers(init?.headers);
    const authorization = headers.get('authorization');
    if (authorization) {
      secrets.add(authorization);
      secrets.add(authorization.slice(authorization.indexOf(' ') + 1));
    }
    const proof = headers.get('dpop');
    if (proof) secrets.add(proof);
    if (typeof init?.body === 'string') {
      const assertion = new URLSearchParams(init.body).get('client_assertion');
      if (assertion) secrets.add(assertion);
    }
    const response = await original(input, init);
    if (String(input).endsWith('/oauth2/v1/token')) {
      const body = await response.clone().text();
      const token = /"access_token":"([^"]+)"/.exec(body)?.[1];
      if (token) secrets.add(token);
    }
    return response;
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
