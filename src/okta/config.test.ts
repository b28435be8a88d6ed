import { generateKeyPairSync } from 'node:crypto';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { readOktaProviderConfigs } from './config';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PEM = rsa.privateKey
  .export({ format: 'pem', type: 'pkcs8' })
  .toString();
const RSA_PKCS1_PEM = rsa.privateKey
  .export({ format: 'pem', type: 'pkcs1' })
  .toString();
const RSA_JWK = rsa.privateKey.export({ format: 'jwk' });
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'sec1' })
  .toString();
const ED25519_PEM = generateKeyPairSync('ed25519')
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const SECP256K1_PEM = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const PUBLIC_PEM = rsa.publicKey
  .export({ format: 'pem', type: 'spki' })
  .toString();

const TOKEN = '00SECRETtokenValue_abcdefghijklmnopqrstuvwx';

function privateKeyProvider(extra: JsonObject = {}): JsonObject {
  return {
    oktaUrl: 'https://acme.okta.com',
    clientId: '0oa1client',
    keyId: 'kid-1',
    privateKey: RSA_PEM,
    ...extra,
  };
}

function read(okta: unknown) {
  return readOktaProviderConfigs(
    new ConfigReader({ catalog: { providers: { okta } } } as JsonObject),
  );
}

function readOne(provider: JsonObject) {
  const [config] = read(provider);
  return config;
}

function errorOf(okta: unknown): string {
  try {
    read(okta);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('readOktaProviderConfigs', () => {
  describe('shape', () => {
    it('returns nothing when catalog.providers.okta is absent', () => {
      expect(readOktaProviderConfigs(new ConfigReader({}))).toEqual([]);
      expect(
        readOktaProviderConfigs(
          new ConfigReader({ catalog: { providers: {} } }),
        ),
      ).toEqual([]);
    });

    it('reads one provider object with every default', () => {
      expect(readOne(privateKeyProvider())).toEqual({
        id: 'default',
        orgUrl: 'https://acme.okta.com',
        auth: {
          kind: 'privateKey',
          clientId: '0oa1client',
          keyId: 'kid-1',
          privateKey: RSA_PEM.trim(),
        },
        schedule: { frequency: { minutes: 30 }, timeout: { minutes: 30 } },
        groupFilter: { kind: 'all' },
        groupType: 'team',
        userNaming: 'emailLocalPart',
        requests: {},
        checkSetupOnStart: true,
        deletionGuard: { maxRemovedShare: 0.25, allowLargeRemovals: false },
      });
    });

    it('reads every key', () => {
      const config = readOne(
        privateKeyProvider({
          id: 'emea',
          oktaUrl: 'https://acme.okta.com/',
          schedule: {
            frequency: { hours: 1 },
            timeout: 'PT45M',
            initialDelay: { seconds: 15 },
            scope: 'global',
          },
          userSearchFilter: 'status eq "ACTIVE"',
          groupSearchFilter: 'profile.name sw "team-"',
          groupType: 'department',
          userNaming: 'login',
          hierarchy: { parentAttribute: 'parentGroup' },
          allowInsecureHttp: false,
          checkSetupOnStart: false,
          requests: {
            maxConcurrency: 20,
            timeout: { seconds: 10 },
            maxRetries: 3,
          },
          deletionGuard: { maxRemovedShare: 0.5, allowLargeRemovals: true },
        }),
      );
      expect(config).toEqual({
        id: 'emea',
        orgUrl: 'https://acme.okta.com',
        auth: expect.objectContaining({ kind: 'privateKey' }),
        schedule: {
          frequency: { hours: 1 },
          timeout: { minutes: 45 },
          initialDelay: { seconds: 15 },
          scope: 'global',
        },
        userSearchFilter: 'status eq "ACTIVE"',
        groupFilter: { kind: 'search', search: 'profile.name sw "team-"' },
        groupType: 'department',
        userNaming: 'login',
        parentGroupAttribute: 'parentGroup',
        requests: {
          maxConcurrency: 20,
          requestTimeoutMs: 10000,
          maxRetries: 3,
        },
        checkSetupOnStart: false,
        deletionGuard: { maxRemovedShare: 0.5, allowLargeRemovals: true },
      });
    });

    it('reads a list of providers, each with its id', () => {
      const configs = read([
        privateKeyProvider({ id: 'us' }),
        { id: 'emea', oktaUrl: 'https://emea.okta.com', token: TOKEN },
      ]);
      expect(configs.map(c => [c.id, c.orgUrl, c.auth.kind])).toEqual([
        ['us', 'https://acme.okta.com', 'privateKey'],
        ['emea', 'https://emea.okta.com', 'apiToken'],
      ]);
    });

    it('requires an id on each provider of a list', () => {
      expect(
        errorOf([privateKeyProvider({ id: 'us' }), privateKeyProvider()]),
      ).toBe(
        'catalog.providers.okta[1]: "id" is required for each provider when "catalog.providers.okta" is a list',
      );
    });

    it('rejects duplicate ids, ignoring case', () => {
      expect(
        errorOf([
          privateKeyProvider({ id: 'emea' }),
          privateKeyProvider({ id: 'us' }),
          privateKeyProvider({ id: 'EMEA' }),
        ]),
      ).toBe(
        'catalog.providers.okta[2] (id "EMEA"): "id" must be unique; catalog.providers.okta[0] has the same id',
      );
    });

    it.each([
      ['has space'],
      ['a:b'],
      ['-lead'],
      ['trail_'],
      ['x'.repeat(64)],
      ['ü'],
    ])('rejects the id %j', id => {
      expect(errorOf(privateKeyProvider({ id }))).toMatch(
        /^catalog\.providers\.okta: "id" must be 1 to 63 letters, digits, "-" or "_"/,
      );
    });

    it('accepts ids made of letters, digits, - and _', () => {
      expect(readOne(privateKeyProvider({ id: 'Okta_EU-2' })).id).toBe(
        'Okta_EU-2',
      );
    });

    it('rejects unknown keys, suggesting the key that was meant', () => {
      expect(errorOf(privateKeyProvider({ groups: ['a'] }))).toMatch(
        /^catalog\.providers\.okta \(id "default"\): unknown key "groups"; did you mean "groupNames"\?/,
      );
      expect(
        errorOf(privateKeyProvider({ requests: { concurrency: 3 } })),
      ).toMatch(
        /: unknown key "requests\.concurrency" \(known keys: requests\.maxConcurrency/,
      );
      expect(
        errorOf(privateKeyProvider({ hierarchy: { parent: 'x' } })),
      ).toMatch(/unknown key "hierarchy\.parent"/);
    });

    it('names the provider by index and id in list errors', () => {
      expect(
        errorOf([
          privateKeyProvider({ id: 'us' }),
          privateKeyProvider({
            id: 'emea',
            groupNames: ['a'],
            groupSearchFilter: 'x',
          }),
        ]),
      ).toBe(
        'catalog.providers.okta[1] (id "emea"): "groupNames" and "groupSearchFilter" cannot both be set; use one way of choosing groups',
      );
    });

    it('rewords type errors of the config reader under the provider', () => {
      expect(errorOf(privateKeyProvider({ groupType: 5 }))).toMatch(
        /^catalog\.providers\.okta \(id "default"\): "groupType" is invalid: .*wanted string/,
      );
    });
  });

  describe('oktaUrl', () => {
    it('is required', () => {
      const { oktaUrl: _omitted, ...rest } = privateKeyProvider();
      expect(errorOf(rest)).toBe(
        'catalog.providers.okta (id "default"): "oktaUrl" is required (the URL of your Okta org, e.g. https://example.okta.com)',
      );
    });

    it.each([
      ['https://ACME.okta.com', 'https://acme.okta.com'],
      ['https://acme.okta.com/', 'https://acme.okta.com'],
      ['https://acme.okta.com:8443', 'https://acme.okta.com:8443'],
      ['  https://acme.oktapreview.com  ', 'https://acme.oktapreview.com'],
      // The Admin Console host: Okta's links and tokens are on the org host.
      ['https://acme-admin.okta.com', 'https://acme.okta.com'],
    ])('normalises %j to %j', (oktaUrl, orgUrl) => {
      expect(readOne(privateKeyProvider({ oktaUrl })).orgUrl).toBe(orgUrl);
    });

    it('must be a URL', () => {
      expect(errorOf(privateKeyProvider({ oktaUrl: 'acme.okta.com' }))).toMatch(
        /"oktaUrl" is not a URL/,
      );
    });

    it('must be https unless allowInsecureHttp is true', () => {
      expect(
        errorOf(privateKeyProvider({ oktaUrl: 'http://localhost:8080' })),
      ).toBe(
        'catalog.providers.okta (id "default"): "oktaUrl" must use https; set "allowInsecureHttp: true" only for a local test server',
      );
      expect(
        readOne(
          privateKeyProvider({
            oktaUrl: 'http://localhost:8080/',
            allowInsecureHttp: true,
          }),
        ).orgUrl,
      ).toBe('http://localhost:8080');
    });

    it('must be http(s) even with allowInsecureHttp', () => {
      expect(
        errorOf(
          privateKeyProvider({
            oktaUrl: 'ftp://acme.okta.com',
            allowInsecureHttp: true,
          }),
        ),
      ).toMatch(/"oktaUrl" must be an https URL, got the scheme "ftp:"/);
    });

    it.each([
      ['https://acme.okta.com/oauth2/default'],
      ['https://acme.okta.com/?x=1'],
      ['https://acme.okta.com/#top'],
    ])('rejects a path, query or fragment: %j', oktaUrl => {
      expect(errorOf(privateKeyProvider({ oktaUrl }))).toMatch(
        /"oktaUrl" must be the org URL only, without a path, query or fragment/,
      );
    });

    it('rejects credentials in the URL without echoing them', () => {
      const message = errorOf(
        privateKeyProvider({ oktaUrl: 'https://admin:hunter2@acme.okta.com' }),
      );
      expect(message).toMatch(/"oktaUrl" must not contain credentials/);
      expect(message).not.toContain('hunter2');
    });

    it('rejects a non-boolean allowInsecureHttp', () => {
      expect(
        errorOf(privateKeyProvider({ allowInsecureHttp: 'yes please' })),
      ).toMatch(/"allowInsecureHttp" is invalid/);
    });
  });

  describe('credentials', () => {
    it('reads an API token', () => {
      expect(
        readOne({ oktaUrl: 'https://acme.okta.com', token: ` ${TOKEN}\n` })
          .auth,
      ).toEqual({ kind: 'apiToken', token: TOKEN });
    });

    it.each([
      ['PKCS#8 RSA PEM', RSA_PEM],
      ['PKCS#1 RSA PEM', RSA_PKCS1_PEM],
      ['SEC1 EC PEM', EC_PEM],
    ])('accepts a %s', (_label, privateKey) => {
      expect(readOne(privateKeyProvider({ privateKey })).auth).toEqual({
        kind: 'privateKey',
        clientId: '0oa1client',
        keyId: 'kid-1',
        privateKey: privateKey.trim(),
      });
    });

    it('accepts a PEM whose newlines arrived escaped (from an environment variable)', () => {
      const escaped = RSA_PEM.trim().replace(/\n/g, '\\n');
      const auth = readOne(privateKeyProvider({ privateKey: escaped })).auth;
      expect(auth).toMatchObject({ privateKey: RSA_PEM.trim() });
    });

    it('accepts a JWK string and takes keyId from its kid', () => {
      const privateKey = JSON.stringify({ ...RSA_JWK, kid: 'jwk-kid' });
      const { keyId: _omitted, ...rest } = privateKeyProvider({ privateKey });
      expect(readOne(rest).auth).toEqual({
        kind: 'privateKey',
        clientId: '0oa1client',
        keyId: 'jwk-kid',
        privateKey,
      });
    });

    it('rejects a keyId that differs from the JWK kid', () => {
      const privateKey = JSON.stringify({ ...RSA_JWK, kid: 'jwk-kid' });
      expect(errorOf(privateKeyProvider({ privateKey }))).toMatch(
        /"keyId" is "kid-1" but the JWK in "privateKey" has kid "jwk-kid"/,
      );
    });

    it('rejects both privateKey and token', () => {
      const message = errorOf(privateKeyProvider({ token: TOKEN }));
      expect(message).toMatch(
        /^catalog\.providers\.okta \(id "default"\): "privateKey" and "token" cannot both be set/,
      );
      expect(message).not.toContain(TOKEN);
      expect(message).not.toContain('PRIVATE KEY');
    });

    it('rejects neither privateKey nor token', () => {
      expect(errorOf({ oktaUrl: 'https://acme.okta.com' })).toMatch(
        /^catalog\.providers\.okta \(id "default"\): no credentials: set "clientId", "keyId" and "privateKey"/,
      );
    });

    it('rejects clientId or keyId alongside a token', () => {
      expect(
        errorOf({
          oktaUrl: 'https://acme.okta.com',
          token: TOKEN,
          clientId: 'x',
        }),
      ).toMatch(/"clientId" only apply with "privateKey", not with "token"/);
      expect(
        errorOf({
          oktaUrl: 'https://acme.okta.com',
          token: TOKEN,
          clientId: 'x',
          keyId: 'y',
        }),
      ).toMatch(/"clientId" and "keyId" only apply with "privateKey"/);
    });

    it('requires clientId with privateKey', () => {
      const { clientId: _omitted, ...rest } = privateKeyProvider();
      expect(errorOf(rest)).toMatch(/"clientId" is required with "privateKey"/);
    });

    it('requires keyId with a PEM privateKey', () => {
      const { keyId: _omitted, ...rest } = privateKeyProvider();
      expect(errorOf(rest)).toMatch(/"keyId" is required with "privateKey"/);
    });

    it('rejects an empty token', () => {
      expect(
        errorOf({ oktaUrl: 'https://acme.okta.com', token: '  ' }),
      ).toMatch(/"token" must not be empty/);
    });

    it('rejects a token of the wrong type without echoing it', () => {
      const message = errorOf({
        oktaUrl: 'https://acme.okta.com',
        token: 123456789,
      });
      expect(message).toMatch(/"token" is invalid/);
      expect(message).not.toContain('123456789');
    });

    describe('a private key that does not parse', () => {
      const body = RSA_PEM.split('\n').slice(1, -2).join('\n');
      const broken = [
        [
          'a PEM with a damaged body',
          RSA_PEM.replace(body.slice(40, 120), 'A'.repeat(80)),
        ],
        ['a PEM cut short', RSA_PEM.slice(0, 400)],
        ['a public key', PUBLIC_PEM],
        ['an Ed25519 key', ED25519_PEM],
        [
          'an EC key on a curve Okta does not accept (secp256k1)',
          SECP256K1_PEM,
        ],
        ['bare base64 without PEM armour', body],
        ['a JWK that is not JSON', `{"kty":"RSA","d":"${RSA_JWK.d}",`],
        ['a JWK without d', JSON.stringify({ ...RSA_JWK, d: undefined })],
        ['a JWK with a damaged d', JSON.stringify({ ...RSA_JWK, kty: 'XYZ' })],
        ['a JSON array', `["${RSA_JWK.d}"]`],
      ];

      it.each(broken)('rejects %s', (_label, privateKey) => {
        expect(errorOf(privateKeyProvider({ privateKey }))).toMatch(
          /^catalog\.providers\.okta \(id "default"\): "privateKey" /,
        );
      });

      it('names the curve of an EC key the client could not sign with, at start-up', () => {
        expect(errorOf(privateKeyProvider({ privateKey: SECP256K1_PEM }))).toBe(
          'catalog.providers.okta (id "default"): "privateKey" is an EC key on curve secp256k1, which Okta does not accept; use P-256, P-384 or P-521 (or an RSA key)',
        );
      });

      it.each(broken)(
        'never echoes key material for %s',
        (_label, privateKey) => {
          const message = errorOf(privateKeyProvider({ privateKey }));
          // No 12-character run of the key (PEM body or JWK private exponent)
          // appears in the message.
          const material = privateKey.replace(/-----[A-Z ]+-----/g, '');
          const pieces: string[] = [];
          for (let i = 0; i + 12 <= material.length; i += 6) {
            pieces.push(material.slice(i, i + 12));
          }
          const keyPieces = pieces.filter(piece =>
            /^[A-Za-z0-9+/=_-]{12}$/.test(piece),
          );
          expect(keyPieces.length).toBeGreaterThan(0);
          expect(keyPieces.filter(piece => message.includes(piece))).toEqual(
            [],
          );
          expect(message).not.toContain(RSA_JWK.d!.slice(0, 12));
        },
      );
    });
  });

  describe('schedule', () => {
    it('defaults to every 30 minutes with a 30 minute timeout and no initial delay', () => {
      expect(readOne(privateKeyProvider()).schedule).toEqual({
        frequency: { minutes: 30 },
        timeout: { minutes: 30 },
      });
    });

    it('fills in the half of the schedule that is missing', () => {
      expect(
        readOne(privateKeyProvider({ schedule: { frequency: { hours: 2 } } }))
          .schedule,
      ).toEqual({ frequency: { hours: 2 }, timeout: { minutes: 30 } });
      expect(
        readOne(privateKeyProvider({ schedule: { timeout: '10m' } })).schedule,
      ).toEqual({ frequency: { minutes: 30 }, timeout: { minutes: 10 } });
    });

    it('reads a cron frequency', () => {
      expect(
        readOne(
          privateKeyProvider({
            schedule: { frequency: { cron: '0 * * * *' } },
          }),
        ).schedule.frequency,
      ).toEqual({ cron: '0 * * * *' });
    });

    it('rejects an invalid schedule, naming the key', () => {
      expect(
        errorOf(privateKeyProvider({ schedule: { frequency: 'sometimes' } })),
      ).toMatch(
        /^catalog\.providers\.okta \(id "default"\): "schedule" is invalid: /,
      );
      expect(
        errorOf(
          privateKeyProvider({
            schedule: { frequency: { minutes: 5 }, scope: 'everywhere' },
          }),
        ),
      ).toMatch(/"schedule" is invalid: .*"global" or "local"/);
    });
  });

  describe('users and groups', () => {
    it('reads userSearchFilter and rejects an empty one', () => {
      expect(
        readOne(privateKeyProvider({ userSearchFilter: 'status eq "ACTIVE"' }))
          .userSearchFilter,
      ).toBe('status eq "ACTIVE"');
      expect(errorOf(privateKeyProvider({ userSearchFilter: '' }))).toMatch(
        /"userSearchFilter" must not be empty/,
      );
    });

    it('reads groupNames, keeping names as written and dropping repeats', () => {
      expect(
        readOne(
          privateKeyProvider({
            groupNames: ['Engineering', ' Sales ', 'Engineering'],
          }),
        ).groupFilter,
      ).toEqual({ kind: 'names', names: ['Engineering', ' Sales '] });
    });

    it('rejects an empty groupNames list and empty entries', () => {
      expect(errorOf(privateKeyProvider({ groupNames: [] }))).toMatch(
        /"groupNames" is empty; list at least one Okta group name/,
      );
      expect(errorOf(privateKeyProvider({ groupNames: ['a', '  '] }))).toMatch(
        /"groupNames\[1\]" is empty/,
      );
    });

    it('reads groupSearchFilter and rejects an empty one', () => {
      expect(
        readOne(
          privateKeyProvider({ groupSearchFilter: 'type eq "OKTA_GROUP"' }),
        ).groupFilter,
      ).toEqual({ kind: 'search', search: 'type eq "OKTA_GROUP"' });
      expect(errorOf(privateKeyProvider({ groupSearchFilter: ' ' }))).toMatch(
        /"groupSearchFilter" must not be empty/,
      );
    });

    it('rejects groupNames together with groupSearchFilter', () => {
      expect(
        errorOf(
          privateKeyProvider({ groupNames: ['a'], groupSearchFilter: 'x' }),
        ),
      ).toBe(
        'catalog.providers.okta (id "default"): "groupNames" and "groupSearchFilter" cannot both be set; use one way of choosing groups',
      );
    });

    it('reads groupType and rejects an empty one', () => {
      expect(
        readOne(privateKeyProvider({ groupType: 'org-unit' })).groupType,
      ).toBe('org-unit');
      expect(errorOf(privateKeyProvider({ groupType: '' }))).toMatch(
        /"groupType" must not be empty/,
      );
    });

    it.each([['emailLocalPart'], ['email'], ['login']])(
      'reads userNaming %j',
      userNaming => {
        expect(readOne(privateKeyProvider({ userNaming })).userNaming).toBe(
          userNaming,
        );
      },
    );

    it('rejects an unknown userNaming', () => {
      expect(errorOf(privateKeyProvider({ userNaming: 'upn' }))).toBe(
        'catalog.providers.okta (id "default"): "userNaming" must be one of "emailLocalPart", "email", "login", got "upn"',
      );
    });

    it('reads hierarchy.parentAttribute, accepting a profile. prefix', () => {
      expect(
        readOne(
          privateKeyProvider({
            hierarchy: { parentAttribute: 'profile.parent_group' },
          }),
        ).parentGroupAttribute,
      ).toBe('parent_group');
    });

    it('rejects a hierarchy without parentAttribute, or with a malformed one', () => {
      expect(errorOf(privateKeyProvider({ hierarchy: {} }))).toMatch(
        /"hierarchy\.parentAttribute" is required when "hierarchy" is set/,
      );
      expect(
        errorOf(
          privateKeyProvider({
            hierarchy: { parentAttribute: 'parent group' },
          }),
        ),
      ).toMatch(
        /"hierarchy\.parentAttribute" must be the name of a group profile attribute/,
      );
      expect(
        errorOf(privateKeyProvider({ hierarchy: { parentAttribute: '' } })),
      ).toMatch(/"hierarchy\.parentAttribute" must not be empty/);
    });
  });

  describe('requests', () => {
    it('reads a string duration for the timeout', () => {
      expect(
        readOne(privateKeyProvider({ requests: { timeout: '1m' } })).requests,
      ).toEqual({ requestTimeoutMs: 60000 });
    });

    it.each([
      [
        { maxConcurrency: 0 },
        /"requests\.maxConcurrency" must be a whole number from 1 to 75 .*got 0/,
      ],
      [
        { maxConcurrency: 76 },
        /"requests\.maxConcurrency" must be a whole number from 1 to 75/,
      ],
      [
        { maxConcurrency: 2.5 },
        /"requests\.maxConcurrency" must be a whole number/,
      ],
      [
        { maxRetries: -1 },
        /"requests\.maxRetries" must be a whole number from 0 to 20, got -1/,
      ],
      [
        { maxRetries: 21 },
        /"requests\.maxRetries" must be a whole number from 0 to 20/,
      ],
      [{ maxConcurrency: 'many' }, /"requests\.maxConcurrency" is invalid/],
      [{ timeout: 'soon' }, /"requests\.timeout" is invalid/],
      [
        { timeout: { seconds: 0 } },
        /"requests\.timeout" must be a positive duration/,
      ],
    ])('rejects %j', (requests, message) => {
      expect(errorOf(privateKeyProvider({ requests }))).toMatch(message);
    });

    it('accepts the limits', () => {
      expect(
        readOne(
          privateKeyProvider({
            requests: { maxConcurrency: 75, maxRetries: 0 },
          }),
        ).requests,
      ).toEqual({ maxConcurrency: 75, maxRetries: 0 });
      expect(
        readOne(
          privateKeyProvider({
            requests: { maxConcurrency: 1, maxRetries: 20 },
          }),
        ).requests,
      ).toEqual({ maxConcurrency: 1, maxRetries: 20 });
    });
  });
  describe('deletionGuard', () => {
    it('rejects a share outside (0, 1], naming the key', () => {
      for (const maxRemovedShare of [0, -0.1, 1.5, 25]) {
        expect(
          errorOf(privateKeyProvider({ deletionGuard: { maxRemovedShare } })),
        ).toBe(
          `catalog.providers.okta (id "default"): "deletionGuard.maxRemovedShare" must be a number above 0 and at most 1 (a share: 0.25 is a quarter), got ${maxRemovedShare}`,
        );
      }
      expect(
        readOne(privateKeyProvider({ deletionGuard: { maxRemovedShare: 1 } }))
          .deletionGuard,
      ).toEqual({
        maxRemovedShare: 1,
        allowLargeRemovals: false,
      });
    });

    it('rejects unknown keys and wrong types under deletionGuard', () => {
      expect(
        errorOf(privateKeyProvider({ deletionGuard: { allow: true } })),
      ).toMatch(
        /: unknown key "deletionGuard\.allow" \(known keys: deletionGuard\.maxRemovedShare, deletionGuard\.allowLargeRemovals\)/,
      );
      expect(
        errorOf(
          privateKeyProvider({ deletionGuard: { allowLargeRemovals: 5 } }),
        ),
      ).toMatch(
        /^catalog\.providers\.okta \(id "default"\): "deletionGuard\.allowLargeRemovals" is invalid/,
      );
    });
  });
});

describe('fullReadEvery', () => {
  it('is unset by default (the sync then reads everything daily)', () => {
    expect(readOne(privateKeyProvider()).fullReadEveryMs).toBeUndefined();
  });

  it('accepts a Backstage duration or an ISO 8601 string', () => {
    expect(
      readOne(privateKeyProvider({ fullReadEvery: { hours: 6 } }))
        .fullReadEveryMs,
    ).toBe(6 * 3600_000);
    expect(
      readOne(privateKeyProvider({ fullReadEvery: 'P2D' })).fullReadEveryMs,
    ).toBe(2 * 24 * 3600_000);
  });

  it('rejects a duration under a minute or that is not one, naming the key', () => {
    expect(
      errorOf(privateKeyProvider({ fullReadEvery: { seconds: 5 } })),
    ).toMatch(/"fullReadEvery" must be a duration of at least one minute/);
    expect(errorOf(privateKeyProvider({ fullReadEvery: 'often' }))).toMatch(
      /fullReadEvery/,
    );
  });
});
