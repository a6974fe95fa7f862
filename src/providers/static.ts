import { createCredentials } from '../credentials.js';
import { ConfigError, CredentialsError } from '../errors.js';
import type { CredentialProvider } from '../types.js';

/**
 * Keys for {@link fromStatic}.
 *
 * @example
 * ```ts
 * import { fromStatic, type StaticCredentialsInit } from 'alicred';
 * // STS keys handed over by another system: refused once they expire instead of failing at the server.
 * const keys: StaticCredentialsInit = {
 *   accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2F2q',
 *   accessKeySecret: 'vended-secret',
 *   securityToken: 'CAIS...',
 *   expiration: new Date(Date.now() + 3600_000),
 * };
 * const creds = await fromStatic(keys)();
 * ```
 */
export type StaticCredentialsInit = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** When given, the provider refuses to return the keys after this moment. */
  expiration?: Date;
};

/**
 * Fixed keys: a RAM user's AccessKey pair, or STS credentials obtained elsewhere.
 * Validated once, up front; an expired `expiration` makes every call fail rather than
 * hand out dead keys.
 *
 * @example
 * ```ts
 * import { fromStatic } from 'alicred';
 * const provider = fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: process.env.MY_SECRET! });
 * const creds = await provider(); // creds.source === 'static'
 * ```
 */
export function fromStatic(init: StaticCredentialsInit & { clock?: () => number }): CredentialProvider {
  for (const field of ['accessKeyId', 'accessKeySecret'] as const) {
    if (typeof init[field] !== 'string' || init[field].trim() === '') {
      throw new ConfigError(`fromStatic: '${field}' must be a non-empty string`, { provider: 'static', field });
    }
  }
  if (init.securityToken !== undefined && (typeof init.securityToken !== 'string' || init.securityToken === '')) {
    throw new ConfigError(`fromStatic: 'securityToken' must be a non-empty string when given`, {
      provider: 'static',
      field: 'securityToken',
    });
  }
  if (init.expiration !== undefined && !(init.expiration instanceof Date && Number.isFinite(init.expiration.getTime()))) {
    throw new ConfigError(`fromStatic: 'expiration' must be a valid Date`, { provider: 'static', field: 'expiration' });
  }
  const clock = init.clock ?? (() => Date.now());
  const credentials = createCredentials({ ...init, source: 'static' });
  const expiresAt = init.expiration?.getTime();
  return async function staticProvider(options) {
    if (expiresAt !== undefined && expiresAt - clock() <= (options?.minValidityMs ?? 0)) {
      throw new CredentialsError(
        `fromStatic: the credentials for ${credentials.accessKeyId} expire at ${new Date(expiresAt).toISOString()}; supply new ones`,
        { code: 'ExpiredCredentials' },
      );
    }
    return credentials;
  };
}
