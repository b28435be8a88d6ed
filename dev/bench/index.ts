/*
 * Benchmark of the Okta org read path against the fake Okta org.
 *
 *   npm run bench -- [options]
 *   (= node -r @backstage/cli/config/nodeTransform.cjs dev/bench/index.ts, Node 22)
 *
 * Starts the fake Okta org (dev/fakeOkta/cli.ts) in a separate process with a
 * generated org, Okta's Workforce per-minute limits (users 600, groups 500
 * (group member listings count here too), other 1200, token 600) at an app
 * share, a compressed window and a fixed
 * latency; registers a service app with an RS256 key pair made here. Each
 * run is then a fresh process (dev/bench/runRead.ts), so its CPU seconds and
 * peak RSS are the provider's only. Prints a table per scenario and writes
 * .bench/results.json.
 *
 * Scenarios (--scenario a,b,c,d):
 *   a  every user and group (Everyone skipped) of the main org
 *   b  a groupNames filter of 50 groups (users come from member listings)
 *   c  groupSearchFilter matching ~10% of groups plus userSearchFilter
 *      status eq "ACTIVE" (the user directory is listed with search)
 *   d  end to end: OktaOrgEntityProvider.read() into the real catalog backend
 *      (in-memory SQLite), timed until the catalog serves every entity; a
 *      smaller org (--d-users, --d-groups)
 *   e  incremental steady state: after a full read, 1% of users and groups
 *      change; the next run's requests, time and memory (dev/bench/incremental.ts)
 *   f  a full read stopped at half its member pages, then resumed
 *
 * Options (defaults in brackets):
 *   --users N [50000] --groups N [5000]   main org size (scenarios a–c)
 *   --avg-groups-per-user F [10]          mean groups per user, Everyone included
 *   --d-users N [5000] --d-groups N [500] org size of scenario d
 *   --seed N [1]                          org generator seed
 *   --latency-ms N [50]                   latency the fake adds to every request
 *   --window-seconds N [6]                rate-limit window (Okta: 60; compressed
 *                                         so that a default bench takes minutes)
 *   --app-share F [0.5]                   share of each bucket our app may use
 *   --concurrency N [10]                  the client's maxConcurrency (and the
 *                                         member listings in flight)
 *   --okta-concurrency N [75]             the org's concurrent request limit
 *   --okta-clock-skew-ms N [0]            the fake Okta's clock (rate windows, Date
 *                                         header) this far ahead of ours (negative:
 *                                         behind)
 *   --off LIST [none]                     read-path speed mechanisms to switch off,
 *                                         to measure what each buys: server-clock,
 *                                         adaptive-concurrency, first-in-line
 *                                         (scenarios a–c)
 *   --fail-member-pages-from N [off]      the fake answers member pages of N or
 *                                         more with HTTP 500: what the client's
 *                                         page-size fallback costs (requests
 *                                         above the minimum, wall time)
 *   --scenario LIST [a,b,c,d,e,f]         scenarios to run
 *   --runs N [b: 5, others: 1]            runs per scenario (median reported)
 *   --out FILE [.bench/results.json]
 *   --verbose                             the runs' log lines on stderr
 *
 * The lower bound and the minimum request count are explained in bound.ts
 * and printed with every scenario.
 *
 * This file runs the bench; the options are read in options.ts, the fake
 * runs in its own process (fakeProcess.ts), each run in another
 * (runProcess.ts, runRead.ts), scenarios a to d run in readScenario.ts and
 * e and f in incremental.ts, and report.ts prints and shapes the results.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateOrg } from '../fakeOkta/generateOrg';
import type { FakeOrg } from '../fakeOkta/FakeOrg';
import { BUCKET_OF } from './bound';
import { fakeOktaArgs, startFake } from './fakeProcess';
import { runIncrementalScenarios, type IncrementalReport } from './incremental';
import { appLimits, parseOptions } from './options';
import { runReadScenario } from './readScenario';
import {
  BOUND_EXPLANATION,
  printScenario,
  type ScenarioReport,
} from './report';
import { runOnce } from './runProcess';
import { defineScenarios } from './scenarios';

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const limits = appLimits(options);
  const startedAt = new Date().toISOString();
  const benchStarted = performance.now();
  const skew = options.oktaClockSkewMs
    ? `; Okta's clock ${options.oktaClockSkewMs} ms off ours`
    : '';
  const off = options.off.length
    ? `; switched off: ${options.off.join(', ')}`
    : '';
  console.log(
    `Okta read benchmark: latency ${options.latencyMs} ms, window ${options.windowSeconds} s (Okta: 60 s), ` +
      `app share ${options.appShare} → per window users ${limits.users}, groups (with member listings) ${limits.groups}; ` +
      `client concurrency ${options.concurrency}, org concurrency ${options.oktaConcurrency}; runs ${options.runs || 'b: 5, others: 1'}${skew}${off}`,
  );
  console.log(BOUND_EXPLANATION);

  // The key pair of the service app: RS256, with a kid.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
  });
  const keyId = 'bench-key-1';
  const clientId = '0oa-bench-app';
  const privateKeyPem = privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const workDir = mkdtempSync(join(tmpdir(), 'okta-bench-'));
  const jwkFile = join(workDir, 'public-jwk.json');
  writeFileSync(
    jwkFile,
    JSON.stringify({
      ...publicKey.export({ format: 'jwk' }),
      kid: keyId,
      alg: 'RS256',
      use: 'sig',
    }),
  );

  const orgOptions = {
    main: { users: options.users, groups: options.groups },
    small: { users: options.dUsers, groups: options.dGroups },
  };
  const reports: ScenarioReport[] = [];
  const incrementalReports: IncrementalReport[] = [];
  const wanted = new Set(options.scenarios);
  try {
    for (const orgKind of ['main', 'small'] as const) {
      const size = orgOptions[orgKind];
      const ids = (['a', 'b', 'c', 'd'] as const).filter(
        id =>
          wanted.has(id) &&
          (id === 'd' ? orgKind === 'small' : orgKind === 'main'),
      );
      const incrementalIds = (['e', 'f'] as const).filter(
        id => wanted.has(id) && orgKind === 'main',
      );
      if (ids.length === 0 && incrementalIds.length === 0) continue;

      const fakeArgs = fakeOktaArgs(options, size, { clientId, jwkFile });
      const fakeStarting = startFake(fakeArgs);
      fakeStarting.catch(() => undefined);
      // The same org, generated here to know what each scenario selects.
      const generationStarted = performance.now();
      const org: FakeOrg = generateOrg({
        seed: options.seed,
        users: size.users,
        groups: size.groups,
        averageGroupsPerUser: options.avgGroupsPerUser,
      });
      const localGenerationMs = performance.now() - generationStarted;
      const fake = await fakeStarting;
      console.log(
        `\nFake Okta at ${fake.url}: ${fake.userCount} users, ${fake.groupCount} groups, ` +
          `${org.membershipCount()} memberships; generated in ${fake.generatedInMs} ms in the fake's process ` +
          `(${Math.round(localGenerationMs)} ms here), before any run starts`,
      );
      const scenarios = defineScenarios(org).filter(s => ids.includes(s.id));
      let ranOnThisFake = false;
      try {
        for (const scenario of scenarios) {
          const report = await runReadScenario({
            scenario,
            org,
            fake,
            options,
            limits,
            app: { clientId, keyId, privateKeyPem },
            ranOnFake: ranOnThisFake,
          });
          ranOnThisFake = true;
          reports.push(report);
          printScenario(report);
        }
        if (incrementalIds.length > 0) {
          // Last on this fake: they change its org.
          incrementalReports.push(
            ...(await runIncrementalScenarios({
              wanted: new Set(incrementalIds),
              baseRequest: {
                type: 'run',
                orgUrl: fake.url,
                clientId,
                keyId,
                privateKeyPem,
                concurrency: options.concurrency,
                timeoutSeconds: 900,
                verbose: options.verbose,
              },
              runOnce,
              change: (share, seed) => fake.change(share, seed),
              resetStats: () => fake.resetStats(),
              workDir,
              windowSeconds: options.windowSeconds,
              latencySeconds: options.latencyMs / 1000,
              concurrency: Math.min(
                options.concurrency,
                options.oktaConcurrency,
              ),
              limitPerWindow: limits,
            })),
          );
        }
      } finally {
        await fake.stop();
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt,
        benchSeconds: (performance.now() - benchStarted) / 1000,
        node: process.version,
        options,
        limitsPerWindow: limits,
        buckets: BUCKET_OF,
        boundFormula: BOUND_EXPLANATION,
        scenarios: reports,
        incrementalScenarios: incrementalReports,
      },
      null,
      2,
    )}\n`,
  );
  console.log(
    `\nWrote ${out} (bench took ${((performance.now() - benchStarted) / 1000).toFixed(0)} s)`,
  );
}

main().catch(error => {
  console.error(String(error?.stack ?? error));
  process.exit(1);
});
