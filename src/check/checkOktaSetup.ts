/*
 * The set-up check: asks Okta, one setting at a time, whether a provider's
 * configuration works, and turns each answer into the console setting or
 * config key to fix. Later steps are skipped when one they need failed.
 *
 * Built from the client's own pieces (request executor, token source), so it
 * sees Okta's answers exactly as a sync would, with one extra: the raw body
 * of each answer, for Okta's own error text.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { httpTransport, type HttpExchange } from '../okta/client/httpTransport';
import { OKTA_FIXES, oktaFixFor } from '../okta/client/oktaFixes';
import { oktaErrorOf } from '../okta/client/OktaRequestExecutor';
import {
  createProviderClient,
  readProviderEntities,
  totalRequests,
} from '../okta/providerSync';
import {
  groupNameSearchExpressions,
  quoteOktaSearchValue,
} from '../okta/read';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from '../okta/types';
import {
  ALLOW_LARGE_REMOVALS_KEY,
  decideDeletionGuard,
  DEFAULT_MAX_REMOVED_SHARE,
  fewestKept,
} from '../sync/deletionGuard';
import type { OktaEntityCounts } from '../sync/syncSummary';
import { closestNames } from './closestNames';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  describeError as describe,
  GROUPS_SCOPE,
  OktaProbe,
  oktaSaid,
  SCOPES,
  USERS_SCOPE,
  type ApiAnswer,
  type TokenAnswer,
} from './oktaProbe';
import type {
  OktaSetupReport,
  OktaSetupSelection,
  OktaSetupStep,
  OktaSetupStepId,
} from './types';

/** Options of {@link checkOktaSetup}. */
export interface CheckOktaSetupOptions {
  /** Receives the client's own log lines (retries, DPoP); default silent. */
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

/** Missing group names looked up for suggestions, and candidates per lookup. */
const MAX_NAMES_TO_SUGGEST_FOR = 10;
const MAX_SUGGESTION_CANDIDATES = 200;

const TITLES: Record<OktaSetupStepId, string> = {
  orgUrl: 'Org URL (oktaUrl) is an Okta org',
  clientAuthentication:
    'Client authentication with the key pair (clientId, keyId, privateKey)',
  scopes: `Okta API scopes granted (${USERS_SCOPE}, ${GROUPS_SCOPE})`,
  apiToken: 'SSWS API token (token) is valid',
  readUsers: 'Admin role allows listing users',
  readGroups: 'Admin role allows listing groups',
  userSearchFilter: 'userSearchFilter accepted by Okta',
  groupSearchFilter: 'groupSearchFilter accepted by Okta',
  groupNames: 'groupNames exist in Okta',
  selection: 'What a sync would read',
  deletionGuard: 'What the deletion guard would say',
};

const NOT_AN_OKTA_ORG_FIX =
  'not an Okta org URL; use https://<org>.okta.com or your custom domain (the address of your Okta sign-in page, without "-admin" and without a path) in oktaUrl';

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

/** The ordered steps, and which failure each blocked step traces back to. */
class StepList {
  readonly steps: OktaSetupStep[] = [];
  private readonly blockedBy = new Map<OktaSetupStepId, string>();

  add(step: Omit<OktaSetupStep, 'title'> & { title?: string }): OktaSetupStep {
    const full: OktaSetupStep = { ...step, title: step.title ?? TITLES[step.id] };
    this.steps.push(full);
    if (full.status === 'failed') this.blockedBy.set(full.id, full.title);
    return full;
  }

  /** The failed step (direct or upstream) among `dependencies`, if any. */
  blocker(...dependencies: OktaSetupStepId[]): string | undefined {
    for (const id of dependencies) {
      const title = this.blockedBy.get(id);
      if (title) return title;
    }
    return undefined;
  }

  /** Adds `id` as skipped when a dependency failed; returns whether it did. */
  skipIfBlocked(id: OktaSetupStepId, ...dependencies: OktaSetupStepId[]): boolean {
    const title = this.blocker(...dependencies);
    if (!title) return false;
    this.steps.push({
      id,
      title: TITLES[id],
      status: 'skipped',
      detail: `Not checked: "${title}" failed.`,
    });
    this.blockedBy.set(id, title);
    return true;
  }

  notConfigured(id: OktaSetupStepId, detail: string) {
    this.steps.push({ id, title: TITLES[id], status: 'skipped', detail });
  }
}

/** Step a: the token endpoint answers an empty request with an OAuth error. */
async function checkOrgUrl(
  orgUrl: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Omit<OktaSetupStep, 'title'>> {
  const tokenUrl = `${orgUrl}/oauth2/v1/token`;
  const host = new URL(orgUrl).hostname;
  const fix = /-admin\./i.test(host)
    ? `oktaUrl is the Admin Console address; use the org URL without "-admin" (https://${host.replace(
        /-admin\./i,
        '.',
      )})`
    : NOT_AN_OKTA_ORG_FIX;
  const failed = (detail: string) => ({ id: 'orgUrl' as const, status: 'failed' as const, detail, fix });

  const timeout = AbortSignal.timeout(timeoutMs);
  let response: HttpExchange;
  let body: string;
  try {
    // One unauthenticated request through the client's transport, which
    // never follows a redirect: an Okta org answers this itself.
    response = await httpTransport.send(tokenUrl, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: '',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    body = await response.body();
  } catch (error) {
    if (signal?.aborted) throw error;
    const { code } = error as { code?: unknown };
    const reason = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : String(code ?? describe(error));
    const hint = code === 'ENOTFOUND' ? ' (the host name does not resolve)' : '';
    return failed(`Could not reach POST ${tokenUrl}: ${reason}${hint}.`);
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    return failed(
      `POST ${tokenUrl} answered HTTP ${response.status}, a redirect${
        location ? ` to ${location.split('?')[0]}` : ''
      }; an Okta org answers it itself.`,
    );
  }
  const { errorCode } = oktaErrorOf(body);
  if (errorCode && response.status >= 400 && response.status < 500) {
    if (response.status === 404) {
      return failed(
        `POST ${tokenUrl} answered HTTP 404 ${errorCode}: the host speaks Okta's API but has no org authorization server there.`,
      );
    }
    return {
      id: 'orgUrl',
      status: 'passed',
      detail: `${orgUrl} answers as an Okta org authorization server (an empty token request got HTTP ${response.status} ${errorCode}).`,
    };
  }
  const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
  return failed(
    `POST ${tokenUrl} answered HTTP ${response.status} (${type}), not an OAuth error as an Okta org does.`,
  );
}

function tokenFailureDetail(answer: Extract<TokenAnswer, { ok: false }>): string {
  if (answer.errorCode) {
    return `Okta's token endpoint answered HTTP ${answer.status ?? '?'} ${answer.errorCode}${
      answer.description ? `: ${answer.description}` : ''
    }.`;
  }
  return answer.message;
}

/** Steps b and c: a token with both scopes, else which scope is missing. */
async function checkClientAndScopes(
  probe: OktaProbe,
  provider: OktaProviderConfig,
  steps: StepList,
) {
  const auth = provider.auth;
  if (auth.kind !== 'privateKey') return;
  const client = `client ${auth.clientId}, key ${auth.keyId}`;
  const answer = await probe.token();
  const dpopNote = () =>
    probe.usesDpop
      ? 'DPoP required: supported (the module sends DPoP proofs).'
      : 'DPoP not required (Bearer tokens); you may turn on "Require DPoP" in the app\'s General settings, the module supports it.';

  if (answer.ok) {
    steps.add({
      id: 'clientAuthentication',
      status: 'passed',
      detail: `Okta issued an access token to ${client}. ${dpopNote()}`,
    });
    steps.add({
      id: 'scopes',
      status: 'passed',
      detail: `Both scopes granted: ${SCOPES.join(', ')}.`,
    });
    return;
  }

  if (answer.errorCode === 'invalid_scope') {
    // Client authentication passed: Okta checks scopes after it.
    const missing: string[] = [];
    const unknown: string[] = [];
    for (const scope of SCOPES) {
      const alone = await probe.tokenFor([scope]);
      if (!alone.ok && alone.errorCode === 'invalid_scope') missing.push(scope);
      else if (!alone.ok) unknown.push(scope);
    }
    steps.add({
      id: 'clientAuthentication',
      status: 'passed',
      detail: `Okta authenticated ${client}.${
        missing.length < SCOPES.length ? ` ${dpopNote()}` : ''
      }`,
    });
    const which = missing.length ? missing : SCOPES;
    let notGranted = '';
    if (missing.length) notGranted = ` Not granted: ${missing.join(', ')}.`;
    else if (unknown.length) notGranted = ' Could not tell which scope is missing.';
    steps.add({
      id: 'scopes',
      status: 'failed',
      detail: `${tokenFailureDetail(answer)}${notGranted}`,
      fix: OKTA_FIXES.scopes(which),
    });
    return;
  }

  const fix =
    (answer.errorCode
      ? oktaFixFor(
          { status: answer.status, errorCode: answer.errorCode, description: answer.description },
          { auth: 'privateKey' },
        )
      : undefined) ??
    'check that oktaUrl is the org of this app and that Okta is reachable; the detail gives Okta\'s answer';
  steps.add({
    id: 'clientAuthentication',
    status: 'failed',
    detail: tokenFailureDetail(answer),
    fix,
  });
}

/** Step d for one resource: list one item. */
function listingStep(
  id: 'readUsers' | 'readGroups',
  answer: ApiAnswer,
  provider: OktaProviderConfig,
): Omit<OktaSetupStep, 'title'> {
  const resource = id === 'readUsers' ? 'users' : 'groups';
  const endpoint = `GET /api/v1/${resource}`;
  const ssws = provider.auth.kind === 'apiToken';
  if (answer.kind === 'response' && answer.status === 200) {
    if (answer.items && answer.items.length === 0) {
      return {
        id,
        status: 'warning',
        detail: `${endpoint} answered with no ${resource} at all.`,
        fix: ssws
          ? `check that the org has ${resource}`
          : `if the org has ${resource}, the app's admin role may be on a resource set without ${
              id === 'readUsers' ? 'Users' : 'Groups'
            } (Security → Administrators → Resources)`,
      };
    }
    return { id, status: 'passed', detail: `${endpoint} answered 200.` };
  }
  const fix =
    answer.kind === 'response'
      ? oktaFixFor(
          { status: answer.status, errorCode: answer.errorCode, description: answer.summary },
          { auth: provider.auth.kind, resource: id === 'readUsers' ? 'Users' : 'Groups' },
        )
      : undefined;
  if (
    answer.kind === 'response' &&
    answer.errorCode !== 'E0000005' &&
    (answer.status === 403 || answer.errorCode === 'E0000006')
  ) {
    return {
      id,
      status: 'failed',
      detail: `${endpoint} answered ${oktaSaid(answer)}.`,
      fix: fix ?? "see Okta's answer in the detail",
    };
  }
  return {
    id,
    status: 'failed',
    detail: `${endpoint} failed: ${oktaSaid(answer)}.`,
    fix: fix ?? "see Okta's answer in the detail; retry later if Okta was unavailable",
  };
}

/** Step e for one filter. */
function searchFilterStep(
  id: 'userSearchFilter' | 'groupSearchFilter',
  expression: string,
  answer: ApiAnswer,
): Omit<OktaSetupStep, 'title'> {
  const resource = id === 'userSearchFilter' ? 'users' : 'groups';
  if (answer.kind === 'response' && answer.status === 200) {
    if (answer.items && answer.items.length === 0) {
      return {
        id,
        status: 'warning',
        detail: `Okta accepted ${id} ${JSON.stringify(expression)} but it matches no ${resource}.`,
        fix: `check the values in ${id}; a sync would read no ${resource}`,
      };
    }
    return {
      id,
      status: 'passed',
      detail: `Okta accepted ${id} ${JSON.stringify(expression)}; it matches ${resource}.`,
    };
  }
  if (answer.kind === 'response' && answer.status === 400) {
    return {
      id,
      status: 'failed',
      detail: `GET /api/v1/${resource}?search=… answered ${oktaSaid(answer)}.`,
      fix: `Okta rejected the search expression: ${
        answer.summary ?? answer.errorCode ?? 'HTTP 400'
      }. Fix ${id} (${JSON.stringify(expression)}): Okta search syntax, e.g. ${
        resource === 'users' ? 'status eq "ACTIVE"' : 'profile.name sw "team-"'
      }`,
    };
  }
  return {
    id,
    status: 'failed',
    detail: `GET /api/v1/${resource}?search=… failed: ${oktaSaid(answer)}.`,
    fix: 'see Okta\'s answer in the detail',
  };
}

function groupNameOf(item: unknown): string | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const profile = (item as { profile?: unknown }).profile;
  if (!profile || typeof profile !== 'object') return undefined;
  const name = (profile as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** All pages of a group listing's names; an error answer when one fails. */
async function listGroupNames(
  probe: OktaProbe,
  query: Record<string, string>,
  maxNames = Infinity,
): Promise<{ names: string[] } | { failure: ApiAnswer }> {
  const names: string[] = [];
  let answer = await probe.get('/api/v1/groups', query);
  for (;;) {
    if (answer.kind !== 'response' || answer.status !== 200) return { failure: answer };
    for (const item of answer.items ?? []) {
      const name = groupNameOf(item);
      if (name !== undefined) names.push(name);
    }
    if (!answer.next || names.length >= maxNames) return { names };
    answer = await probe.getUrl(answer.next);
  }
}

/** Step f: every configured group name matches an Okta group. */
async function checkGroupNames(
  probe: OktaProbe,
  names: string[],
): Promise<Omit<OktaSetupStep, 'title'>> {
  const found = new Set<string>();
  for (const search of groupNameSearchExpressions(names)) {
    const listed = await listGroupNames(probe, { search, limit: '10000' });
    if ('failure' in listed) {
      return {
        id: 'groupNames',
        status: 'failed',
        detail: `Looking the names up failed: ${oktaSaid(listed.failure)}.`,
        fix: 'see Okta\'s answer in the detail',
      };
    }
    listed.names.forEach(name => found.add(name));
  }
  // Okta compares names ignoring case; the provider wants the exact name.
  const foundIgnoringCase = new Map([...found].map(name => [name.toLowerCase(), name]));
  const caseOnly: string[] = [];
  const missing: string[] = [];
  for (const name of names.filter(n => !found.has(n))) {
    const actual = foundIgnoringCase.get(name.toLowerCase());
    if (actual) caseOnly.push(`${JSON.stringify(name)} matches ${JSON.stringify(actual)} only when case is ignored`);
    else missing.push(name);
  }
  const caseFix = caseOnly.length
    ? `write the names exactly as in Okta (Directory → Groups): ${caseOnly.join('; ')}`
    : undefined;
  if (missing.length === 0 && caseOnly.length) {
    return {
      id: 'groupNames',
      status: 'warning',
      detail: `All ${names.length} group name(s) match an Okta group, ${caseOnly.length} only when case is ignored (a sync reads them but warns on every run).`,
      fix: caseFix,
    };
  }
  if (missing.length === 0) {
    return {
      id: 'groupNames',
      status: 'passed',
      detail: `All ${names.length} group name(s) match an Okta group.`,
    };
  }
  // Suggestions from groups sharing the first characters: one small request per name.
  const described: string[] = [];
  for (const [index, name] of missing.entries()) {
    let suggestion = '';
    if (index < MAX_NAMES_TO_SUGGEST_FOR) {
      const prefix = name.slice(0, 2);
      const listed = await listGroupNames(
        probe,
        {
          search: `profile.name sw ${quoteOktaSearchValue(prefix)}`,
          limit: String(MAX_SUGGESTION_CANDIDATES),
        },
        MAX_SUGGESTION_CANDIDATES,
      );
      const near = 'names' in listed ? closestNames(name, listed.names) : [];
      if (near.length) suggestion = ` (closest: ${near.map(n => JSON.stringify(n)).join(', ')})`;
    }
    described.push(`${JSON.stringify(name)}${suggestion}`);
  }
  return {
    id: 'groupNames',
    status: 'failed',
    detail: `${missing.length} of ${names.length} group name(s) match no Okta group: ${described.join('; ')}.${
      caseOnly.length ? ` Also ${caseOnly.join('; ')}.` : ''
    }`,
    fix: 'correct or remove these entries of groupNames; Okta matches the exact group name (Directory → Groups)',
  };
}

/** Step g: a full read and the entities a sync would commit. */
async function checkSelection(
  provider: OktaProviderConfig,
  options: CheckOktaSetupOptions,
  logger: LoggerService,
): Promise<{ step: Omit<OktaSetupStep, 'title'>; selection?: OktaSetupSelection }> {
  const notes: string[] = [];
  const collecting: LoggerService = {
    error: message => notes.push(message),
    warn: message => notes.push(message),
    info: () => {},
    debug: () => {},
    child: () => collecting,
  };
  const started = performance.now();
  const client = createProviderClient(provider, logger);
  try {
    const { users, groups } = await readProviderEntities(client, provider, {
      logger: collecting,
      signal: options.signal,
      userTransformer: options.userTransformer,
      groupTransformer: options.groupTransformer,
    });
    const memberships = groups.reduce(
      (sum, group) => sum + (group.spec.members?.length ?? 0),
      0,
    );
    const requests = totalRequests(client);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = `A sync would emit ${users.length} users and ${groups.length} groups with ${memberships} memberships (read in ${seconds} s, ${requests} requests).`;
    const empty = users.length === 0 && groups.length === 0;
    return {
      step: {
        id: 'selection',
        status: empty ? 'warning' : 'passed',
        detail: summary,
        ...(empty && {
          fix: 'the config selects nothing: a sync would remove every entity this provider emitted before; check userSearchFilter, groupNames and groupSearchFilter',
        }),
        ...(notes.length && { notes }),
      },
      selection: { users, groups, memberships },
    };
  } catch (error) {
    return {
      step: {
        id: 'selection',
        status: 'failed',
        detail: `The full read failed: ${describe(error)}`,
        fix: 'see the detail; a sync would fail the same way and apply nothing',
        ...(notes.length && { notes }),
      },
    };
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
      probe = new OktaProbe(provider, logger, signal);
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
    steps.notConfigured('clientAuthentication', 'Not used: the provider authenticates with an SSWS API token (token).');
    steps.notConfigured('scopes', 'Not used: an SSWS API token has the rights of the admin who created it.');
    if (!steps.skipIfBlocked('apiToken', 'orgUrl')) {
      usersAnswer = await probe!.get('/api/v1/users', { limit: '1' });
      if (
        usersAnswer.kind === 'response' &&
        (usersAnswer.status === 401 ||
          usersAnswer.errorCode === 'E0000011' ||
          usersAnswer.errorCode === 'E0000005')
      ) {
        steps.add({
          id: 'apiToken',
          status: 'failed',
          detail: `GET /api/v1/users answered ${oktaSaid(usersAnswer)}.`,
          fix: oktaFixFor(usersAnswer, { auth: 'apiToken' }) ?? OKTA_FIXES.apiToken,
        });
      } else if (usersAnswer.kind === 'error') {
        steps.add({
          id: 'apiToken',
          status: 'failed',
          detail: usersAnswer.message,
          fix: 'see the detail',
        });
      } else {
        steps.add({ id: 'apiToken', status: 'passed', detail: 'Okta accepted the API token.' });
      }
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
    steps.notConfigured('userSearchFilter', 'Not set: all users but deprovisioned ones.');
  } else if (!steps.skipIfBlocked('userSearchFilter', 'readUsers')) {
    const answer = await probe!.get('/api/v1/users', {
      search: provider.userSearchFilter,
      limit: '1',
    });
    steps.add(searchFilterStep('userSearchFilter', provider.userSearchFilter, answer));
  }
  const { groupFilter } = provider;
  if (groupFilter.kind !== 'search') {
    steps.notConfigured('groupSearchFilter', 'Not set.');
  } else if (!steps.skipIfBlocked('groupSearchFilter', 'readGroups')) {
    const answer = await probe!.get('/api/v1/groups', {
      search: groupFilter.search,
      limit: '1',
    });
    steps.add(searchFilterStep('groupSearchFilter', groupFilter.search, answer));
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
  const { step, selection } = await checkSelection(provider, options, logger);
  steps.add(step);
  if (!steps.skipIfBlocked('deletionGuard', 'selection') && selection) {
    steps.add(deletionGuardStep(provider, selection, options.lastApplied));
  }
  return report(selection);
}

/** Step h: the deletion guard's verdict on the selection just read. */
function deletionGuardStep(
  provider: OktaProviderConfig,
  selection: OktaSetupSelection,
  lastApplied: OktaEntityCounts | undefined,
): Omit<OktaSetupStep, 'title'> {
  const config = provider.deletionGuard ?? {
    maxRemovedShare: DEFAULT_MAX_REMOVED_SHARE,
    allowLargeRemovals: false,
  };
  const after = { users: selection.users.length, groups: selection.groups.length };
  const verdict = decideDeletionGuard({
    providerName: `OktaOrgEntityProvider:${provider.id}`,
    providerId: provider.id,
    before: lastApplied,
    after,
    config,
  });
  const next = fewestKept(after, config.maxRemovedShare);
  const share = `${Math.round(config.maxRemovedShare * 100)}%`;
  const later = `Once applied, a later sync is refused when it keeps fewer than ${next.users} of these ${after.users} users or ${next.groups} of these ${after.groups} groups (deletionGuard.maxRemovedShare ${share}), or none of a kind.`;
  const baseline = lastApplied
    ? `Compared with the last applied sync (${lastApplied.users} users, ${lastApplied.groups} groups)`
    : 'With no record of the last applied sync here (pass --last-applied USERS,GROUPS to compare)';
  if (verdict.decision === 'apply') {
    return {
      id: 'deletionGuard',
      status: 'passed',
      detail: `${baseline}, the guard would apply this sync. ${later}`,
    };
  }
  if (verdict.decision === 'allowed') {
    return {
      id: 'deletionGuard',
      status: 'warning',
      detail: verdict.message!,
      fix: `remove ${ALLOW_LARGE_REMOVALS_KEY} once the large change is applied`,
    };
  }
  return {
    id: 'deletionGuard',
    // Without a baseline an empty result may have nothing to protect: a
    // warning, as for a selection that is empty.
    status: lastApplied ? 'failed' : 'warning',
    detail: verdict.message!,
    fix: `check the app's admin role and the filters; if the change is deliberate, set ${ALLOW_LARGE_REMOVALS_KEY}: true for the sync that should apply it`,
  };
}
