/*
 * `npm run bench` end to end at a tiny size: the fake Okta process, one run
 * of every scenario, the printed table and the JSON file. Wall ratios are
 * not asserted (they depend on the machine); what must hold whatever the
 * machine is asserted: the minimum request count, no 429s, every figure the
 * README's table is made from.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

describe('npm run bench (tiny org)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'okta-bench-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario with the minimum requests and no 429s, and writes the figures', async () => {
    const out = join(dir, 'results.json');
    const stdout = await new Promise<string>((resolveRun, reject) => {
      execFile(
        process.execPath,
        [
          '-r',
          '@backstage/cli/config/nodeTransform.cjs',
          'dev/bench/index.ts',
          '--users',
          '400',
          '--groups',
          '40',
          '--d-users',
          '200',
          '--d-groups',
          '20',
          '--window-seconds',
          '2',
          '--runs',
          '1',
          '--out',
          out,
        ],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
        (error, output, stderr) =>
          error
            ? reject(new Error(`${error.message}\n${stderr}`))
            : resolveRun(output),
      );
    });
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(stdout).toContain(`| ${id}1 `);
    }

    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.scenarios.map((s: { id: string }) => s.id)).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
    for (const scenario of results.scenarios) {
      expect(scenario.bound.seconds).toBeGreaterThan(0);
      const [run] = scenario.runs;
      expect(run.error).toBeUndefined();
      // Exactly the minimum, as counted by the client and by the fake.
      expect(run.totalRequests).toBe(scenario.minimumTotal);
      expect(run.requestsMatchFake).toBe(true);
      expect(run.rateLimitedClient).toBe(0);
      expect(run.served429).toBe(0);
      expect(run.users).toBeGreaterThan(0);
      expect(run.groups).toBeGreaterThan(0);
      for (const figure of [
        run.wallSeconds,
        run.wallRatio,
        run.cpuSeconds,
        run.peakRssMb,
      ]) {
        expect(figure).toBeGreaterThan(0);
      }
      expect(run.peakRequestsInFlight).toBeGreaterThan(0);
      expect(run.peakRequestsInFlight).toBeLessThanOrEqual(
        results.options.concurrency,
      );
      expect(run.peakPagesHeld).toBeGreaterThan(0);
    }

    // The incremental scenarios: what they measured is what a full read gives.
    expect(
      results.incrementalScenarios.map((s: { id: string }) => s.id),
    ).toEqual(['e', 'f']);
    const [steady, resumed] = results.incrementalScenarios;
    expect(steady.runs.map((r: { kind?: string }) => r.kind)).toEqual([
      'full',
      'incremental',
      undefined,
    ]);
    expect(resumed.runs.map((r: { kind?: string }) => r.kind)).toEqual([
      'stopped',
      'full',
      undefined,
    ]);
    for (const scenario of results.incrementalScenarios) {
      expect(scenario.equalToFullRead).toBe(true);
      expect(scenario.requestShare).toBeGreaterThan(0);
      expect(scenario.requestShare).toBeLessThan(1);
      expect(scenario.bound.seconds).toBeGreaterThan(0);
    }
  }, 300_000);
});
