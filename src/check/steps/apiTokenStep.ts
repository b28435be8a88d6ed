/*
 * The `apiToken` step: whether Okta accepts the SSWS API token.
 */
import { OKTA_FIXES, oktaFixFor } from '../../okta/client/oktaFixes';
import { oktaSaid, type ApiAnswer } from '../oktaProbe';
import type { OktaSetupStepResult } from './stepList';

/**
 * Step b with an SSWS token: Okta's answer to listing one user says whether
 * it accepts the token (the same answer then serves the readUsers step).
 */
export function apiTokenStep(usersAnswer: ApiAnswer): OktaSetupStepResult {
  if (
    usersAnswer.kind === 'response' &&
    (usersAnswer.status === 401 ||
      usersAnswer.errorCode === 'E0000011' ||
      usersAnswer.errorCode === 'E0000005')
  ) {
    return {
      id: 'apiToken',
      status: 'failed',
      detail: `GET /api/v1/users answered ${oktaSaid(usersAnswer)}.`,
      fix: oktaFixFor(usersAnswer, { auth: 'apiToken' }) ?? OKTA_FIXES.apiToken,
    };
  }
  if (usersAnswer.kind === 'error') {
    return {
      id: 'apiToken',
      status: 'failed',
      detail: usersAnswer.message,
      fix: 'see the detail',
    };
  }
  return {
    id: 'apiToken',
    status: 'passed',
    detail: 'Okta accepted the API token.',
  };
}
