/*
 * Which Okta objects an Okta event says changed. An event hook request or a
 * System Log page is data from outside: only the event's uuid, its type and
 * the ids of its User and UserGroup targets are read, each checked for
 * shape, and everything else in it is ignored.
 */

/** The event types that change what the catalog holds, and what each changes. */
const EVENT_EFFECTS: Record<string, 'user' | 'group' | 'membership'> = {
  'user.lifecycle.create': 'user',
  'user.lifecycle.activate': 'user',
  'user.lifecycle.deactivate': 'user',
  'user.lifecycle.suspend': 'user',
  'user.lifecycle.unsuspend': 'user',
  'user.lifecycle.reactivate': 'user',
  'user.lifecycle.delete.initiated': 'user',
  'user.account.update_profile': 'user',
  'group.user_membership.add': 'membership',
  'group.user_membership.remove': 'membership',
  'group.lifecycle.create': 'group',
  'group.lifecycle.delete': 'group',
  'group.profile.update': 'group',
};

/** The event types to subscribe an Okta event hook (or a System Log filter) to. */
export const OKTA_CHANGE_EVENT_TYPES: readonly string[] =
  Object.keys(EVENT_EFFECTS);

/** Okta object ids are short and alphanumeric; anything else is not an id. */
const OKTA_ID_PATTERN = /^[A-Za-z0-9]{1,64}$/;
const UUID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** What one event changed. */
export interface OktaChangeEvent {
  uuid: string;
  eventType: string;
  userIds: string[];
  groupIds: string[];
  /** Groups whose members changed, the users not named: list their members. */
  membershipGroupIds: string[];
  /** Memberships that changed, each naming its group and its user. */
  memberships?: OktaMembershipChange[];
}

/** One group's membership of one user, as a membership event names it. */
export interface OktaMembershipChange {
  groupId: string;
  userId: string;
}

export interface ReadOktaEventsResult {
  changes: OktaChangeEvent[];
  /** Events of other types (or that changed nothing the catalog holds). */
  ignored: number;
  /** Events that did not have the shape of an Okta event (no uuid, odd ids). */
  malformed: number;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function targetIds(
  target: unknown,
  type: 'User' | 'UserGroup',
): string[] | undefined {
  if (!Array.isArray(target)) return undefined;
  const ids: string[] = [];
  for (const item of target) {
    const record = asRecord(item);
    if (!record || record.type !== type) continue;
    if (typeof record.id !== 'string' || !OKTA_ID_PATTERN.test(record.id)) {
      return undefined;
    }
    ids.push(record.id);
  }
  return ids;
}

/** Reads the changes out of Okta events (System Log or event hook `data.events`). */
export function readOktaEvents(events: unknown[]): ReadOktaEventsResult {
  const result: ReadOktaEventsResult = {
    changes: [],
    ignored: 0,
    malformed: 0,
  };
  for (const raw of events) {
    const event = asRecord(raw);
    const uuid = event?.uuid;
    const eventType = event?.eventType;
    if (
      typeof uuid !== 'string' ||
      !UUID_PATTERN.test(uuid) ||
      typeof eventType !== 'string'
    ) {
      result.malformed++;
      continue;
    }
    const effect = EVENT_EFFECTS[eventType];
    if (!effect) {
      result.ignored++;
      continue;
    }
    const userIds = targetIds(event!.target, 'User');
    const groupIds = targetIds(event!.target, 'UserGroup');
    if (!userIds || !groupIds) {
      result.malformed++;
      continue;
    }
    const change: OktaChangeEvent = {
      uuid,
      eventType,
      userIds: [],
      groupIds: [],
      membershipGroupIds: [],
    };
    if (effect === 'user') change.userIds = userIds;
    else if (effect === 'group') change.groupIds = groupIds;
    else if (userIds.length === 0) change.membershipGroupIds = groupIds;
    else {
      // The membership itself: re-read by the user's groups, not by listing
      // the whole group (see incrementalSync.ts).
      change.memberships = groupIds.flatMap(groupId =>
        userIds.map(userId => ({ groupId, userId })),
      );
    }
    if (
      change.userIds.length +
        change.groupIds.length +
        change.membershipGroupIds.length +
        (change.memberships?.length ?? 0) ===
      0
    ) {
      result.malformed++;
      continue;
    }
    result.changes.push(change);
  }
  return result;
}
