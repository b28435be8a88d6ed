/*
 * The `orgUrl` step: whether the configured URL is an Okta org, told by how
 * its token endpoint answers an empty request.
 */
import {
  httpTransport,
  type HttpExchange,
} from '../../okta/client/httpTransport';
import { oktaErrorOf } from '../../okta/client/OktaRequestExecutor';
import { describeError as describe } from '../oktaProbe';
import type { OktaSetupStepResult } from './stepList';

const NOT_AN_OKTA_ORG_FIX =
  'not an Okta org URL; use https://<org>.okta.com or your custom domain (the address of your Okta sign-in page, without "-admin" and without a path) in oktaUrl';

/** Step a: the token endpoint answers an empty request with an OAuth error. */
export async function checkOrgUrl(
  orgUrl: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<OktaSetupStepResult> {
  const tokenUrl = `${orgUrl}/oauth2/v1/token`;
  const host = new URL(orgUrl).hostname;
  const fix = /-admin\./i.test(host)
    ? `oktaUrl is the Admin Console address; use the org URL without "-admin" (https://${host.replace(
        /-admin\./i,
        '.',
      )})`
    : NOT_AN_OKTA_ORG_FIX;
  const failed = (detail: string) => ({
    id: 'orgUrl' as const,
    status: 'failed' as const,
    detail,
    fix,
  });

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
    const hint =
      code === 'ENOTFOUND' ? ' (the host name does not resolve)' : '';
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
  const type =
    response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
  return failed(
    `POST ${tokenUrl} answered HTTP ${response.status} (${type}), not an OAuth error as an Okta org does.`,
  );
}
