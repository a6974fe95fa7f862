import { createCredentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import { envString, processEnv, type EnvLike } from '../internal/env.js';
import type { CredentialProvider } from '../types.js';

export type { EnvLike } from '../internal/env.js';
// Kept here too: importers of this module use it.
export { processEnv };

export const ENV_ACCESS_KEY_ID = 'ALIBABA_CLOUD_ACCESS_KEY_ID';
export const ENV_ACCESS_KEY_SECRET = 'ALIBABA_CLOUD_ACCESS_KEY_SECRET';
export const ENV_SECURITY_TOKEN = 'ALIBABA_CLOUD_SECURITY_TOKEN';

/**
 * Credentials from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and
 * (optionally) ALIBABA_CLOUD_SECURITY_TOKEN, read at every call. `env` defaults to
 * `process.env` where it exists; on edge runtimes pass the env object you have.
 *
 * Neither variable set: not configured (a chain tries the next provider). Only one of the
 * pair: a {@link ConfigError} naming the missing variable.
 *
 * @example
 * ```ts
 * import { fromEnv } from 'alicred';
 * const creds = await fromEnv()();                 // Node: reads process.env
 * // Cloudflare Worker: export default { fetch: (req, env) => fromEnv({ env })() ... }
 * ```
 */
export function fromEnv(options: { env?: EnvLike } = {}): CredentialProvider {
  return async function envProvider() {
    const env = options.env ?? processEnv();
    if (!env) {
      throw new CredentialsProviderError('fromEnv: this runtime has no process.env; pass { env }', {
        provider: 'env',
        tryNext: true,
      });
    }
    const accessKeyId = envString(env, ENV_ACCESS_KEY_ID);
    const accessKeySecret = envString(env, ENV_ACCESS_KEY_SECRET);
    const securityToken = envString(env, ENV_SECURITY_TOKEN);
    if (!accessKeyId && !accessKeySecret) {
      throw new CredentialsProviderError(`fromEnv: ${ENV_ACCESS_KEY_ID} and ${ENV_ACCESS_KEY_SECRET} are not set`, {
        provider: 'env',
        tryNext: true,
      });
    }
    const missing = !accessKeyId ? ENV_ACCESS_KEY_ID : !accessKeySecret ? ENV_ACCESS_KEY_SECRET : undefined;
    if (missing) {
      const present = missing === ENV_ACCESS_KEY_ID ? ENV_ACCESS_KEY_SECRET : ENV_ACCESS_KEY_ID;
      throw new ConfigError(`fromEnv: ${present} is set but ${missing} is missing or empty; set both or neither`, {
        provider: 'env',
        field: missing,
      });
    }
    return createCredentials({ accessKeyId: accessKeyId!, accessKeySecret: accessKeySecret!, securityToken, source: 'env' });
  };
}
