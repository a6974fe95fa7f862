/**
 * The two sign-in exchanges of the aliyun CLI's CloudSSO and OAuth modes, as plain HTTP:
 * a CloudSSO access token for STS credentials (`POST <portal>/cloud-credentials`), an OAuth
 * refresh token for new tokens (`POST <oauth>/v1/token`), an OAuth access token for STS
 * credentials (`POST <oauth>/v1/exchange`). Bearer and refresh tokens go over https only
 * (http to a loopback host, for tests). Universal: fetch only. The profile-file side (which
 * token, when, and writing refreshed tokens back) is in node/cli-signin.ts.
 *
 * @internal
 */
import type { Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import { PASCAL_CASE_KEYS, type CredentialKeys } from '../internal/credentials-json.js';
import { bodyExcerpt } from '../internal/redact.js';
import { isLoopbackHost } from '../sts/endpoints.js';
import type { Logger } from '../types.js';
import { ANSWER_EXCERPT, credentialsFromRecord, httpRequest, isRetryableStatus, type HttpAnswer } from './credentials-answer.js';

/** The OAuth server and client id of each site, as hard-coded by the CLI and the official libraries. */
export const OAUTH_SITES = {
  CN: { baseUrl: 'https://oauth.aliyun.com', clientId: '4038181954557748008' },
  INTL: { baseUrl: 'https://oauth.alibabacloud.com', clientId: '4103531455503354461' },
} as const;

/** What every exchange needs: who asks (for messages and errors) and how to reach the server. */
export type SignInRequest = {
  /** The provider name in errors, e.g. `cli-profile`. */
  provider: string;
  /** How messages start, e.g. `fromCliProfile: profile 'dev' (CloudSSO)`. */
  label: string;
  /** The command that signs in again, for "log in again" errors. */
  relogin: string;
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Wall clock (ms). Default `Date.now`. */
  clock?: (() => number) | undefined;
  logger?: Logger | undefined;
};

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The origin of a sign-in or OAuth URL, checked: https, or http to a loopback host. A bearer
 * token sent over plain http to anywhere else could be read on the way.
 */
export function signInOrigin(raw: string, what: string, request: Pick<SignInRequest, 'provider' | 'label'>): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${request.label}: ${what} is not an absolute URL`, { provider: request.provider, field: what, code: 'InvalidUri' });
  }
  const loopback = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw new ConfigError(`${request.label}: ${what} must be an https:// URL (http only to a loopback host): it carries a bearer token`, {
      provider: request.provider,
      field: what,
      code: 'InvalidUri',
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(`${request.label}: ${what} must not contain user info (user:password@)`, { provider: request.provider, field: what, code: 'InvalidUri' });
  }
  return url.origin;
}

/**
 * A "sign in again" error: not retryable, and a chain must not fall through to another identity.
 *
 * @internal
 */
export function loginRequired(request: Pick<SignInRequest, 'provider' | 'label' | 'relogin'>, why: string): CredentialsProviderError {
  return new CredentialsProviderError(`${request.label}: ${why}; sign in again: ${request.relogin}`, {
    provider: request.provider,
    code: 'LoginRequired',
    retryable: false,
  });
}

/** A failed answer: 5xx/429/408 retryable, the rest not; the body is quoted, cut and scrubbed. */
function httpFailure(request: SignInRequest, describe: string, answer: HttpAnswer, secrets: readonly string[]): CredentialsProviderError {
  return new CredentialsProviderError(
    `${request.label}: ${describe} answered HTTP ${answer.status}: "${bodyExcerpt(answer.text, { ...ANSWER_EXCERPT, secrets })}"`,
    { provider: request.provider, code: 'HttpError', retryable: isRetryableStatus(answer.status) },
  );
}

/** JSON object of a body, or undefined. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const call = (request: SignInRequest, url: string, describe: string, headers: Record<string, string>, body: string | undefined, secrets: string[]) =>
  httpRequest({
    url,
    method: 'POST',
    headers,
    body,
    timeoutMs: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: request.signal,
    fetch: request.fetch,
    provider: request.provider,
    label: request.label,
    describe,
    secrets,
    clock: request.clock,
  });

/**
 * STS credentials for a CloudSSO access token: `POST <portal origin>/cloud-credentials` with
 * the account and access configuration. 401/403 mean the token is no longer accepted
 * (`LoginRequired`, not retried); 5xx and network failures are retryable.
 */
export async function cloudSsoCredentials(
  request: SignInRequest & { signInUrl: string; accessToken: string; accountId: string; accessConfigurationId: string },
): Promise<Credentials> {
  const origin = signInOrigin(request.signInUrl, 'cloud_sso_sign_in_url', request);
  const describe = `POST ${origin}/cloud-credentials`;
  const secrets = [request.accessToken];
  const answer = await call(
    request,
    `${origin}/cloud-credentials`,
    describe,
    { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${request.accessToken}` },
    JSON.stringify({ AccountId: request.accountId, AccessConfigurationId: request.accessConfigurationId }),
    secrets,
  );
  if (answer.status === 401 || answer.status === 403) {
    const body = jsonObject(answer.text);
    const code = typeof body?.ErrorCode === 'string' ? ` (${bodyExcerpt(body.ErrorCode, { max: 64, unknownSecrets: true, secrets })})` : '';
    throw loginRequired(request, `the CloudSSO portal refused the access token or the account / access configuration: HTTP ${answer.status}${code}`);
  }
  if (answer.status !== 200) throw httpFailure(request, describe, answer, secrets);
  const record = jsonObject(answer.text)?.CloudCredential;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new CredentialsProviderError(`${request.label}: ${describe} answered HTTP 200 without a CloudCredential object`, {
      provider: request.provider,
      code: 'InvalidResponse',
    });
  }
  return credentialsFromRecord(record as Record<string, unknown>, PASCAL_CASE_KEYS, answer, {
    provider: request.provider,
    label: request.label,
    describe,
    requireCode: false,
    source: 'cloud-sso',
    localNow: answer.localNow ?? (request.clock ?? Date.now)(),
    logger: request.logger,
    secrets,
  }).credentials;
}

/** New OAuth tokens. `expiresAt` is epoch seconds, as the CLI stores `oauth_access_token_expire`. */
export type OAuthTokens = { accessToken: string; refreshToken: string; expiresAt: number };

/** OAuth errors meaning the grant is gone: sign in again. */
const RELOGIN_ERRORS = new Set(['invalid_grant', 'invalid_token', 'expired_token', 'invalid_client', 'unauthorized_client']);

/** The OAuth `error` of a refused answer, when it says the grant or token is no longer good. */
function reloginError(answer: HttpAnswer): string | undefined {
  if (answer.status !== 400 && answer.status !== 401 && answer.status !== 403) return undefined;
  const error = jsonObject(answer.text)?.error;
  if (typeof error === 'string' && RELOGIN_ERRORS.has(error)) return error;
  return answer.status === 401 ? 'unauthorized' : undefined;
}

/**
 * Refreshes an OAuth access token: `POST <oauth>/v1/token`, `grant_type=refresh_token`.
 * Both tokens must come back (refresh tokens rotate). `invalid_grant` and kin are
 * `LoginRequired`; 5xx and network failures retryable.
 */
export async function refreshOAuthTokens(request: SignInRequest & { baseUrl: string; clientId: string; refreshToken: string }): Promise<OAuthTokens> {
  const origin = signInOrigin(request.baseUrl, 'oauthBaseUrl', request);
  const describe = `POST ${origin}/v1/token`;
  const secrets = [request.refreshToken];
  const now = (request.clock ?? Date.now)();
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: request.refreshToken,
    client_id: request.clientId,
    Timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  const answer = await call(request, `${origin}/v1/token`, describe, { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' }, form.toString(), secrets);
  const refused = reloginError(answer);
  if (refused !== undefined) throw loginRequired(request, `the OAuth server refused the refresh token (${refused})`);
  if (answer.status !== 200) throw httpFailure(request, describe, answer, secrets);
  const body = jsonObject(answer.text);
  const accessToken = body?.access_token;
  const refreshToken = body?.refresh_token;
  if (typeof accessToken !== 'string' || accessToken === '' || typeof refreshToken !== 'string' || refreshToken === '') {
    throw new CredentialsProviderError(`${request.label}: ${describe} answered without access_token and refresh_token (both must be non-empty strings)`, {
      provider: request.provider,
      code: 'InvalidResponse',
    });
  }
  const expiresIn = body?.expires_in;
  // Missing: 3600 s, as the official libraries assume; capped at a day, whatever the server says.
  const lifetime = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? Math.min(expiresIn, 86_400) : 3600;
  return { accessToken, refreshToken, expiresAt: Math.floor(now / 1000) + Math.floor(lifetime) };
}

/** camelCase, as the CLI, Go, Java and Node read /v1/exchange; Python reads PascalCase. */
const CAMEL_CASE_KEYS: CredentialKeys = { accessKeyId: 'accessKeyId', accessKeySecret: 'accessKeySecret', securityToken: 'securityToken', expiration: 'expiration' };

/**
 * STS credentials for an OAuth access token: `POST <oauth>/v1/exchange` with the bearer
 * token. Both key cases of the answer are accepted (the official libraries disagree).
 */
export async function exchangeOAuthToken(request: SignInRequest & { baseUrl: string; accessToken: string }): Promise<Credentials> {
  const origin = signInOrigin(request.baseUrl, 'oauthBaseUrl', request);
  const describe = `POST ${origin}/v1/exchange`;
  const secrets = [request.accessToken];
  const answer = await call(
    request,
    `${origin}/v1/exchange`,
    describe,
    { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: `Bearer ${request.accessToken}` },
    undefined,
    secrets,
  );
  const refused = reloginError(answer);
  if (refused !== undefined) throw loginRequired(request, `the OAuth server refused the access token (${refused})`);
  if (answer.status !== 200) throw httpFailure(request, describe, answer, secrets);
  const body = jsonObject(answer.text);
  if (body === undefined || typeof body.error === 'string') {
    throw new CredentialsProviderError(`${request.label}: ${describe} answered HTTP 200 without credentials`, { provider: request.provider, code: 'InvalidResponse' });
  }
  const keys = body.accessKeyId !== undefined || body.AccessKeyId === undefined ? CAMEL_CASE_KEYS : PASCAL_CASE_KEYS;
  return credentialsFromRecord(body, keys, answer, {
    provider: request.provider,
    label: request.label,
    describe,
    requireCode: false,
    source: 'oauth',
    localNow: answer.localNow ?? (request.clock ?? Date.now)(),
    logger: request.logger,
    secrets,
  }).credentials;
}
