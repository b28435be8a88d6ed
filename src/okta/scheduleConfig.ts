/*
 * When a provider runs: its `schedule` and how often an incremental sync is
 * replaced by a full read (`fullReadEvery`).
 */
import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  type SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import {
  ConfigReader,
  readDurationFromConfig,
  type Config,
} from '@backstage/config';
import { Duration } from 'luxon';
import type { ProviderConfigErrors } from './configValues';

/** Recommended by Okta integrators: every 30 minutes, timing out after 30. */
const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 30 },
  timeout: { minutes: 30 },
};

export function readSchedule(
  config: Config,
  errors: ProviderConfigErrors,
): SchedulerServiceTaskScheduleDefinition {
  if (!config.has('schedule')) {
    return DEFAULT_SCHEDULE;
  }
  try {
    const scheduleConfig = config.getConfig('schedule');
    // A schedule that names only one of frequency and timeout gets the
    // default for the other, rather than a start-up error.
    const withDefaults = new ConfigReader(
      {
        frequency: { minutes: 30 },
        timeout: { minutes: 30 },
        ...scheduleConfig.get<object>(),
      },
      `${errors.path}.schedule`,
    );
    const schedule =
      readSchedulerServiceTaskScheduleDefinitionFromConfig(withDefaults);
    // The reader sets absent optional fields to undefined; drop them so the
    // result compares and logs cleanly.
    return Object.fromEntries(
      Object.entries(schedule).filter(([, v]) => v !== undefined),
    ) as unknown as SchedulerServiceTaskScheduleDefinition;
  } catch (error) {
    throw errors.wrap('schedule', error);
  }
}

/** `fullReadEvery`: a positive duration (at least a minute), in ms. */
export function readFullReadEvery(
  config: Config,
  errors: ProviderConfigErrors,
): number | undefined {
  if (!config.has('fullReadEvery')) {
    return undefined;
  }
  let ms: number;
  try {
    const duration = readDurationFromConfig(config, { key: 'fullReadEvery' });
    ms = Duration.fromObject(duration).as('milliseconds');
  } catch (error) {
    throw errors.wrap('fullReadEvery', error);
  }
  if (!Number.isFinite(ms) || ms < 60_000) {
    throw errors.error(
      '"fullReadEvery" must be a duration of at least one minute, e.g. { hours: 24 }',
    );
  }
  return ms;
}
