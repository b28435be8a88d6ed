/*
 * read()'s summary against the fake Okta org: what an applied run reports
 * matches what the fake saw, a failed run's summary comes with the error,
 * and neither carries a secret.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(60_000);
import type { JsonObject } from '@backstage/config';
import { demoOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  providersFromConfig,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { RecordingConnection } from '../__testUtils__/recordingConnection';
import { OktaSyncError, type OktaSyncSummary } from '../sync/syncSummary';

const running: FakeOkta[] = [];
afterEach(async () => {
  for (const fake of running.splice(0)) await fake.close();
});

async function fakeOkta() {
  const fake = await startFakeOkta({ org: demoOrg() });
  running.push(fake);
  return fake;
}

describe("read()'s sync summary", () => {
  it('reports an applied run: counts, durations, the guard, and exactly the requests the fake org served', async () => {
    const fake = await fakeOkta();
    const app = await addServiceApp(fake);
    const summaries: OktaSyncSummary[] = [];
    const logger = new RecordingLogger();
    const [provider] = providersFromConfig(
      { id: 'summary', ...app.providerConfig } as JsonObject,
      logger,
      { onSyncSummary: s => summaries.push(s) },
    );
    const connection = new RecordingConnection();
    await provider.connect(connection);
    fake.resetStats();
    const before = Date.now();

    const summary = await provider.read();

    expect(summaries).toEqual([summary]);
    expect(summary).toMatchObject({
      providerId: 'summary',
      outcome: 'applied',
      entities: { users: 11, groups: 6 },
      guard: { decision: 'apply', reasons: [] },
      emptyGroupsSkipped: 0,
      unmatchedGroupNames: [],
    });
    expect(summary.previous).toBeUndefined();
    expect(summary.entities!.memberships).toBe(
      connection
        .lastFullEntities()!
        .reduce(
          (sum, e) =>
            sum +
            (e.kind === 'Group'
              ? ((e.spec as { members?: string[] }).members?.length ?? 0)
              : 0),
          0,
        ),
    );
    expect(Date.parse(summary.startedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(summary.durationSeconds).toBeGreaterThan(0);
    expect(summary.durationSeconds).toBeGreaterThanOrEqual(
      summary.readSeconds! + summary.buildSeconds! + summary.commitSeconds!,
    );

    // The client's counts are the fake's: per endpoint, and all answered 200.
    const served = fake.stats().requests;
    expect(summary.requests.total).toBe(
      Object.values(served).reduce((a, b) => a + b, 0),
    );
    expect(summary.requests.byEndpoint).toEqual({
      token: {
        requests: served.token,
        byStatusClass: { '2xx': served.token },
        rateLimited: 0,
      },
      users: {
        requests: served.users,
        byStatusClass: { '2xx': served.users },
        rateLimited: 0,
      },
      groups: {
        requests: served.groups,
        byStatusClass: { '2xx': served.groups },
        rateLimited: 0,
      },
      groupMembers: {
        requests: served.groupUsers,
        byStatusClass: { '2xx': served.groupUsers },
        rateLimited: 0,
      },
    });
    expect(summary.requests).toMatchObject({
      rateLimited: 0,
      retries: 0,
      tokensFetched: 1,
    });

    // The second run compares with the first, and reuses its token.
    const second = await provider.read();
    expect(second.previous).toEqual({ users: 11, groups: 6 });
    expect(second.requests.tokensFetched).toBe(0);
    expect(second.requests.byEndpoint.token).toBeUndefined();
  });

  it('reports a failed run with its reason class and error, once, and without secrets', async () => {
    const fake = await fakeOkta();
    const app = await addServiceApp(fake);
    const other = await addServiceApp(fake);
    // The app's registered key is no longer the one the provider signs with.
    fake.updateServiceApp(app.clientId, { publicJwks: [other.keys.publicJwk] });
    const summaries: OktaSyncSummary[] = [];
    const [provider] = providersFromConfig(
      {
        id: 'broken',
        ...app.providerConfig,
        requests: { maxRetries: 1 },
      } as JsonObject,
      new RecordingLogger(),
      { onSyncSummary: s => summaries.push(s) },
    );
    const connection = new RecordingConnection();
    await provider.connect(connection);

    const error = (await provider.read().catch(e => e)) as OktaSyncError;
    expect(error).toBeInstanceOf(OktaSyncError);
    expect(error.message).toMatch(
      /^OktaOrgEntityProvider:broken sync failed; the catalog keeps its previous Okta entities: .*invalid_client/,
    );
    expect(error.details).toMatchObject({
      endpoint: 'POST /oauth2/v1/token',
      status: 401,
    });
    expect(summaries).toEqual([error.summary]);
    expect(error.summary).toMatchObject({
      providerId: 'broken',
      outcome: 'failed',
      failureReason: 'okta_auth',
      requests: {
        byEndpoint: { token: { byStatusClass: { '4xx': expect.any(Number) } } },
      },
    });
    expect(error.summary.error).toContain('invalid_client');
    expect(error.summary.entities).toBeUndefined();
    expect(connection.mutations).toEqual([]);
    const text = JSON.stringify(error.summary);
    const keyLines = app.keys.privateKeyPem
      .split('\n')
      .filter(line => line.length >= 16 && !line.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(0);
    for (const line of keyLines) expect(text).not.toContain(line);
  });

  it('never fails a sync for a listener that throws', async () => {
    const fake = await fakeOkta();
    const app = await addServiceApp(fake);
    const logger = new RecordingLogger();
    const [provider] = providersFromConfig(
      { id: 'listener', ...app.providerConfig } as JsonObject,
      logger,
      {
        onSyncSummary: () => {
          throw new Error('exporter down');
        },
      },
    );
    await provider.connect(new RecordingConnection());
    await expect(provider.read()).resolves.toMatchObject({
      outcome: 'applied',
    });
    expect(logger.messages('warn')).toContain(
      'OktaOrgEntityProvider:listener: the sync summary listener failed: exporter down',
    );
  });
});
