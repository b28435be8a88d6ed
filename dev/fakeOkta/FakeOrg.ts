/*
 * The data of a fake Okta org: users, groups and memberships, with the
 * mutators an admin (or an import) would perform and the timestamps Okta
 * keeps for them. Objects are stored without `_links`; the server adds links
 * for the base URL a client used (see `serialize.ts`).
 */
import type { FakeOrgChange, FakeOrgChangeListener } from './orgChangeEvents';
import { mulberry32, oktaId } from './random';

/** The eight user statuses of Okta's `UserStatus` schema. */
export type OktaUserStatus =
  | 'ACTIVE'
  | 'DEPROVISIONED'
  | 'LOCKED_OUT'
  | 'PASSWORD_EXPIRED'
  | 'PROVISIONED'
  | 'RECOVERY'
  | 'STAGED'
  | 'SUSPENDED';

export const USER_STATUSES: readonly OktaUserStatus[] = [
  'ACTIVE',
  'DEPROVISIONED',
  'LOCKED_OUT',
  'PASSWORD_EXPIRED',
  'PROVISIONED',
  'RECOVERY',
  'STAGED',
  'SUSPENDED',
];

export type OktaGroupType = 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';

/** A user profile: Okta's base attributes plus any custom ones. */
export interface OktaUserProfile {
  login: string;
  email?: string;
  firstName?: string | null;
  lastName?: string | null;
  displayName?: string | null;
  [attribute: string]: unknown;
}

/** A user as Okta's `User` schema describes it, minus `_links`. */
export interface OktaUser {
  id: string;
  status: OktaUserStatus;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastLogin: string | null;
  lastUpdated: string;
  passwordChanged: string | null;
  type: { id: string };
  profile: OktaUserProfile;
  credentials?: {
    password?: Record<string, never>;
    provider: { type: string; name: string };
  };
}

export interface OktaGroupProfile {
  name: string;
  /** Not nullable in Okta's spec: leave it out when there is none. */
  description?: string;
  [attribute: string]: unknown;
}

/** A group as Okta's `Group` schema describes it, minus `_links`/`_embedded`. */
export interface OktaGroup {
  id: string;
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
  objectClass: string[];
  type: OktaGroupType;
  profile: OktaGroupProfile;
}

/** What `addUser` accepts: a profile with a login, everything else optional. */
export type NewOktaUser = Partial<Omit<OktaUser, 'profile'>> & {
  profile: OktaUserProfile;
};

/** What `addGroup` accepts: a profile with a name, everything else optional. */
export type NewOktaGroup = Partial<Omit<OktaGroup, 'profile'>> & {
  profile: OktaGroupProfile;
};

export interface FakeOrgOptions {
  /** Seed for ids of objects added without one. */
  seed?: number;
  /** Millisecond clock for timestamps; defaults to Date.now. */
  clock?: () => number;
  /** Leave out the BUILT_IN "Everyone" group. */
  withoutEveryone?: boolean;
}

export const DEFAULT_USER_TYPE_ID = 'oty1defau1tUserType0';

/** The given value, even null, unless it is undefined. */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value !== undefined ? value : fallback;
}

function insertSorted(list: string[], value: string): boolean {
  const i = lowerBound(list, value);
  if (list[i] === value) return false;
  list.splice(i, 0, value);
  return true;
}

function removeSorted(list: string[], value: string): boolean {
  const i = lowerBound(list, value);
  if (list[i] !== value) return false;
  list.splice(i, 1);
  return true;
}

/** Index of the first element >= value in a sorted array. */
export function lowerBound(list: readonly string[], value: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > value in a sorted array. */
export function upperBound(list: readonly string[], value: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Users, groups and memberships of one fake org. Listings are kept sorted by
 * id (the order the fake serves them in); memberships are stored both ways as
 * sorted id arrays so that a 50,000-user org stays compact.
 */
export class FakeOrg {
  private readonly usersById = new Map<string, OktaUser>();
  private readonly userIds: string[] = [];
  private readonly userIdByLogin = new Map<string, string>();
  private readonly groupsById = new Map<string, OktaGroup>();
  private readonly groupIds: string[] = [];
  private readonly memberIds = new Map<string, string[]>();
  private readonly groupIdsOfUser = new Map<string, string[]>();
  private readonly random: () => number;
  private everyoneId: string | undefined;
  /** Millisecond clock used for timestamps; replaceable (the server sets it from its options). */
  clock: () => number;
  // ---- change feed (System Log, event hooks): see orgChanges.ts ----
  private readonly changeListeners = new Set<FakeOrgChangeListener>();

  /** Calls `listener` on every change an admin makes; returns the unsubscribe. */
  onChange(listener: FakeOrgChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private emit(change: FakeOrgChange, at: string): void {
    for (const listener of this.changeListeners) listener(change, at);
  }
  // ---- end change feed ----

  constructor(options: FakeOrgOptions = {}) {
    this.random = mulberry32(options.seed ?? 20240101);
    this.clock = options.clock ?? Date.now;
    if (!options.withoutEveryone) {
      this.addGroup({
        type: 'BUILT_IN',
        profile: {
          name: 'Everyone',
          description: 'All users in your organization',
        },
      });
    }
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  private newId(prefix: string, taken: Map<string, unknown>): string {
    for (;;) {
      const id = oktaId(prefix, this.random);
      if (!taken.has(id)) return id;
    }
  }

  // ---- reads ----

  /** All users, ordered by id. */
  users(): OktaUser[] {
    return this.userIds.map(id => this.usersById.get(id)!);
  }

  /** All groups, ordered by id. */
  groups(): OktaGroup[] {
    return this.groupIds.map(id => this.groupsById.get(id)!);
  }

  /** Sorted user ids (live array: do not modify). */
  sortedUserIds(): readonly string[] {
    return this.userIds;
  }

  /** Sorted group ids (live array: do not modify). */
  sortedGroupIds(): readonly string[] {
    return this.groupIds;
  }

  get userCount(): number {
    return this.userIds.length;
  }

  get groupCount(): number {
    return this.groupIds.length;
  }

  getUser(id: string): OktaUser | undefined {
    return this.usersById.get(id);
  }

  /** A user by id or by login (case-insensitive), as GET /api/v1/users/{id} resolves it. */
  findUser(idOrLogin: string): OktaUser | undefined {
    const byId = this.usersById.get(idOrLogin);
    if (byId) return byId;
    const id = this.userIdByLogin.get(idOrLogin.toLowerCase());
    return id ? this.usersById.get(id) : undefined;
  }

  getGroup(id: string): OktaGroup | undefined {
    return this.groupsById.get(id);
  }

  findGroupByName(name: string): OktaGroup | undefined {
    for (const id of this.groupIds) {
      const group = this.groupsById.get(id)!;
      if (group.profile.name === name) return group;
    }
    return undefined;
  }

  /** The BUILT_IN "Everyone" group, if the org has one. */
  everyone(): OktaGroup | undefined {
    return this.everyoneId ? this.groupsById.get(this.everyoneId) : undefined;
  }

  /** Members of a group, ordered by user id. */
  membersOf(groupId: string): OktaUser[] {
    return this.memberIdsOf(groupId).map(id => this.usersById.get(id)!);
  }

  /** Sorted member ids of a group (live array: do not modify). */
  memberIdsOf(groupId: string): readonly string[] {
    return this.memberIds.get(groupId) ?? [];
  }

  /** Groups a user belongs to, ordered by group id. */
  groupsOf(userId: string): OktaGroup[] {
    return this.groupIdsOf(userId).map(id => this.groupsById.get(id)!);
  }

  /** Sorted group ids of a user (live array: do not modify). */
  groupIdsOf(userId: string): readonly string[] {
    return this.groupIdsOfUser.get(userId) ?? [];
  }

  membershipCount(): number {
    let n = 0;
    for (const ids of this.memberIds.values()) n += ids.length;
    return n;
  }

  // ---- user mutators ----

  addUser(partial: NewOktaUser): OktaUser {
    const now = this.now();
    const status = partial.status ?? 'ACTIVE';
    const id = partial.id ?? this.newId('00u', this.usersById);
    if (this.usersById.has(id)) throw new Error(`User ${id} already exists`);
    const loginKey = partial.profile.login.toLowerCase();
    if (this.userIdByLogin.has(loginKey)) {
      throw new Error(`Login ${partial.profile.login} is already taken`);
    }
    const created = partial.created ?? now;
    const neverActivated = status === 'STAGED' || status === 'PROVISIONED';
    const user: OktaUser = {
      id,
      status,
      created,
      activated: orDefault(partial.activated, neverActivated ? null : created),
      statusChanged: orDefault(
        partial.statusChanged,
        status === 'STAGED' ? null : created,
      ),
      lastLogin: partial.lastLogin ?? null,
      lastUpdated: partial.lastUpdated ?? created,
      passwordChanged: orDefault(
        partial.passwordChanged,
        neverActivated ? null : created,
      ),
      type: partial.type ?? { id: DEFAULT_USER_TYPE_ID },
      profile: { ...partial.profile },
      credentials: partial.credentials ?? {
        password: {},
        provider: { type: 'OKTA', name: 'OKTA' },
      },
    };
    this.usersById.set(id, user);
    insertSorted(this.userIds, id);
    this.userIdByLogin.set(loginKey, id);
    this.groupIdsOfUser.set(id, []);
    if (status !== 'DEPROVISIONED' && this.everyoneId) {
      this.addMember(this.everyoneId, id);
    }
    this.emit({ kind: 'userCreated', user }, now);
    return user;
  }

  /** Changes profile attributes (merged; `null` clears) and/or the status. */
  updateUser(
    id: string,
    patch: { profile?: Partial<OktaUserProfile>; status?: OktaUserStatus },
  ): OktaUser {
    const user = this.requireUser(id);
    const now = this.now();
    if (patch.profile) {
      if (
        patch.profile.login &&
        patch.profile.login.toLowerCase() !== user.profile.login.toLowerCase()
      ) {
        const key = patch.profile.login.toLowerCase();
        if (this.userIdByLogin.has(key)) {
          throw new Error(`Login ${patch.profile.login} is already taken`);
        }
        this.userIdByLogin.delete(user.profile.login.toLowerCase());
        this.userIdByLogin.set(key, id);
      }
      user.profile = { ...user.profile, ...patch.profile } as OktaUserProfile;
    }
    const fromStatus = user.status;
    if (patch.status && patch.status !== user.status) {
      const wasDeprovisioned = user.status === 'DEPROVISIONED';
      user.status = patch.status;
      user.statusChanged = now;
      if (patch.status === 'ACTIVE' && !user.activated) user.activated = now;
      if (this.everyoneId) {
        if (patch.status === 'DEPROVISIONED') {
          this.removeMember(this.everyoneId, id);
        } else if (wasDeprovisioned) {
          this.addMember(this.everyoneId, id);
        }
      }
    }
    user.lastUpdated = now;
    if (patch.profile) this.emit({ kind: 'userProfileUpdated', user }, now);
    if (user.status !== fromStatus)
      this.emit({ kind: 'userStatusChanged', user, from: fromStatus }, now);
    return user;
  }

  /** Deactivates a user (status DEPROVISIONED); it leaves "Everyone". */
  deprovisionUser(id: string): OktaUser {
    return this.updateUser(id, { status: 'DEPROVISIONED' });
  }

  /** Deletes a user and all its memberships. */
  removeUser(id: string): void {
    const user = this.requireUser(id);
    for (const groupId of [...this.groupIdsOf(id)]) {
      this.removeMember(groupId, id);
    }
    this.usersById.delete(id);
    removeSorted(this.userIds, id);
    this.userIdByLogin.delete(user.profile.login.toLowerCase());
    this.groupIdsOfUser.delete(id);
    this.emit({ kind: 'userDeleted', user }, this.now());
  }

  // ---- group mutators ----

  addGroup(partial: NewOktaGroup): OktaGroup {
    const now = this.now();
    const type = partial.type ?? 'OKTA_GROUP';
    const id = partial.id ?? this.newId('00g', this.groupsById);
    if (this.groupsById.has(id)) throw new Error(`Group ${id} already exists`);
    if (type === 'BUILT_IN' && this.everyoneId) {
      throw new Error('The org already has its BUILT_IN "Everyone" group');
    }
    const created = partial.created ?? now;
    const group: OktaGroup = {
      id,
      created,
      lastUpdated: partial.lastUpdated ?? created,
      lastMembershipUpdated: partial.lastMembershipUpdated ?? created,
      objectClass:
        partial.objectClass ??
        (type === 'APP_GROUP'
          ? ['okta:windows_security_principal']
          : ['okta:user_group']),
      type,
      profile: { ...partial.profile },
    };
    this.groupsById.set(id, group);
    insertSorted(this.groupIds, id);
    this.memberIds.set(id, []);
    if (type === 'BUILT_IN') {
      this.everyoneId = id;
      for (const userId of this.userIds) {
        if (this.usersById.get(userId)!.status !== 'DEPROVISIONED') {
          this.addMember(id, userId);
        }
      }
      group.lastMembershipUpdated = partial.lastMembershipUpdated ?? created;
    }
    this.emit({ kind: 'groupCreated', group }, now);
    return group;
  }

  renameGroup(id: string, name: string): OktaGroup {
    return this.updateGroup(id, { name });
  }

  /** Changes group profile attributes (merged; `null` clears). */
  updateGroup(id: string, profile: Partial<OktaGroupProfile>): OktaGroup {
    const group = this.requireGroup(id);
    group.profile = { ...group.profile, ...profile } as OktaGroupProfile;
    group.lastUpdated = this.now();
    this.emit({ kind: 'groupProfileUpdated', group }, group.lastUpdated);
    return group;
  }

  removeGroup(id: string): void {
    const group = this.requireGroup(id);
    for (const userId of this.memberIdsOf(id)) {
      removeSorted(this.groupIdsOfUser.get(userId)!, id);
    }
    this.memberIds.delete(id);
    this.groupsById.delete(id);
    removeSorted(this.groupIds, id);
    if (this.everyoneId === id) this.everyoneId = undefined;
    this.emit({ kind: 'groupDeleted', group }, this.now());
  }

  addMember(groupId: string, userId: string): void {
    const group = this.requireGroup(groupId);
    const user = this.requireUser(userId);
    if (insertSorted(this.memberIds.get(groupId)!, userId)) {
      insertSorted(this.groupIdsOfUser.get(userId)!, groupId);
      group.lastMembershipUpdated = this.now();
      this.emit(
        { kind: 'memberAdded', group, user },
        group.lastMembershipUpdated,
      );
    }
  }

  removeMember(groupId: string, userId: string): void {
    const group = this.requireGroup(groupId);
    const user = this.requireUser(userId);
    if (removeSorted(this.memberIds.get(groupId)!, userId)) {
      removeSorted(this.groupIdsOfUser.get(userId)!, groupId);
      group.lastMembershipUpdated = this.now();
      this.emit(
        { kind: 'memberRemoved', group, user },
        group.lastMembershipUpdated,
      );
    }
  }

  /**
   * Bulk-loads memberships without touching timestamps (for generators).
   * `memberIds` need not be sorted or unique.
   */
  loadMemberships(groupId: string, memberIds: Iterable<string>): void {
    this.requireGroup(groupId);
    const set = new Set(this.memberIds.get(groupId));
    for (const userId of memberIds) {
      this.requireUser(userId);
      if (set.has(userId)) continue;
      set.add(userId);
      this.groupIdsOfUser.get(userId)!.push(groupId);
    }
    this.memberIds.set(groupId, [...set].sort());
  }

  /** Re-sorts reverse indexes after `loadMemberships`. */
  finishLoading(): void {
    for (const ids of this.groupIdsOfUser.values()) ids.sort();
  }

  private requireUser(id: string): OktaUser {
    const user = this.usersById.get(id);
    if (!user) throw new Error(`No user ${id} in the fake org`);
    return user;
  }

  private requireGroup(id: string): OktaGroup {
    const group = this.groupsById.get(id);
    if (!group) throw new Error(`No group ${id} in the fake org`);
    return group;
  }
}
