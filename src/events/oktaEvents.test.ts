import { describe, expect, it } from '@jest/globals';
import { OKTA_CHANGE_EVENT_TYPES, readOktaEvents } from './oktaEvents';

const user = {
  id: '00u1abc',
  type: 'User',
  alternateId: 'a@example.com',
  displayName: 'A',
};
const group = {
  id: '00g1abc',
  type: 'UserGroup',
  alternateId: 'unknown',
  displayName: 'G',
};

describe('readOktaEvents', () => {
  it('reads users, groups and membership groups by event type, ignoring other fields', () => {
    const result = readOktaEvents([
      {
        uuid: 'u-1',
        eventType: 'user.lifecycle.create',
        target: [user],
        actor: { id: 'x' },
      },
      { uuid: 'u-2', eventType: 'group.profile.update', target: [group] },
      {
        uuid: 'u-3',
        eventType: 'group.user_membership.add',
        target: [user, group],
      },
      { uuid: 'u-4', eventType: 'user.session.start', target: [user] },
    ]);
    expect(result.changes).toEqual([
      {
        uuid: 'u-1',
        eventType: 'user.lifecycle.create',
        userIds: ['00u1abc'],
        groupIds: [],
        membershipGroupIds: [],
      },
      {
        uuid: 'u-2',
        eventType: 'group.profile.update',
        userIds: [],
        groupIds: ['00g1abc'],
        membershipGroupIds: [],
      },
      {
        // The membership itself, by its user and its group.
        uuid: 'u-3',
        eventType: 'group.user_membership.add',
        userIds: [],
        groupIds: [],
        membershipGroupIds: [],
        memberships: [{ groupId: '00g1abc', userId: '00u1abc' }],
      },
    ]);
    expect(result.ignored).toBe(1);
    expect(result.malformed).toBe(0);
  });

  it('skips events not shaped like Okta events: no uuid, odd ids, no target of the right type', () => {
    const result = readOktaEvents([
      null,
      'text',
      { eventType: 'user.lifecycle.create', target: [user] },
      { uuid: 'has space', eventType: 'user.lifecycle.create', target: [user] },
      {
        uuid: 'u-5',
        eventType: 'user.lifecycle.create',
        target: [{ ...user, id: '../../etc' }],
      },
      { uuid: 'u-6', eventType: 'user.lifecycle.create', target: 'nope' },
      { uuid: 'u-7', eventType: 'group.lifecycle.delete', target: [user] },
    ]);
    expect(result.changes).toEqual([]);
    expect(result.malformed).toBe(7);
  });

  it('covers the event types the README tells admins to subscribe to', () => {
    expect([...OKTA_CHANGE_EVENT_TYPES].sort()).toEqual([
      'group.lifecycle.create',
      'group.lifecycle.delete',
      'group.profile.update',
      'group.user_membership.add',
      'group.user_membership.remove',
      'user.account.update_profile',
      'user.lifecycle.activate',
      'user.lifecycle.create',
      'user.lifecycle.deactivate',
      'user.lifecycle.delete.initiated',
      'user.lifecycle.reactivate',
      'user.lifecycle.suspend',
      'user.lifecycle.unsuspend',
    ]);
  });
});
