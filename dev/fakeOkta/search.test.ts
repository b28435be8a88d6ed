import { describe, expect, it } from '@jest/globals';
import {
  compileSearch,
  GROUP_FILTER_RULES,
  GROUP_SEARCH_RULES,
  matchesSearch,
  parseSearch,
  SearchSyntaxError,
  USER_FILTER_RULES,
  USER_SEARCH_RULES,
} from './search';

const user = {
  id: '00u1',
  status: 'ACTIVE',
  lastUpdated: '2024-05-01T10:00:00.000Z',
  type: { id: 'oty1' },
  profile: {
    login: 'zoe@example.com',
    firstName: 'Zoë',
    lastName: 'Say "hi"',
    department: 'R&D',
    empty: null,
  },
};

const matches = (expr: string, rules = USER_SEARCH_RULES) =>
  matchesSearch(user, compileSearch(expr, rules), rules);

describe('search expressions', () => {
  it('binds and tighter than or, and honours parentheses and not', () => {
    expect(parseSearch('a eq "1" or b eq "2" and c eq "3"')).toEqual({
      kind: 'or',
      left: { kind: 'compare', attribute: 'a', op: 'eq', value: '1' },
      right: {
        kind: 'and',
        left: { kind: 'compare', attribute: 'b', op: 'eq', value: '2' },
        right: { kind: 'compare', attribute: 'c', op: 'eq', value: '3' },
      },
    });
    expect(
      matches('status eq "ACTIVE" or status eq "X" and id eq "nope"'),
    ).toBe(true);
    expect(
      matches('(status eq "ACTIVE" or status eq "X") and id eq "nope"'),
    ).toBe(false);
    expect(matches('not (status eq "SUSPENDED")')).toBe(true);
    expect(matches('NOT status EQ "ACTIVE"')).toBe(false);
  });

  it('handles quoting, escapes and non-ASCII values', () => {
    expect(matches('profile.lastName eq "Say \\"hi\\""')).toBe(true);
    expect(matches('profile.firstName eq "zoë"')).toBe(true);
    expect(matches('profile.department eq "R&D"')).toBe(true);
    expect(matches('profile.login sw "ZOE@"')).toBe(true);
    expect(matches('profile.login co "example"')).toBe(true);
  });

  it('compares dates as timestamps', () => {
    expect(matches('lastUpdated gt "2024-05-01T09:59:59.999Z"')).toBe(true);
    expect(
      matches(
        'lastUpdated ge "2024-05-01T10:00:00.000Z" and lastUpdated lt "2024-05-02T00:00:00Z"',
      ),
    ).toBe(true);
    expect(matches('lastUpdated le "2024-04-30T00:00:00.000Z"')).toBe(false);
  });

  it('supports pr and null', () => {
    expect(matches('profile.department pr')).toBe(true);
    expect(matches('profile.empty pr')).toBe(false);
    expect(matches('profile.missing eq null')).toBe(true);
    expect(matches('type.id eq "oty1"')).toBe(true);
  });

  it.each([
    ['status eq'],
    ['status eq "ACTIVE" and'],
    ['(status eq "ACTIVE"'],
    ['status eq "ACTIVE")'],
    ['status equals "ACTIVE"'],
    ['status eq "unterminated'],
    ['status eq ACTIVE'],
    ['eq "x"'],
    ['lastUpdated gt "not a date"'],
    ['profile.department co "R"'],
    ['bogus eq "x"'],
    ['status = "ACTIVE"'],
  ])('rejects %p', expr => {
    expect(() => compileSearch(expr, USER_SEARCH_RULES)).toThrow(
      SearchSyntaxError,
    );
  });

  it('matches long or-chains of eq (what groupNames sends) exactly as term by term', () => {
    const names = ['Alpha', 'beta', 'Gamma Team', 'DELTA', 'Eps "q"'];
    const chain = names
      .map(n => `profile.name eq ${JSON.stringify(n)}`)
      .join(' or ');
    const ids = ['00g1', '00g2', '00g3', '00g4']
      .map(id => `id eq "${id}"`)
      .join(' or ');
    const groups = [
      { id: '00g1', type: 'OKTA_GROUP', profile: { name: 'alpha' } },
      { id: '00g2', type: 'OKTA_GROUP', profile: { name: 'BETA' } },
      { id: '00G3', type: 'OKTA_GROUP', profile: { name: 'Gamma  Team' } },
      { id: '00g4', type: 'OKTA_GROUP', profile: { name: ['x', 'delta'] } },
      { id: '00g5', type: 'OKTA_GROUP', profile: { name: 'eps "Q"' } },
      { id: '00g6', type: 'OKTA_GROUP', profile: { name: null } },
      { id: '00g7', type: 'OKTA_GROUP', profile: {} },
    ];
    for (const search of [chain, ids, `${chain} or type eq "APP_GROUP"`]) {
      const expression = compileSearch(search, GROUP_SEARCH_RULES);
      // The same expression, evaluated one term at a time: no or-chain of eq
      // is four terms long once each term is wrapped in a double negation.
      const termByTerm = compileSearch(
        search
          .split(' or ')
          .map(t => `not (not (${t}))`)
          .join(' or '),
        GROUP_SEARCH_RULES,
      );
      for (const group of groups) {
        expect([
          search,
          group.id,
          matchesSearch(group, expression, GROUP_SEARCH_RULES),
        ]).toEqual([
          search,
          group.id,
          matchesSearch(group, termByTerm, GROUP_SEARCH_RULES),
        ]);
      }
    }
    const matched = (search: string) =>
      groups
        .filter(g =>
          matchesSearch(
            g,
            compileSearch(search, GROUP_SEARCH_RULES),
            GROUP_SEARCH_RULES,
          ),
        )
        .map(g => g.id);
    expect(matched(chain)).toEqual(['00g1', '00g2', '00g4', '00g5']);
    expect(matched(ids)).toEqual(['00g1', '00g2', '00g4']);
  });

  it('keeps filter to its narrower grammar', () => {
    expect(
      matches(
        'status eq "ACTIVE" and lastUpdated gt "2024-01-01T00:00:00.000Z"',
        USER_FILTER_RULES,
      ),
    ).toBe(true);
    expect(() =>
      compileSearch('profile.login sw "z"', USER_FILTER_RULES),
    ).toThrow(SearchSyntaxError);
    expect(() =>
      compileSearch('not status eq "ACTIVE"', USER_FILTER_RULES),
    ).toThrow(SearchSyntaxError);
    expect(() =>
      compileSearch('profile.department eq "R&D"', USER_FILTER_RULES),
    ).toThrow(SearchSyntaxError);
    expect(() =>
      compileSearch('profile.name eq "x"', GROUP_FILTER_RULES),
    ).toThrow(SearchSyntaxError);
    expect(() =>
      compileSearch(
        'type eq "OKTA_GROUP" and (lastUpdated lt "2015-11-11T00:00:00.000Z" or lastMembershipUpdated lt "2015-11-11T00:00:00.000Z")',
        GROUP_FILTER_RULES,
      ),
    ).not.toThrow();
  });
});
