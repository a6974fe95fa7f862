import { isNetworkFailure } from './internal/network-error.js';

/**
 * The error tree. Every error alicred throws is a {@link CredentialsError}; the subclasses
 * tell a caller (and `chain()`) what to do next:
 *
 * - {@link CredentialsProviderError} with `tryNext: true`: this source is not configured,
 *   try the next one. With `tryNext: false`: it is configured but failed; stop.
 * - {@link ConfigError}: configuration is present but wrong (names the file/field).
 * - {@link StsError}: STS (or an STS-like endpoint) answered with an error.
 *
 * Messages never contain a secret or a security token.
 */

/**
 * The brand every alicred error carries, whichever copy of alicred (ESM or CJS build,
 * two versions in one bundle) made it: `error[Symbol.for('alicred.error')] === true`.
 */
const ERROR_BRAND: unique symbol = Symbol.for('alicred.error') as never;
/** The class names an error belongs to, outermost last: what `instanceof` checks across builds. */
const ERROR_KINDS: unique symbol = Symbol.for('alicred.error.kinds') as never;

/**
 * True for an error made by any copy of alicred (the ESM and the CJS build loaded together,
 * or two versions in one bundle), where `instanceof` would see two different classes.
 *
 * @example
 * ```ts
 * import { isCredentialsError, fromEnv } from 'alicred';
 * try { await fromEnv({ env: {} })(); } catch (e) { if (isCredentialsError(e)) console.error(e.code, e.message); }
 * ```
 */
export function isCredentialsError(value: unknown): value is CredentialsError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ERROR_BRAND] === true;
}

/**
 * `instanceof` that also recognises errors from another copy of alicred: a branded error
 * whose recorded kinds include the class asked about. Only the library's own classes answer
 * by brand; a user's subclass keeps the ordinary prototype check.
 */
function hasInstance(cls: { readonly kind?: string; prototype: unknown }, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true;
  if (!Object.hasOwn(cls, 'kind') || !isCredentialsError(value)) return false;
  const kinds = (value as unknown as Record<symbol, unknown>)[ERROR_KINDS];
  return Array.isArray(kinds) && kinds.includes(cls.kind);
}

/** Records the library classes `target` descends from (own `kind` statics), innermost first. */
function brand(error: Error, target: unknown): void {
  const kinds: string[] = [];
  for (let c = target as { kind?: string } | null; c !== null && c !== Error && c !== undefined; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, 'kind') && typeof c.kind === 'string') kinds.push(c.kind);
  }
  Object.defineProperty(error, ERROR_BRAND, { value: true });
  Object.defineProperty(error, ERROR_KINDS, { value: Object.freeze(kinds) });
}

/**
 * Every code alicred itself throws, for `switch (error.code)` with completion. An
 * {@link StsError} may also carry the service's own code (`NoPermission`,
 * `Throttling.User`, `InvalidAccessKeyId.NotFound`…), so `code` is typed
 * `CredentialsErrorCode | (string & {})`.
 *
 * @example
 * ```ts
 * import { isCredentialsError, fromEnv, type CredentialsErrorCode } from 'alicred';
 * try { await fromEnv()(); } catch (e) {
 *   const code: CredentialsErrorCode | (string & {}) = isCredentialsError(e) ? e.code : 'unknown';
 *   if (code === 'ConfigError') console.error('fix the configuration');
 * }
 * ```
 */
export type CredentialsErrorCode =
  // The base classes' defaults.
  | 'CredentialsError'
  | 'ProviderError'
  | 'ConfigError'
  // Configuration that is present but unusable (ConfigError).
  | 'InvalidParameter'
  | 'InvalidEndpoint'
  | 'InvalidRegion'
  | 'InvalidUri'
  // What a provider (or the chain, or the engine) made of its source.
  | 'NoCredentials'
  | 'InvalidCredentials'
  | 'NonErrorThrown'
  | 'ExpiredCredentials'
  | 'InsufficientValidity'
  | 'RefreshFailed'
  | 'CacheError'
  // Talking to an endpoint (STS, ECS metadata, a credentials URI).
  | 'NetworkError'
  | 'RequestFailed'
  | 'Timeout'
  | 'ResponseTooLarge'
  | 'InvalidResponse'
  | 'UnsuccessfulResponse'
  | 'HttpError'
  | 'Redirect'
  // A browser's cross-origin fetch that failed: CORS refused it, or the network failed.
  | 'NetworkOrCors'
  // A CloudSSO or OAuth sign-in that is no longer accepted: run the CLI's sign-in again.
  | 'LoginRequired'
  // ECS instance metadata.
  | 'NoRole'
  | 'RoleNotFound'
  | 'MetadataTokenFailed'
  // An external credentials process.
  | 'ProcessSpawnFailed'
  | 'ProcessFailed'
  | 'OutputTooLarge';

/**
 * Options shared by every error constructor.
 *
 * @example
 * ```ts
 * import { CredentialsError, refreshing, type CredentialsErrorOptions } from 'alicred';
 * // A custom source marks a busy vault as retryable, so the refresh engine tries again.
 * const provider = refreshing(async () => {
 *   const res = await fetch('http://127.0.0.1:8200/v1/aliyun/creds/app');
 *   if (res.status === 503) {
 *     const options: CredentialsErrorOptions = { code: 'VaultSealed', retryable: true };
 *     throw new CredentialsError('vault is sealed', options);
 *   }
 *   return { ...(await res.json()), source: 'vault' };
 * });
 * provider.close();
 * ```
 */
export type CredentialsErrorOptions = {
  /** The underlying error, kept for debugging. */
  cause?: unknown;
  /** A stable machine-readable code, e.g. `RefreshFailed` (see {@link CredentialsErrorCode}). */
  code?: CredentialsErrorCode | (string & {});
  /** Whether repeating the same operation may succeed (network, throttling, 5xx). */
  retryable?: boolean;
};

/**
 * Base class of every alicred error.
 *
 * @example
 * ```ts
 * import { CredentialsError, fromEnv } from 'alicred';
 * try { await fromEnv()(); } catch (e) { if (e instanceof CredentialsError) console.error(e.code, e.message); }
 * ```
 */
export class CredentialsError extends Error {
  /** @internal The kind recorded on instances, for `instanceof` across builds. */
  static readonly kind: string = 'CredentialsError';
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasInstance(this, value);
  }
  override name = 'CredentialsError';
  /** A stable code for programs (see {@link CredentialsErrorCode}); the message is for people. */
  readonly code: CredentialsErrorCode | (string & {});
  /** True when retrying the same call may succeed. */
  readonly retryable: boolean;

  constructor(message: string, options: CredentialsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'CredentialsError';
    this.retryable = options.retryable ?? false;
    brand(this, new.target);
  }
}

/**
 * Options of {@link CredentialsProviderError}.
 *
 * @example
 * ```ts
 * import { chain, CredentialsProviderError, fromEnv, type CredentialsProviderErrorOptions } from 'alicred';
 * const fromVault = async () => {
 *   const vaultAddr: string | undefined = undefined; // e.g. read from the environment
 *   // Not configured here: let the chain try its next link instead of failing.
 *   const options: CredentialsProviderErrorOptions = { provider: 'vault', tryNext: true };
 *   if (vaultAddr === undefined) throw new CredentialsProviderError('VAULT_ADDR is not set', options);
 *   throw new Error('not reached in this example');
 * };
 * const provider = chain(fromVault, fromEnv());
 * ```
 */
export type CredentialsProviderErrorOptions = CredentialsErrorOptions & {
  /** The provider that failed, e.g. `env`. */
  provider?: string;
  /** True when the provider is simply not configured and a chain should try the next one. */
  tryNext?: boolean;
};

/**
 * A provider could not produce credentials. `tryNext` says whether a chain should move on
 * (the source is not configured) or stop (it is configured but broken).
 *
 * @example
 * ```ts
 * import { CredentialsProviderError } from 'alicred';
 * const fromVault = async () => {
 *   throw new CredentialsProviderError('VAULT_ADDR is not set', { provider: 'vault', tryNext: true });
 * };
 * ```
 */
export class CredentialsProviderError extends CredentialsError {
  /** @internal */
  static override readonly kind: string = 'CredentialsProviderError';
  override name = 'CredentialsProviderError';
  /** True: not configured, try the next provider. False: configured but failed, stop. */
  readonly tryNext: boolean;
  /** Name of the provider that raised it. */
  readonly provider: string;

  constructor(message: string, options: CredentialsProviderErrorOptions = {}) {
    super(message, { code: 'ProviderError', ...options });
    this.tryNext = options.tryNext ?? false;
    this.provider = options.provider ?? 'unknown';
  }
}

/**
 * Options of {@link ConfigError}.
 *
 * @example
 * ```ts
 * import { ConfigError, type ConfigErrorOptions } from 'alicred';
 * // A custom source that reads its own settings file points at the bad line.
 * const options: ConfigErrorOptions = { provider: 'app-config', file: '/etc/app/aliyun.ini', line: 7, field: 'role_arn' };
 * const error = new ConfigError('role_arn must look like acs:ram::<account>:role/<name>', options);
 * error.tryNext; // false: a chain stops here instead of silently using another identity
 * ```
 */
export type ConfigErrorOptions = CredentialsErrorOptions & {
  provider?: string;
  /** The file that holds the bad setting. */
  file?: string;
  /** 1-based line in that file, when known. */
  line?: number;
  /** The field, key or environment variable at fault. */
  field?: string;
};

/**
 * Configuration is present but unusable (a missing pair, a malformed file, an invalid
 * parameter). Never retryable and never skipped by a chain: fix the named field.
 *
 * @example
 * ```ts
 * import { ConfigError, fromEnv } from 'alicred';
 * try { await fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI...' } })(); }
 * catch (e) { if (e instanceof ConfigError) console.error(e.field); } // ALIBABA_CLOUD_ACCESS_KEY_SECRET
 * ```
 */
export class ConfigError extends CredentialsProviderError {
  /** @internal */
  static override readonly kind: string = 'ConfigError';
  override name = 'ConfigError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, { code: 'ConfigError', ...options, tryNext: false, retryable: false });
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }
}

/**
 * Options of {@link StsError}.
 *
 * @example
 * ```ts
 * import { StsError, type StsErrorOptions } from 'alicred';
 * // A fake STS in a unit test answers with the service's throttling error.
 * const options: StsErrorOptions = { code: 'Throttling.User', httpStatus: 400, requestId: 'r-1', retryable: true };
 * const throttled = new StsError('Request was denied due to user flow control.', options);
 * throttled.retryable; // true
 * ```
 */
export type StsErrorOptions = CredentialsErrorOptions & {
  /** The service's code (`NoPermission`, `Throttling.User`…) or one of alicred's transport codes. */
  code: CredentialsErrorCode | (string & {});
  requestId?: string;
  httpStatus?: number;
  recommend?: string;
  provider?: string;
};

/**
 * STS returned an error (or something that is not an STS answer). `code` is the service's
 * code (`NoPermission`, `Throttling.User`, `InvalidAccessKeyId.NotFound`...), or
 * `InvalidResponse`, `NetworkError`, `Timeout` for transport failures.
 *
 * @example
 * ```ts
 * import { StsError } from 'alicred';
 * const e = new StsError('You are not authorized to do this action.', { code: 'NoPermission', httpStatus: 403 });
 * e.retryable; // false
 * ```
 */
export class StsError extends CredentialsProviderError {
  /** @internal */
  static override readonly kind: string = 'StsError';
  override name = 'StsError';
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly recommend: string | undefined;

  constructor(message: string, options: StsErrorOptions) {
    super(message, { ...options, tryNext: false, provider: options.provider ?? 'sts' });
    this.requestId = options.requestId;
    this.httpStatus = options.httpStatus;
    this.recommend = options.recommend;
  }
}

/**
 * Options of {@link NetworkOrCorsError}.
 *
 * @example
 * ```ts
 * import { NetworkOrCorsError, type NetworkOrCorsErrorOptions } from 'alicred';
 * const options: NetworkOrCorsErrorOptions = { pageOrigin: 'https://app.example.com', endpointOrigin: 'https://api.example.com' };
 * const error = new NetworkOrCorsError('the browser blocked the request, or the network failed', options);
 * error.retryable; // false
 * ```
 */
export type NetworkOrCorsErrorOptions = CredentialsProviderErrorOptions & {
  /** The origin of the page that made the request, e.g. `https://app.example.com`. */
  pageOrigin: string;
  /** The origin of the endpoint it asked, e.g. `https://api.example.com`. */
  endpointOrigin: string;
};

/**
 * In a browser, a cross-origin fetch failed. The browser gives the page the same bare
 * `TypeError` whether the network failed or CORS refused the answer, so the message names
 * both origins and the fix: the endpoint must answer CORS for the page's origin
 * (`Access-Control-Allow-Origin`, and `Access-Control-Allow-Headers` for the headers sent),
 * or the page must be served from the endpoint's origin. Code `NetworkOrCors`; not
 * retried within one refresh (a CORS refusal answers the same every time).
 *
 * @example
 * ```ts
 * import { fromCredentialsUri, NetworkOrCorsError } from 'alicred';
 * const provider = fromCredentialsUri({ uri: 'https://api.example.com/vend' }); // from a page on another origin
 * try { await provider(); }
 * catch (e) { if (e instanceof NetworkOrCorsError) console.error(`allow ${e.pageOrigin} on ${e.endpointOrigin}`); }
 * provider.close();
 * ```
 */
export class NetworkOrCorsError extends CredentialsProviderError {
  /** @internal */
  static override readonly kind: string = 'NetworkOrCorsError';
  override name = 'NetworkOrCorsError';
  /** The origin of the page that made the request. */
  readonly pageOrigin: string;
  /** The origin of the endpoint asked. */
  readonly endpointOrigin: string;

  constructor(message: string, options: NetworkOrCorsErrorOptions) {
    super(message, { code: 'NetworkOrCors', ...options, tryNext: false, retryable: false });
    this.pageOrigin = options.pageOrigin;
    this.endpointOrigin = options.endpointOrigin;
  }
}

/**
 * One link's verdict in a {@link CredentialsChainError}.
 *
 * @example
 * ```ts
 * import { chain, CredentialsChainError, fromEnv, type ChainAttempt } from 'alicred';
 * try {
 *   await chain(fromEnv({ env: {} }))();
 * } catch (e) {
 *   if (!(e instanceof CredentialsChainError)) throw e;
 *   const describe = (a: ChainAttempt) => `${a.provider}: ${a.error instanceof Error ? a.error.message : String(a.error)}`;
 *   console.error(e.attempts.map(describe).join('\n')); // why each link declined
 * }
 * ```
 */
export type ChainAttempt = {
  /** The provider's name. */
  readonly provider: string;
  /** Why it declined. */
  readonly error: unknown;
};

/**
 * Every provider of a chain declined. `attempts` lists each link with its reason; the
 * message lists them too, one per line. `tryNext` is true so that a chain nested in
 * another chain lets the outer one continue.
 *
 * @example
 * ```ts
 * import { chain, fromEnv, CredentialsChainError } from 'alicred';
 * try { await chain(fromEnv({ env: {} }))(); }
 * catch (e) { if (e instanceof CredentialsChainError) console.log(e.attempts.map((a) => a.provider)); } // ['env']
 * ```
 */
export class CredentialsChainError extends CredentialsProviderError {
  /** @internal */
  static override readonly kind: string = 'CredentialsChainError';
  override name = 'CredentialsChainError';
  readonly attempts: readonly ChainAttempt[];

  constructor(attempts: readonly ChainAttempt[], provider = 'chain') {
    const lines = attempts.map((a) => `  - ${a.provider}: ${messageOf(a.error)}`);
    const message =
      attempts.length === 0
        ? 'Could not load credentials: the chain has no providers.'
        : `Could not load credentials from any provider:\n${lines.join('\n')}`;
    super(message, { code: 'NoCredentials', provider, tryNext: true, cause: attempts.at(-1)?.error });
    this.attempts = Object.freeze([...attempts]);
  }
}

/**
 * The one rule a chain uses to move on: an alicred error (from any copy of alicred) that
 * says `tryNext: true`. Anything else stops the chain.
 *
 * @internal
 */
export function saysTryNext(error: unknown): error is CredentialsProviderError {
  return isCredentialsError(error) && (error as { tryNext?: unknown }).tryNext === true;
}

/** The message of anything thrown, for aggregating; never the value itself. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return `non-error value thrown (${typeof error})`;
}

/**
 * Decides whether a failure is worth retrying: alicred errors (from any copy of alicred) say
 * so themselves (`retryable`), as may any error with a boolean `retryable`; a fetch that
 * failed in transit is (recognised by the runtime's network-failure shape, not by its class:
 * a TypeError from a bug or a bad argument is not); everything else is not.
 *
 * @example
 * ```ts
 * import { isRetryableError } from 'alicred';
 * isRetryableError(new TypeError('fetch failed'));            // true: Node's network failure
 * isRetryableError(new TypeError('x is not a function'));     // false
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  if (isCredentialsError(error)) return error.retryable === true;
  if (typeof error === 'object' && error !== null) {
    const flag = (error as { retryable?: unknown }).retryable;
    if (typeof flag === 'boolean') return flag;
    if ((error as { name?: unknown }).name === 'AbortError') return false;
  }
  return isNetworkFailure(error);
}

/**
 * True for anything that behaves as an Error (also one from another realm).
 *
 * @internal
 */
export function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}
