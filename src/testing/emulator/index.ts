/**
 * A local RAM/STS + IoT Platform emulator for tests and demos (Node.js only).
 *
 * One HTTP server on 127.0.0.1 answers STS (2015-04-01: AssumeRole, GetCallerIdentity,
 * AssumeRoleWithOIDC) and IoT Platform (2018-01-20) requests, verifying V1 (HMAC-SHA1 RPC)
 * and V3 (ACS3-HMAC-SHA256) signatures by recomputing them, checking security tokens,
 * trust and policies, and answering with the service's response and error shapes. On the
 * same port it can serve an ECS instance metadata service (IMDS v1/v2) and a
 * credentials-URI endpoint, both handing out credentials it issued itself.
 *
 * @module
 */
import { createAccount } from './account.js';
import { createAuthenticator } from './auth.js';
import { createVendingService, type IssuedCredentials } from './metadata.js';
import { resolveOptions } from './options.js';
import { createOssService } from './oss.js';
import { createTableStoreService } from './tablestore.js';
import { CLOUD_SSO_SIGN_IN_PATH, createCloudSsoService } from './signin-sso.js';
import { createOAuthService } from './signin-oauth.js';
import { startServer } from './server.js';
import type { Emulator, EmulatorOptions, EmulatorRequestRecord } from './types.js';

export type {
  Emulator,
  EmulatorCloudSsoAssignment,
  EmulatorCloudSsoOptions,
  EmulatorOAuthOptions,
  MintCloudSsoTokenOptions,
  MintOAuthTokensOptions,
  MintedCloudSsoToken,
  MintedOAuthTokens,
  EmulatorCredentialsUriOptions,
  EmulatorEcsOptions,
  EmulatorFault,
  EmulatorIssuedCredentials,
  EmulatorOidcProvider,
  EmulatorOptions,
  EmulatorProduct,
  EmulatorRequestRecord,
  EmulatorRole,
  EmulatorUser,
  MetadataTokenState,
  MintOidcTokenOptions,
  Policy,
  PolicyStatement,
  SignatureVersion,
} from './types.js';

/**
 * Starts a local RAM/STS and IoT Platform service on `127.0.0.1` and a free port.
 *
 * What it serves, all on one port (dispatched by API version):
 * - STS 2015-04-01: `AssumeRole` and `GetCallerIdentity` (signed, V1 or V3),
 *   `AssumeRoleWithOIDC` (anonymous). Parameters may be in the query and/or a form body,
 *   GET or POST.
 * - IoT Platform 2018-01-20: every action, signed; `QueryProductList` and
 *   `QueryDeviceDetail` answer with data, others with `{RequestId, Success: true}`. The
 *   caller's effective policy must allow `iot:<Action>` (else `Forbidden.RAM`, 403).
 * - With `ecs`: the ECS instance metadata service under `/latest/` (IMDSv2 token, role
 *   discovery, role credentials that rotate before expiry); see `EmulatorEcsOptions`.
 * - With `credentialsUri`: a credentials-URI endpoint (`emu.credentialsUri`); see
 *   `EmulatorCredentialsUriOptions`.
 * - OSS (`Authorization: OSS …` / `OSS4-HMAC-SHA256`, presigned URLs): put, get, head, list
 *   and delete objects; Table Store (`x-ots-signature`): CreateTable, ListTable,
 *   DescribeTable, DeleteTable. Both judge signatures, tokens and RAM policies.
 * - With `cloudSso`: the CloudSSO portal's `/cloud-credentials` (`emu.cloudSsoSignInUrl`,
 *   tokens from `mintCloudSsoToken`); with `oauth`: the OAuth `/v1/token` and `/v1/exchange`
 *   (`emu.oauthBaseUrl`, tokens from `mintOAuthTokens`, refresh tokens rotating).
 * - Any other product's POP API: authenticated, then `Emulator.ProductNotModeled` (501).
 *
 * Checks, in order, with the service's codes: signature fields, timestamp (±15 min,
 * `InvalidTimeStamp.*`), STS token (`MissingSecurityToken`, `InvalidSecurityToken.*`),
 * AccessKey (`InvalidAccessKeyId.NotFound`/`.Inactive`), signature (recomputed by the
 * emulator's own node:crypto verifier, which shares no code with alicred's signer, and
 * compared in constant time; `SignatureDoesNotMatch` with the server's string to sign),
 * nonce reuse (`SignatureNonceUsed`), then the action's own checks.
 *
 * Official Tea clients reach it with `endpoint: emu.host, protocol: 'http'`
 * (add `signatureAlgorithm: 'v2'` for V1 signing).
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * import StsPackage, { AssumeRoleRequest } from '@alicloud/sts20150401';
 * import { $OpenApiUtil } from '@alicloud/openapi-core';
 *
 * // A CJS package: under Node ESM the client class is `.default` of the default import.
 * const Sts = (StsPackage as unknown as { default?: typeof StsPackage }).default ?? StsPackage;
 *
 * const emu = await startEmulator({
 *   users: [{ name: 'alice', accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' }],
 *   roles: [{ name: 'iot-reader', trustedUsers: ['alice'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'iot:Query*' }] }] }],
 * });
 * const sts = new Sts(new $OpenApiUtil.Config({
 *   accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret',
 *   endpoint: emu.host, protocol: 'http',       // add signatureAlgorithm: 'v2' for V1 signing
 * }));
 * const r = await sts.assumeRole(new AssumeRoleRequest({ roleArn: emu.roleArn('iot-reader'), roleSessionName: 'demo' }));
 * r.body?.credentials?.accessKeyId; // 'STS.…'
 * emu.callCount('AssumeRole');      // 1
 * await emu.close();
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const resolved = resolveOptions(options);
  const { clock, accountId } = resolved;
  const account = createAccount(resolved);
  const vending = createVendingService({
    ecs: options.ecs,
    credentialsUri: options.credentialsUri,
    timeScale: resolved.timeScale,
    issue(roleName: string, durationSeconds: number, sessionName: string, now: number): IssuedCredentials {
      // ensureRole: the instance role may have been renamed (a `renameRoleTo` fault) or deleted.
      const role = account.ensureRole(roleName);
      const session = account.issue(role, sessionName, durationSeconds, {}, now);
      return {
        accessKeyId: session.accessKeyId,
        accessKeySecret: session.accessKeySecret,
        securityToken: session.securityToken,
        expiresAt: session.expiresAt,
        issuedAt: now,
      };
    },
  });
  const [cloudSso, oauth] = [createCloudSsoService({ account, resolved }), createOAuthService({ account, resolved })];
  const products = [createOssService({ account, resolved }), createTableStoreService({ account, resolved }), cloudSso, oauth];
  const server = await startServer({ resolved, account, auth: createAuthenticator(account, resolved.maxSkewMs), vending, products });
  const { port, log, faults } = server;
  const url = `http://127.0.0.1:${port}`;

  return Object.freeze({
    url,
    host: `127.0.0.1:${port}`,
    stsEndpoint: url,
    productEndpoint: url,
    metadataEndpoint: url,
    credentialsUri: `${url}${vending.credentialsUriPath}`,
    port,
    accountId,
    roleArn: account.roleArn,
    oidcProviderArn: account.oidcProviderArn,
    callCount(action?: string): number {
      return action === undefined ? log.length : log.filter((r) => r.action === action).length;
    },
    requests(): EmulatorRequestRecord[] {
      return log.map((r) => ({ ...r, time: new Date(r.time.getTime()) }));
    },
    inject: faults.inject,
    clearFaults: faults.clear,
    mintOidcToken: (mint) => account.mintOidcToken(mint, clock()),
    revokeMetadataTokens: () => vending.revokeTokens(clock()),
    rotateMetadataCredentials: () => vending.rotate(),
    cloudSsoSignInUrl: `${url}${CLOUD_SSO_SIGN_IN_PATH}`,
    oauthBaseUrl: url,
    mintCloudSsoToken: (mint) => cloudSso.mint(mint),
    mintOAuthTokens: (mint) => oauth.mint(mint),
    revokeCloudSsoToken: (token) => cloudSso.revoke(token),
    revokeOAuthRefreshToken: (token) => oauth.revoke(token),
    revoke: account.revoke,
    deleteRole: account.deleteRole,
    issued() {
      return [...account.sessionsByKey.values()].map((s) => ({
        accessKeyId: s.accessKeyId,
        accessKeySecret: s.accessKeySecret,
        securityToken: s.securityToken,
        expiration: new Date(s.expiresAt),
        roleName: s.role.role.name,
        sessionName: s.sessionName,
      }));
    },
    close: server.close,
  } satisfies Emulator);
}
