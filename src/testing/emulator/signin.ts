/**
 * Shared pieces of the emulator's sign-in endpoints: the CloudSSO portal's
 * `/cloud-credentials` (signin-sso.ts) and the OAuth server's `/v1/token` and `/v1/exchange`
 * (signin-oauth.ts). These are plain REST calls, not POP APIs: no signature, a Bearer token
 * or a form body instead; their requests are logged with no AccessKeyId and the signature
 * version `'anonymous'`. Token strings are opaque (48 random bytes, base64url) and never
 * appear in an answer other than the one that hands them out.
 *
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProductAnswer } from './product.js';
import type { EmulatorOptions } from './types.js';

/** The OAuth client id of each site, hard-coded in the aliyun CLI and the official libraries. */
export const OAUTH_CLIENT_IDS = { CN: '4038181954557748008', INTL: '4103531455503354461' } as const;
/** An OAuth site. */
export type OAuthSite = keyof typeof OAUTH_CLIENT_IDS;

/** Defaults of the sign-in options (seconds, before `timeScale`). */
export const SIGNIN_DEFAULTS = {
  stsSeconds: 3600,
  cloudSsoTokenSeconds: 3600,
  accessTokenSeconds: 3600,
  refreshTokenSeconds: 30 * 24 * 3600,
} as const;

/** Longest STS lifetime the sign-in endpoints issue (RAM's maximum session duration). */
const MAX_STS_SECONDS = 43200;

/** A new opaque token: 48 random bytes, base64url (64 characters). */
export function newOpaqueToken(): string {
  return randomBytes(48).toString('base64url');
}

/**
 * When something `seconds` long (divided by `timeScale`) made at `now` expires: epoch ms on a
 * whole second, as STS expiries are; always after `now` for a positive lifetime.
 */
export function expiryOf(now: number, seconds: number, timeScale: number): number {
  const lifetimeMs = (seconds * 1000) / timeScale;
  let at = Math.floor((now + lifetimeMs) / 1000) * 1000;
  if (lifetimeMs > 0 && at <= now) at = Math.ceil((now + lifetimeMs) / 1000) * 1000;
  return at;
}

const BEARER_RE = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 syntax), else undefined. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  return typeof value === 'string' ? BEARER_RE.exec(value)?.[1] : undefined;
}

/**
 * A JSON answer. The body's request id (if any) is `requestId`, also sent as
 * `x-acs-request-id` so header and body agree.
 */
export function jsonAnswer(status: number, body: Record<string, unknown>, code: string | undefined, requestId: string, headers: Record<string, string> = {}): ProductAnswer {
  return {
    status,
    headers: { 'Content-Type': 'application/json;charset=utf-8', 'x-acs-request-id': requestId, ...headers },
    body: JSON.stringify(body),
    code,
  };
}

/**
 * The first problem of the `cloudSso` and `oauth` options, or undefined. `roleNames` are the
 * lower-cased names of the account's roles (`roles`, plus the ECS and credentials-URI roles).
 */
export function signInOptionsProblem(options: EmulatorOptions, roleNames: ReadonlySet<string>): string | undefined {
  const sts = (owner: string, v: unknown) =>
    v === undefined || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_STS_SECONDS)
      ? undefined
      : `${owner}.durationSeconds must be an integer in 1..${MAX_STS_SECONDS}`;
  const unknownRole = (owner: string, role: unknown) =>
    typeof role === 'string' && roleNames.has(role.toLowerCase()) ? undefined : `${owner} names no configured role (${JSON.stringify(role)})`;
  const { cloudSso, oauth } = options;
  if (cloudSso !== undefined) {
    if (!Array.isArray(cloudSso.assignments)) return 'cloudSso.assignments must be an array';
    const seen = new Set<string>();
    for (const [i, a] of cloudSso.assignments.entries()) {
      const owner = `cloudSso.assignments[${i}]`;
      if (typeof a?.accountId !== 'string' || a.accountId === '' || typeof a.accessConfigurationId !== 'string' || a.accessConfigurationId === '') {
        return `${owner} needs a non-empty accountId and accessConfigurationId`;
      }
      const problem = unknownRole(`${owner}.role`, a.role);
      if (problem !== undefined) return problem;
      const key = JSON.stringify([a.accountId, a.accessConfigurationId]);
      if (seen.has(key)) return `${owner} repeats account ${a.accountId} / access configuration ${a.accessConfigurationId}`;
      seen.add(key);
    }
    const problem = sts('cloudSso', cloudSso.durationSeconds);
    if (problem !== undefined) return problem;
  }
  if (oauth !== undefined) {
    const problem = unknownRole('oauth.role', oauth.role) ?? sts('oauth', oauth.durationSeconds);
    if (problem !== undefined) return problem;
    for (const key of ['accessTokenSeconds', 'refreshTokenSeconds'] as const) {
      const v = oauth[key];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) return `oauth.${key} must be a positive number`;
    }
    if (oauth.rotateRefreshTokens !== undefined && typeof oauth.rotateRefreshTokens !== 'boolean') return 'oauth.rotateRefreshTokens must be a boolean';
    if (oauth.exchangeCase !== undefined && oauth.exchangeCase !== 'camel' && oauth.exchangeCase !== 'pascal') {
      return "oauth.exchangeCase must be 'camel' or 'pascal'";
    }
  }
  return undefined;
}

/** Throws a TypeError unless `value` is undefined or a finite number (a mint option). */
export function checkSeconds(method: string, name: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value))) {
    throw new TypeError(`${method}: ${name} must be a finite number of seconds`);
  }
}
