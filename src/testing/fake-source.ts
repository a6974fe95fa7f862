import { createCredentials, CredentialsError, type Credentials, type CredentialProvider, type ProviderCallOptions } from '../index.js';

/**
 * Options of {@link fakeCredentialSource}.
 *
 * @example
 * ```ts
 * import { refreshing } from 'alicred';
 * import { fakeCredentialSource, type FakeCredentialSourceOptions } from 'alicred/testing';
 * // Simulated time: the test moves `now`, the fake stamps expirations with it.
 * let now = Date.parse('2025-01-15T08:00:00Z');
 * const options: FakeCredentialSourceOptions = { lifetimeMs: 900_000, delayMs: 20, clock: () => now, name: 'vault' };
 * const source = fakeCredentialSource(options);
 * const provider = refreshing(source, { clock: () => now, backgroundTimer: false });
 * await provider();
 * now += 850_000; // inside the mandatory window
 * await provider();
 * source.calls; // 2
 * ```
 */
export type FakeCredentialSourceOptions = {
  /** Lifetime of each issued credential in ms; `undefined` issues non-expiring keys. Default 900 s. */
  lifetimeMs?: number | undefined;
  /** Simulated latency of each call in ms (setTimeout). Default 0 (resolves on a microtask). */
  delayMs?: number;
  /** Wall clock used to stamp expirations. Default `Date.now`. */
  clock?: () => number;
  /** Name put in `source`. Default `fake`. */
  name?: string;
};

/**
 * A countable fake source; see {@link fakeCredentialSource}.
 *
 * @example
 * ```ts
 * import { refreshing } from 'alicred';
 * import { fakeCredentialSource, type FakeCredentialSource } from 'alicred/testing';
 * const source: FakeCredentialSource = fakeCredentialSource({ lifetimeMs: 900_000 });
 * const provider = refreshing(source, { retry: false });
 * await provider();
 * source.failAlways();                          // the source goes down...
 * await provider();                             // ...the cached value is still served
 * await provider({ forceRefresh: true }).catch(() => {}); // a forced refresh reports the failure
 * source.recover();
 * source.callOptions.length;                    // how often the engine really asked
 * provider.close();
 * ```
 */
export type FakeCredentialSource = CredentialProvider & {
  /** Number of calls so far. */
  readonly calls: number;
  /** Options of each call, in order. */
  readonly callOptions: readonly (ProviderCallOptions | undefined)[];
  /** Makes the next `count` calls fail with `error` (default: a retryable CredentialsError). */
  failNext(count: number, error?: unknown): void;
  /** Makes every call fail until {@link FakeCredentialSource.recover} is called. */
  failAlways(error?: unknown): void;
  recover(): void;
  /** Makes the next calls return the last issued credential again (a source that has not rotated). */
  repeatLast(enabled: boolean): void;
  /** The last credentials issued. */
  readonly last: Credentials | undefined;
};

/**
 * A fake source of expiring credentials for tests and benchmarks: counts calls, can be
 * slow, can fail. Each call issues a new AccessKeyId (`STS.fake-1`, `STS.fake-2`...).
 *
 * @example
 * ```ts
 * import { refreshing } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const source = fakeCredentialSource({ lifetimeMs: 900_000, delayMs: 5 });
 * const provider = refreshing(source);
 * await Promise.all([provider(), provider()]);
 * source.calls; // 1
 * ```
 */
export function fakeCredentialSource(options: FakeCredentialSourceOptions = {}): FakeCredentialSource {
  const clock = options.clock ?? (() => Date.now());
  const lifetimeMs = 'lifetimeMs' in options ? options.lifetimeMs : 900_000;
  const delayMs = options.delayMs ?? 0;
  const name = options.name ?? 'fake';
  let calls = 0;
  const callOptions: (ProviderCallOptions | undefined)[] = [];
  let failures: { remaining: number; error: unknown } | undefined;
  let repeat = false;
  let last: Credentials | undefined;

  const defaultError = () =>
    new CredentialsError(`${name}: simulated failure`, { code: 'ServiceUnavailable', retryable: true });

  async function source(callOpts?: ProviderCallOptions): Promise<Credentials> {
    calls++;
    callOptions.push(callOpts);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (failures && failures.remaining > 0) {
      failures.remaining--;
      const error = failures.error ?? defaultError();
      if (failures.remaining === 0 && Number.isFinite(failures.remaining)) failures = undefined;
      throw error;
    }
    if (repeat && last) return last;
    last = createCredentials({
      accessKeyId: `STS.${name}-${calls}`,
      accessKeySecret: `secret-${name}-${calls}`,
      securityToken: `token-${name}-${calls}`,
      expiration: lifetimeMs === undefined ? undefined : new Date(clock() + lifetimeMs),
      source: name,
    });
    return last;
  }

  return Object.defineProperties(source, {
    calls: { get: () => calls },
    callOptions: { get: () => callOptions },
    last: { get: () => last },
    failNext: {
      value: (count: number, error?: unknown) => {
        failures = { remaining: count, error };
      },
    },
    failAlways: {
      value: (error?: unknown) => {
        failures = { remaining: Number.POSITIVE_INFINITY, error };
      },
    },
    recover: {
      value: () => {
        failures = undefined;
      },
    },
    repeatLast: {
      value: (enabled: boolean) => {
        repeat = enabled;
      },
    },
  }) as FakeCredentialSource;
}
