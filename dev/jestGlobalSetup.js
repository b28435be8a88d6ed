/*
 * Jest global setup: makes sure `dist/` is a build of the current sources
 * before any test runs, so that `npm ci` then `CI=true npm test` passes on a
 * fresh clone. Two suites need the build: src/packaging.test.ts packs the
 * module as npm publish would, and src/check/cli.test.ts runs the built bin.
 *
 * Builds (tsc for the declarations, then `backstage-cli package build`) only
 * when dist is missing or older than a source file, so a run after
 * `npm run build` (CI) or a focused run on unchanged sources costs nothing.
 * Runs once per `npm test`, before the workers start, so no two suites ever
 * build at once.
 */
/* eslint-disable no-console */
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const REPO_DIR = resolve(__dirname, '..');
const BUILT = ['dist/index.cjs.js', 'dist/cli.cjs.js', 'dist/index.d.ts'];
const SOURCES = ['src', 'config.d.ts', 'package.json', 'tsconfig.json'];

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    return stat.mtimeMs;
  }
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function buildIsCurrent() {
  const built = BUILT.map(p => join(REPO_DIR, p));
  if (!built.every(existsSync)) {
    return false;
  }
  const oldestBuild = Math.min(...built.map(p => statSync(p).mtimeMs));
  const newestSource = Math.max(
    ...SOURCES.map(p => join(REPO_DIR, p))
      .filter(existsSync)
      .map(newestMtime),
  );
  return oldestBuild >= newestSource;
}

module.exports = async function buildDistIfStale() {
  if (buildIsCurrent()) {
    return;
  }
  const bin = name => join(REPO_DIR, 'node_modules', '.bin', name);
  const run = (cmd, args) =>
    execFileSync(cmd, args, {
      cwd: REPO_DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  const started = Date.now();
  run(bin('tsc'), []);
  run(bin('backstage-cli'), ['package', 'build']);
  console.log(
    `\njestGlobalSetup: built dist/ for the packaging and CLI tests in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
};
