/**
 * Public types of the local RAM/STS + IoT Platform emulator (see {@link startEmulator}).
 *
 * @module
 */

/**
 * One statement of a RAM policy. Only `Effect`, `Action` and `Resource` are evaluated;
 * `Condition` is accepted and ignored.
 *
 * - `Action`: `'sts:AssumeRole'`, `'iot:QueryProductList'`, or a wildcard such as
 *   `'iot:*'`, `'iot:Query*'`, `'*'` (matched case-insensitively, `*` and `?` globs).
 * - `Resource`: evaluated for `sts:AssumeRole` only (against the role ARN,
 *   `acs:ram::<accountId>:role/<name>`); absent means `*`. For product API actions any
 *   Resource matches (resources are not modelled).
 *
 * @example
 * ```ts
 * import type { PolicyStatement } from 'alicred/testing';
 * const readOnly: PolicyStatement = { Effect: 'Allow', Action: ['iot:Query*', 'iot:Get*'], Resource: '*' };
 * ```
 */
export type PolicyStatement = {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
};

/**
 * A RAM policy document. Explicit `Deny` wins over any `Allow`; no matching `Allow` is an
 * implicit deny.
 *
 * @example
 * ```ts
 * import type { Policy } from 'alicred/testing';
 * const policy: Policy = {
 *   Version: '1',
 *   Statement: [
 *     { Effect: 'Allow', Action: 'iot:*' },
 *     { Effect: 'Deny', Action: 'iot:Delete*' },
 *   ],
 * };
 * ```
 */
export type Policy = {
  Version?: string;
  Statement: PolicyStatement[];
};

/**
 * A RAM user with one AccessKey pair.
 *
 * `policies` are the user's own permissions: they decide whether it may call
 * `sts:AssumeRole` and product APIs. When `policies` is omitted the user may do
 * everything (like a user holding `AdministratorAccess`); `[]` allows nothing.
 *
 * @example
 * ```ts
 * import type { EmulatorUser } from 'alicred/testing';
 * const alice: EmulatorUser = { name: 'alice', accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * ```
 */
export type EmulatorUser = {
  name: string;
  accessKeyId: string;
  accessKeySecret: string;
  policies?: Policy[];
  /** A disabled key is rejected with `InvalidAccessKeyId.Inactive`. */
  disabled?: boolean;
};

/**
 * A RAM role.
 *
 * Trust (who may assume it): `trustedUsers` (user names, `'*'` for every user of the
 * account), `trustedRoles` (role names: STS credentials of those roles may assume this one,
 * i.e. role chaining; an STS caller is also trusted when the RAM user at the root of its
 * chain is in `trustedUsers`) and `trustedOidcProviders` (OIDC provider names, for
 * AssumeRoleWithOIDC).
 *
 * `policies` are the role's permissions; when omitted a session of this role may do
 * everything, `[]` allows nothing. A session policy passed to AssumeRole narrows them.
 *
 * @example
 * ```ts
 * import type { EmulatorRole } from 'alicred/testing';
 * const reader: EmulatorRole = {
 *   name: 'iot-reader', trustedUsers: ['alice'], maxSessionDuration: 3600,
 *   policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:Query*' }] }],
 * };
 * ```
 */
export type EmulatorRole = {
  name: string;
  trustedUsers?: string[];
  trustedRoles?: string[];
  trustedOidcProviders?: string[];
  /** Seconds, 3600..43200 (RAM's range). Default 3600. */
  maxSessionDuration?: number;
  policies?: Policy[];
};

/**
 * An OIDC identity provider registered in RAM.
 *
 * @example
 * ```ts
 * import type { EmulatorOidcProvider } from 'alicred/testing';
 * const rrsa: EmulatorOidcProvider = { name: 'ack-rrsa-c123', clientIds: ['sts.aliyuncs.com'] };
 * ```
 */
export type EmulatorOidcProvider = {
  name: string;
  /** `iss` of the tokens it issues. Default `https://oidc.emulator.invalid/<name>` (never contacted). */
  issuerUrl?: string;
  /** Accepted audiences (`aud`). Default `['sts.aliyuncs.com']`. */
  clientIds?: string[];
};

/**
 * An IoT Platform product served by the emulated product API (QueryProductList,
 * QueryDeviceDetail).
 *
 * @example
 * ```ts
 * import type { EmulatorProduct } from 'alicred/testing';
 * const lamp: EmulatorProduct = { productKey: 'a1LampKey01', productName: 'Lamp' };
 * ```
 */
export type EmulatorProduct = {
  productKey: string;
  productName: string;
  /** 0 = device, 1 = gateway. Default 0. */
  nodeType?: number;
  /** 0 = custom format, 1 = Alink JSON. Default 1. */
  dataFormat?: number;
  /** Default `'secret'`. */
  authType?: string;
  description?: string;
  deviceCount?: number;
};

/**
 * Options of {@link startEmulator}. Every field is optional.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({
 *   users: [{ name: 'alice', accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' }],
 *   roles: [{ name: 'iot-reader', trustedUsers: ['alice'] }],
 *   timeScale: 60, // a 900 s token lives 15 s of real time
 * });
 * await emu.close();
 * ```
 */
export type EmulatorOptions = {
  /** The 16-digit account id in every ARN. Default `'1234567890123456'`. */
  accountId?: string;
  users?: EmulatorUser[];
  roles?: EmulatorRole[];
  /**
   * OIDC providers. When omitted, one provider named `'emulator-oidc'` exists, so
   * `mintOidcToken` works out of the box; pass `[]` for none.
   */
  oidcProviders?: EmulatorOidcProvider[];
  /** IoT products. Default: two sample products. */
  products?: EmulatorProduct[];
  /**
   * Number >= 1: issued STS credentials expire that many times faster in real time
   * (`Expiration = now + DurationSeconds * 1000 / timeScale`), so a demo shows refreshes in
   * seconds. Validation of DurationSeconds (900..max) still uses the unscaled value. Default 1.
   */
  timeScale?: number;
  /** The emulator's clock in epoch ms (token expiry, timestamp checks, `Date` header). Default `Date.now`. */
  clock?: () => number;
  /** Accepted skew of request timestamps (`Timestamp`, `x-acs-date`) in seconds. Default 900 (15 min). */
  maxSkewSeconds?: number;
};

/**
 * A fault to inject into the next matching request(s); see {@link Emulator.inject}.
 *
 * Without `status`, `code`, `reset` or `body`, only the latency applies and the request is
 * then served normally.
 *
 * @example
 * ```ts
 * emu.inject({ action: 'AssumeRole', count: 2, status: 503, code: 'ServiceUnavailable' });
 * emu.inject({ action: 'AssumeRole', latencyMs: 2_000 });        // slow, then normal
 * emu.inject({ reset: true });                                    // destroy the socket
 * emu.inject({ body: 'html', status: 502 });                      // a proxy's error page
 * emu.inject({ body: 'malformed-json' });                         // 200 with truncated JSON
 * ```
 */
export type EmulatorFault = {
  /** Only requests for this action (`AssumeRole`, `QueryProductList`...). Default: any. */
  action?: string;
  /** How many matching requests it applies to. Default 1. */
  count?: number;
  /** HTTP status of the error. Default 500, or 400 for a code containing `Throttling`; 200 for `body` faults, 502 for `'html'`. */
  status?: number;
  /** Error code in the body. Default derived from the status (`ServiceUnavailable`, `InternalError`...). */
  code?: string;
  /** Error message in the body. */
  message?: string;
  /** Delay before answering (or before resetting), in ms. */
  latencyMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Answer with an HTML page, truncated JSON, or this literal body. */
  body?: 'html' | 'malformed-json' | (string & {});
};

/**
 * How a request was authenticated: V1 (HMAC-SHA1 RPC), V3 (ACS3-HMAC-SHA256) or not at all.
 *
 * @example
 * emu.requests().filter((r) => r.signatureVersion === 'anonymous'); // the AssumeRoleWithOIDC calls
 */
export type SignatureVersion = 'v1' | 'v3' | 'anonymous';

/**
 * One entry of {@link Emulator.requests}.
 *
 * @example
 * ```ts
 * const [first] = emu.requests();
 * first?.code; // e.g. 'SignatureDoesNotMatch', or undefined on success
 * ```
 */
export type EmulatorRequestRecord = {
  /** When it arrived, on the emulator clock. */
  time: Date;
  method: string;
  /** The API action, `''` when none could be read. */
  action: string;
  /** The API version, `''` when none could be read. */
  version: string;
  /** The caller's AccessKeyId, when the request carried one. */
  accessKeyId: string | undefined;
  signatureVersion: SignatureVersion;
  /** HTTP status sent; 0 while pending or when the socket was reset. */
  status: number;
  /** Error code sent (`undefined` on success); `'ConnectionReset'` for a reset fault. */
  code: string | undefined;
  /** True when an injected fault shaped the answer. */
  fault: boolean;
};

/**
 * Options of {@link Emulator.mintOidcToken}.
 *
 * @example
 * ```ts
 * const jwt = emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', expiresInSeconds: 600 });
 * ```
 */
export type MintOidcTokenOptions = {
  subject: string;
  /** `aud`; default the provider's first client id (`sts.aliyuncs.com`). */
  audience?: string | string[];
  /** Provider that issues it; default the first configured provider. */
  providerName?: string;
  /** Lifetime in seconds on the emulator clock (negative: already expired). Default 3600. */
  expiresInSeconds?: number;
};

/**
 * A running emulator; see {@link startEmulator}.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({ roles: [{ name: 'r' }] });
 * emu.url;            // 'http://127.0.0.1:54321'
 * emu.host;           // '127.0.0.1:54321'  (endpoint for Tea clients, with protocol: 'http')
 * emu.roleArn('r');   // 'acs:ram::1234567890123456:role/r'
 * await emu.close();
 * ```
 */
export type Emulator = {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>`: the `endpoint` of an official Tea client (with `protocol: 'http'`). */
  readonly host: string;
  /** The STS endpoint: the same as {@link Emulator.url} (STS and the product API share the port). */
  readonly stsEndpoint: string;
  /** The IoT Platform endpoint: the same as {@link Emulator.url}. */
  readonly productEndpoint: string;
  readonly port: number;
  readonly accountId: string;
  /** `acs:ram::<accountId>:role/<name lower-cased>`, whether or not the role exists. */
  roleArn(name: string): string;
  /** `acs:ram::<accountId>:oidc-provider/<name>`, whether or not the provider exists. */
  oidcProviderArn(name: string): string;
  /** Requests received (including rejected and faulted ones), for one action or all. */
  callCount(action?: string): number;
  /** A copy of the request log, oldest first. */
  requests(): EmulatorRequestRecord[];
  /** Queues a fault for the next matching request(s). */
  inject(fault: EmulatorFault): void;
  /** Drops every queued fault. */
  clearFaults(): void;
  /** A signed JWT (header.payload.signature) for AssumeRoleWithOIDC. */
  mintOidcToken(options: MintOidcTokenOptions): string;
  /**
   * Invalidates an AccessKey (a user's or an issued `STS.` one): later requests with it
   * get `InvalidAccessKeyId.NotFound`. Returns false when the key is unknown.
   */
  revoke(accessKeyId: string): boolean;
  /** Closes the server, every open socket and every pending timer. Idempotent. */
  close(): Promise<void>;
};
