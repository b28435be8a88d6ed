/*
 * Packs the module as `npm publish` would (prepack and postpack included) and
 * checks what a consumer gets: the file list, the rewritten package.json, a
 * dist entry point that loads as a backend feature, and a config schema that
 * Backstage can load.
 *
 * The Backstage CLI's prepack compiles config.d.ts into config.schema.json
 * and points `configSchema` at it, so the tarball ships the JSON schema, not
 * the .d.ts.
 *
 * The build comes from dev/jestGlobalSetup.js, which builds before the tests
 * when dist/ is missing or older than the sources.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppConfig } from '@backstage/config';
import { loadConfigSchema } from '@backstage/config-loader';

const REPO_DIR = resolve(__dirname, '..');
/** Git-ignored; inside the repo so that the packed code finds node_modules. */
const EXTRACT_ROOT = join(REPO_DIR, '.packaging-test');

interface NpmPackResult {
  filename: string;
  files: Array<{ path: string }>;
}

interface PackedPackageJson {
  name: string;
  main?: string;
  types?: string;
  configSchema?: string;
  files?: string[];
  scripts?: Record<string, string>;
}

/** `npm pack --json` prints the JSON array last; lifecycle output may precede it. */
function parsePackOutput(stdout: string): NpmPackResult {
  const start = stdout.lastIndexOf('\n[');
  const json = start >= 0 ? stdout.slice(start + 1) : stdout;
  const results = JSON.parse(json) as NpmPackResult[];
  expect(results).toHaveLength(1);
  return results[0];
}

describe('the packed package', () => {
  let packDir: string;
  let extractDir: string;
  let pack: NpmPackResult;
  let packageJsonBefore: string;
  let packageJsonAfter: string;
  let packedDir: string;

  beforeAll(() => {
    if (!existsSync(join(REPO_DIR, 'dist', 'index.cjs.js'))) {
      throw new Error(
        'dist/index.cjs.js is missing although dev/jestGlobalSetup.js builds it before the tests',
      );
    }
    packDir = mkdtempSync(join(tmpdir(), 'okta-module-pack-'));
    mkdirSync(EXTRACT_ROOT, { recursive: true });
    extractDir = mkdtempSync(join(EXTRACT_ROOT, 'run-'));

    packageJsonBefore = readFileSync(join(REPO_DIR, 'package.json'), 'utf8');
    const stdout = execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', packDir],
      {
        cwd: REPO_DIR,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          npm_config_fund: 'false',
          npm_config_audit: 'false',
        },
      },
    );
    packageJsonAfter = readFileSync(join(REPO_DIR, 'package.json'), 'utf8');
    pack = parsePackOutput(stdout);

    execFileSync('tar', [
      '-xzf',
      join(packDir, pack.filename),
      '-C',
      extractDir,
    ]);
    packedDir = join(extractDir, 'package');
  }, 120_000);

  afterAll(() => {
    if (packDir) rmSync(packDir, { recursive: true, force: true });
    if (extractDir) rmSync(extractDir, { recursive: true, force: true });
    try {
      rmdirSync(EXTRACT_ROOT); // only when no other run is using it
    } catch {
      // not empty
    }
  });

  it('leaves package.json as it was (prepack/postpack restore it)', () => {
    expect(packageJsonAfter).toBe(packageJsonBefore);
    expect(existsSync(join(REPO_DIR, 'package.json-prepack'))).toBe(false);
    expect(existsSync(join(REPO_DIR, 'config.schema.json'))).toBe(false);
  });

  it('holds the build output, the config schema and nothing from the sources', () => {
    const paths = pack.files.map(f => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'config.schema.json',
        'dist/index.cjs.js',
        'dist/index.d.ts',
      ]),
    );
    const unwanted = paths.filter(
      p =>
        p.startsWith('src/') ||
        // dev/ code bundled into dist would mean src imports from dev/.
        /(^|\/)dev\//.test(p) ||
        p.startsWith('dist-types/') ||
        p.startsWith('node_modules/') ||
        /\.test\.[cm]?[jt]sx?$|__fixtures__|__mocks__|\.tgz$/.test(p),
    );
    expect(unwanted).toEqual([]);
  });

  it('has a package.json pointing at dist and naming the config schema', () => {
    const pkg = JSON.parse(
      readFileSync(join(packedDir, 'package.json'), 'utf8'),
    ) as PackedPackageJson;
    expect(pkg.name).toBe('@okta-org/plugin-catalog-backend-module-okta');
    expect(pkg.main).toBe('dist/index.cjs.js');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.configSchema).toBe('config.schema.json');
    // Nothing of ours may run in a consumer's install (npm does not run
    // `prepare` for registry tarballs, but does run these).
    for (const hook of ['preinstall', 'install', 'postinstall']) {
      expect(pkg.scripts?.[hook]).toBeUndefined();
    }
  });

  it('loads as a Backstage backend feature in a plain Node process', () => {
    // A separate process: what a consumer's backend does, without jest's
    // module system or transforms in between.
    const probe = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require(process.argv[1]);
         process.stdout.write(JSON.stringify({
           defaultType: m.default && m.default.$$type,
           exports: Object.keys(m).sort(),
         }));`,
        packedDir,
      ],
      { cwd: packedDir, encoding: 'utf8' },
    );
    const { defaultType, exports } = JSON.parse(probe) as {
      defaultType?: string;
      exports: string[];
    };
    expect(defaultType).toBe('@backstage/BackendFeature');
    expect(exports).toEqual(
      expect.arrayContaining([
        'default',
        'OktaOrgEntityProvider',
        'oktaOrgEntityProviderTransformsExtensionPoint',
      ]),
    );
  });

  it('ships a config schema Backstage loads, with the credentials secret', async () => {
    const schema = await loadConfigSchema({
      dependencies: [],
      packagePaths: [join(packedDir, 'package.json')],
      excludePackageDependencies: true,
    });
    const provider = {
      id: 'default',
      oktaUrl: 'https://example.okta.com',
      clientId: '0oa1example',
      keyId: 'kid-1',
      privateKey: '-----BEGIN PRIVATE KEY-----...',
      schedule: { frequency: { minutes: 30 }, timeout: { minutes: 10 } },
      groupNames: ['Engineering'],
      hierarchy: { parentAttribute: 'parentGroup' },
      requests: { maxConcurrency: 10, timeout: '30s', maxRetries: 6 },
    };
    const config = (okta: AppConfig['data'][string]): AppConfig[] => [
      { context: 'test', data: { catalog: { providers: { okta } } } },
    ];

    expect(() => schema.process(config(provider))).not.toThrow();
    expect(() => schema.process(config([provider]))).not.toThrow();
    // (Backstage coerces scalar types, so only shapes and enums can fail.)
    expect(() =>
      schema.process(config({ ...provider, userNaming: 'nickname' })),
    ).toThrow(/userNaming/);
    expect(() =>
      schema.process(config({ ...provider, hierarchy: {} })),
    ).toThrow(/parentAttribute/);

    // Only the private key (and an SSWS token) are secrets: Backstage keeps
    // them out of logs and of the frontend.
    const [secrets] = schema.process(config(provider), {
      visibility: ['secret'],
    });
    expect(secrets.data).toEqual({
      catalog: { providers: { okta: { privateKey: provider.privateKey } } },
    });
    const [tokenSecrets] = schema.process(
      config({ oktaUrl: provider.oktaUrl, token: 'ssws-token' }),
      { visibility: ['secret'] },
    );
    expect(tokenSecrets.data).toEqual({
      catalog: { providers: { okta: { token: 'ssws-token' } } },
    });
  }, 60_000);
});
