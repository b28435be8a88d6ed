/*
 * Reads the selection one provider is configured for: its groups, their
 * members, and the users, handing users and groups on as they arrive and
 * keeping only ids. Knows nothing of HTTP (that is the client's) nor of
 * entities (that is org.ts's). Any failure rejects the whole read: a partial
 * snapshot must never reach a full mutation.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  OktaRequestError,
  type OktaGroup,
  type OktaOrgClient,
  type OktaUser,
} from './client/types';
import type { OktaGroupFilter, OktaOrgSnapshot } from './types';

/** What {@link readOktaOrg} reads. */
export interface OktaReadSelection {
  userSearchFilter?: string;
  groupFilter: OktaGroupFilter;
}

/** Options of {@link readOktaOrg}. */
export interface OktaReadOptions {
  logger: LoggerService;
  signal?: AbortSignal;
  /**
   * Group member listings running at once. Each holds at most the page it
   * is handing over plus the request for its next page. Twice the client's
   * concurrency keeps a listing's request waiting for each slot that frees
   * while others hand their pages over (a listing hands over its page before
   * it moves to its next group). Default 10.
   */
  memberListingConcurrency?: number;
  /**
   * Takes each wanted user (once) as it arrives, instead of the result's
   * `users`. The listing waits for it before it goes on to the next user
   * (back pressure: a listing is never more than one page ahead of it).
   * Users it is given may still be left out of the selection:
   * `selectedUserIds` says which stay.
   */
  onUser?: (user: OktaUser) => void | Promise<void>;
  /** Takes each selected group as soon as the group listing has it. */
  onGroup?: (group: OktaGroup) => void | Promise<void>;
}

/** A snapshot plus what reading it found worth telling the admin. */
export interface OktaReadResult extends OktaOrgSnapshot {
  /** The users read; empty when `onUser` took them. */
  users: OktaUser[];
  /** Okta ids of the selected users, whether in `users` or given to `onUser`. */
  selectedUserIds: Set<string>;
  /** Names from `groupNames` that matched no Okta group. */
  unmatchedGroupNames: string[];
  /** Group member listings skipped because Okta's stats said the group is empty. */
  emptyGroupsSkipped: number;
}

/** The status Okta gives users who are gone; never an entity unless asked for. */
const DEPROVISIONED = 'DEPROVISIONED';

/**
 * The longest `search` expression sent for `groupNames`; longer lists are
 * split into several listings. Okta rejects URLs of more than about 8 KiB.
 */
const MAX_GROUP_NAME_SEARCH_LENGTH = 3500;

/** Quotes a value for an Okta search expression. */
export function quoteOktaSearchValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Search expressions that together select the groups with these exact names,
 * each short enough for one request.
 */
export function groupNameSearchExpressions(names: string[]): string[] {
  const expressions: string[] = [];
  let current = '';
  for (const name of [...new Set(names)]) {
    const term = `profile.name eq ${quoteOktaSearchValue(name)}`;
    if (
      current &&
      current.length + 4 + term.length > MAX_GROUP_NAME_SEARCH_LENGTH
    ) {
      expressions.push(current);
      current = '';
    }
    current = current ? `${current} or ${term}` : term;
  }
  if (current) {
    expressions.push(current);
  }
  return expressions;
}

/**
 * Whether an admin's user search filter asks for deprovisioned users by
 * status. Okta includes them in any search; without this we leave them out.
 */
export function selectsDeprovisionedUsers(userSearchFilter?: string): boolean {
  return (
    userSearchFilter !== undefined &&
    /status\s+(eq|sw)\s+"DEP/i.test(userSearchFilter)
  );
}

/**
 * Whether a failed listing or look-up means that its object is gone: Okta
 * answers 404 `E0000007` for a group (or user) deleted after it was listed.
 * That is the object's deletion, not a failed read.
 */
export function isDeletedInOkta(error: unknown): boolean {
  return (
    error instanceof OktaRequestError &&
    error.details.status === 404 &&
    (error.details.errorCode === undefined ||
      error.details.errorCode === 'E0000007')
  );
}

/**
 * A group's member ids, or `undefined` when Okta says the group is gone
 * (deleted after the group listing gave it, before or while its members
 * were listed). `onMember` takes each member as it arrives.
 */
export async function listMemberIds(
  client: OktaOrgClient,
  groupId: string,
  signal: AbortSignal | undefined,
  onMember?: (member: OktaUser) => void | Promise<void>,
): Promise<string[] | undefined> {
  const memberIds: string[] = [];
  try {
    for await (const member of client.listGroupMembers(groupId, signal)) {
      if (!member?.id) continue;
      memberIds.push(member.id);
      await onMember?.(member);
    }
  } catch (error) {
    if (isDeletedInOkta(error) && !signal?.aborted) return undefined;
    throw error;
  }
  return memberIds;
}

export function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) {
    throw signal.reason instanceof Error
      ? signal.reason
      : new Error('The Okta read was aborted');
  }
}

/**
 * The selected groups, with stats. Without a group filter, Okta's BUILT_IN
 * group (Everyone) is left out of them but returned as `everyone`: its
 * member count tells the incremental sync whether users vanished.
 */
export async function readGroups(
  client: OktaOrgClient,
  filter: OktaGroupFilter,
  signal: AbortSignal | undefined,
): Promise<{
  groups: OktaGroup[];
  unmatchedGroupNames: string[];
  everyone?: OktaGroup;
}> {
  const groups: OktaGroup[] = [];
  if (filter.kind === 'names') {
    for (const search of groupNameSearchExpressions(filter.names)) {
      for await (const group of client.listGroups(
        { search, expandStats: true },
        signal,
      )) {
        groups.push(group);
      }
    }
    return { groups, unmatchedGroupNames: unmatchedGroupNames(filter, groups) };
  }
  const search = filter.kind === 'search' ? filter.search : undefined;
  let everyone: OktaGroup | undefined;
  for await (const group of client.listGroups(
    { search, expandStats: true },
    signal,
  )) {
    // Everyone (BUILT_IN) holds the whole directory: not a team, and the
    // costliest listing there is. Only an explicit filter brings it in.
    if (filter.kind === 'all' && group.type === 'BUILT_IN') {
      everyone = group;
      continue;
    }
    groups.push(group);
  }
  return { groups, unmatchedGroupNames: [], everyone };
}

/** The `groupNames` entries that none of these groups has as its name. */
export function unmatchedGroupNames(
  filter: OktaGroupFilter,
  groups: OktaGroup[],
): string[] {
  if (filter.kind !== 'names') return [];
  const found = new Set(groups.map(g => g.profile?.name));
  return filter.names.filter(name => !found.has(name));
}

/** Runs `work` over `items` with at most `concurrency` at once; rejects on the first failure. */
export async function forEachConcurrently<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(
    Array.from(
      { length: Math.max(1, Math.min(concurrency, items.length)) },
      worker,
    ),
  );
}

/**
 * Reads one provider's selection from Okta, completely or not at all.
 *
 * - Without a group filter: every user (with `userSearchFilter` when given)
 *   and every group but BUILT_IN ones.
 * - With a group filter: the matching groups, and only users who belong to at
 *   least one of them. Without a user search filter, those users come from the
 *   member listings, so the user directory is never listed.
 * - Member listings are skipped for groups Okta reports as empty.
 * - Deprovisioned users are left out unless the user search filter selects
 *   that status.
 */
export async function readOktaOrg(
  client: OktaOrgClient,
  selection: OktaReadSelection,
  options: OktaReadOptions,
): Promise<OktaReadResult> {
  // When any listing fails, the others (the user directory paging in the
  // background, member listings in flight) must stop too: a failed read must
  // not go on spending the app's rate limit or overlap the next run.
  const stop = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
  try {
    return await readSelection(client, selection, { ...options, signal });
  } catch (error) {
    stop.abort(error);
    throw error;
  }
}

async function readSelection(
  client: OktaOrgClient,
  selection: OktaReadSelection,
  options: OktaReadOptions & { signal: AbortSignal },
): Promise<OktaReadResult> {
  const { signal } = options;
  const keepDeprovisioned = selectsDeprovisionedUsers(
    selection.userSearchFilter,
  );
  const isWanted = (user: OktaUser) =>
    keepDeprovisioned || user.status !== DEPROVISIONED;
  const usersFromMembers =
    selection.groupFilter.kind !== 'all' &&
    selection.userSearchFilter === undefined;

  // Users are handed on as they arrive; only their ids stay here.
  const collected: OktaUser[] = [];
  const takeUser =
    options.onUser ?? ((user: OktaUser) => void collected.push(user));
  const userIds = new Set<string>();
  const offer = async (user: OktaUser) => {
    if (user?.id && !userIds.has(user.id) && isWanted(user)) {
      userIds.add(user.id);
      await takeUser(user);
    }
  };

  // The user directory and the groups sit in different rate-limit buckets, so
  // they are read side by side.
  const listedUsers = usersFromMembers
    ? Promise.resolve()
    : (async () => {
        for await (const user of client.listUsers(
          { search: selection.userSearchFilter },
          signal,
        )) {
          await offer(user);
        }
      })();
  // Attach a handler now so a failure here while groups are still being read
  // is not an unhandled rejection; it is rethrown by the await below.
  listedUsers.catch(() => undefined);

  const { groups } = await readGroups(client, selection.groupFilter, signal);
  throwIfAborted(signal);

  const memberIdsByGroupId = new Map<string, string[]>();
  const toList: OktaGroup[] = [];
  let emptyGroupsSkipped = 0;
  for (const group of groups) {
    if (group.usersCount === 0) {
      memberIdsByGroupId.set(group.id, []);
      emptyGroupsSkipped += 1;
    } else {
      toList.push(group);
    }
  }
  // Biggest first, so one huge group does not become the tail of the read.
  toList.sort((a, b) => (b.usersCount ?? 0) - (a.usersCount ?? 0));

  // The groups are handed on while the member listings are in flight.
  const { onGroup } = options;
  const handingOverGroups = onGroup
    ? (async () => {
        for (const group of groups) {
          await onGroup(group);
        }
      })()
    : Promise.resolve();
  handingOverGroups.catch(() => undefined);

  /** Groups Okta deleted after listing them: gone from the result. */
  const deleted = new Set<string>();
  await forEachConcurrently(
    toList,
    options.memberListingConcurrency ?? 10,
    async group => {
      const memberIds = await listMemberIds(
        client,
        group.id,
        signal,
        usersFromMembers ? offer : undefined,
      );
      if (memberIds) memberIdsByGroupId.set(group.id, memberIds);
      else deleted.add(group.id);
    },
  );
  await handingOverGroups;
  await listedUsers;
  throwIfAborted(signal);
  const liveGroups = groups.filter(group => !deleted.has(group.id));
  if (deleted.size > 0) {
    options.logger.info(
      `${deleted.size} Okta group${deleted.size === 1 ? ' was' : 's were'} deleted while the read listed ${deleted.size === 1 ? 'its' : 'their'} members; left out`,
    );
  }

  // With a group filter, keep only users in at least one selected group.
  if (selection.groupFilter.kind !== 'all') {
    const inSomeGroup = new Set<string>();
    for (const ids of memberIdsByGroupId.values()) {
      for (const id of ids) {
        inSomeGroup.add(id);
      }
    }
    for (const id of userIds) {
      if (!inSomeGroup.has(id)) {
        userIds.delete(id);
      }
    }
  }

  const membersByGroupId = new Map<string, string[]>();
  for (const group of liveGroups) {
    const ids = memberIdsByGroupId.get(group.id) ?? [];
    membersByGroupId.set(
      group.id,
      ids.filter(id => userIds.has(id)),
    );
  }

  return {
    users: collected.filter(user => userIds.has(user.id)),
    selectedUserIds: userIds,
    groups: liveGroups,
    membersByGroupId,
    // Names of groups deleted during the read match nothing now.
    unmatchedGroupNames: unmatchedGroupNames(selection.groupFilter, liveGroups),
    emptyGroupsSkipped,
  };
}
