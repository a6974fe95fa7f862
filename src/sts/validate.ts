/**
 * Client-side checks of STS request parameters, run before any request so that a typo is
 * a {@link ConfigError} naming the field and the rule, not a round trip and a server error.
 *
 * The rules follow the STS API reference (AssumeRole, AssumeRoleWithOIDC). Messages name the
 * field and the rule; they show the value only for non-sensitive identifiers (role ARN,
 * OIDC provider ARN, session name), never a policy, an external id, a source identity or
 * an OIDC token.
 */
import { ConfigError } from '../errors.js';

/**
 * Parameters of STS AssumeRole.
 *
 * @example
 * ```ts
 * import type { AssumeRoleParams } from 'alicred';
 * const params: AssumeRoleParams = {
 *   roleArn: 'acs:ram::1234567890123456:role/iot-operator',
 *   roleSessionName: 'nightly-job',
 *   durationSeconds: 900,
 *   policy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"iot:Query*","Resource":"*"}]}',
 * };
 * ```
 */
export type AssumeRoleParams = {
  /** `acs:ram::<account id>:role/<role name>`. */
  roleArn: string;
  /** 2–64 characters of letters, digits and `. @ - _`. Appears in the assumed role's ARN and audit logs. */
  roleSessionName: string;
  /** Lifetime in seconds: 900 up to the role's MaxSessionDuration (at most 43200). Server default 3600. */
  durationSeconds?: number | undefined;
  /** A session policy (JSON, at most 2048 characters) narrowing the role's permissions. */
  policy?: string | undefined;
  /** 2–1224 characters of letters, digits and `+ = , . @ : / - _`; checked by the role's trust policy. */
  externalId?: string | undefined;
  /** 2–64 characters of letters, digits and `+ = , . @ - _`; must not start with `acs:`, `aliyun:` or `alibabacloud:`. */
  sourceIdentity?: string | undefined;
};

/**
 * Parameters of STS AssumeRoleWithOIDC (an anonymous call: the OIDC token is the proof).
 *
 * @example
 * ```ts
 * import type { AssumeRoleWithOidcParams } from 'alicred';
 * const params: AssumeRoleWithOidcParams = {
 *   roleArn: 'acs:ram::1234567890123456:role/app',
 *   oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
 *   oidcToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
 *   roleSessionName: 'rrsa-session',
 * };
 * ```
 */
export type AssumeRoleWithOidcParams = {
  /** `acs:ram::<account id>:role/<role name>` of a role that trusts the OIDC provider. */
  roleArn: string;
  /** `acs:ram::<account id>:oidc-provider/<name>`. */
  oidcProviderArn: string;
  /** The raw JWT (4–20000 characters), e.g. the content of ALIBABA_CLOUD_OIDC_TOKEN_FILE. */
  oidcToken: string;
  /** 2–64 characters of letters, digits and `. @ - _`. */
  roleSessionName: string;
  /** 900 up to the role's MaxSessionDuration (at most 43200). Server default 3600. */
  durationSeconds?: number | undefined;
  /** A session policy (JSON, at most 2048 characters). */
  policy?: string | undefined;
};

/** Shortest session STS grants, in seconds. */
export const MIN_DURATION_SECONDS = 900;
/** Longest session STS grants (a role's MaxSessionDuration is at most this), in seconds. */
export const MAX_DURATION_SECONDS = 43200;
/** Longest session policy, in characters. */
export const MAX_POLICY_LENGTH = 2048;

const ROLE_ARN_RE = /^acs:ram::\d+:[Rr][Oo][Ll][Ee]\/[\w.-]{1,64}$/;
const OIDC_PROVIDER_ARN_RE = /^acs:ram::\d+:oidc-provider\/[\w.-]{1,128}$/;
const SESSION_NAME_RE = /^[\w.@-]{2,64}$/;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;
const SOURCE_IDENTITY_RE = /^[\w+=,.@-]{2,64}$/;
const RESERVED_SOURCE_IDENTITY_PREFIX = /^(?:acs|aliyun|alibabacloud):/i;

function fail(field: string, message: string): never {
  throw new ConfigError(`${field}: ${message}`, { field, provider: 'sts', code: 'InvalidParameter' });
}

/** A non-secret value, quoted and cut short for messages. */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 controls, DEL and C1 controls: never part of a key, a secret or a token. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

/**
 * True when `value` is not well-formed UTF-16 (has a lone surrogate): it has no UTF-8
 * form, so it can be neither signed nor sent.
 */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE_RE.test(value);
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') fail(field, `must be a string (got ${value === null ? 'null' : typeof value})`);
  // Checked before any rule that shows the value: the message must not quote it.
  if (hasLoneSurrogate(value)) fail(field, 'is not well-formed UTF-16 (it contains a lone surrogate) and cannot be sent');
  return value;
}

/**
 * Checks the source credentials an STS call is signed with: a non-empty AccessKeyId and
 * AccessKeySecret, an optional SecurityToken, none with a lone surrogate or a control
 * character (they would be signed wrongly or refused by fetch with a message that quotes
 * them). The values never appear in the error; its `field` names the culprit
 * (`source.accessKeyId`, `source.accessKeySecret`, `source.securityToken`).
 */
export function validateSourceCredentials(source: unknown): void {
  if (!isObject(source)) {
    throw new ConfigError('source credentials are required to sign an STS call', { field: 'source', provider: 'sts' });
  }
  const fields: Array<[string, string, boolean]> = [
    ['accessKeyId', 'AccessKeyId', true],
    ['accessKeySecret', 'AccessKeySecret', true],
    ['securityToken', 'SecurityToken', false],
  ];
  for (const [key, label, required] of fields) {
    const value = source[key];
    const field = `source.${key}`;
    if (value === undefined && !required) continue;
    if (typeof value !== 'string' || (required && value.trim() === '')) {
      const what = typeof value === 'string' ? 'an empty' : `a ${value === null ? 'null' : typeof value}`;
      throw new ConfigError(`source credentials have ${what} ${label}`, { field, provider: 'sts' });
    }
    if (hasLoneSurrogate(value) || hasControlCharacter(value)) {
      throw new ConfigError(
        `source credentials have a ${label} with a control character or a lone surrogate; check how it was loaded (value not shown)`,
        { field, provider: 'sts' },
      );
    }
  }
}

/**
 * Checks a role ARN: `acs:ram::<account id digits>:role/<name>` where the name is 1–64
 * characters of letters, digits and `. - _` (the word `role` in any case).
 */
export function validateRoleArn(roleArn: unknown, field = 'roleArn'): void {
  const value = requireString(field, roleArn);
  if (!ROLE_ARN_RE.test(value)) {
    fail(
      field,
      `${shown(value)} is not a role ARN: expected acs:ram::<account id>:role/<role name> ` +
        '(account id: digits; role name: 1-64 letters, digits, ".", "-", "_")',
    );
  }
}

/** Checks a RoleSessionName: 2–64 characters of letters, digits and `. @ - _`. */
export function validateRoleSessionName(name: unknown, field = 'roleSessionName'): void {
  const value = requireString(field, name);
  if (!SESSION_NAME_RE.test(value)) {
    fail(field, `${shown(value)} must be 2-64 characters of letters, digits, ".", "@", "-", "_"`);
  }
}

/**
 * Checks DurationSeconds: an integer from 900 to 43200 (the server also caps it at the
 * role's MaxSessionDuration, which the client cannot know).
 */
export function validateDurationSeconds(seconds: unknown, field = 'durationSeconds'): void {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) {
    fail(field, `must be an integer number of seconds (got ${typeof seconds === 'number' ? String(seconds) : typeof seconds})`);
  }
  if (seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    fail(
      field,
      `${seconds} is out of range: STS grants ${MIN_DURATION_SECONDS} s to ${MAX_DURATION_SECONDS} s ` +
        "(and at most the role's MaxSessionDuration)",
    );
  }
}

/**
 * Checks a session policy: 1–2048 characters of JSON whose top level is an object. The
 * policy itself never appears in the error.
 */
export function validatePolicy(policy: unknown, field = 'policy'): void {
  const value = requireString(field, policy);
  if (value.length === 0 || value.length > MAX_POLICY_LENGTH) {
    fail(field, `must be 1-${MAX_POLICY_LENGTH} characters long (it has ${value.length})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    fail(field, 'must be valid JSON (a policy document such as {"Version":"1","Statement":[...]})');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail(field, 'must be a JSON object (a policy document such as {"Version":"1","Statement":[...]})');
  }
}

/**
 * Checks an ExternalId: 2–1224 characters of letters, digits and `+ = , . @ : / - _`.
 * The value never appears in the error.
 */
export function validateExternalId(externalId: unknown, field = 'externalId'): void {
  const value = requireString(field, externalId);
  if (!EXTERNAL_ID_RE.test(value)) {
    fail(field, `must be 2-1224 characters of letters, digits, "+", "=", ",", ".", "@", ":", "/", "-", "_" (it has ${value.length} characters)`);
  }
}

/**
 * Checks a SourceIdentity: 2–64 characters of letters, digits and `+ = , . @ - _`, not
 * starting with `acs:`, `aliyun:` or `alibabacloud:`. The value never appears in the error.
 */
export function validateSourceIdentity(sourceIdentity: unknown, field = 'sourceIdentity'): void {
  const value = requireString(field, sourceIdentity);
  if (RESERVED_SOURCE_IDENTITY_PREFIX.test(value)) {
    fail(field, 'must not start with the reserved prefixes "acs:", "aliyun:" or "alibabacloud:"');
  }
  if (!SOURCE_IDENTITY_RE.test(value)) {
    fail(field, `must be 2-64 characters of letters, digits, "+", "=", ",", ".", "@", "-", "_" (it has ${value.length} characters)`);
  }
}

/** Checks an OIDC provider ARN: `acs:ram::<account id digits>:oidc-provider/<name>`. */
export function validateOidcProviderArn(arn: unknown, field = 'oidcProviderArn'): void {
  const value = requireString(field, arn);
  if (!OIDC_PROVIDER_ARN_RE.test(value)) {
    fail(
      field,
      `${shown(value)} is not an OIDC provider ARN: expected acs:ram::<account id>:oidc-provider/<provider name>`,
    );
  }
}

/**
 * Checks an OIDC token: a non-blank string of 4–20000 characters (the raw JWT, not
 * Base64-encoded again). The token never appears in the error.
 */
export function validateOidcToken(token: unknown, field = 'oidcToken'): void {
  const value = requireString(field, token);
  if (value.trim() === '') fail(field, 'is empty: an OIDC token (JWT) is required');
  if (value.length < 4 || value.length > 20000) {
    fail(field, `must be 4-20000 characters long (it has ${value.length})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks every AssumeRole parameter (see {@link AssumeRoleParams}); throws the first
 * problem as a {@link ConfigError} whose `field` is the parameter's name
 * (`roleArn`, `roleSessionName`, `durationSeconds`, `policy`, `externalId`,
 * `sourceIdentity`).
 *
 * @example
 * ```ts
 * import { validateAssumeRoleParams } from 'alicred';
 * validateAssumeRoleParams({ roleArn: 'acs:ram::123456789012:role/reader', roleSessionName: 'batch-job' });
 * ```
 */
export function validateAssumeRoleParams(params: AssumeRoleParams): void {
  if (!isObject(params)) fail('params', 'AssumeRole needs a parameter object');
  validateRoleArn(params.roleArn);
  validateRoleSessionName(params.roleSessionName);
  if (params.durationSeconds !== undefined) validateDurationSeconds(params.durationSeconds);
  if (params.policy !== undefined) validatePolicy(params.policy);
  if (params.externalId !== undefined) validateExternalId(params.externalId);
  if (params.sourceIdentity !== undefined) validateSourceIdentity(params.sourceIdentity);
}

/**
 * Checks every AssumeRoleWithOIDC parameter (see {@link AssumeRoleWithOidcParams}); throws
 * the first problem as a {@link ConfigError} naming the field.
 *
 * @example
 * ```ts
 * import { validateAssumeRoleWithOidcParams } from 'alicred';
 * validateAssumeRoleWithOidcParams({
 *   roleArn: 'acs:ram::123456789012:role/oidc-role',
 *   oidcProviderArn: 'acs:ram::123456789012:oidc-provider/ack-rrsa-c123',
 *   oidcToken: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
 *   roleSessionName: 'rrsa-session',
 * });
 * ```
 */
export function validateAssumeRoleWithOidcParams(params: AssumeRoleWithOidcParams): void {
  if (!isObject(params)) fail('params', 'AssumeRoleWithOIDC needs a parameter object');
  validateRoleArn(params.roleArn);
  validateOidcProviderArn(params.oidcProviderArn);
  validateOidcToken(params.oidcToken);
  validateRoleSessionName(params.roleSessionName);
  if (params.durationSeconds !== undefined) validateDurationSeconds(params.durationSeconds);
  if (params.policy !== undefined) validatePolicy(params.policy);
}
