/*
 * A timer that an AbortSignal cancels: waits for rate-limit resets and
 * backoffs must not outlive a cancelled sync.
 */

/** The error an aborted operation rejects with: the signal's reason. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

/** Resolves after `ms` (at once when `ms <= 0`), rejects when `signal` aborts first. */
export function abortableDelay(
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    function finish() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    const timer = setTimeout(finish, Math.max(0, ms));
    function onAbort() {
      clearTimeout(timer);
      reject(abortReason(signal!));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
