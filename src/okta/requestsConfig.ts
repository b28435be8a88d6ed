/*
 * How a provider talks to Okta (`requests`): concurrency within Okta's
 * per-org limit, the per-request timeout and the retries.
 */
import { readDurationFromConfig, type Config } from '@backstage/config';
import { Duration } from 'luxon';
import {
  readIntegerInRange,
  readOptional,
  rejectUnknownKeys,
  type ProviderConfigErrors,
} from './configValues';
import type { OktaProviderConfig } from './types';

/** Okta allows at most 75 requests in flight per org (35 on the free plan). */
const MAX_CONCURRENCY_LIMIT = 75;
const MAX_RETRIES_LIMIT = 20;
const REQUESTS_KEYS = new Set(['maxConcurrency', 'timeout', 'maxRetries']);

export function readRequests(
  config: Config,
  errors: ProviderConfigErrors,
): OktaProviderConfig['requests'] {
  if (!config.has('requests')) {
    return {};
  }
  const requests = readOptional('requests', errors, k =>
    config.getOptionalConfig(k),
  );
  if (!requests) {
    return {};
  }
  rejectUnknownKeys(requests, REQUESTS_KEYS, 'requests.', errors);
  const nested = errors.at('requests.');

  const maxConcurrency = readIntegerInRange(
    requests,
    'maxConcurrency',
    [1, MAX_CONCURRENCY_LIMIT],
    nested,
    ` (Okta allows at most ${MAX_CONCURRENCY_LIMIT} concurrent requests per org)`,
  );
  const maxRetries = readIntegerInRange(
    requests,
    'maxRetries',
    [0, MAX_RETRIES_LIMIT],
    nested,
    '',
  );
  let requestTimeoutMs: number | undefined;
  if (requests.has('timeout')) {
    try {
      const duration = readDurationFromConfig(requests, { key: 'timeout' });
      requestTimeoutMs = Duration.fromObject(duration).as('milliseconds');
    } catch (error) {
      throw nested.wrap('timeout', error);
    }
    if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
      throw errors.error('"requests.timeout" must be a positive duration');
    }
  }

  return {
    ...(maxConcurrency !== undefined && { maxConcurrency }),
    ...(requestTimeoutMs !== undefined && { requestTimeoutMs }),
    ...(maxRetries !== undefined && { maxRetries }),
  };
}
