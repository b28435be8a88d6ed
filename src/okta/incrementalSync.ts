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
 */
import { createHash } from 'node:crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaGroup, OktaOrgClient, OktaUser } from './client/types';
import { OrgEntityBuilder } from './org';
import { builderOptions, type ProviderEntities } from './providerSync';
import {
  forEachConcurrently,
  listMemberIds,
  quoteOktaSearchValue,
  readGroups,
  selectsDeprovisionedUsers,
  throwIfAborted,
  unmatchedNamesAfterDeletions,
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
   * their markers say.
   */
  reread?: { userIds?: Iterable<string>; groupIds?: Iterable<string> };
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
  const resumedFullRead = progress.fullReadStartedAt !== null;
  if (
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

  const users = await state.loadUsers();
  const storedGroups = await state.loadGroups();
  const rereadUsers = new Set(options.reread?.userIds ?? []);
  const rereadGroups = new Set(options.reread?.groupIds ?? []);
  const report: OktaSyncReport = {
    kind: fullRead ? 'full' : 'incremental',
    resumedFullRead,
    groupsRelisted: 0,
    usersRead: 0,
    usersDropped: 0,
    groupsDropped: 0,
  };
  const dropUsers = async (ids: string[]) => {
    if (ids.length === 0) return;
    for (const id of ids) users.delete(id);
    report.usersDropped += ids.length;
    await state.deleteUsers(ids);
  };
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

  const {
    groups: listedGroups,
    unmatchedGroupNames: unmatchedAtListing,
    everyone,
  } = await readGroups(client, groupFilter, signal);
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

  const unmatchedGroupNames = unmatchedNamesAfterDeletions(
    groupFilter,
    unmatchedAtListing,
    listedGroups,
    groups,
  );

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

  // Complete: the state now holds this run's Okta state.
  await state.saveProgress({
    usersSyncedThrough: runStartedAt,
    ...(fullRead
      ? { fullReadStartedAt: null, lastFullReadAt: fullReadStartedAt }
      : {}),
  });
  logger.debug(
    `Okta ${report.kind} read: ${report.groupsRelisted} member listings, ${report.usersRead} users read, ${report.usersDropped} users and ${report.groupsDropped} groups dropped`,
  );
  return {
    ...built,
    memberships,
    unmatchedGroupNames,
    emptyGroupsSkipped,
    readSeconds: (readDone - started) / 1000,
    finishSeconds: (performance.now() - readDone) / 1000,
    sync: report,
  };
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
