/*
 * Seeded randomness for the fake Okta org. Everything that must be
 * reproducible (generated orgs, random latency, rate-based faults) draws from
 * these functions, never from Math.random.
 */

/** A mulberry32 generator: returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit FNV-1a hash of a string, for mixing names into seeds. */
export function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One deterministic draw in [0, 1) for a given (seed, parts) tuple, so that a
 * decision about request N does not depend on how concurrent requests
 * interleave.
 */
export function drawFor(
  seed: number,
  ...parts: Array<string | number>
): number {
  return mulberry32((seed ^ hashString(parts.join('|'))) >>> 0)();
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An Okta-looking id: a 3-character prefix and 17 base-62 characters. */
export function oktaId(prefix: string, random: () => number): string {
  let id = prefix;
  while (id.length < 20) {
    id += BASE62[Math.floor(random() * 62)];
  }
  return id;
}
