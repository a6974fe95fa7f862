import type { Credentials } from './credentials.js';
import { CredentialsChainError, saysTryNext, type ChainAttempt } from './errors.js';
import type { CredentialProvider } from './types.js';

/**
 * Tries providers in order; the first that yields credentials wins.
 *
 * A provider that is not configured throws a {@link CredentialsProviderError} with
 * `tryNext: true` and the chain moves on; any other error stops the chain and is thrown
 * as is (a configured source that fails must not silently fall through to another
 * identity). When every provider declines, a {@link CredentialsChainError} lists each link
 * and its reason. The chain is evaluated afresh on every call: it never pins to the link
 * that answered last time (wrap it in `refreshing()` to cache).
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
  return async function chainProvider(options) {
    const attempts: ChainAttempt[] = [];
    for (const provider of providers) {
      options?.signal?.throwIfAborted();
      let credentials: Credentials;
      try {
        credentials = await provider(options);
      } catch (error) {
        if (saysTryNext(error)) {
          attempts.push({ provider: typeof error.provider === 'string' && error.provider !== 'unknown' ? error.provider : providerName(provider), error });
          continue;
        }
        throw error;
      }
      return credentials;
    }
    throw new CredentialsChainError(attempts);
  };
}

function providerName(provider: CredentialProvider): string {
  return provider.name || 'anonymous provider';
}
