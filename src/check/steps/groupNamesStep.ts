/*
 * The `groupNames` step: every configured group name matches an Okta group
 * exactly, with the closest existing names for those that do not.
 */
import {
  quoteOktaSearchValue,
  groupNameSearchExpressions,
} from '../../okta/read';
import { closestNames } from '../closestNames';
import { OktaProbe, oktaSaid, type ApiAnswer } from '../oktaProbe';
import type { OktaSetupStepResult } from './stepList';

/** Missing group names looked up for suggestions, and candidates per lookup. */
const MAX_NAMES_TO_SUGGEST_FOR = 10;
const MAX_SUGGESTION_CANDIDATES = 200;

function groupNameOf(item: unknown): string | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const profile = (item as { profile?: unknown }).profile;
  if (!profile || typeof profile !== 'object') return undefined;
  const name = (profile as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** All pages of a group listing's names; an error answer when one fails. */
async function listGroupNames(
  probe: OktaProbe,
  query: Record<string, string>,
  maxNames = Infinity,
): Promise<{ names: string[] } | { failure: ApiAnswer }> {
  const names: string[] = [];
  let answer = await probe.get('/api/v1/groups', query);
  for (;;) {
    if (answer.kind !== 'response' || answer.status !== 200)
      return { failure: answer };
    for (const item of answer.items ?? []) {
      const name = groupNameOf(item);
      if (name !== undefined) names.push(name);
    }
    if (!answer.next || names.length >= maxNames) return { names };
    answer = await probe.getUrl(answer.next);
  }
}

/** Step f: every configured group name matches an Okta group. */
export async function checkGroupNames(
  probe: OktaProbe,
  names: string[],
): Promise<OktaSetupStepResult> {
  const found = new Set<string>();
  for (const search of groupNameSearchExpressions(names)) {
    const listed = await listGroupNames(probe, { search, limit: '10000' });
    if ('failure' in listed) {
      return {
        id: 'groupNames',
        status: 'failed',
        detail: `Looking the names up failed: ${oktaSaid(listed.failure)}.`,
        fix: "see Okta's answer in the detail",
      };
    }
    listed.names.forEach(name => found.add(name));
  }
  // Okta compares names ignoring case; the provider wants the exact name.
  const foundIgnoringCase = new Map(
    [...found].map(name => [name.toLowerCase(), name]),
  );
  const caseOnly: string[] = [];
  const missing: string[] = [];
  for (const name of names.filter(n => !found.has(n))) {
    const actual = foundIgnoringCase.get(name.toLowerCase());
    if (actual)
      caseOnly.push(
        `${JSON.stringify(name)} matches ${JSON.stringify(actual)} only when case is ignored`,
      );
    else missing.push(name);
  }
  const caseFix = caseOnly.length
    ? `write the names exactly as in Okta (Directory → Groups): ${caseOnly.join('; ')}`
    : undefined;
  if (missing.length === 0 && caseOnly.length) {
    return {
      id: 'groupNames',
      status: 'warning',
      detail: `All ${names.length} group name(s) match an Okta group, ${caseOnly.length} only when case is ignored (a sync reads them but warns on every run).`,
      fix: caseFix,
    };
  }
  if (missing.length === 0) {
    return {
      id: 'groupNames',
      status: 'passed',
      detail: `All ${names.length} group name(s) match an Okta group.`,
    };
  }
  // Suggestions from groups sharing the first characters: one small request per name.
  const described: string[] = [];
  for (const [index, name] of missing.entries()) {
    let suggestion = '';
    if (index < MAX_NAMES_TO_SUGGEST_FOR) {
      const prefix = name.slice(0, 2);
      const listed = await listGroupNames(
        probe,
        {
          search: `profile.name sw ${quoteOktaSearchValue(prefix)}`,
          limit: String(MAX_SUGGESTION_CANDIDATES),
        },
        MAX_SUGGESTION_CANDIDATES,
      );
      const near = 'names' in listed ? closestNames(name, listed.names) : [];
      if (near.length)
        suggestion = ` (closest: ${near.map(n => JSON.stringify(n)).join(', ')})`;
    }
    described.push(`${JSON.stringify(name)}${suggestion}`);
  }
  return {
    id: 'groupNames',
    status: 'failed',
    detail: `${missing.length} of ${names.length} group name(s) match no Okta group: ${described.join('; ')}.${
      caseOnly.length ? ` Also ${caseOnly.join('; ')}.` : ''
    }`,
    fix: 'correct or remove these entries of groupNames; Okta matches the exact group name (Directory → Groups)',
  };
}
