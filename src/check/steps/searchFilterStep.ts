/*
 * The `userSearchFilter` and `groupSearchFilter` steps: whether Okta accepts
 * the search expression, and whether it matches anything.
 */
import { oktaSaid, type ApiAnswer } from '../oktaProbe';
import type { OktaSetupStepResult } from './stepList';

/** Step e for one filter. */
export function searchFilterStep(
  id: 'userSearchFilter' | 'groupSearchFilter',
  expression: string,
  answer: ApiAnswer,
): OktaSetupStepResult {
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
    fix: "see Okta's answer in the detail",
  };
}
