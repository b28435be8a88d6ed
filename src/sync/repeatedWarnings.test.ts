import { describe, expect, it } from '@jest/globals';
import { RecordingLogger } from '../__testUtils__/oktaCatalogHarness';
import { RepeatedWarnings } from './repeatedWarnings';

describe('RepeatedWarnings', () => {
  it('logs a warning when it first appears, and again only after a run without it', () => {
    const warnings = new RepeatedWarnings();
    const logger = new RecordingLogger();
    const run = (messages: string[], applied = true) => {
      const r = warnings.start(logger);
      for (const m of messages) r.logger.child({ x: 1 }).warn(m);
      r.logger.info('not a warning');
      const counts = r.counts();
      r.finish(applied);
      return counts;
    };
    expect(run(['a', 'b', 'a'])).toEqual({ total: 2, new: 2 });
    expect(run(['a', 'b'])).toEqual({ total: 2, new: 0 });
    expect(run(['a', 'c'])).toEqual({ total: 2, new: 1 });
    // b went away with the last run: it is new again.
    expect(run(['b', 'c'])).toEqual({ total: 2, new: 1 });
    // A failed run's warnings are remembered too, and nothing is forgotten.
    expect(run(['d'], false)).toEqual({ total: 1, new: 1 });
    expect(run(['b', 'c', 'd'])).toEqual({ total: 3, new: 0 });
    expect(logger.messages('warn')).toEqual(['a', 'b', 'c', 'b', 'd']);
    expect(logger.messages('info')).toHaveLength(6);
  });
});
