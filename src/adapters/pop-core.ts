/**
 * alicred/pop-core — the legacy `@alicloud/pop-core` RPC and ROA clients (>= 1.8.0), signing
 * every request with an alicred provider's current credentials through the client's
 * `credentialsProvider` option.
 *
 * @packageDocumentation
 */
import { ConfigError } from '../errors.js';
import type { CredentialProvider } from '../types.js';
import { checkProvider, describe, snapshotOf } from './snapshot.js';

/** What pop-core's `credentialsProvider.getCredentials()` resolves to. */
export type PopCoreCredentials = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
};

/**
 * What {@link toPopCoreConfig} adds to a pop-core config. `accessKeyId` and `accessKeySecret`
 * are empty strings, present only because pop-core's type declarations require them: with a
 * `credentialsProvider`, pop-core never reads them (and a pop-core older than 1.8, which
 * would, refuses the empty key at construction instead of sending unsigned requests).
 *
 * @example
 * ```ts
 * import { fromStatic } from 'alicred';
 * import { toPopCoreConfig, type PopCoreCredentialsConfig } from 'alicred/pop-core';
 * const config = toPopCoreConfig(fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }), {
 *   endpoint: 'http://127.0.0.1:8080', apiVersion: '2018-01-20' });
 * const added: PopCoreCredentialsConfig = config;
 * await added.credentialsProvider.getCredentials(); // { accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }
 * ```
 */
export type PopCoreCredentialsConfig = {
  accessKeyId: string;
  accessKeySecret: string;
  credentialsProvider: { getCredentials(): Promise<PopCoreCredentials> };
};

/** Keys of a pop-core config that carry credentials: set here, so refused in the input. */
const OWNED = ['accessKeyId', 'accessKeySecret', 'secretAccessKey', 'securityToken', 'credentialsProvider'] as const;

/**
 * A config for `new RPCClient(...)` or `new ROAClient(...)` (pop-core >= 1.8.0) whose
 * `credentialsProvider` answers `provider`'s current credentials for every request; it throws
 * (failing the request) rather than let pop-core send one unsigned. Synchronous: nothing is
 * fetched until the first request. Throws a ConfigError when `config` already carries keys or
 * a credentialsProvider.
 *
 * @example
 * ```ts
 * import RPCClient from '@alicloud/pop-core';
 * import { fromRamRole, fromStatic } from 'alicred';
 * import { toPopCoreConfig } from 'alicred/pop-core';
 *
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/iot-operator',
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * });
 * const client = new RPCClient(toPopCoreConfig(provider, { endpoint: 'http://127.0.0.1:8080', apiVersion: '2018-01-20' }));
 * // await client.request('QueryProductList', { CurrentPage: 1, PageSize: 10 }, { method: 'POST' });
 * provider.close();
 * ```
 */
export function toPopCoreConfig<C extends object>(provider: CredentialProvider, config: C): Omit<C, keyof PopCoreCredentialsConfig> & PopCoreCredentialsConfig {
  checkProvider(provider, 'toPopCoreConfig');
  if (typeof config !== 'object' || config === null) {
    throw new ConfigError(`toPopCoreConfig: config must be the config object of new RPCClient(...), got ${describe(config)}`, {
      provider: 'toPopCoreConfig',
      field: 'config',
    });
  }
  for (const key of OWNED) {
    if ((config as Record<string, unknown>)[key] !== undefined) {
      throw new ConfigError(`toPopCoreConfig: config.${key} is set; leave credentials out: the provider supplies them`, {
        provider: 'toPopCoreConfig',
        field: key,
      });
    }
  }
  return {
    ...config,
    accessKeyId: '',
    accessKeySecret: '',
    credentialsProvider: {
      async getCredentials(): Promise<PopCoreCredentials> {
        // snapshotOf throws unless there is a non-empty key and secret: pop-core would
        // otherwise send the request without a signature.
        const c = await snapshotOf(provider, 'toPopCoreConfig');
        return c.securityToken === undefined
          ? { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret }
          : { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken };
      },
    },
  };
}
