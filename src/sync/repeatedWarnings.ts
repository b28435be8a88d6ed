/*
 * Warnings about Okta's data (a name collision, a record a transformer left
 * out, a parent that cannot be found, a groupNames entry that matches
 * nothing) hold as long as the data does: every run would find them again.
 * They are logged when they first appear, or appear again after a run
 * without them; each run's log line gives their counts. Operational
 * warnings (rate limits, failures) do not come through here.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';

/** How many warnings about Okta's data a run found, and how many were new. */
export interface OktaRecordWarningCounts {
  total: number;
  /** Not found by the provider's previous run in this process: logged. */
  new: number;
}

/** One run's view: a logger that logs only new warnings, and the counts. */
export interface OktaRunWarnings {
  logger: LoggerService;
  counts(): OktaRecordWarningCounts;
  /**
   * Ends the run. An applied run's warnings become the ones not logged
   * again; after a failed run, they are added to them.
   */
  finish(applied: boolean): void;
}

/** The warnings of one provider's runs, in this process. */
export class RepeatedWarnings {
  private previous = new Set<string>();

  start(base: LoggerService): OktaRunWarnings {
    const current = new Set<string>();
    let fresh = 0;
    const warn = (
      logger: LoggerService,
      message: string,
      meta?: Parameters<LoggerService['warn']>[1],
    ) => {
      if (current.has(message)) return;
      current.add(message);
      if (this.previous.has(message)) return;
      fresh += 1;
      logger.warn(message, meta);
    };
    const wrap = (logger: LoggerService): LoggerService => ({
      error: (message, meta) => logger.error(message, meta),
      warn: (message, meta) => warn(logger, message, meta),
      info: (message, meta) => logger.info(message, meta),
      debug: (message, meta) => logger.debug(message, meta),
      child: meta => wrap(logger.child(meta)),
    });
    return {
      logger: wrap(base),
      counts: () => ({ total: current.size, new: fresh }),
      finish: applied => {
        this.previous = applied
          ? current
          : new Set([...this.previous, ...current]);
      },
    };
  }
}
