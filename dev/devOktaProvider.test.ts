import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ConfigReader } from '@backstage/config';
import { readOktaProviderConfigs } from '../src/okta/config';
import { realOktaProviderFromEnv, startDemoOkta } from './devOktaProvider';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----';

describe('realOktaProviderFromEnv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dev-okta-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const app = {
    OKTA_ORG_URL: 'https://example.okta.com',
    OKTA_CLIENT_ID: '0oa1',
    OKTA_KEY_ID: 'kid-1',
  };

  it('is undefined without OKTA_* variables (blank ones count as unset)', () => {
    expect(realOktaProviderFromEnv({})).toBeUndefined();
    expect(realOktaProviderFromEnv({ OKTA_ORG_URL: ' ' })).toBeUndefined();
  });

  it('reads an API Services app with an inline key or a key file', () => {
    expect(realOktaProviderFromEnv({ ...app, OKTA_PRIVATE_KEY: PEM })).toEqual({
      id: 'default',
      oktaUrl: 'https://example.okta.com',
      clientId: '0oa1',
      keyId: 'kid-1',
      privateKey: PEM,
    });
    const file = join(dir, 'key.pem');
    writeFileSync(file, `${PEM}\n`);
    expect(
      realOktaProviderFromEnv({ ...app, OKTA_PRIVATE_KEY_FILE: file })
        ?.privateKey,
    ).toBe(PEM);
  });

  it('reads an SSWS token', () => {
    expect(
      realOktaProviderFromEnv({
        OKTA_ORG_URL: 'https://example.okta.com',
        OKTA_API_TOKEN: '00abc',
      }),
    ).toEqual({
      id: 'default',
      oktaUrl: 'https://example.okta.com',
      token: '00abc',
    });
  });

  it('lets a JWK carry its own kid, but not a PEM', () => {
    const jwk = '{"kty":"RSA","kid":"k","d":"x"}';
    const { OKTA_KEY_ID: _, ...withoutKeyId } = app;
    expect(
      realOktaProviderFromEnv({ ...withoutKeyId, OKTA_PRIVATE_KEY: jwk }),
    ).not.toHaveProperty('keyId');
    expect(() =>
      realOktaProviderFromEnv({ ...withoutKeyId, OKTA_PRIVATE_KEY: PEM }),
    ).toThrow(/OKTA_KEY_ID is not set/);
  });

  it('allows http only for a loopback org URL', () => {
    expect(
      realOktaProviderFromEnv({
        ...app,
        OKTA_ORG_URL: 'http://127.0.0.1:8123',
        OKTA_PRIVATE_KEY: PEM,
      })?.allowInsecureHttp,
    ).toBe(true);
    expect(
      realOktaProviderFromEnv({
        ...app,
        OKTA_ORG_URL: 'http://okta.example.com',
        OKTA_PRIVATE_KEY: PEM,
      }),
    ).not.toHaveProperty('allowInsecureHttp');
  });

  it.each([
    [{ OKTA_CLIENT_ID: '0oa1' }, /OKTA_ORG_URL is not set/],
    [{ ...app, OKTA_ORG_URL: 'example.okta.com' }, /OKTA_ORG_URL is not a URL/],
    [{ ...app }, /no private key/],
    [
      { ...app, OKTA_PRIVATE_KEY: PEM, OKTA_PRIVATE_KEY_FILE: '/k' },
      /both set/,
    ],
    [{ ...app, OKTA_PRIVATE_KEY: PEM, OKTA_API_TOKEN: 't' }, /both set/],
    [
      { ...app, OKTA_PRIVATE_KEY_FILE: '/nonexistent/key.pem' },
      /cannot be read \(ENOENT\)/,
    ],
    [
      {
        OKTA_ORG_URL: 'https://example.okta.com',
        OKTA_KEY_ID: 'k',
        OKTA_PRIVATE_KEY: PEM,
      },
      /OKTA_CLIENT_ID is not set/,
    ],
  ])('rejects an incomplete or contradictory set (%#)', (env, message) => {
    expect(() => realOktaProviderFromEnv(env)).toThrow(message);
  });

  it('never puts the key in an error message', () => {
    let message = '';
    try {
      realOktaProviderFromEnv({ OKTA_PRIVATE_KEY: PEM });
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/OKTA_ORG_URL/);
    expect(message).not.toContain('MIIE');
  });
});

describe('startDemoOkta', () => {
  it('serves the demo org and gives a provider config the module accepts', async () => {
    const demo = await startDemoOkta();
    try {
      expect(demo.expected).toEqual({ users: 11, groups: 6 });
      const [provider] = readOktaProviderConfigs(
        new ConfigReader({ catalog: { providers: { okta: [demo.provider] } } }),
      );
      expect(provider).toMatchObject({
        id: 'demo',
        orgUrl: demo.okta.url,
        auth: { kind: 'privateKey', clientId: 'dev-backend' },
        parentGroupAttribute: 'parentGroup',
      });
      const discovery = await fetch(`${demo.okta.url}/api/v1/users`);
      expect(discovery.status).toBe(401); // up, and wants credentials
    } finally {
      await demo.okta.close();
    }
  });
});
