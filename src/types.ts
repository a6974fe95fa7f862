import type { Credentials } from './credentials.js';

/** Options every provider accepts on each call. */
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
 */
export type CredentialProvider = (options?: ProviderCallOptions) => Promise<Credentials>;

/** A console-like logger; every method is optional. alicred logs warnings only, never secrets. */
export type Logger = {
  debug?(message: string, ...meta: unknown[]): void;
  info?(message: string, ...meta: unknown[]): void;
  warn?(message: string, ...meta: unknown[]): void;
  error?(message: string, ...meta: unknown[]): void;
};
