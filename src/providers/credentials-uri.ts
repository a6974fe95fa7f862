/**
 * Credentials from an HTTP endpoint (`ALIBABA_CLOUD_CREDENTIALS_URI`), plus the small HTTP
 * helpers shared with the ECS metadata provider: one request (through the shared helper in
 * internal/http.ts: time limit, body cap, sanitized errors), a secret-free excerpt of a
 * body, and parsing of the `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` JSON
 * both services answer with.
 *
 * Universal code: `fetch`, `AbortController`, `URL`. No Node built-ins, no `process`.
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import { checkCredentialsRecord, PASCAL_CASE_KEYS } from '../internal/credentials-json.js';
import { envString, processEnv, type EnvLike } from '../internal/env.js';
import { httpCall } from '../internal/http.js';
import { logSafely } from '../internal/log.js';
import { MAX_TEMPORARY_LIFETIME_MS } from '../internal/lifetime.js';
import { bodyExcerpt as excerpt, querySecrets } from '../internal/redact.js';
import { checkTimeout } from '../internal/validate-options.js';
import { refreshing, type RefreshingProvider, type RefreshOptions } from '../refresh.js';
import { isLoopbackHost } from '../sts/endpoints.js';
import { boundedLocalExpiration, formatLifetime, parseAge, parseHttpDate, parseStsTime } from '../sts/time.js';
import type { Logger } from '../types.js';

/**
 * The env variable with the credentials URI.
 *
 * @example
 * ```ts
 * import { CREDENTIALS_URI_ENV } from 'alicred';
 * CREDENTIALS_URI_ENV; // 'ALIBABA_CLOUD_CREDENTIALS_URI'
 * ```
 */
export const CREDENTIALS_URI_ENV = 'ALIBABA_CLOUD_CREDENTIALS_URI';

const PROVIDER = 'credentials-uri';
const DEFAULT_TIMEOUT_MS = 10_000;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// ---------------------------------------------------------------------------
// Shared helpers (also used by ecs-metadata.ts)
// ---------------------------------------------------------------------------

/**
 * The answer of {@link httpRequest}: status, whole body text and the server's `Date`.
 *
 * @internal
 * @example
 * ```ts
 * const answer: HttpAnswer = { status: 200, text: '{}', serverDate: undefined };
 * ```
 */
export type HttpAnswer = {
  /** HTTP status; 0 for a browser's opaque redirect. */
  readonly status: number;
  /** The body, at most 1 MiB. */
  readonly text: string;
  /** The `Date` header in epoch ms, when present and well-formed. */
  readonly serverDate: number | undefined;
  /** The `Age` header (seconds a cache held the answer), when present and well-formed. */
  readonly ageSeconds?: number | undefined;
  /** The local clock when the headers arrived. */
  readonly localNow?: number | undefined;
};

/**
 * Options of {@link httpRequest}.
 *
 * @internal
 * @example
 * ```ts
 * const request: HttpRequest = {
 *   url: 'http://127.0.0.1:8080/creds', method: 'GET', headers: {}, timeoutMs: 1000,
 *   provider: 'credentials-uri', describe: 'GET http://127.0.0.1:8080/creds',
 * };
 * ```
 */
export type HttpRequest = {
  url: string;
  method: 'GET' | 'PUT';
  headers: Record<string, string>;
  timeoutMs: number;
  /** The caller's signal: aborting it rejects with its reason, unwrapped. */
  signal?: AbortSignal | undefined;
  /** Injected fetch; default the global one, looked up at each call. */
  fetch?: typeof fetch | undefined;
  /** Provider name for errors. */
  provider: string;
  /** What the request is, for messages (`GET http://…/path`), without any secret. */
  describe: string;
  /** Values never to print (header values, query values, tokens). */
  secrets?: readonly (string | undefined)[] | undefined;
  /** Local clock, read when the headers arrive. Default `Date.now`. */
  clock?: (() => number) | undefined;
};

/**
 * True for HTTP statuses worth retrying: 408, 429 and 5xx.
 *
 * @internal
 * @example
 * ```ts
 * isRetryableStatus(503); // true
 * isRetryableStatus(404); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Headers whose values are never secret (scrubbing them would only garble messages). */
const PLAIN_HEADERS: ReadonlySet<string> = new Set(['accept', 'content-type', 'user-agent', 'x-aliyun-ecs-metadata-token-ttl-seconds']);

function headerSecrets(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([name]) => !PLAIN_HEADERS.has(name.toLowerCase()))
    .map(([, value]) => value);
}

/**
 * One HTTP request within `timeoutMs` (connect, answer and body together), never
 * following redirects, the body capped at 1 MiB. Network failures and timeouts become
 * retryable {@link CredentialsProviderError}s (`NetworkError`, `Timeout`); other fetch
 * failures (`RequestFailed`) and oversized bodies (`ResponseTooLarge`) are not retryable.
 * Any HTTP status is returned, for the caller to judge. A caller's abort rejects with the
 * signal's reason. Errors never carry the foreign error itself, only a sanitized stand-in.
 *
 * @internal
 * @example
 * ```ts
 * const answer = await httpRequest({
 *   url: 'http://127.0.0.1:8080/creds', method: 'GET', headers: {}, timeoutMs: 1000,
 *   provider: 'credentials-uri', describe: 'GET http://127.0.0.1:8080/creds',
 * });
 * answer.status; // 200
 * ```
 */
export async function httpRequest(request: HttpRequest): Promise<HttpAnswer> {
  const answer = await httpCall({
    url: request.url,
    method: request.method,
    headers: request.headers,
    timeoutMs: request.timeoutMs,
    signal: request.signal,
    fetch: request.fetch,
    provider: request.provider,
    describe: request.describe,
    secrets: [...(request.secrets ?? []), ...headerSecrets(request.headers)],
    clock: request.clock,
  });
  return {
    status: answer.status,
    text: answer.text,
    serverDate: parseHttpDate(answer.headers.get('date')),
    ageSeconds: parseAge(answer.headers.get('age')),
    localNow: answer.localNow,
  };
}

/** Longest excerpt of a credentials answer in a message. */
const EXCERPT_CHARS = 120;
/** A credentials answer may carry secrets nobody told us: long key-like runs are masked too. */
const ANSWER_EXCERPT = { max: EXCERPT_CHARS, unknownSecrets: true } as const;

/**
 * How {@link parseCredentialsBody} reads a body.
 *
 * @internal
 * @example
 * ```ts
 * const how: CredentialsBodyOptions = { provider: 'credentials-uri', describe: 'http://127.0.0.1:8080/creds', requireCode: false, source: 'credentials-uri', localNow: Date.now() };
 * ```
 */
export type CredentialsBodyOptions = {
  provider: string;
  /** The endpoint, for messages (no secret). */
  describe: string;
  /** True: `Code` must be present and `"Success"`. False: when present it must be `"Success"`. */
  requireCode: boolean;
  /** `source` of the credentials. */
  source: string;
  /** The local wall clock when the answer arrived (ms), for clock-skew correction. */
  localNow: number;
  /** Told when a lifetime is cut to 12 h. */
  logger?: Logger | undefined;
};

/**
 * Reads `{Code?, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` from a 200
 * answer. Expiration is parsed leniently (ISO 8601 with or without fraction or offset) and
 * moved onto the local clock when the server's `Date` disagrees with ours. Errors name
 * the missing or bad fields, never their values.
 *
 * @internal
 * @example
 * ```ts
 * const { credentials, statedExpiration } = parseCredentialsBody(
 *   { status: 200, serverDate: undefined, text: '{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T00:00:00Z"}' },
 *   { provider: 'credentials-uri', describe: 'http://127.0.0.1:8080/creds', requireCode: false, source: 'credentials-uri', localNow: Date.now() },
 * );
 * credentials.accessKeyId; // 'STS.a'
 * statedExpiration;        // 1893456000000 (as the server wrote it, before skew correction)
 * ```
 */
export function parseCredentialsBody(
  answer: HttpAnswer,
  how: CredentialsBodyOptions,
): { credentials: Credentials; statedExpiration: number } {
  const fail = (message: string, code = 'InvalidResponse'): never => {
    throw new CredentialsProviderError(`${how.provider}: ${how.describe} ${message}`, { provider: how.provider, code });
  };
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    fail(`answered HTTP ${answer.status} with a body that is not JSON: "${excerpt(answer.text, ANSWER_EXCERPT)}"`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail(`answered HTTP ${answer.status} with JSON that is not an object`);
  }
  const r = body as Record<string, unknown>;
  if (r.Code !== undefined || how.requireCode) {
    if (r.Code !== 'Success') {
      const code = typeof r.Code === 'string' ? JSON.stringify(excerpt(r.Code, { max: 64, unknownSecrets: true })) : r.Code === undefined ? 'no Code' : 'a Code that is not a string';
      const message = typeof r.Message === 'string' && r.Message !== '' ? ` (Message: "${excerpt(r.Message, ANSWER_EXCERPT)}")` : '';
      fail(`answered ${code} instead of Code "Success"${message}`, 'UnsuccessfulResponse');
    }
  }
  const checked = checkCredentialsRecord(r, { keys: PASCAL_CASE_KEYS, requireToken: true, requireExpiration: true, parseTime: parseStsTime });
  if (checked.problems !== undefined) {
    if (checked.problems[0]!.problem === 'not-a-date') {
      fail(`answered an Expiration that is not an ISO 8601 date-time: ${JSON.stringify(excerpt(r.Expiration as string, { max: 40, unknownSecrets: true }))}`);
    }
    fail(`answered without ${checked.problems.map((p) => p.key).join(', ')} (each must be a non-empty string)`);
  }
  const fields = checked.value!;
  const stated = fields.expiresAt!;
  // Skew-corrected (Date + Age), and never longer than any Alibaba Cloud temporary credential.
  const local = boundedLocalExpiration({
    expiration: stated,
    serverDate: answer.serverDate,
    ageSeconds: answer.ageSeconds,
    localNow: how.localNow,
    maxLifetimeMs: MAX_TEMPORARY_LIFETIME_MS,
  });
  if (local.clamped) {
    logSafely(
      how.logger,
      'warn',
      `alicred: ${how.provider}: ${how.describe} gives the credentials a lifetime of ${formatLifetime(local.lifetimeMs)}, ` +
        `more than the ${formatLifetime(MAX_TEMPORARY_LIFETIME_MS)} any Alibaba Cloud temporary credential has; using ${formatLifetime(MAX_TEMPORARY_LIFETIME_MS)}`,
    );
  }
  const { expiresAt } = local;
  const credentials = createCredentials({
    accessKeyId: fields.accessKeyId.trim(),
    accessKeySecret: fields.accessKeySecret,
    securityToken: fields.securityToken,
    expiration: new Date(expiresAt),
    source: how.source,
  });
  return { credentials, statedExpiration: stated };
}

/**
 * Keeps the local expiration of one credential stable across fetches: a source that hands
 * out the same credential again (ECS metadata before its rotation point) must yield the
 * same `expiration`, or the refresh engine would not recognise it as "not rotated" when
 * clock-skew correction moves it by a few milliseconds.
 *
 * @internal
 * @example
 * ```ts
 * const stable = stableExpiration();
 * const a = stable(creds, statedMs); // later calls with the same key and stated time return a's expiration
 * ```
 */
export function stableExpiration(): (credentials: Credentials, statedExpiration: number) => Credentials {
  let last: { accessKeyId: string; stated: number; credentials: Credentials } | undefined;
  return (credentials, stated) => {
    if (last && last.accessKeyId === credentials.accessKeyId && last.stated === stated) {
      const expiration = last.credentials.expiration;
      if (expiration && credentials.expiration && expiration.getTime() !== credentials.expiration.getTime()) {
        return createCredentials({
          accessKeyId: credentials.accessKeyId,
          accessKeySecret: credentials.accessKeySecret,
          securityToken: credentials.securityToken,
          expiration,
          source: credentials.source,
        });
      }
      return credentials;
    }
    last = { accessKeyId: credentials.accessKeyId, stated, credentials };
    return credentials;
  };
}

// ---------------------------------------------------------------------------
// fromCredentialsUri
// ---------------------------------------------------------------------------

/**
 * Options of {@link fromCredentialsUri}. Every field is optional.
 *
 * @example
 * ```ts
 * import { fromCredentialsUri, type FromCredentialsUriOptions } from 'alicred';
 * const options: FromCredentialsUriOptions = {
 *   uri: 'http://127.0.0.1:8080/credentials',
 *   headers: { Authorization: 'Bearer local-vending-token' },
 *   timeoutMs: 5000,
 * };
 * const provider = fromCredentialsUri(options);
 * ```
 */
export type FromCredentialsUriOptions = {
  /**
   * The endpoint: `https://…`, or `http://` to a loopback host only (localhost,
   * 127.0.0.0/8, [::1]). Default: env `ALIBABA_CLOUD_CREDENTIALS_URI`, read at each refresh.
   */
  uri?: string;
  /** Extra request headers (e.g. `Authorization`). Values must not contain CR, LF or NUL. */
  headers?: Record<string, string>;
  /** Time limit of one request (connect, answer and body), in ms. Default 10000. */
  timeoutMs?: number;
  /** The fetch to use. Default: the global `fetch`, looked up at each call. */
  fetch?: typeof fetch;
  /** Where `ALIBABA_CLOUD_CREDENTIALS_URI` is read. Default `process.env` where it exists. */
  env?: EnvLike;
  /** Options of the refresh engine (windows, retries, logger, clock...). */
  refresh?: RefreshOptions;
};

/** Shows a URL in messages: scheme, host and path; never user info, query or fragment. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

/**
 * Checks a credentials URI against the transport rule: https, or http to a loopback host.
 * `field` names the option or env variable in the ConfigError. The value itself appears in
 * messages only without its query (which may carry a token).
 *
 * @example
 * ```ts
 * import { validateCredentialsUri } from 'alicred';
 * validateCredentialsUri('http://127.0.0.1:8080/creds', 'uri').href; // 'http://127.0.0.1:8080/creds'
 * validateCredentialsUri('http://10.0.0.5/creds', 'uri');             // throws ConfigError (field 'uri')
 * ```
 */
export function validateCredentialsUri(raw: string, field: string): URL {
  const rule = 'it must be an https:// URL, or http:// to a loopback host (localhost, 127.0.0.0/8, [::1])';
  const error = (what: string): ConfigError =>
    new ConfigError(`fromCredentialsUri: ${field} ${what}; ${rule}`, { provider: PROVIDER, field, code: 'InvalidUri' });
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw error('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw error(`has the scheme ${url.protocol.slice(0, -1)}`);
  }
  if (url.hostname === '') throw error('has no host');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw error(`(${describeUrl(url)}) uses plain http to a host that is not loopback: the answer carries secrets`);
  }
  if (url.username !== '' || url.password !== '') {
    throw error('contains user info (user:password@); pass credentials in options.headers instead');
  }
  url.hash = '';
  return url;
}

function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (typeof headers !== 'object' || headers === null) {
    throw new ConfigError('fromCredentialsUri: headers must be an object of header names to string values', {
      provider: PROVIDER,
      field: 'headers',
    });
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME_RE.test(name)) {
      throw new ConfigError(`fromCredentialsUri: headers has an invalid header name ${JSON.stringify(name.slice(0, 64))}`, {
        provider: PROVIDER,
        field: 'headers',
      });
    }
    // The value may be a secret (a bearer token): it never appears in the message.
    if (typeof value !== 'string') {
      throw new ConfigError(`fromCredentialsUri: the value of header ${name} must be a string`, { provider: PROVIDER, field: `headers.${name}` });
    }
    if (/[\r\n\0]/.test(value)) {
      throw new ConfigError(`fromCredentialsUri: the value of header ${name} contains CR, LF or NUL, which would split the request`, {
        provider: PROVIDER,
        field: `headers.${name}`,
      });
    }
    out[name] = value;
  }
  return out;
}

/**
 * Temporary credentials from an HTTP endpoint that answers `GET` with
 * `{"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}`
 * (the aliyun CLI's `CredentialsURI` mode; `Code` is optional, but must be `Success` when
 * present), kept fresh by the refresh engine.
 *
 * `uri` defaults to env `ALIBABA_CLOUD_CREDENTIALS_URI`; when neither is set the provider is
 * not configured (a chain tries the next one) and makes no request. The URI must be https,
 * or http to a loopback host; anything else (http to a LAN or link-local address, `file:`)
 * is a {@link ConfigError} naming `uri` or the env variable, before any request. An
 * explicit `uri` and `headers` are checked when the provider is created. Redirects are not
 * followed. Runs wherever `fetch` exists.
 *
 * @example
 * ```ts
 * import { fromCredentialsUri } from 'alicred';
 * const provider = fromCredentialsUri({
 *   uri: 'http://127.0.0.1:8080/credentials',             // or set ALIBABA_CLOUD_CREDENTIALS_URI
 *   headers: { Authorization: 'Bearer local-vending-token' },
 * });
 * const creds = await provider();   // one GET, then cached until shortly before Expiration
 * provider.close();
 * ```
 */
export function fromCredentialsUri(options: FromCredentialsUriOptions = {}): RefreshingProvider {
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, { fn: 'fromCredentialsUri', provider: PROVIDER, field: 'timeoutMs' });
  const headers = { Accept: 'application/json', ...checkHeaders(options.headers) };
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigError('fromCredentialsUri: fetch must be a function compatible with the global fetch', { provider: PROVIDER, field: 'fetch' });
  }
  let explicit: URL | undefined;
  if (options.uri !== undefined) {
    if (typeof options.uri !== 'string' || options.uri.trim() === '') {
      throw new ConfigError(`fromCredentialsUri: uri must be a non-empty URL (leave it undefined to use ${CREDENTIALS_URI_ENV})`, {
        provider: PROVIDER,
        field: 'uri',
      });
    }
    explicit = validateCredentialsUri(options.uri, 'uri');
  }
  const stable = stableExpiration();
  const wallNow = options.refresh?.clock ?? Date.now;

  function target(): URL {
    if (explicit) return explicit;
    const env = options.env ?? processEnv();
    const raw = env === undefined ? undefined : envString(env, CREDENTIALS_URI_ENV);
    if (raw === undefined) {
      throw new CredentialsProviderError(
        env === undefined
          ? `fromCredentialsUri: no uri given and this runtime has no process.env; pass { uri } or { env }`
          : `fromCredentialsUri: ${CREDENTIALS_URI_ENV} is not set`,
        { provider: PROVIDER, tryNext: true },
      );
    }
    return validateCredentialsUri(raw, CREDENTIALS_URI_ENV);
  }

  return refreshing(
    async ({ signal } = {}) => {
      const url = target();
      const describe = describeUrl(url);
      const answer = await httpRequest({
        url: url.href,
        method: 'GET',
        headers,
        timeoutMs,
        signal,
        fetch: options.fetch,
        provider: PROVIDER,
        describe: `GET ${describe}`,
        // A token in the query (`?token=…`) must not be printed from a foreign error.
        secrets: querySecrets(url),
        clock: wallNow,
      });
      if (answer.status !== 200) {
        if (answer.status === 0 || (answer.status >= 300 && answer.status < 400)) {
          throw new CredentialsProviderError(`${PROVIDER}: ${describe} answered with a redirect (HTTP ${answer.status || '3xx'}), which is not followed`, {
            provider: PROVIDER,
            code: 'Redirect',
          });
        }
        throw new CredentialsProviderError(`${PROVIDER}: ${describe} answered HTTP ${answer.status}: "${excerpt(answer.text, ANSWER_EXCERPT)}"`, {
          provider: PROVIDER,
          code: 'HttpError',
          retryable: isRetryableStatus(answer.status),
        });
      }
      const { credentials, statedExpiration } = parseCredentialsBody(answer, {
        provider: PROVIDER,
        describe,
        requireCode: false,
        source: PROVIDER,
        localNow: answer.localNow ?? wallNow(),
        logger: options.refresh?.logger,
      });
      return stable(credentials, statedExpiration);
    },
    { name: PROVIDER, ...options.refresh },
  );
}
