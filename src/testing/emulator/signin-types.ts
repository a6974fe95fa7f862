/**
 * Public types of the emulator's CloudSSO and OAuth sign-in endpoints, in a file of their own
 * (see {@link EmulatorOptions.cloudSso} and {@link EmulatorOptions.oauth}).
 *
 * Where the real services' behaviour is unknown (the reference notes' open questions), the
 * emulator's choice is stated on the option or endpoint it concerns.
 *
 * @module
 */

/**
 * One CloudSSO access assignment: an access configuration of a (Resource Directory member)
 * account, and the emulator role whose STS credentials `/cloud-credentials` issues for it.
 * The credentials are those of `role` in the emulator's one account, whatever `accountId`
 * says.
 *
 * @example
 * ```ts
 * import type { EmulatorOptions } from 'alicred/testing';
 * type Assignment = NonNullable<EmulatorOptions['cloudSso']>['assignments'][number]; // EmulatorCloudSsoAssignment
 * const admin: Assignment = { accountId: '1234567890123456', accessConfigurationId: 'ac-admin', role: 'sso-admin' };
 * ```
 */
export type EmulatorCloudSsoAssignment = { accountId: string; accessConfigurationId: string; role: string };

/**
 * The CloudSSO user portal of {@link EmulatorOptions.cloudSso}: `POST /cloud-credentials` on
 * the emulator's port (reach it through `emu.cloudSsoSignInUrl`, whose origin clients use).
 *
 * Request: `Authorization: Bearer <access token>` (from `emu.mintCloudSsoToken()`), JSON body
 * `{"AccountId","AccessConfigurationId"}`. Success (200):
 * `{"CloudCredential":{"AccessKeyId","AccessKeySecret","SecurityToken","Expiration"},"RequestId"}`
 * with `Expiration` as `YYYY-MM-DDTHH:MM:SSZ`. The session is named `cloudsso-user`.
 *
 * Errors are `{"ErrorCode","ErrorMessage","RequestId"}`; the real codes are unknown, so these
 * are the emulator's choice, checked in this order:
 * - another method: 405 `MethodNotAllowed`;
 * - no or malformed `Authorization: Bearer`: 401 `MissingAccessToken`;
 * - unknown or revoked token: 401 `InvalidAccessToken`; expired token: 401 `AccessTokenExpired`
 *   (the token is never named in a message);
 * - body not a JSON object, or `AccountId` / `AccessConfigurationId` not a non-empty string:
 *   400 `InvalidParameter`;
 * - no such assignment (or its role was deleted): 403 `Forbidden` "Access Denied", as the
 *   aliyun CLI's test fixture shows.
 *
 * @example
 * ```ts
 * import type { EmulatorOptions } from 'alicred/testing';
 * // EmulatorCloudSsoOptions:
 * const sso: EmulatorOptions['cloudSso'] = {
 *   assignments: [{ accountId: '1234567890123456', accessConfigurationId: 'ac-readonly', role: 'sso-reader' }],
 *   durationSeconds: 3600,
 * };
 * ```
 */
export type EmulatorCloudSsoOptions = {
  /** What the access tokens may be exchanged for: an access configuration of an account, and the emulator role whose STS credentials it yields. */
  assignments: EmulatorCloudSsoAssignment[];
  /**
   * Lifetime (s, before timeScale) of the STS credentials /cloud-credentials issues. Default
   * 3600. An integer in 1..43200: the real range (an access configuration's session duration)
   * is 900..43200; shorter ones let tests cross refresh points without `timeScale`.
   */
  durationSeconds?: number;
};

/**
 * The OAuth server of {@link EmulatorOptions.oauth}, on the emulator's port (reach it through
 * `emu.oauthBaseUrl`, the stand-in for `https://oauth.aliyun.com` / `https://oauth.alibabacloud.com`).
 *
 * `POST /v1/token`, form-encoded `grant_type=refresh_token&refresh_token=…&client_id=…`
 * (`Timestamp` accepted and ignored; parameters in the query are not read): 200
 * `{"access_token","refresh_token","expires_in","token_type":"Bearer"}` with `expires_in` in
 * whole seconds of the scaled lifetime and always a `refresh_token`. Client ids: CN
 * `4038181954557748008`, INTL `4103531455503354461`; a refresh token is bound to its site's.
 * New tokens get `accessTokenSeconds` / `refreshTokenSeconds` from these options (not a
 * minted token's overrides); access tokens issued before stay valid until they expire.
 * Errors are `{"error","error_description"}` (the emulator's choice where unknown):
 * - another method: 405 `invalid_request`; a body that is not form-encoded, or a missing
 *   `grant_type`, `client_id` or `refresh_token`: 400 `invalid_request`;
 * - a grant type other than `refresh_token`: 400 `unsupported_grant_type`;
 * - a client id that is neither site's: 401 `invalid_client`; the other site's id: 400
 *   `invalid_client`;
 * - an unknown, used (rotated), revoked or expired refresh token: 400 `invalid_grant`, the
 *   description saying which. Reusing a rotated token does not revoke its successors.
 *
 * `POST /v1/exchange`, `Authorization: Bearer <access token>`, body ignored: 200
 * `{"requestId","accessKeyId","accessKeySecret","securityToken","expiration"}` (PascalCase
 * with `exchangeCase: 'pascal'`), session named `oauth-user`. A token is accepted until it
 * expires, however close that is. Errors are `{"error","error_description","requestId"}` with
 * a `WWW-Authenticate: Bearer` header on 401: no or malformed bearer, or an unknown token:
 * 401 `invalid_token`; expired: 401 `expired_token` "The access token is expired."; another
 * method: 405 `invalid_request`; the role deleted: 403 `access_denied`.
 *
 * An injected error fault answers `{"error": <code>, "error_description": <message>}`.
 *
 * @example
 * ```ts
 * import type { EmulatorOptions } from 'alicred/testing';
 * // EmulatorOAuthOptions:
 * const oauth: EmulatorOptions['oauth'] = { role: 'oauth-user-role', accessTokenSeconds: 1800, rotateRefreshTokens: true };
 * ```
 */
export type EmulatorOAuthOptions = {
  /** The emulator role whose STS credentials /v1/exchange issues. */
  role: string;
  /** Lifetime of access tokens (s, before timeScale). Default 3600. */
  accessTokenSeconds?: number;
  /** Lifetime of refresh tokens (s, before timeScale). Default 2592000 (30 days). */
  refreshTokenSeconds?: number;
  /** Lifetime of the STS credentials /v1/exchange issues (s, before timeScale), an integer in 1..43200. Default 3600. */
  durationSeconds?: number;
  /**
   * Refresh tokens are single-use (default true): a refresh answers a new refresh token (with
   * a fresh `refreshTokenSeconds` lifetime) and the old one is refused from then on. With
   * false, the same refresh token is answered and stays valid until it expires.
   */
  rotateRefreshTokens?: boolean;
  /** Key case of /v1/exchange answers: `'camel'` (the CLI, Go, Java, Node) or `'pascal'` (what the Python library reads). Default 'camel'. */
  exchangeCase?: 'camel' | 'pascal';
};

/**
 * Options of {@link Emulator.mintCloudSsoToken}.
 *
 * @example
 * ```ts
 * import type { Emulator } from 'alicred/testing';
 * const expired: Parameters<Emulator['mintCloudSsoToken']>[0] = { expiresInSeconds: -60 }; // MintCloudSsoTokenOptions
 * ```
 */
export type MintCloudSsoTokenOptions = {
  /** Lifetime in seconds, divided by `timeScale`, on the emulator clock (negative: already expired). Default 3600. */
  expiresInSeconds?: number;
};

/**
 * A CloudSSO access token from {@link Emulator.mintCloudSsoToken}.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({ roles: [{ name: 'r' }], cloudSso: { assignments: [{ accountId: '1', accessConfigurationId: 'ac-1', role: 'r' }] } });
 * const { accessToken, expiresAt } = emu.mintCloudSsoToken(); // a MintedCloudSsoToken
 * // config.json: access_token = accessToken, cloud_sso_access_token_expire = expiresAt
 * await emu.close();
 * ```
 */
export type MintedCloudSsoToken = {
  accessToken: string;
  /** Epoch seconds on the emulator clock, as the CLI stores `cloud_sso_access_token_expire`; valid while `now < expiresAt`. */
  expiresAt: number;
};

/**
 * Options of {@link Emulator.mintOAuthTokens}.
 *
 * @example
 * ```ts
 * import type { Emulator } from 'alicred/testing';
 * const nearExpiry: Parameters<Emulator['mintOAuthTokens']>[0] = { siteType: 'INTL', accessTokenSeconds: 600 }; // MintOAuthTokensOptions
 * ```
 */
export type MintOAuthTokensOptions = {
  /** The site whose client id the refresh token is bound to. Default 'CN'. */
  siteType?: 'CN' | 'INTL';
  /** Lifetime of this access token (s, before timeScale; negative: already expired). Default `oauth.accessTokenSeconds`. */
  accessTokenSeconds?: number;
  /** Lifetime of this refresh token (s, before timeScale; negative: already expired). Default `oauth.refreshTokenSeconds`. */
  refreshTokenSeconds?: number;
};

/**
 * OAuth tokens from {@link Emulator.mintOAuthTokens}, as a login would store them.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({ roles: [{ name: 'r' }], oauth: { role: 'r' } });
 * const t = emu.mintOAuthTokens({ siteType: 'CN' }); // a MintedOAuthTokens
 * // config.json: oauth_access_token, oauth_refresh_token, oauth_access_token_expire
 * await emu.close();
 * ```
 */
export type MintedOAuthTokens = {
  accessToken: string;
  refreshToken: string;
  /** Epoch seconds on the emulator clock (`oauth_access_token_expire`); valid while `now < accessTokenExpire`. */
  accessTokenExpire: number;
};
