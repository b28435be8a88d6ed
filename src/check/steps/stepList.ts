/*
 * The ordered steps of one check, and which failure each skipped step
 * traces back to, so that a step whose inputs failed says which one did.
 */
import type { OktaSetupStep, OktaSetupStepId } from '../types';
import { GROUPS_SCOPE, USERS_SCOPE } from '../oktaProbe';

/** What a step function returns: the runner adds the title. */
export type OktaSetupStepResult = Omit<OktaSetupStep, 'title'>;

export const TITLES: Record<OktaSetupStepId, string> = {
  orgUrl: 'Org URL (oktaUrl) is an Okta org',
  clientAuthentication:
    'Client authentication with the key pair (clientId, keyId, privateKey)',
  scopes: `Okta API scopes granted (${USERS_SCOPE}, ${GROUPS_SCOPE})`,
  apiToken: 'SSWS API token (token) is valid',
  readUsers: 'Admin role allows listing users',
  readGroups: 'Admin role allows listing groups',
  userSearchFilter: 'userSearchFilter accepted by Okta',
  groupSearchFilter: 'groupSearchFilter accepted by Okta',
  groupNames: 'groupNames exist in Okta',
  selection: 'What a sync would read',
  deletionGuard: 'What the deletion guard would say',
};

/** The ordered steps, and which failure each blocked step traces back to. */
export class StepList {
  readonly steps: OktaSetupStep[] = [];
  private readonly blockedBy = new Map<OktaSetupStepId, string>();

  add(step: OktaSetupStepResult & { title?: string }): OktaSetupStep {
    const full: OktaSetupStep = {
      ...step,
      title: step.title ?? TITLES[step.id],
    };
    this.steps.push(full);
    if (full.status === 'failed') this.blockedBy.set(full.id, full.title);
    return full;
  }

  /** The failed step (direct or upstream) among `dependencies`, if any. */
  blocker(...dependencies: OktaSetupStepId[]): string | undefined {
    for (const id of dependencies) {
      const title = this.blockedBy.get(id);
      if (title) return title;
    }
    return undefined;
  }

  /** Adds `id` as skipped when a dependency failed; returns whether it did. */
  skipIfBlocked(
    id: OktaSetupStepId,
    ...dependencies: OktaSetupStepId[]
  ): boolean {
    const title = this.blocker(...dependencies);
    if (!title) return false;
    this.steps.push({
      id,
      title: TITLES[id],
      status: 'skipped',
      detail: `Not checked: "${title}" failed.`,
    });
    this.blockedBy.set(id, title);
    return true;
  }

  notConfigured(id: OktaSetupStepId, detail: string) {
    this.steps.push({ id, title: TITLES[id], status: 'skipped', detail });
  }
}
