/*
 * Reading and validating the push-update keys of one provider in
 * `catalog.providers.okta`: `eventHook` (Okta pushes events to the backend)
 * and `systemLog` (the backend follows Okta's System Log). Called from the
 * provider's config reader, which names the provider in every message.
 */
import { readDurationFromConfig, type Config } from '@backstage/config';
import { Duration } from 'luxon';

/** The provider keys read here. */
export const PUSH_UPDATE_KEYS: readonly string[] = ['eventHook', 'systemLog'];

const EVENT_HOOK_KEYS = new Set(['enabled', 'secretHeader', 'secret']);
const SYSTEM_LOG_KEYS = new Set(['enabled', 'pollInterval']);

const DEFAULT_SECRET_HEADER = 'Authorization';
/** A shared secret shorter than this is guessable; Okta allows up to 1024 characters. */
const MIN_SECRET_LENGTH = 16;
// RFC 9110 field name (token).
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Okta's own headers that a secret header must not be confused with. */
const RESERVED_HEADERS = new Set([
  'x-okta-verification-challenge',
  'content-type',
  'content-length',
  'host',
  'user-agent',
]);

const DEFAULT_POLL_INTERVAL_MS = 10_000;
/**
 * The System Log bucket is 120 requests a minute per org, half of it per
 * app by default: polling every 2 s uses 30, leaving room for catching up.
 */
const MIN_POLL_INTERVAL_MS = 2_000;

/**
 * An event hook endpoint of one provider (`eventHook` in config).
 *
 * @public
 */
export interface OktaEventHookConfig {
  /** The header Okta sends the secret in (the hook's authScheme key). */
  secretHeader: string;
  /** The header's value (the hook's authScheme value). Secret. */
  secret: string;
}

/**
 * A System Log follower of one provider (`systemLog` in config).
 *
 * @public
 */
export interface OktaSystemLogConfig {
  /** Time between polls (`systemLog.pollInterval`). */
  pollIntervalMs: number;
}

/**
 * The push-update part of a provider's config: Okta's changes pushed by an
 * event hook, or pulled from the System Log.
 *
 * @public
 */
export interface OktaPushUpdatesConfig {
  /** Set when the event hook endpoint is enabled. */
  eventHook?: OktaEventHookConfig;
  /** Set when the System Log follower is enabled. */
  systemLog?: OktaSystemLogConfig;
}

type Fail = (message: string) => Error;

function rejectUnknown(
  config: Config,
  known: Set<string>,
  prefix: string,
  fail: Fail,
) {
  for (const key of config.keys()) {
    if (!known.has(key)) {
      throw fail(
        `unknown key "${prefix}.${key}" (known keys: ${[...known].map(k => `${prefix}.${k}`).join(', ')})`,
      );
    }
  }
}

function typed<T>(key: string, fail: Fail, read: () => T): T {
  try {
    return read();
  } catch (error) {
    // Backstage's messages name the key and the expected type, never the value.
    throw fail(
      `"${key}" is invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function readEnabled(config: Config, prefix: string, fail: Fail): boolean {
  return (
    typed(`${prefix}.enabled`, fail, () =>
      config.getOptionalBoolean('enabled'),
    ) ?? true
  );
}

function readEventHook(
  config: Config,
  fail: Fail,
): OktaEventHookConfig | undefined {
  const hook = typed('eventHook', fail, () =>
    config.getOptionalConfig('eventHook'),
  );
  if (!hook) return undefined;
  rejectUnknown(hook, EVENT_HOOK_KEYS, 'eventHook', fail);
  if (!readEnabled(hook, 'eventHook', fail)) return undefined;
  const secretHeader =
    typed('eventHook.secretHeader', fail, () =>
      hook.getOptionalString('secretHeader'),
    )?.trim() ?? DEFAULT_SECRET_HEADER;
  if (!HEADER_NAME_PATTERN.test(secretHeader)) {
    throw fail(
      `"eventHook.secretHeader" must be an HTTP header name, e.g. "Authorization" or "X-Okta-Hook-Secret"`,
    );
  }
  if (RESERVED_HEADERS.has(secretHeader.toLowerCase())) {
    throw fail(
      `"eventHook.secretHeader" cannot be ${secretHeader}, a header Okta or HTTP sets itself`,
    );
  }
  // Read without trimming: the value must equal what Okta sends, byte for byte.
  const raw = hook.getOptional('secret');
  if (raw === undefined || raw === '') {
    throw fail(
      '"eventHook.secret" is required: the value Okta sends in the hook\'s authentication header (use an environment variable)',
    );
  }
  if (typeof raw !== 'string') {
    throw fail('"eventHook.secret" must be a string');
  }
  if (raw.length < MIN_SECRET_LENGTH) {
    throw fail(
      `"eventHook.secret" must be at least ${MIN_SECRET_LENGTH} characters; generate a random one, e.g. with "openssl rand -base64 32"`,
    );
  }
  return { secretHeader, secret: raw };
}

function readSystemLog(
  config: Config,
  fail: Fail,
): OktaSystemLogConfig | undefined {
  const log = typed('systemLog', fail, () =>
    config.getOptionalConfig('systemLog'),
  );
  if (!log) return undefined;
  rejectUnknown(log, SYSTEM_LOG_KEYS, 'systemLog', fail);
  if (!readEnabled(log, 'systemLog', fail)) return undefined;
  let pollIntervalMs = DEFAULT_POLL_INTERVAL_MS;
  if (log.has('pollInterval')) {
    pollIntervalMs = typed('systemLog.pollInterval', fail, () =>
      Duration.fromObject(
        readDurationFromConfig(log, { key: 'pollInterval' }),
      ).as('milliseconds'),
    );
    if (
      !Number.isFinite(pollIntervalMs) ||
      pollIntervalMs < MIN_POLL_INTERVAL_MS
    ) {
      throw fail(
        `"systemLog.pollInterval" must be at least ${MIN_POLL_INTERVAL_MS / 1000} seconds (Okta's System Log allows 120 requests a minute per org, half of them per app)`,
      );
    }
  }
  return { pollIntervalMs };
}

/**
 * Reads `eventHook` and `systemLog` of one provider's config.
 *
 * @param fail - makes the error to throw, naming the provider.
 */
export function readOktaPushUpdatesConfig(
  config: Config,
  fail: Fail,
): OktaPushUpdatesConfig {
  const eventHook = readEventHook(config, fail);
  const systemLog = readSystemLog(config, fail);
  return {
    ...(eventHook && { eventHook }),
    ...(systemLog && { systemLog }),
  };
}
