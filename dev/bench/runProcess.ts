/*
 * One benchmark run in a fresh process (dev/bench/runRead.ts), so that its
 * CPU seconds and peak RSS are the provider's only.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { RunRequest, RunResult } from './runRead';

/** Node flags of the child processes: the TypeScript loader of backstage-cli. */
export const LOADER = ['-r', '@backstage/cli/config/nodeTransform.cjs'];

export function runOnce(request: RunRequest): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = fork(resolve(__dirname, 'runRead.ts'), [], {
      execArgv: [...LOADER, '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    // The TypeScript loader also sends {type: 'watch'} messages: skip them.
    child.on(
      'message',
      (message: RunResult | { type: 'error' | 'watch'; message?: string }) => {
        if (message.type === 'result') {
          settled = true;
          resolveRun(message);
        } else if (message.type === 'error') {
          settled = true;
          reject(new Error(`the run failed: ${message.message}`));
        }
      },
    );
    child.once('exit', code => {
      if (!settled)
        reject(new Error(`the run process exited (${code}) without a result`));
    });
    child.send(request);
  });
}

/** The numbers of a run that failed: NaN where nothing was measured. */
export function failedRun(): RunResult {
  return {
    type: 'result',
    startedAtEpochMs: NaN,
    wallSeconds: NaN,
    readSeconds: NaN,
    buildSeconds: NaN,
    cpuUserSeconds: NaN,
    cpuSystemSeconds: NaN,
    peakRssSampledMb: NaN,
    peakRssHwmMb: NaN,
    baselineRssMb: NaN,
    clientStats: { requests: {}, retries: 0, rateLimited: 0, tokensFetched: 0 },
    users: 0,
    groups: 0,
    memberships: 0,
    warnings: [],
  };
}
