/*
 * The `selection` step (the dry run): a full read with the check's client
 * (the provider's own, or one set up as its config says) and the entities a
 * sync would commit.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaOrgClient } from '../../okta/client/types';
import { readProviderEntities } from '../../okta/providerSync';
import type {
  OktaGroupTransformer,
  OktaProviderConfig,
  OktaUserTransformer,
} from '../../okta/types';
import { describeError as describe } from '../oktaProbe';
import { requestsBetween } from '../../sync/syncSummary';
import type { OktaSetupSelection } from '../types';
import type { OktaSetupStepResult } from './stepList';

/** Step g: a full read and the entities a sync would commit. */
export async function checkSelection(
  client: OktaOrgClient,
  provider: OktaProviderConfig,
  options: {
    signal?: AbortSignal;
    userTransformer?: OktaUserTransformer;
    groupTransformer?: OktaGroupTransformer;
  },
): Promise<{ step: OktaSetupStepResult; selection?: OktaSetupSelection }> {
  const notes: string[] = [];
  const collecting: LoggerService = {
    error: message => notes.push(message),
    warn: message => notes.push(message),
    info: () => {},
    debug: () => {},
    child: () => collecting,
  };
  const started = performance.now();
  const statsBefore = client.stats();
  try {
    const { users, groups } = await readProviderEntities(client, provider, {
      logger: collecting,
      signal: options.signal,
      userTransformer: options.userTransformer,
      groupTransformer: options.groupTransformer,
    });
    const memberships = groups.reduce(
      (sum, group) => sum + (group.spec.members?.length ?? 0),
      0,
    );
    const requests = requestsBetween(statsBefore, client.stats()).total;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = `A sync would emit ${users.length} users and ${groups.length} groups with ${memberships} memberships (read in ${seconds} s, ${requests} requests).`;
    const empty = users.length === 0 && groups.length === 0;
    return {
      step: {
        id: 'selection',
        status: empty ? 'warning' : 'passed',
        detail: summary,
        ...(empty && {
          fix: 'the config selects nothing: a sync would remove every entity this provider emitted before; check userSearchFilter, groupNames and groupSearchFilter',
        }),
        ...(notes.length && { notes }),
      },
      selection: { users, groups, memberships },
    };
  } catch (error) {
    return {
      step: {
        id: 'selection',
        status: 'failed',
        detail: `The full read failed: ${describe(error)}`,
        fix: 'see the detail; a sync would fail the same way and apply nothing',
        ...(notes.length && { notes }),
      },
    };
  }
}
