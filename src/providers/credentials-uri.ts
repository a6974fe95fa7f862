/**
 * Credentials from an HTTP endpoint (`ALIBABA_CLOUD_CREDENTIALS_URI`), plus the small HTTP
 * helpers shared with the ECS metadata provider: one request (through the shared helper in
 * internal/http.ts: time limit, body cap, sanitized errors), a secret-free excerpt of a
 * body, and parsing of the `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` JSON
 * both services answer with.
 *
 * Universal code: `fetch`, `AbortController`, `URL`. No Node built-ins, no `process`.
 */

import { ConfigError, CredentialsProviderError, NetworkOrCorsError } from '../errors.js';
import { envString, processEnv, type EnvLike } from '../internal/env.js';
import { defaultError, type HttpFailure } from '../internal/http.js';
import { bodyExcerpt as excerpt, querySecrets } from '../internal/redact.js';
import { checkTimeout } from '../internal/validate-options.js';
import { refreshing, type RefreshingProvider, type RefreshOptions } from '../refresh.js';
import { isLoopbackHost } from '../sts/endpoints.js';
import type { Logger } from '../types.js';
import { engineOptions } from './options.js';
import { ANSWER_EXCERPT, headerSecrets, httpRequest, isRetryableStatus, parseCredentialsBody, stableExpiration } from './credentials-answer.js';

/** The env variable with the credentials URI. */
export const CREDENTIALS_URI_ENV = 'ALIBABA_CLOUD_CREDENTIALS_URI';

/** How this provider's messages start. */
const LABEL = 'fromCredentialsUri';
const PROVIDER = 'credentials-uri';
const DEFAULT_TIMEOUT_MS = 10_000;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FETCH_CREDENTIALS: ReadonlySet<unknown> = new Set(['omit', 'same-origin', 'include']);

/** Request headers, or a function giving them at each fetch (e.g. the current session token). */
export type CredentialsUriHeaders = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

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
   * 127.0.0.0/8, [::1]). In a browser page (where `location` exists) it may be relative
   * (`'/vend'`), resolved against the page's address when the provider is created; the rule
   * applies to the resolved URL. Default: env `ALIBABA_CLOUD_CREDENTIALS_URI`, read at each
   * refresh.
   */
  uri?: string;
  /**
   * Extra request headers (e.g. `Authorization`), or a function returning them, called before
   * every fetch (a session token that changes). Values must not contain CR, LF or NUL.
   */
  headers?: CredentialsUriHeaders;
  /**
   * fetch's `credentials` mode, for browsers: `'include'` sends the page's cookies to a
   * cross-origin endpoint (which must then answer `Access-Control-Allow-Credentials: true`),
   * `'same-origin'` (the browser default) only to its own origin, `'omit'` never. Default: not set.
   */
  fetchCredentials?: 'omit' | 'same-origin' | 'include';
  /** Time limit of one request (connect, answer and body), in ms. Default 10000. */
  timeoutMs?: number;
  /** The fetch to use. Default: the global `fetch`, looked up at each call. */
  fetch?: typeof fetch;
  /** Where `ALIBABA_CLOUD_CREDENTIALS_URI` is read. Default `process.env` where it exists. */
  env?: EnvLike;
  /** Options of the refresh engine (windows, retries, clock...). */
  refresh?: RefreshOptions;
  /** Receives warnings (a clamped lifetime, failed background refreshes); never secrets. */
  logger?: Logger;
};

/** Shows a URL in messages: scheme, host and path; never user info, query or fragment. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

/**
 * The address of the browser page (or web worker) this runs in: `globalThis.location.href`,
 * parsed; undefined elsewhere (Node, Workers).
 */
function pageLocation(): URL | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  if (typeof href !== 'string') return undefined;
  try {
    return new URL(href);
  } catch {
    return undefined;
  }
}

/**
 * Checks a credentials URI against the transport rule: https, or http to a loopback host.
 * `field` names the option or env variable in the ConfigError. The value itself appears in
 * messages only without its query (which may carry a token). A relative URI is resolved
 * against `page` (default: the browser page's address); without a page it is refused.
 */
export function validateCredentialsUri(raw: string, field: string, page: URL | undefined = pageLocation()): URL {
  const rule = 'it must be an https:// URL, or http:// to a loopback host (localhost, 127.0.0.0/8, [::1])';
  const error = (what: string): ConfigError =>
    new ConfigError(`fromCredentialsUri: ${field} ${what}; ${rule}`, { provider: PROVIDER, field, code: 'InvalidUri' });
  let url: URL;
  let relative = false;
  try {
    url = new URL(raw.trim());
  } catch {
    if (page === undefined) throw error('is not an absolute URL');
    try {
      url = new URL(raw.trim(), page.href);
      relative = true;
    } catch {
      throw error('is not a URL');
    }
  }
  const shown = relative ? `${describeUrl(url)}, resolved against this page` : describeUrl(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw error(`${relative ? `(${shown}) ` : ''}has the scheme ${url.protocol.slice(0, -1)}`);
  }
  if (url.hostname === '') throw error('has no host');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    const insecurePage =
      page !== undefined && page.protocol === 'http:' && !isLoopbackHost(page.hostname)
        ? `; the page itself is on plain http (${page.host}): use https`
        : '';
    throw error(`(${shown}) uses plain http to a host that is not loopback: the answer carries secrets${insecurePage}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw error('contains user info (user:password@); pass credentials in options.headers instead');
  }
  url.hash = '';
  return url;
}

function checkHeaders(headers: Record<string, string> | undefined, what = 'headers must be'): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (typeof headers !== 'object' || headers === null) {
    throw new ConfigError(`fromCredentialsUri: ${what} an object of header names to string values`, {
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
 * The error of a failed fetch: in a browser page, a cross-origin network failure is a
 * {@link NetworkOrCorsError} (the browser reports a CORS refusal with the same bare TypeError
 * as a dropped connection, so say both, with the fix); anything else as `httpCall` makes it.
 */
function fetchError(failure: HttpFailure, url: URL, headers: Record<string, string>, include: boolean): Error {
  const page = pageLocation();
  const pageOrigin = page?.origin ?? 'unknown';
  if (failure.kind !== 'network' || pageOrigin === url.origin || (page ?? (globalThis as { document?: unknown }).document) === undefined) {
    return defaultError(PROVIDER)(failure);
  }
  const sent = Object.keys(headers).filter((name) => name !== 'Accept');
  return new NetworkOrCorsError(
    `${LABEL}: GET ${describeUrl(url)} failed (${failure.reason}) from a page of ${pageOrigin}: blocked by CORS, or the network. ` +
      `${url.origin} must allow it (Access-Control-Allow-Origin: ${pageOrigin}${sent.length > 0 ? `, Access-Control-Allow-Headers: ${sent.join(', ')}` : ''}` +
      `${include ? ', Access-Control-Allow-Credentials: true' : ''}), or serve the page from ${url.origin}`,
    { provider: PROVIDER, pageOrigin, endpointOrigin: url.origin, cause: failure.cause },
  );
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
 * In a browser page: `uri` may be relative (`'/vend'`, resolved against the page's
 * address), `headers` may be a function called before each fetch (the user's current
 * session token), `fetchCredentials` says whether cookies go along. A cross-origin request
 * that fails (CORS refused it, or the network failed: the browser does not say which) is a
 * {@link NetworkOrCorsError} naming both origins and the fix, not retried within one refresh.
 * `createVendingHandler` is the server side of this pattern.
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
 *
 * @example
 * ```ts
 * import { fromCredentialsUri } from 'alicred';
 * // In a browser page: the vending endpoint of the page's own site, with the user's session.
 * const provider = fromCredentialsUri({
 *   uri: '/vend',
 *   headers: async () => ({ Authorization: `Bearer ${sessionStorage.getItem('session') ?? ''}` }),
 *   fetchCredentials: 'same-origin',
 * });
 * const creds = await provider(); // hand them to ali-oss, the IoT SDK... (alicred/oss: toOssOptions)
 * ```
 */
export function fromCredentialsUri(options: FromCredentialsUriOptions = {}): RefreshingProvider {
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, { fn: 'fromCredentialsUri', provider: PROVIDER, field: 'timeoutMs' });
  const headerSource = options.headers;
  const fixedHeaders = typeof headerSource === 'function' ? undefined : { Accept: 'application/json', ...checkHeaders(headerSource) };
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigError('fromCredentialsUri: fetch must be a function compatible with the global fetch', { provider: PROVIDER, field: 'fetch' });
  }
  const fetchCredentials = options.fetchCredentials;
  if (fetchCredentials !== undefined && !FETCH_CREDENTIALS.has(fetchCredentials)) {
    throw new ConfigError(`fromCredentialsUri: fetchCredentials must be omit, same-origin or include`, { provider: PROVIDER, field: 'fetchCredentials' });
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
  const wallNow = options.refresh?.clock ?? (() => Date.now());

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

  /** The headers of one fetch: the fixed ones, or what the function gives now (checked). */
  async function requestHeaders(): Promise<Record<string, string>> {
    if (fixedHeaders !== undefined) return fixedHeaders;
    const given = await (headerSource as () => Record<string, string> | Promise<Record<string, string>>)();
    return { Accept: 'application/json', ...checkHeaders(given, 'headers() must return') };
  }

  return refreshing(
    async ({ signal } = {}) => {
      const url = target();
      const describe = describeUrl(url);
      const headers = await requestHeaders();
      // What this request carries that a server might echo: query values and header values.
      const secrets = [...querySecrets(url), ...headerSecrets(headers)];
      const answer = await httpRequest({
        url: url.href,
        method: 'GET',
        headers,
        timeoutMs,
        signal,
        fetch: options.fetch,
        credentials: fetchCredentials,
        provider: PROVIDER,
        label: LABEL,
        describe: `GET ${describe}`,
        // A token in the query (`?token=…`) must not be printed from a foreign error (header values are added).
        secrets: querySecrets(url),
        clock: wallNow,
        toError: (failure) => fetchError(failure, url, headers, fetchCredentials === 'include'),
      });
      if (answer.status !== 200) {
        if (answer.status === 0 || (answer.status >= 300 && answer.status < 400)) {
          throw new CredentialsProviderError(`${LABEL}: ${describe} answered with a redirect (HTTP ${answer.status || '3xx'}), which is not followed`, {
            provider: PROVIDER,
            code: 'Redirect',
          });
        }
        throw new CredentialsProviderError(`${LABEL}: ${describe} answered HTTP ${answer.status}: "${excerpt(answer.text, { ...ANSWER_EXCERPT, secrets })}"`, {
          provider: PROVIDER,
          code: 'HttpError',
          retryable: isRetryableStatus(answer.status),
        });
      }
      const { credentials, statedExpiration } = parseCredentialsBody(answer, {
        provider: PROVIDER,
        label: LABEL,
        describe,
        requireCode: false,
        source: PROVIDER,
        localNow: answer.localNow ?? wallNow(),
        logger: options.logger ?? options.refresh?.logger,
        secrets,
      });
      return stable(credentials, statedExpiration);
    },
    engineOptions(options, { name: PROVIDER }),
  );
}
