/*
 * The changes a fake org reports as they happen, for its System Log and its
 * event hooks. Bulk loads by generators are not changes: a generated org
 * starts with an empty log, as a real org's log holds nothing from before
 * its retention window.
 */
import type { OktaGroup, OktaUser, OktaUserStatus } from './FakeOrg';

export type FakeOrgChange =
  | { kind: 'userCreated'; user: OktaUser }
  | { kind: 'userStatusChanged'; user: OktaUser; from: OktaUserStatus }
  | { kind: 'userProfileUpdated'; user: OktaUser }
  | { kind: 'userDeleted'; user: OktaUser }
  | { kind: 'groupCreated'; group: OktaGroup }
  | { kind: 'groupProfileUpdated'; group: OktaGroup }
  | { kind: 'groupDeleted'; group: OktaGroup }
  | { kind: 'memberAdded'; group: OktaGroup; user: OktaUser }
  | { kind: 'memberRemoved'; group: OktaGroup; user: OktaUser };

/**
 * Called synchronously inside the mutator, with the objects as they are
 * right after the change (read what you need before returning).
 */
export type FakeOrgChangeListener = (change: FakeOrgChange, at: string) => void;
