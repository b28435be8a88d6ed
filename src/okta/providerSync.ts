/*
 * The read path of one configured provider, in the pieces its three users
 * share: the provider's scheduled sync, the set-up check's dry run and the
 * benchmark. Keeping them here means all three read and map exactly alike.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { GroupEntity, UserEntity } from '@backstage/catalog-model';
import { createOktaOrgClient } from './client/createOktaOrgClient';
import type { OktaClientOptions, OktaOrgClient } from './client/types';
import {
  defaultGroupTransformer,
  defaultUserTransformer,
} from './defaultTransformers';
import { OrgEntityBuilder, type BuildOrgEntitiesOptions } from './org';
import { readOktaOrg } from './read';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from './types';

/** The client options the provider's config gives. */
export function providerClientOptions(
  provider: OktaProviderConfig,
  logger: LoggerService,
): OktaClientOptions {
  return {
    orgUrl: provider.orgUrl,
    auth: provider.auth,
    logger,
    maxConcurrency: provider.requests.maxConcurrency,
    requestTimeoutMs: provider.requests.requestTimeoutMs,
    maxRetries: provider.requests.maxRetries,
  };
}

/** An Okta client set up as the provider's config says. */
export function createProviderClient(
  provider: OktaProviderConfig,
  logger: LoggerService,
): OktaOrgClient {
  return createOktaOrgClient(providerClientOptions(provider, logger));
}

/** What one provider run read and built. */
export interface ProviderEntities {
  users: UserEntity[];
  groups: GroupEntity[];
  /** Memberships among the selected users and groups, as Okta listed them. */
  memberships: number;
  /** Names from `groupNames` that matched no Okta group. */
  unmatchedGroupNames: string[];
  /** Member listings skipped because Okta said the group is empty. */
  emptyGroupsSkipped: number;
  /** From the start until Okta's last answer was in (the entities mapped so far). */
  readSeconds: number;
  /** From then until the entities were complete (names, memberships, hierarchy). */
  finishSeconds: number;
}

/**
 * Reads the provider's selection from Okta and builds its entities, mapping
 * each user and group as it arrives (while the next pages are on their way)
 * and letting the Okta record go once it is mapped. Completely or not at all:
 * any failure, a throwing transformer included, rejects and stops the read.
 */
export async function readProviderEntities(
  client: OktaOrgClient,
  provider: OktaProviderConfig,
  options: {
    logger: LoggerService;
    signal?: AbortSignal;
    userTransformer?: OktaUserTransformer;
    groupTransformer?: OktaGroupTransformer;
  },
): Promise<ProviderEntities> {
  const started = performance.now();
  const builder = new OrgEntityBuilder(builderOptions(provider, options));
  const read = await readOktaOrg(
    client,
    {
      userSearchFilter: provider.userSearchFilter,
      groupFilter: provider.groupFilter,
    },
    {
      logger: options.logger,
      signal: options.signal,
      // Twice the client's concurrency: while a listing hands its page over
      // (mapping it), another's request already waits for the slot it freed.
      memberListingConcurrency: 2 * (provider.requests.maxConcurrency ?? 10),
      onUser: user => builder.addUser(user),
      onGroup: group => builder.addGroup(group),
    },
  );
  const readDone = performance.now();
  const { users, groups } = await builder.build(
    read.membersByGroupId,
    read.selectedUserIds,
    new Set(read.groups.map(group => group.id)),
  );
  let memberships = 0;
  for (const ids of read.membersByGroupId.values()) {
    memberships += ids.length;
  }
  return {
    users,
    groups,
    memberships,
    unmatchedGroupNames: read.unmatchedGroupNames,
    emptyGroupsSkipped: read.emptyGroupsSkipped,
    readSeconds: (readDone - started) / 1000,
    finishSeconds: (performance.now() - readDone) / 1000,
  };
}

/** How the provider's config and transformers map Okta records to entities. */
export function builderOptions(
  provider: OktaProviderConfig,
  options: {
    logger: LoggerService;
    userTransformer?: OktaUserTransformer;
    groupTransformer?: OktaGroupTransformer;
  },
): BuildOrgEntitiesOptions {
  return {
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
  };
}
