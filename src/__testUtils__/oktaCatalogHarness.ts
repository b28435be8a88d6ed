/*
 * Shared fixtures for tests that cross the real boundaries: a fake Okta org
 * over HTTP on one side, the real catalog backend (in-memory SQLite) on the
 * other. Not part of the published module.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { createBackendModule } from '@backstage/backend-plugin-api';
import { startTestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/config';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import {
  catalogProcessingExtensionPoint,
  type EntityProvider,
} from '@backstage/plugin-catalog-node';
import {
  createServiceAppKeys,
  type FakeOkta,
  type FakeServiceApp,
  type ServiceAppKeys,
} from '../../dev/fakeOkta';
import type { OktaAuthOptions } from '../okta/client/types';
import { readOktaProviderConfigs } from '../okta/config';
import { OktaOrgEntityProvider } from '../processors/OktaOrgEntityProvider';

/** One recorded log line. */
export interface LogLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: Record<string, unknown>;
}

/** A LoggerService that keeps every line, for assertions (and secret scans). */
export class RecordingLogger implements LoggerService {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly fields: Record<string, unknown> = {},
  ) {}

  private record(
    level: LogLine['level'],
    message: string,
    meta?: Error | Record<string, unknown>,
  ) {
    const extra =
      meta instanceof Error
        ? { error: `${meta.name}: ${meta.message}` }
        : (meta ?? {});
    this.lines.push({ level, message, meta: { ...this.fields, ...extra } });
  }

  error(message: string, meta?: Error | Record<string, unknown>) {
    this.record('error', message, meta);
  }
  warn(message: string, meta?: Error | Record<string, unknown>) {
    this.record('warn', message, meta);
  }
  info(message: string, meta?: Error | Record<string, unknown>) {
    this.record('info', message, meta);
  }
  debug(message: string, meta?: Error | Record<string, unknown>) {
    this.record('debug', message, meta);
  }
  child(meta: Record<string, unknown>): LoggerService {
    return new RecordingLogger(this.lines, { ...this.fields, ...meta });
  }

  messages(level?: LogLine['level']): string[] {
    return this.lines
      .filter(line => !level || line.level === level)
      .map(line => line.message);
  }

  /** Every line, message and metadata, as one string to search. */
  text(): string {
    return this.lines
      .map(line => `${line.level} ${line.message} ${JSON.stringify(line.meta)}`)
      .join('\n');
  }
}

/** A service app registered in a fake org, and the config that reaches it. */
export interface FakeServiceAppAccess {
  clientId: string;
  keys: ServiceAppKeys;
  /** Provider config keys for this app (no id, no filters). */
  providerConfig: JsonObject;
  /** The same credentials as `createOktaOrgClient` takes them. */
  auth: OktaAuthOptions;
}

let appCounter = 0;

/** Registers an API Services app in the fake org, as the seeds' guides do. */
export async function addServiceApp(
  fake: FakeOkta,
  options: {
    alg?: 'RS256' | 'ES256';
    requireDpop?: boolean;
    scopes?: string[];
    adminRole?: boolean;
    adminRoleScope?: FakeServiceApp['adminRoleScope'];
  } = {},
): Promise<FakeServiceAppAccess> {
  const keys = await createServiceAppKeys(options.alg ?? 'RS256');
  const clientId = `0oa-test-app-${++appCounter}`;
  fake.addServiceApp({
    clientId,
    publicJwks: [keys.publicJwk],
    scopes: options.scopes ?? ['okta.users.read', 'okta.groups.read'],
    requireDpop: options.requireDpop,
    adminRole: options.adminRole,
    adminRoleScope: options.adminRoleScope,
  });
  return {
    clientId,
    keys,
    auth: {
      kind: 'privateKey',
      clientId,
      keyId: keys.kid,
      privateKey: keys.privateKeyPem,
    },
    providerConfig: {
      oktaUrl: fake.url,
      allowInsecureHttp: true,
      clientId,
      keyId: keys.kid,
      privateKey: keys.privateKeyPem,
    },
  };
}

/** Providers built from `catalog.providers.okta` config, without a schedule. */
export function providersFromConfig(
  okta: JsonObject | JsonObject[],
  logger: LoggerService,
  extra: Partial<
    Pick<
      ConstructorParameters<typeof OktaOrgEntityProvider>[0],
      | 'userTransformer'
      | 'groupTransformer'
      | 'taskRunner'
      | 'appliedCounts'
      | 'onSyncSummary'
    >
  > = {},
): OktaOrgEntityProvider[] {
  const config = new ConfigReader({ catalog: { providers: { okta } } });
  return readOktaProviderConfigs(config).map(
    provider => new OktaOrgEntityProvider({ provider, logger, ...extra }),
  );
}

/** A running catalog backend with some entity providers connected. */
export interface CatalogUnderTest {
  baseUrl: string;
  /** Entities of this kind (all kinds when omitted), as the catalog API serves them. */
  entities(kind?: string): Promise<Entity[]>;
  /** Polls the catalog until `predicate` holds; fails after `timeoutMs`. */
  waitFor(
    predicate: (entities: Entity[]) => boolean,
    timeoutMs?: number,
  ): Promise<Entity[]>;
  stop(): Promise<void>;
}

/** Reads a running catalog's entities over its HTTP API. */
export function catalogApi(
  baseUrl: string,
): Pick<CatalogUnderTest, 'baseUrl' | 'entities' | 'waitFor'> {
  const entities = async (kind?: string): Promise<Entity[]> => {
    const all: Entity[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '1000' });
      if (cursor) {
        query.set('cursor', cursor);
      } else if (kind) {
        query.set('filter', `kind=${kind}`);
      }
      const response = await fetch(
        `${baseUrl}/api/catalog/entities/by-query?${query}`,
      );
      if (!response.ok) {
        throw new Error(`catalog answered ${response.status}`);
      }
      const body = (await response.json()) as {
        items: Entity[];
        pageInfo: { nextCursor?: string };
      };
      all.push(...body.items);
      cursor = body.pageInfo.nextCursor;
    } while (cursor);
    return all;
  };

  const waitFor = async (
    predicate: (list: Entity[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<Entity[]> => {
    const deadline = Date.now() + timeoutMs;
    let last: Entity[] = [];
    while (Date.now() < deadline) {
      last = await entities();
      if (predicate(last)) {
        return last;
      }
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    throw new Error(
      `The catalog did not reach the expected state in ${timeoutMs} ms; it has ${last.length} entities`,
    );
  };

  return { baseUrl, entities, waitFor };
}

/** Starts the real catalog plugin (SQLite in memory) with these providers. */
export async function startCatalog(
  providers: EntityProvider[],
  features: Parameters<typeof startTestBackend>[0]['features'] = [],
): Promise<CatalogUnderTest> {
  const backend = await startTestBackend({
    features: [
      catalogPlugin,
      createBackendModule({
        pluginId: 'catalog',
        moduleId: 'okta-test-providers',
        register(env) {
          env.registerInit({
            deps: { catalog: catalogProcessingExtensionPoint },
            async init({ catalog }) {
              catalog.addEntityProvider(providers);
            },
          });
        },
      }),
      ...(features ?? []),
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}`;

  return {
    ...catalogApi(baseUrl),
    stop: () => backend.stop(),
  };
}

/** `kind:name` of each entity, sorted: a compact view to compare catalogs. */
export function entityKeys(entities: Entity[]): string[] {
  return entities
    .map(e => `${e.kind.toLocaleLowerCase('en-US')}:${e.metadata.name}`)
    .sort();
}

/** Entities stripped of what the catalog adds (uid, etag, relations, status). */
export function comparableEntities(entities: Entity[]): unknown[] {
  return entities
    .map(({ metadata, kind, apiVersion, spec }) => {
      const { uid, etag, generation, ...rest } = metadata as Record<
        string,
        unknown
      >;
      return { apiVersion, kind, metadata: rest, spec };
    })
    .sort((a, b) =>
      `${a.kind}:${a.metadata.name}`.localeCompare(
        `${b.kind}:${b.metadata.name}`,
      ),
    );
}
