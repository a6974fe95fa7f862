import type { Credentials } from './credentials.js';

/**
 * Options every provider accepts on each call.
 *
 * @example
 * ```ts
 * import { refreshing, type ProviderCallOptions } from 'alicred';
 * import { fakeCredentialSource } from 'alicred/testing';
 * const provider = refreshing(fakeCredentialSource({ lifetimeMs: 3600_000 }));
 * // Before a 20-minute upload: credentials that outlive it, and give up waiting after 5 s.
 * const options: ProviderCallOptions = { minValidityMs: 25 * 60_000, signal: AbortSignal.timeout(5000) };
 * const creds = await provider(options);
 * await provider({ forceRefresh: true }); // e.g. after the server rejected the key
 * provider.close();
 * ```
 */
export type ProviderCallOptions = {
  /** Fetch anew even if a cached value is still good (joins a refresh already running). */
  forceRefresh?: boolean;
  /** Stops this caller's wait; a refresh shared with other callers goes on. */
  signal?: AbortSignal;
  /** The credentials must stay valid at least this long (ms), e.g. for a long upload. */
  minValidityMs?: number;
};

/**
 * A credential provider: an async function returning {@link Credentials}. Compose them with
 * `chain()` and make expiring ones cheap with `refreshing()`.
 *
 * @example
 * ```ts
 * import { chain, createCredentials, fromEnv, type CredentialProvider } from 'alicred';
 * // Any async function is a provider: here, keys kept in an in-memory secret store.
 * const secrets = new Map([['aliyun/id', 'LTAI5t...'], ['aliyun/secret', 's3cr3t']]);
 * const fromSecretStore: CredentialProvider = async () =>
 *   createCredentials({ accessKeyId: secrets.get('aliyun/id')!, accessKeySecret: secrets.get('aliyun/secret')!, source: 'secret-store' });
 * const provider = chain(fromEnv(), fromSecretStore);
 * const creds = await provider();
 * ```
 */
export type CredentialProvider = (options?: ProviderCallOptions) => Promise<Credentials>;

/**
 * A console-like logger; every method is optional. alicred logs warnings only, never secrets.
 *
 * @example
 * ```ts
 * import { fromRamRole, fromStatic, type Logger } from 'alicred';
 * // Route alicred's warnings (failed background refreshes...) into structured logs.
 * const logger: Logger = { warn: (message) => console.log(JSON.stringify({ level: 'warn', lib: 'alicred', message })) };
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/app',
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 *   logger,
 * });
 * provider.close();
 * ```
 */
export type Logger = {
  debug?(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  warn?(message: string, ...meta: unknown[]): void;
  error?(message: string, ...meta: unknown[]): void;
};
