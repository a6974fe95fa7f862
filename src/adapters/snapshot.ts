/**
 * What every client adapter does before a client signs: ask the provider (waiting for a cold
 * or expiring credential, never using a stale one), and check that the answer is usable
 * credentials before any client can sign with it — a provider written by hand may return
 * anything, and a client handed an empty key may send an unsigned request.
 *
 * @internal
 */
import { normalizeCredentials, type Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError, isErrorLike } from '../errors.js';
import type { CredentialProvider, ProviderCallOptions } from '../types.js';

/** Throws a ConfigError naming `adapter` unless `provider` is a provider function. */
export function checkProvider(provider: unknown, adapter: string): asserts provider is CredentialProvider {
  if (typeof provider !== 'function') {
    throw new ConfigError(`${adapter}: provider must be a credential provider function (e.g. fromRamRole(...)), got ${describe(provider)}`, {
      provider: adapter,
      field: 'provider',
    });
  }
}

/** The provider's current credentials, checked; its failures pass through unchanged. */
export async function snapshotOf(provider: CredentialProvider, adapter: string, callOptions?: ProviderCallOptions): Promise<Credentials> {
  let value: unknown;
  try {
    value = await provider(callOptions);
  } catch (error) {
    if (isErrorLike(error)) throw error;
    // A thrown string or number could be a secret: never hand it to the client, which may print it.
    throw new CredentialsProviderError(`${adapter}: the provider failed by throwing ${describe(error)} instead of an Error (its value is not shown)`, {
      provider: adapter,
      code: 'NonErrorThrown',
    });
  }
  return normalizeCredentials(value, adapter, (reason) =>
    new CredentialsProviderError(`${adapter}: the provider returned something that is not usable credentials: ${reason}`, {
      provider: adapter,
      code: 'InvalidCredentials',
    }),
  );
}

/** A value's kind for a message, never the value (it may be a secret). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
