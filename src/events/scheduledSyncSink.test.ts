import { describe, expect, it } from '@jest/globals';
import { mockServices } from '@backstage/backend-test-utils';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type { SchedulerService } from '@backstage/backend-plugin-api';
import { ScheduledSyncSink } from './scheduledSyncSink';

const IDS = { userIds: ['u1'], groupIds: [], membershipGroupIds: ['g1'] };

function schedulerAnswering(answers: Array<'ok' | 'running' | 'missing'>) {
  const calls: string[] = [];
  const scheduler = {
    async triggerTask(id: string) {
      calls.push(id);
      const answer = answers.shift() ?? 'ok';
      if (answer === 'running')
        throw new ConflictError(`Task ${id} is currently running`);
      if (answer === 'missing')
        throw new NotFoundError(`Task ${id} does not exist`);
    },
  } as unknown as SchedulerService;
  return { scheduler, calls };
}

describe('ScheduledSyncSink', () => {
  it('triggers the provider task, and waits out a sync already running to trigger again', async () => {
    const { scheduler, calls } = schedulerAnswering([
      'running',
      'running',
      'ok',
    ]);
    const sink = new ScheduledSyncSink({
      taskId: 'OktaOrgEntityProvider:us:refresh',
      scheduler,
      logger: mockServices.logger.mock(),
      retryIntervalMs: 10,
    });
    await sink.changed(IDS);
    expect(calls).toEqual(Array(3).fill('OktaOrgEntityProvider:us:refresh'));
  });

  it('rejects (so the batcher retries later) when the task does not exist or stays running', async () => {
    const missing = schedulerAnswering(['missing']);
    const logger = mockServices.logger.mock();
    await expect(
      new ScheduledSyncSink({
        taskId: 't',
        scheduler: missing.scheduler,
        logger,
      }).changed(IDS),
    ).rejects.toThrow(/does not exist/);
    const busy = schedulerAnswering(Array(100).fill('running'));
    await expect(
      new ScheduledSyncSink({
        taskId: 't',
        scheduler: busy.scheduler,
        logger,
        retryIntervalMs: 5,
        maxWaitMs: 30,
      }).changed(IDS),
    ).rejects.toThrow(/currently running/);
  });
});
