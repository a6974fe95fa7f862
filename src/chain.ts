import { normalizeCredentials, type Credentials } from './credentials.js';
import { ConfigError, CredentialsChainError, CredentialsProviderError, saysTryNext, type ChainAttempt } from './errors.js';
import type { CredentialProvider } from './types.js';

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
 * ```
 */
export function chain(...providers: CredentialProvider[]): CredentialProvider {
  providers.forEach((p, i) => {
    if (typeof p !== 'function') {
      throw new ConfigError(`chain: link ${i + 1} is not a provider function`, { provider: 'chain', field: `providers[${i}]` });
    }
  });
  return async function chainProvider(options) {
    const attempts: ChainAttempt[] = [];
    for (const provider of providers) {
      options?.signal?.throwIfAborted();
      const name = providerName(provider);
      let value: unknown;
      try {
        value = await provider(options);
      } catch (error) {
        if (saysTryNext(error)) {
          attempts.push({ provider: typeof error.provider === 'string' && error.provider !== 'unknown' ? error.provider : name, error });
          continue;
        }
        if (error instanceof Error || Object.prototype.toString.call(error) === '[object Error]') throw error;
        throw new CredentialsProviderError(
          `chain: ${name} failed by throwing a ${error === null ? 'null' : typeof error} instead of an Error (its value is not shown)`,
          { provider: name, code: 'NonErrorThrown' },
        );
      }
      return normalizeCredentials(value, name, (reason) =>
        new CredentialsProviderError(`chain: ${name} returned something that is not usable credentials: ${reason}`, {
          provider: name,
          code: 'InvalidCredentials',
        }),
      ) as Credentials;
    }
    throw new CredentialsChainError(attempts);
  };
}

function providerName(provider: CredentialProvider): string {
  return provider.name || 'anonymous provider';
}
