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
 * Rules: one source call however many callers (single-flight); a timer refreshes an idle
 * provider at the advisory point plus jitter; retryable failures are retried with
 * exponential backoff and jitter (p-retry); a failed refresh while the value is still usable
 * keeps serving it and backs off; an expired value, or one inside the mandatory window, is
 * never returned.
 */
import pRetry from 'p-retry';
import type { Credentials } from './credentials.js';
import { CredentialsError, messageOf } from './errors.js';
import { raceAbort, unrefTimeout } from './internal/abort.js';
import type { CredentialProvider, Logger, ProviderCallOptions } from './types.js';

const MINUTE = 60_000;
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A window size in ms, fixed or derived from the credential's lifetime (ms). */
export type WindowSize = number | ((lifetimeMs: number) => number);

/** Something that happened inside a refreshing provider; for metrics and timelines. */
export type RefreshEvent =
  | { type: 'refresh-start'; reason: 'cold' | 'mandatory' | 'advisory' | 'timer' | 'forced' | 'min-validity' }
  | { type: 'refreshed'; accessKeyId: string; expiration: Date | undefined; source: string }
  | { type: 'not-rotated'; accessKeyId: string; retryInMs: number }
  | { type: 'refresh-failed'; error: unknown; servingCached: boolean; retryInMs: number | undefined };

/** Options of {@link refreshing}. */
export type RefreshOptions = {
  /** Background refresh starts when this little time is left. Default `min(15 min, L/2)`. */
  advisoryWindowMs?: WindowSize;
  /** Callers wait for a refresh when this little time is left. Default `min(5 min, L/10)`. */
  mandatoryWindowMs?: WindowSize;
  /** Refresh idle providers with a (never process-holding) timer. Default true. */
  backgroundTimer?: boolean;
  /** Retries of one refresh for retryable failures; `false` for none. */
  retry?: false | { retries?: number; minDelayMs?: number; maxDelayMs?: number };
  /** After a failed refresh with a usable value, wait this long before the next try (doubles, capped). */
  failureBackoff?: { initialMs?: number; maxMs?: number };
  /** Gives up one refresh (all its retries) after this long. Default 60 s. */
  refreshTimeoutMs?: number;
  /** Receives warnings about failed background refreshes. */
  logger?: Logger;
  /**
   * The engine's one clock, in ms since the epoch. By default alicred reads the wall clock
   * (`Date.now`) only when a credential arrives, to learn its lifetime, and measures time
   * since then with the monotonic `performance.now()`, so wall-clock jumps (NTP steps, a
   * laptop waking up, a user changing the date) neither expire a good credential early nor
   * keep a dead one alive. An injected clock (simulated time in tests and benchmarks) is
   * used for both and must not run backwards.
   */
  clock?: () => number;
  /** Random number in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Name used in messages. Default: the `source` of the first credentials, or `refreshing`. */
  name?: string;
  /** Observability hook; must not throw (what it throws is ignored). */
  onEvent?: (event: RefreshEvent) => void;
};

/** A provider that caches and refreshes; see {@link refreshing}. */
export type RefreshingProvider = CredentialProvider & {
  /**
   * The cached credentials if they are usable right now (outside the mandatory window),
   * else `undefined`. Synchronous, no I/O.
   */
  peek(): Credentials | undefined;
  /** Stops the background timer. Calls still work afterwards, without a timer. */
  close(): void;
};

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

/** Default advisory window: half the lifetime, at most 15 minutes. */
export const defaultAdvisoryWindow = (lifetimeMs: number): number => Math.min(15 * MINUTE, lifetimeMs / 2);
/** Default mandatory window: a tenth of the lifetime, at most 5 minutes. */
export const defaultMandatoryWindow = (lifetimeMs: number): number => Math.min(5 * MINUTE, lifetimeMs / 10);

/**
 * Decides whether a failure is worth retrying: alicred errors say so themselves
 * (`retryable`); fetch's network failures (TypeError) are; everything else is not.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof CredentialsError) return error.retryable;
  if (typeof error === 'object' && error !== null) {
    const flag = (error as { retryable?: unknown }).retryable;
    if (typeof flag === 'boolean') return flag;
    if ((error as { name?: unknown }).name === 'AbortError') return false;
  }
  // p-retry only lets network TypeErrors (fetch failed, ECONNRESET...) reach this point.
  return error instanceof TypeError;
}

/** Call options that need no special handling: no force, signal or minimum validity. */
function isPlain(o: ProviderCallOptions): boolean {
  return !o.forceRefresh && o.signal === undefined && !o.minValidityMs;
}

function windowOf(size: WindowSize | undefined, fallback: (l: number) => number, lifetimeMs: number): number {
  const value = size === undefined ? fallback(lifetimeMs) : typeof size === 'number' ? size : size(lifetimeMs);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

// Looked up at call time (not bound once) so fake timers that replace performance.now work.
const monotonicNow: () => number =
  typeof globalThis.performance?.now === 'function' ? () => globalThis.performance.now() : () => Date.now();

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
  const wallNow = options.clock ?? Date.now;
  const elapsedNow = options.clock ?? monotonicNow;
  const random = options.random ?? Math.random;
  const logger = options.logger;
  const useTimer = options.backgroundTimer ?? true;
  const retry = options.retry === false ? { retries: 0 } : (options.retry ?? {});
  const retries = retry.retries ?? 2;
  const minDelayMs = retry.minDelayMs ?? 200;
  const maxDelayMs = retry.maxDelayMs ?? 5_000;
  const backoffInitialMs = options.failureBackoff?.initialMs ?? 5_000;
  const backoffMaxMs = options.failureBackoff?.maxMs ?? 5 * MINUTE;
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 60_000;

  let entry: Entry | undefined;
  let inflight: Promise<Entry> | undefined;
  /** Monotonic time before which no background refresh starts (after a failure or a non-rotation). */
  let quietUntil = 0;
  /** Why the last attempt left us without a usable value; rethrown, without I/O, while quiet. */
  let lastError: unknown;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const name = (): string => options.name ?? entry?.credentials.source ?? 'refreshing';

  const emit = (event: RefreshEvent): void => {
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // An observer must never break credential resolution.
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
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }

  function schedule(delayMs: number): void {
    clearTimer();
    if (closed || !useTimer || !Number.isFinite(delayMs)) return;
    // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days); wake up then and re-arm.
    timer = unrefTimeout(onTimer, Math.min(delayMs, MAX_TIMER_DELAY_MS));
  }

  /** Arms the timer for the advisory point of the current entry, plus jitter. */
  function scheduleAdvisory(e: Entry): void {
    if (e.expiresAt === undefined) return clearTimer();
    const spread = Math.max(0, e.mandatoryAt - e.advisoryAt) * 0.2;
    schedule(e.advisoryAt - nowFor(e) + random() * spread);
  }

  function onTimer(): void {
    timer = undefined;
    if (closed || !entry || inflight) return;
    const now = nowFor(entry);
    if (now >= entry.expiresAtElapsed) {
      entry = undefined; // never kept past expiry; the next call fetches
      return;
    }
    if (now < entry.advisoryAt) return scheduleAdvisory(entry);
    const wait = quietUntil - now;
    if (wait > 0) return schedule(wait);
    start('timer').catch(() => {});
  }

  function backoffDelay(): number {
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.max(0, failures - 1));
    // Equal jitter: at least half the base, so a failing source is not hammered.
    return base / 2 + (random() * base) / 2;
  }

  async function runRefresh(forceRefresh: boolean): Promise<Entry> {
    const controller = new AbortController();
    const deadline = unrefTimeout(
      () => controller.abort(new CredentialsError(`Refreshing ${name()} took longer than ${refreshTimeoutMs} ms`, { code: 'Timeout', retryable: true })),
      refreshTimeoutMs,
    );
    try {
      const credentials = await pRetry(
        // raceAbort: a source that ignores the signal still cannot outlive the deadline.
        () => raceAbort(source({ forceRefresh, signal: controller.signal }), controller.signal),
        {
          retries,
          minTimeout: minDelayMs,
          maxTimeout: maxDelayMs,
          factor: 2,
          randomize: true,
          signal: controller.signal,
          unref: true,
          shouldRetry: ({ error }) => isRetryableError(error),
        },
      );
      return accept(credentials);
    } catch (error) {
      throw onFailure(error);
    } finally {
      clearTimeout(deadline);
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
    const lifetimeMs = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - wall;
    const advisoryMs = windowOf(options.advisoryWindowMs, defaultAdvisoryWindow, lifetimeMs);
    // The mandatory window never exceeds the advisory one.
    const mandatoryMs = Math.min(advisoryMs, windowOf(options.mandatoryWindowMs, defaultMandatoryWindow, lifetimeMs));
    const expiresAtElapsed = now + lifetimeMs;
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
    failures = 0;
    quietUntil = 0;
    lastError = undefined;
    emit({ type: 'refreshed', accessKeyId: credentials.accessKeyId, expiration: credentials.expiration, source: credentials.source });
    scheduleAdvisory(fresh);
    return fresh;
  }

  /** Records a failure, keeps a usable value, and returns the error to throw. */
  function onFailure(error: unknown): unknown {
    failures++;
    const current = entry;
    const left = current ? remaining(current) : Number.NEGATIVE_INFINITY;
    if (current && left > 0) {
      const retryInMs = backoffDelay();
      quietUntil = elapsedNow() + retryInMs;
      const servingCached = left > current.mandatoryMs;
      emit({ type: 'refresh-failed', error, servingCached, retryInMs });
      logger?.warn?.(
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
    const typed =
      error instanceof CredentialsError
        ? error
        : new CredentialsError(`Could not refresh credentials from ${name()}: ${messageOf(error)}`, {
            code: 'RefreshFailed',
            cause: error,
            retryable: isRetryableError(error),
          });
    lastError = entry ? typed : undefined;
    return typed;
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
    const { forceRefresh = false, signal, minValidityMs = 0 } = callOptions;
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
      // Inside the mandatory window after a failed (or not-rotated) attempt: answer with that
      // error until the backoff ends, instead of one source call per request.
      if (reason === 'mandatory' && lastError !== undefined && now < quietUntil) throw lastError;
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
      if (left <= fresh.mandatoryMs) lastError = error;
      throw error;
    }
    return fresh.credentials;
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
      return await raceAbort(shared, signal);
    } catch (error) {
      if (inflight !== shared || signal?.aborted) throw error;
      inflight = undefined;
      return raceAbort(start(reason), signal);
    }
  }

  function peek(): Credentials | undefined {
    const current = entry;
    return current !== undefined && nowFor(current) < current.mandatoryAt ? current.credentials : undefined;
  }

  function close(): void {
    closed = true;
    clearTimer();
  }

  return Object.assign(provider, { peek, close });
}
