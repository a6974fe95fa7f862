/**
 * The STS client: AssumeRole, AssumeRoleWithOIDC and GetCallerIdentity over `fetch`.
 *
 * Universal code: global `fetch`, WebCrypto, `TextEncoder`, `AbortController`, `URL`. No
 * Node built-ins, no `Buffer`; `process.env` is read only as a default for `env`.
 *
 * What goes on the wire (per the STS API reference):
 *
 * - Signature V3 (default): `POST <endpoint>/?<operation parameters>`, empty body, headers
 *   `x-acs-action`, `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce`,
 *   `x-acs-content-sha256`, `Authorization` (plus `x-acs-accesskey-id` and
 *   `x-acs-security-token` for STS source credentials), exactly as
 *   `@alicloud/sts20150401` sends it.
 * - Signature V1: common parameters (`Action`, `Version`, `Format=JSON`, `Timestamp`,
 *   `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `AccessKeyId`,
 *   `SecurityToken` for STS source credentials, `Signature`) in the query, operation
 *   parameters in an `application/x-www-form-urlencoded` body, all signed — as
 *   `@alicloud/credentials` sends AssumeRole.
 * - AssumeRoleWithOIDC: anonymous. `Action`, `Format`, `Version`, `Timestamp` in the query,
 *   the OIDC token and the other parameters in a form body (never in the URL), no
 *   AccessKey and no signature — as `@alicloud/credentials` sends it.
 *
 * The client does not retry: failures carry `retryable`, and the refresh engine decides.
 *
 * Each operation is its own file over transport.ts; this one puts them together.
 */
import { assumeRoleWithOidcMethods } from './assume-role-with-oidc.js';
import { assumeRoleMethods } from './assume-role.js';
import { getCallerIdentityWith } from './get-caller-identity.js';
import { createStsTransport } from './transport.js';

export * from './api.js';
import type { StsClient, StsClientOptions } from './api.js';

/**
 * Creates an STS client. The endpoint is resolved (and checked) now; `fetch` and the
 * clock are used at each call. The client never retries: its {@link StsError}s say
 * whether a retry may help (`retryable`), and the refresh engine acts on it.
 *
 * Throws a {@link ConfigError} for an unusable endpoint, region, timeout or signature
 * version.
 *
 * @example
 * ```ts
 * import { createStsClient, fromStatic } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // The local emulator plays STS; in production: createStsClient({ region: 'cn-hangzhou' }).
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'iot-operator', trustedUsers: ['alice'] }] });
 * const sts = createStsClient({ endpoint: emu.stsEndpoint });
 * const user = await fromStatic(alice)();                  // a RAM user's AccessKey
 * const creds = await sts.assumeRole(user, {
 *   roleArn: emu.roleArn('iot-operator'),
 *   roleSessionName: 'nightly-job',
 *   durationSeconds: 900,
 * });
 * creds.accessKeyId;   // 'STS.…'
 * creds.expiration;    // a Date on the local clock
 * console.log((await sts.getCallerIdentity(creds)).arn); // acs:ram::…:assumed-role/iot-operator/nightly-job
 * await emu.close();
 * ```
 */
export function createStsClient(options: StsClientOptions = {}): StsClient {
  const t = createStsTransport(options);
  return Object.freeze({
    endpoint: t.endpoint.url,
    ...assumeRoleMethods(t),
    ...assumeRoleWithOidcMethods(t),
    getCallerIdentity: (source, callOptions) => getCallerIdentityWith(t, source, callOptions),
  });
}
