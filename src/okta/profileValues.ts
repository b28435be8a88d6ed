/*
 * Okta profile strings as the module uses them. They are admin- or
 * user-edited and arrive unchecked: they may be null, huge, or hold control
 * characters, so display text is cleaned and cut, and identifiers (ids,
 * logins, emails) are taken whole or not at all.
 */

/**
 * Identifiers (ids, logins, emails) are never cut, as a cut value would
 * silently point at someone else; past this length they are left out.
 * Okta itself limits logins and emails to 100 characters.
 */
const MAX_IDENTIFIER_LENGTH = 320;

// C0 and C1 controls (incl. DEL), and the bidirectional overrides and
// isolates that can make text display differently from what it holds.
const CONTROL_CHARACTERS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu;
const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * A profile string as display text: controls become spaces, whitespace
 * collapses, and the result is cut (on a code point) with an ellipsis.
 * `undefined` for non-strings and blank strings.
 */
export function sanitizeProfileText(
  value: unknown,
  maxLength: number,
): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const clean = value
    .replace(LONE_SURROGATES, '\ufffd')
    .replace(CONTROL_CHARACTERS, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length === 0) {
    return undefined;
  }
  const codePoints = Array.from(clean);
  if (codePoints.length <= maxLength) {
    return clean;
  }
  return `${codePoints
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}…`;
}

/**
 * A profile string used as an identifier (id, login, email): trimmed, and
 * `undefined` when blank, too long, or holding characters no identifier has.
 */
export function sanitizeProfileIdentifier(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  // Stray controls at the ends (a pasted NUL or newline) go like whitespace.
  const trimmed = value.replace(/^[\s\p{Cc}]+|[\s\p{Cc}]+$/gu, '');
  if (
    trimmed.length === 0 ||
    trimmed.length > MAX_IDENTIFIER_LENGTH ||
    /[\p{Cc}\u202a-\u202e\u2066-\u2069\s]/u.test(trimmed) ||
    LONE_SURROGATE.test(trimmed)
  ) {
    return undefined;
  }
  return trimmed;
}
