/*
 * Follows Okta's System Log for the events that change users, groups and
 * memberships, as Okta documents its polling: the first query starts at
 * `since` (now, the first time) with no `until`, and from then on only the
 * `next` link Okta returned is followed, never a moved `since`; a polling
 * page always has one, even when empty. The link is stored after each page
 * is accepted, so a restart or another replica resumes where this one
 * stopped; an event read twice across that boundary is dropped by uuid.
 * Within one poll, full pages are followed at once (a backlog), up to
 * `maxPagesPerPoll`, each paced by the client to the logs bucket.
 *
 * What bounds it under a flood of events: a page holds at most
 * SYSTEM_LOG_PAGE_LIMIT events and is handed to the change queue (which
 * keeps one entry per object) before the next is fetched, so one page is in
 * memory at a time; a poll reads at most `maxPagesPerPoll` pages, and one
 * poll runs at a time (a global scheduled task). A poll that stops behind
 * has stored the next link of its last page, where the next poll continues:
 * nothing is skipped, the backlog is only read over several polls.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { OktaChangeBatcher } from './OktaChangeBatcher';
import { OKTA_CHANGE_EVENT_TYPES, readOktaEvents } from './oktaEvents';
import type { OktaLogPageFetcher } from './systemLogClient';
import type { OktaSystemLogCursorStore } from './types';

/** Okta's largest System Log page (`limit`), asked for on every query. */
export const SYSTEM_LOG_PAGE_LIMIT = 1000;
/** Pages one poll reads at most by default: 10,000 events. */
export const DEFAULT_MAX_PAGES_PER_POLL = 10;

export interface OktaSystemLogFollowerOptions {
  providerId: string;
  orgUrl: string;
  fetchPage: OktaLogPageFetcher;
  cursor: OktaSystemLogCursorStore;
  batcher: Pick<OktaChangeBatcher, 'accept'>;
  logger: LoggerService;
  /** Where a follower without a stored cursor starts; default now. */
  startAt?: () => Date;
  /** Pages one poll follows at most; default DEFAULT_MAX_PAGES_PER_POLL. */
  maxPagesPerPoll?: number;
}

export interface PollResult {
  pages: number;
  events: number;
  accepted: number;
  /** The poll stopped at `maxPagesPerPoll` full pages: the next continues. */
  behind: boolean;
}

/** The first polling query: the change events from `since` on, ascending. */
export function firstSystemLogQuery(orgUrl: string, since: Date): string {
  const filter = OKTA_CHANGE_EVENT_TYPES.map(
    type => `eventType eq "${type}"`,
  ).join(' or ');
  const query = new URLSearchParams({
    since: since.toISOString(),
    limit: String(SYSTEM_LOG_PAGE_LIMIT),
    filter,
  });
  return `${orgUrl.replace(/\/+$/, '')}/api/v1/logs?${query}`;
}

export class OktaSystemLogFollower {
  constructor(private readonly options: OktaSystemLogFollowerOptions) {}

  /** One poll: follows the stored cursor until a page is not full. */
  async poll(signal?: AbortSignal): Promise<PollResult> {
    const { cursor, fetchPage, batcher, logger } = this.options;
    const maxPages = this.options.maxPagesPerPoll ?? DEFAULT_MAX_PAGES_PER_POLL;
    let url = await cursor.read();
    if (!url) {
      url = firstSystemLogQuery(
        this.options.orgUrl,
        this.options.startAt?.() ?? new Date(),
      );
      // Stored before the first read, so that events from now on are never skipped.
      await cursor.write(url);
      logger.info(
        `Okta System Log follower ${this.options.providerId}: starting at ${new Date().toISOString()}`,
      );
    }
    const result: PollResult = {
      pages: 0,
      events: 0,
      accepted: 0,
      behind: false,
    };
    for (let page = 0; page < maxPages; page++) {
      signal?.throwIfAborted();
      const { events, next } = await fetchPage(url, signal);
      result.pages++;
      result.events += events.length;
      const { changes, malformed } = readOktaEvents(events);
      if (malformed > 0) {
        logger.warn(
          `Okta System Log follower ${this.options.providerId}: skipped ${malformed} events not shaped like Okta events`,
        );
      }
      const { accepted } = await batcher.accept(changes);
      result.accepted += accepted;
      if (!next) {
        // Okta always gives polling queries a next link; without one the
        // stored link stays, and is asked again next time.
        logger.warn(
          `Okta System Log follower ${this.options.providerId}: Okta returned no next link; keeping the current cursor`,
        );
        break;
      }
      await cursor.write(next);
      url = next;
      if (events.length < SYSTEM_LOG_PAGE_LIMIT) break;
      if (page === maxPages - 1) result.behind = true;
    }
    if (result.behind) {
      logger.debug(
        `Okta System Log follower ${this.options.providerId}: read ${result.pages} full pages (${result.events} events) in this poll; the next poll continues from the stored cursor`,
      );
    }
    return result;
  }
}

/** A cursor kept in memory (tests; the module keeps it in the database): a restart begins again at "now". */
export class InMemoryOktaSystemLogCursorStore implements OktaSystemLogCursorStore {
  private value: string | undefined;
  async read(): Promise<string | undefined> {
    return this.value;
  }
  async write(nextUrl: string): Promise<void> {
    this.value = nextUrl;
  }
}
