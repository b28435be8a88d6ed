import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import { RecordingLogger } from '../__testUtils__/oktaCatalogHarness';
import { RateLimitedWarnings } from './rateLimitedWarnings';

describe('RateLimitedWarnings', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  const summary = (count: number, seconds: number) =>
    `${count} more refused in the last ${seconds} s`;

  it('logs the first of a kind at once, counts the rest of the minute and reports them in one line when it ends', () => {
    const logger = new RecordingLogger();
    const warnings = new RateLimitedWarnings(logger);
    for (let i = 0; i < 100; i++) {
      warnings.warn('default:unauthorized', `refused #${i}`, summary);
      jest.advanceTimersByTime(100); // 100 requests over 10 s
    }
    expect(logger.messages('warn')).toEqual(['refused #0']);
    jest.advanceTimersByTime(50_000);
    expect(logger.messages('warn')).toEqual([
      'refused #0',
      '99 more refused in the last 60 s',
    ]);
    // Quiet: nothing more. The next one, a window later, is logged at once.
    jest.advanceTimersByTime(120_000);
    warnings.warn('default:unauthorized', 'refused again', summary);
    expect(logger.messages('warn')).toHaveLength(3);
    expect(logger.messages('warn')[2]).toBe('refused again');
  });

  it('a steady flood costs at most two lines a window per kind', () => {
    const logger = new RecordingLogger();
    const warnings = new RateLimitedWarnings(logger, { windowMs: 60_000 });
    // 10 a second for 10 minutes, of two kinds.
    for (let i = 0; i < 6000; i++) {
      warnings.warn('a', 'refused a', summary);
      warnings.warn('b', 'refused b', summary);
      jest.advanceTimersByTime(100);
    }
    warnings.flush();
    const lines = logger.messages('warn');
    expect(lines.length).toBeLessThanOrEqual(2 * 2 * 10 + 2);
    const counted = lines
      .map(line => Number(/^(\d+) more/.exec(line)?.[1] ?? 1))
      .reduce((a, b) => a + b, 0);
    expect(counted).toBe(12_000);
  });

  it('flush reports what is counted, and nothing when nothing is', () => {
    const logger = new RecordingLogger();
    const warnings = new RateLimitedWarnings(logger);
    warnings.warn('a', 'first a', summary);
    warnings.flush();
    expect(logger.messages('warn')).toEqual(['first a']);
    warnings.warn('a', 'second a', summary);
    jest.advanceTimersByTime(3_000);
    warnings.flush();
    expect(logger.messages('warn')).toEqual([
      'first a',
      '1 more refused in the last 3 s',
    ]);
    jest.advanceTimersByTime(120_000);
    expect(logger.messages('warn')).toHaveLength(2);
  });
});
