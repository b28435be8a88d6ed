import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { demoOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  type FakeServiceAppAccess,
} from '../__testUtils__/oktaCatalogHarness';

jest.setTimeout(120_000);

const REPO_DIR = resolve(__dirname, '../..');
const CLI_SOURCE = join(REPO_DIR, 'src/check/cli.ts');
const CLI_BUILT = join(REPO_DIR, 'dist/cli.cjs.js');

let fake: FakeOkta;
let app: FakeServiceAppAccess;
let dir: string;

beforeAll(async () => {
  fake = await startFakeOkta({ org: demoOrg() });
  app = await addServiceApp(fake);
  dir = mkdtempSync(join(tmpdir(), 'okta-check-cli-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes an app-config whose private key comes from the environment. */
function writeConfig(name: string, provider: Record<string, unknown>): string {
  const file = join(dir, name);
  const lines = Object.entries({
    id: 'demo',
    oktaUrl: fake.url,
    allowInsecureHttp: true,
    clientId: app.clientId,
    keyId: app.keys.kid,
    privateKey: '${OKTA_TEST_PRIVATE_KEY}',
    ...provider,
  }).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`);
  writeFileSync(
    file,
    `catalog:\n  providers:\n    okta:\n${lines.join('\n')}\n`,
  );
  return file;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], entry = CLI_SOURCE): Promise<Run> {
  const nodeArgs =
    entry === CLI_SOURCE
      ? [
          '-r',
          require.resolve('@backstage/cli/config/nodeTransform.cjs'),
          entry,
        ]
      : [entry];
  return new Promise(done => {
    execFile(
      process.execPath,
      [...nodeArgs, ...args],
      {
        cwd: dir,
        env: { ...process.env, OKTA_TEST_PRIVATE_KEY: app.keys.privateKeyPem },
        encoding: 'utf8',
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        let code = 0;
        if (error) code = typeof error.code === 'number' ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** No line of the private key (nor the whole key) appears in the output. */
function expectNoSecret(run: Run) {
  const output = run.stdout + run.stderr;
  for (const line of app.keys.privateKeyPem.split('\n')) {
    if (line.length >= 16 && !line.startsWith('-----')) {
      expect(output).not.toContain(line);
    }
  }
}

describe('the check CLI, as a child process against the fake Okta org', () => {
  it('exits 1 and prints the fix for a wrong keyId', async () => {
    const config = writeConfig('wrong-kid.yaml', { keyId: 'wrong-kid' });
    const run = await runCli(['check', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✖ Client authentication');
    expect(run.stdout).toContain(
      'Fix: keyId does not match a public key of the app (Applications → your app → General → Public keys → KID)',
    );
    expect(run.stdout).toContain('FAILED');
    expectNoSecret(run);
  });

  it('exits 0 for a correct config; the dry run prints YAML of the entities', async () => {
    const config = writeConfig('good.yaml', {});
    const run = await runCli([
      'check',
      '--config',
      config,
      '--dry-run',
      '--output',
      'yaml',
    ]);
    expect(run.code).toBe(0);
    const docs = parseAllDocuments(run.stdout).map(d => {
      expect(d.errors).toEqual([]);
      return d.toJS() as Record<string, any>;
    });
    const [report, ...entities] = docs;
    expect(report).toMatchObject({
      provider: 'demo',
      ok: true,
      selection: { users: 11, groups: 6 },
    });
    expect(
      report.steps.every((s: { status: string }) => s.status !== 'failed'),
    ).toBe(true);
    expect(entities).toHaveLength(17);
    expect(entities.filter(e => e.kind === 'User')).toHaveLength(11);
    expect(entities.filter(e => e.kind === 'Group')).toHaveLength(6);
    const alice = entities.find(e => e.metadata.name === 'alice');
    expect(alice?.metadata.annotations['okta.com/email']).toBe(
      'alice@acme.example',
    );
    expect(
      entities.find(e => e.metadata.name === 'platform_team')?.spec.members,
    ).toEqual(expect.arrayContaining(['bob', 'carol']));
    expectNoSecret(run);
  });

  it('limits the dry run to the first N entities in the summary output', async () => {
    const base = writeConfig('base.yaml', {});
    // A second file overrides the first, as with a backend's --config list.
    const extra = join(dir, 'extra.yaml');
    writeFileSync(
      extra,
      'catalog:\n  providers:\n    okta:\n      groupNames: ["Platform Team", "Platfrom Team"]\n',
    );
    const run = await runCli([
      'check',
      '--config',
      base,
      '--config',
      extra,
      '--provider',
      'demo',
      '--dry-run',
      '--limit',
      '2',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✖ groupNames exist in Okta');
    expect(run.stdout).toContain('"Platfrom Team" (closest: "Platform Team")');
    expect(run.stdout).toContain(
      'a sync would emit 3 User and 1 Group entities',
    );
    expect(run.stdout).toContain('The first 2 of 4 entities:');
    const yamlPart = run.stdout.slice(run.stdout.indexOf('---'));
    expect(parseAllDocuments(yamlPart)).toHaveLength(2);
    expectNoSecret(run);
  });

  it('compares the read with --last-applied as the deletion guard would, exiting 1 when it would refuse', async () => {
    const config = writeConfig('narrow.yaml', { groupNames: ['Sales'] });
    const run = await runCli([
      'check',
      '--config',
      config,
      '--last-applied',
      '11,6',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✖ What the deletion guard would say');
    expect(run.stdout).toContain('it would remove 9 of 11 users (82%)');
    expect(run.stdout).toContain('deletionGuard.allowLargeRemovals: true');

    const same = await runCli([
      'check',
      '--config',
      writeConfig('same.yaml', {}),
      '--last-applied=11,6',
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain(
      'Compared with the last applied sync (11 users, 6 groups), the guard would apply this sync.',
    );

    const bad = await runCli([
      'check',
      '--config',
      config,
      '--last-applied',
      'many',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--last-applied must be USERS,GROUPS, e.g. 120,8',
    );
  });

  it('exits 2 on usage and config errors, naming the key and no secret', async () => {
    const unknown = await runCli(['check', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown argument --bogus');

    const bad = writeConfig('bad.yaml', { token: 'ssws-secret-value-123456' });
    const run = await runCli(['check', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"privateKey" and "token" cannot both be set');
    expect(run.stdout + run.stderr).not.toContain('ssws-secret-value-123456');
    expectNoSecret(run);

    const missing = await runCli([
      'check',
      '--config',
      writeConfig('p.yaml', {}),
      '--provider',
      'nope',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'No Okta provider with id "nope"; configured: demo',
    );
  });

  it('runs as the built bin (dist/cli.cjs.js)', async () => {
    // dev/jestGlobalSetup.js builds dist/ before the tests when it is stale.
    expect(existsSync(CLI_BUILT)).toBe(true);
    const config = writeConfig('built.yaml', { keyId: 'wrong-kid' });
    const run = await runCli(['check', '--config', config], CLI_BUILT);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'Fix: keyId does not match a public key of the app',
    );
    expectNoSecret(run);
  });
});
