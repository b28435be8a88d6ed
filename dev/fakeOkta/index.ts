/*
 * A fake Okta org for tests, the dev backend and the benchmark: a real HTTP
 * server that answers as Okta's org authorization server and management API
 * do for the endpoints the catalog module uses. It shares no code with the
 * provider in src/, so the two cannot agree on a shared mistake.
 */
export { DEFAULT_SEARCH_LAG_MS, startFakeOkta } from './server';
export { FakeOrg, USER_STATUSES, DEFAULT_USER_TYPE_ID } from './FakeOrg';
export type {
  FakeOrgOptions,
  NewOktaGroup,
  NewOktaUser,
  OktaGroup,
  OktaGroupProfile,
  OktaGroupType,
  OktaUser,
  OktaUserProfile,
  OktaUserStatus,
} from './FakeOrg';
export { generateOrg, demoOrg } from './generateOrg';
export type { GenerateOrgOptions } from './generateOrg';
export { createServiceAppKeys } from './jws';
export type { FakeAdminRoleScope } from './adminRoleScope';
export type { ServiceAppKeys } from './jws';
export { DEFAULT_APP_SHARE, DEFAULT_RATE_LIMITS } from './rateLimits';
export { userToApi, groupToApi } from './serialize';
export type { FakeOidc, FakeOidcWebApp } from './oidc';
export type {
  FakeJwk,
  FakeOkta,
  FakeOktaArrival,
  FakeOktaEndpoint,
  FakeOktaOptions,
  FakeOktaRateLimitOptions,
  FakeOktaRequestListener,
  FakeOktaRequestLogEntry,
  FakeOktaStats,
  FakeServiceApp,
  FaultKind,
  FaultRule,
  RateLimitBucket,
} from './types';
export { fakeChangeFeeds, DEFAULT_LOGS_RATE_LIMIT } from './changeFeeds';
export type { FakeChangeFeeds } from './changeFeeds';
export { FAKE_LOG_EVENT_TYPES, FAKE_ADMIN_ACTOR } from './systemLog';
export type {
  FakeLogEvent,
  FakeLogEventType,
  FakeLogTarget,
  FakeSystemLog,
} from './systemLog';
export { OKTA_EVENT_HOOK_TIMEOUT_MS } from './eventHooks';
export type {
  FakeEventHookDeliveryOptions,
  FakeEventHookEnvelope,
  FakeEventHookRegistration,
  FakeEventHookRequest,
  FakeEventHooks,
} from './eventHooks';
