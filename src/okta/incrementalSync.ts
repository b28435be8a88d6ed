/*
 * The provider's read when it keeps state: reads from Okta only what changed
 * since the state was last brought up to date, using Okta's own change
 * markers, keeps every piece it has read in the database as it goes (so a
 * read that stops is continued by the next run, on any replica), and builds
 * the entities from the state through the same mapping as a full read, so
 * that the result is what a fresh full read of the same Okta state gives.
 *
 * Per run:
 * - The group listing (one page per 10,000 groups), every run: it gives the
 *   groups' profiles (new, renamed, deleted groups, groups joining or
 *   leaving a group filter) and each group's `lastMembershipUpdated`.
 * - Member listings only of new groups and of groups whose
 *   `lastMembershipUpdated` differs from the one their stored members were
 *   read at; a group whose listing came within the overlap after its change
 *   (Okta is eventually consistent) is listed once more, once the overlap
 *   has passed ({@link membersNeedListing}). A group deleted after the group
 *   listing (its member listing answers 404) is dropped like any deleted
 *   group: the run goes on without it.
 * - Users: `search=lastUpdated gt "<last sync - overlap>"` (which includes
 *   deprovisioned users); with a `userSearchFilter`, the same bounded by the
 *   filter too, so that a changed user missing from the second listing has
 *   left the selection. Without stored users, the whole directory is listed.
 * - Hard-deleted users vanish from listings: those who were members of a
 *   re-listed group, and (without filters) any Okta's Everyone count says
 *   are missing, are looked up by id; those Okta no longer has are dropped.
 * - Periodically (`fullReadEvery`) and whenever the config changes, a full
 *   read: every member listing and the user directory again, over as many
 *   runs as it takes; the catalog gets nothing until it is complete.
 *
 * A run started by pushed events (`pushed`) reads only what the events name,
 * by the cheapest faithful reads, and no sweep ({@link readPushedChanges}):
 * a user by id, a group by id, a changed membership by its user's groups;
 * it leaves every change marker as it was, so the next scheduled run finds
 * (and verifies) everything by them as if the pushed run had not been.
 */
import { createHash } from 'node:crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaGroup, OktaOrgClient, OktaUser } from './client/types';
import { OrgEntityBuilder } from './org';
import { builderOptions, type ProviderEntities } from './providerSync';
import {
  forEachConcurrently,
  isDeletedInOkta,
  listMemberIds,
  quoteOktaSearchValue,
  readGroups,
  selectsDeprovisionedUsers,
  throwIfAborted,
  unmatchedGroupNames,
} from './read';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from './types';
import type {
  OktaProviderSyncState,
  OktaStoredGroupMembers,
} from '../state/OktaSyncStateStore';

/**
 * The format of the state this module writes and reads. Raised whenever the
 * module reads Okta or keeps state differently, so that state written by an
 * older version is discarded (then a full read), never misread.
 */
export const OKTA_SYNC_STATE_FORMAT = 1;

/** Okta's results are eventually consistent: every lower bound is moved back by this. */
export const DEFAULT_CHANGE_OVERLAP_MS = 5 * 60_000;

/** Default of `fullReadEvery`: one day. */
export const DEFAULT_FULL_READ_EVERY_MS = 24 * 3600_000;

/** Ids per `id eq ... or ...` lookup (Okta refuses long searches). */
const IDS_PER_LOOKUP = 40;

/** Members per page of a member listing (the client's default and Okta's maximum). */
const MEMBERS_PER_PAGE = 1000;

/** Single-object reads of a pushed run in flight at once. */
const PUSHED_READ_CONCURRENCY = 8;

/** What the incremental sync did besides building the entities. */
export interface OktaSyncReport {
  /** `full`: the run read (or finished reading) everything; else only changes. */
  kind: 'full' | 'incremental';
  /** The run continued a full read an earlier run had started. */
  resumedFullRead: boolean;
  /** Member listings this run read (groups whose members changed, or all). */
  groupsRelisted: number;
  /** Users Okta gave as changed (or listed, in a full read). */
  usersRead: number;
  /** Users dropped from the state (deleted, or out of the selection). */
  usersDropped: number;
  /** Groups dropped from the state (deleted, or out of the selection). */
  groupsDropped: number;
  /**
   * The run read only what pushed events named (no sweep by change
   * markers); false when it was asked to but had to read as a scheduled run
   * does (no complete state yet, a full read under way, an older state).
   */
  pushed?: boolean;
}

/** Options of {@link syncProviderEntities}. */
export interface OktaSyncOptions {
  logger: LoggerService;
  signal?: AbortSignal;
  userTransformer?: OktaUserTransformer;
  groupTransformer?: OktaGroupTransformer;
  state: OktaProviderSyncState;
  /** Default {@link DEFAULT_CHANGE_OVERLAP_MS}. */
  changeOverlapMs?: number;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
  /**
   * Okta objects known to have changed (e.g. from Okta's events): these
   * groups' members and these users are read again in this run, whatever
   * their markers say. In a `pushed` run: `userIds` by id, `groupIds` by id
   * (their record), `memberListGroupIds` by their member listing and
   * `memberships` by their users' groups; a scheduled run lists the members
   * of every group named in any of them.
   */
  reread?: {
    userIds?: Iterable<string>;
    groupIds?: Iterable<string>;
    memberListGroupIds?: Iterable<string>;
    memberships?: Iterable<{ groupId: string; userId: string }>;
  };
  /**
   * The run was started by pushed events: read only what `reread` names and
   * sweep nothing (see {@link readPushedChanges}). Falls back to a scheduled
   * run's reads when the state is not complete yet or a full read is under
   * way. A full read that is due is left to the next scheduled run.
   */
  pushed?: boolean;
}

/** A client with the single-object reads a pushed run needs. */
type PushReadingClient = OktaOrgClient &
  Required<Pick<OktaOrgClient, 'getUser' | 'getGroup' | 'listUserGroups'>>;

function readsSingleObjects(
  client: OktaOrgClient,
): client is PushReadingClient {
  return (
    typeof client.getUser === 'function' &&
    typeof client.getGroup === 'function' &&
    typeof client.listUserGroups === 'function'
  );
}

/** A group record as it is compared and stored (without its member count). */
function groupRecordText(group: OktaGroup | undefined): string | undefined {
  if (!group) return undefined;
  const { usersCount: _usersCount, ...record } = group;
  return JSON.stringify(record);
}

/**
 * Everything a run's state depends on besides Okta's data. A different
 * fingerprint discards the state. Transformers are code and cannot be
 * fingerprinted, but the state keeps Okta's records, not entities, and every
 * run maps them again, so a changed transformer takes effect at once.
 */
export function syncStateFingerprint(provider: OktaProviderConfig): string {
  const basis = JSON.stringify({
    format: OKTA_SYNC_STATE_FORMAT,
    id: provider.id,
    orgUrl: provider.orgUrl.toLowerCase(),
    userSearchFilter: provider.userSearchFilter ?? null,
    groupFilter: provider.groupFilter,
    userNaming: provider.userNaming,
    groupType: provider.groupType,
    parentGroupAttribute: provider.parentGroupAttribute ?? null,
  });
  return createHash('sha256').update(basis).digest('hex');
}

function isNewer(candidate: OktaUser, stored: OktaUser | undefined): boolean {
  if (!stored) return true;
  const a = candidate.lastUpdated ?? '';
  const b = stored.lastUpdated ?? '';
  return a >= b;
}

function idSearches(ids: string[], filter?: string): string[] {
  const searches: string[] = [];
  for (let i = 0; i < ids.length; i += IDS_PER_LOOKUP) {
    const terms = ids
      .slice(i, i + IDS_PER_LOOKUP)
      .map(id => `id eq ${quoteOktaSearchValue(id)}`)
      .join(' or ');
    searches.push(filter ? `(${filter}) and (${terms})` : terms);
  }
  return searches;
}

/**
 * Reads what changed in Okta since the provider's state was last brought up
 * to date (or everything, when a full read is due or under way), stores it,
 * and builds the provider's entities from the state. Rejects, keeping what
 * it has stored, when any part fails: the caller applies nothing then.
 */
export async function syncProviderEntities(
  client: OktaOrgClient,
  provider: OktaProviderConfig,
  options: OktaSyncOptions,
): Promise<ProviderEntities & { sync: OktaSyncReport }> {
  const stop = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
  // Work still running when the run fails (listings being stopped, state
  // being written) is waited for, so that nothing of this run writes to the
  // state once the next run may have read it.
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    return work;
  };
  try {
    return await runSync(client, provider, { ...options, signal, track });
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled([...inFlight]);
    throw error;
  }
}

async function runSync(
  client: OktaOrgClient,
  provider: OktaProviderConfig,
  options: OktaSyncOptions & {
    signal: AbortSignal;
    track: <T>(work: Promise<T>) => Promise<T>;
  },
): Promise<ProviderEntities & { sync: OktaSyncReport }> {
  const { state, signal, logger, track } = options;
  const now = options.now ?? Date.now;
  const overlap = options.changeOverlapMs ?? DEFAULT_CHANGE_OVERLAP_MS;
  const fullReadEvery = provider.fullReadEveryMs ?? DEFAULT_FULL_READ_EVERY_MS;
  const started = performance.now();
  const runStartedAt = now();

  let progress = await state.open(syncStateFingerprint(provider));
  const users = await state.loadUsers();
  const storedGroups = await state.loadGroups();
  /** The records the state held when the run started, to write only those that change. */
  const storedRecords = new Map(
    [...storedGroups].map(([id, group]) => [id, group.record]),
  );
  // A pushed run reads only what its events name, which needs a complete
  // state to build on: one that every group's record is in (state written
  // before records were kept gets them from the next scheduled run).
  const pushedRun =
    options.pushed === true &&
    readsSingleObjects(client) &&
    progress.fullReadStartedAt === null &&
    progress.lastFullReadAt !== null &&
    progress.usersSyncedThrough !== null &&
    [...storedGroups.values()].every(group => group.record !== undefined);
  const resumedFullRead = progress.fullReadStartedAt !== null;
  if (
    !pushedRun &&
    !resumedFullRead &&
    (progress.lastFullReadAt === null ||
      runStartedAt - progress.lastFullReadAt >= fullReadEvery)
  ) {
    progress = {
      ...progress,
      fullReadStartedAt: runStartedAt,
      usersSyncedThrough: null,
    };
    await state.saveProgress(progress);
  }
  const fullReadStartedAt = progress.fullReadStartedAt;
  const fullRead = fullReadStartedAt !== null;

  const filter = provider.userSearchFilter;
  const groupFilter = provider.groupFilter;
  const keepDeprovisioned = selectsDeprovisionedUsers(filter);
  const usersFromMembers = groupFilter.kind !== 'all' && filter === undefined;
  const isWanted = (user: OktaUser) =>
    keepDeprovisioned || user.status !== 'DEPROVISIONED';

  const rereadUsers = new Set(options.reread?.userIds ?? []);
  // A scheduled run lists the members of every group the events named.
  const rereadGroups = new Set([
    ...(options.reread?.groupIds ?? []),
    ...(options.reread?.memberListGroupIds ?? []),
    ...[...(options.reread?.memberships ?? [])].map(m => m.groupId),
  ]);
  const report: OktaSyncReport = {
    kind: fullRead ? 'full' : 'incremental',
    resumedFullRead,
    groupsRelisted: 0,
    usersRead: 0,
    usersDropped: 0,
    groupsDropped: 0,
    ...(options.pushed && { pushed: pushedRun }),
  };
  const dropUsers = async (ids: string[]) => {
    if (ids.length === 0) return;
    for (const id of ids) users.delete(id);
    report.usersDropped += ids.length;
    await state.deleteUsers(ids);
  };

  /**
   * Builds the entities from the state (the users, and the members of
   * `groups`), as a full read of the same Okta state would.
   */
  const finish = async (
    groups: OktaGroup[],
    emptyGroupsSkipped: number,
  ): Promise<ProviderEntities & { sync: OktaSyncReport }> => {
    // With a group filter, only members of a selected group are selected.
    let inSomeGroup: Set<string> | undefined;
    if (groupFilter.kind !== 'all') {
      inSomeGroup = new Set();
      for (const group of groups) {
        for (const id of storedGroups.get(group.id)?.memberIds ?? []) {
          inSomeGroup.add(id);
        }
      }
      if (usersFromMembers) {
        // Users known only through groups they have left: not kept.
        await dropUsers([...users.keys()].filter(id => !inSomeGroup!.has(id)));
      }
    }

    const readDone = performance.now();
    const builder = new OrgEntityBuilder(builderOptions(provider, options));
    const selected = new Set<string>();
    for (const group of groups) {
      await builder.addGroup(group);
    }
    for (const [id, user] of users) {
      if (isWanted(user) && (!inSomeGroup || inSomeGroup.has(id))) {
        selected.add(id);
        await builder.addUser(user);
      }
    }
    const membersByGroupId = new Map<string, string[]>();
    let memberships = 0;
    for (const group of groups) {
      const ids = (storedGroups.get(group.id)?.memberIds ?? []).filter(id =>
        selected.has(id),
      );
      memberships += ids.length;
      membersByGroupId.set(group.id, ids);
    }
    const built = await builder.build(membersByGroupId, selected);

    if (!pushedRun) {
      // Complete: the state now holds this run's Okta state. (A pushed run
      // read only some objects: the markers stay where the sweeps left them.)
      await state.saveProgress({
        usersSyncedThrough: runStartedAt,
        ...(fullRead
          ? { fullReadStartedAt: null, lastFullReadAt: fullReadStartedAt }
          : {}),
      });
    }
    logger.debug(
      `Okta ${pushedRun ? 'pushed' : report.kind} read: ${report.groupsRelisted} member listings, ${report.usersRead} users read, ${report.usersDropped} users and ${report.groupsDropped} groups dropped`,
    );
    return {
      ...built,
      memberships,
      // Names of groups deleted during the run match nothing now.
      unmatchedGroupNames: unmatchedGroupNames(groupFilter, groups),
      emptyGroupsSkipped,
      readSeconds: (readDone - started) / 1000,
      finishSeconds: (performance.now() - readDone) / 1000,
      sync: report,
    };
  };

  if (pushedRun) {
    const pushed = await readPushedChanges(client as PushReadingClient, {
      provider,
      state,
      signal,
      track,
      users,
      storedGroups,
      report,
      dropUsers,
      usersFromMembers,
      reread: {
        userIds: rereadUsers,
        groupIds: new Set(options.reread?.groupIds ?? []),
        memberListGroupIds: new Set(options.reread?.memberListGroupIds ?? []),
        memberships: [...(options.reread?.memberships ?? [])],
      },
    });
    return finish(pushed.groups, 0);
  }
  /** Users changed in this run's user listings (not looked up again). */
  const seenChanged = new Set<string>();

  // The user directory and the groups sit in different rate-limit buckets:
  // read side by side, as a full read does.
  const readingUsers = track(
    (async () => {
      if (!usersFromMembers && progress.usersSyncedThrough === null) {
        // The whole directory, as a full read lists it.
        const listed = new Map<string, OktaUser>();
        for await (const user of client.listUsers({ search: filter }, signal)) {
          if (user?.id) listed.set(user.id, user);
        }
        throwIfAborted(signal);
        await dropUsers([...users.keys()].filter(id => !listed.has(id)));
        for (const user of listed.values()) {
          users.set(user.id, user);
          seenChanged.add(user.id);
        }
        report.usersRead += listed.size;
        await state.upsertUsers(listed.values());
        progress.usersSyncedThrough = runStartedAt;
        await state.saveProgress({ usersSyncedThrough: runStartedAt });
        return;
      }
      const since = new Date(
        (progress.usersSyncedThrough ?? fullReadStartedAt ?? runStartedAt) -
          overlap,
      ).toISOString();
      const bound = `lastUpdated gt ${quoteOktaSearchValue(since)}`;
      const changed = new Map<string, OktaUser>();
      for await (const user of client.listUsers({ search: bound }, signal)) {
        if (user?.id) changed.set(user.id, user);
      }
      const matching = new Map<string, OktaUser>();
      if (filter !== undefined) {
        for await (const user of client.listUsers(
          { search: `(${filter}) and ${bound}` },
          signal,
        )) {
          if (user?.id) matching.set(user.id, user);
        }
      }
      throwIfAborted(signal);
      const upserts: OktaUser[] = [];
      const left: string[] = [];
      for (const user of [...matching.values(), ...changed.values()]) {
        if (seenChanged.has(user.id)) continue;
        seenChanged.add(user.id);
        if (usersFromMembers) {
          // Members come through member listings; here only their updates.
          if (users.has(user.id) && isNewer(user, users.get(user.id))) {
            upserts.push(user);
          }
        } else if (filter !== undefined && !matching.has(user.id)) {
          if (users.has(user.id)) left.push(user.id);
        } else if (isNewer(user, users.get(user.id))) {
          upserts.push(user);
        }
      }
      report.usersRead += changed.size;
      for (const user of upserts) users.set(user.id, user);
      await state.upsertUsers(upserts);
      await dropUsers(left);
    })(),
  );
  readingUsers.catch(() => undefined);

  const { groups: listedGroups, everyone } = await readGroups(
    client,
    groupFilter,
    signal,
  );
  throwIfAborted(signal);
  const listedGroupIds = new Set(listedGroups.map(group => group.id));
  // Everyone's marker is kept too: see the vanished users' check below.
  if (everyone) listedGroupIds.add(everyone.id);
  const goneGroups = [...storedGroups.keys()].filter(
    id => !listedGroupIds.has(id),
  );
  for (const id of goneGroups) storedGroups.delete(id);
  report.groupsDropped = goneGroups.length;
  await state.deleteGroups(goneGroups);

  const isStale = (group: OktaGroup): boolean => {
    const stored = storedGroups.get(group.id);
    if (!stored || rereadGroups.has(group.id)) return true;
    if (fullRead && stored.readAt < fullReadStartedAt) return true;
    return membersNeedListing(
      stored,
      group.lastMembershipUpdated ?? null,
      runStartedAt,
      overlap,
    );
  };

  let emptyGroupsSkipped = 0;
  const toList: OktaGroup[] = [];
  /** Members that left a re-listed group: deleted users among them vanish. */
  const leftGroups = new Set<string>();
  for (const group of listedGroups.filter(isStale)) {
    if (group.usersCount === 0) {
      emptyGroupsSkipped += 1;
      for (const id of storedGroups.get(group.id)?.memberIds ?? []) {
        leftGroups.add(id);
      }
      const members: OktaStoredGroupMembers = {
        marker: group.lastMembershipUpdated ?? null,
        readAt: now(),
        memberIds: [],
      };
      storedGroups.set(group.id, members);
      await state.saveGroupMembers(group.id, members);
    } else {
      toList.push(group);
    }
  }
  toList.sort((a, b) => (b.usersCount ?? 0) - (a.usersCount ?? 0));
  report.groupsRelisted = toList.length;

  /** Groups Okta deleted between the group listing and their member listing. */
  const deletedMidRun = new Set<string>();
  const listMembers = async (group: OktaGroup) => {
    const readAt = now();
    const memberRecords: OktaUser[] = [];
    const memberIds = await listMemberIds(client, group.id, signal, member => {
      if (usersFromMembers && isNewer(member, users.get(member.id))) {
        memberRecords.push(member);
      }
    });
    throwIfAborted(signal);
    if (!memberIds) {
      // Deleted after the group listing gave it: its deletion, as the next
      // group listing would show it.
      deletedMidRun.add(group.id);
      for (const id of storedGroups.get(group.id)?.memberIds ?? []) {
        leftGroups.add(id);
      }
      storedGroups.delete(group.id);
      await state.deleteGroups([group.id]);
      return;
    }
    const before = new Set(memberIds);
    for (const id of storedGroups.get(group.id)?.memberIds ?? []) {
      if (!before.has(id)) leftGroups.add(id);
    }
    const members = {
      marker: group.lastMembershipUpdated ?? null,
      readAt,
      memberIds,
    };
    for (const user of memberRecords) users.set(user.id, user);
    await state.saveGroupMembers(group.id, members, memberRecords);
    storedGroups.set(group.id, members);
  };
  // Biggest first, so that one huge group does not become the tail of the read.
  await forEachConcurrently(
    toList,
    2 * (provider.requests.maxConcurrency ?? 10),
    group => track(listMembers(group)),
  );
  await readingUsers;
  throwIfAborted(signal);
  report.groupsDropped += deletedMidRun.size;
  const groups = listedGroups.filter(group => !deletedMidRun.has(group.id));

  if (groupFilter.kind === 'all') {
    // Users the listings cannot show as changed because Okta deleted them.
    const lookUp = new Set<string>(rereadUsers);
    for (const id of leftGroups) {
      if (users.has(id) && !seenChanged.has(id)) lookUp.add(id);
    }
    if (everyone) {
      // Everyone holds every user but the deprovisioned. Without a filter
      // the state holds the same users, so a count above Everyone's means
      // someone vanished; with one, the state holds only some users, so any
      // change of Everyone's membership is looked into.
      let active = 0;
      for (const user of users.values()) {
        if (user.status !== 'DEPROVISIONED') active += 1;
      }
      const stored = storedGroups.get(everyone.id);
      const marker = everyone.lastMembershipUpdated ?? null;
      const everyoneChanged =
        !stored || membersNeedListing(stored, marker, runStartedAt, overlap);
      const lookIntoEveryone =
        !fullRead &&
        (filter === undefined
          ? everyone.usersCount !== undefined && active > everyone.usersCount
          : everyoneChanged);
      if (lookIntoEveryone) {
        // Someone in the state is no longer in Everyone: find who.
        const inEveryone = new Set<string>();
        for await (const member of client.listGroupMembers(
          everyone.id,
          signal,
        )) {
          if (member?.id) inEveryone.add(member.id);
        }
        for (const [id, user] of users) {
          if (
            user.status !== 'DEPROVISIONED' &&
            !inEveryone.has(id) &&
            !seenChanged.has(id)
          ) {
            lookUp.add(id);
          }
        }
      }
      if (everyoneChanged) {
        const members = { marker, readAt: runStartedAt, memberIds: [] };
        await state.saveGroupMembers(everyone.id, members);
      }
    }
    await lookUpUsers([...lookUp], filter, client, signal, async found => {
      const gone: string[] = [];
      const upserts: OktaUser[] = [];
      for (const id of lookUp) {
        const user = found.get(id);
        if (!user) gone.push(id);
        else if (isNewer(user, users.get(id))) upserts.push(user);
      }
      for (const user of upserts) users.set(user.id, user);
      report.usersRead += upserts.length;
      await state.upsertUsers(upserts);
      await dropUsers(gone);
    });
  } else if (rereadUsers.size > 0) {
    const ids = [...rereadUsers].filter(id => users.has(id));
    await lookUpUsers(ids, filter, client, signal, async found => {
      const upserts = [...found.values()].filter(u =>
        isNewer(u, users.get(u.id)),
      );
      for (const user of upserts) users.set(user.id, user);
      await state.upsertUsers(upserts);
      if (filter !== undefined) {
        await dropUsers(ids.filter(id => !found.has(id)));
      }
    });
  }
  throwIfAborted(signal);

  // Each group's record as listed, for the pushed runs, which do not list
  // the groups (only those that changed are written).
  await state.saveGroupRecords(
    [...listedGroups, ...(everyone ? [everyone] : [])].filter(
      group =>
        !deletedMidRun.has(group.id) &&
        groupRecordText(group) !== groupRecordText(storedRecords.get(group.id)),
    ),
  );

  return finish(groups, emptyGroupsSkipped);
}

/**
 * Whether a group's members must be listed again, given what the state
 * holds of its last listing and the group's `lastMembershipUpdated` now:
 * - the marker moved (or Okta gives none): yes, at once;
 * - the marker is the one read, but it changed within `overlap` before that
 *   listing, which may not have shown the change yet (Okta is eventually
 *   consistent): once more, but only once `overlap` has passed since the
 *   change, so that this listing is sure to show it. That listing's time is
 *   then past the change by more than the overlap, so it is the last.
 * So a change costs one listing now and at most one after the overlap, not
 * one on every run while the overlap lasts.
 */
export function membersNeedListing(
  stored: OktaStoredGroupMembers,
  marker: string | null,
  runStartedAt: number,
  overlap: number,
): boolean {
  if (stored.marker !== marker || marker === null) return true;
  const changedAt = Date.parse(marker);
  if (Number.isNaN(changedAt)) return true;
  const readMaybeEarly = changedAt > stored.readAt - overlap;
  return readMaybeEarly && runStartedAt - changedAt >= overlap;
}

/** Asks Okta for these users by id (with the filter, when set). */
async function lookUpUsers(
  ids: string[],
  filter: string | undefined,
  client: OktaOrgClient,
  signal: AbortSignal,
  apply: (found: Map<string, OktaUser>) => Promise<void>,
): Promise<void> {
  if (ids.length === 0) return;
  const found = new Map<string, OktaUser>();
  for (const search of idSearches(ids, filter)) {
    for await (const user of client.listUsers({ search }, signal)) {
      if (user?.id) found.set(user.id, user);
    }
  }
  throwIfAborted(signal);
  await apply(found);
}

/** What {@link readPushedChanges} works on: the run's state, loaded. */
interface PushedReadContext {
  provider: OktaProviderConfig;
  state: OktaProviderSyncState;
  signal: AbortSignal;
  track: <T>(work: Promise<T>) => Promise<T>;
  users: Map<string, OktaUser>;
  storedGroups: Map<string, OktaStoredGroupMembers>;
  report: OktaSyncReport;
  dropUsers: (ids: string[]) => Promise<void>;
  usersFromMembers: boolean;
  reread: {
    userIds: Set<string>;
    groupIds: Set<string>;
    memberListGroupIds: Set<string>;
    memberships: Array<{ groupId: string; userId: string }>;
  };
}

/**
 * The reads of a run started by pushed events: what the events name, by the
 * cheapest faithful read of each, and no sweep (no group listing, no
 * `lastUpdated` search).
 *
 * - A group named by a profile or lifecycle event: `GET /api/v1/groups/{id}`
 *   (its own bucket); 404 or out of the selection: dropped. With a group
 *   search filter, which only Okta can judge, a search for it by id instead
 *   (one request in the groups bucket). A group new to the state has its
 *   members listed.
 * - A membership named with its user: `GET /api/v1/users/{id}/groups` (the
 *   users bucket), which gives that user's membership of every group at
 *   once; the stored member lists are patched for that one user. A group
 *   with more changed memberships than pages of members, or named without
 *   its users, is listed instead.
 * - A user: `GET /api/v1/users/{id}` (its own bucket; 404: dropped). With a
 *   user search filter, which only Okta can judge, a search by id and
 *   filter (40 users a request, users bucket), as the scheduled run's
 *   look-ups do.
 *
 * No change marker moves: patched member lists keep the marker and time of
 * their last listing, so the next scheduled run lists every group whose
 * members Okta says changed since, exactly as if this run had not been (it
 * verifies the patches, and catches what a lost event would have missed);
 * and users are swept from where the last scheduled run left off. Single
 * objects read by id are not sourced from Okta's eventually consistent
 * search; the search fallbacks (filters) are, and that sweep covers them.
 */
async function readPushedChanges(
  client: PushReadingClient,
  context: PushedReadContext,
): Promise<{ groups: OktaGroup[] }> {
  const { provider, state, signal, track, users, storedGroups, report } =
    context;
  const { reread, usersFromMembers } = context;
  const groupFilter = provider.groupFilter;
  const filter = provider.userSearchFilter;
  const concurrency = Math.min(
    PUSHED_READ_CONCURRENCY,
    provider.requests.maxConcurrency ?? PUSHED_READ_CONCURRENCY,
  );
  const isBuiltInAside = (group: OktaGroup) =>
    groupFilter.kind === 'all' && group.type === 'BUILT_IN';
  /** Whether a group record is in the selection (a search is judged by Okta). */
  const inSelection = (group: OktaGroup) => {
    if (groupFilter.kind === 'all') return group.type !== 'BUILT_IN';
    if (groupFilter.kind === 'names') {
      return groupFilter.names.includes(String(group.profile?.name ?? ''));
    }
    return true;
  };

  // The selected groups as the state has them (the last listing, or pushed
  // runs since): every stored group but Everyone, kept aside when all
  // groups are selected.
  const selected = new Map<string, OktaGroup>();
  for (const [id, stored] of storedGroups) {
    if (stored.record && !isBuiltInAside(stored.record)) {
      selected.set(id, stored.record);
    }
  }
  const dropGroup = async (id: string) => {
    if (!storedGroups.has(id)) return;
    storedGroups.delete(id);
    selected.delete(id);
    report.groupsDropped += 1;
    await state.deleteGroups([id]);
  };
  /** Users met in member listings, when users come from them. */
  const memberRecords = new Map<string, OktaUser>();
  /** Groups listed in full in this run: nothing to patch there. */
  const listedNow = new Set<string>();
  const listMembers = async (
    group: OktaGroup,
    members: Pick<OktaStoredGroupMembers, 'marker' | 'readAt'>,
  ) => {
    const found: OktaUser[] = [];
    const memberIds = await listMemberIds(client, group.id, signal, member => {
      if (usersFromMembers) found.push(member);
    });
    throwIfAborted(signal);
    if (!memberIds) {
      await dropGroup(group.id); // deleted since
      return;
    }
    listedNow.add(group.id);
    report.groupsRelisted += 1;
    const upserts = found.filter(user => isNewer(user, users.get(user.id)));
    for (const user of upserts) {
      users.set(user.id, user);
      memberRecords.set(user.id, user);
    }
    const stored = { ...members, memberIds, record: group };
    storedGroups.set(group.id, stored);
    selected.set(group.id, group);
    await state.saveGroupMembers(group.id, stored, upserts);
  };

  // Groups: their records.
  await forEachConcurrently([...reread.groupIds], concurrency, groupId =>
    track(
      (async () => {
        let group: OktaGroup | undefined;
        if (groupFilter.kind === 'search') {
          for await (const found of client.listGroups(
            {
              search: `(${groupFilter.search}) and id eq ${quoteOktaSearchValue(groupId)}`,
              expandStats: true,
            },
            signal,
          )) {
            if (found?.id === groupId) group = found;
          }
        } else {
          group = await client.getGroup(groupId, signal);
        }
        throwIfAborted(signal);
        if (group && isBuiltInAside(group)) return;
        if (!group || !inSelection(group)) {
          await dropGroup(groupId);
          return;
        }
        const stored = storedGroups.get(groupId);
        if (stored) {
          stored.record = group;
          selected.set(groupId, group);
          await state.saveGroupRecords([group]);
        } else if (group.usersCount === 0) {
          const members = {
            marker: group.lastMembershipUpdated ?? null,
            readAt: Date.now(),
            memberIds: [],
            record: group,
          };
          storedGroups.set(groupId, members);
          selected.set(groupId, group);
          await state.saveGroupMembers(groupId, members);
        } else {
          // New to the selection (created, or renamed into it): its
          // members, under the marker read before the listing.
          await listMembers(group, {
            marker: group.lastMembershipUpdated ?? null,
            readAt: Date.now(),
          });
        }
      })(),
    ),
  );

  // Memberships: per group, the cheaper of reading each named user's groups
  // and listing the group's members (a page per 1,000 members).
  const namedUsersByGroup = new Map<string, Set<string>>();
  for (const { groupId, userId } of reread.memberships) {
    if (!selected.has(groupId) || listedNow.has(groupId)) continue;
    const named = namedUsersByGroup.get(groupId) ?? new Set<string>();
    named.add(userId);
    namedUsersByGroup.set(groupId, named);
  }
  const toList = new Set(
    [...reread.memberListGroupIds].filter(
      id => selected.has(id) && !listedNow.has(id),
    ),
  );
  for (const [groupId, named] of namedUsersByGroup) {
    const pages = Math.max(
      1,
      Math.ceil(
        (storedGroups.get(groupId)?.memberIds.length ?? 0) / MEMBERS_PER_PAGE,
      ),
    );
    if (named.size > pages) toList.add(groupId);
  }
  await forEachConcurrently([...toList], concurrency, groupId =>
    track(
      (async () => {
        const stored = storedGroups.get(groupId)!;
        // The marker and time of the last listing by marker stay: see above.
        await listMembers(selected.get(groupId)!, stored);
      })(),
    ),
  );

  const patchedUsers = new Set<string>();
  /** Users now in a selected group whom the state does not hold yet. */
  const newMembers = new Set<string>();
  for (const [groupId, named] of namedUsersByGroup) {
    if (toList.has(groupId) || !selected.has(groupId)) continue;
    for (const userId of named) patchedUsers.add(userId);
  }
  if (patchedUsers.size > 0) {
    const groupsOfUser = new Map<string, Set<string> | undefined>();
    await forEachConcurrently([...patchedUsers], concurrency, userId =>
      track(
        (async () => {
          const ids = new Set<string>();
          try {
            for await (const group of client.listUserGroups(userId, signal)) {
              if (group?.id) ids.add(group.id);
            }
          } catch (error) {
            if (!isDeletedInOkta(error) || signal.aborted) throw error;
            groupsOfUser.set(userId, undefined); // deleted: in no group
            return;
          }
          groupsOfUser.set(userId, ids);
        })(),
      ),
    );
    throwIfAborted(signal);
    // Each patched user's membership of every selected group not listed in
    // this run, as Okta gives it now.
    const patched = new Set<string>();
    for (const [groupId] of selected) {
      if (listedNow.has(groupId)) continue;
      const stored = storedGroups.get(groupId)!;
      const members = new Set(stored.memberIds);
      let changed = false;
      for (const [userId, ids] of groupsOfUser) {
        const isMember = ids?.has(groupId) ?? false;
        if (isMember !== members.has(userId)) {
          if (isMember) members.add(userId);
          else members.delete(userId);
          changed = true;
        }
      }
      if (changed) {
        stored.memberIds = [...members].sort();
        patched.add(groupId);
      }
    }
    for (const groupId of patched) {
      await state.saveGroupMembers(groupId, storedGroups.get(groupId)!);
    }
    const gone = [...groupsOfUser].filter(([, ids]) => !ids).map(([id]) => id);
    await context.dropUsers(gone.filter(id => users.has(id)));
    if (usersFromMembers) {
      // A user now in a selected group and not in the state: read below.
      for (const [userId, ids] of groupsOfUser) {
        if (
          ids &&
          !users.has(userId) &&
          [...ids].some(id => selected.has(id))
        ) {
          newMembers.add(userId);
        }
      }
    }
  }

  // Users.
  const userIds = [...new Set([...reread.userIds, ...newMembers])].filter(
    id =>
      !memberRecords.has(id) &&
      // With users from member listings, only members are kept: a user in
      // no selected group is no concern of this provider.
      (!usersFromMembers || users.has(id) || newMembers.has(id)),
  );
  if (filter !== undefined) {
    // Only Okta can judge the filter: a search by id and filter.
    await lookUpUsers(userIds, filter, client, signal, async found => {
      const upserts = [...found.values()].filter(u =>
        isNewer(u, users.get(u.id)),
      );
      for (const user of upserts) users.set(user.id, user);
      report.usersRead += upserts.length;
      await state.upsertUsers(upserts);
      await context.dropUsers(
        userIds.filter(id => !found.has(id) && users.has(id)),
      );
    });
  } else {
    const found = new Map<string, OktaUser | undefined>();
    await forEachConcurrently(userIds, concurrency, userId =>
      track(
        (async () => {
          found.set(userId, await client.getUser(userId, signal));
        })(),
      ),
    );
    throwIfAborted(signal);
    const upserts: OktaUser[] = [];
    for (const [id, user] of found) {
      if (user && isNewer(user, users.get(id))) upserts.push(user);
    }
    for (const user of upserts) users.set(user.id, user);
    report.usersRead += upserts.length;
    await state.upsertUsers(upserts);
    await context.dropUsers(
      [...found]
        .filter(([id, user]) => !user && users.has(id))
        .map(([id]) => id),
    );
  }

  // In Okta's listing order (by id), as the group listing gives them.
  const groups = [...selected.values()].sort((a, b) => {
    if (a.id === b.id) return 0;
    return a.id < b.id ? -1 : 1;
  });
  return { groups };
}
