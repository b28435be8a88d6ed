/*
 * The fake org's System Log: every change an admin makes to users, groups
 * and memberships becomes a LogEvent (Okta's `LogEvent` schema), kept in
 * the order it was written, and `GET /api/v1/logs` serves it with Okta's
 * cursor semantics:
 * - a polling query (no `until`) returns events from `since` (default 7
 *   days back) ascending and always carries a `next` link, even on an empty
 *   page; following it returns only events written after the page's last
 *   one, so a client that stores and follows it never misses or repeats an
 *   event, however their `published` times interleave;
 * - a bounded query (`until` set) has a `next` link only while more events
 *   fall in its range;
 * - `limit` defaults to 100 and is capped at 1000; `filter` understands
 *   `eventType eq "..."` terms joined by `or` (what a follower needs), and
 *   anything else is refused with 400 rather than silently ignored.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeOrg, OktaGroup, OktaUser } from './FakeOrg';
import type { FakeOrgChange } from './orgChangeEvents';

/** Okta's event types for the changes the fake org makes. */
export const FAKE_LOG_EVENT_TYPES = [
  'user.lifecycle.create',
  'user.lifecycle.activate',
  'user.lifecycle.deactivate',
  'user.lifecycle.suspend',
  'user.lifecycle.unsuspend',
  'user.lifecycle.reactivate',
  'user.lifecycle.delete.initiated',
  'user.account.update_profile',
  'group.user_membership.add',
  'group.user_membership.remove',
  'group.lifecycle.create',
  'group.lifecycle.delete',
  'group.profile.update',
] as const;

export type FakeLogEventType = (typeof FAKE_LOG_EVENT_TYPES)[number];

export interface FakeLogTarget {
  id: string;
  type: 'User' | 'UserGroup';
  alternateId: string;
  displayName: string;
}

/** A System Log event as Okta's `LogEvent` schema describes it (the parts the fake fills). */
export interface FakeLogEvent {
  uuid: string;
  published: string;
  eventType: FakeLogEventType;
  version: '0';
  severity: 'INFO';
  displayMessage: string;
  legacyEventType?: string;
  actor: { id: string; type: string; alternateId: string; displayName: string };
  outcome: { result: 'SUCCESS' };
  target: FakeLogTarget[];
  transaction: { type: 'WEB'; id: string; detail: Record<string, never> };
  debugContext: { debugData: Record<string, string> };
}

/** Who the fake says made the changes. */
export const FAKE_ADMIN_ACTOR = {
  id: '00u1fakeOrgAdmin0000',
  type: 'User',
  alternateId: 'admin@fake-okta.example',
  displayName: 'Fake Org Admin',
};

const DISPLAY_MESSAGES: Record<FakeLogEventType, string> = {
  'user.lifecycle.create': 'Create okta user',
  'user.lifecycle.activate': 'Activate Okta user',
  'user.lifecycle.deactivate': 'Deactivate Okta user',
  'user.lifecycle.suspend': 'Suspend Okta user',
  'user.lifecycle.unsuspend': 'Unsuspend Okta user',
  'user.lifecycle.reactivate': 'Reactivate Okta user',
  'user.lifecycle.delete.initiated': 'Delete Okta user',
  'user.account.update_profile': 'Update user profile for Okta',
  'group.user_membership.add': 'Add user to group membership',
  'group.user_membership.remove': 'Remove user from group membership',
  'group.lifecycle.create': 'Create okta group',
  'group.lifecycle.delete': 'Delete okta group',
  'group.profile.update': 'Update group profile',
};

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const DEFAULT_SINCE_MS = 7 * 24 * 3600 * 1000;

function userTarget(user: OktaUser): FakeLogTarget {
  const { firstName, lastName, login } = user.profile;
  const name = [firstName, lastName].filter(Boolean).join(' ');
  return {
    id: user.id,
    type: 'User',
    alternateId: login,
    displayName: name || login,
  };
}

function groupTarget(group: OktaGroup): FakeLogTarget {
  return {
    id: group.id,
    type: 'UserGroup',
    alternateId: 'unknown',
    displayName: String(group.profile.name),
  };
}

/** The event types Okta writes for a change (none for BUILT_IN "Everyone" memberships, which Okta keeps implicitly). */
export function logEventTypesOf(
  change: FakeOrgChange,
): Array<{ eventType: FakeLogEventType; target: FakeLogTarget[] }> {
  switch (change.kind) {
    case 'userCreated': {
      const events: Array<{
        eventType: FakeLogEventType;
        target: FakeLogTarget[];
      }> = [
        {
          eventType: 'user.lifecycle.create',
          target: [userTarget(change.user)],
        },
      ];
      if (change.user.status === 'ACTIVE') {
        events.push({
          eventType: 'user.lifecycle.activate',
          target: [userTarget(change.user)],
        });
      }
      return events;
    }
    case 'userStatusChanged': {
      const to = change.user.status;
      const from = change.from;
      let eventType: FakeLogEventType | undefined;
      if (to === 'DEPROVISIONED') eventType = 'user.lifecycle.deactivate';
      else if (to === 'SUSPENDED') eventType = 'user.lifecycle.suspend';
      else if (from === 'SUSPENDED' && to === 'ACTIVE')
        eventType = 'user.lifecycle.unsuspend';
      else if (from === 'DEPROVISIONED')
        eventType = 'user.lifecycle.reactivate';
      else if (to === 'ACTIVE') eventType = 'user.lifecycle.activate';
      // Other transitions (lock-outs, password expiry, recovery) have event
      // types of their own that the catalog does not need; the fake leaves them out.
      return eventType
        ? [{ eventType, target: [userTarget(change.user)] }]
        : [];
    }
    case 'userProfileUpdated':
      return [
        {
          eventType: 'user.account.update_profile',
          target: [userTarget(change.user)],
        },
      ];
    case 'userDeleted':
      return [
        {
          eventType: 'user.lifecycle.delete.initiated',
          target: [userTarget(change.user)],
        },
      ];
    case 'groupCreated':
      return change.group.type === 'BUILT_IN'
        ? []
        : [
            {
              eventType: 'group.lifecycle.create',
              target: [groupTarget(change.group)],
            },
          ];
    case 'groupProfileUpdated':
      return [
        {
          eventType: 'group.profile.update',
          target: [groupTarget(change.group)],
        },
      ];
    case 'groupDeleted':
      return [
        {
          eventType: 'group.lifecycle.delete',
          target: [groupTarget(change.group)],
        },
      ];
    case 'memberAdded':
    case 'memberRemoved':
      if (change.group.type === 'BUILT_IN') return [];
      return [
        {
          eventType:
            change.kind === 'memberAdded'
              ? 'group.user_membership.add'
              : 'group.user_membership.remove',
          target: [userTarget(change.user), groupTarget(change.group)],
        },
      ];
    default:
      return [];
  }
}

/** A reply of the System Log endpoint, before the server adds rate-limit headers. */
export interface SystemLogReply {
  status: number;
  body: unknown;
  headers?: Record<string, string | string[]>;
}

type FilterTest = (event: FakeLogEvent) => boolean;

/** `eventType eq "a" or eventType eq "b"`, optionally parenthesised; undefined when not understood. */
function compileFilter(filter: string): FilterTest | undefined {
  let text = filter.trim();
  while (text.startsWith('(') && text.endsWith(')'))
    text = text.slice(1, -1).trim();
  const wanted = new Set<string>();
  for (const term of text.split(/\s+or\s+/i)) {
    const m = /^\(?\s*eventType\s+eq\s+"([^"]+)"\s*\)?$/.exec(term.trim());
    if (!m) return undefined;
    wanted.add(m[1]);
  }
  return event => wanted.has(event.eventType);
}

function parseTime(raw: string | null): number | undefined | 'invalid' {
  if (raw === null) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : 'invalid';
}

/**
 * The System Log of one fake org. Events are appended as the org changes;
 * each has a sequence number (its persistence order), which is what a
 * polling cursor points at.
 */
export class FakeSystemLog {
  private readonly events: FakeLogEvent[] = [];
  private readonly publishedMs: number[] = [];
  private readonly listeners = new Set<(event: FakeLogEvent) => void>();
  private readonly unsubscribe: () => void;

  constructor(
    org: FakeOrg,
    private readonly clock: () => number,
  ) {
    this.unsubscribe = org.onChange((change, at) => {
      for (const { eventType, target } of logEventTypesOf(change)) {
        this.append(eventType, target, at);
      }
    });
  }

  /** Stops listening to the org. */
  close(): void {
    this.unsubscribe();
  }

  /** Every event written so far, in persistence order. */
  all(): readonly FakeLogEvent[] {
    return this.events;
  }

  /** Calls `listener` with each event as it is written (event hooks use this). */
  onEvent(listener: (event: FakeLogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private append(
    eventType: FakeLogEventType,
    target: FakeLogTarget[],
    published: string,
  ): void {
    const event: FakeLogEvent = {
      uuid: randomUUID(),
      published,
      eventType,
      version: '0',
      severity: 'INFO',
      displayMessage: DISPLAY_MESSAGES[eventType],
      actor: { ...FAKE_ADMIN_ACTOR },
      outcome: { result: 'SUCCESS' },
      target,
      transaction: {
        type: 'WEB',
        id: randomBytes(18).toString('base64url'),
        detail: {},
      },
      debugContext: { debugData: { requestUri: '/api/v1/fake' } },
    };
    this.events.push(event);
    this.publishedMs.push(Date.parse(published));
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Answers `GET /api/v1/logs` (already authenticated and rate-limited).
   * `base` is the URL the client used, for the links.
   */
  list(
    query: string,
    base: string,
    errorReply: (
      status: number,
      code: string,
      summary: string,
    ) => SystemLogReply,
  ): SystemLogReply {
    const params = new URLSearchParams(query);
    const rawLimit = params.get('limit');
    let limit = DEFAULT_LIMIT;
    if (rawLimit !== null) {
      const n = Number(rawLimit);
      if (!Number.isInteger(n) || n < 0)
        return errorReply(400, 'E0000001', 'Api validation failed: limit');
      limit = Math.min(n, MAX_LIMIT);
    }
    const since = parseTime(params.get('since'));
    const until = parseTime(params.get('until'));
    if (since === 'invalid')
      return errorReply(400, 'E0000001', 'Api validation failed: since');
    if (until === 'invalid')
      return errorReply(400, 'E0000001', 'Api validation failed: until');
    const sortOrder = params.get('sortOrder') ?? 'ASCENDING';
    if (sortOrder !== 'ASCENDING' && sortOrder !== 'DESCENDING') {
      return errorReply(400, 'E0000001', 'Api validation failed: sortOrder');
    }
    const rawFilter = params.get('filter');
    const keep = rawFilter === null ? undefined : compileFilter(rawFilter);
    if (rawFilter !== null && !keep) {
      return errorReply(
        400,
        'E0000001',
        'Api validation failed: filter (the fake understands eventType eq "..." joined by or)',
      );
    }
    if (params.get('q') !== null)
      return errorReply(
        400,
        'E0000001',
        'Api validation failed: q is not supported by the fake',
      );

    const polling = until === undefined && sortOrder === 'ASCENDING';
    const sinceMs = since ?? this.clock() - DEFAULT_SINCE_MS;
    const untilMs = until ?? Number.POSITIVE_INFINITY;

    // The cursor is the sequence number of the last event a page held (or
    // the position `since` started at, for an empty first page).
    const after = params.get('after');
    let start: number;
    if (after !== null) {
      const seq = /^s(\d+)$/.exec(after);
      if (!seq)
        return errorReply(400, 'E0000001', 'Api validation failed: after');
      start = Number(seq[1]);
    } else {
      start = 0;
      while (start < this.events.length && this.publishedMs[start] < sinceMs)
        start++;
    }

    // Following a polling cursor is by persistence order alone; bounded
    // queries keep to their time range on every page.
    const checkSince = !(polling && after !== null);
    const inRange = (i: number) =>
      (!checkSince || this.publishedMs[i] >= sinceMs) &&
      this.publishedMs[i] < untilMs &&
      (!keep || keep(this.events[i]));
    const page: FakeLogEvent[] = [];
    let cursor = start;
    let more = false;
    if (sortOrder === 'ASCENDING') {
      let i = start;
      for (; i < this.events.length; i++) {
        if (!inRange(i)) continue;
        if (page.length === limit) {
          more = true;
          break;
        }
        page.push(this.events[i]);
      }
      // Everything before i was either served or passed over, so the next
      // page resumes at i: an empty polling page keeps its place.
      cursor = i;
    } else {
      const all: FakeLogEvent[] = [];
      for (let i = this.events.length - 1; i >= 0; i--)
        if (inRange(i)) all.push(this.events[i]);
      const offset = after !== null ? start : 0;
      page.push(...all.slice(offset, offset + limit));
      cursor = offset + page.length;
      more = all.length > cursor;
    }

    const self = `<${base}/api/v1/logs${query ? `?${query}` : ''}>; rel="self"`;
    const links = [self];
    if (polling || more) {
      const next = new URLSearchParams(params);
      next.delete('after');
      next.set('after', `s${cursor}`);
      links.push(`<${base}/api/v1/logs?${next.toString()}>; rel="next"`);
    }
    return { status: 200, body: page, headers: { Link: links } };
  }
}
