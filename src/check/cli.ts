#!/usr/bin/env node
/*
 * The set-up check and dry run on the command line:
 *
 *   npx @okta-org/plugin-catalog-backend-module-okta check \
 *     --config app-config.yaml [--config more.yaml] [--provider <id>] \
 *     [--dry-run] [--output summary|yaml] [--limit N] [--last-applied USERS,GROUPS]
 *
 * Config is loaded as a Backstage backend loads it (files merged in order,
 * ${ENV} substitution, APP_CONFIG_* variables). Exit code 0 when no step
 * failed, 1 when one did, 2 for a usage or config error. Nothing is written
 * to any catalog, and no secret is printed.
 */
import { resolve } from 'node:path';
import { ConfigSources } from '@backstage/config-loader';
import { stringify } from 'yaml';
import { readOktaProviderConfigs } from '../okta/config';
import type { OktaProviderConfig } from '../okta/types';
import { checkOktaSetup } from './checkOktaSetup';
import {
  dryRunEntities,
  formatOktaSetupReport,
  oktaSetupReportData,
} from './formatReport';

const USAGE = `Usage: okta-catalog-check check --config app-config.yaml [--config more.yaml]
         [--provider <id>] [--dry-run] [--output summary|yaml] [--limit N]
         [--last-applied USERS,GROUPS]

Checks each Okta provider in catalog.providers.okta against its Okta org and
names the Okta setting to fix. --dry-run also prints the entities a sync would
produce (all, or the first N with --limit), without touching any catalog.
--output yaml prints the report (and entities) as a YAML stream on stdout.
--last-applied compares the read with the users and groups the provider has in
the catalog now, as the deletion guard of a sync would.
Exit code: 0 all passed (warnings allowed), 1 a step failed, 2 usage or config error.
`;

/**
 * Where the CLI writes; the process's streams by default.
 *
 * @alpha
 */
export interface CheckCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
}

interface CheckCliArgs {
  configs: string[];
  provider?: string;
  dryRun: boolean;
  output: 'summary' | 'yaml';
  limit?: number;
  lastApplied?: { users: number; groups: number };
}

class UsageError extends Error {}

function parseArgs(argv: string[]): CheckCliArgs | 'help' {
  const args: CheckCliArgs = { configs: [], dryRun: false, output: 'summary' };
  const rest = [...argv];
  // `check` is the command; accepted for `npx <package> check ...`.
  if (rest[0] === 'check') rest.shift();
  const value = (flag: string): string => {
    const v = rest.shift();
    if (v === undefined || v.startsWith('--'))
      throw new UsageError(`${flag} needs a value`);
    return v;
  };
  while (rest.length) {
    const raw = rest.shift()!;
    const [flag, inline] =
      raw.startsWith('--') && raw.includes('=')
        ? [raw.slice(0, raw.indexOf('=')), raw.slice(raw.indexOf('=') + 1)]
        : [raw, undefined];
    const take = () => inline ?? value(flag);
    switch (flag) {
      case '--config':
      case '-c':
        args.configs.push(take());
        break;
      case '--provider':
        args.provider = take();
        break;
      case '--dry-run':
        args.dryRun = true;
        break;
      case '--output': {
        const output = take();
        if (output !== 'summary' && output !== 'yaml') {
          throw new UsageError(
            `--output must be summary or yaml, got ${output}`,
          );
        }
        args.output = output;
        break;
      }
      case '--limit': {
        const limit = Number(take());
        if (!Number.isInteger(limit) || limit < 0) {
          throw new UsageError('--limit must be a whole number');
        }
        args.limit = limit;
        break;
      }
      case '--last-applied': {
        const match = /^(\d+),(\d+)$/.exec(take());
        if (!match) {
          throw new UsageError(
            '--last-applied must be USERS,GROUPS, e.g. 120,8',
          );
        }
        args.lastApplied = {
          users: Number(match[1]),
          groups: Number(match[2]),
        };
        break;
      }
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new UsageError(`Unknown argument ${raw}`);
    }
  }
  return args;
}

/** Replaces every secret of the providers (and each long line of a PEM) in `text`. */
function redactSecrets(text: string, providers: OktaProviderConfig[]): string {
  const secrets = new Set<string>();
  for (const { auth } of providers) {
    const secret = auth.kind === 'apiToken' ? auth.token : auth.privateKey;
    secrets.add(secret);
    for (const line of secret.split(/\r?\n|\\n|"/)) {
      if (line.trim().length >= 16) secrets.add(line.trim());
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('[redacted]');
  }
  return out;
}

async function loadProviders(
  args: CheckCliArgs,
  cwd: string,
): Promise<OktaProviderConfig[]> {
  const source = ConfigSources.default({
    argv: args.configs.flatMap(file => ['--config', resolve(cwd, file)]),
    rootDir: cwd,
    watch: false,
  });
  const config = await ConfigSources.toConfig(source);
  config.close();
  const providers = readOktaProviderConfigs(config);
  if (providers.length === 0) {
    throw new UsageError(
      'No Okta provider: catalog.providers.okta is not set in the config',
    );
  }
  if (args.provider === undefined) return providers;
  const chosen = providers.filter(p => p.id === args.provider);
  if (!chosen.length) {
    throw new UsageError(
      `No Okta provider with id "${args.provider}"; configured: ${providers.map(p => p.id).join(', ')}`,
    );
  }
  return chosen;
}

/**
 * Runs the set-up check CLI (the package's `okta-catalog-check` bin) with
 * these arguments; resolves to its exit code. The bin is the supported
 * interface; calling this from code is not settled yet.
 *
 * @alpha
 */
export async function runCheckCli(
  argv: string[],
  io: CheckCliIo = {
    stdout: text => process.stdout.write(text),
    stderr: text => process.stderr.write(text),
    cwd: process.cwd(),
  },
): Promise<number> {
  let args: CheckCliArgs | 'help';
  let providers: OktaProviderConfig[];
  try {
    args = parseArgs(argv);
    if (args === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    providers = await loadProviders(args, io.cwd);
  } catch (error) {
    // Config errors name the key and never the value of a secret.
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof UsageError) io.stderr(`\n${USAGE}`);
    return 2;
  }

  const out = (text: string) => io.stdout(redactSecrets(text, providers));
  let failed = false;
  for (const [index, provider] of providers.entries()) {
    const report = await checkOktaSetup(provider, {
      lastApplied: args.lastApplied,
    });
    failed ||= !report.ok;
    const entities = args.dryRun ? dryRunEntities(report, args.limit) : [];
    const total = report.selection
      ? report.selection.users.length + report.selection.groups.length
      : 0;

    if (args.output === 'yaml') {
      out(`---\n${stringify(oktaSetupReportData(report))}`);
      for (const entity of entities) out(`---\n${stringify(entity)}`);
      continue;
    }

    out(`${index ? '\n' : ''}${formatOktaSetupReport(report)}`);
    if (!args.dryRun) continue;
    if (!report.selection) {
      out(
        '\nDry run: no entities, the check did not get as far as reading the selection.\n',
      );
      continue;
    }
    const { users, groups, memberships } = report.selection;
    out(
      `\nDry run (nothing written to any catalog): a sync would emit ${users.length} User and ${groups.length} Group entities with ${memberships} memberships.\n`,
    );
    if (entities.length) {
      out(
        `${entities.length < total ? `The first ${entities.length} of ${total}` : `All ${total}`} entities:\n`,
      );
      for (const entity of entities) out(`---\n${stringify(entity)}`);
    }
  }
  return failed ? 1 : 0;
}

if (require.main === module) {
  // Piped into `head` and the like: stop quietly when the reader goes away.
  process.stdout.on('error', error => {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE')
      process.exit(process.exitCode ?? 0);
    throw error;
  });
  runCheckCli(process.argv.slice(2)).then(
    code => {
      process.exitCode = code;
    },
    error => {
      process.stderr.write(
        `The Okta set-up check crashed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
