/*
 * The `clientAuthentication` and `scopes` steps: a token for both scopes,
 * else which Okta setting stopped it (the key, the client, a missing scope).
 */
import { OKTA_FIXES, oktaFixFor } from '../../okta/client/oktaFixes';
import type { OktaProviderConfig } from '../../okta/types';
import { OktaProbe, SCOPES, type TokenAnswer } from '../oktaProbe';
import type { StepList } from './stepList';

function tokenFailureDetail(
  answer: Extract<TokenAnswer, { ok: false }>,
): string {
  if (answer.errorCode) {
    return `Okta's token endpoint answered HTTP ${answer.status ?? '?'} ${answer.errorCode}${
      answer.description ? `: ${answer.description}` : ''
    }.`;
  }
  return answer.message;
}

/** Steps b and c: a token with both scopes, else which scope is missing. */
export async function checkClientAndScopes(
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
    else if (unknown.length)
      notGranted = ' Could not tell which scope is missing.';
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
          {
            status: answer.status,
            errorCode: answer.errorCode,
            description: answer.description,
          },
          { auth: 'privateKey' },
        )
      : undefined) ??
    "check that oktaUrl is the org of this app and that Okta is reachable; the detail gives Okta's answer";
  steps.add({
    id: 'clientAuthentication',
    status: 'failed',
    detail: tokenFailureDetail(answer),
    fix,
  });
}
