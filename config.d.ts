import type { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

/**
 * One Okta org to read users and groups from.
 *
 * Authenticate either with an Okta API Services app (`clientId`, `keyId`,
 * `privateKey`; grant it the scopes `okta.users.read` and `okta.groups.read`
 * and an admin role that can view users and groups), or with an SSWS API
 * token (`token`). Never both.
 */
interface OktaOrgProviderConfig {
  /**
   * A stable id for this provider. Entities are associated with it (the
   * provider is named `OktaOrgEntityProvider:<id>`), so changing it orphans
   * every entity the provider emitted before. Letters, digits, `-` and `_`,
   * at most 63 characters.
   *
   * Optional (default `default`) when `catalog.providers.okta` is one object;
   * required and unique when it is a list.
   *
   * @example "default"
   */
  id?: string;

  /**
   * The URL of the Okta org, without a path: `https://<org>.okta.com`,
   * `https://<org>.oktapreview.com` or a custom domain. Must be https unless
   * `allowInsecureHttp` is true. The Admin Console address
   * (`https://<org>-admin.okta.com`) is read as the org's (`https://<org>.okta.com`).
   *
   * @example "https://example.okta.com"
   */
  oktaUrl: string;

  /**
   * The client id of the Okta API Services app. Required with `privateKey`.
   */
  clientId?: string;

  /**
   * The key id (KID) of the public key registered in the Okta app. Required
   * with a PEM `privateKey`; with a JWK that has a `kid` it may be omitted.
   */
  keyId?: string;

  /**
   * The private key of the Okta app, RSA or EC: a PEM block (PKCS#8, PKCS#1
   * or SEC1) or a JWK as a JSON string. Literal `\n` sequences (as left by
   * some environment variables) are turned back into newlines.
   *
   * @visibility secret
   */
  privateKey?: string;

  /**
   * An SSWS API token, as an alternative to the app credentials above.
   *
   * @visibility secret
   */
  token?: string;

  /**
   * When to read the org. Default: every 30 minutes, with a 30 minute
   * timeout and no initial delay. A schedule that sets only `frequency` or
   * only `timeout` gets the default for the other.
   */
  schedule?: Partial<SchedulerServiceTaskScheduleDefinitionConfig>;

  /**
   * An Okta search expression for GET /api/v1/users, narrowing the users
   * read. Without it Okta leaves out deprovisioned users; with it they are
   * included unless the expression excludes them.
   *
   * @example "status eq \"ACTIVE\""
   */
  userSearchFilter?: string;

  /**
   * Okta group names (exact, as in Okta) of the groups to read. When a group
   * filter is set, only users in at least one of the groups are read.
   * Cannot be combined with `groupSearchFilter`.
   */
  groupNames?: string[];

  /**
   * An Okta search expression for GET /api/v1/groups, choosing the groups to
   * read. When a group filter is set, only users in at least one of the
   * groups are read. Cannot be combined with `groupNames`.
   *
   * @example "profile.name sw \"team-\""
   */
  groupSearchFilter?: string;

  /**
   * The `spec.type` of the Group entities. Default `team`.
   */
  groupType?: string;

  /**
   * How a user's entity name is made: `emailLocalPart` (default; `jane.doe`
   * from jane.doe@example.com, else from the login), `email`
   * (`jane.doe_example.com`) or `login` (the whole Okta login, normalised).
   */
  userNaming?: 'emailLocalPart' | 'email' | 'login';

  /**
   * Builds the group hierarchy (`spec.parent`, `spec.children`) from Okta.
   */
  hierarchy?: {
    /**
     * A group profile attribute whose value names the parent group, by Okta
     * group name or id. A missing parent or a cycle is logged and the group
     * becomes a root.
     *
     * @example "parentGroup"
     */
    parentAttribute: string;
  };

  /**
   * Allows an `http:` `oktaUrl`. For local test servers only. Default false.
   */
  allowInsecureHttp?: boolean;

  /**
   * Whether the backend checks the Okta set-up once at start-up (token,
   * scopes, admin role, filters, group names) and logs each problem as a
   * warning with its fix. It never delays start-up. Default true.
   */
  checkSetupOnStart?: boolean;

  /**
   * Refuses a sync that would remove too much at once: an empty result, none
   * of the users or none of the groups the last applied sync had, or more
   * than `maxRemovedShare` of the users or of the groups. Such a read is
   * usually an admin role that was narrowed, a filter typo, or Okta
   * answering empty pages. A refused sync applies nothing and logs one
   * error; the next run checks again.
   */
  deletionGuard?: {
    /**
     * The largest share of the users, or of the groups, one sync may
     * remove: above 0, at most 1. Default 0.25.
     */
    maxRemovedShare?: number;
    /**
     * Applies syncs the guard would refuse: set it for a deliberate large
     * change (e.g. a narrower filter), then remove it. Default false.
     */
    allowLargeRemovals?: boolean;
  };

  /**
   * How often the provider reads the whole selection again instead of only
   * what changed since its last run (a Backstage duration, e.g.
   * `{ hours: 24 }`, or an ISO 8601 duration string). At least one minute.
   * Default one day. A change of the provider's config forces a full read
   * on the next run regardless.
   */
  fullReadEvery?: string | { [unit: string]: number };

  /**
   * Tuning of the requests to Okta.
   */
  requests?: {
    /**
     * Requests in flight at once, 1 to 75 (Okta's per-org limit; 35 on the
     * free plan). Default 10.
     */
    maxConcurrency?: number;
    /**
     * Timeout of each HTTP request, as a duration (`30s`, `PT1M` or
     * `{ seconds: 30 }`). Default 30 seconds.
     */
    timeout?: string | { [unit: string]: number };
    /**
     * Retries of one request after a 429, 5xx, network error or timeout,
     * 0 to 20. Default 6.
     */
    maxRetries?: number;
  };

  /**
   * An endpoint for an Okta event hook, at
   * `<backend>/api/catalog/okta/event-hooks/<id>`: Okta pushes user, group
   * and membership events there and the changed objects are re-read within
   * seconds. Okta must reach the backend over HTTPS.
   */
  eventHook?: {
    /** Default true (when `eventHook` is set). */
    enabled?: boolean;
    /**
     * The header Okta sends the secret in: the event hook's authentication
     * field ("Authentication field" in the Admin Console). Default
     * `Authorization`.
     *
     * @example "X-Okta-Hook-Secret"
     */
    secretHeader?: string;
    /**
     * The header's value ("Authentication secret"): at least 16 characters,
     * compared in constant time. Requests without it get 401.
     *
     * @visibility secret
     */
    secret: string;
  };

  /**
   * Follows Okta's System Log (`/api/v1/logs`, scope `okta.logs.read`) for
   * the same events, when Okta cannot reach the backend.
   */
  systemLog?: {
    /** Default true (when `systemLog` is set). */
    enabled?: boolean;
    /**
     * Time between polls, at least 2 seconds (the logs bucket allows 120
     * requests a minute per org, 60 per app by default). Default 10 seconds.
     */
    pollInterval?: string | { [unit: string]: number };
  };
}

export interface Config {
  catalog?: {
    providers?: {
      /**
       * Okta org entity providers: one provider object, or a list of them
       * each with a unique `id`.
       */
      okta?: OktaOrgProviderConfig | OktaOrgProviderConfig[];
    };
  };
}
