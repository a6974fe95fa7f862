/**
 * What every STS operation shares: the checked client options (endpoint, time limit, clock,
 * signature version), signing a request, sending it, and reading credentials from an answer.
 * Each operation is its own file (assume-role.ts, assume-role-with-oidc.ts,
 * get-caller-identity.ts) over this one, so a bundle carries only the operations it calls:
 * `fromRamRole` no OIDC, `fromOidc` no signing.
 *
 * Universal code: global `fetch`, WebCrypto, `URL`. No Node built-ins.
 *
 * @internal
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError, type StsError } from '../errors.js';
import { checkCredentialsRecord, PASCAL_CASE_KEYS } from '../internal/credentials-json.js';
import { processEnv } from '../internal/env.js';
import { httpCall, type HttpResult } from '../internal/http.js';
import { recordStatedExpiration } from '../internal/issued-lifetime.js';
import { logSafely } from '../internal/log.js';
import { checkTimeout } from '../internal/validate-options.js';
import type { Logger } from '../types.js';
import { DEFAULT_STS_TIMEOUT_MS, DEFAULT_STS_USER_AGENT, STS_API_VERSION, type AssumeRoleResult, type StsClientOptions } from './api.js';
import { resolveStsEndpoint, type ResolvedStsEndpoint } from './endpoints.js';
import { toStsError } from './errors.js';
import { buildRpcV1Params, buildV3Headers, percentEncode, rpcStringToSign, signRpcV1, signV3 } from './sign.js';
import { boundedLocalExpiration, formatLifetime, parseAge, parseHttpDate, parseStsTime, stsTimestamp } from './time.js';
import { validateSourceCredentials } from './validate.js';

/** The checked options of one client, shared by its operations. */
export type StsTransport = {
  readonly endpoint: ResolvedStsEndpoint;
  readonly timeoutMs: number;
  readonly signatureVersion: 'v3' | 'v1';
  readonly clock: () => number;
  readonly userAgent: string;
  readonly fetch: typeof fetch | undefined;
  readonly logger: Logger | undefined;
};

/** One prepared HTTP request. */
export type PreparedRequest = {
  action: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Values to keep out of every message. */
  secrets: (string | undefined)[];
  /** What the client signed, to explain a SignatureDoesNotMatch. */
  stringToSign: string | undefined;
};

/** A 2xx answer whose body is a JSON object. */
export type StsAnswer = { body: Record<string, unknown>; answer: HttpResult; requestId: string };

/** Lifetime assumed when no DurationSeconds is sent: the server's default. */
export const DEFAULT_DURATION_SECONDS = 3600;

/**
 * Checks the options and resolves the endpoint, once per client. Throws a {@link ConfigError}
 * for an unusable endpoint, region, timeout, signature version or fetch.
 */
export function createStsTransport(options: StsClientOptions = {}): StsTransport {
  const env = options.env ?? processEnv() ?? {};
  const endpoint = resolveStsEndpoint(options, env);
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS, { provider: 'sts', field: 'timeoutMs' });
  const signatureVersion = options.signatureVersion ?? 'v3';
  if (signatureVersion !== 'v3' && signatureVersion !== 'v1') {
    throw new ConfigError(`signatureVersion must be 'v3' or 'v1' (got ${JSON.stringify(signatureVersion)})`, {
      field: 'signatureVersion',
      provider: 'sts',
    });
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new ConfigError('fetch must be a function compatible with the global fetch', { field: 'fetch', provider: 'sts' });
  }
  return {
    endpoint,
    timeoutMs,
    signatureVersion,
    clock: options.clock ?? (() => Date.now()),
    userAgent: options.userAgent ?? DEFAULT_STS_USER_AGENT,
    fetch: options.fetch,
    logger: options.logger,
  };
}

function newNonce(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  if (typeof c?.getRandomValues === 'function') {
    const bytes = c.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  throw new ConfigError('no secure random source (crypto.randomUUID / crypto.getRandomValues) in this runtime', {
    provider: 'sts',
    field: 'crypto',
  });
}

/** `k=v&…` with RFC 3986 encoding (a space is `%20`, `+` is `%2B`), in the given order. */
export function formEncode(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

export function withQuery(endpointUrl: string, query: Record<string, string>): string {
  const qs = formEncode(query);
  return qs === '' ? `${endpointUrl}/` : `${endpointUrl}/?${qs}`;
}

/** Drops undefined values and stringifies numbers. */
export function compact(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function commonHeaders(t: StsTransport): Record<string, string> {
  return { accept: 'application/json', 'user-agent': t.userAgent };
}

/** A request signed with `source` (V3 or V1, as the client was made), operation parameters as given. */
export async function signedRequest(
  t: StsTransport,
  action: string,
  source: Credentials,
  operationParams: Record<string, string>,
): Promise<PreparedRequest> {
  validateSourceCredentials(source);
  const timestamp = stsTimestamp(t.clock());
  const nonce = newNonce();
  const token = source.securityToken !== undefined && source.securityToken !== '' ? source.securityToken : undefined;
  const secrets = [source.accessKeySecret, token];

  if (t.signatureVersion === 'v3') {
    const signed = await signV3({
      method: 'POST',
      pathname: '/',
      query: operationParams,
      headers: buildV3Headers({ host: t.endpoint.host, action, version: STS_API_VERSION, date: timestamp, nonce }),
      body: '',
      accessKeyId: source.accessKeyId,
      accessKeySecret: source.accessKeySecret,
      securityToken: token,
    });
    // fetch sets Host itself, from the URL: the same value as endpoint.host, which was signed.
    const { host: _host, ...headers } = signed.headers;
    return {
      action,
      url: withQuery(t.endpoint.url, operationParams),
      headers: { ...commonHeaders(t), ...headers },
      body: undefined,
      secrets,
      stringToSign: signed.stringToSign,
    };
  }

  const all = buildRpcV1Params({
    action,
    version: STS_API_VERSION,
    accessKeyId: source.accessKeyId,
    securityToken: token,
    params: operationParams,
    timestamp,
    nonce,
    format: 'JSON',
  });
  const signature = await signRpcV1({ method: 'POST', params: all, accessKeySecret: source.accessKeySecret });
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!Object.hasOwn(operationParams, key)) query[key] = value;
  }
  query.Signature = signature;
  const hasBody = Object.keys(operationParams).length > 0;
  return {
    action,
    url: withQuery(t.endpoint.url, query),
    headers: hasBody ? { ...commonHeaders(t), 'content-type': 'application/x-www-form-urlencoded' } : commonHeaders(t),
    body: hasBody ? formEncode(operationParams) : undefined,
    secrets,
    stringToSign: rpcStringToSign('POST', all),
  };
}

/**
 * Sends one request within the time limit and the caller's signal, reads the whole (capped)
 * answer, and returns it if it is a 2xx JSON object; else throws the mapped {@link StsError}.
 */
export async function sendStsRequest(t: StsTransport, request: PreparedRequest, signal: AbortSignal | undefined): Promise<StsAnswer> {
  const { endpoint, timeoutMs } = t;
  const { action, secrets } = request;
  const f = t.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') {
    throw new ConfigError('this runtime has no global fetch: pass options.fetch', { field: 'fetch', provider: 'sts' });
  }
  const answer = await httpCall({
    url: request.url,
    method: 'POST',
    headers: request.headers,
    body: request.body,
    timeoutMs,
    signal,
    fetch: f,
    provider: 'sts',
    describe: `POST ${endpoint.url}/`,
    secrets,
    clock: t.clock,
    toError: (failure) => {
      switch (failure.kind) {
        case 'timeout':
          return toStsError({ kind: 'timeout', action, endpoint: endpoint.url, timeoutMs });
        case 'too-large':
          return toStsError({
            kind: 'too-large',
            action,
            endpoint: endpoint.url,
            status: failure.status ?? 0,
            maxBytes: failure.maxBytes,
            size: failure.size ?? `more than ${failure.maxBytes} bytes`,
          });
        default:
          // The cause is already a sanitized stand-in; toStsError keeps it that way.
          return toStsError({ kind: failure.kind, action, endpoint: endpoint.url, cause: failure.cause, secrets });
      }
    },
  });
  const requestIdHeader = answer.headers.get('x-acs-request-id');
  const failure = () =>
    toStsError({
      kind: 'response',
      action,
      status: answer.status,
      body: answer.text,
      requestIdHeader,
      secrets,
      stringToSign: request.stringToSign,
    });
  if (answer.status < 200 || answer.status > 299) throw failure();
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    throw failure();
  }
  if (!isRecord(body)) throw failure();
  // Some gateways answer 200 with an error body.
  if (body.Code !== undefined && body.Credentials === undefined && body.AccountId === undefined) throw failure();
  const requestId = optionalString(body.RequestId) ?? requestIdHeader ?? '';
  return { body, answer, requestId };
}

/** The error for a 2xx answer that lacks what the operation returns. */
export function invalidAnswer(action: string, answer: HttpResult, requestId: string, problem: string): StsError {
  return toStsError({
    kind: 'invalid-response',
    action,
    status: answer.status,
    problem,
    requestId: requestId === '' ? undefined : requestId,
  });
}

/**
 * The credentials of an AssumeRole-like answer, their expiration moved onto the local clock
 * (Date and Age headers) and cut to the DurationSeconds asked for.
 */
export function credentialsResult(
  t: StsTransport,
  action: string,
  source: string,
  { body, answer, requestId }: StsAnswer,
  durationSeconds: number,
): AssumeRoleResult {
  const c = body.Credentials;
  if (!isRecord(c)) throw invalidAnswer(action, answer, requestId, 'the answer has no Credentials object');
  const checked = checkCredentialsRecord(c, { keys: PASCAL_CASE_KEYS, requireToken: true, requireExpiration: true, parseTime: parseStsTime });
  if (checked.problems !== undefined) {
    const { key, problem } = checked.problems[0]!;
    throw invalidAnswer(
      action,
      answer,
      requestId,
      problem === 'not-a-date'
        ? `Credentials.Expiration ${JSON.stringify(String(c.Expiration).slice(0, 40))} is not an ISO 8601 date-time`
        : `Credentials.${key} is missing or empty`,
    );
  }
  const fields = checked.value;
  const stated = fields.expiresAt!;
  const serverDate = parseHttpDate(answer.headers.get('date'));
  const maxLifetimeMs = durationSeconds * 1000;
  const ageSeconds = parseAge(answer.headers.get('age'));
  const local = boundedLocalExpiration({
    expiration: stated,
    serverDate,
    ageSeconds,
    localNow: answer.localNow,
    maxLifetimeMs,
  });
  if (local.clamped) {
    logSafely(
      t.logger,
      'warn',
      `alicred: sts ${action}: the answer gives the credentials a lifetime of ${formatLifetime(local.lifetimeMs)}, ` +
        `more than the ${formatLifetime(maxLifetimeMs)} asked for (DurationSeconds); using ${formatLifetime(maxLifetimeMs)}`,
    );
  }
  const credentials = createCredentials({
    accessKeyId: fields.accessKeyId,
    accessKeySecret: fields.accessKeySecret,
    securityToken: fields.securityToken,
    expiration: new Date(local.expiresAt),
    source,
  });
  // The shared cache store keeps STS's own statement, not the expiry moved onto our clock.
  recordStatedExpiration(credentials, { expiration: stated, serverTime: serverDate === undefined ? undefined : serverDate + (ageSeconds ?? 0) * 1000 });
  const user = body.AssumedRoleUser;
  const assumedRoleUser =
    isRecord(user) && typeof user.Arn === 'string'
      ? { arn: user.Arn, assumedRoleId: typeof user.AssumedRoleId === 'string' ? user.AssumedRoleId : '' }
      : undefined;
  return {
    credentials,
    assumedRoleUser,
    sourceIdentity: optionalString(body.SourceIdentity),
    requestId,
    serverDate: serverDate === undefined ? undefined : new Date(serverDate),
    statedExpiration: new Date(stated),
    clockSkewMs: local.clockSkewMs,
  };
}
