/**
 * The refresh engine's state and rules, as one class: every provider `refreshing()` makes is
 * one small object whose methods live on the prototype (a provider per request or per tenant
 * costs a few hundred bytes, not a closure per rule). The rules are those of refresh.ts's
 * timeline; this file is their mechanics.
 */
import { normalizeCredentials, type Credentials } from './credentials.js';
import { CredentialsError, CredentialsProviderError, isCredentialsError, isErrorLike, isRetryableError, messageOf } from './errors.js';
import { raceAbort, unrefTimeout } from './internal/abort.js';
import { monotonicNow } from './internal/clock.js';
import { issuedLifetimeOf } from './internal/issued-lifetime.js';
import { logSafely } from './internal/log.js';
import { sanitizeError, sanitizeText } from './internal/redact.js';
import { withRetries } from './internal/retry.js';
import { collectedTimers, fireTimer, setHold, type TimerBox } from './internal/timers.js';
import { MAX_TIMER_MS } from './internal/validate-options.js';
import { checkMinValidity, defaultAdvisoryWindow, defaultMandatoryWindow, windowOf } from './refresh-options.js';
import type { RefreshEvent, RefreshOptions } from './refresh-options.js';
import type { CredentialProvider, ProviderCallOptions } from './types.js';
import { mandatoryMsOf, type Entry, type Run } from './refresh-state.js';

const MINUTE = 60_000;

type Reason = Extract<RefreshEvent, { type: 'refresh-start' }>['reason'];

/** Call options that need no special handling: no force, signal or minimum validity. */
function isPlain(o: ProviderCallOptions): boolean {
  return !o.forceRefresh && o.signal === undefined && !o.minValidityMs;
}

const wallClock = (): number => Date.now();
const secs = (ms: number | undefined): string => (ms === undefined ? 'no retry scheduled' : `next try in ${Math.round(ms / 100) / 10} s`);

/** A debug line for an event: never a secret (an error's message is alicred's own, sanitized). */
function describe(e: RefreshEvent): string {
  if (e.type === 'refresh-start') return `refresh started (${e.reason})`;
  if (e.type === 'refreshed') return `refreshed: ${e.source}, key ${e.accessKeyId.slice(0, 8)}…, ${e.expiration ? `expires ${e.expiration.toISOString()}` : 'no expiration'}`;
  if (e.type === 'not-rotated') return `the source answered the same credentials (not rotated yet); ${secs(e.retryInMs)}`;
  return `refresh failed (${messageOf(e.error)}); ${e.servingCached ? 'serving the cached value, ' : ''}${secs(e.retryInMs)}`;
}

/**
 * The state of one refreshing provider. `call`, `peek` and `close` are what the provider
 * function exposes, `onTimer` what the timer calls; everything else is `#private` (which
 * also lets a minifier shorten the names: 170 B less in every browser bundle).
 *
 * @internal
 */
export class RefreshEngine {
  #entry: Entry | undefined = undefined;
  #inflight: Run | undefined = undefined;
  /** Monotonic time before which no refresh starts on its own (after a failure or a non-rotation). */
  #quietUntil = 0;
  /** Why the last attempt left us without a usable value; rethrown, without I/O, while quiet. */
  #lastError: unknown = undefined;
  /** The validity (ms) the last unmet demand asked for; a demand at least as large is refused while quiet. */
  #unmetDemandMs = 0;
  #failures = 0;
  /** Demands in a row that a fresh credential could not meet; grows their backoff like failures. */
  #unmetDemands = 0;
  /** Called or peeked since the current credential arrived: the timer refreshes only then. */
  #used = false;
  #warnedWindows = false;
  #closed = false;
  /**
   * The pending timer and a WeakRef to this engine (see fireTimer), made on first schedule:
   * a provider that is never used after its first credential holds no timer, no WeakRef and
   * no finalizer registration.
   */
  #timerBox: TimerBox | undefined = undefined;

  readonly #source: CredentialProvider;
  readonly #options: RefreshOptions;

  constructor(source: CredentialProvider, options: RefreshOptions) {
    this.#source = source;
    this.#options = options;
  }

  #wallNow(): number {
    return (this.#options.clock ?? wallClock)();
  }

  #elapsedNow(): number {
    return (this.#options.clock ?? monotonicNow)();
  }

  #random(): number {
    return (this.#options.random ?? Math.random)();
  }

  #name(): string {
    return this.#options.name ?? this.#entry?.credentials.source ?? 'refreshing';
  }

  #emit(event: RefreshEvent): void {
    if (typeof this.#options.logger?.debug === 'function') this.#debug(describe(event));
    const onEvent = this.#options.onEvent;
    if (!onEvent) return;
    try {
      onEvent(event);
    } catch {
      // An observer must never break credential resolution.
    }
  }

  #debug(message: string): void {
    logSafely(this.#options.logger, 'debug', `alicred: ${this.#name()}: ${message}`);
  }

  #warn(message: string): void {
    try {
      this.#options.logger?.warn?.(message);
    } catch {
      // A logger that throws must not replace the real error or disable the backoff.
    }
  }

  /**
   * "Now" for an entry, on the elapsed clock: the monotonic time, or the time the wall clock
   * says has passed since the entry arrived if that is more. The monotonic clock stops while
   * a machine sleeps (a laptop lid, a paused VM) and the wall clock can be set back; taking
   * whichever says more time has passed errs only towards refreshing early.
   */
  #nowFor(e: Entry): number {
    const clock = this.#options.clock;
    // An injected clock is both the elapsed and the wall clock: there is nothing to compare.
    if (clock !== undefined) return clock();
    return Math.max(monotonicNow(), Date.now() + e.wallAnchor);
  }

  /** Time left (ms) before the entry expires. */
  #remaining(e: Entry): number {
    return e.expiresAtElapsed - this.#nowFor(e);
  }

  #clearTimer(): void {
    const box = this.#timerBox;
    if (box?.handle !== undefined) {
      clearTimeout(box.handle);
      box.handle = undefined;
    }
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    if (this.#closed || this.#options.backgroundTimer === false || !Number.isFinite(delayMs)) return;
    // setTimeout fires at once for delays over 2^31-1 ms (~24.8 days); wake up then and re-arm.
    // Whole seconds beyond 10 s: Node keeps one timer list per distinct delay, and jittered
    // millisecond delays across thousands of providers would leave thousands of them behind.
    const ms = delayMs > 10_000 ? Math.ceil(delayMs / 1000) * 1000 : delayMs;
    let box = this.#timerBox;
    if (box === undefined) {
      box = this.#timerBox = { handle: undefined, target: typeof WeakRef === 'function' ? new WeakRef(this) : { deref: () => this } };
      collectedTimers?.register(this, box, box);
    }
    const handle = setTimeout(fireTimer, Math.max(0, Math.min(ms, MAX_TIMER_MS)), box);
    setHold(handle, false);
    box.handle = handle;
  }

  /** Arms the timer for the advisory point of the current entry, plus jitter. */
  #scheduleAdvisory(e: Entry): void {
    if (e.credentials.expiration === undefined) return this.#clearTimer();
    const spread = Math.max(0, e.mandatoryAt - e.advisoryAt) * 0.2;
    this.#schedule(e.advisoryAt - this.#nowFor(e) + this.#random() * spread);
  }

  /** The background timer fired (fireTimer has cleared the box's handle). */
  onTimer(): void {
    const entry = this.#entry;
    if (this.#closed || !entry || this.#inflight) return;
    const now = this.#nowFor(entry);
    if (now >= entry.expiresAtElapsed) {
      this.#entry = undefined; // never kept past expiry; the next call fetches
      return;
    }
    if (now < entry.advisoryAt) return this.#scheduleAdvisory(entry);
    // Nobody has asked since the last refresh: stay quiet. The value lives out its lifetime
    // and the next call refreshes (in the background if it is still usable).
    if (!this.#used) return;
    const wait = this.#quietUntil - now;
    if (wait > 0) return this.#schedule(wait);
    this.#start('timer');
  }

  /** The wait after the `count`-th failure in a row: doubling from the initial delay, capped. */
  #backoffDelay(count: number): number {
    const initial = this.#options.failureBackoff?.initialMs ?? 5_000;
    const max = Math.max(initial, this.#options.failureBackoff?.maxMs ?? 5 * MINUTE);
    const base = Math.min(max, initial * 2 ** Math.min(30, Math.max(0, count - 1)));
    // Equal jitter: at least half the base, so a failing source is not hammered.
    return base / 2 + (this.#random() * base) / 2;
  }

  /** Runs the source once, turning whatever it does into credentials or an Error. */
  async #callSource(forceRefresh: boolean, signal: AbortSignal): Promise<Credentials> {
    let value: unknown;
    try {
      // raceAbort: a source that ignores the signal still cannot outlive the deadline.
      value = await raceAbort(this.#source({ forceRefresh, signal }), signal);
    } catch (error) {
      if (isErrorLike(error)) throw error;
      // Never echo what a source threw: a string or number could be a secret.
      throw new CredentialsProviderError(
        `${this.#name()} failed by throwing a ${error === null ? 'null' : typeof error} instead of an Error (its value is not shown)`,
        { provider: this.#name(), code: 'NonErrorThrown', retryable: false },
      );
    }
    return normalizeCredentials(value, this.#name(), (reason) =>
      new CredentialsProviderError(`${this.#name()} returned something that is not usable credentials: ${reason}`, {
        provider: this.#name(),
        code: 'InvalidCredentials',
        retryable: false,
      }),
    );
  }

  async #runRefresh(forceRefresh: boolean, run: Run): Promise<Entry> {
    const refreshTimeoutMs = this.#options.refreshTimeoutMs ?? 60_000;
    const retry = this.#options.retry === false ? { retries: 0 } : (this.#options.retry ?? {});
    const minDelayMs = retry.minDelayMs ?? 200;
    const controller = new AbortController();
    const timeout = unrefTimeout(
      () =>
        controller.abort(
          new CredentialsError(`Refreshing ${this.#name()} took longer than ${refreshTimeoutMs} ms`, { code: 'Timeout', retryable: true }),
        ),
      refreshTimeoutMs,
    );
    // Unref'd until a caller awaits this refresh (awaitHeld): then it keeps the process alive
    // through the retry waits, until the deadline.
    run.deadline = timeout;
    try {
      const credentials = await withRetries(() => this.#callSource(forceRefresh, controller.signal), {
        retries: retry.retries ?? 2,
        minDelayMs,
        maxDelayMs: Math.max(minDelayMs, retry.maxDelayMs ?? 5_000),
        signal: controller.signal,
        random: () => this.#random(),
        shouldRetry: isRetryableError,
        onRetry: (error, failed, delayMs) =>
          this.#debug(`attempt ${failed} failed (${sanitizeText(messageOf(error), [], 300)}); retrying in ${Math.round(delayMs)} ms`),
      });
      return this.#accept(credentials);
    } catch (error) {
      throw this.#onFailure(error);
    } finally {
      clearTimeout(timeout);
      run.deadline = undefined;
    }
  }

  #accept(credentials: Credentials): Entry {
    const wall = this.#wallNow();
    const now = this.#elapsedNow();
    const expiresAt = credentials.expiration?.getTime();
    if (expiresAt !== undefined && !(expiresAt > wall)) {
      throw new CredentialsError(
        `${credentials.source} returned credentials that expired at ${new Date(expiresAt).toISOString()}`,
        { code: 'ExpiredCredentials', retryable: false },
      );
    }
    const current = this.#entry;
    if (current && current.credentials.accessKeyId === credentials.accessKeyId && current.credentials.expiration?.getTime() === expiresAt) {
      // The source has not rotated yet (ECS metadata does this until its own rotation point).
      // Not a failure, but do not ask again on every call: come back later, with jitter.
      const retryInMs = Math.max(1_000, (current.mandatoryAt - now) / 4) * (0.75 + this.#random() * 0.5);
      this.#quietUntil = now + retryInMs;
      this.#emit({ type: 'not-rotated', accessKeyId: credentials.accessKeyId, retryInMs });
      this.#schedule(retryInMs);
      return current;
    }
    const remainingMs = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - wall;
    // Windows scale with the lifetime the credential was issued with: one that aged in the shared
    // STS cache keeps a 900 s token's windows, not those of the 500 s it has left.
    const lifetimeMs = Math.max(remainingMs, issuedLifetimeOf(credentials) ?? 0);
    const advisoryMs = windowOf(this.#options.advisoryWindowMs, defaultAdvisoryWindow, lifetimeMs);
    // The mandatory window never exceeds the advisory one.
    const mandatoryMs = Math.min(advisoryMs, windowOf(this.#options.mandatoryWindowMs, defaultMandatoryWindow, lifetimeMs));
    const expiresAtElapsed = Math.floor(now + remainingMs);
    const fresh: Entry = {
      credentials,
      resolved: Promise.resolve(credentials),
      advisoryAt: Math.floor(expiresAtElapsed - advisoryMs),
      mandatoryAt: Math.floor(expiresAtElapsed - mandatoryMs),
      expiresAtElapsed,
      wallAnchor: now - wall,
    };
    this.#entry = fresh;
    this.#used = false;
    this.#failures = 0;
    this.#quietUntil = 0;
    this.#lastError = undefined;
    this.#emit({ type: 'refreshed', accessKeyId: credentials.accessKeyId, expiration: credentials.expiration, source: credentials.source });
    if (advisoryMs >= lifetimeMs) {
      // The windows do not fit the lifetime: every credential is born inside its advisory window
      // and every call would start another refresh. Space them out like a non-rotation, and say
      // once that the windows should be smaller.
      this.#quietUntil = now + Math.max(1_000, (fresh.mandatoryAt - now) / 4) * (0.75 + this.#random() * 0.5);
      if (!this.#warnedWindows) {
        this.#warnedWindows = true;
        this.#warn(
          `alicred: ${this.#name()} gives credentials that live ${Math.round(lifetimeMs / 1000)} s, not longer than the ` +
            `refresh windows (advisory ${Math.round(advisoryMs / 1000)} s, mandatory ${Math.round(mandatoryMs / 1000)} s); ` +
            'refreshes are spaced out, but the windows should be smaller',
        );
      }
      this.#schedule(this.#quietUntil - now);
    } else {
      // No timer until the new credential is used (markUsed): one nobody asks for again
      // lives out its lifetime, and the next call refreshes it.
      this.#clearTimer();
    }
    return fresh;
  }

  /**
   * The error callers and observers see: alicred's own as they are; anything else wrapped, with
   * URL queries stripped from its message and a sanitized stand-in as its cause (a foreign
   * error may quote a request URL with a token in it, and `util.inspect` prints causes).
   */
  #typedError(error: unknown): CredentialsError {
    if (isCredentialsError(error)) return error;
    return new CredentialsError(`Could not refresh credentials from ${this.#name()}: ${sanitizeText(messageOf(error), [], 500)}`, {
      code: 'RefreshFailed',
      cause: sanitizeError(error, []),
      retryable: isRetryableError(error),
    });
  }

  /** Records a failure, keeps a usable value, and returns the error to throw. */
  #onFailure(raw: unknown): unknown {
    const error = this.#typedError(raw);
    this.#failures++;
    const current = this.#entry;
    const left = current ? this.#remaining(current) : Number.NEGATIVE_INFINITY;
    if (current && left > 0) {
      const retryInMs = this.#backoffDelay(this.#failures);
      this.#quietUntil = this.#elapsedNow() + retryInMs;
      const servingCached = left > mandatoryMsOf(current);
      this.#emit({ type: 'refresh-failed', error, servingCached, retryInMs });
      this.#warn(
        `alicred: refreshing credentials from ${this.#name()} failed (${messageOf(error)}); ` +
          (servingCached
            ? `still serving the cached ones (valid ${Math.round(left / 1000)} s more), next try in ${Math.round(retryInMs / 1000)} s`
            : `the cached ones are too close to expiry to use; next try in ${Math.round(retryInMs / 1000)} s`),
      );
      // The timer may try again before the next caller does, but never after expiry.
      this.#schedule(Math.min(retryInMs, left));
    } else {
      if (current) this.#entry = undefined; // expired: drop it so nothing can hand it out
      this.#emit({ type: 'refresh-failed', error, servingCached: false, retryInMs: undefined });
    }
    this.#lastError = this.#entry ? error : undefined;
    this.#unmetDemandMs = 0;
    return error;
  }

  /** Starts a refresh, or joins the one already running (single-flight). */
  #start(reason: Reason): Run {
    if (this.#inflight) return this.#inflight;
    this.#emit({ type: 'refresh-start', reason });
    const run: Run = { promise: undefined as unknown as Promise<Entry>, deadline: undefined, waiters: 0 };
    // A refresh callers wait for must bring a new credential: let the source skip any cache
    // of its own (the shared STS cache could otherwise hand back the very value being replaced).
    run.promise = this.#runRefresh(reason === 'forced' || reason === 'mandatory' || reason === 'min-validity', run).finally(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
    // A background refresh nobody awaits must not become an unhandled rejection.
    run.promise.catch(() => {});
    this.#inflight = run;
    return run;
  }

  /** Starts a background refresh from the advisory window, unless one runs or we are backing off. */
  #refreshAhead(now: number): void {
    if (!this.#inflight && now >= this.#quietUntil) this.#start('advisory');
  }

  /** The hot path: not async (no promise allocated per call), two clock reads. */
  call(callOptions: ProviderCallOptions | undefined): Promise<Credentials> {
    const current = this.#entry;
    if (!this.#used) this.#markUsed(current);
    if (current !== undefined && (callOptions === undefined || isPlain(callOptions))) {
      const now = this.#nowFor(current);
      if (now < current.advisoryAt) return current.resolved;
      if (now < current.mandatoryAt) {
        this.#refreshAhead(now);
        return current.resolved;
      }
    }
    return this.#slowPath(callOptions ?? {});
  }

  async #slowPath(callOptions: ProviderCallOptions): Promise<Credentials> {
    const { forceRefresh = false, signal } = callOptions;
    const minValidityMs = checkMinValidity(callOptions.minValidityMs, this.#options.maxLifetimeMs, this.#name());
    signal?.throwIfAborted();
    const current = this.#entry;
    let reason: Reason = forceRefresh ? 'forced' : 'cold';
    if (current && !forceRefresh) {
      const now = this.#nowFor(current);
      if (now < current.mandatoryAt && current.expiresAtElapsed - now > minValidityMs) {
        if (now >= current.advisoryAt) this.#refreshAhead(now);
        return current.credentials;
      }
      reason = now >= current.mandatoryAt ? 'mandatory' : 'min-validity';
      // After a failed, not-rotated or unsatisfying attempt: answer with that error until the
      // backoff ends, instead of one source call per request. A smaller demand may still be met.
      if (this.#lastError !== undefined && now < this.#quietUntil && (reason === 'mandatory' || minValidityMs >= this.#unmetDemandMs)) {
        throw this.#lastError;
      }
    }
    const fresh = await this.#joinRefresh(reason, signal);
    const left = this.#remaining(fresh);
    const mandatoryMs = mandatoryMsOf(fresh);
    if (left <= mandatoryMs || left <= minValidityMs) {
      const needed = Math.max(mandatoryMs, minValidityMs);
      const error = new CredentialsError(
        `${this.#name()} could not provide credentials valid for ${Math.ceil(needed / 1000)} s more ` +
          `(the best available expire in ${Math.max(0, Math.floor(left / 1000))} s)`,
        { code: 'InsufficientValidity', retryable: false },
      );
      // Remember the unmet demand and back off: asking again at once would only call the
      // source again for the same answer. (A source that has not rotated keeps the shorter
      // quiet period accept() gave it: it rotates soon.)
      if (fresh !== current) {
        this.#unmetDemands++;
        this.#quietUntil = this.#elapsedNow() + this.#backoffDelay(this.#unmetDemands);
      }
      this.#lastError = error;
      this.#unmetDemandMs = left <= mandatoryMs ? 0 : minValidityMs;
      throw error;
    }
    this.#unmetDemands = 0;
    return fresh.credentials;
  }

  /** Waits for `run` (through `signal`), counted as its waiter: its deadline then holds the process. */
  async #awaitHeld(run: Run, signal: AbortSignal | undefined): Promise<Entry> {
    if (run.waiters++ === 0) setHold(run.deadline, true);
    try {
      return await raceAbort(run.promise, signal);
    } finally {
      if (--run.waiters === 0) setHold(run.deadline, false);
    }
  }

  /**
   * Waits for the shared refresh. In Cloudflare Workers a promise belongs to the request that
   * made it: a background refresh started by a request that has since answered never settles,
   * and a later request that joins it is rejected at once while it still looks in flight
   * (in every other runtime the refresh is no longer in flight by the time its waiters see a
   * rejection). Such a dead refresh is dropped and one new refresh started in this request.
   */
  async #joinRefresh(reason: Reason, signal: AbortSignal | undefined): Promise<Entry> {
    const shared = this.#start(reason);
    try {
      return await this.#awaitHeld(shared, signal);
    } catch (error) {
      if (this.#inflight !== shared || signal?.aborted) throw error;
      this.#inflight = undefined;
      return this.#awaitHeld(this.#start(reason), signal);
    }
  }

  /**
   * The first call or peek since the current credential arrived: from now on the timer
   * refreshes it at its advisory point (an aged credential already past it: at once).
   */
  #markUsed(current: Entry | undefined): void {
    this.#used = true;
    if (current !== undefined && this.#timerBox?.handle === undefined) this.#scheduleAdvisory(current);
  }

  peek(): Credentials | undefined {
    const current = this.#entry;
    if (!this.#used) this.#markUsed(current);
    return current !== undefined && this.#nowFor(current) < current.mandatoryAt ? current.credentials : undefined;
  }

  close(): void {
    this.#closed = true;
    this.#clearTimer();
    if (this.#timerBox) collectedTimers?.unregister(this.#timerBox);
  }
}
