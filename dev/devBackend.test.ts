/*
 * Starts the dev backend as `npm start` does, in its own process group, and
 * waits until the catalog serves the demo org's users and groups.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { demoOrg } from './fakeOkta';
import { OKTA_ENV_VARS } from './devOktaProvider';

const REPO_DIR = resolve(__dirname, '..');
const STARTUP_TIMEOUT_MS = 100_000;
const EXIT_TIMEOUT_MS = 15_000;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, then SIGKILL if it has not exited in time. */
async function stopGroup(pid: number): Promise<{ graceful: boolean }> {
  if (!groupAlive(pid)) {
    return { graceful: true };
  }
  process.kill(-pid, 'SIGTERM');
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) {
      return { graceful: true };
    }
    await sleep(100);
  }
  process.kill(-pid, 'SIGKILL');
  return { graceful: false };
}

interface CatalogEntity {
  kind: string;
  metadata: { name: string };
}

async function entitiesOfKind(
  baseUrl: string,
  kind: string,
): Promise<CatalogEntity[] | undefined> {
  try {
    const response = await fetch(
      `${baseUrl}/api/catalog/entities?filter=kind=${kind}`,
    );
    return response.ok
      ? ((await response.json()) as CatalogEntity[])
      : undefined;
  } catch {
    return undefined; // not listening yet, or restarting
  }
}

describe('the dev backend (npm start)', () => {
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(async () => {
    if (child?.pid) {
      await stopGroup(child.pid);
    }
  });

  it('serves the demo org from the embedded fake Okta, then stops on SIGTERM', async () => {
    const org = demoOrg();
    const expectedUsers = org
      .users()
      .filter(u => u.status !== 'DEPROVISIONED').length;
    const expectedGroups = org
      .groups()
      .filter(g => g.type !== 'BUILT_IN').length;
    expect(expectedUsers).toBeGreaterThan(0);
    expect(expectedGroups).toBeGreaterThan(0);

    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BACKEND_PORT: String(port),
    };
    for (const name of OKTA_ENV_VARS) {
      delete env[name];
    }
    const started = Date.now();
    child = spawn('npm', ['start'], {
      cwd: REPO_DIR,
      env,
      detached: true, // its own process group, so that no grandchild outlives the test
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', chunk => {
      output += chunk;
    });
    child.stderr!.on('data', chunk => {
      output += chunk;
    });
    let exitCode: number | null | undefined;
    child.once('exit', code => {
      exitCode = code;
    });

    const baseUrl = `http://127.0.0.1:${port}`;
    let users: CatalogEntity[] | undefined;
    let groups: CatalogEntity[] | undefined;
    while (Date.now() - started < STARTUP_TIMEOUT_MS) {
      if (exitCode !== undefined) {
        throw new Error(
          `npm start exited with ${exitCode} before serving the org:\n${output.slice(-4000)}`,
        );
      }
      users = await entitiesOfKind(baseUrl, 'user');
      groups = await entitiesOfKind(baseUrl, 'group');
      if (
        users?.length === expectedUsers &&
        groups?.length === expectedGroups
      ) {
        break;
      }
      await sleep(500);
    }
    const servedAfterMs = Date.now() - started;
    if (users?.length !== expectedUsers || groups?.length !== expectedGroups) {
      throw new Error(
        `After ${servedAfterMs} ms the catalog had ${users?.length ?? 'no'} users (expected ${expectedUsers}) and ${groups?.length ?? 'no'} groups (expected ${expectedGroups}). Output:\n${output.slice(-4000)}`,
      );
    }
    // Deprovisioned Heidi is left out; everyone else is there.
    const names = users.map(u => u.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['alice', 'bob']));
    expect(names).not.toContain('heidi');
    // The console says where to look.
    expect(output).toContain(
      `http://localhost:${port}/api/catalog/entities?filter=kind=user`,
    );
    console.info(`dev backend served the demo org after ${servedAfterMs} ms`);

    const { graceful } = await stopGroup(child.pid!);
    expect(graceful).toBe(true);
  }, 130_000);
});
