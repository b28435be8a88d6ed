/*
 * The set-up check a backend runs once per provider at start-up, in the
 * background: the cheap steps only (no full read), each failure logged as a
 * warning naming the provider and the fix. It never throws and is never
 * awaited by start-up.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaOrgClient } from '../okta/client/types';
import type { OktaProviderConfig } from '../okta/types';
import { checkOktaSetup } from './checkOktaSetup';

/**
 * Runs the set-up check without its `selection` step and logs each failed
 * step as a warning. Always resolves; once `signal` aborts (the backend shuts
 * down), at once and without logging. Given the provider's `client`, the
 * check sends through it (see `CheckOktaSetupOptions.client`).
 */
export async function warnAboutOktaSetup(
  provider: OktaProviderConfig,
  logger: LoggerService,
  options: { signal?: AbortSignal; client?: OktaOrgClient } = {},
): Promise<void> {
  try {
    const report = await checkOktaSetup(provider, {
      includeSelection: false,
      signal: options.signal,
      client: options.client,
    });
    if (options.signal?.aborted) {
      return; // shutting down: what the check found no longer matters
    }
    for (const step of report.steps) {
      if (step.status !== 'failed') continue;
      logger.warn(
        `Okta provider "${provider.id}" set-up check: ${step.title}: ${step.detail}${
          step.fix ? ` Fix: ${step.fix}` : ''
        }`,
        { oktaProvider: provider.id, setupCheckStep: step.id },
      );
    }
  } catch (error) {
    if (options.signal?.aborted) {
      return;
    }
    // A broken check must never be mistaken for a broken set-up.
    logger.debug(
      `Okta provider "${provider.id}" set-up check could not run: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
