import { describe, expect, it } from '@jest/globals';
import { OktaRequestError, type OktaClientStats } from '../okta/client/types';
import { failureReasonOf, requestsBetween, statusClassOf } from './syncSummary';

function stats(partial: Partial<OktaClientStats>): OktaClientStats {
  return {
    requests: {},
    retries: 0,
    rateLimited: 0,
    tokensFetched: 0,
    ...partial,
  };
}

describe('requestsBetween', () => {
  it('counts what happened between two snapshots, by endpoint and status class', () => {
    const before = stats({
      requests: { token: 1, users: 2 },
      responses: { token: { 200: 1 }, users: { 200: 2 } },
      retries: 1,
      tokensFetched: 1,
    });
    const after = stats({
      requests: { token: 1, users: 5, groupMembers: 4 },
      responses: {
        token: { 200: 1 },
        users: { 200: 4, 429: 1 },
        groupMembers: { 200: 2, 503: 1, 0: 1 },
      },
      retries: 4,
      rateLimited: 1,
      tokensFetched: 1,
    });
    expect(requestsBetween(before, after)).toEqual({
      total: 7,
      byEndpoint: {
        users: {
          requests: 3,
          byStatusClass: { '2xx': 2, '4xx': 1 },
          rateLimited: 1,
        },
        groupMembers: {
          requests: 4,
          byStatusClass: { '2xx': 2, '5xx': 1, none: 1 },
          rateLimited: 0,
        },
      },
      rateLimited: 1,
      retries: 3,
      tokensFetched: 0,
    });
  });

  it('reads stats without response counts (a client that does not keep them)', () => {
    expect(
      requestsBetween(stats({}), stats({ requests: { users: 2 } })).byEndpoint,
    ).toEqual({
      users: { requests: 2, byStatusClass: {}, rateLimited: 0 },
    });
  });

  it('names status classes', () => {
    expect([200, 302, 404, 429, 500, 0].map(statusClassOf)).toEqual([
      '2xx',
      '3xx',
      '4xx',
      '4xx',
      '5xx',
      'none',
    ]);
  });
});

describe('failureReasonOf', () => {
  const oktaError = (details: OktaRequestError['details']) =>
    new OktaRequestError('failed', details);
  const reading = { committing: false };

  it.each([
    [
      {
        endpoint: 'POST /oauth2/v1/token',
        status: 401,
        errorCode: 'invalid_client',
      },
      'okta_auth',
    ],
    [
      {
        endpoint: 'POST /oauth2/v1/token',
        status: 400,
        errorCode: 'invalid_scope',
      },
      'okta_auth',
    ],
    [{ endpoint: 'POST /oauth2/v1/token', status: 429 }, 'okta_rate_limit'],
    [{ endpoint: 'GET /api/v1/users', status: 401 }, 'okta_auth'],
    [
      { endpoint: 'GET /api/v1/users', status: 403, errorCode: 'E0000006' },
      'okta_permission',
    ],
    [
      { endpoint: 'GET /api/v1/groups/{id}/users', status: 429 },
      'okta_rate_limit',
    ],
    [{ endpoint: 'GET /api/v1/groups', status: 503 }, 'okta_server'],
    [
      { endpoint: 'GET /api/v1/users', status: 400, errorCode: 'E0000031' },
      'okta_request',
    ],
    [{ endpoint: 'GET /api/v1/users' }, 'okta_network'],
  ] as const)('classes %j as %s', (details, reason) => {
    expect(failureReasonOf(oktaError(details), reading)).toBe(reason);
  });

  it('classes an abort, a catalog failure and anything else', () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    expect(
      failureReasonOf(new Error('x'), {
        signal: controller.signal,
        committing: false,
      }),
    ).toBe('aborted');
    expect(
      failureReasonOf(new Error('database is locked'), { committing: true }),
    ).toBe('catalog');
    expect(failureReasonOf(new TypeError('transformer bug'), reading)).toBe(
      'other',
    );
  });
});
