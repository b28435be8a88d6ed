/*
 * The `readUsers` and `readGroups` steps: whether the admin role lets the
 * app list users and groups.
 */
import { oktaFixFor } from '../../okta/client/oktaFixes';
import type { OktaProviderConfig } from '../../okta/types';
import { oktaSaid, type ApiAnswer } from '../oktaProbe';
import type { OktaSetupStepResult } from './stepList';

/** Step d for one resource: list one item. */
export function listingStep(
  id: 'readUsers' | 'readGroups',
  answer: ApiAnswer,
  provider: OktaProviderConfig,
): OktaSetupStepResult {
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
          {
            status: answer.status,
            errorCode: answer.errorCode,
            description: answer.summary,
          },
          {
            auth: provider.auth.kind,
            resource: id === 'readUsers' ? 'Users' : 'Groups',
          },
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
    fix:
      fix ??
      "see Okta's answer in the detail; retry later if Okta was unavailable",
  };
}
