/**
 * The server side of the browser pattern: a fetch-style handler that vends short-lived,
 * per-caller, policy-narrowed STS credentials in the credentials-URI answer shape, so a
 * browser page (or any client) holds only what one user may do, for minutes.
 *
 * Universal code: `Request`, `Response`, `Headers`, `URL`. No Node built-ins; the Node
 * adapter is `toNodeListener` in alicred/node.
 */
import { createStsCache, stsCacheKey, type StsCache } from './cache.js';
import type { Credentials } from './credentials.js';
import { ConfigError, isCredentialsError, messageOf } from './errors.js';
import { monotonicNow } from './internal/clock.js';
import { logSafely } from './internal/log.js';
import { sanitizeText } from './internal/redact.js';
import { positiveNumber } from './internal/validate-options.js';
import { stsClientFor } from './providers/options.js';
import { assumeRoleWireParams, type AssumeRoleParams, type StsClient, type StsClientOptions } from './sts/api.js';
import { createAssumeRoleClient } from './sts/assume-role.js';
import { isLoopbackHost } from './sts/endpoints.js';
import { validateAssumeRoleParams } from './sts/validate.js';
import type { CredentialProvider, Logger } from './types.js';

const FN = 'createVendingHandler';
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SESSION_NAME_RE = /^[\w.@-]{2,64}$/;

/**
 * Who asks, as `authorize` found out: `sessionName` becomes the STS `RoleSessionName` (2–64
 * characters of letters, digits and `. @ - _`), shown in ActionTrail as
 * `assumed-role/<role>/<sessionName>`. It identifies the caller: results are cached and
 * counted per session name, so give each user (or device) its own.
 *
 * @example
 * ```ts
 * import type { VendingCaller } from 'alicred';
 * const caller: VendingCaller = { sessionName: 'user-42' };
 * ```
 */
export type VendingCaller = { sessionName: string };

/**
 * A session policy for one caller: a policy document (object or JSON text), or `null` for
 * the role's full permissions, said explicitly.
 *
 * @example
 * ```ts
 * import type { VendingPolicy } from 'alicred';
 * const uploadsOnly: VendingPolicy = { Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:PutObject', Resource: 'acs:oss:*:*:uploads/*' }] };
 * ```
 */
export type VendingPolicy = string | object | null;

/**
 * A fetch-style request handler: Cloudflare Workers' `fetch`, Deno.serve, Bun.serve, Hono, or
 * Node's http through `toNodeListener` (alicred/node).
 *
 * @example
 * ```ts
 * import type { VendingHandler } from 'alicred';
 * const notFound: VendingHandler = async () => new Response(null, { status: 404 });
 * ```
 */
export type VendingHandler = (request: Request) => Promise<Response>;

/**
 * Options of {@link createVendingHandler}.
 *
 * @example
 * ```ts
 * import { fromStatic, type VendingHandlerOptions } from 'alicred';
 * const options: VendingHandlerOptions = {
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/browser-uploads',
 *   allowOrigins: ['https://app.example.com'],
 *   authorize: async (request) => (request.headers.get('authorization') === 'Bearer t0k' ? { sessionName: 'user-42' } : null),
 *   policyFor: () => null, // the role's full permissions
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * };
 * ```
 */
export type VendingHandlerOptions = {
  /** The identity that assumes the role (any provider: keys, ECS metadata, another role...). */
  source: CredentialProvider;
  /** `acs:ram::<account id>:role/<role name>`: the role every caller gets a session of. */
  roleArn: string;
  /**
   * Who the request is from (your session cookie, bearer token, mTLS...), or `null` to refuse
   * it: 401 when it carries no credentials (no `Authorization`, `Cookie` or `allowHeaders`
   * header), else 403. No STS call is made for a refused request. A throw is a 500.
   */
  authorize: (request: Request) => Promise<VendingCaller | null> | VendingCaller | null;
  /**
   * The session policy of this caller's credentials (see {@link VendingPolicy}); required, so
   * that the full role is a decision (`null`), never a default. A throw is a 500.
   */
  policyFor: (request: Request, caller: VendingCaller) => Promise<VendingPolicy> | VendingPolicy;
  /**
   * Page origins allowed to call cross-origin (CORS), exactly as browsers send them
   * (`https://app.example.com`, `http://localhost:5173`); `[]` for none. `'*'` is refused, as
   * are http origins other than loopback. A request whose `Origin` is not listed is a 403.
   */
  allowOrigins: readonly string[];
  /** Answer `Access-Control-Allow-Credentials: true` (the page sends cookies). Default false. */
  allowCredentials?: boolean;
  /** Request headers a page may send besides `Authorization` (e.g. `X-Session-Token`). */
  allowHeaders?: readonly string[];
  /** How long a browser may cache a preflight answer (`Access-Control-Max-Age`), in seconds. Default 600. */
  maxAgeSeconds?: number;
  /** Lifetime of vended credentials: 900 up to the role's maximum. Default 900. */
  durationSeconds?: number;
  /** An StsClient, or the options to create one (e.g. `{ endpoint: 'http://127.0.0.1:8080' }`). */
  sts?: StsClient | StsClientOptions;
  /**
   * Where results are kept, keyed by session name, policy, role and source identity.
   * Default: a cache of this handler's own (at most 1000 entries).
   */
  cache?: StsCache;
  /** Most AssumeRole calls per caller (session name) per `rateWindowSeconds`; beyond, 429. Default 60. */
  maxAssumeRolePerCaller?: number;
  /** The sliding window of `maxAssumeRolePerCaller`, in seconds. Default 3600. */
  rateWindowSeconds?: number;
  /** Callers whose counts are kept (least recently seen forgotten first). Default 10000. */
  maxTrackedCallers?: number;
  /** Receives why a request failed (STS errors, a bad session name...); never a secret. */
  logger?: Logger;
  /** Clock of the rate window, in ms. Default the monotonic `performance.now()`. */
  clock?: () => number;
};

/** Thrown inside a cache load when the caller is over its cap. */
class OverCap extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('over the per-caller cap');
  }
}

/**
 * A sliding-window count of AssumeRole calls per caller; at most `maxCallers` callers are
 * kept, least recently seen dropped first, so memory is bounded whoever calls.
 */
function callerLimiter(max: number, windowMs: number, maxCallers: number, now: () => number): (caller: string) => void {
  const calls = new Map<string, number[]>();
  return (caller) => {
    const t = now();
    const times = (calls.get(caller) ?? []).filter((at) => at > t - windowMs);
    calls.delete(caller);
    calls.set(caller, times);
    if (calls.size > maxCallers) calls.delete(calls.keys().next().value as string);
    if (times.length >= max) throw new OverCap(Math.max(1, Math.ceil((times[0]! + windowMs - t) / 1000)));
    times.push(t);
  };
}

/** Checks `allowOrigins`: exact `scheme://host[:port]` origins, https or loopback http. */
function checkOrigins(origins: unknown): Set<string> {
  const fail = (message: string): never => {
    throw new ConfigError(`${FN}: allowOrigins ${message}`, { provider: 'vending', field: 'allowOrigins' });
  };
  if (!Array.isArray(origins)) fail('must be an array of origins such as "https://app.example.com" ([] for none)');
  for (const origin of origins as unknown[]) {
    if (origin === '*') fail('must not contain "*": the answer carries credentials; list each page origin');
    if (typeof origin !== 'string') fail('must contain only strings');
    let url: URL | undefined;
    try {
      url = new URL(origin as string);
    } catch {
      // reported below
    }
    if (url === undefined || url.origin !== origin || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      fail(`has ${JSON.stringify(origin)}, which is not an origin as browsers send it (scheme://host[:port], lower case, no path or trailing slash)`);
    }
    if (url!.protocol === 'http:' && !isLoopbackHost(url!.hostname)) {
      fail(`has ${JSON.stringify(origin)}: a page served over plain http to a host that is not loopback could be made to leak the credentials; use https`);
    }
  }
  return new Set(origins as string[]);
}

function checkHeaderNames(names: unknown): string[] {
  if (names === undefined) return [];
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && HEADER_NAME_RE.test(n))) {
    throw new ConfigError(`${FN}: allowHeaders must be an array of header names`, { provider: 'vending', field: 'allowHeaders' });
  }
  return names as string[];
}

function checkFunction(value: unknown, field: string, what: string): void {
  if (typeof value !== 'function') {
    throw new ConfigError(`${FN}: ${field} is required: ${what}`, { provider: 'vending', field });
  }
}

/**
 * A fetch-style handler that vends temporary credentials of one role, per caller: it asks
 * `authorize` who the request is from, `policyFor` what that caller may do, and answers `GET`
 * with the JSON `fromCredentialsUri` (and the aliyun CLI, and `@alicloud/credentials`) read:
 * `{Code: 'Success', AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`, with
 * `Cache-Control: no-store`. Runs in Cloudflare Workers, Deno, Bun and any fetch-style
 * server; in Node, mount it with `toNodeListener` (alicred/node).
 *
 * - Each caller's credentials come from AssumeRole with `RoleSessionName` = its session name
 *   and its session policy, and are cached per (session name, policy, role, source
 *   identity): never handed to another caller. A caller past `maxAssumeRolePerCaller`
 *   AssumeRole calls in the window gets 429 with `Retry-After`.
 * - CORS only for `allowOrigins`: `Access-Control-Allow-Origin` echoes the listed origin
 *   (`Vary: Origin` on every answer), `OPTIONS` preflights are answered 204 (method GET,
 *   headers `Authorization` and `allowHeaders`, `Access-Control-Max-Age`), and a request
 *   whose `Origin` is not listed is 403 without CORS headers. Requests without `Origin`
 *   (servers, CLIs, same-origin GETs) are not subject to it.
 * - Only GET and OPTIONS (others 405). Refused: 401 without credentials, 403 with; neither
 *   calls STS. Failures answer a generic JSON `{Code, Message}` that never carries an STS
 *   message, account id, ARN or policy; the reason goes to `logger.warn`.
 *
 * Options are checked here: a missing `authorize` or `policyFor`, `'*'` among the origins, a
 * bad role ARN or duration is a {@link ConfigError}.
 *
 * @example
 * ```ts
 * import { createVendingHandler, fromStatic } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // The local emulator plays STS; in production drop `sts` and use your own role.
 * const server = { accessKeyId: 'LTAI5tVendor00000000001', accessKeySecret: 'vendor-secret' };
 * const emu = await startEmulator({ users: [{ name: 'vendor', ...server }], roles: [{ name: 'browser-uploads', trustedUsers: ['vendor'] }] });
 * const sessions = new Map([['Bearer t0k-42', 'user-42']]); // your own session store
 *
 * const vend = createVendingHandler({
 *   source: fromStatic(server),
 *   roleArn: emu.roleArn('browser-uploads'),
 *   allowOrigins: ['https://app.example.com'],
 *   authorize: async (request) => {
 *     const user = sessions.get(request.headers.get('authorization') ?? '');
 *     return user === undefined ? null : { sessionName: user };
 *   },
 *   // Each user writes only under its own prefix.
 *   policyFor: (_request, caller) => ({
 *     Version: '1',
 *     Statement: [{ Effect: 'Allow', Action: 'oss:PutObject', Resource: `acs:oss:*:*:uploads/${caller.sessionName}/*` }],
 *   }),
 *   sts: { endpoint: emu.stsEndpoint },
 * });
 * // Cloudflare Workers: `export default { fetch: vend }`; Node: http.createServer(toNodeListener(vend)).
 * const response = await vend(new Request('https://api.example.com/vend', {
 *   headers: { Authorization: 'Bearer t0k-42', Origin: 'https://app.example.com' },
 * }));
 * response.status;                                      // 200
 * response.headers.get('access-control-allow-origin'); // 'https://app.example.com'
 * await emu.close();
 * ```
 */
export function createVendingHandler(options: VendingHandlerOptions): VendingHandler {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`${FN}: options are required`, { provider: 'vending', field: 'options' });
  }
  checkFunction(options.source, 'source', 'the provider whose identity assumes the role');
  checkFunction(options.authorize, 'authorize', 'a function (request) => { sessionName } | null that says who the caller is');
  checkFunction(options.policyFor, 'policyFor', "a function (request, caller) => policy that gives the caller's session policy, or null for the role's full permissions");
  const allowed = checkOrigins(options.allowOrigins);
  const allowHeaders = ['Authorization', ...checkHeaderNames(options.allowHeaders)];
  const presented = ['authorization', 'cookie', ...allowHeaders.map((h) => h.toLowerCase())];
  const site = (field: string) => ({ fn: FN, provider: 'vending', field });
  const maxAge = Math.floor(positiveNumber(options.maxAgeSeconds, 600, site('maxAgeSeconds')));
  const durationSeconds = options.durationSeconds ?? 900;
  validateAssumeRoleParams({ roleArn: options.roleArn, roleSessionName: 'alicred', durationSeconds });
  const cap = Math.floor(positiveNumber(options.maxAssumeRolePerCaller, 60, site('maxAssumeRolePerCaller')));
  const windowMs = positiveNumber(options.rateWindowSeconds, 3600, site('rateWindowSeconds')) * 1000;
  const maxCallers = Math.floor(positiveNumber(options.maxTrackedCallers, 10_000, site('maxTrackedCallers')));
  const take = callerLimiter(cap, windowMs, maxCallers, options.clock ?? monotonicNow);
  const { source, roleArn, authorize, policyFor, logger } = options;
  const allowCredentials = options.allowCredentials === true;
  const client = stsClientFor(options.sts, { logger }, createAssumeRoleClient, 'assumeRole', FN);
  const cache = options.cache ?? createStsCache({ max: 1000 });

  const warn = (message: string) => logSafely(logger, 'warn', `alicred: ${FN}: ${message}`);
  const reasonOf = (error: unknown) => sanitizeText(messageOf(error), [], 500);

  function headers(origin: string | undefined, extra: Record<string, string> = {}): Headers {
    const h = new Headers({ 'Cache-Control': 'no-store', Vary: 'Origin', 'X-Content-Type-Options': 'nosniff', ...extra });
    if (origin !== undefined) {
      h.set('Access-Control-Allow-Origin', origin);
      if (allowCredentials) h.set('Access-Control-Allow-Credentials', 'true');
      // Date lets fromCredentialsUri correct clock skew; Retry-After says when to come back.
      h.set('Access-Control-Expose-Headers', 'Date, Retry-After');
    }
    return h;
  }

  function json(status: number, body: object, origin: string | undefined, extra: Record<string, string> = {}): Response {
    const h = headers(origin, { 'Content-Type': 'application/json', Date: new Date().toUTCString(), ...extra });
    return new Response(JSON.stringify(body), { status, headers: h });
  }

  const errorAnswer = (status: number, code: string, message: string, origin: string | undefined, extra?: Record<string, string>) =>
    json(status, { Code: code, Message: message }, origin, extra);
  const internal = (origin: string | undefined) => errorAnswer(500, 'InternalError', 'the credentials could not be issued', origin);

  /** The caller's credentials: from the cache, or one AssumeRole within the caller's cap. */
  async function credentialsFor(caller: string, policy: string | undefined, signal: AbortSignal | undefined): Promise<Credentials> {
    const identity = await source(signal === undefined ? {} : { signal });
    const params: AssumeRoleParams = { roleArn, roleSessionName: caller, durationSeconds, policy };
    const key = await stsCacheKey({ source: identity, action: 'AssumeRole', endpoint: client.endpoint, params: assumeRoleWireParams(params) });
    return cache.get(
      key,
      async () => {
        take(caller);
        return client.assumeRole(identity, params);
      },
      signal === undefined ? {} : { signal },
    );
  }

  /** Steps 2-4 of a GET: who, with which policy, then the credentials. */
  async function vend(request: Request, origin: string | undefined): Promise<Response> {
    let caller: unknown;
    try {
      caller = await authorize(request);
    } catch (error) {
      warn(`authorize threw: ${reasonOf(error)}`);
      return internal(origin);
    }
    if (caller === null || caller === undefined) {
      if (caller === undefined) warn('authorize returned undefined; treated as a refusal (return null to refuse)');
      const carries = presented.some((name) => request.headers.has(name));
      return carries
        ? errorAnswer(403, 'Forbidden', 'not allowed', origin)
        : errorAnswer(401, 'Unauthorized', 'authentication required', origin, { 'WWW-Authenticate': 'Bearer' });
    }
    const sessionName = (caller as { sessionName?: unknown }).sessionName;
    if (typeof sessionName !== 'string' || !SESSION_NAME_RE.test(sessionName)) {
      warn(
        typeof sessionName === 'string'
          ? `authorize returned the session name ${JSON.stringify(sanitizeText(sessionName, [], 80))}, which STS refuses: it must be 2-64 characters of letters, digits, ".", "@", "-", "_"`
          : 'authorize returned no sessionName string: it must return { sessionName } or null',
      );
      return internal(origin);
    }
    let policy: string | undefined;
    try {
      const given = await policyFor(request, { sessionName });
      if (given === undefined) throw new Error("it returned undefined: return a policy, or null for the role's full permissions");
      policy = given === null ? undefined : typeof given === 'string' ? given : JSON.stringify(given);
      validateAssumeRoleParams({ roleArn, roleSessionName: sessionName, policy });
    } catch (error) {
      warn(`policyFor for session ${sessionName}: ${reasonOf(error)}`);
      return internal(origin);
    }
    let credentials: Credentials;
    try {
      credentials = await credentialsFor(sessionName, policy, request.signal ?? undefined);
    } catch (error) {
      if (error instanceof OverCap) {
        warn(`session ${sessionName} is over its cap of ${cap} AssumeRole calls in ${windowMs / 1000} s; answered 429`);
        return errorAnswer(429, 'TooManyRequests', 'too many credential requests; try again later', origin, { 'Retry-After': String(error.retryAfterSeconds) });
      }
      if (request.signal?.aborted) return errorAnswer(503, 'ServiceUnavailable', 'the request was abandoned', origin);
      warn(`could not issue credentials for session ${sessionName}: ${reasonOf(error)}`);
      const retryable = isCredentialsError(error) && error.retryable;
      return retryable
        ? errorAnswer(503, 'ServiceUnavailable', 'the credentials could not be issued; try again later', origin, { 'Retry-After': '1' })
        : internal(origin);
    }
    return json(
      200,
      {
        Code: 'Success',
        AccessKeyId: credentials.accessKeyId,
        AccessKeySecret: credentials.accessKeySecret,
        SecurityToken: credentials.securityToken,
        // `2025-01-02T03:04:05Z`, as STS states it.
        Expiration: (credentials.expiration ?? new Date(Date.now() + durationSeconds * 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      origin,
    );
  }

  return async function vendingHandler(request: Request): Promise<Response> {
    const rawOrigin = request.headers.get('origin');
    if (rawOrigin !== null && !allowed.has(rawOrigin)) {
      // No CORS headers: the browser keeps the answer from the page.
      return errorAnswer(403, 'Forbidden', 'origin not allowed', undefined);
    }
    const origin = rawOrigin ?? undefined;
    const method = request.method.toUpperCase();
    if (method === 'OPTIONS') {
      const extra: Record<string, string> = { Allow: 'GET, OPTIONS' };
      if (origin !== undefined) {
        extra['Access-Control-Allow-Methods'] = 'GET';
        extra['Access-Control-Allow-Headers'] = allowHeaders.join(', ');
        extra['Access-Control-Max-Age'] = String(maxAge);
      }
      return new Response(null, { status: 204, headers: headers(origin, extra) });
    }
    if (method !== 'GET') return errorAnswer(405, 'MethodNotAllowed', 'only GET', origin, { Allow: 'GET, OPTIONS' });
    try {
      return await vend(request, origin);
    } catch (error) {
      warn(`unexpected failure: ${reasonOf(error)}`);
      return internal(origin);
    }
  };
}
