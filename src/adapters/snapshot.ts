/**
 * What every client adapter does before a client signs: ask the provider (waiting for a cold
 * or expiring credential, never using a stale one), and check that the answer is usable
 * credentials before any client can sign with it — a provider written by hand may return
 * anything, and a client handed an empty key may send an unsigned request.
 *
 * @internal
 */
import { normalizeCredentials, type Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
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
  const value: unknown = await provider(callOptions);
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
