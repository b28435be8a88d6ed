/*
 * Random rounds of change to a fake Okta org, as admins and imports make
 * them: users added, renamed (to colliding names too), moved between
 * departments (so filters' matches change), deprovisioned, reactivated and
 * deleted; groups added, renamed, re-parented and deleted; members added and
 * removed. Shared by the incremental sync's equivalence tests and the bench.
 */
import type { FakeOkta, FakeOrg } from '../../dev/fakeOkta';

const DEPARTMENTS = ['Engineering', 'Sales', 'Support', 'Data'];

function pick<T>(random: () => number, list: readonly T[]): T | undefined {
  return list.length === 0
    ? undefined
    : list[Math.floor(random() * list.length)];
}

/** Applies `count` random changes; returns what was done, for failure messages. */
export function applyRandomOktaChanges(
  org: FakeOrg,
  random: () => number,
  count: number,
  extraGroupNames: string[] = [],
): string[] {
  const done: string[] = [];
  let serial = Math.floor(random() * 1e9);
  const nonBuiltIn = () => org.groups().filter(g => g.type !== 'BUILT_IN');
  for (let i = 0; i < count; i++) {
    const users = org.users();
    const user = pick(random, users);
    const group = pick(random, nonBuiltIn());
    const r = Math.floor(random() * 14);
    try {
      if (r === 0) {
        const local = `new.user${serial++}`;
        const added = org.addUser({
          profile: {
            login: `${local}@example.com`,
            email: `${local}@example.com`,
            firstName: 'New',
            lastName: `User${serial}`,
            department: pick(random, DEPARTMENTS),
          },
        });
        if (group) org.addMember(group.id, added.id);
        done.push(`add user ${added.id}`);
      } else if (r === 1 && user) {
        // Sometimes onto another user's name: a collision to resolve.
        const other = pick(random, users)!;
        const local =
          random() < 0.3 && typeof other.profile.email === 'string'
            ? other.profile.email.split('@')[0]
            : `renamed${serial++}`;
        const email = `${local}@${random() < 0.5 ? 'example.org' : 'example.net'}`;
        const login = org.findUser(email)
          ? `${local}.${serial++}@example.io`
          : email;
        org.updateUser(user.id, { profile: { email, login } });
        done.push(`rename user ${user.id} to ${email}`);
      } else if (r === 2 && user) {
        org.updateUser(user.id, {
          profile: { department: pick(random, DEPARTMENTS) },
        });
        done.push(`move user ${user.id}`);
      } else if (r === 3 && user && user.status !== 'DEPROVISIONED') {
        org.deprovisionUser(user.id);
        done.push(`deprovision user ${user.id}`);
      } else if (r === 4 && user && user.status === 'DEPROVISIONED') {
        org.updateUser(user.id, { status: 'ACTIVE' });
        done.push(`reactivate user ${user.id}`);
      } else if (r === 5 && user) {
        // As Okta deletes: deactivated first, then gone (often between two runs).
        if (user.status !== 'DEPROVISIONED') org.deprovisionUser(user.id);
        org.removeUser(user.id);
        done.push(`delete user ${user.id}`);
      } else if (r === 6) {
        const name = pick(random, extraGroupNames) ?? `Team ${serial++}`;
        if (!org.findGroupByName(name)) {
          const added = org.addGroup({ profile: { name } });
          if (user) org.addMember(added.id, user.id);
          done.push(`add group ${added.id} ${name}`);
        }
      } else if (r === 7 && group) {
        const name =
          random() < 0.3
            ? (pick(random, extraGroupNames) ?? `Team ${serial++}`)
            : `Team ${serial++}`;
        org.renameGroup(group.id, name);
        done.push(`rename group ${group.id} to ${name}`);
      } else if (r === 8 && group && random() < 0.5) {
        org.removeGroup(group.id);
        done.push(`delete group ${group.id}`);
      } else if ((r === 9 || r === 10) && group && user) {
        org.addMember(group.id, user.id);
        done.push(`add ${user.id} to ${group.id}`);
      } else if ((r === 11 || r === 12) && group) {
        const member = pick(random, org.memberIdsOf(group.id));
        if (member) {
          org.removeMember(group.id, member);
          done.push(`remove ${member} from ${group.id}`);
        }
      } else if (r === 13 && group) {
        const parent = pick(random, nonBuiltIn());
        org.updateGroup(group.id, {
          parentGroup: parent && random() < 0.8 ? parent.profile.name : null,
        });
        done.push(`re-parent group ${group.id}`);
      }
    } catch (error) {
      // A random change the fake refuses (a taken login): not a change.
      done.push(`(refused: ${(error as Error).message})`);
    }
  }
  return done;
}

/**
 * Arms the fake to delete a group just as a run asks for one of its member
 * pages (the `nth` member-page request from now on, of any group but
 * BUILT_IN): a deletion timed into a run's listings, between the group
 * listing and the member listing, or between two member pages. Returns
 * what it did, once the run is over; the listener is removed then.
 */
export function deleteGroupWhenListed(
  fake: FakeOkta,
  nth: number,
): () => string | undefined {
  let seen = 0;
  let done: string | undefined;
  fake.onRequest(arrival => {
    if (done || arrival.endpoint !== 'groupUsers') return;
    seen += 1;
    if (seen < nth) return;
    const id = decodeURIComponent(
      arrival.path.split('?')[0].split('/')[4] ?? '',
    );
    const group = fake.org.getGroup(id);
    if (!group || group.type === 'BUILT_IN') return;
    fake.org.removeGroup(id);
    done = `delete group ${id} as its member page ${arrival.path.includes('after=') ? '(not the first) ' : ''}was asked for`;
  });
  return () => {
    fake.onRequest(undefined);
    return done;
  };
}
