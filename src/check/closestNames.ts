/*
 * "Did you mean" for group names: the candidates nearest to a name that
 * matched no Okta group, by edit distance, ignoring case.
 */

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Up to `max` candidates close to `name` (case-insensitive edit distance at
 * most a third of the name's length, and at least 2), nearest first.
 */
export function closestNames(
  name: string,
  candidates: Iterable<string>,
  max = 3,
): string[] {
  const wanted = name.toLowerCase();
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  const scored: Array<{ candidate: string; distance: number }> = [];
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= limit) scored.push({ candidate, distance });
  }
  return scored
    .sort(
      (x, y) =>
        x.distance - y.distance || x.candidate.localeCompare(y.candidate),
    )
    .slice(0, max)
    .map(s => s.candidate);
}
