/**
 * Retries with exponential backoff and jitter: what the refresh engine needs of a retry
 * library, in a few lines (p-retry cost 1.1 KB gzip in every browser bundle and 3 ms of cold
 * import, for a loop).
 *
 * @internal
 */

/** @internal */
export type RetrySchedule = {
  /** Attempts after the first. */
  readonly retries: number;
  /** Wait before the first retry; doubles per retry. */
  readonly minDelayMs: number;
  /** Cap on any one wait. */
  readonly maxDelayMs: number;
  /** Ends the waits and the attempts: rejects with `signal.reason`. */
  readonly signal: AbortSignal;
  /** Returns [0, 1): each wait is its base times 1 + random(), so callers that failed together spread out. */
  readonly random: () => number;
  /** Whether a failure is worth another attempt. */
  readonly shouldRetry: (error: unknown) => boolean;
  /** Told before each wait: the failure, how many attempts failed so far, and the wait (ms). */
  readonly onRetry?: (error: unknown, failed: number, delayMs: number) => void;
};

/**
 * Runs `attempt` until it resolves, a failure is not worth retrying, the retries run out or
 * the signal aborts. The waits never hold the process open (the caller's deadline does that
 * when someone is waiting).
 *
 * @internal
 */
export async function withRetries<T>(attempt: () => Promise<T>, schedule: RetrySchedule): Promise<T> {
  const { signal } = schedule;
  for (let done = 0; ; done++) {
    signal.throwIfAborted();
    let failure: unknown;
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (done >= schedule.retries || !schedule.shouldRetry(error)) throw error;
      failure = error;
    }
    const base = schedule.minDelayMs * 2 ** Math.min(done, 30);
    const delayMs = Math.min(schedule.maxDelayMs, base * (1 + schedule.random()));
    schedule.onRetry?.(failure, done + 1, delayMs);
    await sleep(delayMs, signal);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(handle);
      reject(signal.reason);
    };
    const handle = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    (handle as { unref?: () => void }).unref?.();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
