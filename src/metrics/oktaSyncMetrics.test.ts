/*
 * The module's metrics from a real backend run: the catalog plugin, this
 * module, Backstage's own MetricsService (backend-defaults), and fake Okta
 * orgs over HTTP, read with an in-memory OpenTelemetry metric reader
 * registered as the global meter provider, as an operator's exporter would be.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';

jest.setTimeout(90_000);
// The API package the SDK and backend-defaults share (sdk-metrics' peer).
import { metrics } from '@opentelemetry/api';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  demoOrg,
  FakeOrg,
  startFakeOkta,
  type FakeOkta,
} from '../../dev/fakeOkta';
import {
  addServiceApp,
  catalogApi,
  type FakeServiceAppAccess,
} from '../__testUtils__/oktaCatalogHarness';
import { catalogModuleOktaOrgEntityProvider } from '../module/catalogModuleOktaOrgEntityProvider';
import { OKTA_METRIC_ATTRIBUTES, OKTA_METRICS } from './oktaSyncMetrics';

/** Collects on demand: what a Prometheus scrape or an OTLP push would see. */
class InMemoryReader extends MetricReader {
  protected async onShutdown() {}
  protected async onForceFlush() {}
}

const reader = new InMemoryReader();
const meterProvider = new MeterProvider({ readers: [reader] });
// Before the backend starts: Backstage's metrics service takes its meter
// from the global provider when the plugin's services are created.
metrics.setGlobalMeterProvider(meterProvider);

async function collectMetrics(): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const byName = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      byName.set(metric.descriptor.name, metric);
    }
  }
  return byName;
}

/** The data points of a metric, as attributes plus a number (histograms: count and sum). */
function points(metric: MetricData | undefined) {
  return (metric?.dataPoints ?? []).map(point => ({
    attributes: point.attributes,
    value:
      metric!.dataPointType === DataPointType.HISTOGRAM
        ? (point.value as { count: number; sum?: number })
        : (point.value as number),
  }));
}

const P = OKTA_METRIC_ATTRIBUTES.providerId;
const schedule = { frequency: { minutes: 30 }, timeout: { minutes: 5 } };

describe('metrics through MetricsService from a real backend run against fake Okta orgs', () => {
  let good: FakeOkta;
  let goodApp: FakeServiceAppAccess;
  let deniedApp: FakeServiceAppAccess;
  let emptyApp: FakeServiceAppAccess;
  const fakes: FakeOkta[] = [];
  let backend: Awaited<ReturnType<typeof startTestBackend>>;
  let startedAt: number;
  let collected: Map<string, MetricData>;
  let goodMemberPages: number;

  beforeAll(async () => {
    // One 429 on the first users page: one retry after the (short) window resets.
    good = await startFakeOkta({
      org: demoOrg(),
      rateLimits: { windowSeconds: 2 },
      faults: [{ endpoint: 'users', kind: 'status429', requestNumbers: [1] }],
    });
    const denied = await startFakeOkta({ org: demoOrg() });
    const empty = await startFakeOkta({ org: new FakeOrg() });
    fakes.push(good, denied, empty);
    goodApp = await addServiceApp(good);
    deniedApp = await addServiceApp(denied, { adminRole: false });
    emptyApp = await addServiceApp(empty);
    const provider = (id: string, app: FakeServiceAppAccess) => ({
      id,
      ...app.providerConfig,
      schedule,
      checkSetupOnStart: false,
    });

    startedAt = Date.now() / 1000;
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleOktaOrgEntityProvider,
        metricsServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            catalog: {
              providers: {
                okta: [
                  provider('good', goodApp),
                  provider('denied', deniedApp),
                  provider('empty', emptyApp),
                ],
              },
            },
          },
        }),
      ],
    });
    const catalog = catalogApi(`http://localhost:${backend.server.port()}`);
    await catalog.waitFor(list => list.length === 17);
    // The three runs end independently: wait until each has been recorded.
    const deadline = Date.now() + 30_000;
    for (;;) {
      collected = await collectMetrics();
      const runs = points(collected.get(OKTA_METRICS.syncDuration));
      if (runs.length === 3 || Date.now() > deadline) break;
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    goodMemberPages = good.stats().requests.groupUsers ?? 0;
  });

  afterAll(async () => {
    await backend?.stop();
    for (const fake of fakes) await fake.close();
    await meterProvider.shutdown();
  });

  it('records each sync once, with its duration, the provider id, its outcome and a failure class', () => {
    const runs = points(collected.get(OKTA_METRICS.syncDuration));
    const byProvider = Object.fromEntries(
      runs.map(run => [run.attributes[P], run]),
    );
    expect(Object.keys(byProvider).sort()).toEqual(['denied', 'empty', 'good']);
    expect(byProvider.good.attributes).toEqual({
      [P]: 'good',
      'okta.sync.outcome': 'applied',
    });
    // Okta answered 403 (no admin role): failed, nothing applied.
    expect(byProvider.denied.attributes).toEqual({
      [P]: 'denied',
      'okta.sync.outcome': 'failed',
      'error.type': 'okta_permission',
    });
    // An empty org with no recorded baseline: the deletion guard refuses it.
    expect(byProvider.empty.attributes).toEqual({
      [P]: 'empty',
      'okta.sync.outcome': 'refused',
    });
    for (const run of runs) {
      const value = run.value as { count: number; sum: number };
      expect(value.count).toBe(1);
      expect(value.sum).toBeGreaterThan(0);
      expect(value.sum).toBeLessThan(Date.now() / 1000 - startedAt);
    }
    expect(collected.get(OKTA_METRICS.syncDuration)!.descriptor.unit).toBe('s');
  });

  it('records the entities and memberships of the applied sync only', () => {
    expect(points(collected.get(OKTA_METRICS.syncEntities))).toEqual([
      { attributes: { [P]: 'good', 'catalog.entity.kind': 'User' }, value: 11 },
      { attributes: { [P]: 'good', 'catalog.entity.kind': 'Group' }, value: 6 },
    ]);
    // Memberships among the emitted users and groups, as Okta lists them.
    const selected = new Set(
      good.org
        .users()
        .filter(u => u.status !== 'DEPROVISIONED')
        .map(u => u.id),
    );
    const expected = good.org
      .groups()
      .filter(g => g.type !== 'BUILT_IN')
      .reduce(
        (sum, g) =>
          sum +
          good.org.memberIdsOf(g.id).filter(id => selected.has(id)).length,
        0,
      );
    expect(points(collected.get(OKTA_METRICS.syncMemberships))).toEqual([
      { attributes: { [P]: 'good' }, value: expected },
    ]);
  });

  it('counts Okta requests by endpoint and status class, as many as the fake org received, with the 429 and its retry', () => {
    const requests = points(collected.get(OKTA_METRICS.requests));
    const of = (provider: string) =>
      Object.fromEntries(
        requests
          .filter(r => r.attributes[P] === provider)
          .map(r => [
            `${r.attributes['okta.endpoint']} ${r.attributes['okta.response.status_class']}`,
            r.value,
          ]),
      );
    const goodRequests = of('good');
    expect(goodRequests).toMatchObject({
      'token 2xx': 1,
      'users 4xx': 1,
      'users 2xx': 1,
      'groups 2xx': 1,
    });
    const total = Object.values(goodRequests).reduce(
      (a, b) => (a as number) + (b as number),
      0,
    );
    const served = Object.values(good.stats().requests).reduce(
      (a, b) => a + b,
      0,
    );
    expect(total).toBe(served);
    expect(goodRequests['groupMembers 2xx']).toBe(
      good.stats().requests.groupUsers,
    );

    // The app without an admin role: its token was issued, the listings got 403.
    expect(of('denied')).toMatchObject({ 'token 2xx': 1 });
    expect(Object.keys(of('denied')).some(key => key.endsWith('4xx'))).toBe(
      true,
    );

    expect(
      points(collected.get(OKTA_METRICS.rateLimited)).filter(
        p => (p.value as number) > 0,
      ),
    ).toEqual([
      { attributes: { [P]: 'good', 'okta.endpoint': 'users' }, value: 1 },
    ]);
    const retries = Object.fromEntries(
      points(collected.get(OKTA_METRICS.retries)).map(p => [
        p.attributes[P],
        p.value,
      ]),
    );
    expect(retries).toEqual({ good: 1, denied: 0, empty: 0 });
  });

  it('counts what each run read: a first run is a full read of every group and user', () => {
    const read = 'okta.sync.read';
    const listings = points(collected.get(OKTA_METRICS.memberListings));
    const goodListings = listings.find(p => p.attributes[P] === 'good')!;
    expect(goodListings.attributes).toEqual({ [P]: 'good', [read]: 'full' });
    // One page per listing in the demo org: as many listings as the fake served.
    expect(goodListings.value).toBe(goodMemberPages);
    expect(goodListings.value).toBeGreaterThan(0);
    const users = points(collected.get(OKTA_METRICS.usersRead));
    expect(users.find(p => p.attributes[P] === 'good')).toMatchObject({
      attributes: { [P]: 'good', [read]: 'full' },
      value: 11,
    });
    // The run Okta refused read nothing to count.
    expect(listings.find(p => p.attributes[P] === 'denied')).toBeUndefined();
  });

  it('counts the entities each run built and sent: a first run sends all it built in a full mutation', () => {
    const built = points(collected.get(OKTA_METRICS.entitiesBuilt));
    const sent = points(collected.get(OKTA_METRICS.entitiesSent));
    const goodBuilt = built.find(p => p.attributes[P] === 'good')!;
    expect(goodBuilt.value).toBeGreaterThan(0);
    expect(sent).toEqual([
      {
        attributes: { [P]: 'good', 'okta.sync.mutation': 'full' },
        value: goodBuilt.value,
      },
    ]);
    // The refused run built nothing; the empty org's run built nothing either.
    expect(built.find(p => p.attributes[P] === 'denied')).toBeUndefined();
  });

  it('reports when the last applied sync finished, per provider', () => {
    const last = points(collected.get(OKTA_METRICS.syncLastApplied));
    expect(last.map(p => p.attributes)).toEqual([{ [P]: 'good' }]);
    expect(last[0].value).toBeGreaterThanOrEqual(startedAt);
    expect(last[0].value).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('puts no secret and no config value in any name or attribute', () => {
    const allowed = new Set(Object.values(OKTA_METRIC_ATTRIBUTES));
    const text = JSON.stringify(
      [...collected.values()]
        .filter(metric => metric.descriptor.name.startsWith('catalog.okta.'))
        .map(metric => [
          metric.descriptor,
          metric.dataPoints.map(p => p.attributes),
        ]),
    );
    for (const metric of collected.values()) {
      if (!metric.descriptor.name.startsWith('catalog.okta.')) continue;
      for (const point of metric.dataPoints) {
        for (const key of Object.keys(point.attributes))
          expect(allowed).toContain(key);
      }
    }
    for (const app of [goodApp, deniedApp, emptyApp]) {
      const keyBody = app.keys.privateKeyPem.split('\n')[1];
      expect(text).not.toContain(keyBody);
      expect(text).not.toContain(app.clientId);
    }
    expect(text).not.toContain('127.0.0.1');
  });
});
