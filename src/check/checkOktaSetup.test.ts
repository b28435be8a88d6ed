import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigReader, type JsonObject } from '@backstage/config';
import {
  createServiceAppKeys,
  demoOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import { addServiceApp } from '../__testUtils__/oktaCatalogHarness';
import { httpTransport } from '../okta/client/httpTransport';
import { readOktaProviderConfigs } from '../okta/config';
import {
  createProviderClient,
  readProviderEntities,
} from '../okta/providerSync';
import { CapturingLogger } from '../okta/client/oktaClientTestKit';
import type { OktaProviderConfig } from '../okta/types';
import { checkOktaSetup } from './checkOktaSetup';
import type { OktaSetupReport, OktaSetupStep, OktaSetupStepId } from './types';

jest.setTimeout(60_000);

function providerOf(config: JsonObject): OktaProviderConfig {
  return readOktaProviderConfigs(
    new ConfigReader({
      catalog: { providers: { okta: { id: 'checked', ...config } } },
    }),
  )[0];
}

function step(report: OktaSetupReport, id: OktaSetupStepId): OktaSetupStep {
  const found = report.steps.find(s => s.id === id);
  if (!found) throw new Error(`no step ${id}`);
  return found;
}

function statuses(report: OktaSetupReport): Record<string, string> {
  return Object.fromEntries(report.steps.map(s => [s.id, s.status]));
}

/** A server on a free port that answers every request with `handler`. */
async function startServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

let fake: FakeOkta;
beforeAll(async () => {
  fake = await startFakeOkta({ org: demoOrg() });
});
afterAll(async () => {
  await fake.close();
});

/** The check of a service app's config pointed at `url`, and its orgUrl step. */
async function checkOrgUrlOf(url: string) {
  const app = await addServiceApp(fake);
  const report = await checkOktaSetup(
    providerOf({ ...app.providerConfig, oktaUrl: url }),
  );
  return { report, org: step(report, 'orgUrl') };
}

describe('checkOktaSetup against the fake Okta org', () => {
  it('passes every step of a correct config and counts what a sync reads', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(providerOf(app.providerConfig));

    expect(statuses(report)).toEqual({
      orgUrl: 'passed',
      clientAuthentication: 'passed',
      scopes: 'passed',
      readUsers: 'passed',
      readGroups: 'passed',
      userSearchFilter: 'skipped',
      groupSearchFilter: 'skipped',
      groupNames: 'skipped',
      selection: 'passed',
      deletionGuard: 'passed',
    });
    expect(report.ok).toBe(true);
    // demoOrg: 11 users but the deprovisioned one, 6 groups but Everyone.
    expect(report.selection?.users).toHaveLength(11);
    expect(report.selection?.groups).toHaveLength(6);
    const memberships = report.selection!.groups.reduce(
      (sum, g) => sum + (g.spec.members?.length ?? 0),
      0,
    );
    expect(report.selection?.memberships).toBe(memberships);
    expect(step(report, 'selection').detail).toContain(
      `A sync would emit 11 users and 6 groups with ${memberships} memberships`,
    );
    expect(step(report, 'clientAuthentication').detail).toContain(
      'DPoP not required',
    );
    expect(JSON.stringify(report)).not.toContain(
      app.keys.privateKeyPem.split('\n')[1],
    );
  });

  it('sends every step through one client: one token for the probes and the dry run', async () => {
    const app = await addServiceApp(fake);
    fake.resetStats();
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    expect(report.ok).toBe(true);
    expect(step(report, 'selection').status).toBe('passed');
    // A second client would fetch a second token.
    expect(fake.stats().tokensIssued).toBe(1);
    // The org URL step's empty token request, and that one token's.
    expect(fake.stats().requests.token).toBe(2);
  });

  it("checks through a given client, which a sync then goes on using (the provider's own)", async () => {
    const app = await addServiceApp(fake);
    const provider = providerOf(app.providerConfig);
    const logger = new CapturingLogger();
    const client = createProviderClient(provider, logger);
    fake.resetStats();
    const report = await checkOktaSetup(provider, { client });
    expect(report.ok).toBe(true);

    const sum = (counts: Record<string, number>) =>
      Object.values(counts).reduce((a, b) => a + b, 0);
    const { requests, tokensFetched } = client.stats();
    expect(tokensFetched).toBe(1);
    expect(requests.users).toBeGreaterThan(0);
    expect(requests.groups).toBeGreaterThan(0);
    // Every request Okta saw but the org URL step's unauthenticated one
    // came through the given client.
    expect(sum(fake.stats().requests)).toBe(sum(requests) + 1);

    // The sync's read uses the token the check fetched.
    await readProviderEntities(client, provider, { logger });
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('leaves out the full read when asked (the start-up check)', async () => {
    const app = await addServiceApp(fake);
    fake.resetStats();
    const report = await checkOktaSetup(providerOf(app.providerConfig), {
      includeSelection: false,
    });
    expect(report.steps.map(s => s.id)).not.toContain('selection');
    expect(report.ok).toBe(true);
    expect(fake.stats().requests.groupUsers ?? 0).toBe(0);
  });

  it("sends every request through the client's transport, none through global fetch", async () => {
    const app = await addServiceApp(fake);
    const sent: string[] = [];
    const send = httpTransport.send;
    const transport = jest
      .spyOn(httpTransport, 'send')
      .mockImplementation((url, init) => {
        sent.push(
          `${init.method} ${new URL(url).pathname}${init.body === '' ? ' (empty)' : ''}`,
        );
        return send(url, init);
      });
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      const report = await checkOktaSetup(providerOf(app.providerConfig), {
        includeSelection: false,
      });
      expect(report.ok).toBe(true);
    } finally {
      transport.mockRestore();
      fetchSpy.mockRestore();
    }
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(sent[0]).toBe('POST /oauth2/v1/token (empty)');
    expect(sent).toEqual(
      expect.arrayContaining([
        'POST /oauth2/v1/token',
        'GET /api/v1/users',
        'GET /api/v1/groups',
      ]),
    );
  });

  it('says an org URL that redirects is not an Okta org, without following it', async () => {
    let requests = 0;
    const { url, server } = await startServer((_req, res) => {
      requests++;
      res.writeHead(302, {
        Location: 'https://login.example.com/sso?from=okta',
      });
      res.end();
    });
    try {
      const { org } = await checkOrgUrlOf(url);
      expect(org.status).toBe('failed');
      expect(org.detail).toContain(
        'answered HTTP 302, a redirect to https://login.example.com/sso;',
      );
      expect(requests).toBe(1);
    } finally {
      server.close();
    }
  });

  it('names the KID when keyId matches no public key of the app', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({ ...app.providerConfig, keyId: 'not-the-kid' }),
    );
    const auth = step(report, 'clientAuthentication');
    expect(auth.status).toBe('failed');
    expect(auth.detail).toContain('invalid_client');
    expect(auth.detail).toContain('kid is invalid');
    expect(auth.fix).toContain(
      'keyId does not match a public key of the app (Applications → your app → General → Public keys → KID)',
    );
    expect(statuses(report)).toMatchObject({
      orgUrl: 'passed',
      scopes: 'skipped',
      readUsers: 'skipped',
      readGroups: 'skipped',
      selection: 'skipped',
    });
    expect(step(report, 'readUsers').detail).toContain(auth.title);
    expect(report.ok).toBe(false);
  });

  it('names the private key when it is another key pair', async () => {
    const app = await addServiceApp(fake);
    const other = await createServiceAppKeys('RS256');
    const report = await checkOktaSetup(
      providerOf({ ...app.providerConfig, privateKey: other.privateKeyPem }),
    );
    const auth = step(report, 'clientAuthentication');
    expect(auth.status).toBe('failed');
    expect(auth.detail).toContain('signature is invalid');
    expect(auth.fix).toContain(
      'privateKey is not the private half of the public key',
    );
    expect(report.ok).toBe(false);
  });

  it('reports an unknown client id', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({ ...app.providerConfig, clientId: '0oa-no-such-app' }),
    );
    expect(step(report, 'clientAuthentication').fix).toContain(
      'clientId is not the Client ID of an app in this org',
    );
  });

  it('passes with an app that requires DPoP, and says so', async () => {
    const app = await addServiceApp(fake, { requireDpop: true });
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    const auth = step(report, 'clientAuthentication');
    expect(auth.status).toBe('passed');
    expect(auth.detail).toContain('DPoP required: supported');
    expect(report.ok).toBe(true);
    expect(report.selection?.users).toHaveLength(11);
  });

  it.each(['okta.users.read', 'okta.groups.read'])(
    'names the scope %s when it is not granted',
    async missing => {
      const granted = ['okta.users.read', 'okta.groups.read'].filter(
        s => s !== missing,
      );
      const app = await addServiceApp(fake, {
        scopes: granted,
        requireDpop: true,
      });
      const report = await checkOktaSetup(providerOf(app.providerConfig));
      expect(step(report, 'clientAuthentication').status).toBe('passed');
      // The granted scope alone gets a token, so DPoP is known.
      expect(step(report, 'clientAuthentication').detail).toContain(
        'DPoP required: supported',
      );
      const scopes = step(report, 'scopes');
      expect(scopes.status).toBe('failed');
      expect(scopes.detail).toContain('invalid_scope');
      expect(scopes.detail).toContain(`Not granted: ${missing}.`);
      expect(scopes.fix).toContain(
        `grant ${missing} on the Okta API Scopes tab`,
      );
      expect(statuses(report)).toMatchObject({
        readUsers: 'skipped',
        selection: 'skipped',
      });
    },
  );

  it('names both scopes when neither is granted', async () => {
    const app = await addServiceApp(fake, { scopes: ['okta.apps.read'] });
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    expect(step(report, 'scopes').fix).toContain(
      'grant okta.users.read and okta.groups.read on the Okta API Scopes tab',
    );
  });

  it('names the admin role and resource set when the app has no admin role', async () => {
    const app = await addServiceApp(fake, { adminRole: false });
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    const users = step(report, 'readUsers');
    expect(users.status).toBe('failed');
    expect(users.detail).toContain('403 E0000006');
    expect(users.fix).toContain(
      'assign an admin role with User → View users and their details on a resource set containing Users (Security → Administrators → Resources; app → Admin roles)',
    );
    const groups = step(report, 'readGroups');
    expect(groups.status).toBe('failed');
    expect(groups.fix).toContain(
      'Group → View groups and their details on a resource set containing Groups',
    );
    expect(step(report, 'selection').status).toBe('skipped');
  });

  it('lists group names that match no group, with the closest existing names', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        groupNames: [
          'Platform Team',
          'Platfrom Team',
          'engineering',
          'Nonexistent Guild',
        ],
      }),
    );
    const names = step(report, 'groupNames');
    expect(names.status).toBe('failed');
    expect(names.detail).toContain('2 of 4 group name(s) match no Okta group');
    expect(names.detail).toContain(
      '"Platfrom Team" (closest: "Platform Team")',
    );
    expect(names.detail).toContain(
      'Also "engineering" matches "Engineering" only when case is ignored',
    );
    expect(names.detail).toMatch(/"Nonexistent Guild"(;|\.)/);
    expect(names.detail).not.toMatch(/"Platform Team"(;| \()/);
    expect(names.fix).toContain('groupNames');
    // The names that exist still give a selection (Okta matches ignoring case).
    expect(step(report, 'selection').status).toBe('passed');
    expect(report.selection?.groups.map(g => g.metadata.name)).toEqual([
      'engineering',
      'platform_team',
    ]);
  });

  it('passes group names that all exist', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        groupNames: ['Platform Team', 'Sales'],
      }),
    );
    expect(step(report, 'groupNames').status).toBe('passed');
    expect(report.ok).toBe(true);

    const caseOnly = await checkOktaSetup(
      providerOf({ ...app.providerConfig, groupNames: ['platform team'] }),
    );
    expect(step(caseOnly, 'groupNames').status).toBe('warning');
    expect(step(caseOnly, 'groupNames').fix).toContain(
      '"platform team" matches "Platform Team" only when case is ignored',
    );
  });

  it('quotes Okta when it rejects a user search filter', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({ ...app.providerConfig, userSearchFilter: 'status eq' }),
    );
    const filter = step(report, 'userSearchFilter');
    expect(filter.status).toBe('failed');
    expect(filter.detail).toContain('400 E0000031');
    expect(filter.fix).toMatch(
      /^Okta rejected the search expression: Invalid search criteria\. \(.+\)/,
    );
    expect(filter.fix).toContain('userSearchFilter');
    expect(step(report, 'selection').status).toBe('skipped');
  });

  it('quotes Okta when it rejects a group search filter', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        groupSearchFilter: 'profile.name sw',
      }),
    );
    const filter = step(report, 'groupSearchFilter');
    expect(filter.status).toBe('failed');
    expect(filter.fix).toContain(
      'Okta rejected the search expression: Invalid search criteria.',
    );
    expect(filter.fix).toContain('groupSearchFilter');
  });

  it('accepts good filters, and warns when one matches nothing', async () => {
    const app = await addServiceApp(fake);
    const good = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        userSearchFilter: 'status eq "ACTIVE"',
        groupSearchFilter: 'profile.name sw "Platform"',
      }),
    );
    expect(step(good, 'userSearchFilter').status).toBe('passed');
    expect(step(good, 'groupSearchFilter').status).toBe('passed');
    expect(good.ok).toBe(true);

    const empty = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        groupSearchFilter: 'profile.name sw "zzz"',
      }),
    );
    expect(step(empty, 'groupSearchFilter').status).toBe('warning');
    expect(step(empty, 'selection').status).toBe('warning');
    expect(step(empty, 'selection').fix).toContain('selects nothing');
    // With no baseline the guard would refuse the empty result: a warning.
    expect(step(empty, 'deletionGuard').status).toBe('warning');
    expect(step(empty, 'deletionGuard').detail).toContain(
      'the read returned no users and no groups',
    );
    expect(empty.ok).toBe(true);
  });

  it('says an org URL that answers HTML 404 is not an Okta org', async () => {
    const { url, server } = await startServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>Not found</body></html>');
    });
    try {
      const { report, org } = await checkOrgUrlOf(url);
      expect(org.status).toBe('failed');
      expect(org.detail).toContain('HTTP 404 (text/html)');
      expect(org.fix).toContain(
        'not an Okta org URL; use https://<org>.okta.com or your custom domain',
      );
      expect(report.steps.slice(1).every(s => s.status === 'skipped')).toBe(
        true,
      );
    } finally {
      server.close();
    }
  });

  it('says a closed port is not an Okta org', async () => {
    const { url, server } = await startServer(() => {});
    await new Promise(resolve => server.close(resolve));
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(
      providerOf({ ...app.providerConfig, oktaUrl: url }),
    );
    const org = step(report, 'orgUrl');
    expect(org.status).toBe('failed');
    expect(org.detail).toContain('ECONNREFUSED');
    expect(org.fix).toContain('not an Okta org URL');
    expect(report.ok).toBe(false);
  });

  it('checks an SSWS API token instead of client authentication', async () => {
    fake.addApiToken('good-ssws-token-for-the-check');
    const bad = await checkOktaSetup(
      providerOf({
        oktaUrl: fake.url,
        allowInsecureHttp: true,
        token: 'not-a-valid-ssws-token',
      }),
    );
    expect(statuses(bad)).toMatchObject({
      orgUrl: 'passed',
      clientAuthentication: 'skipped',
      scopes: 'skipped',
      apiToken: 'failed',
      readUsers: 'skipped',
      selection: 'skipped',
    });
    expect(step(bad, 'apiToken').detail).toContain('401 E0000011');
    expect(step(bad, 'apiToken').fix).toContain(
      'the API token is invalid or expired',
    );
    expect(JSON.stringify(bad)).not.toContain('not-a-valid-ssws-token');

    const good = await checkOktaSetup(
      providerOf({
        oktaUrl: fake.url,
        allowInsecureHttp: true,
        token: 'good-ssws-token-for-the-check',
      }),
    );
    expect(step(good, 'apiToken').status).toBe('passed');
    expect(good.ok).toBe(true);
    expect(good.selection?.users).toHaveLength(11);
  });

  it('says Okta could not read the header when the token has a space in it (403 E0000005)', async () => {
    const report = await checkOktaSetup(
      providerOf({
        oktaUrl: fake.url,
        allowInsecureHttp: true,
        token: 'two-part ssws-token',
      }),
    );
    const apiToken = step(report, 'apiToken');
    expect(apiToken.status).toBe('failed');
    expect(apiToken.detail).toContain('HTTP 403 E0000005: Invalid session');
    expect(apiToken.fix).toContain(
      'Okta could not read the Authorization header',
    );
    expect(JSON.stringify(report)).not.toContain('ssws-token');
  });

  it("names the token admin's role when an SSWS token cannot read", async () => {
    fake.addApiToken('ssws-token-without-role', { adminRole: false });
    const report = await checkOktaSetup(
      providerOf({
        oktaUrl: fake.url,
        allowInsecureHttp: true,
        token: 'ssws-token-without-role',
      }),
    );
    expect(step(report, 'apiToken').status).toBe('passed');
    expect(step(report, 'readUsers').status).toBe('failed');
    expect(step(report, 'readUsers').fix).toContain(
      'the admin who created the API token',
    );
  });
});

describe('the set-up check reports what the deletion guard would say', () => {
  it('passes a read the guard would apply, and says what a later sync may not remove', async () => {
    const app = await addServiceApp(fake);
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    expect(step(report, 'deletionGuard')).toEqual({
      id: 'deletionGuard',
      title: 'What the deletion guard would say',
      status: 'passed',
      detail:
        'With no record of the last applied sync here (pass --last-applied USERS,GROUPS to compare), the guard would apply this sync. ' +
        'Once applied, a later sync is refused when it keeps fewer than 9 of these 11 users or 5 of these 6 groups (deletionGuard.maxRemovedShare 25%), or none of a kind.',
    });
  });

  it('fails when the read would be refused against the last applied counts, naming the key that allows it', async () => {
    const app = await addServiceApp(fake);
    const provider = providerOf({
      ...app.providerConfig,
      groupNames: ['Sales'],
    });
    const report = await checkOktaSetup(provider, {
      lastApplied: { users: 11, groups: 6 },
    });
    const guard = step(report, 'deletionGuard');
    expect(guard.status).toBe('failed');
    expect(guard.detail).toContain(
      'OktaOrgEntityProvider:checked refused to apply this sync: it would remove 9 of 11 users (82%) and 5 of 6 groups (83%)',
    );
    expect(guard.fix).toContain('deletionGuard.allowLargeRemovals: true');
    expect(report.ok).toBe(false);

    const allowed = await checkOktaSetup(
      providerOf({
        ...app.providerConfig,
        groupNames: ['Sales'],
        deletionGuard: { allowLargeRemovals: true },
      }),
      { lastApplied: { users: 11, groups: 6 } },
    );
    expect(step(allowed, 'deletionGuard').status).toBe('warning');
    expect(step(allowed, 'deletionGuard').fix).toBe(
      'remove deletionGuard.allowLargeRemovals once the large change is applied',
    );
    expect(allowed.ok).toBe(true);
  });

  it('is skipped when the read fails, and left out of the start-up check', async () => {
    const app = await addServiceApp(fake, { adminRole: false });
    const report = await checkOktaSetup(providerOf(app.providerConfig));
    expect(step(report, 'deletionGuard').status).toBe('skipped');
    const startup = await checkOktaSetup(providerOf(app.providerConfig), {
      includeSelection: false,
    });
    expect(startup.steps.map(s => s.id)).not.toContain('deletionGuard');
  });
});
