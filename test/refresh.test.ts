/**
 * The refresh engine's eight rules (see src/refresh.ts), each with tests that fail when the
 * rule is broken. Time is simulated with vitest fake timers (Date, setTimeout, performance).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  CredentialsError,
  refreshing,
  type RefreshEvent,
  type RefreshOptions,
} from '../src/index.js';
import { fakeCredentialSource, type FakeCredentialSourceOptions } from '../src/testing/index.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

function setup(sourceOptions: FakeCredentialSourceOptions = {}, options: RefreshOptions = {}) {
  const source = fakeCredentialSource({ lifetimeMs: 900 * SECOND, ...sourceOptions });
  const events: RefreshEvent[] = [];
  const warn = vi.fn();
  const provider = refreshing(source, {
    random: () => 0.5,
    logger: { warn },
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { source, provider, events, warn };
}

/** Lets background promises settle without moving time. */
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('rule 1: single-flight', () => {
  it('1000 concurrent callers on a cold provider make exactly one source call', async () => {
    const { source, provider } = setup({ delayMs: 50 });
    const pending = Array.from({ length: 1000 }, () => provider());
    await vi.advanceTimersByTimeAsync(50);
    const results = await Promise.all(pending);
    expect(source.calls).toBe(1);
    expect(new Set(results.map((c) => c.accessKeyId)).size).toBe(1);
    provider.close();
  });

  it('1000 concurrent callers at the mandatory point make exactly one more source call', async () => {
    const { source, provider } = setup({ delayMs: 50 }, { backgroundTimer: false });
    const first = provider();
    await vi.advanceTimersByTimeAsync(50);
    const before = await first;
    // 900 s credential: mandatory window = 90 s; move to 60 s before expiry.
    await vi.advanceTimersByTimeAsync(840 * SECOND - 50);
    const pending = Array.from({ length: 1000 }, () => provider());
    await vi.advanceTimersByTimeAsync(50);
    const results = await Promise.all(pending);
    expect(source.calls).toBe(2);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set([`STS.fake-2`]));
    expect(results[0]!.accessKeyId).not.toBe(before.accessKeyId);
  });

  it('1000 concurrent callers on a failing cold provider share one failure', async () => {
    const { source, provider } = setup({}, { retry: false });
    source.failAlways(new CredentialsError('denied', { code: 'NoPermission' }));
    const settled = await Promise.allSettled(Array.from({ length: 1000 }, () => provider()));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(source.calls).toBe(1);
  });
});

describe('rule 2: windows scale with lifetime', () => {
  it('a 900 s credential is refreshed about every 450 s, not on every call', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    const fetchedAt: number[] = [];
    let lastKey = '';
    for (let t = 0; t < 10 * MINUTE; t += SECOND) {
      const creds = await provider();
      if (creds.accessKeyId !== lastKey) {
        fetchedAt.push(t);
        lastKey = creds.accessKeyId;
      }
      await vi.advanceTimersByTimeAsync(SECOND);
    }
    // t=0 (cold) and once the advisory window (450 s) opens.
    expect(source.calls).toBe(2);
    expect(fetchedAt[0]).toBe(0);
    // The refresh ran in the background at 450 s; callers saw the new key right after.
    expect(fetchedAt[1]).toBeGreaterThanOrEqual(450 * SECOND);
    expect(fetchedAt[1]).toBeLessThanOrEqual(452 * SECOND);
  });

  it('inside the advisory window callers get the cached value at once while one background refresh runs', async () => {
    const { source, provider } = setup({ delayMs: 5 * SECOND }, { backgroundTimer: false });
    const first = provider();
    await vi.advanceTimersByTimeAsync(5 * SECOND);
    const original = await first;
    await vi.advanceTimersByTimeAsync(500 * SECOND); // 395 s left: advisory (450 s), not mandatory (90 s)
    // The source takes 5 s, yet every call resolves without time moving.
    const results = await Promise.all(Array.from({ length: 100 }, () => provider()));
    expect(results.every((c) => c === original)).toBe(true);
    expect(source.calls).toBe(2); // one background refresh started, only one
    await vi.advanceTimersByTimeAsync(5 * SECOND);
    expect((await provider()).accessKeyId).toBe('STS.fake-2');
    expect(source.calls).toBe(2);
  });

  it('uses min(15 min, L/2) and min(5 min, L/10) for a 12 h credential', async () => {
    const { source, provider, events } = setup({ lifetimeMs: 12 * 60 * MINUTE }, { backgroundTimer: false });
    await provider();
    await vi.advanceTimersByTimeAsync(12 * 60 * MINUTE - 15 * MINUTE - SECOND);
    await provider();
    expect(source.calls).toBe(1); // 15 min + 1 s left: still fresh
    await vi.advanceTimersByTimeAsync(2 * SECOND);
    await provider();
    await flush();
    expect(source.calls).toBe(2); // advisory window opened at 15 min
    expect(events.filter((e) => e.type === 'refresh-start').map((e) => (e as { reason: string }).reason)).toEqual([
      'cold',
      'advisory',
    ]);
  });

  it('puts the mandatory point at min(5 min, L/10): a 12 h credential is still served 5 min + 1 s before expiry', async () => {
    const { source, provider } = setup({ lifetimeMs: 12 * 60 * MINUTE }, { backgroundTimer: false });
    const first = await provider();
    source.failAlways(); // the advisory refresh fails, the cached value stays in use
    await vi.advanceTimersByTimeAsync(12 * 60 * MINUTE - 5 * MINUTE - SECOND);
    expect(provider.peek()).toBe(first);
    await vi.advanceTimersByTimeAsync(2 * SECOND);
    expect(provider.peek()).toBeUndefined();
  });

  it('accepts overridden windows, as numbers or functions of the lifetime', async () => {
    const fixed = setup({}, { backgroundTimer: false, advisoryWindowMs: 60 * SECOND, mandatoryWindowMs: 10 * SECOND });
    await fixed.provider();
    await vi.advanceTimersByTimeAsync(835 * SECOND); // 65 s left
    await fixed.provider();
    await flush();
    expect(fixed.source.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * SECOND); // 55 s left
    await fixed.provider();
    await flush();
    expect(fixed.source.calls).toBe(2);

    const fn = setup({}, { backgroundTimer: false, advisoryWindowMs: (l) => l * 0.25, mandatoryWindowMs: (l) => l * 0.05 });
    await fn.provider();
    await vi.advanceTimersByTimeAsync(670 * SECOND); // 230 s left, advisory is 225 s
    await fn.provider();
    await flush();
    expect(fn.source.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * SECOND);
    await fn.provider();
    await flush();
    expect(fn.source.calls).toBe(2);
  });

  it('never lets the mandatory window exceed the advisory one', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false, advisoryWindowMs: 30 * SECOND, mandatoryWindowMs: 300 * SECOND });
    const first = await provider();
    await vi.advanceTimersByTimeAsync(800 * SECOND); // 100 s left: inside the (clamped) fresh zone
    expect(await provider()).toBe(first);
    expect(source.calls).toBe(1);
  });
});

describe('the mandatory point is exact', () => {
  it('1 ms before it the cached value is served at once; at it, callers wait for the refresh', async () => {
    // 900 s credential: mandatory window min(5 min, L/10) = 90 s, so the point is at 810 s.
    // The advisory window is made as small, so no refresh ahead gets in the way.
    const { provider, events } = setup({ delayMs: 1_000 }, { backgroundTimer: false, advisoryWindowMs: 90 * SECOND });
    const first = provider();
    await vi.advanceTimersByTimeAsync(1_000);
    const value = await first;
    await vi.advanceTimersByTimeAsync(810 * SECOND - 1);
    let settled = false;
    const before = provider().then((c) => {
      settled = true;
      return c;
    });
    await flush();
    expect(settled).toBe(true);
    expect(await before).toBe(value);
    await vi.advanceTimersByTimeAsync(1);
    settled = false;
    const at = provider().then((c) => {
      settled = true;
      return c;
    });
    await flush();
    expect(settled).toBe(false); // at the mandatory point: waiting for the one refresh
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await at).accessKeyId).not.toBe(value.accessKeyId);
    expect(events.some((e) => e.type === 'refresh-start' && e.reason === 'mandatory')).toBe(true);
    provider.close();
  });
});

describe('rule 3: background timer', () => {
  it('creates no timer before the first call', () => {
    const { provider } = setup();
    expect(vi.getTimerCount()).toBe(0);
    expect(provider.peek()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refreshes a provider used since its last refresh at the advisory point plus jitter', async () => {
    const { source, provider, events } = setup({}, { random: () => 0.999 });
    const first = await provider();
    await vi.advanceTimersByTimeAsync(10 * SECOND);
    await provider(); // used since the credential arrived
    expect(vi.getTimerCount()).toBe(1);
    // Advisory point: 450 s; jitter up to 20 % of (advisory - mandatory) = 72 s.
    await vi.advanceTimersByTimeAsync(450 * SECOND);
    expect(source.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(72 * SECOND);
    expect(source.calls).toBe(2);
    expect(events.some((e) => e.type === 'refresh-start' && e.reason === 'timer')).toBe(true);
    expect(provider.peek()).not.toBe(first);
    expect(provider.peek()?.accessKeyId).toBe('STS.fake-2');
    provider.close();
  });

  it('holds no timer for a credential nobody uses after it arrived; the first use arms it', async () => {
    const { source, provider } = setup();
    await provider(); // the caller that waited for it: not a use of the new credential
    expect(vi.getTimerCount()).toBe(0);
    // Unused, it lives out its lifetime: no background refresh, and the next call refreshes.
    await vi.advanceTimersByTimeAsync(16 * MINUTE);
    expect(source.calls).toBe(1);
    await provider();
    expect(source.calls).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    // A peek is a use too.
    expect(provider.peek()).toBeDefined();
    expect(vi.getTimerCount()).toBe(1);
    provider.close();
  });

  it('a first use inside the advisory window refreshes at once (the call itself, or the timer)', async () => {
    const { source, provider } = setup({}, { random: () => 0 });
    await provider();
    await vi.advanceTimersByTimeAsync(460 * SECOND); // past the advisory point (450 s), not yet mandatory
    expect(source.calls).toBe(1);
    expect(provider.peek()).toBeDefined(); // first use: arms the timer, which fires at once
    await vi.advanceTimersByTimeAsync(0);
    expect(source.calls).toBe(2);
    provider.close();
  });

  it('close() clears the timer and no source call happens afterwards', async () => {
    const { source, provider } = setup();
    await provider();
    await provider(); // used: the timer is armed
    expect(vi.getTimerCount()).toBe(1);
    provider.close();
    provider.close(); // idempotent
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(source.calls).toBe(1);
    // Still usable, lazily, without arming a timer again.
    await provider();
    expect(source.calls).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a daemon that keeps calling valid for hours, every call served from the cache', async () => {
    const { source, provider, events } = setup();
    await provider();
    for (let minute = 0; minute < 3 * 60; minute++) {
      await vi.advanceTimersByTimeAsync(MINUTE);
      expect(provider.peek()).toBeDefined();
      await provider();
    }
    expect(source.calls).toBeGreaterThanOrEqual(3 * 60 / 8.7 - 2);
    // Refreshes ran ahead (timer or advisory): no caller ever waited after the first.
    expect(events.filter((e) => e.type === 'refresh-start' && (e.reason === 'cold' || e.reason === 'mandatory'))).toHaveLength(1);
    provider.close();
  });

  it('arms one long timer, not a spinning one, for credentials that expire in months', async () => {
    const { source, provider } = setup({ lifetimeMs: 100 * 24 * 60 * MINUTE });
    await provider();
    await provider(); // used: the timer is armed
    const spy = vi.spyOn(globalThis, 'setTimeout');
    await vi.advanceTimersByTimeAsync(60 * SECOND);
    expect(spy).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
    // After ~24.8 days the capped timer wakes, sees nothing to do yet, and re-arms once.
    await vi.advanceTimersByTimeAsync(25 * 24 * 60 * MINUTE);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(source.calls).toBe(1);
    spy.mockRestore();
    provider.close();
  });

  it('an idle provider whose windows do not fit the lifetime goes quiet too (its quiet-period timer refreshes nothing unused)', async () => {
    // Advisory window 120 s for 60 s credentials: every credential arrives inside it.
    const { source, provider, warn } = setup({ lifetimeMs: 60 * SECOND }, { advisoryWindowMs: 120 * SECOND, mandatoryWindowMs: 5 * SECOND });
    await provider();
    expect(warn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(source.calls).toBe(1);
    provider.close();
  });

  it('no timer for credentials that never expire', async () => {
    const { provider } = setup({ lifetimeMs: undefined });
    await provider();
    await provider();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('rule 4: retries with backoff, for retryable failures only', () => {
  it('retries a retryable failure with growing delays and succeeds', async () => {
    const attempts: number[] = [];
    const { source, provider } = setup({}, { retry: { retries: 3, minDelayMs: 200, maxDelayMs: 5000 } });
    source.failNext(2);
    const wrapped = refreshing(async (o) => {
      attempts.push(Date.now());
      return source(o);
    });
    const pending = wrapped();
    await vi.advanceTimersByTimeAsync(2000);
    const creds = await pending;
    expect(creds.accessKeyId).toBe('STS.fake-3');
    expect(attempts).toHaveLength(3);
    const d1 = attempts[1]! - attempts[0]!;
    const d2 = attempts[2]! - attempts[1]!;
    expect(d1).toBeGreaterThanOrEqual(200);
    expect(d1).toBeLessThanOrEqual(400);
    expect(d2).toBeGreaterThanOrEqual(400);
    expect(d2).toBeLessThanOrEqual(800);
    wrapped.close();
    provider.close();
  });

  it('does not retry a non-retryable failure', async () => {
    const { source, provider } = setup({}, { retry: { retries: 5, minDelayMs: 10 } });
    source.failAlways(new CredentialsError('NoPermission', { code: 'NoPermission', retryable: false }));
    await expect(provider()).rejects.toMatchObject({ code: 'NoPermission' });
    expect(source.calls).toBe(1);
  });

  it('does not retry configuration errors or plain errors', async () => {
    const { source, provider } = setup({}, { retry: { retries: 5, minDelayMs: 10 } });
    source.failNext(1, new ConfigError('bad field', { field: 'x' }));
    await expect(provider()).rejects.toBeInstanceOf(ConfigError);
    source.failNext(1, new Error('boom'));
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).code).toBe('RefreshFailed');
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(source.calls).toBe(2);
  });

  it("a caller's AbortSignal aborts its own wait, not the shared refresh", async () => {
    const { source, provider } = setup({ delayMs: 1000 });
    const controller = new AbortController();
    const aborted = provider({ signal: controller.signal });
    const other = provider();
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    await vi.advanceTimersByTimeAsync(1000);
    expect((await other).accessKeyId).toBe('STS.fake-1');
    expect(source.calls).toBe(1);
    // The source itself got the engine's signal, not the caller's.
    expect(source.callOptions[0]?.signal).not.toBe(controller.signal);
    expect(source.callOptions[0]?.signal?.aborted).toBe(false);
    provider.close();
  });

  it('an already aborted signal rejects without a source call', async () => {
    const { source, provider } = setup();
    await expect(provider({ signal: AbortSignal.abort(new Error('no')) })).rejects.toThrow('no');
    expect(source.calls).toBe(0);
  });

  it('gives up a refresh that exceeds refreshTimeoutMs', async () => {
    const provider = refreshing(() => new Promise(() => {}), { refreshTimeoutMs: 5000 });
    const pending = provider().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await pending;
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).code).toBe('Timeout');
  });
});

describe('rule 5: refresh fails while the value is still usable', () => {
  it('keeps serving, warns, and backs off instead of calling the source on every request', async () => {
    const { source, provider, warn } = setup({}, { backgroundTimer: false, failureBackoff: { initialMs: 20 * SECOND, maxMs: 60 * SECOND } });
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const first = await provider();
      source.failAlways();
      await vi.advanceTimersByTimeAsync(500 * SECOND); // advisory window
      for (let i = 0; i < 50; i++) {
        expect(await provider()).toBe(first);
        await vi.advanceTimersByTimeAsync(100);
      }
      await flush();
      const afterBurst = source.calls;
      // One background attempt (plus its retries), not one per request.
      expect(afterBurst).toBeLessThanOrEqual(1 + 3);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(/still serving the cached ones/);
      // Next attempt only after the backoff (10..20 s for the first failure).
      await vi.advanceTimersByTimeAsync(20 * SECOND);
      expect(await provider()).toBe(first);
      await vi.advanceTimersByTimeAsync(2 * SECOND);
      expect(source.calls).toBeGreaterThan(afterBurst);
      expect(warn).toHaveBeenCalledTimes(2);
      // Recovery: the next attempt after the backoff succeeds.
      source.recover();
      await vi.advanceTimersByTimeAsync(60 * SECOND);
      await provider();
      await vi.advanceTimersByTimeAsync(2 * SECOND);
      expect((await provider()).accessKeyId).not.toBe(first.accessKeyId);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('caps the backoff', async () => {
    const { source, provider, events } = setup(
      { lifetimeMs: 12 * 60 * MINUTE },
      { retry: false, failureBackoff: { initialMs: SECOND, maxMs: 8 * SECOND } },
    );
    await provider();
    await provider(); // used: the timer refreshes it
    source.failAlways();
    await vi.advanceTimersByTimeAsync(12 * 60 * MINUTE - 14 * MINUTE);
    await vi.advanceTimersByTimeAsync(5 * MINUTE); // the timer keeps trying on its own
    const delays = events.flatMap((e) => (e.type === 'refresh-failed' && e.retryInMs !== undefined ? [e.retryInMs] : []));
    expect(delays.length).toBeGreaterThan(10);
    expect(Math.max(...delays)).toBeLessThanOrEqual(8 * SECOND);
    expect(delays[0]).toBeLessThan(delays[3]!);
    provider.close();
  });

  it('background failures never become unhandled rejections', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { source, provider } = setup();
      await provider();
      source.failAlways(new TypeError('fetch failed'));
      await vi.advanceTimersByTimeAsync(850 * SECOND); // timer-driven attempts fail repeatedly
      const blocked = provider().catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(100 * SECOND);
      expect(await blocked).toBeInstanceOf(CredentialsError);
      expect(source.calls).toBeGreaterThan(3);
      await flush();
      expect(unhandled).not.toHaveBeenCalled();
      provider.close();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('treats a source that returns the same credential again as not rotated yet, and asks again later', async () => {
    const { source, provider, events, warn } = setup({}, { backgroundTimer: false });
    const first = await provider();
    source.repeatLast(true);
    await vi.advanceTimersByTimeAsync(460 * SECOND); // advisory
    for (let i = 0; i < 20; i++) {
      expect(await provider()).toBe(first);
      await flush();
    }
    expect(source.calls).toBe(2); // one try, then quiet
    expect(events.filter((e) => e.type === 'not-rotated')).toHaveLength(1);
    expect(warn).not.toHaveBeenCalled();
    source.repeatLast(false);
    await vi.advanceTimersByTimeAsync(150 * SECOND);
    await provider();
    await flush();
    expect((await provider()).accessKeyId).toBe('STS.fake-3');
  });
});

describe('rule 6: never an expired credential', () => {
  it('throws a typed error with the cause inside the mandatory window when refresh fails', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false, retry: false });
    await provider();
    const cause = new CredentialsError('STS down', { code: 'ServiceUnavailable', retryable: true });
    source.failAlways(cause);
    await vi.advanceTimersByTimeAsync(850 * SECOND); // 50 s left < 90 s mandatory
    expect(provider.peek()).toBeUndefined();
    await expect(provider()).rejects.toBe(cause);
    await vi.advanceTimersByTimeAsync(60 * SECOND); // now truly expired
    await expect(provider()).rejects.toBe(cause);
    expect(provider.peek()).toBeUndefined();
  });

  it('inside the mandatory window, a failing or non-rotating source is not called on every request', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false, retry: false, failureBackoff: { initialMs: 10 * SECOND, maxMs: 10 * SECOND } });
    await provider();
    source.repeatLast(true); // like a metadata service that has not rotated yet
    await vi.advanceTimersByTimeAsync(850 * SECOND); // 50 s left, mandatory window
    const errors = [];
    for (let i = 0; i < 50; i++) errors.push(await provider().catch((e: unknown) => e));
    expect(source.calls).toBe(2);
    expect(errors.every((e) => e instanceof CredentialsError && e.code === 'InsufficientValidity')).toBe(true);
    source.repeatLast(false);
    await vi.advanceTimersByTimeAsync(2 * SECOND); // the quiet period (about 1 s) is over
    expect((await provider()).accessKeyId).toBe('STS.fake-3');
    // The same for a failing source.
    source.failAlways();
    await vi.advanceTimersByTimeAsync(850 * SECOND);
    for (let i = 0; i < 50; i++) await provider().catch(() => {});
    expect(source.calls).toBe(4);
    await vi.advanceTimersByTimeAsync(10 * SECOND);
    await provider().catch(() => {});
    expect(source.calls).toBe(5);
  });

  it('rejects credentials that are already expired when the source returns them', async () => {
    const provider = refreshing(async () => (await fakeCredentialSource({ lifetimeMs: -1 })()));
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).code).toBe('ExpiredCredentials');
  });

  it('honours minValidityMs: refreshes first, and throws when the source cannot satisfy it', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    await provider();
    await vi.advanceTimersByTimeAsync(300 * SECOND); // 600 s left
    const longer = await provider({ minValidityMs: 700 * SECOND });
    expect(longer.accessKeyId).toBe('STS.fake-2');
    expect(source.calls).toBe(2);
    const err = await provider({ minValidityMs: 1000 * SECOND }).catch((e: unknown) => e);
    expect((err as CredentialsError).code).toBe('InsufficientValidity');
    expect((err as Error).message).toMatch(/valid for 1000 s/);
  });

  it('peek() never returns a value inside the mandatory window', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    const first = await provider();
    source.failAlways();
    await vi.advanceTimersByTimeAsync(809 * SECOND);
    expect(provider.peek()).toBe(first);
    await vi.advanceTimersByTimeAsync(2 * SECOND);
    expect(provider.peek()).toBeUndefined();
  });
});

describe('rule 7: forceRefresh', () => {
  it('fetches anew even when the cached value is fresh', async () => {
    const { source, provider } = setup();
    const first = await provider();
    const forced = await provider({ forceRefresh: true });
    expect(forced).not.toBe(first);
    expect(source.calls).toBe(2);
    expect(source.callOptions[1]?.forceRefresh).toBe(true);
    expect(await provider()).toBe(forced);
    provider.close();
  });

  it('is single-flight with a refresh already running', async () => {
    const { source, provider } = setup({ delayMs: 1000 }, { backgroundTimer: false });
    const first = provider();
    await vi.advanceTimersByTimeAsync(1000);
    await first;
    await vi.advanceTimersByTimeAsync(500 * SECOND);
    await provider(); // starts a background refresh
    const forced = Array.from({ length: 100 }, () => provider({ forceRefresh: true }));
    await vi.advanceTimersByTimeAsync(1000);
    const results = await Promise.all(forced);
    expect(source.calls).toBe(2);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set(['STS.fake-2']));
  });
});

describe('rule 8: wall-clock jumps', () => {
  it('a suspend (monotonic clock stopped, wall clock 2 h on) never serves the expired credential', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    const first = await provider();
    // Fake timers: setSystemTime moves Date only, as a suspended machine sees it on waking.
    vi.setSystemTime(Date.now() + 2 * 60 * MINUTE);
    expect(provider.peek()).toBeUndefined();
    const after = await provider();
    expect(after).not.toBe(first);
    expect(source.calls).toBe(2);
    // The new credential is judged from its own arrival: no refresh storm afterwards.
    for (let i = 0; i < 10; i++) expect(await provider()).toBe(after);
    expect(source.calls).toBe(2);
  });

  it('a jump forward of 1 h costs at most one early refresh, not a storm', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    await provider();
    vi.setSystemTime(Date.now() + 60 * MINUTE);
    const results = await Promise.all(Array.from({ length: 100 }, () => provider()));
    expect(new Set(results).size).toBe(1);
    await vi.advanceTimersByTimeAsync(60 * SECOND);
    await provider();
    expect(source.calls).toBe(2);
  });

  it('a jump back of 1 h does not keep an expired credential alive', async () => {
    const { source, provider } = setup({}, { backgroundTimer: false });
    const first = await provider();
    vi.setSystemTime(Date.now() - 60 * MINUTE);
    await vi.advanceTimersByTimeAsync(820 * SECOND); // wall clock says 3680 s left; real time says 80 s
    expect(provider.peek()).toBeUndefined();
    const after = await provider();
    expect(after).not.toBe(first);
    expect(source.calls).toBe(2);
    // The new credential's lifetime is judged from its own arrival, not from the jump.
    expect(provider.peek()).toBe(after);
  });

  it('uses the clock through one injectable function', async () => {
    let now = T0;
    const source = fakeCredentialSource({ lifetimeMs: 900 * SECOND, clock: () => now });
    const provider = refreshing(source, { clock: () => now, backgroundTimer: false });
    const first = await provider();
    expect(await provider()).toBe(first);
    now += 60 * MINUTE; // only the injected clock moves: for the engine, an hour has passed
    expect(provider.peek()).toBeUndefined();
    const second = await provider();
    expect(second).not.toBe(first);
    expect(second.expiration!.getTime()).toBe(now + 900 * SECOND);
    now -= 60 * MINUTE; // a jump back on a simulated clock is the caller's business
    expect(source.calls).toBe(2);
  });
});

describe('refreshing: other behaviour', () => {
  it('caches credentials without expiration forever', async () => {
    const { source, provider } = setup({ lifetimeMs: undefined });
    await provider();
    await vi.advanceTimersByTimeAsync(100 * 24 * 60 * MINUTE);
    await provider();
    expect(source.calls).toBe(1);
  });

  it('an observer that throws does not break resolution', async () => {
    const source = fakeCredentialSource();
    const provider = refreshing(source, {
      onEvent: () => {
        throw new Error('observer bug');
      },
    });
    await expect(provider()).resolves.toBeDefined();
    provider.close();
  });

  it('passes a CredentialsProviderError with tryNext through unchanged (so chains still work)', async () => {
    const { CredentialsProviderError } = await import('../src/index.js');
    const notConfigured = new CredentialsProviderError('not set', { tryNext: true, provider: 'x' });
    const provider = refreshing(async () => {
      throw notConfigured;
    });
    await expect(provider()).rejects.toBe(notConfigured);
  });
});
