/*
 * Responses by endpoint and HTTP status, kept in the client's stats for the
 * sync summary and its metrics. Each count replaces the nested objects
 * instead of changing them, so a `stats()` snapshot never moves afterwards.
 */
import type { OktaClientStats } from './types';

/** Counts one attempt's outcome: its HTTP status, or 0 when none came back. */
export function countResponse(
  stats: OktaClientStats,
  endpointKey: string,
  status: number,
): void {
  const byStatus = { ...stats.responses?.[endpointKey] };
  byStatus[status] = (byStatus[status] ?? 0) + 1;
  stats.responses = { ...stats.responses, [endpointKey]: byStatus };
}
