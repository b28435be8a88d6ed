import {
  sanitizeProfileIdentifier,
  sanitizeProfileText,
} from './profileValues';

describe('sanitizeProfileText', () => {
  it.each([
    ['a\u0000b', 'a b'],
    ['  a  b  ', 'a b'],
    ['\u0085x\u009f', 'x'],
    ['\u2066rtl\u2069', 'rtl'],
    ['\udc00x', '\ufffdx'],
    ['👩‍💻', '👩‍💻'],
  ])('cleans %j to %j', (input, expected) => {
    expect(sanitizeProfileText(input, 100)).toBe(expected);
  });

  it('cuts on a code point, never inside a surrogate pair', () => {
    expect(sanitizeProfileText('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('sanitizeProfileIdentifier', () => {
  it.each([
    [' 00u1 ', '00u1'],
    ['jane doe@acme.com', undefined],
    ['a\u200bb', 'a\u200bb'],
    ['\ud800', undefined],
    ['', undefined],
    [7, undefined],
  ])('reads %j as %j', (input, expected) => {
    expect(sanitizeProfileIdentifier(input)).toBe(expected);
  });
});
