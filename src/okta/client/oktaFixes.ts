/*
 * What to fix for each answer of Okta that a setting can cause: one table
 * for the client's errors (request executor, token source) and the set-up
 * check, so that a sync and the check name the same console setting or
 * config key. Each entry is a lower-case clause; callers add the framing
 * ("Fix: ...", "To fix: ...").
 *
 * The answers are Okta's own (shared/FACTS.md): 401 `invalid_client` with an
 * error_description naming the part (kid, client_id, signature, expiry),
 * 400 `invalid_scope`, 400 `unauthorized_client`, `invalid_dpop_proof`
 * (token endpoint body, or on /api/v1 only in WWW-Authenticate with an empty
 * 400), 401 E0000011 "Invalid token provided", 403 E0000005 "Invalid session"
 * for an Authorization header Okta cannot read, 403 E0000006 without an
 * admin role.
 */

/** The fixes, by cause. */
export const OKTA_FIXES = {
  clientAssertionKid:
    'keyId does not match a public key of the app (Applications → your app → General → Public keys → KID); set keyId to that KID',
  clientId:
    'clientId is not the Client ID of an app in this org (Applications → your app → General → Client Credentials → Client ID)',
  clientAssertionSignature:
    'privateKey is not the private half of the public key with this KID; paste the private key generated for it (General → Public keys), or add this key\'s public key to the app and use its KID (README "Set up Okta", step 2)',
  clock:
    "this machine's clock is off; synchronise it (NTP): Okta checks the assertion's iat/exp",
  clientAuthenticationMethod:
    'set Client authentication to Public key / Private key (Applications → your app → General → Client Credentials → Edit; README "Set up Okta", step 2)',
  invalidClient:
    'wrong private key, client id, or the app does not use Public key / Private key client authentication: check clientId, keyId and privateKey against Applications → your app → General (README "Set up Okta", steps 1–2)',
  scopes: (scopes: readonly string[]) =>
    `grant ${scopes.join(' and ')} on the Okta API Scopes tab (Applications → your app → Okta API Scopes → Grant; README "Set up Okta", step 4)`,
  unauthorizedClient:
    'the app must be an API Services app, which allows the Client Credentials grant (README "Set up Okta", step 1)',
  dpopProof:
    'Okta rejected the DPoP proof; check that this machine\'s clock is right and that no proxy rewrites the request URL (the proof names method and URL), or turn off "Require DPoP" in the app\'s General settings (README "Set up Okta", step 3)',
  invalidSession:
    'Okta could not read the Authorization header; check that token (or the access token) has no spaces, quotes or line breaks, e.g. from a secret file',
  apiToken:
    'the API token is invalid or expired (SSWS tokens expire after 30 days unused, or when their admin is deactivated); create one in Security → API → Tokens and set token, or switch to an API Services app',
  accessTokenRejected:
    'Okta did not accept the access token for the API; see the detail (a DPoP or token problem)',
  adminRole: (resource?: 'Users' | 'Groups') =>
    resource
      ? `assign an admin role with ${
          resource === 'Users'
            ? 'User → View users and their details'
            : 'Group → View groups and their details'
        } on a resource set containing ${resource} (Security → Administrators → Resources; app → Admin roles), or the built-in Read-only Administrator role (README "Set up Okta", step 5)`
      : 'assign the app an admin role that can view users and groups (e.g. Read-only Administrator; app → Admin roles) and grant okta.users.read and okta.groups.read (README "Set up Okta", steps 4–5)',
  apiTokenAdminRole: (resource: 'users' | 'groups') =>
    `the admin who created the API token needs a role that can view ${resource} (e.g. Read-only Administrator); or switch to an API Services app (README "Set up Okta")`,
} as const;

/** An `invalid_client` answer's fix, from Okta's error_description. */
export function invalidClientFix(description: string | undefined): string {
  const text = description ?? '';
  if (/\bkid\b/i.test(text)) return OKTA_FIXES.clientAssertionKid;
  if (/client_id/i.test(text)) return OKTA_FIXES.clientId;
  if (/signature/i.test(text)) return OKTA_FIXES.clientAssertionSignature;
  if (/expired|in the future|too far/i.test(text)) return OKTA_FIXES.clock;
  if (/secret|authentication method|private_key_jwt/i.test(text)) {
    return OKTA_FIXES.clientAuthenticationMethod;
  }
  return OKTA_FIXES.invalidClient;
}

/** What Okta answered, as far as a fix depends on it. */
export interface OktaAnswerForFix {
  status?: number;
  /** Okta's errorCode (E0000011...) or OAuth error (invalid_client...). */
  errorCode?: string;
  /** Okta's error_description or errorSummary. */
  description?: string;
}

/**
 * The fix for a final answer of Okta, or undefined when no setting explains
 * it (5xx, 404, search syntax...).
 */
export function oktaFixFor(
  answer: OktaAnswerForFix,
  context: {
    /** How the provider authenticates. */
    auth: 'privateKey' | 'apiToken';
    /** For admin-role fixes: what the request read. */
    resource?: 'Users' | 'Groups';
  },
): string | undefined {
  const { status, errorCode, description } = answer;
  switch (errorCode) {
    case 'invalid_client':
      return invalidClientFix(description);
    case 'invalid_scope':
      return OKTA_FIXES.scopes(['okta.users.read', 'okta.groups.read']);
    case 'unauthorized_client':
      return OKTA_FIXES.unauthorizedClient;
    case 'invalid_dpop_proof':
      return OKTA_FIXES.dpopProof;
    case 'E0000005':
      return OKTA_FIXES.invalidSession;
    default:
  }
  if (status === 403 || errorCode === 'E0000006') {
    if (context.auth === 'apiToken') {
      return OKTA_FIXES.apiTokenAdminRole(
        context.resource === 'Groups' ? 'groups' : 'users',
      );
    }
    return OKTA_FIXES.adminRole(context.resource);
  }
  if (status === 401 || errorCode === 'E0000011') {
    return context.auth === 'apiToken'
      ? OKTA_FIXES.apiToken
      : OKTA_FIXES.accessTokenRejected;
  }
  return undefined;
}

/**
 * The `error` and `error_description` of a `WWW-Authenticate` challenge
 * (RFC 6750 section 3, RFC 9449 section 7.1): where Okta puts the reason for
 * a rejected DPoP proof on /api/v1, with an empty body.
 */
export function wwwAuthenticateError(header: string | null | undefined): {
  error?: string;
  description?: string;
} {
  if (!header) return {};
  const param = (name: string) =>
    new RegExp(`(?:^|[\\s,])${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i')
      .exec(header)?.[1]
      ?.replace(/\\(.)/g, '$1');
  const error = param('error');
  const description = param('error_description');
  return {
    ...(error ? { error } : {}),
    ...(description ? { description } : {}),
  };
}
