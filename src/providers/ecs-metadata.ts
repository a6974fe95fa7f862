/**
 * Credentials of the RAM role attached to an ECS instance, from the instance metadata
 * service (IMDS, `http://100.100.100.200`), in hardening mode (IMDSv2 token) with an
 * optional fallback to normal mode (IMDSv1), as ECS's instance-metadata documentation describes.
 *
 * Universal code: `fetch`, `AbortController`. No Node built-ins, no `process`.
 */
import { ConfigError, CredentialsProviderError, messageOf } from '../errors.js';
import { monotonicNow } from '../internal/clock.js';
import { bodyExcerpt } from '../internal/redact.js';
import { envFlag, envString, processEnv, type EnvLike } from '../internal/env.js';
import { checkTimeout } from '../internal/validate-options.js';
import { logSafely } from '../internal/log.js';
import { refreshing, type RefreshingProvider, type RefreshOptions } from '../refresh.js';
import type { Logger } from '../types.js';
import {
  httpRequest,
  isRetryableStatus,
  parseCredentialsBody,
  stableExpiration,
  type HttpAnswer,
} from './credentials-answer.js';

/**
 * Env variable: `true` (case-insensitive) turns the ECS metadata provider off; it then
 * declines (try the next provider) without any request.
 */
export const ECS_METADATA_DISABLED_ENV = 'ALIBABA_CLOUD_ECS_METADATA_DISABLED';
/** Env variable with the instance's RAM role name; skips role discovery. */
export const ECS_METADATA_ROLE_ENV = 'ALIBABA_CLOUD_ECS_METADATA';
/** Env variable: `true` (case-insensitive) requires the IMDSv2 token (no IMDSv1 fallback). */
export const IMDSV1_DISABLED_ENV = 'ALIBABA_CLOUD_IMDSV1_DISABLED';
/** The ECS instance metadata service. */
export const DEFAULT_ECS_METADATA_ENDPOINT = 'http://100.100.100.200';

/** How this provider's messages start. */
const LABEL = 'fromEcsMetadata';
const PROVIDER = 'ecs-metadata';
const TOKEN_PATH = '/latest/api/token';
const ROLES_PATH = '/latest/meta-data/ram/security-credentials/';
const TOKEN_HEADER = 'X-aliyun-ecs-metadata-token';
const TOKEN_TTL_HEADER = 'X-aliyun-ecs-metadata-token-ttl-seconds';
/** Token TTL asked for (the maximum, as the official SDKs do). */
const TOKEN_TTL_SECONDS = 21_600;
/** A cached token is replaced this long before its TTL runs out. */
const TOKEN_RENEW_MARGIN_SECONDS = 300;
const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_RETRIES = 2;
const ROLE_NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * Options of {@link fromEcsMetadata}. Every field is optional.
 *
 * @example
 * ```ts
 * import { fromEcsMetadata, type FromEcsMetadataOptions } from 'alicred';
 * const options: FromEcsMetadataOptions = { roleName: 'app-role', disableImdsV1: true, timeoutMs: 1000, retries: 2 };
 * const provider = fromEcsMetadata(options);
 * ```
 */
export type FromEcsMetadataOptions = {
  /** The instance's RAM role. Default: env `ALIBABA_CLOUD_ECS_METADATA`, else discovered from the service. */
  roleName?: string;
  /**
   * Require the IMDSv2 token: no fallback to IMDSv1 (normal mode) when the token cannot be
   * had or a request with it fails. Default: env `ALIBABA_CLOUD_IMDSV1_DISABLED=true`, else false.
   */
  disableImdsV1?: boolean;
  /** Time limit of each request to the service, in ms. Default 1000. */
  timeoutMs?: number;
  /**
   * Retries of one refresh after a network failure, a timeout or a 5xx answer, with short
   * jittered delays (200–800 ms). Default 2. Ignored when `refresh.retry` is given.
   */
  retries?: number;
  /** The metadata service. Default `http://100.100.100.200`; tests pass an emulator's. */
  endpoint?: string;
  /** Where the `ALIBABA_CLOUD_*` variables are read (at each refresh). Default `process.env` where it exists. */
  env?: EnvLike;
  /** Receives debug notes (IMDSv1 fallbacks) and the engine's warnings. */
  logger?: Logger;
  /** Options of the refresh engine (windows, retry, clock...). */
  refresh?: RefreshOptions;
  /** The fetch to use. Default: the global `fetch`, looked up at each call. */
  fetch?: typeof fetch;
};

function checkRoleName(name: string, field: string): string {
  if (!ROLE_NAME_RE.test(name) || /^\.+$/.test(name)) {
    throw new ConfigError(
      `fromEcsMetadata: ${field} ${JSON.stringify(name.slice(0, 64))} is not a RAM role name (1-64 letters, digits, '.', '-')`,
      { provider: PROVIDER, field },
    );
  }
  return name;
}

function parseEndpoint(raw: string): string {
  const fail = (rule: string): never => {
    throw new ConfigError(`fromEcsMetadata: endpoint ${JSON.stringify(raw.slice(0, 120))} ${rule}`, {
      provider: PROVIDER,
      field: 'endpoint',
      code: 'InvalidEndpoint',
    });
  };
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    fail('is not a URL (e.g. http://100.100.100.200)');
  }
  if (url!.protocol !== 'http:' && url!.protocol !== 'https:') fail('must be an http:// or https:// URL');
  if (url!.username !== '' || url!.password !== '') fail('must not contain user info');
  if (url!.search !== '' || url!.hash !== '') fail('must not have a query or fragment');
  return `${url!.origin}${url!.pathname.replace(/\/+$/, '')}`;
}

/**
 * Temporary credentials of the RAM role attached to this ECS instance, read from the
 * instance metadata service and kept fresh by the refresh engine (ECS hands out 6-hour
 * credentials and replaces them before they expire; a credential handed out again
 * unchanged is recognised, so a late rotation costs a few requests, not one per call).
 *
 * Each refresh: an IMDSv2 token (`PUT /latest/api/token`, cached for its 6-hour TTL),
 * the role name (option, else env `ALIBABA_CLOUD_ECS_METADATA`, else
 * `GET /latest/meta-data/ram/security-credentials/`), then that role's credentials. Without
 * a token (the PUT fails), and when a request with the token is refused, it falls back to
 * IMDSv1 unless `disableImdsV1` (or env `ALIBABA_CLOUD_IMDSV1_DISABLED=true`) forbids it.
 * Each request has a 1 s limit; network failures, timeouts and 5xx answers are retried.
 *
 * Env `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`: the provider declines (a
 * {@link CredentialsProviderError} with `tryNext: true`) without any request. An instance
 * without a RAM role: a CredentialsProviderError (`tryNext: false`, code `NoRole`).
 *
 * @example
 * ```ts
 * import { fromEcsMetadata } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // The emulator plays the metadata service; on ECS drop `endpoint`.
 * const emu = await startEmulator({ ecs: { roleName: 'app-role' } });
 * const provider = fromEcsMetadata({ disableImdsV1: true, endpoint: emu.metadataEndpoint }); // hardening mode only
 * const creds = await provider();   // STS.… key of the instance's role
 * provider.close();
 * await emu.close();
 * ```
 */
export function fromEcsMetadata(options: FromEcsMetadataOptions = {}): RefreshingProvider {
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, { fn: 'fromEcsMetadata', provider: PROVIDER, field: 'timeoutMs' });
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
    throw new ConfigError(`fromEcsMetadata: retries must be an integer from 0 to 10 (got ${String(retries)})`, {
      provider: PROVIDER,
      field: 'retries',
    });
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigError('fromEcsMetadata: fetch must be a function compatible with the global fetch', { provider: PROVIDER, field: 'fetch' });
  }
  const endpoint = parseEndpoint(options.endpoint ?? DEFAULT_ECS_METADATA_ENDPOINT);
  const configuredRole =
    options.roleName === undefined || options.roleName.trim() === '' ? undefined : checkRoleName(options.roleName.trim(), 'roleName');
  const logger = options.logger;
  const wallNow = options.refresh?.clock ?? (() => Date.now());
  const tokenClock: () => number = options.refresh?.clock ?? monotonicNow;
  const stable = stableExpiration();

  /** The cached IMDSv2 token and when (tokenClock) to stop using it. */
  let cachedToken: { value: string; renewAt: number } | undefined;

  const get = (path: string, token: string | undefined, signal: AbortSignal | undefined): Promise<HttpAnswer> =>
    httpRequest({
      url: `${endpoint}${path}`,
      method: 'GET',
      headers: token === undefined ? {} : { [TOKEN_HEADER]: token },
      timeoutMs,
      signal,
      fetch: options.fetch,
      provider: PROVIDER,
      label: LABEL,
      describe: `GET ${endpoint}${path}`,
      clock: wallNow,
    });

  /** A token, from the cache or a PUT; undefined to go on with IMDSv1. */
  async function getToken(v1Disabled: boolean, signal: AbortSignal | undefined): Promise<{ value: string; cached: boolean } | undefined> {
    if (cachedToken !== undefined && tokenClock() < cachedToken.renewAt) return { value: cachedToken.value, cached: true };
    cachedToken = undefined;
    const sentAt = tokenClock();
    let problem: string;
    let retryable: boolean;
    let cause: unknown;
    try {
      const answer = await httpRequest({
        url: `${endpoint}${TOKEN_PATH}`,
        method: 'PUT',
        headers: { [TOKEN_TTL_HEADER]: String(TOKEN_TTL_SECONDS) },
        timeoutMs,
        signal,
        fetch: options.fetch,
        provider: PROVIDER,
        label: LABEL,
        describe: `PUT ${endpoint}${TOKEN_PATH}`,
      });
      const token = answer.text.trim();
      if (answer.status === 200 && token !== '' && token.length <= 4096 && !/[\r\n\0]/.test(token)) {
        cachedToken = { value: token, renewAt: sentAt + (TOKEN_TTL_SECONDS - TOKEN_RENEW_MARGIN_SECONDS) * 1000 };
        return { value: token, cached: false };
      }
      problem = answer.status === 200 ? 'an empty or malformed token' : `HTTP ${answer.status}`;
      retryable = isRetryableStatus(answer.status);
    } catch (error) {
      if (signal?.aborted) throw error;
      problem = messageOf(error);
      retryable = error instanceof CredentialsProviderError ? error.retryable : true;
      cause = error;
    }
    if (v1Disabled) {
      throw new CredentialsProviderError(
        `${LABEL}: could not get a metadata token (IMDSv2) from ${endpoint}: ${problem}; ` +
          `IMDSv1 is disabled (disableImdsV1 / ${IMDSV1_DISABLED_ENV}), so there is no fallback`,
        { provider: PROVIDER, code: 'MetadataTokenFailed', retryable, cause },
      );
    }
    logSafely(logger, 'debug', `alicred: ${LABEL}: no metadata token (${problem}); falling back to IMDSv1`);
    return undefined;
  }

  /** The state of one refresh: its token (got once, shared by its requests) and mode. */
  type Attempt = { v1Disabled: boolean; token: { value: string; cached: boolean } | undefined; signal: AbortSignal | undefined };

  /** GET with the token; when that is refused, once more without it (or with a fresh token). */
  async function getData(path: string, attempt: Attempt): Promise<HttpAnswer> {
    const { token, v1Disabled, signal } = attempt;
    const first = await get(path, token?.value, signal);
    if (token === undefined || first.status === 200 || first.status === 404) return first;
    // Refused with the token: the token may be stale or the service may not support it.
    const rejected = first.status === 401 || first.status === 403;
    if (rejected && cachedToken?.value === token.value) cachedToken = undefined;
    if (!v1Disabled) {
      logSafely(logger, 'debug', `alicred: ${LABEL}: GET ${path} with the metadata token answered HTTP ${first.status}; retrying once with IMDSv1`);
      return get(path, undefined, signal);
    }
    if (token.cached && rejected) {
      // A token from the cache may have been invalidated (instance restart): one fresh one.
      attempt.token = await getToken(v1Disabled, signal);
      if (attempt.token !== undefined) return get(path, attempt.token.value, signal);
    }
    return first;
  }

  function httpError(answer: HttpAnswer, what: string, token: string | undefined): CredentialsProviderError {
    return new CredentialsProviderError(`${LABEL}: ${what} answered HTTP ${answer.status}: "${bodyExcerpt(answer.text, { max: 80, unknownSecrets: true, secrets: [token] })}"`, {
      provider: PROVIDER,
      code: 'HttpError',
      retryable: isRetryableStatus(answer.status),
    });
  }

  async function discoverRole(attempt: Attempt): Promise<string> {
    const answer = await getData(ROLES_PATH, attempt);
    if (answer.status === 404) {
      throw new CredentialsProviderError(
        `${LABEL}: no RAM role is attached to this ECS instance (GET ${ROLES_PATH} answered 404); ` +
          `attach one to the instance, or name it with roleName / ${ECS_METADATA_ROLE_ENV}`,
        { provider: PROVIDER, code: 'NoRole', tryNext: false },
      );
    }
    if (answer.status !== 200) throw httpError(answer, `GET ${ROLES_PATH}`, attempt.token?.value);
    const name = answer.text.split(/\r?\n/).map((line) => line.trim()).find((line) => line !== '');
    if (name === undefined) {
      throw new CredentialsProviderError(`${LABEL}: no RAM role is attached to this ECS instance (GET ${ROLES_PATH} answered an empty list)`, {
        provider: PROVIDER,
        code: 'NoRole',
      });
    }
    if (!ROLE_NAME_RE.test(name) || /^\.+$/.test(name)) {
      throw new CredentialsProviderError(`${LABEL}: GET ${ROLES_PATH} answered something that is not a role name: "${bodyExcerpt(name, { max: 64, unknownSecrets: true })}"`, {
        provider: PROVIDER,
        code: 'InvalidResponse',
      });
    }
    return name;
  }

  return refreshing(
    async ({ signal } = {}) => {
      const env = options.env ?? processEnv();
      if (envFlag(env, ECS_METADATA_DISABLED_ENV)) {
        throw new CredentialsProviderError(`${LABEL}: disabled by ${ECS_METADATA_DISABLED_ENV}=true`, {
          provider: PROVIDER,
          tryNext: true,
        });
      }
      const v1Disabled = options.disableImdsV1 ?? envFlag(env, IMDSV1_DISABLED_ENV);
      const envRole = envString(env, ECS_METADATA_ROLE_ENV);
      const presetRole = configuredRole ?? (envRole !== undefined ? checkRoleName(envRole, ECS_METADATA_ROLE_ENV) : undefined);
      const attempt: Attempt = { v1Disabled, token: await getToken(v1Disabled, signal), signal };
      const roleName = presetRole ?? (await discoverRole(attempt));
      const path = `${ROLES_PATH}${encodeURIComponent(roleName)}`;
      const answer = await getData(path, attempt);
      if (answer.status === 404) {
        throw new CredentialsProviderError(
          `${LABEL}: the metadata service has no credentials for RAM role ${JSON.stringify(roleName)} (HTTP 404); ` +
            'is it the role attached to this instance?',
          { provider: PROVIDER, code: 'RoleNotFound' },
        );
      }
      if (answer.status !== 200) throw httpError(answer, `GET ${ROLES_PATH}${roleName}`, attempt.token?.value);
      const { credentials, statedExpiration } = parseCredentialsBody(answer, {
        provider: PROVIDER,
        label: LABEL,
        describe: `the credentials of RAM role ${JSON.stringify(roleName)}`,
        requireCode: true,
        source: PROVIDER,
        localNow: answer.localNow ?? wallNow(),
        logger: options.refresh?.logger ?? logger,
        secrets: [attempt.token?.value],
      });
      return stable(credentials, statedExpiration);
    },
    {
      name: PROVIDER,
      ...options.refresh,
      logger: options.refresh?.logger ?? logger,
      retry: options.refresh?.retry ?? { retries, minDelayMs: 200, maxDelayMs: 800 },
    },
  );
}
