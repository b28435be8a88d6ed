import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  SchedulerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { ConfigReader, type JsonObject } from '@backstage/config';
import type { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { demoOrg, startFakeOkta, type FakeOkta } from '../../dev/fakeOkta';
import {
  addServiceApp,
  providersFromConfig,
  RecordingLogger,
} from '../__testUtils__/oktaCatalogHarness';
import { OktaOrgEntityProvider } from '../processors/OktaOrgEntityProvider';

jest.setTimeout(60_000);

/** A scheduler whose task runners never run the sync. */
const scheduler = {
  createScheduledTaskRunner: (): SchedulerServiceTaskRunner => ({
    run: async () => {},
  }),
} as unknown as SchedulerService;

const connection: EntityProviderConnection = {
  applyMutation: async () => {},
  refresh: async () => {},
};

function fromConfig(
  okta: JsonObject,
  logger: RecordingLogger,
  lifecycle?: { addShutdownHook(hook: () => void): void },
  taskScheduler: SchedulerService = scheduler,
) {
  return OktaOrgEntityProvider.fromConfig(
    new ConfigReader({ catalog: { providers: { okta } } }),
    { logger, scheduler: taskScheduler, lifecycle },
  );
}

async function waitFor(predicate: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

let fake: FakeOkta;
beforeAll(async () => {
  fake = await startFakeOkta({ org: demoOrg() });
});
afterAll(async () => {
  await fake.close();
});

describe('the start-up set-up check', () => {
  it('warns once, with the provider id and the fix, for a provider made by fromConfig', async () => {
    const app = await addServiceApp(fake);
    const logger = new RecordingLogger();
    const [provider] = fromConfig(
      { id: 'emea', ...app.providerConfig, keyId: 'wrong-kid' },
      logger,
    );
    fake.resetStats();
    await provider.connect(connection);
    await provider.connect(connection); // a second connect does not check again
    await waitFor(() => logger.messages('warn').length > 0);
    await new Promise(resolve => setTimeout(resolve, 300));

    const warnings = logger.messages('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('Okta provider "emea" set-up check');
    expect(warnings[0]).toContain(
      'Fix: keyId does not match a public key of the app (Applications → your app → General → Public keys → KID)',
    );
    expect(logger.lines.find(l => l.level === 'warn')?.meta).toMatchObject({
      oktaProvider: 'emea',
      setupCheckStep: 'clientAuthentication',
    });
    expect(logger.text()).not.toContain(
      String(app.providerConfig.privateKey).split('\n')[1],
    );
    // The cheap steps only: no listing of group members.
    expect(fake.stats().requests.groupUsers ?? 0).toBe(0);
  });

  it("sends through the provider's own client: the sync after it reuses the check's token", async () => {
    const app = await addServiceApp(fake);
    const logger = new RecordingLogger();
    const tasks: Array<() => void | Promise<void>> = [];
    // A scheduler that keeps the sync task, for the test to run it.
    const keeping = {
      createScheduledTaskRunner: (): SchedulerServiceTaskRunner => ({
        run: async task => {
          tasks.push(() => task.fn(new AbortController().signal));
        },
      }),
    } as unknown as SchedulerService;
    const [provider] = fromConfig(
      { id: 'shared', ...app.providerConfig },
      logger,
      undefined,
      keeping,
    );
    fake.resetStats();
    await provider.connect(connection);
    // The check ends with the group listing.
    await waitFor(() => (fake.stats().requests.groups ?? 0) > 0);
    expect(fake.stats().tokensIssued).toBe(1);
    expect(tasks).toHaveLength(1);
    await tasks[0]();
    expect(logger.messages('error')).toEqual([]);
    expect(fake.stats().requests.groupUsers ?? 0).toBeGreaterThan(0);
    // A check with a client of its own would have fetched a second token.
    expect(fake.stats().tokensIssued).toBe(1);
  });

  it('does not run when checkSetupOnStart is false', async () => {
    const app = await addServiceApp(fake);
    const logger = new RecordingLogger();
    const [provider] = fromConfig(
      {
        id: 'quiet',
        ...app.providerConfig,
        keyId: 'wrong-kid',
        checkSetupOnStart: false,
      },
      logger,
    );
    fake.resetStats();
    await provider.connect(connection);
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(logger.messages('warn')).toEqual([]);
    expect(fake.stats().requests.token ?? 0).toBe(0);
  });

  it('logs nothing for a correct set-up', async () => {
    const app = await addServiceApp(fake);
    const logger = new RecordingLogger();
    const [provider] = fromConfig({ id: 'ok', ...app.providerConfig }, logger);
    fake.resetStats();
    await provider.connect(connection);
    // The check ends with the group listing.
    await waitFor(() => (fake.stats().requests.groups ?? 0) > 0);
    await new Promise(resolve => setTimeout(resolve, 300));
    expect(logger.messages('warn')).toEqual([]);
  });

  it('never delays connect(), even when Okta does not answer', async () => {
    const hanging = createServer(() => {}); // never answers
    await new Promise<void>(resolve => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      const app = await addServiceApp(fake);
      const logger = new RecordingLogger();
      const [provider] = fromConfig(
        {
          ...app.providerConfig,
          oktaUrl: `http://127.0.0.1:${port}`,
          requests: { timeout: { seconds: 3 } },
        },
        logger,
      );
      const started = Date.now();
      await provider.connect(connection);
      // Waiting for the check would take the whole 3 s timeout.
      expect(Date.now() - started).toBeLessThan(2000);
      await waitFor(() => logger.messages('warn').length > 0);
      expect(logger.messages('warn')[0]).toContain('no answer within 3000 ms');
      expect(logger.messages('warn')[0]).toContain('not an Okta org URL');
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('is cancelled when the backend shuts down, logging nothing', async () => {
    let socketClosed = false;
    let requested = false;
    const hanging = createServer(req => {
      requested = true;
      req.socket.on('close', () => {
        socketClosed = true;
      });
    });
    await new Promise<void>(resolve => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      const hooks: Array<() => void> = [];
      const app = await addServiceApp(fake);
      const logger = new RecordingLogger();
      const [provider] = fromConfig(
        {
          ...app.providerConfig,
          oktaUrl: `http://127.0.0.1:${port}`,
          requests: { timeout: { seconds: 30 } },
        },
        logger,
        { addShutdownHook: hook => hooks.push(hook) },
      );
      await provider.connect(connection);
      await waitFor(() => requested);
      expect(hooks).toHaveLength(1);
      hooks.forEach(hook => hook());
      // The request is abandoned at once, not after its 30 s timeout.
      await waitFor(() => socketClosed, 2_000);
      await new Promise(resolve => setTimeout(resolve, 300));
      expect(logger.lines.filter(l => l.level === 'warn')).toEqual([]);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('does not run for providers built with the constructor', async () => {
    const app = await addServiceApp(fake, { adminRole: false });
    const logger = new RecordingLogger();
    const [provider] = providersFromConfig(
      { id: 'direct', ...app.providerConfig },
      logger,
    );
    fake.resetStats();
    await provider.connect(connection);
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(fake.stats().log).toEqual([]);
    expect(logger.messages('warn')).toEqual([]);
  });
});
