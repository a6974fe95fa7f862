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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import {
  parseRequest,
  parseTimestamp,
  signatureFormatProblem,
  verifyV1,
  verifyV3,
  type ParsedRequest,
} from './auth.js';
import { evaluate, parseSessionPolicy, policyGrammarError, type PolicyDecision } from './policy.js';
import { signJwt, verifyJwt } from './oidc.js';
import { DEFAULT_PRODUCTS, IOT_VERSION, iotBody } from './iot.js';
import {
  createVendingService,
  faultAnswer,
  routeVending,
  vendingOptionsProblem,
  type IssuedCredentials,
  type VendingRoute,
} from './metadata.js';
import {
  ApiError,
  HTML_PAGE,
  codeForStatus,
  errorBody,
  messageForCode,
  newRequestId,
  render,
  type ResponseFormat,
} from './respond.js';
import type {
  Emulator,
  EmulatorFault,
  EmulatorOidcProvider,
  EmulatorOptions,
  EmulatorProduct,
  EmulatorRequestRecord,
  EmulatorRole,
  EmulatorUser,
  MintOidcTokenOptions,
  Policy,
} from './types.js';

export type {
  Emulator,
  EmulatorCredentialsUriOptions,
  EmulatorEcsOptions,
  EmulatorFault,
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

/** STS API version served by the emulator. */
const STS_VERSION = '2015-04-01';

const DEFAULT_ACCOUNT_ID = '1234567890123456';
const DEFAULT_OIDC_PROVIDER = 'emulator-oidc';
const DEFAULT_AUDIENCE = 'sts.aliyuncs.com';
const MIN_DURATION = 900;
const DEFAULT_DURATION = 3600;
const MAX_BODY_BYTES = 1 << 20;
const MAX_POLICY_LENGTH = 2048;
const SESSION_NAME_RE = /^[A-Za-z0-9.@_-]{2,64}$/;
const ROLE_ARN_RE = /^acs:ram::(\d+):role\/(.+)$/i;
const OIDC_PROVIDER_ARN_RE = /^acs:ram::(\d+):oidc-provider\/(.+)$/i;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;
const SOURCE_IDENTITY_RE = /^[\w+=,.@-]{2,64}$/;

// ---------------------------------------------------------------------------
// Internal state
// ---------------------------------------------------------------------------

type UserState = { user: EmulatorUser; id: string; revoked: boolean };
type RoleState = { role: EmulatorRole; id: string; arn: string; maxSessionDuration: number };
type ProviderState = { provider: EmulatorOidcProvider; issuer: string; clientIds: string[]; arn: string };

type Session = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms on the emulator clock. */
  expiresAt: number;
  role: RoleState;
  sessionName: string;
  sessionPolicy: Policy | undefined;
  /** The RAM user at the root of the chain; undefined for OIDC sessions. */
  originUser: string | undefined;
  sourceIdentity: string | undefined;
  revoked: boolean;
};

type Caller = { kind: 'user'; state: UserState } | { kind: 'session'; session: Session };

type Delay = { timer: ReturnType<typeof setTimeout>; resolve: () => void };

type QueuedFault = EmulatorFault & { remaining: number };

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function numericId(seed: string, digits: number): string {
  const n = BigInt('0x' + createHash('sha256').update(seed).digest('hex'));
  return ('1' + n.toString().padStart(digits, '0')).slice(0, digits);
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function randomBase58(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE58[b % BASE58.length];
  return out;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function fail(status: number, code: string, message: string, extra?: Record<string, unknown>): never {
  throw new ApiError(status, code, message, extra);
}

function missing(name: string): never {
  fail(400, `Missing${name}`, `${name} is mandatory for this action.`);
}

function validateOptions(options: EmulatorOptions): void {
  const err = (message: string): never => {
    throw new TypeError(`startEmulator: ${message}`);
  };
  if (options.accountId !== undefined && !/^\d{1,32}$/.test(options.accountId)) err('accountId must be digits');
  if (options.timeScale !== undefined && !(Number.isFinite(options.timeScale) && options.timeScale >= 1)) {
    err('timeScale must be a finite number >= 1');
  }
  if (options.maxSkewSeconds !== undefined && !(options.maxSkewSeconds > 0)) err('maxSkewSeconds must be > 0');
  const checkPolicies = (owner: string, policies: Policy[] | undefined) => {
    for (const [i, p] of (policies ?? []).entries()) {
      const problem = policyGrammarError(p);
      if (problem !== undefined) err(`${owner}.policies[${i}]: ${problem}`);
    }
  };
  const userNames = new Set<string>();
  const keyIds = new Set<string>();
  for (const u of options.users ?? []) {
    if (!u.name || !u.accessKeyId || !u.accessKeySecret) err('every user needs name, accessKeyId and accessKeySecret');
    if (u.accessKeyId.startsWith('STS.')) err(`user ${u.name}: an AccessKeyId starting with "STS." is reserved for issued credentials`);
    if (userNames.has(u.name.toLowerCase())) err(`duplicate user name ${u.name}`);
    if (keyIds.has(u.accessKeyId)) err(`duplicate accessKeyId ${u.accessKeyId}`);
    userNames.add(u.name.toLowerCase());
    keyIds.add(u.accessKeyId);
    checkPolicies(`user ${u.name}`, u.policies);
  }
  const providerNames = new Set<string>();
  for (const p of options.oidcProviders ?? []) {
    if (!p.name) err('every OIDC provider needs a name');
    if (providerNames.has(p.name.toLowerCase())) err(`duplicate OIDC provider ${p.name}`);
    providerNames.add(p.name.toLowerCase());
  }
  if (options.oidcProviders === undefined) providerNames.add(DEFAULT_OIDC_PROVIDER);
  const roleNames = new Set((options.roles ?? []).map((r) => r.name.toLowerCase()));
  if (roleNames.size !== (options.roles ?? []).length) err('duplicate role name');
  for (const r of options.roles ?? []) {
    if (!r.name || !/^[A-Za-z0-9.-]{1,64}$/.test(r.name)) err(`invalid role name ${JSON.stringify(r.name)}`);
    const max = r.maxSessionDuration;
    if (max !== undefined && !(Number.isInteger(max) && max >= 3600 && max <= 43200)) {
      err(`role ${r.name}: maxSessionDuration must be an integer in 3600..43200`);
    }
    for (const u of r.trustedUsers ?? []) if (u !== '*' && !userNames.has(u.toLowerCase())) err(`role ${r.name} trusts unknown user ${u}`);
    for (const t of r.trustedRoles ?? []) if (!roleNames.has(t.toLowerCase())) err(`role ${r.name} trusts unknown role ${t}`);
    for (const p of r.trustedOidcProviders ?? []) {
      if (!providerNames.has(p.toLowerCase())) err(`role ${r.name} trusts unknown OIDC provider ${p}`);
    }
    checkPolicies(`role ${r.name}`, r.policies);
  }
  const vendingProblem = vendingOptionsProblem(options.ecs, options.credentialsUri);
  if (vendingProblem !== undefined) err(vendingProblem);
}

// ---------------------------------------------------------------------------
// startEmulator
// ---------------------------------------------------------------------------

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
 *
 * Checks, in order, with the service's codes: signature fields, timestamp (±15 min,
 * `InvalidTimeStamp.*`), STS token (`MissingSecurityToken`, `InvalidSecurityToken.*`),
 * AccessKey (`InvalidAccessKeyId.NotFound`/`.Inactive`), signature (recomputed with
 * alicred's signer, compared in constant time; `SignatureDoesNotMatch` with the server's
 * string to sign), nonce reuse (`SignatureNonceUsed`), then the action's own checks.
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
  validateOptions(options);
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
  // Read Date.now at each call, so fake timers installed later still drive the default clock.
  const clock = options.clock ?? (() => Date.now());
  const timeScale = options.timeScale ?? 1;
  const maxSkewMs = (options.maxSkewSeconds ?? 900) * 1000;
  const products: readonly EmulatorProduct[] = options.products ?? DEFAULT_PRODUCTS;
  const oidcKey = randomBytes(32);

  const roleArn = (name: string) => `acs:ram::${accountId}:role/${name.toLowerCase()}`;
  const oidcProviderArn = (name: string) => `acs:ram::${accountId}:oidc-provider/${name}`;

  const usersByKey = new Map<string, UserState>();
  for (const user of options.users ?? []) {
    usersByKey.set(user.accessKeyId, { user, id: numericId(`user:${accountId}:${user.name}`, 16), revoked: false });
  }
  const roles = new Map<string, RoleState>();
  for (const role of options.roles ?? []) {
    roles.set(role.name.toLowerCase(), {
      role,
      id: numericId(`role:${accountId}:${role.name}`, 19),
      arn: roleArn(role.name),
      maxSessionDuration: role.maxSessionDuration ?? 3600,
    });
  }
  // The roles of the vending endpoints exist in the account; absent from `roles`, they are
  // created untrusted (nobody can AssumeRole them) and with every permission.
  for (const name of [options.ecs?.roleName, options.credentialsUri?.roleName]) {
    if (name === undefined || roles.has(name.toLowerCase())) continue;
    const role: EmulatorRole = { name };
    roles.set(name.toLowerCase(), { role, id: numericId(`role:${accountId}:${name}`, 19), arn: roleArn(name), maxSessionDuration: 43200 });
  }
  const providers = new Map<string, ProviderState>();
  for (const provider of options.oidcProviders ?? [{ name: DEFAULT_OIDC_PROVIDER }]) {
    providers.set(provider.name.toLowerCase(), {
      provider,
      issuer: provider.issuerUrl ?? `https://oidc.emulator.invalid/${provider.name}`,
      clientIds: provider.clientIds ?? [DEFAULT_AUDIENCE],
      arn: oidcProviderArn(provider.name),
    });
  }

  const sessionsByKey = new Map<string, Session>();
  const sessionsByToken = new Map<string, Session>();
  const nonces = new Map<string, number>();
  const faults: QueuedFault[] = [];
  const log: EmulatorRequestRecord[] = [];
  const delays = new Set<Delay>();
  let closed = false;
  let closing: Promise<void> | undefined;

  // -------------------------------------------------------------------------
  // Authentication
  // -------------------------------------------------------------------------

  function checkTimestamp(parsed: ParsedRequest, now: number): void {
    if (parsed.timestamp === undefined) return;
    const t = parseTimestamp(parsed.timestamp);
    if (Number.isNaN(t)) fail(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    if (Math.abs(now - t) > maxSkewMs) fail(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }

  function rememberNonce(key: string, now: number): void {
    // Forget nonces whose timestamps can no longer pass the skew check.
    for (const [k, t] of nonces) {
      if (t >= now - 2 * maxSkewMs) break;
      nonces.delete(k);
    }
    if (nonces.has(key)) fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.set(key, now);
  }

  async function authenticate(parsed: ParsedRequest, now: number): Promise<Caller> {
    const problem = signatureFormatProblem(parsed);
    if (problem !== undefined) fail(400, problem.code, problem.message);
    checkTimestamp(parsed, now);
    const accessKeyId = parsed.accessKeyId!;

    let caller: Caller;
    let secret: string;
    if (accessKeyId.startsWith('STS.')) {
      // The token carries the session (the real service decrypts it), so it is checked first.
      const token = parsed.securityToken;
      if (token === undefined || token === '') {
        fail(400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.');
      }
      const session = sessionsByToken.get(token);
      if (session === undefined) fail(400, 'InvalidSecurityToken.Malformed', 'Specified SecurityToken is malformed.');
      if (session.accessKeyId !== accessKeyId) {
        fail(400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.');
      }
      if (session.revoked) fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
      if (now >= session.expiresAt) fail(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.');
      caller = { kind: 'session', session };
      secret = session.accessKeySecret;
    } else {
      const state = usersByKey.get(accessKeyId);
      if (state === undefined || state.revoked) fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
      if (state.user.disabled === true) fail(400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.');
      caller = { kind: 'user', state };
      secret = state.user.accessKeySecret;
    }

    const check = parsed.signatureVersion === 'v3' ? await verifyV3(parsed, secret) : await verifyV1(parsed, secret);
    if (!check.ok) {
      fail(
        400,
        'SignatureDoesNotMatch',
        `Specified signature is not matched with our calculation. server string to sign is:${check.stringToSign}`,
      );
    }
    rememberNonce(`${accessKeyId}\n${parsed.nonce}`, now);
    return caller;
  }

  // -------------------------------------------------------------------------
  // Authorization
  // -------------------------------------------------------------------------

  function policyLayers(caller: Caller): Policy[][] {
    if (caller.kind === 'user') return caller.state.user.policies ? [caller.state.user.policies] : [];
    const { session } = caller;
    const layers: Policy[][] = [];
    if (session.role.role.policies) layers.push(session.role.role.policies);
    if (session.sessionPolicy) layers.push([session.sessionPolicy]);
    return layers;
  }

  function principal(caller: Caller): { type: string; name: string } {
    if (caller.kind === 'user') return { type: 'SubUser', name: caller.state.user.name };
    return { type: 'AssumedRoleUser', name: `${caller.session.role.role.name}:${caller.session.sessionName}` };
  }

  /** Which policy refused: the session policy when the identity's own policies allow the action. */
  function blamedPolicyType(caller: Caller, action: string): string {
    if (caller.kind === 'session' && caller.session.sessionPolicy !== undefined) {
      const own = caller.session.role.role.policies;
      if (own === undefined || evaluate([own], action, undefined) === 'Allow') return 'SessionPolicy';
    }
    return 'AccountLevelIdentityBasedPolicy';
  }

  function accessDeniedDetail(caller: Caller, action: string, decision: PolicyDecision): Record<string, unknown> {
    const p = principal(caller);
    return {
      AccessDeniedDetail: {
        AuthAction: action,
        AuthPrincipalType: p.type,
        AuthPrincipalDisplayName: p.name,
        AuthPrincipalOwnerId: accountId,
        NoPermissionType: decision,
        PolicyType: blamedPolicyType(caller, action),
      },
    };
  }

  function isTrusted(role: EmulatorRole, caller: Caller): boolean {
    const trustsUser = (name: string | undefined) =>
      name !== undefined && (role.trustedUsers ?? []).some((u) => u === '*' || sameName(u, name));
    if (caller.kind === 'user') return trustsUser(caller.state.user.name);
    const { session } = caller;
    return (role.trustedRoles ?? []).some((r) => sameName(r, session.role.role.name)) || trustsUser(session.originUser);
  }

  // -------------------------------------------------------------------------
  // Shared parameter checks and issuing
  // -------------------------------------------------------------------------

  function required(params: Record<string, string>, name: string): string {
    const value = params[name];
    if (value === undefined || value === '') missing(name);
    return value;
  }

  function lookupRole(arn: string): RoleState {
    const m = ROLE_ARN_RE.exec(arn);
    if (m === null) fail(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
    const role = m[1] === accountId ? roles.get(m[2]!.toLowerCase()) : undefined;
    if (role === undefined) fail(404, 'EntityNotExist.Role', 'The specified Role not exists .');
    return role;
  }

  function durationLimitMessage(max: number): string {
    const hours = max / 3600;
    return `The Min/Max value of DurationSeconds is 15min/${Number.isInteger(hours) ? hours : hours.toFixed(2)}hr.`;
  }

  function parseDuration(params: Record<string, string>): number {
    const raw = params.DurationSeconds;
    if (raw === undefined || raw === '') return DEFAULT_DURATION;
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(n) || n < MIN_DURATION) {
      fail(400, 'InvalidParameter.DurationSeconds', durationLimitMessage(3600));
    }
    return n;
  }

  function checkDurationForRole(duration: number, role: RoleState): void {
    if (duration > role.maxSessionDuration) {
      fail(400, 'InvalidParameter.DurationSeconds', durationLimitMessage(role.maxSessionDuration));
    }
  }

  function parsePolicyParam(params: Record<string, string>): Policy | undefined {
    const text = params.Policy;
    if (text === undefined || text === '') return undefined;
    if (text.length > MAX_POLICY_LENGTH) {
      fail(400, 'InvalidParameter', `The parameter Policy is longer than ${MAX_POLICY_LENGTH} characters.`);
    }
    const result = parseSessionPolicy(text);
    if ('error' in result) {
      fail(400, 'InvalidParameter.PolicyGrammar', `The parameter Policy has not passed grammar check: ${result.error}.`);
    }
    return result.policy;
  }

  function checkSessionName(name: string): void {
    if (!SESSION_NAME_RE.test(name)) {
      fail(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.');
    }
  }

  function issue(
    role: RoleState,
    sessionName: string,
    duration: number,
    sessionPolicy: Policy | undefined,
    originUser: string | undefined,
    sourceIdentity: string | undefined,
    now: number,
  ): { session: Session; body: Record<string, unknown> } {
    const lifetimeMs = (duration * 1000) / timeScale;
    let expiresAt = Math.floor((now + lifetimeMs) / 1000) * 1000;
    if (expiresAt <= now) expiresAt = Math.ceil((now + lifetimeMs) / 1000) * 1000;
    let accessKeyId: string;
    do accessKeyId = `STS.${randomBase58(25)}`;
    while (sessionsByKey.has(accessKeyId));
    const session: Session = {
      accessKeyId,
      accessKeySecret: randomBase58(44),
      securityToken: `CAIS${randomBytes(330).toString('base64')}`,
      expiresAt,
      role,
      sessionName,
      sessionPolicy,
      originUser,
      sourceIdentity,
      revoked: false,
    };
    sessionsByKey.set(accessKeyId, session);
    sessionsByToken.set(session.securityToken, session);
    const body: Record<string, unknown> = {
      RequestId: '',
      AssumedRoleUser: {
        Arn: `${role.arn}/${sessionName}`,
        AssumedRoleId: `${role.id}:${sessionName}`,
      },
      Credentials: {
        AccessKeyId: session.accessKeyId,
        AccessKeySecret: session.accessKeySecret,
        SecurityToken: session.securityToken,
        Expiration: isoSeconds(expiresAt),
      },
    };
    if (sourceIdentity !== undefined) body.SourceIdentity = sourceIdentity;
    return { session, body };
  }

  const vending = createVendingService({
    ecs: options.ecs,
    credentialsUri: options.credentialsUri,
    timeScale,
    issue(roleName: string, durationSeconds: number, sessionName: string, now: number): IssuedCredentials {
      const role = roles.get(roleName.toLowerCase())!;
      const { session } = issue(role, sessionName, durationSeconds, undefined, undefined, undefined, now);
      return {
        accessKeyId: session.accessKeyId,
        accessKeySecret: session.accessKeySecret,
        securityToken: session.securityToken,
        expiresAt: session.expiresAt,
        issuedAt: now,
      };
    },
  });

  // -------------------------------------------------------------------------
  // Actions
  // -------------------------------------------------------------------------

  function assumeRole(parsed: ParsedRequest, caller: Caller, now: number): Record<string, unknown> {
    const p = parsed.params;
    const arn = required(p, 'RoleArn');
    const sessionName = required(p, 'RoleSessionName');
    if (!ROLE_ARN_RE.test(arn)) fail(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
    checkSessionName(sessionName);
    const duration = parseDuration(p);
    const sessionPolicy = parsePolicyParam(p);
    if (p.ExternalId !== undefined && !EXTERNAL_ID_RE.test(p.ExternalId)) {
      fail(400, 'InvalidParameter.ExternalId', 'The parameter ExternalId is wrongly formed.');
    }
    const inherited = caller.kind === 'session' ? caller.session.sourceIdentity : undefined;
    let sourceIdentity = inherited;
    if (p.SourceIdentity !== undefined) {
      if (!SOURCE_IDENTITY_RE.test(p.SourceIdentity) || /^(acs|aliyun|alibabacloud):/i.test(p.SourceIdentity)) {
        fail(400, 'InvalidParameter.SourceIdentity', 'The parameter SourceIdentity is wrongly formed.');
      }
      if (inherited !== undefined && inherited !== p.SourceIdentity) {
        fail(400, 'InvalidParameter.SourceIdentity', 'The SourceIdentity of a role chain cannot be changed.');
      }
      sourceIdentity = p.SourceIdentity;
    }
    const role = lookupRole(arn);
    checkDurationForRole(duration, role);

    const decision = evaluate(policyLayers(caller), 'sts:AssumeRole', role.arn);
    if (decision !== 'Allow') {
      fail(
        403,
        'NoPermission',
        'You are not authorized to do this action. You should be authorized by RAM.',
        accessDeniedDetail(caller, 'sts:AssumeRole', decision),
      );
    }
    if (!isTrusted(role.role, caller)) {
      fail(403, 'NoPermission', 'No permission perform sts:AssumeRole on this Role. Maybe you should check the role trust policy.');
    }
    const originUser = caller.kind === 'user' ? caller.state.user.name : caller.session.originUser;
    return issue(role, sessionName, duration, sessionPolicy, originUser, sourceIdentity, now).body;
  }

  function getCallerIdentity(caller: Caller): Record<string, unknown> {
    if (caller.kind === 'user') {
      const { user, id } = caller.state;
      return {
        RequestId: '',
        AccountId: accountId,
        Arn: `acs:ram::${accountId}:user/${user.name}`,
        IdentityType: 'RAMUser',
        PrincipalId: id,
        UserId: id,
      };
    }
    const { session } = caller;
    return {
      RequestId: '',
      AccountId: accountId,
      Arn: `acs:ram::${accountId}:assumed-role/${session.role.role.name.toLowerCase()}/${session.sessionName}`,
      IdentityType: 'AssumedRoleUser',
      PrincipalId: `${session.role.id}:${session.sessionName}`,
      RoleId: session.role.id,
    };
  }

  function assumeRoleWithOidc(parsed: ParsedRequest, now: number): Record<string, unknown> {
    const p = parsed.params;
    const providerArn = required(p, 'OIDCProviderArn');
    const token = required(p, 'OIDCToken');
    const arn = required(p, 'RoleArn');
    const sessionName = required(p, 'RoleSessionName');
    if (!ROLE_ARN_RE.test(arn)) fail(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
    checkSessionName(sessionName);
    const duration = parseDuration(p);
    const sessionPolicy = parsePolicyParam(p);

    const m = OIDC_PROVIDER_ARN_RE.exec(providerArn);
    if (m === null) fail(400, 'InvalidParameter.OIDCProviderArn', 'The parameter OIDCProviderArn is wrongly formed.');
    const provider = m[1] === accountId ? providers.get(m[2]!.toLowerCase()) : undefined;
    if (provider === undefined) fail(401, 'AuthenticationFail.NoPermission', 'No such OIDC Provider registered.');

    if (token.length < 4 || token.length > 20000) {
      fail(401, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token must be 4 to 20000 characters long.');
    }
    const check = verifyJwt(token, oidcKey);
    if (!check.ok) fail(401, `AuthenticationFail.OIDCToken.${check.reason}`, check.detail);
    const claims = check.claims;
    if (claims.iss !== provider.issuer) {
      fail(401, 'AuthenticationFail.OIDCToken.Invalid', 'The issuer of the OIDC token does not match the OIDC provider.');
    }
    if (claims.exp * 1000 <= now) fail(401, 'AuthenticationFail.OIDCToken.Expired', 'This JsonWebToken is expired.');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((a) => provider.clientIds.includes(a))) {
      fail(401, 'AuthenticationFail.OIDCToken.AudienceNotMatch', 'The audience of the OIDC token does not match the OIDC provider.');
    }

    const role = lookupRole(arn);
    checkDurationForRole(duration, role);
    if (!(role.role.trustedOidcProviders ?? []).some((name) => sameName(name, provider.provider.name))) {
      fail(401, 'AuthenticationFail.NoPermission', 'There is no permission: the role does not trust this OIDC provider.');
    }
    const { body } = issue(role, sessionName, duration, sessionPolicy, undefined, undefined, now);
    body.OIDCTokenInfo = {
      Issuer: claims.iss,
      Subject: claims.sub,
      ClientIds: audiences.join(','),
      ExpirationTime: isoSeconds(claims.exp * 1000),
      IssuanceTime: isoSeconds((typeof claims.iat === 'number' ? claims.iat : claims.exp) * 1000),
    };
    return body;
  }

  async function dispatch(parsed: ParsedRequest, now: number): Promise<{ body: Record<string, unknown>; product: string }> {
    if (parsed.version === '') missing('Version');
    if (parsed.action === '') missing('Action');
    if (parsed.version === STS_VERSION) {
      if (parsed.action === 'AssumeRoleWithOIDC') {
        checkTimestamp(parsed, now);
        return { body: assumeRoleWithOidc(parsed, now), product: 'Sts' };
      }
      if (parsed.action !== 'AssumeRole' && parsed.action !== 'GetCallerIdentity') {
        fail(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
      }
      const caller = await authenticate(parsed, now);
      const body = parsed.action === 'AssumeRole' ? assumeRole(parsed, caller, now) : getCallerIdentity(caller);
      return { body, product: 'Sts' };
    }
    if (parsed.version === IOT_VERSION) {
      const caller = await authenticate(parsed, now);
      const action = `iot:${parsed.action}`;
      const decision = evaluate(policyLayers(caller), action, undefined);
      if (decision !== 'Allow') {
        fail(
          403,
          'Forbidden.RAM',
          "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
          accessDeniedDetail(caller, action, decision),
        );
      }
      return { body: iotBody(parsed.action, parsed.params, products, ''), product: 'Iot' };
    }
    fail(400, 'InvalidVersion', 'Specified parameter Version is not valid.');
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const delay: Delay = {
        timer: setTimeout(() => {
          delays.delete(delay);
          resolve();
        }, ms),
        resolve: () => resolve(),
      };
      delays.add(delay);
    });
  }

  function takeFault(action: string): QueuedFault | undefined {
    const index = faults.findIndex((f) => f.action === undefined || f.action === action);
    if (index === -1) return undefined;
    const fault = faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  }

  function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function send(res: ServerResponse, status: number, contentType: string, text: string, requestId: string, now: number): void {
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      Date: new Date(now).toUTCString(),
      'x-acs-request-id': requestId,
    });
    res.end(text);
  }

  type Reply = (status: number, contentType: string, text: string, code: string | undefined) => void;

  /**
   * Applies the next queued fault for `action`, if any. Returns true when the request is
   * finished (answered, reset, or the emulator closed), false to serve it normally.
   */
  async function applyFault(
    action: string,
    record: EmulatorRequestRecord,
    res: ServerResponse,
    requestId: string,
    reply: Reply,
    replyError: (error: ApiError) => void,
  ): Promise<boolean> {
    const fault = takeFault(action);
    if (fault === undefined) return false;
    record.fault = true;
    if (fault.latencyMs !== undefined && fault.latencyMs > 0) {
      await sleep(fault.latencyMs);
      if (closed) return true;
    }
    if (fault.reset === true) {
      record.code = 'ConnectionReset';
      res.socket?.destroy();
      return true;
    }
    if (fault.body !== undefined) {
      if (fault.body === 'html') {
        reply(fault.status ?? 502, 'text/html;charset=utf-8', HTML_PAGE, undefined);
      } else if (fault.body === 'malformed-json') {
        reply(fault.status ?? 200, 'application/json;charset=utf-8', `{"RequestId":"${requestId}","Credentials":{"AccessKeyId":"STS.`, undefined);
      } else {
        const looksJson = /^\s*[[{]/.test(fault.body);
        reply(fault.status ?? 200, looksJson ? 'application/json;charset=utf-8' : 'text/plain;charset=utf-8', fault.body, undefined);
      }
      return true;
    }
    if (fault.status !== undefined || fault.code !== undefined || fault.message !== undefined) {
      const code = fault.code ?? codeForStatus(fault.status ?? 500);
      const status = fault.status ?? (code.includes('Throttling') ? 400 : 500);
      replyError(new ApiError(status, code, fault.message ?? messageForCode(code)));
      return true;
    }
    return false; // latency only: serve normally
  }

  /** A request to the ECS metadata service or the credentials URI. */
  async function handleVending(req: IncomingMessage, res: ServerResponse, route: VendingRoute, path: string, now0: number, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const record: EmulatorRequestRecord = {
      time: new Date(now0),
      method,
      path,
      action: route.action,
      version: '',
      accessKeyId: undefined,
      signatureVersion: 'anonymous',
      status: 0,
      code: undefined,
      fault: false,
    };
    const tokenState = vending.tokenStateOf(route, req.headers, now0);
    if (tokenState !== undefined) record.metadataToken = tokenState;
    log.push(record);
    const reply: Reply = (status, contentType, text, code) => {
      record.status = status;
      record.code = code;
      send(res, status, contentType, text, requestId, clock());
    };
    const replyError = (error: ApiError) => {
      const answer = faultAnswer(route, error.status, error.code, error.message);
      reply(answer.status, answer.contentType, answer.text, answer.code);
    };
    if (await applyFault(route.action, record, res, requestId, reply, replyError)) return;
    const answer = vending.answer(route, method, req.headers, clock());
    reply(answer.status, answer.contentType, answer.text, answer.code);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now0 = clock();
    const requestId = newRequestId();
    const body = await readBody(req);
    const hostId = req.headers.host ?? '127.0.0.1';
    if (body === undefined) {
      const err = new ApiError(413, 'RequestEntityTooLarge', 'The request body is too large.');
      send(res, 413, 'application/json;charset=utf-8', JSON.stringify(errorBody(err, requestId, hostId, 'Sts')), requestId, now0);
      req.socket.destroy();
      return;
    }
    const rawUrl = req.url ?? '/';
    const query = rawUrl.indexOf('?');
    const path = query === -1 ? rawUrl : rawUrl.slice(0, query);
    const route = routeVending(rawUrl, vending.credentialsUriPath);
    if (route !== undefined) return handleVending(req, res, route, path, now0, requestId);
    const parsed = parseRequest(req.method ?? 'GET', rawUrl, req.headers, body);
    const record: EmulatorRequestRecord = {
      time: new Date(now0),
      method: parsed.method,
      path,
      action: parsed.action,
      version: parsed.version,
      accessKeyId: parsed.accessKeyId,
      signatureVersion: parsed.signatureVersion,
      status: 0,
      code: undefined,
      fault: false,
    };
    log.push(record);
    const format: ResponseFormat =
      parsed.signatureVersion !== 'v3' && (parsed.params.Format ?? 'XML').toUpperCase() === 'XML' ? 'XML' : 'JSON';
    const product = parsed.version === IOT_VERSION ? 'Iot' : 'Sts';

    const reply = (status: number, contentType: string, text: string, code: string | undefined) => {
      record.status = status;
      record.code = code;
      send(res, status, contentType, text, requestId, clock());
    };
    const replyError = (error: ApiError) => {
      const { contentType, text } = render(errorBody(error, requestId, hostId, product), format, 'Error');
      reply(error.status, contentType, text, error.code);
    };

    if (await applyFault(parsed.action, record, res, requestId, reply, replyError)) return;

    try {
      const result = await dispatch(parsed, clock());
      result.body.RequestId = requestId;
      const rootName = `${parsed.action}Response`;
      const { contentType, text } = render(result.body, format, rootName);
      reply(200, contentType, text, undefined);
    } catch (error) {
      if (error instanceof ApiError) replyError(error);
      else replyError(new ApiError(500, 'InternalError', `Emulator internal error: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  // -------------------------------------------------------------------------
  // Public handle
  // -------------------------------------------------------------------------

  function mintOidcToken(mint: MintOidcTokenOptions): string {
    const providerName = mint.providerName ?? [...providers.values()][0]?.provider.name;
    const provider = providerName === undefined ? undefined : providers.get(providerName.toLowerCase());
    if (provider === undefined) {
      throw new TypeError(`mintOidcToken: unknown OIDC provider ${JSON.stringify(mint.providerName ?? '(none configured)')}`);
    }
    if (typeof mint.subject !== 'string' || mint.subject === '') throw new TypeError('mintOidcToken: subject is required');
    const nowSeconds = Math.floor(clock() / 1000);
    return signJwt(
      {
        iss: provider.issuer,
        sub: mint.subject,
        aud: mint.audience ?? provider.clientIds[0] ?? DEFAULT_AUDIENCE,
        iat: nowSeconds,
        exp: nowSeconds + Math.round(mint.expiresInSeconds ?? 3600),
      },
      oidcKey,
    );
  }

  return Object.freeze({
    url,
    host: `127.0.0.1:${port}`,
    stsEndpoint: url,
    productEndpoint: url,
    metadataEndpoint: url,
    credentialsUri: `${url}${vending.credentialsUriPath}`,
    port,
    accountId,
    roleArn,
    oidcProviderArn,
    callCount(action?: string): number {
      return action === undefined ? log.length : log.filter((r) => r.action === action).length;
    },
    requests(): EmulatorRequestRecord[] {
      return log.map((r) => ({ ...r, time: new Date(r.time.getTime()) }));
    },
    inject(fault: EmulatorFault): void {
      const count = fault.count ?? 1;
      if (!(Number.isInteger(count) && count >= 1)) throw new TypeError('inject: count must be an integer >= 1');
      if (fault.latencyMs !== undefined && !(fault.latencyMs >= 0)) throw new TypeError('inject: latencyMs must be >= 0');
      faults.push({ ...fault, remaining: count });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    mintOidcToken,
    revokeMetadataTokens(): number {
      return vending.revokeTokens(clock());
    },
    rotateMetadataCredentials(): void {
      vending.rotate();
    },
    revoke(accessKeyId: string): boolean {
      const user = usersByKey.get(accessKeyId);
      if (user !== undefined && !user.revoked) return (user.revoked = true);
      const session = sessionsByKey.get(accessKeyId);
      if (session !== undefined && !session.revoked) return (session.revoked = true);
      return false;
    },
    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      for (const delay of delays) {
        clearTimeout(delay.timer);
        delay.resolve();
      }
      delays.clear();
      faults.length = 0;
      closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  } satisfies Emulator);
}
