/*
 * One measured run, in a process of its own (forked by dev/bench/index.ts
 * with an IPC channel), so that its CPU time and peak RSS are the
 * provider's alone. Receives a RunRequest, answers a RunResult, exits.
 *
 * Scenarios a–c: exactly the provider's read path without the catalog:
 * the provider's client and readProviderEntities with the default
 * transformers (src/okta/providerSync.ts). Scenario d: OktaOrgEntityProvider.read() into the real
 * catalog backend (in-memory SQLite), until the catalog serves every entity.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { knex } from 'knex';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { ConfigReader, type JsonObject } from '@backstage/config';
import type {
  OktaClientStats,
  OktaOrgClient,
} from '../../src/okta/client/types';
import { readOktaProviderConfigs } from '../../src/okta/config';
import { prepareEntityValidation } from '../../src/okta/entityValidation';
import { createOktaOrgClient } from '../../src/okta/client/createOktaOrgClient';
import {
  createProviderClient,
  providerClientOptions,
  readProviderEntities,
} from '../../src/okta/providerSync';
import { syncProviderEntities } from '../../src/okta/incrementalSync';
import { OktaSyncStateStore } from '../../src/state/OktaSyncStateStore';
import type { OktaProviderConfig } from '../../src/okta/types';
import { OktaOrgEntityProvider } from '../../src/processors/OktaOrgEntityProvider';
import { startCatalog } from '../../src/__testUtils__/oktaCatalogHarness';
import type { Mechanism } from './options';
import type { BenchSelection } from './scenarios';

export interface RunRequest {
  type: 'run';
  endToEnd: boolean;
  selection: BenchSelection;
  orgUrl: string;
  clientId: string;
  keyId: string;
  privateKeyPem: string;
  concurrency: number;
  /** Speed mechanisms of the read path switched off (scenarios a–c). */
  off?: Mechanism[];
  /** Give up after this long (the catalog may never converge). */
  timeoutSeconds: number;
  verbose: boolean;
  /**
   * Scenarios e and f: the incremental sync, with its state in this SQLite
   * file (so that it outlives the run's process, as a database does).
   */
  sync?: {
    stateFile: string;
    overlapMs: number;
    /** Stops the run (as a schedule timeout would) after this many member pages. */
    stopAtMemberPages?: number;
  };
}

export interface RunResult {
  type: 'result';
  /** Date.now() at the start of the measured run, to line up with the fake's log. */
  startedAtEpochMs: number;
  /** Start of the read to entities built (a–c) or to the catalog serving them all (d). */
  wallSeconds: number;
  /** Until Okta's last answer, entities mapped as they came (a–c), or provider.read() up to its mutation (d). */
  readSeconds: number;
  /** After the last answer: names, memberships, hierarchy (a–c), or the applyMutation call (d). */
  buildSeconds: number;
  /** d: from the mutation to the catalog serving every entity. */
  catalogSeconds?: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /** Max of process.memoryUsage().rss sampled every 50 ms during the run. */
  peakRssSampledMb: number;
  /** VmHWM from /proc/self/status at the end: this process's lifetime peak. */
  peakRssHwmMb: number;
  /** RSS just before the run (modules loaded; the catalog started for d). */
  baselineRssMb: number;
  clientStats: OktaClientStats;
  users: number;
  groups: number;
  memberships: number;
  emptyGroupsSkipped?: number;
  unmatchedGroupNames?: number;
  warnings: string[];
  /** SHA-256 of the entities (sorted, as JSON): equal hashes, equal catalogs. */
  entitiesHash?: string;
  /** e, f: what the sync did. */
  sync?: {
    kind: string;
    resumedFullRead: boolean;
    groupsRelisted: number;
    usersRead: number;
    stopped: boolean;
  };
}

const MB = 1024 * 1024;

/** Keeps warnings; prints everything with --verbose. */
class BenchLogger implements LoggerService {
  constructor(
    private readonly verbose: boolean,
    readonly warnings: string[] = [],
  ) {}
  error(message: string, meta?: Error | Record<string, unknown>) {
    this.warnings.push(`error: ${message}`);
    process.stderr.write(
      `[bench run] error: ${message} ${meta instanceof Error ? meta.message : ''}\n`,
    );
  }
  warn(message: string) {
    this.warnings.push(message);
    if (this.verbose) process.stderr.write(`[bench run] warn: ${message}\n`);
  }
  info(message: string) {
    if (this.verbose) process.stderr.write(`[bench run] ${message}\n`);
  }
  debug() {}
  child(): LoggerService {
    return this;
  }
}

function vmHwmMb(): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(
      readFileSync('/proc/self/status', 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function providerConfig(request: RunRequest): OktaProviderConfig {
  const { selection } = request;
  const okta: JsonObject = {
    id: 'bench',
    oktaUrl: request.orgUrl,
    allowInsecureHttp: true,
    clientId: request.clientId,
    keyId: request.keyId,
    privateKey: request.privateKeyPem,
    hierarchy: { parentAttribute: 'parentGroup' },
    requests: { maxConcurrency: request.concurrency },
    ...(selection.userSearchFilter && {
      userSearchFilter: selection.userSearchFilter,
    }),
    ...(selection.groupNames && { groupNames: selection.groupNames }),
    ...(selection.groupSearchFilter && {
      groupSearchFilter: selection.groupSearchFilter,
    }),
  };
  const [provider] = readOktaProviderConfigs(
    new ConfigReader({ catalog: { providers: { okta } } }),
  );
  return provider;
}

function createClient(
  provider: OktaProviderConfig,
  logger: LoggerService,
  off: ReadonlySet<Mechanism>,
): OktaOrgClient {
  if (off.size === 0) return createProviderClient(provider, logger);
  return createOktaOrgClient({
    ...providerClientOptions(provider, logger),
    mechanisms: {
      serverClock: !off.has('server-clock'),
      adaptiveConcurrency: !off.has('adaptive-concurrency'),
      firstInLine: !off.has('first-in-line'),
    },
  });
}

const seconds = (from: number, to = performance.now()) => (to - from) / 1000;

function hashEntities(entities: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(entities)).digest('hex');
}

async function run(request: RunRequest): Promise<RunResult> {
  const logger = new BenchLogger(request.verbose);
  const provider = providerConfig(request);
  const off = new Set(request.off ?? []);
  const client = createClient(provider, logger, off);
  const catalog = request.endToEnd
    ? await (async () => {
        const entityProvider = new OktaOrgEntityProvider({
          provider,
          logger,
          client,
        });
        return { entityProvider, ...(await startCatalog([entityProvider])) };
      })()
    : undefined;

  // A running backend has long since loaded Node's fetch (undici); a fresh
  // process loads it on its first request. Load it here, outside the
  // measurement, without a request to anyone.
  await (await fetch('data:,')).text();
  // What the provider does when it connects at start-up (scenario d's
  // provider has connected already).
  await prepareEntityValidation();
  global.gc?.();
  const baselineRssMb = process.memoryUsage().rss / MB;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const deadline = setTimeout(() => {
    process.stderr.write(
      `[bench run] gave up after ${request.timeoutSeconds} s\n`,
    );
    process.exit(3);
  }, request.timeoutSeconds * 1000);
  deadline.unref();

  const cpu0 = process.cpuUsage();
  const startedAtEpochMs = Date.now();
  const t0 = performance.now();
  let readSeconds: number;
  let buildSeconds: number;
  let catalogSeconds: number | undefined;
  let counts: Pick<
    RunResult,
    | 'users'
    | 'groups'
    | 'memberships'
    | 'emptyGroupsSkipped'
    | 'unmatchedGroupNames'
  >;
  let entitiesHash: string | undefined;
  let syncReport: RunResult['sync'];
  if (request.sync) {
    const db = knex({
      client: 'better-sqlite3',
      connection: { filename: request.sync.stateFile },
      useNullAsDefault: true,
    });
    const state = (await OktaSyncStateStore.create(db)).forProvider(
      provider.id,
    );
    const stop = new AbortController();
    const { stopAtMemberPages } = request.sync;
    const watcher = stopAtMemberPages
      ? setInterval(() => {
          if (
            (client.stats().requests.groupMembers ?? 0) >= stopAtMemberPages
          ) {
            stop.abort(new Error('stopped by the bench'));
          }
        }, 5)
      : undefined;
    try {
      const read = await syncProviderEntities(client, provider, {
        logger,
        state,
        changeOverlapMs: request.sync.overlapMs,
        signal: stop.signal,
      });
      readSeconds = read.readSeconds;
      buildSeconds = read.finishSeconds;
      counts = {
        users: read.users.length,
        groups: read.groups.length,
        memberships: read.memberships,
        emptyGroupsSkipped: read.emptyGroupsSkipped,
        unmatchedGroupNames: read.unmatchedGroupNames.length,
      };
      entitiesHash = hashEntities([...read.users, ...read.groups]);
      syncReport = { ...read.sync, stopped: false };
    } catch (error) {
      if (!stop.signal.aborted) throw error;
      readSeconds = seconds(t0);
      buildSeconds = 0;
      counts = { users: 0, groups: 0, memberships: 0 };
      syncReport = {
        kind: 'full',
        resumedFullRead: false,
        groupsRelisted: 0,
        usersRead: 0,
        stopped: true,
      };
    } finally {
      if (watcher) clearInterval(watcher);
      await db.destroy();
    }
  } else if (!catalog) {
    const read = await readProviderEntities(client, provider, { logger });
    entitiesHash = hashEntities([...read.users, ...read.groups]);
    readSeconds = read.readSeconds;
    buildSeconds = read.finishSeconds;
    counts = {
      users: read.users.length,
      groups: read.groups.length,
      memberships: read.memberships,
      emptyGroupsSkipped: read.emptyGroupsSkipped,
      unmatchedGroupNames: read.unmatchedGroupNames.length,
    };
  } else {
    const summary = await catalog.entityProvider.read({ logger });
    const t1 = performance.now();
    counts = {
      users: summary.entities!.users,
      groups: summary.entities!.groups,
      memberships: summary.entities!.memberships,
      emptyGroupsSkipped: summary.emptyGroupsSkipped,
      unmatchedGroupNames: summary.unmatchedGroupNames?.length,
    };
    // As for a–c: the read with the entities mapped as they came, then
    // building them; here the commit (applyMutation) is the second part.
    readSeconds = (summary.readSeconds ?? 0) + (summary.buildSeconds ?? 0);
    buildSeconds = summary.commitSeconds ?? 0;
    const expected = counts.users + counts.groups;
    for (;;) {
      const response = await fetch(
        `${catalog.baseUrl}/api/catalog/entities/by-query?limit=1&filter=kind=user&filter=kind=group`,
      );
      const body = (await response.json()) as { totalItems?: number };
      if ((body.totalItems ?? 0) >= expected) break;
      await new Promise(resolve => setTimeout(resolve, 250));
    }
    catalogSeconds = seconds(t1);
  }
  const wallSeconds = seconds(t0);
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const result: RunResult = {
    type: 'result',
    startedAtEpochMs,
    wallSeconds,
    readSeconds,
    buildSeconds,
    catalogSeconds,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    peakRssSampledMb: peakRss / MB,
    peakRssHwmMb: vmHwmMb(),
    baselineRssMb,
    clientStats: client.stats(),
    ...counts,
    warnings: logger.warnings.slice(0, 20),
    entitiesHash,
    sync: syncReport,
  };
  await catalog?.stop();
  return result;
}

if (require.main === module) {
  const onMessage = (message: RunRequest) => {
    if (message?.type !== 'run') return;
    process.off('message', onMessage);
    run(message)
      .then(result => process.send!(result, () => process.exit(0)))
      .catch(error => {
        process.send!(
          { type: 'error', message: String(error?.stack ?? error) },
          () => process.exit(1),
        );
      });
  };
  process.on('message', onMessage);
}
