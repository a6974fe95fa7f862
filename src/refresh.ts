/**
 * The refresh engine: wraps a provider whose credentials expire and makes calling it cheap
 * and safe.
 *
 * Timeline of one credential with lifetime L (obtained at 0, expiring at L):
 *
 * ```
 * 0 ─────── fresh ───────┬──── advisory ────┬── mandatory ──┐ L
 *   cached value,        │ cached value at  │ callers wait  │
 *   no I/O               │ once + ONE back- │ for the ONE   │
 *                        │ ground refresh   │ refresh       │
 *              advisory point        mandatory point
 *          (L - min(15 min, L/2))  (L - min(5 min, L/10))
 * ```
 *
 * Rules: one source call however many callers (single-flight); a timer, holding the provider
 * weakly, refreshes one used since its last refresh at the advisory point plus jitter;
 * retryable failures are retried with backoff and jitter (p-retry); a failed refresh keeps
 * serving a usable value and backs off; an expired value, or one inside the mandatory window,
 * is never returned. Types, windows and option checks: refresh-options.ts.
 */
import pRetry from 'p-retry';
import { normalizeCredentials, type Credentials } from './credentials.js';
import { ConfigError, CredentialsError, CredentialsProviderError, isCredentialsError, isErrorLike, isRetryableError, messageOf } from './errors.js';
import { raceAbort, unrefTimeout } from './internal/abort.js';
import { monotonicNow } from './internal/clock.js';
import { issuedLifetimeOf } from './internal/issued-lifetime.js';
import { collectedTimers, fireTimer, setHold } from './internal/timers.js';
import { MAX_TIMER_MS } from './internal/validate-options.js';
import { sanitizeError, sanitizeText } from './internal/redact.js';
import { checkMinValidity, checkRefreshOptions, defaultAdvisoryWindow, defaultMandatoryWindow, windowOf } from './refresh-options.js';
import type { RefreshEvent, RefreshingProvider, RefreshOptions } from './refresh-options.js';

import type { CredentialProvider, ProviderCallOptions } from './types.js';

// The engine's vocabulary lives in refresh-options.ts; importers of refresh.js keep working.
export { defaultAdvisoryWindow, defaultMandatoryWindow, windowOf } from './refresh-options.js';
export type { RefreshEvent, RefreshingProvider, RefreshOptions, WindowSize } from './refresh-options.js';
export { isRetryableError } from './errors.js';

const MINUTE = 60_000;

/**
 * One cached credential. Deadlines are on the engine's elapsed-time clock (see `clock`),
 * fixed once when the credential arrives, so the hot path is one clock read and a compare.
 */
type Entry = {
  readonly credentials: Credentials;
  /** Handed to every caller of the hot path: no allocation per call. */
  readonly resolved: Promise<Credentials>;
  /** Wall-clock expiry (ms) as the source stated it, or undefined for keys that never expire. */
  readonly expiresAt: number | undefined;
  /** Elapsed-clock instants; Infinity for credentials that never expire. */
  readonly advisoryAt: number;
  readonly mandatoryAt: number;
  readonly expiresAtElapsed: number;
  /** Elapsed-clock reading minus wall-clock reading at arrival: maps the wall clock onto ours. */
  readonly wallAnchor: number;
  readonly mandatoryMs: number;
};


/** Call options that need no special handling: no force, signal or minimum validity. */
function isPlain(o: ProviderCallOptions): boolean {
  return !o.forceRefresh && o.signal === undefined && !o.minValidityMs;
}



/**
 * Wraps a provider whose credentials expire (STS, ECS metadata, OIDC...) so that calling
 * it is cheap: one source call serves every concurrent caller, the value is refreshed
 * ahead of expiry without making callers wait, and an expired value is never returned.
 *
 * @example
 * ```ts
 * import { refreshing, createCredentials } from 'alicred';
 *
 * const provider = refreshing(async () => {
 *   const r = await fetch('http://127.0.0.1:8080/credentials').then((x) => x.json());
 *   return createCredentials({
 *     accessKeyId: r.AccessKeyId, accessKeySecret: r.AccessKeySecret,
 *     securityToken: r.SecurityToken, expiration: new Date(r.Expiration), source: 'my-vendor',
 *   });
 * });
 * const creds = await provider();        // fetches once
 * await provider();                      // cached, no I/O
 * provider.peek();                       // synchronous, undefined when not usable
 * provider.close();                      // stops the background timer
 * ```
 */
export function refreshing(source: CredentialProvider, options: RefreshOptions = {}): RefreshingProvider {
  if (typeof source !== 'function') {
    throw new ConfigError('refreshing: source must be a provider function', { provider: 'refresh', field: 'source' });
  }
  checkRefreshOptions(options);
  const wallNow = options.clock ?? (() => Date.now());
  const elapsedNow = options.clock ?? monotonicNow;
  const random = options.random ?? Math.random;
  const logger = options.logger;
  const useTimer = options.backgroundTimer ?? true;
  const retry = options.retry === false ? { retries: 0 } : (options.retry ?? {});
  const retries = retry.retries ?? 2;
  const minDelayMs = retry.minDelayMs ?? 200;
  const maxDelayMs = Math.max(minDelayMs, retry.maxDelayMs ?? 5_000);
  const backoffInitialMs = options.failureBackoff?.initialMs ?? 5_000;
  const backoffMaxMs = Math.max(backoffInitialMs, options.failureBackoff?.maxMs ?? 5 * MINUTE);
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 60_000;
  const maxLifetimeMs = options.maxLifetimeMs;

  let entry: Entry | undefined;
  let inflight: Promise<Entry> | undefined;
  /** Monotonic time before which no refresh starts on its own (after a failure or a non-rotation). */
  let quietUntil = 0;
  /** Why the last attempt left us without a usable value; rethrown, without I/O, while quiet. */
  let lastError: unknown;
  /** The validity (ms) the last unmet demand asked for; a demand at least as large is refused while quiet. */
  let unmetDemandMs = Number.POSITIVE_INFINITY;
  let failures = 0;
  /** Demands in a row that a fresh credential could not meet; grows their backoff like failures. */
  let unmetDemands = 0;
  /** Called or peeked since the current credential arrived: the timer refreshes only then. */
  let used = false;
  /** Callers awaiting the refresh in flight: while any does, its deadline holds the process. */
  let waiters = 0;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let warnedWindows = false;
  let closed = false;
  /** The pending timer, shared with the finalizer so a collected provider's timer is cleared. */
  const timerBox: { handle: ReturnType<typeof setTimeout> | undefined } = { handle: undefined };

  const name = (): string => options.name ?? entry?.credentials.source ?? 'refreshing';

  const emit = (event: RefreshEvent): void => {
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // An observer must never break credential resolution.
    }
  };

  const warn = (message: string): void => {
    try {
      logger?.warn?.(message);
    } catch {
      // A logger that throws must not replace the real error or disable the backoff.
    }
  };

  /**
   * "Now" for an entry, on the elapsed clock: the monotonic time, or the time the wall clock
   * says has passed since the entry arrived if that is more. The monotonic clock stops while
   * a machine sleeps (a laptop lid, a paused VM) and the wall clock can be set back; taking
   * whichever says more time has passed errs only towards refreshing early.
   */
  function nowFor(e: Entry): number {
    return Math.max(elapsedNow(), wallNow() + e.wallAnchor);
  }

  /** Time left (ms) before the entry expires. */
  function remaining(e: Entry): number {
    return e.expiresAtElapsed - nowFor(e);
  }

  function clearTimer(): void {
    if (timerBox.handle !== undefined) clearTimeout(timerBox.handle);
    timerBox.handle = undefined;
  }

  // The timer reaches the state only through this WeakRef (see fireTimer).
  const core = { onTimer };
  const weakCore = typeof WeakRef === 'function' ? new WeakRef(core) : { deref: () => core };
  collectedTimers?.register(core, timerBox, timerBox);

  function schedule(delayMs: number): void {
    clearTimer();
    if (closed || !useTimer || !Number.isFinite(delayMs)) return;
    // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days); wake up then and re-arm.
    // Whole seconds beyond 10 s: Node keeps one timer list per distinct delay, and jittered
    // millisecond delays across thousands of providers would leave thousands of them behind.
    const ms = delayMs > 10_000 ? Math.ceil(delayMs / 1000) * 1000 : delayMs;
    const handle = setTimeout(fireTimer, Math.max(0, Math.min(ms, MAX_TIMER_MS)), weakCore);
    setHold(handle, false);
    timerBox.handle = handle;
  }

  /** Arms the timer for the advisory point of the current entry, plus jitter. */
  function scheduleAdvisory(e: Entry): void {
    if (e.expiresAt === undefined) return clearTimer();
    const spread = Math.max(0, e.mandatoryAt - e.advisoryAt) * 0.2;
    schedule(e.advisoryAt - nowFor(e) + random() * spread);
  }

  function onTimer(): void {
    timerBox.handle = undefined;
    if (closed || !entry || inflight) return;
    const now = nowFor(entry);
    if (now >= entry.expiresAtElapsed) {
      entry = undefined; // never kept past expiry; the next call fetches
      return;
    }
    if (now < entry.advisoryAt) return scheduleAdvisory(entry);
    // Nobody has asked since the last refresh: stay quiet. The value lives out its lifetime
    // and the next call refreshes (in the background if it is still usable).
    if (!used) return;
    const wait = quietUntil - now;
    if (wait > 0) return schedule(wait);
    start('timer').catch(() => {});
  }

  /** The wait after the `count`-th failure in a row: doubling from the initial delay, capped. */
  function backoffDelay(count: number): number {
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(30, Math.max(0, count - 1)));
    // Equal jitter: at least half the base, so a failing source is not hammered.
    return base / 2 + (random() * base) / 2;
  }

  /** Runs the source once, turning whatever it does into credentials or an Error. */
  async function callSource(forceRefresh: boolean, signal: AbortSignal): Promise<Credentials> {
    let value: unknown;
    try {
      // raceAbort: a source that ignores the signal still cannot outlive the deadline.
      value = await raceAbort(source({ forceRefresh, signal }), signal);
    } catch (error) {
      if (isErrorLike(error)) throw error;
      // p-retry would quote a thrown string or number; never echo what a source threw.
      throw new CredentialsProviderError(
        `${name()} failed by throwing a ${error === null ? 'null' : typeof error} instead of an Error (its value is not shown)`,
        { provider: name(), code: 'NonErrorThrown', retryable: false },
      );
    }
    return normalizeCredentials(value, name(), (reason) =>
      new CredentialsProviderError(`${name()} returned something that is not usable credentials: ${reason}`, {
        provider: name(),
        code: 'InvalidCredentials',
        retryable: false,
      }),
    );
  }

  async function runRefresh(forceRefresh: boolean): Promise<Entry> {
    const controller = new AbortController();
    const timeout = unrefTimeout(
      () => controller.abort(new CredentialsError(`Refreshing ${name()} took longer than ${refreshTimeoutMs} ms`, { code: 'Timeout', retryable: true })),
      refreshTimeoutMs,
    );
    deadline = timeout;
    // A caller awaiting this refresh keeps the process alive through the retry waits until the deadline.
    setHold(timeout, waiters > 0);
    try {
      const credentials = await pRetry(() => callSource(forceRefresh, controller.signal), {
        retries,
        minTimeout: minDelayMs,
        maxTimeout: maxDelayMs,
        factor: 2,
        randomize: true,
        signal: controller.signal,
        unref: true,
        shouldRetry: ({ error }) => isRetryableError(error),
      });
      return accept(credentials);
    } catch (error) {
      throw onFailure(error);
    } finally {
      clearTimeout(timeout);
      if (deadline === timeout) deadline = undefined;
    }
  }

  function accept(credentials: Credentials): Entry {
    const wall = wallNow();
    const now = elapsedNow();
    const expiresAt = credentials.expiration?.getTime();
    if (expiresAt !== undefined && !(expiresAt > wall)) {
      throw new CredentialsError(
        `${credentials.source} returned credentials that expired at ${new Date(expiresAt).toISOString()}`,
        { code: 'ExpiredCredentials', retryable: false },
      );
    }
    const current = entry;
    if (current && current.credentials.accessKeyId === credentials.accessKeyId && current.expiresAt === expiresAt) {
      // The source has not rotated yet (ECS metadata does this until its own rotation point).
      // Not a failure, but do not ask again on every call: come back later, with jitter.
      const retryInMs = Math.max(1_000, (current.mandatoryAt - now) / 4) * (0.75 + random() * 0.5);
      quietUntil = now + retryInMs;
      emit({ type: 'not-rotated', accessKeyId: credentials.accessKeyId, retryInMs });
      schedule(retryInMs);
      return current;
    }
    const remainingMs = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - wall;
    // Windows scale with the lifetime the credential was issued with: one that aged in the shared
    // STS cache keeps a 900 s token's windows, not those of the 500 s it has left.
    const lifetimeMs = Math.max(remainingMs, issuedLifetimeOf(credentials) ?? 0);
    const advisoryMs = windowOf(options.advisoryWindowMs, defaultAdvisoryWindow, lifetimeMs);
    // The mandatory window never exceeds the advisory one.
    const mandatoryMs = Math.min(advisoryMs, windowOf(options.mandatoryWindowMs, defaultMandatoryWindow, lifetimeMs));
    const expiresAtElapsed = now + remainingMs;
    const fresh: Entry = {
      credentials,
      resolved: Promise.resolve(credentials),
      expiresAt,
      advisoryAt: expiresAtElapsed - advisoryMs,
      mandatoryAt: expiresAtElapsed - mandatoryMs,
      expiresAtElapsed,
      wallAnchor: now - wall,
      mandatoryMs,
    };
    entry = fresh;
    used = false;
    failures = 0;
    quietUntil = 0;
    lastError = undefined;
    emit({ type: 'refreshed', accessKeyId: credentials.accessKeyId, expiration: credentials.expiration, source: credentials.source });
    if (advisoryMs >= lifetimeMs) {
      // The windows do not fit the lifetime: every credential is born inside its advisory window
      // and every call would start another refresh. Space them out like a non-rotation, and say
      // once that the windows should be smaller.
      quietUntil = now + Math.max(1_000, (fresh.mandatoryAt - now) / 4) * (0.75 + random() * 0.5);
      if (!warnedWindows) {
        warnedWindows = true;
        warn(
          `alicred: ${name()} gives credentials that live ${Math.round(lifetimeMs / 1000)} s, not longer than the ` +
            `refresh windows (advisory ${Math.round(advisoryMs / 1000)} s, mandatory ${Math.round(mandatoryMs / 1000)} s); ` +
            'refreshes are spaced out, but the windows should be smaller',
        );
      }
      schedule(quietUntil - now);
    } else {
      // An aged credential may arrive past its advisory point: the timer then fires at once.
      scheduleAdvisory(fresh);
    }
    return fresh;
  }

  /**
   * The error callers and observers see: alicred's own as they are; anything else wrapped, with
   * URL queries stripped from its message and a sanitized stand-in as its cause (a foreign
   * error may quote a request URL with a token in it, and `util.inspect` prints causes).
   */
  function typedError(error: unknown): CredentialsError {
    if (isCredentialsError(error)) return error;
    return new CredentialsError(`Could not refresh credentials from ${name()}: ${sanitizeText(messageOf(error), [], 500)}`, {
      code: 'RefreshFailed',
      cause: sanitizeError(error, []),
      retryable: isRetryableError(error),
    });
  }

  /** Records a failure, keeps a usable value, and returns the error to throw. */
  function onFailure(raw: unknown): unknown {
    const error = typedError(raw);
    failures++;
    const current = entry;
    const left = current ? remaining(current) : Number.NEGATIVE_INFINITY;
    if (current && left > 0) {
      const retryInMs = backoffDelay(failures);
      quietUntil = elapsedNow() + retryInMs;
      const servingCached = left > current.mandatoryMs;
      emit({ type: 'refresh-failed', error, servingCached, retryInMs });
      warn(
        `alicred: refreshing credentials from ${name()} failed (${messageOf(error)}); ` +
          (servingCached
            ? `still serving the cached ones (valid ${Math.round(left / 1000)} s more), next try in ${Math.round(retryInMs / 1000)} s`
            : `the cached ones are too close to expiry to use; next try in ${Math.round(retryInMs / 1000)} s`),
      );
      // The timer may try again before the next caller does, but never after expiry.
      schedule(Math.min(retryInMs, left));
    } else {
      if (current) entry = undefined; // expired: drop it so nothing can hand it out
      emit({ type: 'refresh-failed', error, servingCached: false, retryInMs: undefined });
    }
    lastError = entry ? error : undefined;
    unmetDemandMs = entry ? 0 : Number.POSITIVE_INFINITY;
    return error;
  }

  /** Starts a refresh, or joins the one already running (single-flight). */
  function start(reason: Extract<RefreshEvent, { type: 'refresh-start' }>['reason']): Promise<Entry> {
    if (inflight) return inflight;
    emit({ type: 'refresh-start', reason });
    // A refresh callers wait for must bring a new credential: let the source skip any cache
    // of its own (the shared STS cache could otherwise hand back the very value being replaced).
    const run = runRefresh(reason === 'forced' || reason === 'mandatory' || reason === 'min-validity');
    const settled = run.finally(() => {
      if (inflight === settled) inflight = undefined;
    });
    // A background refresh nobody awaits must not become an unhandled rejection.
    settled.catch(() => {});
    inflight = settled;
    return settled;
  }

  /** Starts a background refresh from the advisory window, unless one runs or we are backing off. */
  function refreshAhead(now: number): void {
    if (!inflight && now >= quietUntil) start('advisory').catch(() => {});
  }

  // The hot path: not async (no promise allocated per call), one clock read.
  function provider(callOptions?: ProviderCallOptions): Promise<Credentials> {
    const current = entry;
    used = true;
    if (current !== undefined && (callOptions === undefined || isPlain(callOptions))) {
      const now = nowFor(current);
      if (now < current.advisoryAt) return current.resolved;
      if (now < current.mandatoryAt) {
        refreshAhead(now);
        return current.resolved;
      }
    }
    return slowPath(callOptions ?? {});
  }

  async function slowPath(callOptions: ProviderCallOptions): Promise<Credentials> {
    const { forceRefresh = false, signal } = callOptions;
    const minValidityMs = checkMinValidity(callOptions.minValidityMs, maxLifetimeMs, name());
    signal?.throwIfAborted();
    const current = entry;
    let reason: Extract<RefreshEvent, { type: 'refresh-start' }>['reason'] = forceRefresh ? 'forced' : 'cold';
    if (current && !forceRefresh) {
      const now = nowFor(current);
      if (now < current.mandatoryAt && current.expiresAtElapsed - now > minValidityMs) {
        if (now >= current.advisoryAt) refreshAhead(now);
        return current.credentials;
      }
      reason = now >= current.mandatoryAt ? 'mandatory' : 'min-validity';
      // After a failed, not-rotated or unsatisfying attempt: answer with that error until the
      // backoff ends, instead of one source call per request. A smaller demand may still be met.
      if (lastError !== undefined && now < quietUntil && (reason === 'mandatory' || minValidityMs >= unmetDemandMs)) throw lastError;
    }
    const fresh = await joinRefresh(reason, signal);
    const left = remaining(fresh);
    if (left <= fresh.mandatoryMs || left <= minValidityMs) {
      const needed = Math.max(fresh.mandatoryMs, minValidityMs);
      const error = new CredentialsError(
        `${name()} could not provide credentials valid for ${Math.ceil(needed / 1000)} s more ` +
          `(the best available expire in ${Math.max(0, Math.floor(left / 1000))} s)`,
        { code: 'InsufficientValidity', retryable: false },
      );
      // Remember the unmet demand and back off: asking again at once would only call the
      // source again for the same answer. (A source that has not rotated keeps the shorter
      // quiet period accept() gave it: it rotates soon.)
      if (fresh !== current) {
        unmetDemands++;
        quietUntil = elapsedNow() + backoffDelay(unmetDemands);
      }
      lastError = error;
      unmetDemandMs = left <= fresh.mandatoryMs ? 0 : minValidityMs;
      throw error;
    }
    unmetDemands = 0;
    return fresh.credentials;
  }

  /** Counts a caller waiting on the refresh in flight; its deadline then holds the process. */
  async function awaitHeld<T>(promise: Promise<T>): Promise<T> {
    waiters++;
    if (waiters === 1) setHold(deadline, true);
    try {
      return await promise;
    } finally {
      waiters--;
      if (waiters === 0) setHold(deadline, false);
    }
  }

  /**
   * Waits for the shared refresh. In Cloudflare Workers a promise belongs to the request that
   * made it: a background refresh started by a request that has since answered never settles,
   * and a later request that joins it is rejected at once while it still looks in flight
   * (in every other runtime the refresh is no longer in flight by the time its waiters see a
   * rejection). Such a dead refresh is dropped and one new refresh started in this request.
   */
  async function joinRefresh(
    reason: Extract<RefreshEvent, { type: 'refresh-start' }>['reason'],
    signal: AbortSignal | undefined,
  ): Promise<Entry> {
    const shared = start(reason);
    try {
      return await awaitHeld(raceAbort(shared, signal));
    } catch (error) {
      if (inflight !== shared || signal?.aborted) throw error;
      inflight = undefined;
      return awaitHeld(raceAbort(start(reason), signal));
    }
  }

  function peek(): Credentials | undefined {
    const current = entry;
    used = true;
    return current !== undefined && nowFor(current) < current.mandatoryAt ? current.credentials : undefined;
  }

  function close(): void {
    closed = true;
    clearTimer();
    collectedTimers?.unregister(timerBox);
  }

  return Object.assign(provider, { peek, close });
}
