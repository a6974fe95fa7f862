import { normalizeCredentials, type Credentials } from './credentials.js';
import { ConfigError, CredentialsChainError, CredentialsProviderError, isCredentialsError, isErrorLike, messageOf, saysTryNext, type ChainAttempt } from './errors.js';
import { logSafely } from './internal/log.js';
import { sanitizeText } from './internal/redact.js';
import type { CredentialProvider, Logger, ProviderCallOptions } from './types.js';

/**
 * A provider made by {@link chain}: also `peek()` and `close()`, like a refreshing provider.
 *
 * @example
 * ```ts
 * import { chain, fromEnv, fromStatic, type ChainProvider } from 'alicred';
 * const provider: ChainProvider = chain(fromEnv(), fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }));
 * await provider();
 * provider.peek()?.source; // 'env' or 'static': whichever answered
 * provider.close();        // closes the links' timers at shutdown
 * ```
 */
export type ChainProvider = CredentialProvider & {
  /**
   * The `peek()` of the link that answered last (for a link without one, what it returned,
   * unless that has expired); `undefined` before any answer. Synchronous, no I/O, never an
   * expired value.
   */
  peek(): Credentials | undefined;
  /** Calls `close()` on every link that has one (stops their timers). */
  close(): void;
};

/**
 * How {@link createChain} behaves; `chain()` uses the defaults.
 *
 * @example
 * ```ts
 * import { createChain, fromEnv, fromStatic, type ChainOptions } from 'alicred';
 * // A long-running service: keep asking the link that answered, name the links in errors.
 * const options: ChainOptions = { name: 'service', linkNames: ['env', 'bundled keys'], rememberLastLink: true };
 * const provider = createChain([fromEnv(), fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' })], options);
 * ```
 */
export type ChainOptions = {
  /** Name of the chain in its errors. Default `chain`. */
  name?: string;
  /** Names of the links, for the error that lists them. Default: the error's provider, or the function's name. */
  linkNames?: readonly string[];
  /**
   * Ask the link that answered last first, and go back to the full walk only when it fails
   * or `forceRefresh` is asked. A warm call then costs what that link's cache costs, and a
   * profile file that turns bad mid-run does not break a process served by a later link.
   * Default false: every call walks the chain from the start.
   */
  rememberLastLink?: boolean;
  /**
   * Its `debug` method, if any, gets a line per link: skipped and why, tried, answered,
   * failed. Never a secret (alicred's error messages carry none).
   */
  logger?: Logger;
};

type Peekable = CredentialProvider & { peek(): Credentials | undefined };
type Closable = CredentialProvider & { close(): void };
const hasPeek = (p: CredentialProvider): p is Peekable => typeof (p as { peek?: unknown }).peek === 'function';
const hasClose = (p: CredentialProvider): p is Closable => typeof (p as { close?: unknown }).close === 'function';

/**
 * Tries providers in order; the first that yields credentials wins.
 *
 * A provider that is not configured throws an alicred error with `tryNext: true` (see
 * {@link CredentialsProviderError}) and the chain moves on; any other error stops the chain
 * and is thrown as is (a configured source that fails must not silently fall through to
 * another identity). What a link returns is checked: well-formed credentials are served
 * (a plain object is copied into a redacted `Credentials` value), anything else stops the
 * chain with an `InvalidCredentials` error that never quotes the value. When every provider
 * declines, a {@link CredentialsChainError} lists each link and its reason. The chain is
 * evaluated afresh on every call: it never pins to the link that answered last time (wrap
 * it in `refreshing()` to cache).
 *
 * @example
 * ```ts
 * import { chain, fromEnv, fromStatic } from 'alicred';
 * const provider = chain(fromEnv(), fromStatic({ accessKeyId: 'LTAI...', accessKeySecret: '...' }));
 * const creds = await provider();
 * console.log(creds.source); // 'env' when the variables are set, else 'static'
 * provider.peek();           // the same credentials, synchronously
 * provider.close();          // closes every link that has close()
 * ```
 */
export function chain(...providers: CredentialProvider[]): ChainProvider {
  return createChain(providers);
}

/**
 * {@link chain} with options: link names for its errors, and whether to ask the link that
 * answered last first (`defaultProvider` does).
 *
 * @example
 * ```ts
 * import { createChain, fromEnv, fromStatic } from 'alicred';
 * const provider = createChain([fromEnv(), fromStatic({ accessKeyId: 'LTAI...', accessKeySecret: '...' })], {
 *   name: 'app', linkNames: ['env', 'static'], rememberLastLink: true,
 * });
 * ```
 */
export function createChain(providers: readonly CredentialProvider[], options: ChainOptions = {}): ChainProvider {
  const name = options.name ?? 'chain';
  providers.forEach((p, i) => {
    if (typeof p !== 'function') {
      throw new ConfigError(`${name}: link ${i + 1} is not a provider function`, { provider: name, field: `providers[${i}]` });
    }
  });
  const links = providers.map((provider, i) => ({ provider, name: options.linkNames?.[i] ?? (provider.name || 'anonymous provider') }));
  let answered: { link: (typeof links)[number]; credentials: Credentials } | undefined;
  const logger = options.logger;
  // Undefined without a debug method: `debug?.(`…`)` then does not even build the message.
  const debug =
    typeof logger?.debug === 'function' ? (message: string): void => logSafely(logger, 'debug', `alicred: ${name} chain: ${message}`) : undefined;
  // alicred's own messages carry no secret; a foreign one (a provider of the caller's) is sanitized.
  const why = (error: unknown): string => (isCredentialsError(error) ? error.message : sanitizeText(messageOf(error), [], 300));

  async function ask(link: (typeof links)[number], callOptions: ProviderCallOptions | undefined): Promise<Credentials> {
    let value: unknown;
    debug?.(`trying ${link.name}`);
    try {
      value = await link.provider(callOptions);
    } catch (error) {
      debug?.(`${link.name} ${saysTryNext(error) ? 'skipped' : 'failed'}: ${why(error)}`);
      if (saysTryNext(error) || isErrorLike(error)) throw error;
      throw new CredentialsProviderError(
        `${name}: ${link.name} failed by throwing a ${error === null ? 'null' : typeof error} instead of an Error (its value is not shown)`,
        { provider: link.name, code: 'NonErrorThrown' },
      );
    }
    const credentials = normalizeCredentials(value, link.name, (reason) =>
      new CredentialsProviderError(`${name}: ${link.name} returned something that is not usable credentials: ${reason}`, {
        provider: link.name,
        code: 'InvalidCredentials',
      }),
    );
    answered = { link, credentials };
    const expiration = credentials.expiration;
    debug?.(`${link.name} answered (source ${credentials.source}, ${expiration ? `expires ${expiration.toISOString()}` : 'no expiration'})`);
    return credentials;
  }

  async function walk(callOptions: ProviderCallOptions | undefined): Promise<Credentials> {
    const attempts: ChainAttempt[] = [];
    for (const link of links) {
      callOptions?.signal?.throwIfAborted();
      try {
        return await ask(link, callOptions);
      } catch (error) {
        if (!saysTryNext(error)) throw error;
        const reported = options.linkNames ? link.name : typeof error.provider === 'string' && error.provider !== 'unknown' ? error.provider : link.name;
        attempts.push({ provider: reported, error });
      }
    }
    answered = undefined;
    debug?.(`no link answered (${links.length} tried)`);
    throw new CredentialsChainError(attempts, name);
  }

  async function provider(callOptions?: ProviderCallOptions): Promise<Credentials> {
    const last = answered;
    if (options.rememberLastLink && last && !callOptions?.forceRefresh) {
      debug?.(`asking ${last.link.name} first (it answered last time)`);
      try {
        return await ask(last.link, callOptions);
      } catch (error) {
        answered = undefined; // never pinned after a failure
        debug?.(`forgot ${last.link.name}${saysTryNext(error) ? '; walking the chain' : ''}`);
        // The link stopped being configured (e.g. variables removed): look further at once.
        if (!saysTryNext(error)) throw error;
      }
    }
    return walk(callOptions);
  }

  function peek(): Credentials | undefined {
    const last = answered;
    if (!last) return undefined;
    if (hasPeek(last.link.provider)) return last.link.provider.peek();
    const expiration = last.credentials.expiration;
    return expiration === undefined || expiration.getTime() > Date.now() ? last.credentials : undefined;
  }

  function close(): void {
    for (const link of links) if (hasClose(link.provider)) link.provider.close();
  }

  return Object.assign(provider, { peek, close });
}

/**
 * A provider that always rejects with `makeError()`, shaped like a refreshing one (`peek()`
 * is undefined, `close()` does nothing): a source that is not configured, or misconfigured,
 * standing in a chain.
 *
 * @internal
 */
export function failingProvider(makeError: () => unknown): ChainProvider {
  const provider = async (): Promise<never> => {
    throw makeError();
  };
  return Object.assign(provider, { peek: () => undefined, close: () => {} });
}
