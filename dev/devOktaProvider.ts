/*
 * The Okta provider config of the dev backend: the embedded fake org seeded
 * with the demo company, or a real org named by environment variables.
 */
import { readFileSync } from 'node:fs';
import {
  createServiceAppKeys,
  demoOrg,
  startFakeOkta,
  type FakeOkta,
} from './fakeOkta';

/** One entry of `catalog.providers.okta`, as the dev backend writes it. */
export type DevOktaProviderConfig = {
  id: string;
  oktaUrl: string;
  allowInsecureHttp?: boolean;
  clientId?: string;
  keyId?: string;
  privateKey?: string;
  token?: string;
  schedule?: {
    frequency: { seconds: number } | { minutes: number };
    timeout: { minutes: number };
  };
  hierarchy?: { parentAttribute: string };
};

/** The environment variables that select a real Okta org. */
export const OKTA_ENV_VARS = [
  'OKTA_ORG_URL',
  'OKTA_CLIENT_ID',
  'OKTA_KEY_ID',
  'OKTA_PRIVATE_KEY',
  'OKTA_PRIVATE_KEY_FILE',
  'OKTA_API_TOKEN',
] as const;

/** The demo org's client id in the fake. */
const DEMO_CLIENT_ID = 'dev-backend';

/**
 * Reads a real org's provider config from the environment, or returns
 * undefined when none of {@link OKTA_ENV_VARS} is set. Throws, naming the
 * variables, when the set is incomplete or contradictory.
 */
export function realOktaProviderFromEnv(
  env: NodeJS.ProcessEnv,
): DevOktaProviderConfig | undefined {
  const value = (name: (typeof OKTA_ENV_VARS)[number]) =>
    env[name]?.trim() ? env[name] : undefined;
  if (OKTA_ENV_VARS.every(name => value(name) === undefined)) {
    return undefined;
  }
  const fail = (message: string): never => {
    throw new Error(
      `Dev backend: ${message}. For a real Okta org set OKTA_ORG_URL with OKTA_CLIENT_ID, OKTA_KEY_ID and OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE), or with OKTA_API_TOKEN; unset them all to use the embedded demo org.`,
    );
  };

  const orgUrl = value('OKTA_ORG_URL') ?? fail('OKTA_ORG_URL is not set');
  // http:// only for a local server, e.g. the standalone fake (dev/fakeOkta/cli.ts).
  let url: URL;
  try {
    url = new URL(orgUrl);
  } catch {
    return fail('OKTA_ORG_URL is not a URL (e.g. https://example.okta.com)');
  }
  const { protocol, hostname } = url;
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  const base: DevOktaProviderConfig = {
    id: 'default',
    oktaUrl: orgUrl,
    ...(protocol === 'http:' && local && { allowInsecureHttp: true }),
  };

  const token = value('OKTA_API_TOKEN');
  const inlineKey = value('OKTA_PRIVATE_KEY');
  const keyFile = value('OKTA_PRIVATE_KEY_FILE');
  if (token !== undefined) {
    if (inlineKey !== undefined || keyFile !== undefined) {
      fail('OKTA_API_TOKEN and a private key are both set');
    }
    return { ...base, token };
  }
  if (inlineKey !== undefined && keyFile !== undefined) {
    fail('OKTA_PRIVATE_KEY and OKTA_PRIVATE_KEY_FILE are both set');
  }
  let privateKey = inlineKey;
  if (keyFile !== undefined) {
    try {
      privateKey = readFileSync(keyFile, 'utf8').trim();
    } catch (error) {
      fail(
        `OKTA_PRIVATE_KEY_FILE cannot be read (${
          (error as NodeJS.ErrnoException).code ?? 'error'
        })`,
      );
    }
  }
  if (privateKey === undefined) {
    return fail('no private key: OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE');
  }
  const clientId = value('OKTA_CLIENT_ID') ?? fail('OKTA_CLIENT_ID is not set');
  const keyId = value('OKTA_KEY_ID');
  // A JWK may carry its own kid; a PEM never does.
  if (keyId === undefined && !privateKey.startsWith('{')) {
    fail(
      'OKTA_KEY_ID is not set (the KID of the key registered in the Okta app)',
    );
  }
  return {
    ...base,
    clientId,
    ...(keyId !== undefined && { keyId }),
    privateKey,
  };
}

/** The fake org and the provider config that reads it. */
export interface DemoOkta {
  okta: FakeOkta;
  provider: DevOktaProviderConfig;
  /** What the provider should emit: users but deprovisioned ones, groups but BUILT_IN. */
  expected: { users: number; groups: number };
}

/**
 * Starts the fake Okta org with the demo company on a free loopback port and
 * registers a service app for the provider, with a fresh key pair. The app
 * requires DPoP, as new Okta API Services apps do.
 */
export async function startDemoOkta(): Promise<DemoOkta> {
  const org = demoOrg();
  const okta = await startFakeOkta({ org });
  const keys = await createServiceAppKeys('RS256', 'dev-backend-key');
  okta.addServiceApp({
    clientId: DEMO_CLIENT_ID,
    publicJwks: [keys.publicJwk],
    scopes: ['okta.users.read', 'okta.groups.read'],
    requireDpop: true,
  });
  return {
    okta,
    provider: {
      id: 'demo',
      oktaUrl: okta.url,
      allowInsecureHttp: true,
      clientId: DEMO_CLIENT_ID,
      keyId: keys.kid,
      privateKey: keys.privateKeyPem,
      // Short, so that changes to the fake org show up within seconds.
      schedule: { frequency: { seconds: 15 }, timeout: { minutes: 1 } },
      // The demo groups name their parent in profile.parentGroup.
      hierarchy: { parentAttribute: 'parentGroup' },
    },
    expected: {
      users: org.users().filter(u => u.status !== 'DEPROVISIONED').length,
      groups: org.groups().filter(g => g.type !== 'BUILT_IN').length,
    },
  };
}
