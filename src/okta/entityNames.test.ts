import { KubernetesValidatorFunctions } from '@backstage/catalog-model';
import {
  MAX_ENTITY_NAME_LENGTH,
  normalizeEntityName,
  withNameSuffix,
} from './entityNames';
import { seededRandom } from '../__testUtils__/seededRandom';

const ODD_PIECES = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  '.',
  ' ',
  '  ',
  '@',
  '+',
  '/',
  '\\',
  ':',
  '#',
  'é',
  'Ü',
  'ñ',
  'ß',
  'Æ',
  'ø',
  'Ł',
  'ı',
  'ﬁ',
  'Ｆｕｌｌ',
  '①',
  '²',
  '\u0000',
  '\u0007',
  '\n',
  '\t',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udc00',
  '😀',
  '👩‍💻',
  '研发',
  'Δ',
  'Москва',
  'e\u0301',
  '\u0301',
  '..',
  '--',
  '__',
  '-.-',
  '(Reader)',
  '"',
  "'",
  '<>',
  'jane.doe@example.com',
  'O\u2019Brien',
  'x'.repeat(70),
];

function randomOddString(random: () => number): string {
  const pieces = Math.floor(random() * 12);
  let value = '';
  for (let i = 0; i < pieces; i++) {
    value += ODD_PIECES[Math.floor(random() * ODD_PIECES.length)];
  }
  return value;
}

describe('normalizeEntityName', () => {
  it.each([
    ['jane.doe', 'jane.doe'],
    ['Jane.Doe', 'jane.doe'],
    ['jane.doe@example.com', 'jane.doe_example.com'],
    ['José Álvarez', 'jose_alvarez'],
    ['Jürgen Groß', 'jurgen_gross'],
    ['Søren Æbelø', 'soren_aebelo'],
    ['Łukasz', 'lukasz'],
    ['my group (Reader)', 'my_group_reader'],
    ['Platform - Core', 'platform-core'],
    ['  padded  ', 'padded'],
    ['-_.leading and trailing._-', 'leading_and_trailing'],
    ['ｆｕｌｌｗｉｄｔｈ', 'fullwidth'],
    ['ﬁnance', 'finance'],
    ['line\nbreak\ttab', 'line_break_tab'],
    ['bell\u0007and\u0000nul', 'bell_and_nul'],
    ['O\u2019Brien', 'o_brien'],
    ['a--b', 'a-b'],
    ['team 研发', 'team'],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizeEntityName(input)).toBe(expected);
  });

  it.each([
    [''],
    ['   '],
    ['---'],
    ['研发'],
    ['😀'],
    ['\u0000\u0001'],
    ['\u0301'],
  ])('has no name for %j', input => {
    expect(normalizeEntityName(input)).toBeUndefined();
  });

  it('has no name for null and undefined', () => {
    expect(normalizeEntityName(null)).toBeUndefined();
    expect(normalizeEntityName(undefined)).toBeUndefined();
  });

  it('cuts long names and keeps them distinct with a hash', () => {
    const a = normalizeEntityName(`${'a'.repeat(80)}-one`)!;
    const b = normalizeEntityName(`${'a'.repeat(80)}-two`)!;
    expect(a).toHaveLength(MAX_ENTITY_NAME_LENGTH);
    expect(b).toHaveLength(MAX_ENTITY_NAME_LENGTH);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^a+-[0-9a-f]{8}$/);
  });

  it('keeps a 63-character name as it is', () => {
    const name = 'b'.repeat(63);
    expect(normalizeEntityName(name)).toBe(name);
  });

  it('always gives a valid, lower-case, idempotent name (2000 odd strings)', () => {
    const random = seededRandom(20240611);
    for (let i = 0; i < 2000; i++) {
      const input = randomOddString(random);
      const name = normalizeEntityName(input);
      // No name only when no ASCII letter or digit survives transliteration.
      const hasUsableCharacter = /[a-z0-9ßæœøđðłþıħŧ]/.test(
        input.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase(),
      );
      expect({ input, named: name !== undefined }).toEqual({
        input,
        named: hasUsableCharacter,
      });
      const checked = name ?? 'unnamed';
      expect({
        input,
        valid: KubernetesValidatorFunctions.isValidObjectName(checked),
      }).toEqual({ input, valid: true });
      expect(checked).toBe(checked.toLowerCase());
      expect(checked).not.toMatch(/[-_.]{2}/);
      expect(normalizeEntityName(checked)).toBe(checked);
    }
  });
});

describe('withNameSuffix', () => {
  it('appends a suffix', () => {
    expect(withNameSuffix('jane.doe', '00u1a2b3')).toBe('jane.doe-00u1a2b3');
  });

  it('cuts the base to stay within 63 characters, without a separator at the cut', () => {
    const base = `${'c'.repeat(50)}.${'d'.repeat(20)}`;
    const name = withNameSuffix(base, '00u1a2b3c4d5e6f7g8h9');
    expect(name.length).toBeLessThanOrEqual(MAX_ENTITY_NAME_LENGTH);
    expect(KubernetesValidatorFunctions.isValidObjectName(name)).toBe(true);
    expect(name.endsWith('-00u1a2b3c4d5e6f7g8h9')).toBe(true);
  });

  it('gives valid names for random bases and suffixes', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const base = normalizeEntityName(randomOddString(random)) ?? 'x';
      const suffix =
        normalizeEntityName(randomOddString(random))
          ?.slice(0, 32)
          .replace(/[-_.]+$/, '') || 'y';
      const name = withNameSuffix(base, suffix);
      expect({
        base,
        suffix,
        valid: KubernetesValidatorFunctions.isValidObjectName(name),
      }).toEqual({
        base,
        suffix,
        valid: true,
      });
    }
  });
});
