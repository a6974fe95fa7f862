import { afterEach, describe, expect, it, vi } from 'vitest';
import { withRetries, type RetrySchedule } from '../src/internal/retry.js';

const retryable = Object.assign(new Error('throttled'), { retryable: true });
const fatal = Object.assign(new Error('forbidden'), { retryable: false });

function schedule(overrides: Partial<RetrySchedule> = {}): RetrySchedule {
  return {
    retries: 2,
    minDelayMs: 100,
    maxDelayMs: 1_000,
    signal: new AbortController().signal,
    random: () => 0,
    shouldRetry: (error) => (error as { retryable?: boolean }).retryable === true,
    ...overrides,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('withRetries', () => {
  it('returns the first success without waiting', async () => {
    const attempt = vi.fn(async () => 'ok');
    await expect(withRetries(attempt, schedule())).resolves.toBe('ok');
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('makes 1 + retries attempts on retryable failures, then rethrows the last failure', async () => {
    vi.useFakeTimers();
    const attempt = vi.fn(async () => {
      throw retryable;
    });
    const result = withRetries(attempt, schedule({ retries: 3 }));
    result.catch(() => {});
    await vi.runAllTimersAsync();
    await expect(result).rejects.toBe(retryable);
    expect(attempt).toHaveBeenCalledTimes(4);
  });

  it('stops at once on a failure not worth retrying', async () => {
    const attempt = vi.fn(async () => {
      throw fatal;
    });
    await expect(withRetries(attempt, schedule())).rejects.toBe(fatal);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('doubles the wait from minDelayMs, scales it by 1 + random(), and caps it at maxDelayMs', async () => {
    vi.useFakeTimers();
    const waits: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      waits.push(ms);
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout);
    const attempt = vi.fn(async () => {
      throw retryable;
    });
    const result = withRetries(attempt, schedule({ retries: 5, random: () => 0.5 }));
    result.catch(() => {});
    await vi.runAllTimersAsync();
    await expect(result).rejects.toBe(retryable);
    spy.mockRestore();
    // 100, 200, 400, 800 times 1.5, capped at 1000.
    expect(waits).toEqual([150, 300, 600, 1_000, 1_000]);
  });

  it('succeeds on a later attempt', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const result = withRetries(async () => {
      calls++;
      if (calls < 3) throw retryable;
      return calls;
    }, schedule());
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe(3);
  });

  it('an abort during a wait rejects with the signal reason and makes no further attempt', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const reason = new Error('deadline');
    const attempt = vi.fn(async () => {
      throw retryable;
    });
    const result = withRetries(attempt, schedule({ signal: controller.signal, minDelayMs: 10_000, maxDelayMs: 10_000 }));
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(1);
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    await vi.runAllTimersAsync();
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an attempt that fails because the signal aborted is not retried: the reason is the answer', async () => {
    const controller = new AbortController();
    const reason = new Error('deadline');
    const attempt = vi.fn(async () => {
      controller.abort(reason);
      throw retryable;
    });
    await expect(withRetries(attempt, schedule({ signal: controller.signal }))).rejects.toBe(reason);
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('an already aborted signal makes no attempt', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    const attempt = vi.fn(async () => 'ok');
    await expect(withRetries(attempt, schedule({ signal: controller.signal }))).rejects.toThrow('gone');
    expect(attempt).not.toHaveBeenCalled();
  });

  it('its waits never hold the process open (the timer is unref-ed)', async () => {
    const unref = vi.fn();
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      const handle = realSetTimeout(fn, ms);
      const realUnref = handle.unref.bind(handle);
      handle.unref = () => {
        unref();
        return realUnref();
      };
      return handle;
    }) as typeof setTimeout);
    let calls = 0;
    const result = await withRetries(async () => {
      if (calls++ === 0) throw retryable;
      return 'ok';
    }, schedule({ minDelayMs: 1, maxDelayMs: 1 }));
    spy.mockRestore();
    expect(result).toBe('ok');
    expect(unref).toHaveBeenCalledTimes(1);
  });
});
