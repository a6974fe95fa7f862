/**
 * Public types of the local RAM/STS + IoT Platform emulator, with its ECS instance metadata
 * service and credentials-URI endpoint (see {@link startEmulator}).
 *
 * @module
 */
import type { EmulatorFault } from './fault-types.js';
import type {
  EmulatorCloudSsoOptions,
  EmulatorOAuthOptions,
  MintCloudSsoTokenOptions,
  MintOAuthTokensOptions,
  MintedCloudSsoToken,
  MintedOAuthTokens,
} from './signin-types.js';

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
 * The emulated ECS instance metadata service (IMDS) of {@link EmulatorOptions.ecs}: one
 * instance, optionally with a RAM role attached, served at `emu.metadataEndpoint` under
 * `/latest/` as ECS does:
 *
 * - `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 1..21600`: an
 *   IMDSv2 (hardening mode) token, valid that many real seconds (not scaled by `timeScale`).
 *   A missing or bad TTL is 400; another method 405.
 * - `GET /latest/meta-data/ram/security-credentials/`: the role name (text), or 404 when no
 *   role is attached.
 * - `GET /latest/meta-data/ram/security-credentials/<role>`: `{AccessKeyId,
 *   AccessKeySecret, Expiration, SecurityToken, LastUpdated, Code: 'Success'}`; 404 for
 *   another role name.
 *
 * A data request with an unknown or expired `X-aliyun-ecs-metadata-token` is 401; without
 * one it is served (normal mode) unless `requireToken` is set (then 403). Errors are HTML
 * pages, as nginx in front of the real service sends them.
 *
 * Credentials are real: issued like AssumeRole results for the role (which gets
 * created, untrusted and with every permission, if `roles` has no role of that name), so
 * the product API accepts them until they expire.
 *
 * @example
 * ```ts
 * import type { EmulatorEcsOptions } from 'alicred/testing';
 * // 6 h credentials that the service replaces 1 h before they expire (timeScale applies to both)
 * const ecs: EmulatorEcsOptions = { roleName: 'ecs-role', requireToken: true, lifetimeSeconds: 21600, rotateBeforeSeconds: 3600 };
 * ```
 */
export type EmulatorEcsOptions = {
  /** The RAM role attached to the instance. Omitted: none (role discovery answers 404). */
  roleName?: string;
  /** Hardening mode only: data requests without a token get 403. Default false. */
  requireToken?: boolean;
  /** Lifetime of issued credentials in seconds, divided by `timeScale` like STS durations. Default 21600 (6 h). */
  lifetimeSeconds?: number;
  /**
   * The service hands out the same credentials until `Expiration - rotateBeforeSeconds`
   * (scaled by `timeScale`), then new ones. Default `min(3600, lifetimeSeconds / 2)`: an
   * assumption (ECS does not document its lead time; the official Node library prefetches
   * ECS credentials during their last hour). Must be less than `lifetimeSeconds`.
   */
  rotateBeforeSeconds?: number;
};

/**
 * The emulated credentials-URI endpoint of {@link EmulatorOptions.credentialsUri}, served at
 * `emu.credentialsUri`: `GET` answers `{Code: 'Success', AccessKeyId, AccessKeySecret,
 * SecurityToken, Expiration}` with new credentials of `roleName` on every request (the role
 * is created, untrusted and with every permission, if `roles` has none of that name). Another
 * method is 405; a missing or wrong `requireHeader` is 401 with `{Code: 'Unauthorized'}`.
 *
 * @example
 * ```ts
 * import type { EmulatorCredentialsUriOptions } from 'alicred/testing';
 * const uri: EmulatorCredentialsUriOptions = { roleName: 'vended', requireHeader: { name: 'Authorization', value: 'Bearer t0k' } };
 * ```
 */
export type EmulatorCredentialsUriOptions = {
  /** The role whose credentials are handed out. */
  roleName: string;
  /** Path on the emulator's port. Default `/credentials-uri`; not `/` and not under `/latest/`. */
  path?: string;
  /** A header every request must carry with exactly this value. */
  requireHeader?: { name: string; value: string };
  /** Lifetime of issued credentials in seconds, divided by `timeScale`. Default 3600. */
  lifetimeSeconds?: number;
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
  /** TCP port on 127.0.0.1 (e.g. a fixed one for `alicred emulator --port`). Default 0: a free port. */
  port?: number;
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
  /**
   * Serve an ECS instance metadata service at {@link Emulator.metadataEndpoint}; see
   * {@link EmulatorEcsOptions}. Omitted: every `/latest/` path answers 404 (not an ECS instance).
   */
  ecs?: EmulatorEcsOptions;
  /**
   * Serve a credentials-URI endpoint at {@link Emulator.credentialsUri}; see
   * {@link EmulatorCredentialsUriOptions}. Omitted: that path answers 404.
   */
  credentialsUri?: EmulatorCredentialsUriOptions;
  /**
   * Serve a CloudSSO portal's `POST /cloud-credentials` (at {@link Emulator.cloudSsoSignInUrl}'s
   * origin) for tokens from {@link Emulator.mintCloudSsoToken}; see {@link EmulatorCloudSsoOptions}.
   * Every `assignments[].role` must be a role of the account.
   */
  cloudSso?: EmulatorCloudSsoOptions;
  /**
   * Serve an OAuth server's `POST /v1/token` and `POST /v1/exchange` at
   * {@link Emulator.oauthBaseUrl} for tokens from {@link Emulator.mintOAuthTokens}; see
   * {@link EmulatorOAuthOptions}. `role` must be a role of the account.
   */
  oauth?: EmulatorOAuthOptions;
  /**
   * CORS for browser tests, on every endpoint: a preflight (`OPTIONS` with
   * `Access-Control-Request-Method`) from a listed origin gets 204 (methods GET, POST, PUT,
   * DELETE, HEAD; requested headers echoed), from another 403; every answer to a listed
   * origin carries `Access-Control-Allow-Origin` and exposes `ETag, x-oss-request-id,
   * x-acs-request-id, Date`. Exact origins, or `'*'`. Preflights are not logged. Omitted: no
   * CORS. E.g. `cors: { allowOrigins: ['http://localhost:5173'] }`.
   */
  cors?: { allowOrigins: string[] };
};

export type { EmulatorFault };
export type { EmulatorCloudSsoAssignment, EmulatorCloudSsoOptions, EmulatorOAuthOptions } from './signin-types.js';
export type { MintCloudSsoTokenOptions, MintOAuthTokensOptions, MintedCloudSsoToken, MintedOAuthTokens } from './signin-types.js';

/**
 * Credentials the emulator issued (AssumeRole, AssumeRoleWithOIDC, ECS metadata, credentials
 * URI); see {@link Emulator.issued}. Tests look for these secrets in logs and errors.
 *
 * @example
 * ```ts
 * import { startEmulator, type EmulatorIssuedCredentials } from 'alicred/testing';
 * const emu = await startEmulator({ credentialsUri: { roleName: 'vended' } });
 * await fetch(emu.credentialsUri);
 * const [first]: EmulatorIssuedCredentials[] = emu.issued();
 * first?.roleName; // 'vended'
 * await emu.close();
 * ```
 */
export type EmulatorIssuedCredentials = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** On the emulator clock. */
  expiration: Date;
  roleName: string;
  sessionName: string;
};

/**
 * How a request was authenticated: POP V1 (HMAC-SHA1 RPC), POP V3 (ACS3-HMAC-SHA256), OSS V1
 * (`Authorization: OSS`, or a V1 presigned URL), OSS V4 (`OSS4-HMAC-SHA256`, header or URL),
 * Table Store (`x-ots-signature`), or not at all.
 *
 * @example
 * ```ts
 * import { startEmulator, type SignatureVersion } from 'alicred/testing';
 * const emu = await startEmulator();
 * const by = (v: SignatureVersion) => emu.requests().filter((r) => r.signatureVersion === v);
 * by('anonymous'); // the AssumeRoleWithOIDC calls
 * await emu.close();
 * ```
 */
export type SignatureVersion = 'v1' | 'v3' | 'oss-v1' | 'oss-v4' | 'ots' | 'anonymous';

/**
 * How an IMDS data request carried the IMDSv2 token: a `valid` one, an unknown or expired
 * one (`invalid`), or none (`absent`, i.e. IMDSv1 / normal mode).
 *
 * @example
 * ```ts
 * import { startEmulator, type MetadataTokenState } from 'alicred/testing';
 * const emu = await startEmulator({ ecs: { roleName: 'app' } });
 * const carried = (state: MetadataTokenState) => emu.requests().filter((r) => r.metadataToken === state);
 * carried('absent'); // the IMDSv1 requests
 * await emu.close();
 * ```
 */
export type MetadataTokenState = 'valid' | 'invalid' | 'absent';

/**
 * One entry of {@link Emulator.requests}.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator();
 * await fetch(`${emu.url}/?Action=GetCallerIdentity&Version=2015-04-01`); // unsigned: refused
 * const [first] = emu.requests();
 * first?.code; // e.g. 'SignatureDoesNotMatch', or undefined on success
 * await emu.close();
 * ```
 */
export type EmulatorRequestRecord = {
  /** When it arrived, on the emulator clock. */
  time: Date;
  method: string;
  /** The request path without the query, e.g. `/` or `/latest/api/token`. */
  path: string;
  /**
   * The API action, `''` when none could be read; for the vending endpoints
   * `MetadataToken`, `MetadataRole`, `MetadataCredentials`, `Metadata` or `CredentialsUri`.
   */
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
  /** IMDS data requests (`MetadataRole`, `MetadataCredentials`, `Metadata`) only: the token they carried. */
  metadataToken?: MetadataTokenState;
};

/**
 * Options of {@link Emulator.mintOidcToken}.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({ oidcProviders: [{ name: 'ack-rrsa' }] });
 * const jwt = emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', expiresInSeconds: 600 });
 * await emu.close();
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
 * emu.metadataEndpoint; // 'http://127.0.0.1:54321' (ECS IMDS, with the `ecs` option)
 * emu.credentialsUri;   // 'http://127.0.0.1:54321/credentials-uri' (with the `credentialsUri` option)
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
  /**
   * The ECS instance metadata endpoint (the stand-in for `http://100.100.100.200`): the same
   * as {@link Emulator.url}; served when {@link EmulatorOptions.ecs} is given.
   */
  readonly metadataEndpoint: string;
  /** The full credentials URI (`<url><path>`); served when {@link EmulatorOptions.credentialsUri} is given. */
  readonly credentialsUri: string;
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
  /**
   * Deletes a role: later AssumeRole calls for it get `EntityNotExist.Role`; sessions
   * already issued stay valid until they expire. Returns false when there was no such role.
   */
  deleteRole(name: string): boolean;
  /** Every credential issued so far, oldest first (their secrets included: for leak checks). */
  issued(): EmulatorIssuedCredentials[];
  /**
   * Invalidates every IMDSv2 token issued so far (as an instance restart would): data
   * requests carrying one then get 401. Returns how many were still valid.
   */
  revokeMetadataTokens(): number;
  /** Makes the metadata service issue new instance credentials at the next request. */
  rotateMetadataCredentials(): void;
  /** `<url>/device/login`: a profile's `cloud_sso_sign_in_url` (clients use only its origin). */
  readonly cloudSsoSignInUrl: string;
  /** `<url>`: the OAuth base URL (stand-in for `https://oauth.aliyun.com`), with the `oauth` option. */
  readonly oauthBaseUrl: string;
  /** A CloudSSO access token valid for every `cloudSso` assignment; throws a TypeError without that option. */
  mintCloudSsoToken(options?: MintCloudSsoTokenOptions): MintedCloudSsoToken;
  /** An OAuth access and refresh token, as a login leaves them; throws a TypeError without the `oauth` option. */
  mintOAuthTokens(options?: MintOAuthTokensOptions): MintedOAuthTokens;
  /** Invalidates a CloudSSO access token (then 401 `InvalidAccessToken`); false when unknown or already revoked. */
  revokeCloudSsoToken(token: string): boolean;
  /**
   * Invalidates an OAuth refresh token (then 400 `invalid_grant`); access tokens issued from it
   * stay valid until they expire. False when unknown, already used (rotated) or revoked.
   */
  revokeOAuthRefreshToken(token: string): boolean;
  /** Closes the server, every open socket and every pending timer. Idempotent. */
  close(): Promise<void>;
};
