/*
 * An app's admin role limited to part of the org, as an Okta resource set
 * does: the role applies to some groups (and the users in them) and to some
 * users. Listings then show only what the role can see; a group outside it
 * answers 403, as any resource the role does not cover.
 */
import type { FakeOrg, OktaGroup, OktaUser } from './FakeOrg';

/** The resources an app's admin role covers; absent: the whole org. */
export interface FakeAdminRoleScope {
  /** Groups the role covers, by id; their members are covered too. */
  groupIds?: string[];
  /** Users the role covers, by id, besides the members of `groupIds`. */
  userIds?: string[];
}

/** What one principal can see; `undefined` scope sees everything. */
export class AdminRoleView {
  private readonly groups: Set<string>;
  private readonly users: Set<string>;

  constructor(
    private readonly org: FakeOrg,
    scope: FakeAdminRoleScope,
  ) {
    this.groups = new Set(scope.groupIds ?? []);
    this.users = new Set(scope.userIds ?? []);
  }

  canSeeGroup(group: OktaGroup): boolean {
    return this.groups.has(group.id);
  }

  canSeeUser(user: OktaUser): boolean {
    if (this.users.has(user.id)) return true;
    for (const groupId of this.org.groupIdsOf(user.id)) {
      if (this.groups.has(groupId)) return true;
    }
    return false;
  }
}
