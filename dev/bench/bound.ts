/*
 * The benchmark's yardsticks: the fewest requests a scenario needs, and the
 * shortest wall time any client could read it in, given Okta's rate limits,
 * the client's concurrency and the latency. Pure functions, tested beside.
 */

/** Okta's page maxima (shared/FACTS.md). */
export const PAGE_SIZE = { users: 200, groups: 10000, groupMembers: 1000 };

/** Endpoint keys as the client's stats() counts them. */
export type BenchEndpoint = 'token' | 'users' | 'groups' | 'groupMembers';

/** The fewest requests per endpoint; also what the lower bound is computed from. */
export type RequestCounts = Record<BenchEndpoint, number>;

/**
 * Okta's rate-limit buckets of the endpoints we call: group member listings
 * count in the groups bucket with the group listing (every /api/v1/groups/*
 * path except exactly /api/v1/groups/{id}; Okta's rate-limit reference and its
 * path-to-bucket mapping in okta/terraform-provider-okta
 * `okta/internal/apimutex/rate_limit_lines.go`).
 */
export const BUCKET_OF: Record<BenchEndpoint, string> = {
  token: 'token',
  users: 'users',
  groups: 'groups',
  groupMembers: 'groups',
};

/** Requests per bucket: the sum over the endpoints counted in it. */
export function requestsPerBucket(
  requests: RequestCounts,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const endpoint of ['users', 'groups', 'groupMembers'] as const) {
    const bucket = BUCKET_OF[endpoint];
    out[bucket] = (out[bucket] ?? 0) + requests[endpoint];
  }
  return out;
}

/** What the minimum request count is computed from. */
export interface SelectionShape {
  /** Whether the user directory must be listed (no group filter, or a user search filter). */
  listsUserDirectory: boolean;
  /** Users that listing returns (after Okta's own search / DEPROVISIONED rule). */
  listedUsers: number;
  /** Group listings needed before paging: 1, or one per name-search chunk. */
  groupListings: number;
  /** Groups the listing(s) return. */
  listedGroups: number;
  /** Member counts of the selected groups (empty ones included; they cost nothing). */
  selectedGroupSizes: number[];
}

/** Pages of a listing of `n` items: an empty listing still costs one request. */
export function pagesOf(n: number, pageSize: number): number {
  return Math.max(1, Math.ceil(n / pageSize));
}

/**
 * The fewest requests that read the selection completely:
 * - token: 1 (one access token for the whole run);
 * - users: ceil(listedUsers / 200), only when the directory must be listed;
 * - groups: ceil(listedGroups / 10000) per listing (one per name-search chunk);
 * - group members: the sum over NON-EMPTY selected groups of ceil(members / 1000)
 *   (an empty group's listing is skipped thanks to expand=stats).
 */
export function minimumRequests(shape: SelectionShape): RequestCounts {
  const groupMembers = shape.selectedGroupSizes
    .filter(size => size > 0)
    .reduce((sum, size) => sum + Math.ceil(size / PAGE_SIZE.groupMembers), 0);
  return {
    token: 1,
    users: shape.listsUserDirectory
      ? pagesOf(shape.listedUsers, PAGE_SIZE.users)
      : 0,
    groups:
      shape.groupListings > 1
        ? shape.groupListings
        : pagesOf(shape.listedGroups, PAGE_SIZE.groups),
    groupMembers,
  };
}

/** Everything the lower bound depends on. */
export interface BoundInput {
  requests: RequestCounts;
  /** Pages of the biggest selected group (its member listing is a sequential cursor chain). */
  longestMemberListingPages: number;
  /** Requests per window per bucket for our app (org limit × app share). */
  limitPerWindow: Record<string, number>;
  windowSeconds: number;
  latencySeconds: number;
  /** Requests in flight at once: min(the client's, the org's concurrency limit). */
  concurrency: number;
}

/** One term of the bound, for the printout. */
export interface BoundTerm {
  name: string;
  seconds: number;
  formula: string;
}

export interface Bound {
  seconds: number;
  /** The term that gives the bound. */
  binding: string;
  terms: BoundTerm[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * A lower bound on the wall time of any client reading with these requests:
 *
 *   bound = max(T_users, T_groups, T_throughput, T_chain)
 *
 * with W the window, L_b a bucket's limit per window (app share applied), λ
 * the latency, C the concurrency, n_b the bucket's minimum requests,
 * k_b = ceil(n_b / L_b) windows and r_b = n_b − (k_b − 1)·L_b requests in the
 * last one:
 *
 * - Per bucket: T_b = d_b·λ + (k_b − 1)·W + ceil(r_b / C)·λ. A window opens
 *   with the first request counted in it, so the k-th window of a bucket opens
 *   at least (k − 1)·W after the first; the r requests of the last window take
 *   at least ceil(r / C) latencies with C in flight. d_b is the chain of
 *   requests that must be answered before the bucket's first one can be sent:
 *   the token (d = 1). The groups bucket counts the group listing's pages
 *   AND every member listing's pages (n_groups = group pages + member pages):
 *   Okta charges /api/v1/groups/{id}/users to the /api/v1/groups bucket.
 *   Its member pages alone also bound it, with d = 2 (they need the token and
 *   the first groups page); T_groups is the larger of the two.
 *   The user directory is ONE cursor listing, so its pages go one at a time:
 *   T_users uses r·λ instead of ceil(r / C)·λ.
 * - Throughput: T_throughput = λ + (N − 1)·λ / C for N requests in all: the
 *   token first, then the rest at best C at a time.
 * - Sequential chains: T_chain = λ·max(1 + P_users, 2 + P_longest group);
 *   each page of a cursor listing needs the previous page's next link.
 *
 * It ignores that X-Rate-Limit-Reset has a resolution of one second: a
 * client that never sends before the reset second opens each window just
 * after a whole second (the window opens when the request arrives), so with a
 * whole-second W the window also ends just after one and the next reset is
 * rounded up by almost a second. Each window boundary then costs ~1 s (see
 * windowBoundaries): ≤ 1.7% at Okta's 60 s, 60/W times that when compressed.
 */
export function lowerBound(input: BoundInput): Bound {
  const {
    requests,
    windowSeconds: W,
    latencySeconds: lambda,
    concurrency: C,
  } = input;
  const terms: BoundTerm[] = [];
  const bucketTerm = (
    name: string,
    n: number,
    depth: number,
    sequential: boolean,
  ): BoundTerm | undefined => {
    if (n <= 0) return undefined;
    const L = input.limitPerWindow[name];
    const k = Math.ceil(n / L);
    const r = n - (k - 1) * L;
    const lastWindow = sequential ? r * lambda : Math.ceil(r / C) * lambda;
    return {
      name: `bucket ${name}`,
      seconds: round3(depth * lambda + (k - 1) * W + lastWindow),
      formula: `${depth}·λ + (ceil(${n}/${L})−1)·${W}s + ${
        sequential ? `${r}·λ` : `ceil(${r}/${C})·λ`
      }`,
    };
  };
  const perBucketRequests = requestsPerBucket(requests);
  const users = bucketTerm('users', perBucketRequests.users, 1, true);
  if (users) terms.push(users);
  // The groups bucket: all its requests after the token (d = 1), or its
  // member pages alone after the token and the first groups page (d = 2),
  // whichever bound is larger; both hold.
  const groups = [
    bucketTerm('groups', perBucketRequests.groups, 1, false),
    bucketTerm('groups', requests.groupMembers, 2, false),
  ].filter((t): t is BoundTerm => t !== undefined);
  if (groups.length)
    terms.push(groups.reduce((a, b) => (b.seconds > a.seconds ? b : a)));

  const total =
    requests.token + requests.users + requests.groups + requests.groupMembers;
  terms.push({
    name: 'throughput',
    seconds: round3(lambda + ((total - 1) * lambda) / C),
    formula: `λ + (${total}−1)·λ/${C}`,
  });
  const userChain = requests.users > 0 ? 1 + requests.users : 0;
  const memberChain =
    input.longestMemberListingPages > 0
      ? 2 + input.longestMemberListingPages
      : 0;
  terms.push({
    name: 'sequential chain',
    seconds: round3(Math.max(userChain, memberChain, 1) * lambda),
    formula: `λ·max(1+${requests.users} user pages, 2+${input.longestMemberListingPages} pages of the biggest group)`,
  });

  const binding = terms.reduce((a, b) => (b.seconds > a.seconds ? b : a));
  return { seconds: binding.seconds, binding: binding.name, terms };
}

/** Window boundaries the busiest bucket must wait through: max over buckets of ceil(n/L) − 1. */
export function windowBoundaries(
  requests: RequestCounts,
  limitPerWindow: Record<string, number>,
): number {
  let most = 0;
  for (const [bucket, n] of Object.entries(requestsPerBucket(requests))) {
    if (n > 0) most = Math.max(most, Math.ceil(n / limitPerWindow[bucket]) - 1);
  }
  return most;
}

/** What a full read costs at Okta's real windows, for the README. */
export interface RealWindowCost {
  /** Windows of the busiest bucket: max over buckets of ceil(n/L). */
  windows: number;
  /** At least (windows − 1) whole windows of waiting, in minutes. */
  minutes: number;
  /** Whether (windows − 1)·W exceeds the timeout. */
  exceedsTimeout: boolean;
}

/**
 * The windows a full read needs at a bucket limit, and whether it can finish
 * inside a schedule timeout: the k-th window of a bucket opens at least
 * (k − 1)·W after the first.
 */
export function realWindowCost(
  requests: RequestCounts,
  limitPerWindow: Record<string, number>,
  windowSeconds = 60,
  timeoutMinutes = 30,
): RealWindowCost {
  const windows = windowBoundaries(requests, limitPerWindow) + 1;
  const minutes = ((windows - 1) * windowSeconds) / 60;
  return { windows, minutes, exceedsTimeout: minutes >= timeoutMinutes };
}
