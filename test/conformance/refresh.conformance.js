// The refresh engine's rules, on the built package, in every runtime: single flight, the cached
// value, the advisory and mandatory windows, never an expired credential. Time is an injected
// `clock` that only the case moves (no fake timers: browsers and workerd have none), and the
// background timer is off, so nothing here waits on real time.
import { CredentialsError, createCredentials, defaultAdvisoryWindow, defaultMandatoryWindow, refreshing } from 'alicred';
import { describe, expect, it } from 'vitest';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

/** A promise that the case settles by hand: the source's answer arrives when the case says so. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/**
 * A source on a simulated clock: each call returns credentials valid `lifetimeMs` from the
 * clock's now, numbered by call; `gate` makes calls wait for `release()`; `fail` makes the
 * next calls reject.
 */
function simulated({ lifetimeMs = 900 * SECOND } = {}) {
  const state = { now: T0, calls: 0, gate: undefined, failWith: undefined };
  const source = async () => {
    state.calls++;
    const n = state.calls;
    if (state.gate) await state.gate.promise;
    if (state.failWith) throw state.failWith;
    return createCredentials({
      accessKeyId: `STS.sim-${n}`,
      accessKeySecret: `sim-secret-${n}-0123456789abcdef`,
      securityToken: `sim-token-${n}-0123456789abcdef`,
      expiration: new Date(state.now + lifetimeMs),
      source: 'simulated',
    });
  };
  const hold = () => {
    state.gate = deferred();
  };
  const release = () => {
    const gate = state.gate;
    state.gate = undefined;
    gate?.resolve();
  };
  const provider = (options = {}) =>
    refreshing(source, { clock: () => state.now, random: () => 0.5, backgroundTimer: false, retry: false, ...options });
  return { state, source, hold, release, provider };
}

/**
 * Lets everything already scheduled run: a zero-delay timer fires only after every pending
 * promise callback, however many steps the engine takes. No time passes on the simulated clock.
 */
const settle = async () => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
};

const errorOf = (promise) => promise.then(
  (value) => {
    throw new Error(`expected a rejection, got ${String(value)}`);
  },
  (error) => error,
);

describe('refresh engine', () => {
  it('window functions: advisory min(15 min, L/2), mandatory min(5 min, L/10)', () => {
    expect(defaultAdvisoryWindow(900 * SECOND)).toBe(450 * SECOND);
    expect(defaultMandatoryWindow(900 * SECOND)).toBe(90 * SECOND);
    expect(defaultAdvisoryWindow(12 * 60 * MINUTE)).toBe(15 * MINUTE);
    expect(defaultMandatoryWindow(12 * 60 * MINUTE)).toBe(5 * MINUTE);
  });

  it('single flight: 200 concurrent callers on a cold provider make one source call', async () => {
    const sim = simulated();
    const provider = sim.provider();
    sim.hold();
    const pending = Array.from({ length: 200 }, () => provider());
    await settle();
    expect(sim.state.calls).toBe(1);
    expect(provider.peek()).toBeUndefined();
    sim.release();
    const results = await Promise.all(pending);
    expect(sim.state.calls).toBe(1);
    expect(results.every((c) => c === results[0])).toBe(true);
    expect(results[0].accessKeyId).toBe('STS.sim-1');
    provider.close();
  });

  it('cached value: calls in the fresh part of the lifetime make no source call and return the same object', async () => {
    const sim = simulated();
    const provider = sim.provider();
    const first = await provider();
    for (const at of [0, 1 * MINUTE, 7 * MINUTE, 450 * SECOND - 1]) {
      sim.state.now = T0 + at;
      expect(await provider()).toBe(first);
      expect(provider.peek()).toBe(first);
    }
    expect(sim.state.calls).toBe(1);
    provider.close();
  });

  it('advisory window: the cached value at once, and ONE background refresh however many callers', async () => {
    const sim = simulated();
    const provider = sim.provider();
    const first = await provider();
    sim.state.now = T0 + 500 * SECOND; // 900 s credential: advisory from 450 s, mandatory from 810 s
    sim.hold();
    const during = await Promise.all(Array.from({ length: 50 }, () => provider()));
    expect(during.every((c) => c === first)).toBe(true); // nobody waited for the refresh
    await settle();
    expect(sim.state.calls).toBe(2);
    sim.release();
    await settle();
    const after = await provider();
    expect(after.accessKeyId).toBe('STS.sim-2');
    expect(sim.state.calls).toBe(2);
    provider.close();
  });

  it('mandatory window: callers wait for the ONE refresh and never get the old value', async () => {
    const sim = simulated();
    const provider = sim.provider();
    const first = await provider();
    sim.state.now = T0 + 840 * SECOND; // 60 s left, inside the 90 s mandatory window
    expect(provider.peek()).toBeUndefined();
    sim.hold();
    const pending = Array.from({ length: 100 }, () => provider());
    await settle();
    expect(sim.state.calls).toBe(2);
    sim.release();
    const results = await Promise.all(pending);
    expect(results.every((c) => c === results[0])).toBe(true);
    expect(results[0]).not.toBe(first);
    expect(results[0].accessKeyId).toBe('STS.sim-2');
    expect(sim.state.calls).toBe(2);
    provider.close();
  });

  it('the mandatory point is exact: 1 ms before it the cached value, at it a refresh', async () => {
    const sim = simulated();
    const provider = sim.provider({ advisoryWindowMs: 90 * SECOND }); // no advisory refresh before the mandatory point
    const first = await provider();
    sim.state.now = T0 + 810 * SECOND - 1;
    expect(await provider()).toBe(first);
    expect(sim.state.calls).toBe(1);
    sim.state.now = T0 + 810 * SECOND;
    expect((await provider()).accessKeyId).toBe('STS.sim-2');
    expect(sim.state.calls).toBe(2);
    provider.close();
  });

  it('a failed refresh while the value is usable keeps serving it, warns, and backs off', async () => {
    const sim = simulated();
    const warnings = [];
    const provider = sim.provider({ logger: { warn: (message) => warnings.push(String(message)) } });
    const first = await provider();
    sim.state.now = T0 + 600 * SECOND;
    sim.state.failWith = new CredentialsError('STS is down', { code: 'NetworkError', retryable: true });
    expect(await provider()).toBe(first);
    await settle();
    expect(sim.state.calls).toBe(2);
    expect(await provider()).toBe(first); // backing off: no source call on every request
    await settle();
    expect(sim.state.calls).toBe(2);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    provider.close();
  });

  it('never expired: past expiry with a failing source, an error (with the cause), never the old value', async () => {
    const sim = simulated();
    const provider = sim.provider();
    const first = await provider();
    sim.state.failWith = new CredentialsError('denied', { code: 'NoPermission' });
    sim.state.now = T0 + 900 * SECOND; // exactly at expiry
    expect(provider.peek()).toBeUndefined();
    const error = await errorOf(provider());
    expect(error instanceof CredentialsError).toBe(true);
    expect(String(error.message)).not.toContain(first.accessKeySecret);
    sim.state.now = T0 + 3 * 60 * MINUTE; // long after
    const later = await provider().then((c) => c, (e) => e);
    expect(later === first).toBe(false);
    expect(later instanceof Error).toBe(true);
    provider.close();
  });

  it('minValidityMs: a caller that needs more than is left waits for a fresh credential', async () => {
    const sim = simulated();
    const provider = sim.provider();
    const first = await provider();
    sim.state.now = T0 + 5 * MINUTE; // 10 min left: fresh for ordinary callers
    expect(await provider()).toBe(first);
    const long = await provider({ minValidityMs: 12 * MINUTE });
    expect(long.accessKeyId).toBe('STS.sim-2');
    expect(long.expiration.getTime() - sim.state.now).toBeGreaterThanOrEqual(12 * MINUTE);
    provider.close();
  });

  it('a source that returns a non-credential is an InvalidCredentials error that does not quote it', async () => {
    const provider = refreshing(async () => ({ accessKeyId: 'AK', accessKeySecret: '' , leaked: 'do-not-print-me' }), {
      backgroundTimer: false,
      retry: false,
    });
    const error = await errorOf(provider());
    expect(error.code).toBe('InvalidCredentials');
    expect(error.retryable).toBe(false);
    expect(String(error.message)).not.toContain('do-not-print-me');
  });

  it('forceRefresh makes one source call for concurrent forced callers', async () => {
    const sim = simulated();
    const provider = sim.provider();
    await provider();
    sim.hold();
    const pending = Array.from({ length: 20 }, () => provider({ forceRefresh: true }));
    await settle();
    sim.release();
    const results = await Promise.all(pending);
    expect(sim.state.calls).toBe(2);
    expect(new Set(results.map((c) => c.accessKeyId)).size).toBe(1);
    provider.close();
  });
});
