/**
 * The STS client's public shapes: options, results, the client type, constants, and the
 * wire names of AssumeRole's parameters (shared with the STS cache key).
 */
import type { Credentials } from '../credentials.js';
import type { Logger } from '../types.js';
import type { AssumeRoleParams, AssumeRoleWithOidcParams } from './validate.js';

export type { AssumeRoleParams, AssumeRoleWithOidcParams };

/** API version of STS. */
export const STS_API_VERSION = '2015-04-01';
/** Default time limit of one STS call (connect, answer and body), in ms. */
export const DEFAULT_STS_TIMEOUT_MS = 10_000;
/** Default `User-Agent` of STS calls. */
export const DEFAULT_STS_USER_AGENT = 'alicred';

/** `Credentials.source` of what {@link StsClient.assumeRole} returns. */
export const ASSUME_ROLE_SOURCE = 'sts:AssumeRole';
/** `Credentials.source` of what {@link StsClient.assumeRoleWithOidc} returns. */
export const ASSUME_ROLE_WITH_OIDC_SOURCE = 'sts:AssumeRoleWithOIDC';

/**
 * Options of {@link createStsClient}.
 *
 * @example
 * ```ts
 * import { createStsClient, type StsClientOptions } from 'alicred';
 * const options: StsClientOptions = { region: 'cn-hangzhou', vpc: true, timeoutMs: 5000, signatureVersion: 'v1' };
 * createStsClient(options).endpoint; // 'https://sts-vpc.cn-hangzhou.aliyuncs.com'
 * ```
 */
export type StsClientOptions = {
  /**
   * A host (`sts.cn-hangzhou.aliyuncs.com`, HTTPS implied) or a URL. Plain `http://` only for
   * loopback hosts (emulators). Default: env `ALIBABA_CLOUD_STS_ENDPOINT`, else from the
   * region, else `sts.aliyuncs.com`.
   */
  endpoint?: string;
  /** Region id (`cn-hangzhou`): `sts.<region>.aliyuncs.com`. Default: env `ALIBABA_CLOUD_STS_REGION`. */
  region?: string;
  /** With a region, use `sts-vpc.<region>.aliyuncs.com`. Default: env `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`. */
  vpc?: boolean;
  /** The fetch to use. Default: the global `fetch`, looked up at each call. */
  fetch?: typeof fetch;
  /** Time limit of one call, in ms (connect, answer and body). Default 10000. */
  timeoutMs?: number;
  /** `v3` (ACS3-HMAC-SHA256, default) or `v1` (HMAC-SHA1 RPC, as the credentials SDKs). OIDC is always unsigned. */
  signatureVersion?: 'v3' | 'v1';
  /** Environment for the endpoint defaults. Default: `process.env` where it exists, else none. */
  env?: Record<string, string | undefined>;
  /** Local clock (ms since the epoch), for request timestamps and expirations. Default `Date.now`. */
  clock?: () => number;
  /** `User-Agent` header. Default `alicred`. */
  userAgent?: string;
  /**
   * Receives warnings (an answer whose lifetime had to be cut to the DurationSeconds asked
   * for). Never given a secret.
   */
  logger?: Logger;
};

/**
 * AssumeRole's parameters under their wire names (undefined ones included, for the caller to
 * drop). Shared by the request and by the STS cache key, so the two never disagree.
 *
 * @example
 * ```ts
 * import { assumeRoleWireParams } from 'alicred';
 * assumeRoleWireParams({ roleArn: 'acs:ram::1:role/r', roleSessionName: 's' }).RoleArn; // 'acs:ram::1:role/r'
 * ```
 */
export function assumeRoleWireParams(params: AssumeRoleParams): Record<string, string | number | undefined> {
  return {
    RoleArn: params.roleArn,
    RoleSessionName: params.roleSessionName,
    DurationSeconds: params.durationSeconds,
    Policy: params.policy,
    ExternalId: params.externalId,
    SourceIdentity: params.sourceIdentity,
  };
}

/**
 * Options of one STS call.
 *
 * @example
 * ```ts
 * import { createStsClient, fromEnv, type StsCallOptions } from 'alicred';
 * const call: StsCallOptions = { signal: AbortSignal.timeout(3000) };
 * await createStsClient({ endpoint: 'http://127.0.0.1:8080' }).getCallerIdentity(await fromEnv()(), call); // a local emulator
 * ```
 */
export type StsCallOptions = {
  /** Aborts the call; it then rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
};

/**
 * `AssumedRoleUser` of an AssumeRole answer.
 *
 * @example
 * ```ts
 * import type { AssumedRoleUser } from 'alicred';
 * const user: AssumedRoleUser = { arn: 'acs:ram::1234567890123456:role/app/job', assumedRoleId: '3000:job' };
 * ```
 */
export type AssumedRoleUser = {
  /** ARN of the session, e.g. `acs:ram::<account>:role/<role>/<session>`. Treat as opaque. */
  readonly arn: string;
  /** `<role id>:<session name>`. */
  readonly assumedRoleId: string;
};

/**
 * Everything an AssumeRole answer says; see {@link StsClient.assumeRoleDetailed}.
 *
 * @example
 * ```ts
 * import { createStsClient, fromEnv } from 'alicred';
 * const sts = createStsClient({ endpoint: 'http://127.0.0.1:8080' }); // a local emulator
 * const r = await sts.assumeRoleDetailed(await fromEnv()(), {
 *   roleArn: 'acs:ram::1234567890123456:role/app', roleSessionName: 'job',
 * });
 * console.log(r.assumedRoleUser?.arn, r.requestId, r.clockSkewMs);
 * ```
 */
export type AssumeRoleResult = {
  /** The temporary credentials; `expiration` is on the local clock. */
  readonly credentials: Credentials;
  /** The session's identity, when the answer has it. */
  readonly assumedRoleUser: AssumedRoleUser | undefined;
  /** `SourceIdentity` echoed by STS, when set. */
  readonly sourceIdentity: string | undefined;
  /** STS request id (from the body, else the `x-acs-request-id` header; '' when neither). */
  readonly requestId: string;
  /** The answer's `Date` header, when present and parseable. */
  readonly serverDate: Date | undefined;
  /** `Expiration` exactly as STS stated it (server clock). */
  readonly statedExpiration: Date;
  /**
   * Server clock minus local clock, in ms, when the `Date` header (plus `Age`, the time a
   * cache held the answer) showed a difference of at least 2 s (and
   * `credentials.expiration` was moved by it); else 0. `credentials.expiration` is in any
   * case at most the requested `DurationSeconds` (default 3600) after the answer arrived.
   */
  readonly clockSkewMs: number;
};

/**
 * `OIDCTokenInfo` of an AssumeRoleWithOIDC answer: what STS read from the token.
 *
 * @example
 * ```ts
 * import type { OidcTokenInfo } from 'alicred';
 * const info: OidcTokenInfo = { issuer: 'https://oidc.example', subject: 'system:serviceaccount:ns:sa',
 *   clientIds: 'sts.aliyuncs.com', expirationTime: undefined, issuanceTime: undefined };
 * ```
 */
export type OidcTokenInfo = {
  readonly issuer: string | undefined;
  readonly subject: string | undefined;
  /** The token's audiences, comma-separated. */
  readonly clientIds: string | undefined;
  readonly expirationTime: string | undefined;
  readonly issuanceTime: string | undefined;
};

/**
 * Everything an AssumeRoleWithOIDC answer says.
 *
 * @example
 * ```ts
 * import { createStsClient } from 'alicred';
 * const sts = createStsClient({ endpoint: 'http://127.0.0.1:8080' }); // a local emulator
 * const r = await sts.assumeRoleWithOidcDetailed({
 *   roleArn: 'acs:ram::1234567890123456:role/app',
 *   oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
 *   oidcToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
 *   roleSessionName: 'rrsa-session',
 * });
 * console.log(r.oidcTokenInfo?.subject);
 * ```
 */
export type AssumeRoleWithOidcResult = AssumeRoleResult & {
  readonly oidcTokenInfo: OidcTokenInfo | undefined;
};

/**
 * The answer of GetCallerIdentity.
 *
 * @example
 * ```ts
 * import { createStsClient, fromEnv } from 'alicred';
 * const sts = createStsClient({ endpoint: 'http://127.0.0.1:8080' }); // a local emulator
 * const who = await sts.getCallerIdentity(await fromEnv()());
 * console.log(who.accountId, who.identityType, who.arn); // '1234…', 'RAMUser', 'acs:ram::1234…:user/alice'
 * ```
 */
export type CallerIdentity = {
  /** Account id (digits). */
  readonly accountId: string;
  /** Present for Alibaba Cloud account and RAM user callers; absent for assumed roles. */
  readonly userId: string | undefined;
  /** `acs:ram::<account>:user/<name>`, `…:assumed-role/<role>/<session>`, `…:root`. */
  readonly arn: string;
  /** `Account`, `RAMUser` or `AssumedRoleUser`. */
  readonly identityType: string | undefined;
  readonly principalId: string | undefined;
  /** Present for assumed-role callers. */
  readonly roleId: string | undefined;
  readonly requestId: string;
};

/**
 * A client of Alibaba Cloud STS; see {@link createStsClient}.
 *
 * @example
 * ```ts
 * import { createStsClient, fromEnv, type StsClient } from 'alicred';
 * const sts: StsClient = createStsClient({ endpoint: 'http://127.0.0.1:8080' }); // a local emulator
 * const creds = await sts.assumeRole(await fromEnv()(), { roleArn: 'acs:ram::1:role/app', roleSessionName: 'dev' });
 * ```
 */
export type StsClient = {
  /** The resolved endpoint: `https://host[:port]` or `http://<loopback>:port`, no trailing slash. */
  readonly endpoint: string;
  /**
   * AssumeRole signed with `source` (a RAM user's keys, or STS credentials: their token is
   * sent along). Parameters are validated first (ConfigError). Rejects with an
   * {@link StsError} on any failure, or with the signal's reason when aborted.
   */
  assumeRole(source: Credentials, params: AssumeRoleParams, options?: StsCallOptions): Promise<Credentials>;
  /** {@link StsClient.assumeRole} with the whole answer: assumed role user, request id, server date, skew. */
  assumeRoleDetailed(source: Credentials, params: AssumeRoleParams, options?: StsCallOptions): Promise<AssumeRoleResult>;
  /** AssumeRoleWithOIDC: anonymous, the OIDC token is the proof. */
  assumeRoleWithOidc(params: AssumeRoleWithOidcParams, options?: StsCallOptions): Promise<Credentials>;
  /** {@link StsClient.assumeRoleWithOidc} with the whole answer, including `oidcTokenInfo`. */
  assumeRoleWithOidcDetailed(params: AssumeRoleWithOidcParams, options?: StsCallOptions): Promise<AssumeRoleWithOidcResult>;
  /** Who `source` is: account, ARN, identity type. Needs no permission. */
  getCallerIdentity(source: Credentials, options?: StsCallOptions): Promise<CallerIdentity>;
};

/**
 * True for an {@link StsClient} (as opposed to the options to create one): an object with
 * either operation a provider calls as a method. A fake with only the one a provider calls
 * is a client, not options whose every field would be ignored.
 */
export function isStsClient(value: StsClient | StsClientOptions | undefined): value is StsClient {
  const v = value as Partial<StsClient> | undefined;
  return typeof v?.assumeRole === 'function' || typeof v?.assumeRoleWithOidc === 'function';
}

