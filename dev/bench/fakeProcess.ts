/*
 * The fake Okta org (dev/fakeOkta/cli.ts) in its own process, so that its
 * CPU is not the provider's; driven over IPC (stats, request log, changes).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { WORKFORCE_LIMITS, type BenchOptions } from './options';
import type { LoggedRequest } from './pacing';
import { LOADER } from './runProcess';

export interface FakeStats {
  requests: Record<string, number>;
  served429: number;
  peakConcurrency: number;
  tokensIssued: number;
  cpu: { user: number; system: number };
}

export interface FakeProcess {
  url: string;
  generatedInMs: number;
  userCount: number;
  groupCount: number;
  stats(): Promise<FakeStats>;
  log(): Promise<LoggedRequest[]>;
  resetStats(): Promise<void>;
  change(
    share: number,
    seed: number,
  ): Promise<{ usersChanged: number; groupsChanged: number }>;
  stop(): Promise<void>;
}

export async function startFake(args: string[]): Promise<FakeProcess> {
  const child: ChildProcess = fork(
    resolve(__dirname, '../fakeOkta/cli.ts'),
    args,
    {
      // --expose-gc: the fake collects its garbage between runs (resetStats).
      execArgv: [...LOADER, '--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', code =>
      reject(new Error(`the fake Okta process exited (${code})`)),
    ),
  );
  exited.catch(() => undefined);
  const firstLine = new Promise<string>(resolveLine => {
    createInterface({ input: child.stdout! }).once('line', resolveLine);
  });
  const started = JSON.parse(await Promise.race([firstLine, exited])) as {
    url: string;
    users: number;
    groups: number;
    generatedInMs: number;
  };
  const ask = <T>(type: string) =>
    Promise.race([
      exited,
      new Promise<T>(resolveReply => {
        const onMessage = (message: { type?: string }) => {
          if (message?.type === type) {
            child.off('message', onMessage);
            resolveReply(message as T);
          }
        };
        child.on('message', onMessage);
        child.send({ type });
      }),
    ]);
  return {
    url: started.url,
    generatedInMs: started.generatedInMs,
    userCount: started.users,
    groupCount: started.groups,
    stats: async () => (await ask<{ stats: FakeStats }>('stats')).stats,
    log: async () => (await ask<{ log: LoggedRequest[] }>('log')).log,
    resetStats: async () => {
      await ask('resetStats');
    },
    change: async (share, seed) => {
      const reply = Promise.race([
        exited,
        new Promise<{
          changed: { usersChanged: number; groupsChanged: number };
        }>(resolveReply => {
          const onMessage = (message: { type?: string }) => {
            if (message?.type === 'change') {
              child.off('message', onMessage);
              resolveReply(
                message as {
                  changed: { usersChanged: number; groupsChanged: number };
                },
              );
            }
          };
          child.on('message', onMessage);
          child.send({ type: 'change', share, seed });
        }),
      ]);
      return (await reply).changed;
    },
    stop: async () => {
      child.removeAllListeners('exit');
      const gone = new Promise(resolveExit => child.once('exit', resolveExit));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** The fake's command line: an org of `size`, Okta's limits at the app's share, one service app. */
export function fakeOktaArgs(
  options: BenchOptions,
  size: { users: number; groups: number },
  app: { clientId: string; jwkFile: string },
): string[] {
  const { clientId, jwkFile } = app;
  return [
    '--org',
    'generated',
    '--users',
    String(size.users),
    '--groups',
    String(size.groups),
    '--seed',
    String(options.seed),
    '--avg-groups-per-user',
    String(options.avgGroupsPerUser),
    '--latency-ms',
    String(options.latencyMs),
    ...(options.failMemberPagesFrom !== undefined
      ? ['--fail-member-pages-from', String(options.failMemberPagesFrom)]
      : []),
    '--window-seconds',
    String(options.windowSeconds),
    '--app-share',
    String(options.appShare),
    '--concurrency',
    String(options.oktaConcurrency),
    ...(options.oktaClockSkewMs
      ? ['--clock-skew-ms', String(options.oktaClockSkewMs)]
      : []),
    '--limit-users',
    String(WORKFORCE_LIMITS.users),
    '--limit-groups',
    String(WORKFORCE_LIMITS.groups),
    '--limit-other',
    String(WORKFORCE_LIMITS.other),
    '--limit-token',
    String(WORKFORCE_LIMITS.token),
    '--client-id',
    clientId,
    '--public-jwk',
    jwkFile,
  ];
}
