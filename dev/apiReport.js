/*
 * The package's API report (report.api.md), made with Backstage's own
 * tooling: @backstage/repo-tools' API Extractor setup, as `backstage-repo-tools
 * api-reports` runs it in Backstage's monorepo. That command skips a package
 * at the repository root (it lists packages by their path relative to the
 * root, and the root's is empty), so this calls the same extraction step for
 * the root package directly.
 *
 *   npm run api-report          writes report.api.md after `tsc`
 *   npm run api-report -- --ci  fails when report.api.md is not up to date
 *
 * Release tags are validated: every export must be @public, @alpha or @beta.
 */
/* eslint-disable no-console */
const { execFileSync } = require('node:child_process');
const { join, resolve } = require('node:path');
const {
  runApiExtraction,
} = require('@backstage/repo-tools/dist/commands/api-reports/api-reports/runApiExtraction.cjs.js');

const REPO_DIR = resolve(__dirname, '..');
const ci = process.argv.includes('--ci');

async function main() {
  execFileSync(join(REPO_DIR, 'node_modules', '.bin', 'tsc'), [], {
    cwd: REPO_DIR,
    stdio: 'inherit',
  });
  await runApiExtraction({
    packageDirs: [''],
    outputDir: join(REPO_DIR, 'node_modules', '.cache', 'api-extractor'),
    isLocalBuild: !ci,
    tsconfigFilePath: join(REPO_DIR, 'tsconfig.json'),
    allowWarnings: false,
    // As in Backstage's own repository: members need no TSDoc of their own.
    omitMessages: ['ae-undocumented'],
    validateReleaseTags: true,
  });
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error);
  if (ci) {
    console.error(
      'The public API differs from report.api.md / report-cli.api.md: run `npm run api-report` and commit the reports with the change.',
    );
  }
  process.exit(1);
});
