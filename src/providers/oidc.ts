import { defaultStsCache, stsCacheKey, type StsCache } from '../cache.js';
import { ConfigError } from '../errors.js';
import { refreshing, type RefreshingProvider, type RefreshOptions } from '../refresh.js';
import type { Logger } from '../types.js';
import { engineOptions, stsClientFor } from './options.js';
import type { StsClient, StsClientOptions } from '../sts/api.js';
import { createAssumeRoleWithOidcClient } from '../sts/assume-role-with-oidc.js';
import { validateAssumeRoleWithOidcParams } from '../sts/validate.js';

/**
 * An OIDC token, or a function that reads the current one (a projected token file rotates).
 *
 * @example
 * ```ts
 * import type { OidcTokenSource } from 'alicred';
 * // Fetched anew at each refresh, e.g. from a local token agent:
 * const token: OidcTokenSource = async () => (await fetch('http://127.0.0.1:9000/token')).text();
 * ```
 */
export type OidcTokenSource = string | (() => string | Promise<string>);

/**
 * Options of {@link fromOidc}.
 *
 * @example
 * ```ts
 * import { fromOidc, type FromOidcOptions } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 * // The emulator mints tokens and answers AssumeRoleWithOIDC; in production drop `sts`.
 * const emu = await startEmulator({ roles: [{ name: 'app', trustedOidcProviders: ['ack-rrsa'] }], oidcProviders: [{ name: 'ack-rrsa' }] });
 * const options: FromOidcOptions = {
 *   roleArn: emu.roleArn('app'),
 *   oidcProviderArn: emu.oidcProviderArn('ack-rrsa'),
 *   token: () => emu.mintOidcToken({ subject: 'system:serviceaccount:default:app' }), // read again at every refresh
 *   roleSessionName: 'app',
 *   durationSeconds: 900,
 *   sts: { endpoint: emu.stsEndpoint },
 * };
 * const provider = fromOidc(options);
 * (await provider()).source; // 'sts:AssumeRoleWithOIDC'
 * provider.close();
 * await emu.close();
 * ```
 */
export type FromOidcOptions = {
  /** The role to assume: `acs:ram::<account id>:role/<name>`. */
  roleArn: string;
  /** `acs:ram::<account id>:oidc-provider/<name>`. */
  oidcProviderArn: string;
  /** The token, or a function returning it; called again at every refresh. */
  token: OidcTokenSource;
  /** Default `alicred`. */
  roleSessionName?: string;
  policy?: string;
  /** Default 3600. */
  durationSeconds?: number;
  sts?: StsClient | StsClientOptions;
  cache?: StsCache | false;
  refresh?: RefreshOptions;
  /** Receives warnings (a clamped lifetime, failed background refreshes); never secrets. */
  logger?: Logger;
};

/**
 * Temporary credentials for a RAM role from an OIDC token (ACK RRSA, GitHub Actions, any IdP
 * registered with RAM) through STS AssumeRoleWithOIDC, an anonymous call: no AccessKey
 * needed. `token` may be a function, re-read at every refresh, so a rotating projected
 * token file keeps working. Runs everywhere fetch and WebCrypto exist.
 *
 * @example
 * ```ts
 * import { fromOidc } from 'alicred';
 * const provider = fromOidc({
 *   roleArn: 'acs:ram::1234567890123456:role/app',
 *   oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
 *   token: async () => (await fetch('http://127.0.0.1:9000/token')).text(), // a local token agent
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local STS emulator; omit in production
 * });
 * const creds = await provider();
 * ```
 */
export function fromOidc(options: FromOidcOptions): RefreshingProvider {
  const base = {
    roleArn: options.roleArn,
    oidcProviderArn: options.oidcProviderArn,
    roleSessionName: options.roleSessionName ?? 'alicred',
    durationSeconds: options.durationSeconds ?? 3600,
    policy: options.policy,
  };
  // Validate everything but the token (which may only be readable later).
  validateAssumeRoleWithOidcParams({ ...base, oidcToken: 'placeholder' });
  const client = stsClientFor(options.sts, options, createAssumeRoleWithOidcClient, 'assumeRoleWithOidc', 'fromOidc');
  const cache = options.cache === undefined ? defaultStsCache : options.cache;

  const readToken = async (): Promise<string> => {
    const value = typeof options.token === 'function' ? await options.token() : options.token;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ConfigError('fromOidc: the OIDC token is empty', { provider: 'oidc', field: 'token' });
    }
    return value.trim();
  };

  return refreshing(
    async ({ forceRefresh, signal } = {}) => {
      const oidcToken = await readToken();
      const params = { ...base, oidcToken };
      if (!cache) return client.assumeRoleWithOidc(params, { signal });
      const key = await stsCacheKey({
        action: 'AssumeRoleWithOIDC',
        endpoint: client.endpoint,
        secret: oidcToken,
        params: {
          RoleArn: base.roleArn,
          OIDCProviderArn: base.oidcProviderArn,
          RoleSessionName: base.roleSessionName,
          DurationSeconds: base.durationSeconds,
          Policy: base.policy,
        },
      });
      return cache.get(key, () => client.assumeRoleWithOidc(params), { forceRefresh, signal, advisoryWindowMs: options.refresh?.advisoryWindowMs });
    },
    engineOptions(options, { name: `oidc ${base.roleArn}`, maxLifetimeMs: base.durationSeconds * 1000 }),
  );
}
