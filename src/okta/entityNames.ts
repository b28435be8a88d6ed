/*
 * Turning arbitrary Okta strings (names, emails, logins, ids) into Backstage
 * entity names: at most 63 characters, sequences of [a-z0-9] separated by one
 * of [-_.].
 */
import { createHash } from 'node:crypto';

/** Backstage's limit on `metadata.name`. */
export const MAX_ENTITY_NAME_LENGTH = 63;

// Letters NFKD leaves whole; mapped by hand because they are common in names.
const LETTER_TRANSLITERATIONS: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
  ŧ: 't',
};

/** What the function below returns for names of up to 63 characters. */
const NORMALIZED_NAME = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;

/**
 * Normalises an arbitrary string into a valid Backstage entity name, or
 * `undefined` when nothing usable remains (empty, or only characters with no
 * Latin transliteration, such as CJK or emoji).
 *
 * Accents are removed (`José` becomes `jose`), the result is lower case,
 * every run of other characters becomes one separator (`_` unless the run
 * held a `-` or `.`), and separators are trimmed from both ends. A name
 * longer than 63 characters is cut and given a short hash of the whole name,
 * so that two long names that share a prefix stay distinct.
 *
 * The function is idempotent (normalising a result returns it unchanged),
 * which lets the mapping normalise whatever a custom transformer produced.
 *
 * @param value - The raw string, e.g. an email local part or a group name.
 */
export function normalizeEntityName(
  value: string | null | undefined,
): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  // Already a name (as every name this module made is): unchanged.
  if (value.length <= MAX_ENTITY_NAME_LENGTH && NORMALIZED_NAME.test(value)) {
    return value;
  }
  const ascii = value
    .normalize('NFKD')
    // Combining marks are what NFKD split the accents into.
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæœøđðłþıħŧ]/g, letter => LETTER_TRANSLITERATIONS[letter]);

  const joined = ascii
    .replace(/[^a-z0-9]+/g, run => separatorFor(run))
    .replace(/^[-_.]+|[-_.]+$/g, '');
  if (joined.length === 0) {
    return undefined;
  }
  if (joined.length <= MAX_ENTITY_NAME_LENGTH) {
    return joined;
  }
  return withLengthLimit(joined, shortHash(joined));
}

/**
 * `base` plus `-suffix`, cutting `base` so that the result is at most 63
 * characters and still a valid name. `suffix` must itself be a valid name
 * part (as from {@link normalizeEntityName}) and at most 32 characters.
 */
export function withNameSuffix(base: string, suffix: string): string {
  return withLengthLimit(base, suffix);
}

function withLengthLimit(base: string, suffix: string): string {
  const room = MAX_ENTITY_NAME_LENGTH - suffix.length - 1;
  const cut = base.slice(0, Math.max(room, 0)).replace(/[-_.]+$/, '');
  return cut.length > 0 ? `${cut}-${suffix}` : suffix;
}

/** A run of separators and other characters collapses into one separator. */
function separatorFor(run: string): string {
  for (const character of run) {
    if (character === '-' || character === '.') {
      return character;
    }
  }
  return '_';
}

/** Eight hex characters: enough to tell apart long names in one org. */
function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}
