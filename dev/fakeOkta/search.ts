/*
 * Okta's filter/search expression language (a SCIM-like subset):
 *   expr   := term ('or' term)*
 *   term   := factor ('and' factor)*
 *   factor := 'not' factor | '(' expr ')' | attr op value | attr 'pr'
 *   op     := eq | ne | sw | co | gt | ge | lt | le
 *   value  := "string" | number | true | false | null
 * Keywords and operators are case-insensitive; `and` binds tighter than `or`.
 * `search` allows the whole grammar on the attributes listed per resource;
 * `filter` is narrower (see FILTER_RULES).
 */

export type Comparison = 'eq' | 'ne' | 'sw' | 'co' | 'gt' | 'ge' | 'lt' | 'le';

export type SearchExpression =
  | { kind: 'and' | 'or'; left: SearchExpression; right: SearchExpression }
  | { kind: 'not'; operand: SearchExpression }
  | { kind: 'present'; attribute: string }
  | {
      kind: 'compare';
      attribute: string;
      op: Comparison;
      value: string | number | boolean | null;
    };

/** Thrown for an expression the fake cannot parse or does not allow. */
export class SearchSyntaxError extends Error {}

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'string'; text: string; at: number }
  | { type: 'number'; value: number; at: number }
  | { type: '(' | ')'; at: number };

const COMPARISONS = new Set(['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le']);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ type: c, at: i });
      i++;
    } else if (c === '"') {
      const start = i;
      let text = '';
      i++;
      for (;;) {
        if (i >= input.length) {
          throw new SearchSyntaxError(`Unterminated string at ${start}`);
        }
        const d = input[i];
        if (d === '\\') {
          if (i + 1 >= input.length) {
            throw new SearchSyntaxError(`Dangling escape at ${i}`);
          }
          text += input[i + 1];
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ type: 'string', text, at: start });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(input.slice(i));
      if (!m) throw new SearchSyntaxError(`Unexpected '${c}' at ${i}`);
      tokens.push({ type: 'number', value: Number(m[0]), at: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.$]*/.exec(input.slice(i))!;
      tokens.push({ type: 'word', text: m[0], at: i });
      i += m[0].length;
    } else {
      throw new SearchSyntaxError(`Unexpected '${c}' at ${i}`);
    }
  }
  return tokens;
}

function describeToken(t: Token | undefined): string {
  return t
    ? `'${'text' in t ? t.text : t.type}' at ${t.at}`
    : 'end of expression';
}

/** Recursive-descent parser over the token list. */
class SearchParser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): SearchExpression {
    const expression = this.parseOr();
    if (this.pos < this.tokens.length) {
      throw new SearchSyntaxError(
        `Unexpected ${describeToken(this.tokens[this.pos])}`,
      );
    }
    return expression;
  }

  private peekWord(): string | undefined {
    const t = this.tokens[this.pos];
    return t && t.type === 'word' ? t.text.toLowerCase() : undefined;
  }

  private parseOr(): SearchExpression {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.pos++;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): SearchExpression {
    let left = this.parseFactor();
    while (this.peekWord() === 'and') {
      this.pos++;
      left = { kind: 'and', left, right: this.parseFactor() };
    }
    return left;
  }

  private parseFactor(): SearchExpression {
    const tokens = this.tokens;
    const t = tokens[this.pos];
    if (!t) throw new SearchSyntaxError('Unexpected end of expression');
    if (t.type === '(') {
      this.pos++;
      const inner = this.parseOr();
      if (tokens[this.pos]?.type !== ')') {
        throw new SearchSyntaxError(
          `Expected ')' but found ${describeToken(tokens[this.pos])}`,
        );
      }
      this.pos++;
      return inner;
    }
    if (t.type !== 'word') {
      throw new SearchSyntaxError(
        `Expected an attribute but found ${describeToken(t)}`,
      );
    }
    const lower = t.text.toLowerCase();
    if (lower === 'not') {
      this.pos++;
      return { kind: 'not', operand: this.parseFactor() };
    }
    if (lower === 'and' || lower === 'or') {
      throw new SearchSyntaxError(
        `Expected an attribute but found ${describeToken(t)}`,
      );
    }
    const attribute = t.text;
    this.pos++;
    const opToken = tokens[this.pos];
    const op = this.peekWord();
    if (op === 'pr') {
      this.pos++;
      return { kind: 'present', attribute };
    }
    if (!op || !COMPARISONS.has(op)) {
      throw new SearchSyntaxError(
        `Expected an operator but found ${describeToken(opToken)}`,
      );
    }
    this.pos++;
    const v = tokens[this.pos];
    let value: string | number | boolean | null;
    if (v?.type === 'string') value = v.text;
    else if (v?.type === 'number') value = v.value;
    else if (
      v?.type === 'word' &&
      ['true', 'false', 'null'].includes(v.text.toLowerCase())
    ) {
      const w = v.text.toLowerCase();
      value = w === 'null' ? null : w === 'true';
    } else {
      throw new SearchSyntaxError(
        `Expected a value but found ${describeToken(v)}`,
      );
    }
    this.pos++;
    return { kind: 'compare', attribute, op: op as Comparison, value };
  }
}

/** Parses an expression; throws SearchSyntaxError. */
export function parseSearch(input: string): SearchExpression {
  return new SearchParser(tokenize(input)).parse();
}

/** Which attributes and operators an expression may use. */
export interface SearchRules {
  /** Attribute -> allowed operators ('pr' included); '*' key matches `profile.*`. */
  attributes: Record<string, readonly string[]>;
  allowNot: boolean;
  /** Attributes compared as timestamps. */
  dateAttributes: ReadonlySet<string>;
  /** Attributes compared case-sensitively (ids, enums). */
  exactAttributes: ReadonlySet<string>;
}

const ALL_OPS = ['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le', 'pr'];
const DATE_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'pr'];
const ENUM_OPS = ['eq', 'ne', 'sw', 'pr'];

const USER_DATES = new Set([
  'created',
  'activated',
  'statusChanged',
  'lastUpdated',
  'lastLogin',
  'passwordChanged',
]);
const GROUP_DATES = new Set([
  'created',
  'lastUpdated',
  'lastMembershipUpdated',
]);

/** Without `ne`, which user search does not support. */
const withoutNe = (ops: readonly string[]) => ops.filter(op => op !== 'ne');

/**
 * `search` on /api/v1/users (co only on firstName, lastName, email, login).
 * No `ne`: Okta's Users API reference lists eq, sw, co, pr, gt/ge/lt/le for
 * search and answers `ne` with 400 E0000031 (shared/FACTS.md).
 */
export const USER_SEARCH_RULES: SearchRules = {
  attributes: {
    id: withoutNe(ENUM_OPS),
    status: withoutNe(ENUM_OPS),
    'type.id': withoutNe(ENUM_OPS),
    created: withoutNe(DATE_OPS),
    activated: withoutNe(DATE_OPS),
    statusChanged: withoutNe(DATE_OPS),
    lastUpdated: withoutNe(DATE_OPS),
    lastLogin: withoutNe(DATE_OPS),
    passwordChanged: withoutNe(DATE_OPS),
    'profile.firstName': withoutNe(ALL_OPS),
    'profile.lastName': withoutNe(ALL_OPS),
    'profile.email': withoutNe(ALL_OPS),
    'profile.login': withoutNe(ALL_OPS),
    '*': ['eq', 'sw', 'gt', 'ge', 'lt', 'le', 'pr'],
  },
  allowNot: true,
  dateAttributes: USER_DATES,
  exactAttributes: new Set(['id', 'status', 'type.id']),
};

/** `filter` on /api/v1/users. */
export const USER_FILTER_RULES: SearchRules = {
  attributes: {
    id: ['eq'],
    status: ['eq'],
    lastUpdated: ['eq', 'gt', 'ge', 'lt', 'le'],
    'profile.login': ['eq'],
    'profile.email': ['eq'],
    'profile.firstName': ['eq'],
    'profile.lastName': ['eq'],
  },
  allowNot: false,
  dateAttributes: USER_DATES,
  exactAttributes: new Set(['id', 'status']),
};

/** `search` on /api/v1/groups (co only on profile.name and profile.description). */
export const GROUP_SEARCH_RULES: SearchRules = {
  attributes: {
    id: ENUM_OPS,
    type: ENUM_OPS,
    'source.id': ENUM_OPS,
    created: DATE_OPS,
    lastUpdated: DATE_OPS,
    lastMembershipUpdated: DATE_OPS,
    'profile.name': ['eq', 'ne', 'sw', 'co', 'pr'],
    'profile.description': ['eq', 'ne', 'sw', 'co', 'pr'],
    '*': ['eq', 'ne', 'sw', 'pr'],
  },
  allowNot: true,
  dateAttributes: GROUP_DATES,
  exactAttributes: new Set(['id', 'type', 'source.id']),
};

/** `filter` on /api/v1/groups. */
export const GROUP_FILTER_RULES: SearchRules = {
  attributes: {
    id: ['eq'],
    type: ['eq'],
    lastUpdated: ['eq', 'gt', 'ge', 'lt', 'le'],
    lastMembershipUpdated: ['eq', 'gt', 'ge', 'lt', 'le'],
  },
  allowNot: false,
  dateAttributes: GROUP_DATES,
  exactAttributes: new Set(['id', 'type']),
};

/** Throws SearchSyntaxError when the expression uses what the rules forbid. */
export function checkSearch(
  expression: SearchExpression,
  rules: SearchRules,
): void {
  switch (expression.kind) {
    case 'and':
    case 'or':
      checkSearch(expression.left, rules);
      checkSearch(expression.right, rules);
      return;
    case 'not':
      if (!rules.allowNot)
        throw new SearchSyntaxError("'not' is not supported here");
      checkSearch(expression.operand, rules);
      return;
    default: {
      const attr = expression.attribute;
      const op = expression.kind === 'present' ? 'pr' : expression.op;
      const allowed =
        rules.attributes[attr] ??
        (attr.startsWith('profile.') && attr.length > 8
          ? rules.attributes['*']
          : undefined);
      if (!allowed)
        throw new SearchSyntaxError(`Unsupported attribute '${attr}'`);
      if (!allowed.includes(op)) {
        throw new SearchSyntaxError(
          `Operator '${op}' is not supported for '${attr}'`,
        );
      }
      if (
        expression.kind === 'compare' &&
        rules.dateAttributes.has(attr) &&
        expression.value !== null &&
        (typeof expression.value !== 'string' ||
          Number.isNaN(Date.parse(expression.value)))
      ) {
        throw new SearchSyntaxError(
          `'${attr}' must be compared with a date string`,
        );
      }
    }
  }
}

/** Parses and checks in one go. */
export function compileSearch(
  input: string,
  rules: SearchRules,
): SearchExpression {
  const expression = parseSearch(input);
  checkSearch(expression, rules);
  return expression;
}

function lookup(resource: object, path: string): unknown {
  let value: unknown = resource;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function compareValues(
  actual: unknown,
  op: Comparison,
  expected: string | number | boolean | null,
  isDate: boolean,
  exact: boolean,
): boolean {
  if (expected === null) {
    const isNull = actual === null || actual === undefined;
    if (op === 'eq') return isNull;
    return op === 'ne' ? !isNull : false;
  }
  if (actual === null || actual === undefined) return op === 'ne';
  if (Array.isArray(actual)) {
    // Multi-valued attributes match when any element does.
    const any = actual.some(a =>
      compareValues(a, op === 'ne' ? 'eq' : op, expected, isDate, exact),
    );
    return op === 'ne' ? !any : any;
  }
  if (isDate) {
    return compareOrdered(
      Date.parse(String(actual)),
      op,
      Date.parse(String(expected)),
    );
  }
  if (typeof expected === 'number' || typeof expected === 'boolean') {
    const a = typeof expected === 'number' ? Number(actual) : actual;
    return compareOrdered(a as number, op, expected as number);
  }
  let a = String(actual);
  let b = expected;
  if (!exact) {
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  if (op === 'sw') return a.startsWith(b);
  if (op === 'co') return a.includes(b);
  return compareOrdered(a, op, b);
}

/**
 * eq, ne and the ordering operators on two values of one type: dates (ms),
 * numbers, or strings (compared by code unit, as the fake orders them).
 */
function compareOrdered<T extends number | string>(
  a: T,
  op: string,
  b: T,
): boolean {
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    default:
      return false;
  }
}

/**
 * `a eq "x" or a eq "y" or ...` on one string attribute, as a set of the
 * values (lower-cased unless the attribute is exact): what `groupNames`
 * sends. Evaluated term by term it costs the fake tens of milliseconds per
 * request over a big org, time real Okta spends in an index, not in latency.
 */
interface EqualityChain {
  attribute: string;
  exact: boolean;
  values: ReadonlySet<string>;
}

const equalityChains = new WeakMap<
  SearchExpression,
  { rules: SearchRules; chain?: EqualityChain }
>();

function equalityChainOf(
  expression: SearchExpression,
  rules: SearchRules,
): EqualityChain | undefined {
  const cached = equalityChains.get(expression);
  if (cached && cached.rules === rules) return cached.chain;
  let chain: EqualityChain | undefined;
  const terms: SearchExpression[] = [];
  const collect = (e: SearchExpression) => {
    if (e.kind === 'or') {
      collect(e.left);
      collect(e.right);
    } else {
      terms.push(e);
    }
  };
  collect(expression);
  const first = terms[0];
  if (
    terms.length >= 4 &&
    first.kind === 'compare' &&
    !rules.dateAttributes.has(first.attribute) &&
    terms.every(
      t =>
        t.kind === 'compare' &&
        t.op === 'eq' &&
        typeof t.value === 'string' &&
        t.attribute === first.attribute,
    )
  ) {
    const exact = rules.exactAttributes.has(first.attribute);
    chain = {
      attribute: first.attribute,
      exact,
      values: new Set(
        terms.map(t => {
          const value = (t as { value: string }).value;
          return exact ? value : value.toLowerCase();
        }),
      ),
    };
  }
  equalityChains.set(expression, { rules, chain });
  return chain;
}

/** What compareValues(actual, 'eq', v) gives for some v of the chain. */
function matchesEqualityChain(actual: unknown, chain: EqualityChain): boolean {
  if (actual === null || actual === undefined) return false;
  if (Array.isArray(actual))
    return actual.some(a => matchesEqualityChain(a, chain));
  const a = String(actual);
  return chain.values.has(chain.exact ? a : a.toLowerCase());
}

/** Whether a resource (user or group object) matches an expression. */
export function matchesSearch(
  resource: object,
  expression: SearchExpression,
  rules: SearchRules,
): boolean {
  switch (expression.kind) {
    case 'and':
      return (
        matchesSearch(resource, expression.left, rules) &&
        matchesSearch(resource, expression.right, rules)
      );
    case 'or': {
      const chain = equalityChainOf(expression, rules);
      if (chain)
        return matchesEqualityChain(lookup(resource, chain.attribute), chain);
      return (
        matchesSearch(resource, expression.left, rules) ||
        matchesSearch(resource, expression.right, rules)
      );
    }
    case 'not':
      return !matchesSearch(resource, expression.operand, rules);
    case 'present': {
      const v = lookup(resource, expression.attribute);
      return v !== undefined && v !== null && v !== '';
    }
    default:
      return compareValues(
        lookup(resource, expression.attribute),
        expression.op,
        expression.value,
        rules.dateAttributes.has(expression.attribute),
        rules.exactAttributes.has(expression.attribute),
      );
  }
}
