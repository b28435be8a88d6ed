/*
 * The fake's System Log (GET /api/v1/logs) and event hooks, over real HTTP,
 * with every body the fake serves validated against the vendored spec.
 */
import {
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createServiceAppKeys,
  fakeChangeFeeds,
  FakeOkta,
  FakeOrg,
  startFakeOkta,
} from './index';
import type { FakeEventHookEnvelope } from './eventHooks';
import { apiGet, getAccessToken, nextLink } from './testing/fakeOktaClient';
import { OktaOpenApiValidator } from './testing/openApiValidator';

jest.setTimeout(30_000);

let validator: OktaOpenApiValidator;
beforeAll(() => {
  validator = new OktaOpenApiValidator();
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(
  org = new FakeOrg({ seed: 5 }),
  options: Parameters<typeof startFakeOkta>[0] = {},
): Promise<FakeOkta> {
  const okta = await startFakeOkta({ org, ...options });
  cleanups.push(() => okta.close());
  okta.addApiToken('00ssws');
  return okta;
}

function expectValid(
  path: string,
  method: string,
  res: { status: number; body: unknown },
) {
  const result = validator.validateResponse(
    'management',
    path,
    method,
    res.status,
    res.body,
  );
  expect(result.message).toBe('');
  expect(result.valid).toBe(true);
}

const ssws = { ssws: '00ssws' };

describe('System Log: GET /api/v1/logs', () => {
  it('logs each admin change with Okta event types and targets, ascending, in the LogEvent schema', async () => {
    const org = new FakeOrg({ seed: 5 });
    const okta = await startFake(org);
    const since = new Date(Date.now() - 1000).toISOString();
    const user = org.addUser({
      profile: {
        login: 'ada@example.com',
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'L',
      },
    });
    const team = org.addGroup({ profile: { name: 'Team' } });
    org.addMember(team.id, user.id);
    org.updateUser(user.id, { profile: { lastName: 'Lovelace' } });
    org.renameGroup(team.id, 'Team A');
    org.removeMember(team.id, user.id);
    org.deprovisionUser(user.id);
    org.removeUser(user.id);
    org.removeGroup(team.id);

    const res = await apiGet(
      `${okta.url}/api/v1/logs?since=${encodeURIComponent(since)}`,
      ssws,
    );
    expect(res.status).toBe(200);
    expectValid('/api/v1/logs', 'GET', res);
    const events = res.body as Array<{
      eventType: string;
      published: string;
      uuid: string;
      target: Array<{ id: string; type: string }>;
    }>;
    expect(events.map(e => e.eventType)).toEqual([
      'user.lifecycle.create',
      'user.lifecycle.activate',
      'group.lifecycle.create',
      'group.user_membership.add',
      'user.account.update_profile',
      'group.profile.update',
      'group.user_membership.remove',
      'user.lifecycle.deactivate',
      'user.lifecycle.delete.initiated',
      'group.lifecycle.delete',
    ]);
    // Memberships of the BUILT_IN Everyone group are implicit: not logged.
    expect(
      events.find(e => e.eventType === 'group.user_membership.add')!.target,
    ).toEqual([
      expect.objectContaining({
        id: user.id,
        type: 'User',
        alternateId: 'ada@example.com',
      }),
      expect.objectContaining({
        id: team.id,
        type: 'UserGroup',
        displayName: 'Team',
      }),
    ]);
    expect(new Set(events.map(e => e.uuid)).size).toBe(events.length);
    const published = events.map(e => e.published);
    expect([...published].sort()).toEqual(published);
  });

  it('a polling query always has a next link, even on an empty page; following it serves each event once', async () => {
    const org = new FakeOrg({ seed: 6 });
    const okta = await startFake(org);
    const since = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 5; i++) org.addGroup({ profile: { name: `g${i}` } });

    const seen: string[] = [];
    let url = `${okta.url}/api/v1/logs?since=${encodeURIComponent(since)}&limit=2`;
    const pageSizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await apiGet(url, ssws);
      expectValid('/api/v1/logs', 'GET', res);
      pageSizes.push(res.body.length);
      seen.push(...res.body.map((e: { uuid: string }) => e.uuid));
      const next = nextLink(res.headers);
      expect(next).toBeDefined();
      url = next!;
    }
    // 2 + 2 + 1, then an empty page that still points onwards.
    expect(pageSizes).toEqual([2, 2, 1, 0]);
    expect(seen).toHaveLength(5);

    // New events appear behind the stored cursor, once.
    org.addGroup({ profile: { name: 'late' } });
    const afterChange = await apiGet(url, ssws);
    expect(
      afterChange.body.map(
        (e: { target: Array<{ displayName: string }> }) =>
          e.target[0].displayName,
      ),
    ).toEqual(['late']);
    const again = await apiGet(nextLink(afterChange.headers)!, ssws);
    expect(again.body).toEqual([]);
    expect(nextLink(again.headers)).toBeDefined();
    // The page URL itself is stable: the same cursor gives the same events.
    const repeat = await apiGet(url, ssws);
    expect(repeat.body.map((e: { uuid: string }) => e.uuid)).toEqual(
      afterChange.body.map((e: { uuid: string }) => e.uuid),
    );
  });

  it('bounded queries stop at until without a next link; filter by event type; bad parameters are 400', async () => {
    const org = new FakeOrg({ seed: 7 });
    const okta = await startFake(org);
    const since = new Date(Date.now() - 1000).toISOString();
    const g = org.addGroup({ profile: { name: 'g' } });
    const u = org.addUser({ profile: { login: 'u@example.com' } });
    org.addMember(g.id, u.id);
    const until = new Date(Date.now() + 60_000).toISOString();

    const bounded = await apiGet(
      `${okta.url}/api/v1/logs?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`,
      ssws,
    );
    expect(bounded.body).toHaveLength(4);
    expect(nextLink(bounded.headers)).toBeUndefined();

    const filter =
      'eventType eq "group.user_membership.add" or eventType eq "group.lifecycle.create"';
    const filtered = await apiGet(
      `${okta.url}/api/v1/logs?since=${encodeURIComponent(since)}&filter=${encodeURIComponent(filter)}`,
      ssws,
    );
    expect(
      filtered.body.map((e: { eventType: string }) => e.eventType),
    ).toEqual(['group.lifecycle.create', 'group.user_membership.add']);

    const descending = await apiGet(
      `${okta.url}/api/v1/logs?since=${encodeURIComponent(since)}&sortOrder=DESCENDING&limit=3`,
      ssws,
    );
    expect(
      descending.body.map((e: { eventType: string }) => e.eventType),
    ).toEqual([
      'group.user_membership.add',
      'user.lifecycle.activate',
      'user.lifecycle.create',
    ]);
    const rest = await apiGet(nextLink(descending.headers)!, ssws);
    expect(rest.body.map((e: { eventType: string }) => e.eventType)).toEqual([
      'group.lifecycle.create',
    ]);
    expect(nextLink(rest.headers)).toBeUndefined();

    for (const bad of [
      'since=yesterday',
      `filter=${encodeURIComponent('actor.id eq "x"')}`,
      'limit=-1',
      'after=zzz',
    ]) {
      const res = await apiGet(`${okta.url}/api/v1/logs?${bad}`, ssws);
      expect(res.status).toBe(400);
      expectValid('/api/v1/logs', 'GET', res);
    }
  });

  it('needs okta.logs.read and has its own bucket of 120 a minute, half of it per app', async () => {
    const okta = await startFake(new FakeOrg({ seed: 8 }), {
      rateLimits: { windowSeconds: 60 },
    });
    const keys = await createServiceAppKeys('RS256');
    okta.addServiceApp({
      clientId: 'reader',
      publicJwks: [keys.publicJwk],
      scopes: ['okta.users.read', 'okta.logs.read'],
    });
    const usersOnly = await getAccessToken(okta.url, keys, 'reader', {
      scope: 'okta.users.read',
    });
    const forbidden = await apiGet(`${okta.url}/api/v1/logs`, usersOnly);
    expect(forbidden.status).toBe(403);
    expectValid('/api/v1/logs', 'GET', forbidden);
    expect((await apiGet(`${okta.url}/api/v1/logs`, undefined)).status).toBe(
      401,
    );

    const logs = await getAccessToken(okta.url, keys, 'reader', {
      scope: 'okta.logs.read',
    });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof apiGet>> | undefined;
    for (let i = 0; i < 61; i++) {
      last = await apiGet(`${okta.url}/api/v1/logs`, logs);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 60).every(s => s === 200)).toBe(true);
    expect(statuses[60]).toBe(429);
    expect(last!.headers.get('x-rate-limit-limit')).toBe('60');
    expectValid('/api/v1/logs', 'GET', last!);
    // Other buckets are untouched by the logs bucket.
    expect((await apiGet(`${okta.url}/api/v1/users`, logs)).status).toBe(403);
    expect((await apiGet(`${okta.url}/api/v1/users`, usersOnly)).status).toBe(
      200,
    );
  });
});

/** A hook receiver whose answers a test scripts. */
async function startReceiver(
  answer: (req: IncomingMessage, body: string, res: ServerResponse) => void,
) {
  const received: Array<{
    method: string;
    headers: IncomingMessage['headers'];
    body: string;
  }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', headers: req.headers, body });
      answer(req, body, res);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
  };
}

function echoVerification(req: IncomingMessage, res: ServerResponse): boolean {
  const challenge = req.headers['x-okta-verification-challenge'];
  if (req.method !== 'GET' || typeof challenge !== 'string') return false;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ verification: challenge }));
  return true;
}

async function post(url: string, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      authorization: 'SSWS 00ssws',
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

function hookBody(uri: string, events: string[]) {
  return {
    name: 'Backstage catalog',
    events: { type: 'EVENT_TYPE', items: events },
    channel: {
      type: 'HTTP',
      version: '1.0.0',
      config: {
        uri,
        headers: [{ key: 'X-Extra', value: 'extra' }],
        authScheme: {
          type: 'HEADER',
          key: 'X-Hook-Secret',
          value: 's3cret-value',
        },
      },
    },
  };
}

describe('event hooks', () => {
  it('registers a hook, verifies it with the challenge, then POSTs batches of subscribed events with its headers', async () => {
    const org = new FakeOrg({ seed: 9 });
    const okta = await startFake(org);
    const receiver = await startReceiver((req, _body, res) => {
      if (echoVerification(req, res)) return;
      res.writeHead(200).end();
    });
    const created = await post(
      okta.url,
      '/api/v1/eventHooks',
      hookBody(receiver.url, [
        'group.user_membership.add',
        'group.lifecycle.create',
      ]),
    );
    expect(created.status).toBe(200);
    expectValid('/api/v1/eventHooks', 'POST', created);
    expect(created.body.verificationStatus).toBe('UNVERIFIED');
    // The secret is never returned.
    expect(JSON.stringify(created.body)).not.toContain('s3cret-value');

    // Unverified hooks get nothing.
    org.addGroup({ profile: { name: 'before' } });
    await fakeChangeFeeds(okta).eventHooks.idle();
    expect(receiver.received).toHaveLength(0);

    const verified = await post(
      okta.url,
      `/api/v1/eventHooks/${created.body.id}/lifecycle/verify`,
      undefined,
    );
    expect(verified.status).toBe(200);
    expectValid(
      '/api/v1/eventHooks/{eventHookId}/lifecycle/verify',
      'POST',
      verified,
    );
    expect(verified.body.verificationStatus).toBe('VERIFIED');
    expect(receiver.received[0].headers['x-hook-secret']).toBe('s3cret-value');

    const listed = await apiGet(`${okta.url}/api/v1/eventHooks`, ssws);
    expectValid('/api/v1/eventHooks', 'GET', listed);

    const group = org.addGroup({ profile: { name: 'after' } });
    const users = Array.from({ length: 250 }, (_, i) =>
      org.addUser({ profile: { login: `u${i}@example.com` } }),
    );
    for (const user of users) org.addMember(group.id, user.id);
    await fakeChangeFeeds(okta).eventHooks.idle();

    const posts = receiver.received.filter(r => r.method === 'POST');
    expect(posts.length).toBe(3); // 251 events, 100 a request
    for (const p of posts) {
      expect(p.headers['x-hook-secret']).toBe('s3cret-value');
      expect(p.headers['x-extra']).toBe('extra');
    }
    const envelopes = posts.map(
      p => JSON.parse(p.body) as FakeEventHookEnvelope,
    );
    const events = envelopes.flatMap(e => e.data.events);
    for (const envelope of envelopes) {
      expect(envelope.eventType).toBe('com.okta.event_hook');
      // Each delivered event is a LogEvent.
      expectValid('/api/v1/logs', 'GET', {
        status: 200,
        body: envelope.data.events,
      });
    }
    // Only subscribed types, each once, in order.
    expect(events.map(e => e.eventType)).toEqual([
      'group.lifecycle.create',
      ...users.map(() => 'group.user_membership.add'),
    ]);
    expect(events.slice(1).map(e => e.target[0].id)).toEqual(
      users.map(u => u.id),
    );
  });

  it('a failed verification is 400 and the hook stays unverified', async () => {
    const okta = await startFake();
    const receiver = await startReceiver((_req, _body, res) => {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ verification: 'wrong' }));
    });
    const created = await post(
      okta.url,
      '/api/v1/eventHooks',
      hookBody(receiver.url, ['group.lifecycle.create']),
    );
    const verify = await post(
      okta.url,
      `/api/v1/eventHooks/${created.body.id}/lifecycle/verify`,
      undefined,
    );
    expect(verify.status).toBe(400);
    expectValid(
      '/api/v1/eventHooks/{eventHookId}/lifecycle/verify',
      'POST',
      verify,
    );
    expect(fakeChangeFeeds(okta).eventHooks.get(created.body.id)).toMatchObject(
      { verificationStatus: 'UNVERIFIED' },
    );
  });

  it('retries once after a 5xx or a timeout, never after a 4xx', async () => {
    const org = new FakeOrg({ seed: 10 });
    const okta = await startFake(org);
    const hooks = fakeChangeFeeds(okta).eventHooks;
    hooks.setDeliveryOptions({ timeoutMs: 300, batchWindowMs: 10 });
    const script: Array<'500' | '400' | 'hang' | '200'> = [
      '500',
      '200',
      'hang',
      'hang',
      '400',
    ];
    const receiver = await startReceiver((req, _body, res) => {
      if (echoVerification(req, res)) return;
      const next = script.shift() ?? '200';
      if (next === 'hang') setTimeout(() => res.writeHead(200).end(), 1000);
      else res.writeHead(Number(next)).end();
    });
    const hook = hooks.create({
      name: 'h',
      uri: receiver.url,
      events: ['group.lifecycle.create'],
    });
    await hooks.verify(String(hook.id));

    org.addGroup({ profile: { name: 'a' } });
    await hooks.idle();
    org.addGroup({ profile: { name: 'b' } });
    await hooks.idle();
    org.addGroup({ profile: { name: 'c' } });
    await hooks.idle();

    const outcomes = hooks
      .requests()
      .filter(r => r.kind === 'events')
      .map(r => [r.attempt, r.outcome]);
    expect(outcomes).toEqual([
      [1, 500],
      [2, 200],
      [1, 'timeout'],
      [2, 'timeout'],
      [1, 400],
    ]);
  });

  it('can delay, reorder and redeliver batches (at-least-once)', async () => {
    const org = new FakeOrg({ seed: 11 });
    const okta = await startFake(org);
    const hooks = fakeChangeFeeds(okta).eventHooks;
    hooks.setDeliveryOptions({
      batchWindowMs: 10,
      maxEventsPerRequest: 5,
      reorder: true,
      duplicateRate: 0.5,
      delayMs: 50,
      seed: 3,
    });
    const receiver = await startReceiver((req, _body, res) => {
      if (echoVerification(req, res)) return;
      res.writeHead(204).end();
    });
    const hook = hooks.create({
      name: 'h',
      uri: receiver.url,
      events: ['group.lifecycle.create'],
    });
    await hooks.verify(String(hook.id));
    const started = Date.now();
    const names = Array.from(
      { length: 40 },
      (_, i) => `g${String(i).padStart(2, '0')}`,
    );
    for (const name of names) org.addGroup({ profile: { name } });
    await hooks.idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);

    const envelopes = receiver.received
      .filter(r => r.method === 'POST')
      .map(r => JSON.parse(r.body) as FakeEventHookEnvelope);
    const delivered = envelopes.flatMap(e =>
      e.data.events.map(ev => ev.target[0].displayName),
    );
    // Every event arrived, some twice, not in the order they happened.
    expect(new Set(delivered)).toEqual(new Set(names));
    expect(delivered.length).toBeGreaterThan(names.length);
    expect(delivered.slice(0, names.length)).not.toEqual(names);
    const redelivered = hooks.requests().filter(r => r.redelivery);
    expect(redelivered.length).toBeGreaterThan(0);
    // A redelivery carries the same envelope id.
    const ids = envelopes.map(e => e.eventId);
    expect(new Set(ids).size).toBeLessThan(ids.length);
  });
});
