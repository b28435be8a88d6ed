import { abortableDelay, abortReason } from './abortableDelay';

describe('abortableDelay', () => {
  it('waits', async () => {
    const t0 = Date.now();
    await abortableDelay(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('rejects promptly with the abort reason', async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    const waiting = abortableDelay(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('rejects at once for an aborted signal, with a custom reason when given', async () => {
    await expect(
      abortableDelay(10, AbortSignal.abort(new Error('stop'))),
    ).rejects.toThrow('stop');
    const controller = new AbortController();
    controller.abort('just a string');
    expect(abortReason(controller.signal).name).toBe('AbortError');
  });
});
