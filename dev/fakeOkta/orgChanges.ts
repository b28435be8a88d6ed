/*
 * A steady-state day in an org, in one step: a share of the users change
 * (profile edits, renames, deprovisionings) and a share of the groups change
 * (a member joins and one leaves, or the group is renamed). Used by the
 * benchmark's incremental scenario through the fake's IPC channel.
 */
import type { FakeOrg } from './FakeOrg';
import { mulberry32 } from './random';

export interface OrgChangeCounts {
  usersChanged: number;
  groupsChanged: number;
}

/** Changes `share` of the users and of the (non-BUILT_IN) groups. */
export function changeShareOfOrg(
  org: FakeOrg,
  options: { share: number; seed: number },
): OrgChangeCounts {
  const random = mulberry32(options.seed);
  const users = org.users().filter(u => u.status !== 'DEPROVISIONED');
  const groups = org.groups().filter(g => g.type !== 'BUILT_IN');
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
  const changedUsers = new Set<string>();
  const userTarget = Math.round(org.userCount * options.share);
  while (changedUsers.size < userTarget && changedUsers.size < users.length) {
    const user = pick(users);
    if (changedUsers.has(user.id)) continue;
    changedUsers.add(user.id);
    const r = random();
    if (r < 0.1) {
      org.deprovisionUser(user.id);
    } else if (r < 0.3 && typeof user.profile.email === 'string') {
      const [local, domain] = user.profile.email.split('@');
      org.updateUser(user.id, {
        profile: { email: `${local}.moved@${domain}` },
      });
    } else {
      org.updateUser(user.id, {
        profile: { title: `Title ${Math.floor(random() * 1e6)}` },
      });
    }
  }
  const changedGroups = new Set<string>();
  const groupTarget = Math.round(groups.length * options.share);
  while (
    changedGroups.size < groupTarget &&
    changedGroups.size < groups.length
  ) {
    const group = pick(groups);
    if (changedGroups.has(group.id)) continue;
    changedGroups.add(group.id);
    if (random() < 0.2) {
      org.renameGroup(group.id, `${group.profile.name} (renamed)`);
    } else {
      org.addMember(group.id, pick(users).id);
      const members = org.memberIdsOf(group.id);
      if (members.length > 1) org.removeMember(group.id, members[0]);
    }
  }
  return { usersChanged: changedUsers.size, groupsChanged: changedGroups.size };
}
