import { describe, expect, it } from '@jest/globals';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { readOktaProviderConfigs } from '../okta/config';

const SECRET = 'a-shared-secret-of-some-length';

function read(extra: JsonObject) {
  return readOktaProviderConfigs(
    new ConfigReader({
      catalog: {
        providers: {
          okta: {
            id: 'us',
            oktaUrl: 'https://acme.okta.com',
            token: '00tokenValue',
            ...extra,
          },
        },
      },
    }),
  )[0];
}

function errorOf(extra: JsonObject): string {
  try {
    read(extra);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('push update config (eventHook, systemLog)', () => {
  it('is absent unless configured, and defaults the header and poll interval', () => {
    const plain = read({});
    expect(plain.eventHook).toBeUndefined();
    expect(plain.systemLog).toBeUndefined();
    const both = read({ eventHook: { secret: SECRET }, systemLog: {} });
    expect(both.eventHook).toEqual({
      secretHeader: 'Authorization',
      secret: SECRET,
    });
    expect(both.systemLog).toEqual({ pollIntervalMs: 10_000 });
  });

  it('reads the header name, the secret verbatim, enabled and the poll interval', () => {
    const config = read({
      eventHook: {
        enabled: true,
        secretHeader: 'X-Okta-Hook-Secret',
        secret: ` ${SECRET} `,
      },
      systemLog: { pollInterval: { seconds: 5 } },
    });
    expect(config.eventHook).toEqual({
      secretHeader: 'X-Okta-Hook-Secret',
      secret: ` ${SECRET} `,
    });
    expect(config.systemLog).toEqual({ pollIntervalMs: 5000 });
    const off = read({
      eventHook: { enabled: false },
      systemLog: { enabled: false, pollInterval: '30s' },
    });
    expect(off.eventHook).toBeUndefined();
    expect(off.systemLog).toBeUndefined();
  });

  it.each([
    [{ eventHook: {} }, /\(id "us"\): "eventHook.secret" is required/],
    [
      { eventHook: { secret: 'short' } },
      /"eventHook.secret" must be at least 16 characters/,
    ],
    [{ eventHook: { secret: 42 } }, /"eventHook.secret" must be a string/],
    [
      { eventHook: { secret: SECRET, secretHeader: 'Bad Header' } },
      /"eventHook.secretHeader" must be an HTTP header name/,
    ],
    [
      {
        eventHook: {
          secret: SECRET,
          secretHeader: 'X-Okta-Verification-Challenge',
        },
      },
      /"eventHook.secretHeader" cannot be/,
    ],
    [
      { eventHook: { secret: SECRET, header: 'X' } },
      /unknown key "eventHook.header"/,
    ],
    [
      { eventHook: { secret: SECRET, enabled: 'maybe' } },
      /"eventHook.enabled" is invalid/,
    ],
    [{ eventHook: true }, /"eventHook" is invalid/],
    [
      { systemLog: { pollInterval: { seconds: 1 } } },
      /"systemLog.pollInterval" must be at least 2 seconds/,
    ],
    [
      { systemLog: { pollInterval: 'soon' } },
      /"systemLog.pollInterval" is invalid/,
    ],
    [{ systemLog: { interval: '5s' } }, /unknown key "systemLog.interval"/],
  ])('refuses %j naming the provider and key', (extra, message) => {
    const error = errorOf(extra as JsonObject);
    expect(error).toMatch(/^catalog\.providers\.okta \(id "us"\): /);
    expect(error).toMatch(message);
  });

  it('never puts the secret in a message', () => {
    const secret = 'shh-0123456789';
    expect(errorOf({ eventHook: { secret } })).not.toContain(secret);
    expect(
      errorOf({
        eventHook: {
          secret: `${SECRET}`,
          secretHeader: 'Bad Header',
          other: 1,
        },
      }),
    ).not.toContain(SECRET);
  });
});
