/*
 * The shape of a set-up check's answer: an ordered list of steps, each with
 * what Okta said and the Okta setting (or config key) to change.
 */
import type { GroupEntity, UserEntity } from '@backstage/catalog-model';

/** The outcome of one step. */
export type OktaSetupStepStatus = 'passed' | 'failed' | 'warning' | 'skipped';

/** The steps, in the order they run (README "Set up Okta" order). */
export type OktaSetupStepId =
  | 'orgUrl'
  | 'clientAuthentication'
  | 'scopes'
  | 'apiToken'
  | 'readUsers'
  | 'readGroups'
  | 'userSearchFilter'
  | 'groupSearchFilter'
  | 'groupNames'
  | 'selection'
  | 'deletionGuard';

/** One checked setting. */
export interface OktaSetupStep {
  id: OktaSetupStepId;
  title: string;
  status: OktaSetupStepStatus;
  /** What was found, in Okta's words where it gave some. Never a secret. */
  detail: string;
  /** What to change, naming the Okta console setting or the config key. */
  fix?: string;
  /** Extra lines, e.g. warnings from building the entities. */
  notes?: string[];
}

/** What a sync would produce (the `selection` step; also the dry run). */
export interface OktaSetupSelection {
  users: UserEntity[];
  groups: GroupEntity[];
  memberships: number;
}

/** The answer of {@link checkOktaSetup} for one provider. */
export interface OktaSetupReport {
  providerId: string;
  orgUrl: string;
  /** How the provider authenticates. */
  auth: 'privateKey' | 'apiToken';
  steps: OktaSetupStep[];
  /** No step failed (warnings allowed). */
  ok: boolean;
  /** Present when the `selection` step ran and passed or warned. */
  selection?: OktaSetupSelection;
}
