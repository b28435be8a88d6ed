/*
 * Standalone fake Okta org, for the dev backend and the benchmark.
 *
 * Run with the repo's Node 22 and a TypeScript loader, for example:
 *   cd /path/to/repo && PATH=$PWD/node_modules/.bin:$PATH \
 *     node -r @backstage/cli/config/nodeTransform.cjs dev/fakeOkta/cli.ts \
 *       --port 8123 --org demo --ssws dev-token
 * Options (all optional):
 *   --port N            listen port (default 0: a free port; printed on start)
 *   --host H            listen host (default 127.0.0.1)
 *   --org demo|generated   demo company (default) or a generated org
 *   --users N --groups N --seed N   generated org size and seed (default 1000/100/1)
 *   --ssws TOKEN        register an SSWS API token
 *   --client-id ID --public-jwk FILE [--require-dpop]   register a service app
 *                       with the public JWK(s) in FILE (a JWK or {"keys":[...]}),
 *                       granted okta.users.read and okta.groups.read
 *   --window-seconds N --app-share F --concurrency N   rate limit settings
 *   --limit-users N --limit-groups N --limit-other N --limit-token N
 *                       requests per window per bucket (default: Okta's Workforce numbers)
 *   --avg-groups-per-user F   generated org: mean groups per user, Everyone included
 *   --latency-ms N      fixed latency added to every request
 *   --clock-skew-ms N   the fake's clock (rate windows, Date header) is this
 *                       far ahead of the real one (negative: behind)
 *   --fail-member-pages-from N   answer every group member page of N or more
 *                       users with HTTP 500 (a big page failing under load)
 * It prints one JSON line {"url": ..., "users", "groups", "generatedInMs"} on
 * stdout once listening and runs until SIGINT/SIGTERM. Started with an IPC
 * channel (child_process.fork), it answers the messages {"type": "stats"}
 * (counters without the request log, plus this process's CPU time),
 * {"type": "log"} (the request log), {"type": "resetStats"} and
 * {"type": "change", "share", "seed"} (changes that share of users and
 * groups, see orgChanges.ts) with {"type": ..., "stats"?, "log"?, "changed"?}.
 */
import { changeShareOfOrg } from './orgChanges';
import { listedUserToJson } from './serialize';
import { readFileSync } from 'node:fs';
import { parseFlagArgs } from './cliArgs';
import { demoOrg, generateOrg } from './generateOrg';
import { startFakeOkta } from './server';
import type { FakeJwk, RateLimitBucket } from './types';

/** Starts the fake from command-line arguments; resolves to a stop function. */
export async function main(
  argv: string[] = process.argv.slice(2),
): Promise<() => Promise<void>> {
  const args = parseFlagArgs(argv);
  const num = (name: string, fallback?: number) => {
    const raw = args.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n))
      throw new Error(`--${name} must be a number, got ${raw}`);
    return n;
  };
  const generationStarted = performance.now();
  const org =
    args.get('org') === 'generated'
      ? generateOrg({
          seed: num('seed', 1)!,
          users: num('users', 1000)!,
          groups: num('groups', 100)!,
          averageGroupsPerUser: num('avg-groups-per-user'),
        })
      : demoOrg();
  const generatedInMs = Math.round(performance.now() - generationStarted);
  const latencyMs = num('latency-ms');
  const limits: Partial<Record<RateLimitBucket, number>> = {};
  for (const bucket of [
    'users',
    'groups',
    'groupById',
    'userById',
    'other',
    'token',
  ] as const) {
    const flags: Partial<Record<RateLimitBucket, string>> = {
      groupById: 'group-by-id',
      userById: 'user-by-id',
    };
    const limit = num(`limit-${flags[bucket] ?? bucket}`);
    if (limit !== undefined) limits[bucket] = limit;
  }
  const okta = await startFakeOkta({
    org,
    port: num('port', 0),
    host: args.get('host') ?? '127.0.0.1',
    seed: num('seed', 1),
    rateLimits: {
      windowSeconds: num('window-seconds'),
      appShare: num('app-share'),
      concurrency: num('concurrency'),
      limits,
    },
    latency: latencyMs ? { fixedMs: latencyMs } : undefined,
    clockSkewMs: num('clock-skew-ms'),
    faults:
      num('fail-member-pages-from') !== undefined
        ? [
            {
              endpoint: 'groupUsers',
              kind: 'status5xx',
              rate: 1,
              minPageSize: num('fail-member-pages-from'),
            },
          ]
        : [],
  });
  const ssws = args.get('ssws');
  if (ssws) okta.addApiToken(ssws);
  const clientId = args.get('client-id');
  if (clientId) {
    const file = args.get('public-jwk');
    if (!file) throw new Error('--client-id needs --public-jwk FILE');
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    const keys: FakeJwk[] = Array.isArray(parsed.keys) ? parsed.keys : [parsed];
    okta.addServiceApp({
      clientId,
      publicJwks: keys,
      scopes: ['okta.users.read', 'okta.groups.read'],
      requireDpop: args.get('require-dpop') === 'true',
    });
  }
  if (process.send) {
    process.on('message', (message: { type?: string }) => {
      if (message?.type === 'stats') {
        const { log, ...counters } = okta.stats();
        process.send!({
          type: 'stats',
          stats: { ...counters, cpu: process.cpuUsage() },
        });
      } else if (message?.type === 'log') {
        process.send!({ type: 'log', log: okta.stats().log });
      } else if (message?.type === 'change') {
        const { share, seed } = message as { share?: number; seed?: number };
        const changed = changeShareOfOrg(org, {
          share: share ?? 0.01,
          seed: seed ?? 1,
        });
        process.send!({ type: 'change', changed });
      } else if (message?.type === 'resetStats') {
        okta.resetStats();
        // Between measured runs: collect the fake's own garbage now (when
        // started with --expose-gc, as the bench starts it), so that a
        // collection of its heap, which holds the whole org, does not pause
        // it in the middle of a run. Okta's servers have no such pause.
        (globalThis as { gc?: () => void }).gc?.();
        process.send!({ type: 'resetStats' });
      }
    });
  }
  // Serialize every user once now (at the URL clients use), so that the
  // first listing of a user costs a join, like every later one.
  for (const user of org.users()) listedUserToJson(user, okta.url);
  process.stdout.write(
    `${JSON.stringify({ url: okta.url, users: org.userCount, groups: org.groupCount, generatedInMs })}\n`,
  );
  return () => okta.close();
}

if (require.main === module) {
  main()
    .then(stop => {
      const shutdown = () => {
        stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      // Started by a parent with an IPC channel (the benchmark): go when it goes.
      if (process.send) process.once('disconnect', shutdown);
    })
    .catch(error => {
      process.stderr.write(`${String(error?.stack ?? error)}\n`);
      process.exit(1);
    });
}
