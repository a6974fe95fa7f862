/**
 * The STS 2015-04-01 actions: AssumeRole, GetCallerIdentity and AssumeRoleWithOIDC, with the
 * service's parameter checks, error codes and response bodies.
 *
 * @internal
 */
import { isoSeconds, sameName, type Account, type Caller, type RoleState, type Session } from './account.js';
import { authorize, isTrusted } from './authorize.js';
import { verifyJwt } from './oidc.js';
import { parseSessionPolicy } from './policy.js';
import type { ParsedRequest } from './request.js';
import { fail, missing } from './respond.js';
import type { Policy } from './types.js';

/** STS API version served by the emulator. */
export const STS_VERSION = '2015-04-01';

const MIN_DURATION = 900;
const DEFAULT_DURATION = 3600;
const MAX_POLICY_LENGTH = 2048;
const SESSION_NAME_RE = /^[A-Za-z0-9.@_-]{2,64}$/;
const ROLE_ARN_RE = /^acs:ram::(\d+):role\/(.+)$/i;
const OIDC_PROVIDER_ARN_RE = /^acs:ram::(\d+):oidc-provider\/(.+)$/i;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;
const SOURCE_IDENTITY_RE = /^[\w+=,.@-]{2,64}$/;

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') missing(name);
  return value;
}

function checkRoleArn(arn: string): void {
  if (!ROLE_ARN_RE.test(arn)) fail(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
}

function lookupRole(account: Account, arn: string): RoleState {
  const m = ROLE_ARN_RE.exec(arn);
  if (m === null) fail(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
  const role = m[1] === account.accountId ? account.roles.get(m[2]!.toLowerCase()) : undefined;
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
  if (!Number.isInteger(n) || n < MIN_DURATION) fail(400, 'InvalidParameter.DurationSeconds', durationLimitMessage(3600));
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
  if (!SESSION_NAME_RE.test(name)) fail(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.');
}

/** The AssumeRole-shaped body of a new session (`RequestId` filled in when sent). */
export function credentialsBody(session: Session): Record<string, unknown> {
  const body: Record<string, unknown> = {
    RequestId: '',
    AssumedRoleUser: {
      Arn: `${session.role.arn}/${session.sessionName}`,
      AssumedRoleId: `${session.role.id}:${session.sessionName}`,
    },
    Credentials: {
      AccessKeyId: session.accessKeyId,
      AccessKeySecret: session.accessKeySecret,
      SecurityToken: session.securityToken,
      Expiration: isoSeconds(session.expiresAt),
    },
  };
  if (session.sourceIdentity !== undefined) body.SourceIdentity = session.sourceIdentity;
  return body;
}

/** The SourceIdentity of a new session: the one asked for, which a chain may not change. */
function sourceIdentityOf(p: Record<string, string>, caller: Caller): string | undefined {
  const inherited = caller.kind === 'session' ? caller.session.sourceIdentity : undefined;
  if (p.SourceIdentity === undefined) return inherited;
  if (!SOURCE_IDENTITY_RE.test(p.SourceIdentity) || /^(acs|aliyun|alibabacloud):/i.test(p.SourceIdentity)) {
    fail(400, 'InvalidParameter.SourceIdentity', 'The parameter SourceIdentity is wrongly formed.');
  }
  if (inherited !== undefined && inherited !== p.SourceIdentity) {
    fail(400, 'InvalidParameter.SourceIdentity', 'The SourceIdentity of a role chain cannot be changed.');
  }
  return p.SourceIdentity;
}

/**
 * AssumeRole for an authenticated caller: parameters, role, duration, the caller's
 * `sts:AssumeRole` permission, the role's trust; then a new session.
 */
export function assumeRole(account: Account, parsed: ParsedRequest, caller: Caller, now: number): Record<string, unknown> {
  const p = parsed.params;
  const arn = required(p, 'RoleArn');
  const sessionName = required(p, 'RoleSessionName');
  checkRoleArn(arn);
  checkSessionName(sessionName);
  const duration = parseDuration(p);
  const sessionPolicy = parsePolicyParam(p);
  if (p.ExternalId !== undefined && !EXTERNAL_ID_RE.test(p.ExternalId)) {
    fail(400, 'InvalidParameter.ExternalId', 'The parameter ExternalId is wrongly formed.');
  }
  const sourceIdentity = sourceIdentityOf(p, caller);
  const role = lookupRole(account, arn);
  checkDurationForRole(duration, role);

  authorize(
    caller,
    'sts:AssumeRole',
    role.arn,
    account.accountId,
    'NoPermission',
    'You are not authorized to do this action. You should be authorized by RAM.',
  );
  if (!isTrusted(role.role, caller)) {
    fail(403, 'NoPermission', 'No permission perform sts:AssumeRole on this Role. Maybe you should check the role trust policy.');
  }
  const originUser = caller.kind === 'user' ? caller.state.user.name : caller.session.originUser;
  return credentialsBody(account.issue(role, sessionName, duration, { sessionPolicy, originUser, sourceIdentity }, now));
}

/** GetCallerIdentity: who the caller is (RAM user or assumed role). */
export function getCallerIdentity(account: Account, caller: Caller): Record<string, unknown> {
  const { accountId } = account;
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

/**
 * AssumeRoleWithOIDC (anonymous): parameters, provider, the JWT (signature, issuer, expiry,
 * audience), role, duration and trust; then a new session with `OIDCTokenInfo`.
 */
export function assumeRoleWithOidc(account: Account, parsed: ParsedRequest, now: number): Record<string, unknown> {
  const p = parsed.params;
  const providerArn = required(p, 'OIDCProviderArn');
  const token = required(p, 'OIDCToken');
  const arn = required(p, 'RoleArn');
  const sessionName = required(p, 'RoleSessionName');
  checkRoleArn(arn);
  checkSessionName(sessionName);
  const duration = parseDuration(p);
  const sessionPolicy = parsePolicyParam(p);

  const m = OIDC_PROVIDER_ARN_RE.exec(providerArn);
  if (m === null) fail(400, 'InvalidParameter.OIDCProviderArn', 'The parameter OIDCProviderArn is wrongly formed.');
  const provider = m[1] === account.accountId ? account.providers.get(m[2]!.toLowerCase()) : undefined;
  if (provider === undefined) fail(401, 'AuthenticationFail.NoPermission', 'No such OIDC Provider registered.');

  if (token.length < 4 || token.length > 20000) {
    fail(401, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token must be 4 to 20000 characters long.');
  }
  const check = verifyJwt(token, account.oidcKey);
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

  const role = lookupRole(account, arn);
  checkDurationForRole(duration, role);
  if (!(role.role.trustedOidcProviders ?? []).some((name) => sameName(name, provider.provider.name))) {
    fail(401, 'AuthenticationFail.NoPermission', 'There is no permission: the role does not trust this OIDC provider.');
  }
  const body = credentialsBody(account.issue(role, sessionName, duration, { sessionPolicy }, now));
  body.OIDCTokenInfo = {
    Issuer: claims.iss,
    Subject: claims.sub,
    ClientIds: audiences.join(','),
    ExpirationTime: isoSeconds(claims.exp * 1000),
    IssuanceTime: isoSeconds((typeof claims.iat === 'number' ? claims.iat : claims.exp) * 1000),
  };
  return body;
}
