import { defaultStsCache, stsCacheKey, type StsCache } from '../cache.js';
import { refreshing, type RefreshingProvider, type RefreshOptions, type WindowSize } from '../refresh.js';
import { engineOptions, stsClientFor } from './options.js';
import { assumeRoleWireParams, type StsClient, type StsClientOptions } from '../sts/api.js';
import { createAssumeRoleClient, type AssumeRoleClient } from '../sts/assume-role.js';
import { validateAssumeRoleParams } from '../sts/validate.js';
import type { CredentialProvider, Logger, ProviderCallOptions } from '../types.js';
import type { Credentials } from '../credentials.js';
import type { AssumeRoleParams } from '../sts/api.js';

/**
 * Options of {@link fromRamRole}.
 *
 * @example
 * ```ts
 * import { fromRamRole, fromStatic, type FromRamRoleOptions } from 'alicred';
 * const options: FromRamRoleOptions = {
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/iot-operator',
 *   roleSessionName: 'billing-worker',   // shows up in ActionTrail
 *   durationSeconds: 900,
 *   // Narrower than the role: this process only reads.
 *   policy: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'iot:Query*', Resource: '*' }] }),
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * };
 * const provider = fromRamRole(options);
 * provider.close();
 * ```
 */
export type FromRamRoleOptions = {
  /** The identity that assumes the role: any provider (a RAM user's keys, another role...). */
  source: CredentialProvider;
  /** `acs:ram::<account id>:role/<role name>`. */
  roleArn: string;
  /** 2–64 characters of `[\w.@-]`. Default `alicred`: stable, so providers of one role share results. */
  roleSessionName?: string;
  /** A session policy (JSON) that narrows the role's permissions. */
  policy?: string;
  /** 900 s up to the role's maximum session duration. Default 3600. */
  durationSeconds?: number;
  externalId?: string;
  sourceIdentity?: string;
  /** An StsClient, or the options to create one (e.g. `{ endpoint: 'http://127.0.0.1:8080' }`). */
  sts?: StsClient | StsClientOptions;
  /** Where results are shared; `false` for none. Default: the process-wide {@link defaultStsCache}. */
  cache?: StsCache | false;
  /** Options of the refresh engine (windows, retries, clock...); `refresh.clock` also drives an STS client created here. */
  refresh?: RefreshOptions;
  /** Receives warnings (a clamped lifetime, failed background refreshes); never secrets. */
  logger?: Logger;
};

/**
 * Temporary credentials for a RAM role, obtained with STS AssumeRole from `source`'s
 * identity and kept fresh by the refresh engine. Results go through the shared STS cache:
 * many providers (many clients) of one role and one source identity make one STS call.
 * Role chaining is `fromRamRole({ source: fromRamRole({ ... }), roleArn })`.
 *
 * Parameters are validated here, before any request: a bad one is a ConfigError naming it.
 *
 * @example
 * ```ts
 * import { fromRamRole, fromStatic } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // The local emulator plays STS; in production drop `sts` and use your own role's ARN.
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'iot-operator', trustedUsers: ['alice'] }] });
 * const provider = fromRamRole({
 *   source: fromStatic(alice),
 *   roleArn: emu.roleArn('iot-operator'), // acs:ram::1234567890123456:role/iot-operator
 *   durationSeconds: 900,
 *   sts: { endpoint: emu.stsEndpoint },
 * });
 * const creds = await provider();   // STS.… key, refreshed about every 450 s
 * provider.close();
 * await emu.close();
 * ```
 */
export function fromRamRole(options: FromRamRoleOptions): RefreshingProvider {
  const role: RamRole = {
    roleArn: options.roleArn,
    roleSessionName: options.roleSessionName ?? 'alicred',
    durationSeconds: options.durationSeconds ?? 3600,
    policy: options.policy,
    externalId: options.externalId,
    sourceIdentity: options.sourceIdentity,
    // Only what a refresh needs, not `options`: a provider does not keep the caller's object alive.
    source: options.source,
    client: stsClientFor(options.sts, options, createAssumeRoleClient, 'assumeRole', 'fromRamRole'),
    cache: options.cache === undefined ? defaultStsCache : options.cache,
    advisoryWindowMs: options.refresh?.advisoryWindowMs,
  };
  validateAssumeRoleParams(role);
  return refreshing(
    assumeRole.bind(role),
    engineOptions(options, { name: `ram-role ${role.roleArn}`, maxLifetimeMs: role.durationSeconds * 1000 }),
  );
}

/** One role provider's request and where it goes: one object, bound to {@link assumeRole}. */
type RamRole = AssumeRoleParams & {
  readonly durationSeconds: number;
  readonly source: CredentialProvider;
  readonly client: AssumeRoleClient;
  readonly cache: StsCache | false;
  readonly advisoryWindowMs: WindowSize | undefined;
};

/** The source of a fromRamRole provider: AssumeRole as `source`'s identity, through the STS cache. */
async function assumeRole(this: RamRole, { forceRefresh, signal }: ProviderCallOptions = {}): Promise<Credentials> {
  const identity = await this.source({ signal });
  const { client, cache } = this;
  if (!cache) return client.assumeRole(identity, this, { signal });
  const key = await stsCacheKey({
    source: identity,
    action: 'AssumeRole',
    endpoint: client.endpoint,
    params: assumeRoleWireParams(this),
  });
  // The shared load is not tied to one caller's signal: others may be waiting on it.
  return cache.get(key, () => client.assumeRole(identity, this), { forceRefresh, signal, advisoryWindowMs: this.advisoryWindowMs });
}
