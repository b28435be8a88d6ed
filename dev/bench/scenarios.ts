/*
 * The benchmark's scenarios and what each selects in a generated org: the
 * provider's selection (as app-config would give it) and the shape the
 * minimum request count and the lower bound are computed from. The org is
 * generated here from the same seed and options as in the fake's process;
 * the selection is evaluated with the fake's own search semantics.
 */
import type { FakeOrg } from '../fakeOkta';
import {
  compileSearch,
  GROUP_SEARCH_RULES,
  matchesSearch,
  USER_SEARCH_RULES,
} from '../fakeOkta/search';
import { PAGE_SIZE, type SelectionShape } from './bound';

export type ScenarioId = 'a' | 'b' | 'c' | 'd';

/** The provider's selection, in config terms. */
export interface BenchSelection {
  userSearchFilter?: string;
  groupNames?: string[];
  groupSearchFilter?: string;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** Which org it runs against: the big one (a–c) or the small end-to-end one (d). */
  org: 'main' | 'small';
  /** Through the real catalog backend, until the catalog serves every entity. */
  endToEnd: boolean;
  selection: BenchSelection;
}

/** About 10% of groups: a quarter are APP_GROUPs, and 2 of 15 departments. */
export const GROUP_SEARCH_FILTER =
  'type eq "OKTA_GROUP" and (profile.name sw "Sales" or profile.name sw "Data")';
export const USER_SEARCH_FILTER = 'status eq "ACTIVE"';
export const GROUP_NAME_COUNT = 50;

/**
 * 50 group names spread evenly over the groups in id order (so over the
 * random size ranking too): a mix of big, small and empty groups.
 */
export function pickGroupNames(
  org: FakeOrg,
  count = GROUP_NAME_COUNT,
): string[] {
  const candidates = org.groups().filter(g => g.type !== 'BUILT_IN');
  const step = candidates.length / count;
  const names: string[] = [];
  for (let i = 0; i < count && i < candidates.length; i++) {
    names.push(String(candidates[Math.floor(i * step)].profile.name));
  }
  return names;
}

export function defineScenarios(mainOrg: FakeOrg): Scenario[] {
  return [
    {
      id: 'a',
      title: 'all users and groups',
      org: 'main',
      endToEnd: false,
      selection: {},
    },
    {
      id: 'b',
      title: `groupNames (${GROUP_NAME_COUNT} groups)`,
      org: 'main',
      endToEnd: false,
      selection: { groupNames: pickGroupNames(mainOrg) },
    },
    {
      id: 'c',
      title: 'groupSearchFilter ~10% + userSearchFilter',
      org: 'main',
      endToEnd: false,
      selection: {
        groupSearchFilter: GROUP_SEARCH_FILTER,
        userSearchFilter: USER_SEARCH_FILTER,
      },
    },
    {
      id: 'd',
      title: 'end to end through the catalog',
      org: 'small',
      endToEnd: true,
      selection: {},
    },
  ];
}

/** Okta answers 414 beyond about 8 KiB of URL; stay well below with the search value. */
const MAX_ENCODED_SEARCH = 7000;

/** The fewest listings that can carry `profile.name eq` for every name. */
export function fewestNameSearchListings(names: string[]): number {
  let listings = 0;
  let current = 0;
  for (const name of new Set(names)) {
    const term = encodeURIComponent(
      `profile.name eq ${JSON.stringify(name)}`,
    ).length;
    const joiner = encodeURIComponent(' or ').length;
    if (current > 0 && current + joiner + term <= MAX_ENCODED_SEARCH) {
      current += joiner + term;
    } else {
      listings += 1;
      current = term;
    }
  }
  return Math.max(1, listings);
}

/** What a selection reads in this org, for the minimum and the bound. */
export interface SelectionFacts extends SelectionShape {
  selectedGroups: number;
  nonEmptySelectedGroups: number;
  memberships: number;
  biggestGroup: number;
  /** Users the provider should emit (before any the mapping drops). */
  expectedUsers: number;
}

export function selectionFacts(
  org: FakeOrg,
  selection: BenchSelection,
): SelectionFacts {
  const groups = org.groups();
  let selected;
  let groupListings = 1;
  let listedGroups: number;
  if (selection.groupNames) {
    const wanted = new Set(selection.groupNames);
    selected = groups.filter(g => wanted.has(String(g.profile.name)));
    groupListings = fewestNameSearchListings(selection.groupNames);
    listedGroups = selected.length;
  } else if (selection.groupSearchFilter) {
    const expression = compileSearch(
      selection.groupSearchFilter,
      GROUP_SEARCH_RULES,
    );
    selected = groups.filter(g =>
      matchesSearch(g, expression, GROUP_SEARCH_RULES),
    );
    listedGroups = selected.length;
  } else {
    // Everyone (BUILT_IN) is listed but not read: it is the whole directory.
    listedGroups = groups.length;
    selected = groups.filter(g => g.type !== 'BUILT_IN');
  }
  const groupFiltered = Boolean(
    selection.groupNames || selection.groupSearchFilter,
  );
  const listsUserDirectory =
    !groupFiltered || selection.userSearchFilter !== undefined;

  const userSearch = selection.userSearchFilter
    ? compileSearch(selection.userSearchFilter, USER_SEARCH_RULES)
    : undefined;
  // Without search Okta leaves DEPROVISIONED users out; with search it does not.
  const isListed = (user: ReturnType<FakeOrg['users']>[number]) =>
    userSearch
      ? matchesSearch(user, userSearch, USER_SEARCH_RULES)
      : user.status !== 'DEPROVISIONED';
  const listedUsers = listsUserDirectory
    ? org.users().filter(isListed).length
    : 0;

  const sizes = selected.map(g => org.memberIdsOf(g.id).length);
  let expectedUsers: number;
  if (!groupFiltered) {
    expectedUsers = listedUsers;
  } else {
    const inSome = new Set<string>();
    for (const g of selected)
      for (const id of org.memberIdsOf(g.id)) inSome.add(id);
    expectedUsers = [...inSome].filter(id => {
      const user = org.getUser(id)!;
      return userSearch
        ? matchesSearch(user, userSearch, USER_SEARCH_RULES)
        : user.status !== 'DEPROVISIONED';
    }).length;
  }
  return {
    listsUserDirectory,
    listedUsers,
    groupListings,
    listedGroups,
    selectedGroupSizes: sizes,
    selectedGroups: selected.length,
    nonEmptySelectedGroups: sizes.filter(s => s > 0).length,
    memberships: sizes.reduce((a, b) => a + b, 0),
    biggestGroup: sizes.reduce((a, b) => Math.max(a, b), 0),
    expectedUsers,
  };
}

/** Pages of the biggest selected group's member listing. */
export function longestMemberListingPages(facts: SelectionFacts): number {
  return facts.biggestGroup > 0
    ? Math.ceil(facts.biggestGroup / PAGE_SIZE.groupMembers)
    : 0;
}
