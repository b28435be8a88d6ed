/*
 * The read path of one configured provider, in the pieces its three users
 * share: the provider's scheduled sync, the set-up check's dry run and the
 * benchmark. Keeping them here means all three read and map exactly alike.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { createOktaOrgClient } from './client/createOktaOrgClient';
import type { OktaOrgClient } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import { buildOrgEntities } from './org';
import { readOktaOrg, type OktaReadResult } from './read';
import type {
  OktaGroupTransformer,
  OktaOrgSnapshot,
  OktaProviderConfig,
  OktaUserTransformer,
} from './types';

/** An Okta client set up as the provider's config says. */
export function createProviderClient(
  provider: OktaProviderConfig,
  logger: LoggerService,
): OktaOrgClient {
  return createOktaOrgClient({
    orgUrl: provider.orgUrl,
    auth: provider.auth,
    logger,
    maxConcurrency: provider.requests.maxConcurrency,
    requestTimeoutMs: provider.requests.requestTimeoutMs,
    maxRetries: provider.requests.maxRetries,
  });
}

/** Reads the provider's selection from Okta, completely or not at all. */
export function readProviderSelection(
  client: OktaOrgClient,
  provider: OktaProviderConfig,
  options: { logger: LoggerService; signal?: AbortSignal },
): Promise<OktaReadResult> {
  return readOktaOrg(
    client,
    {
      userSearchFilter: provider.userSearchFilter,
      groupFilter: provider.groupFilter,
    },
    {
      logger: options.logger,
      signal: options.signal,
      memberListingConcurrency: provider.requests.maxConcurrency,
    },
  );
}

/** Maps what was read to entities, with the provider's naming and hierarchy. */
export function buildProviderEntities(
  snapshot: OktaOrgSnapshot,
  provider: OktaProviderConfig,
  options: {
    logger: LoggerService;
    userTransformer?: OktaUserTransformer;
    groupTransformer?: OktaGroupTransformer;
  },
): Promise<{ users: UserEntity[]; groups: GroupEntity[] }> {
  return buildOrgEntities(snapshot, {
    context: {
      providerId: provider.id,
      orgUrl: provider.orgUrl,
      userNaming: provider.userNaming,
      groupType: provider.groupType,
    },
    userTransformer: options.userTransformer ?? defaultUserTransformer,
    groupTransformer: options.groupTransformer ?? defaultGroupTransformer,
    parentGroupAttribute: provider.parentGroupAttribute,
    logger: options.logger,
  });
}

/** Requests the client has sent so far, all endpoints together. */
export function totalRequests(client: OktaOrgClient): number {
  return Object.values(client.stats().requests).reduce((a, b) => a + b, 0);
}
