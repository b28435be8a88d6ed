/*
 * The set-up check: asks Okta, one setting at a time, whether a provider's
 * configuration works, and turns each answer into the console setting or
 * config key to fix. Later steps are skipped when one they need failed.
 *
 * This file is the runner: the order of the steps and what each depends
 * on. Each step is in `steps/`; they reach Okta through one `OktaProbe`, on
 * the provider's client or one built as the provider builds its own.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../okta/client/createOktaOrgClient';
import type { OktaOrgClient } from '../okta/client/types';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from '../okta/types';
import type { OktaEntityCounts } from '../sync/syncSummary';
import {
  describeError as describe,
  OktaProbe,
  type ApiAnswer,
} from './oktaProbe';
import { apiTokenStep } from './steps/apiTokenStep';
import { checkClientAndScopes } from './steps/clientAuthenticationStep';
import { deletionGuardStep } from './steps/deletionGuardStep';
import { checkGroupNames } from './steps/groupNamesStep';
import { listingStep } from './steps/listingStep';
import { checkOrgUrl } from './steps/orgUrlStep';
import { searchFilterStep } from './steps/searchFilterStep';
import { checkSelection } from './steps/selectionStep';
import { StepList } from './steps/stepList';
import type {
  OktaSetupReport,
  OktaSetupSelection,
  OktaSetupStepId,
} from './types';

/** Options of {@link checkOktaSetup}. */
export interface CheckOktaSetupOptions {
  /**
   * The client to check through: the provider's own, so that the check
   * shares its transport, executor, rate limiter and token. Without it (or
   * for a client not made by `createOktaOrgClient`) the check builds one
   * client as the provider's config says and uses it for every step.
   */
  client?: OktaOrgClient;
  /**
   * Receives the log lines (retries, DPoP) of the client the check builds;
   * default silent.
   */
  logger?: LoggerService;
  /**
   * Run the last step, a full read of the selection and the entities built
   * from it (the dry run). Default true; the start-up check leaves it out.
   */
  includeSelection?: boolean;
  /** Used by the `selection` step; default the module's transformers. */
  userTransformer?: OktaUserTransformer;
  groupTransformer?: OktaGroupTransformer;
  /** Stops the check: probes still to run fail at once (reported as failed). */
  signal?: AbortSignal;
  /**
   * The counts of the provider's last applied sync, for the `deletionGuard`
   * step (e.g. from the applied-counts store, or `--last-applied`); without
   * them the step reports what the guard would say with no baseline.
   */
  lastApplied?: OktaEntityCounts;
}

/** A LoggerService that drops everything. */
class SilentLogger implements LoggerService {
  error() {}
  warn() {}
  info() {}
  debug() {}
  child(): LoggerService {
    return this;
  }
}

/**
 * Checks one provider's Okta set-up against its org, step by step, and says
 * for each failure which Okta setting or config key to change:
 *
 * 1. `orgUrl`: the URL is an Okta org.
 * 2. `clientAuthentication`, `scopes` (private key), or `apiToken` (SSWS).
 * 3. `readUsers`, `readGroups`: the admin role.
 * 4. `userSearchFilter`, `groupSearchFilter`, `groupNames`.
 * 5. `selection`: a full read and the entities it gives (unless
 *    `includeSelection` is false).
 * 6. `deletionGuard`: whether the deletion guard would apply that read,
 *    compared with `lastApplied` when given.
 *
 * Never throws for what Okta answers, and never reports a secret.
 */
export async function checkOktaSetup(
  provider: OktaProviderConfig,
  options: CheckOktaSetupOptions = {},
): Promise<OktaSetupReport> {
  const logger = options.logger ?? new SilentLogger();
  const { signal } = options;
  const steps = new StepList();
  const report = (selection?: OktaSetupSelection): OktaSetupReport => ({
    providerId: provider.id,
    orgUrl: provider.orgUrl,
    auth: provider.auth.kind,
    steps: steps.steps,
    ok: steps.steps.every(step => step.status !== 'failed'),
    ...(selection && { selection }),
  });
  const ssws = provider.auth.kind === 'apiToken';

  // a. The org URL.
  steps.add(
    await checkOrgUrl(
      provider.orgUrl,
      provider.requests.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      signal,
    ),
  );

  // b, c. Client authentication and scopes (or the SSWS token).
  let probe: OktaProbe | undefined;
  if (!steps.blocker('orgUrl')) {
    try {
      probe = OktaProbe.forProvider(provider, {
        client: options.client,
        logger,
        signal,
      });
    } catch (error) {
      steps.add({
        id: 'clientAuthentication',
        status: 'failed',
        detail: describe(error),
        fix: 'privateKey must be the PEM or JWK private key of the app (README "Set up Okta", step 2)',
      });
    }
  }
  let usersAnswer: ApiAnswer | undefined;
  if (ssws) {
    steps.notConfigured(
      'clientAuthentication',
      'Not used: the provider authenticates with an SSWS API token (token).',
    );
    steps.notConfigured(
      'scopes',
      'Not used: an SSWS API token has the rights of the admin who created it.',
    );
    if (!steps.skipIfBlocked('apiToken', 'orgUrl')) {
      usersAnswer = await probe!.get('/api/v1/users', { limit: '1' });
      steps.add(apiTokenStep(usersAnswer));
    }
  } else if (!steps.skipIfBlocked('clientAuthentication', 'orgUrl') && probe) {
    await checkClientAndScopes(probe, provider, steps);
  }
  if (!ssws) steps.skipIfBlocked('scopes', 'clientAuthentication');
  const auth: OktaSetupStepId[] = ssws
    ? ['orgUrl', 'apiToken']
    : ['orgUrl', 'clientAuthentication', 'scopes'];

  // d. The admin role: one user, one group.
  if (!steps.skipIfBlocked('readUsers', ...auth)) {
    usersAnswer ??= await probe!.get('/api/v1/users', { limit: '1' });
    steps.add(listingStep('readUsers', usersAnswer, provider));
  }
  if (!steps.skipIfBlocked('readGroups', ...auth)) {
    const groupsAnswer = await probe!.get('/api/v1/groups', { limit: '1' });
    steps.add(listingStep('readGroups', groupsAnswer, provider));
  }

  // e. Search expressions.
  if (provider.userSearchFilter === undefined) {
    steps.notConfigured(
      'userSearchFilter',
      'Not set: all users but deprovisioned ones.',
    );
  } else if (!steps.skipIfBlocked('userSearchFilter', 'readUsers')) {
    const answer = await probe!.get('/api/v1/users', {
      search: provider.userSearchFilter,
      limit: '1',
    });
    steps.add(
      searchFilterStep('userSearchFilter', provider.userSearchFilter, answer),
    );
  }
  const { groupFilter } = provider;
  if (groupFilter.kind !== 'search') {
    steps.notConfigured('groupSearchFilter', 'Not set.');
  } else if (!steps.skipIfBlocked('groupSearchFilter', 'readGroups')) {
    const answer = await probe!.get('/api/v1/groups', {
      search: groupFilter.search,
      limit: '1',
    });
    steps.add(
      searchFilterStep('groupSearchFilter', groupFilter.search, answer),
    );
  }

  // f. Group names.
  if (groupFilter.kind !== 'names') {
    steps.notConfigured('groupNames', 'Not set.');
  } else if (!steps.skipIfBlocked('groupNames', 'readGroups')) {
    steps.add(await checkGroupNames(probe!, groupFilter.names));
  }

  // g. The selection.
  if (options.includeSelection === false) {
    return report();
  }
  if (
    steps.skipIfBlocked(
      'selection',
      'readUsers',
      'readGroups',
      'userSearchFilter',
      'groupSearchFilter',
    )
  ) {
    steps.skipIfBlocked('deletionGuard', 'selection');
    return report();
  }
  const { step, selection } = await checkSelection(
    probe!.client,
    provider,
    options,
  );
  steps.add(step);
  if (!steps.skipIfBlocked('deletionGuard', 'selection') && selection) {
    steps.add(deletionGuardStep(provider, selection, options.lastApplied));
  }
  return report(selection);
}
