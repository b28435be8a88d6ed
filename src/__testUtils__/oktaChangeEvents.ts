/* Okta change events as the endpoint and the follower hand them to the batcher. */
import { createBackendModule } from '@backstage/backend-plugin-api';
import { oktaChangeSinkExtensionPoint } from '../events/extensionPoint';
import type { OktaChangeEvent } from '../events/oktaEvents';
import type { OktaChangeSink } from '../events/types';

/** A member added to `groupId`. */
export function membershipAdded(
  uuid: string,
  groupId: string,
): OktaChangeEvent {
  return {
    uuid,
    eventType: 'group.user_membership.add',
    userIds: [],
    groupIds: [],
    membershipGroupIds: [groupId],
  };
}

/** `userId` added to `groupId`, as an event naming both reads. */
export function membershipOf(
  uuid: string,
  groupId: string,
  userId: string,
): OktaChangeEvent {
  return {
    uuid,
    eventType: 'group.user_membership.add',
    userIds: [],
    groupIds: [],
    membershipGroupIds: [],
    memberships: [{ groupId, userId }],
  };
}

/** `userId`'s profile changed. */
export function profileUpdated(uuid: string, userId: string): OktaChangeEvent {
  return {
    uuid,
    eventType: 'user.account.update_profile',
    userIds: [userId],
    groupIds: [],
    membershipGroupIds: [],
  };
}

/** A backend module that makes the Okta module hand its changes to `sink`. */
export function changeSinkModule(sink: OktaChangeSink) {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'okta-test-change-sink',
    register(env) {
      env.registerInit({
        deps: { okta: oktaChangeSinkExtensionPoint },
        async init({ okta }) {
          okta.setChangeSink(sink);
        },
      });
    },
  });
}
