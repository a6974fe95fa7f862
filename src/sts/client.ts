/**
 * The STS client: AssumeRole, AssumeRoleWithOIDC and GetCallerIdentity over `fetch`.
 *
 * Universal code: global `fetch`, WebCrypto, `TextEncoder`, `AbortController`, `URL`. No
 * Node built-ins, no `Buffer`; `process.env` is read only as a default for `env`.
 *
 * What goes on the wire (per the STS API reference):
 *
 * - Signature V3 (default): `POST <endpoint>/?<operation parameters>`, empty body, headers
 *   `x-acs-action`, `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce`,
 *   `x-acs-content-sha256`, `Authorization` (plus `x-acs-accesskey-id` and
 *   `x-acs-security-token` for STS source credentials), exactly as
 *   `@alicloud/sts20150401` sends it.
 * - Signature V1: common parameters (`Action`, `Version`, `Format=JSON`, `Timestamp`,
 *   `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `AccessKeyId`,
 *   `SecurityToken` for STS source credentials, `Signature`) in the query, operation
 *   parameters in an `application/x-www-form-urlencoded` body, all signed — as
 *   `@alicloud/credentials` sends AssumeRole.
 * - AssumeRoleWithOIDC: anonymous. `Action`, `Format`, `Version`, `Timestamp` in the query,
 *   the OIDC token and the other parameters in a form body (never in the URL), no
 *   AccessKey and no signature — as `@alicloud/credentials` sends it.
 *
 * The client does not retry: failures carry `retryable`, and the refresh engine decides.
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError, StsError } from '../errors.js';
import { checkCredentialsRecord, PASCAL_CASE_KEYS } from '../internal/credentials-json.js';
import { processEnv } from '../internal/env.js';
import { httpCall } from '../internal/http.js';
import { recordStatedExpiration } from '../internal/issued-lifetime.js';
import { logSafely } from '../internal/log.js';
import { checkTimeout } from '../internal/validate-options.js';
import { resolveStsEndpoint, type ResolvedStsEndpoint } from './endpoints.js';
import { toStsError } from './errors.js';
import { buildRpcV1Params, buildV3Headers, percentEncode, rpcStringToSign, signRpcV1, signV3 } from './sign.js';
import { boundedLocalExpiration, formatLifetime, parseAge, parseHttpDate, parseStsTime, stsTimestamp } from './time.js';
import {
  validateAssumeRoleParams,
  validateAssumeRoleWithOidcParams,
  validateSourceCredentials,
  type AssumeRoleParams,
  type AssumeRoleWithOidcParams,
} from './validate.js';

export * from './api.js';
import {
  ASSUME_ROLE_SOURCE,
  ASSUME_ROLE_WITH_OIDC_SOURCE,
  assumeRoleWireParams,
  DEFAULT_STS_TIMEOUT_MS,
  DEFAULT_STS_USER_AGENT,
  STS_API_VERSION,
  type AssumeRoleResult,
  type AssumeRoleWithOidcResult,
  type CallerIdentity,
  type StsCallOptions,
  type StsClient,
  type StsClientOptions,
} from './api.js';

/** One prepared HTTP request. */
type PreparedRequest = {
  action: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Values to keep out of every message. */
  secrets: (string | undefined)[];
  /** What the client signed, to explain a SignatureDoesNotMatch. */
  stringToSign: string | undefined;
};

/** Lifetime assumed when no DurationSeconds is sent: the server's default. */
const DEFAULT_DURATION_SECONDS = 3600;

/** One HTTP answer, read in full (at most the body cap). */
type Answer = {
  status: number;
  text: string;
  headers: Headers;
  /** Local clock when the answer's headers arrived. */
  localNow: number;
};

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
function formEncode(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

function withQuery(endpointUrl: string, query: Record<string, string>): string {
  const qs = formEncode(query);
  return qs === '' ? `${endpointUrl}/` : `${endpointUrl}/?${qs}`;
}

/** Drops undefined values and stringifies numbers. */
function compact(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Creates an STS client. The endpoint is resolved (and checked) now; `fetch` and the
 * clock are used at each call. The client never retries: its {@link StsError}s say
 * whether a retry may help (`retryable`), and the refresh engine acts on it.
 *
 * Throws a {@link ConfigError} for an unusable endpoint, region, timeout or signature
 * version.
 *
 * @example
 * ```ts
 * import { createStsClient, fromStatic } from 'alicred';
 * import { startEmulator } from 'alicred/testing';
 *
 * // The local emulator plays STS; in production: createStsClient({ region: 'cn-hangzhou' }).
 * const alice = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...alice }], roles: [{ name: 'iot-operator', trustedUsers: ['alice'] }] });
 * const sts = createStsClient({ endpoint: emu.stsEndpoint });
 * const user = await fromStatic(alice)();                  // a RAM user's AccessKey
 * const creds = await sts.assumeRole(user, {
 *   roleArn: emu.roleArn('iot-operator'),
 *   roleSessionName: 'nightly-job',
 *   durationSeconds: 900,
 * });
 * creds.accessKeyId;   // 'STS.…'
 * creds.expiration;    // a Date on the local clock
 * console.log((await sts.getCallerIdentity(creds)).arn); // acs:ram::…:assumed-role/iot-operator/nightly-job
 * await emu.close();
 * ```
 */
export function createStsClient(options: StsClientOptions = {}): StsClient {
  const env = options.env ?? processEnv() ?? {};
  const endpoint: ResolvedStsEndpoint = resolveStsEndpoint(options, env);
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
  const clock = options.clock ?? (() => Date.now());
  const userAgent = options.userAgent ?? DEFAULT_STS_USER_AGENT;

  function fetchImpl(): typeof fetch {
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') {
      throw new ConfigError('this runtime has no global fetch: pass options.fetch', { field: 'fetch', provider: 'sts' });
    }
    return f;
  }

  function commonHeaders(): Record<string, string> {
    return { accept: 'application/json', 'user-agent': userAgent };
  }

  /** A request signed with `source`, operation parameters as given. */
  async function signedRequest(
    action: string,
    source: Credentials,
    operationParams: Record<string, string>,
  ): Promise<PreparedRequest> {
    validateSourceCredentials(source);
    const now = clock();
    const timestamp = stsTimestamp(now);
    const nonce = newNonce();
    const token = source.securityToken !== undefined && source.securityToken !== '' ? source.securityToken : undefined;
    const secrets = [source.accessKeySecret, token];

    if (signatureVersion === 'v3') {
      const signed = await signV3({
        method: 'POST',
        pathname: '/',
        query: operationParams,
        headers: buildV3Headers({ host: endpoint.host, action, version: STS_API_VERSION, date: timestamp, nonce }),
        body: '',
        accessKeyId: source.accessKeyId,
        accessKeySecret: source.accessKeySecret,
        securityToken: token,
      });
      // fetch sets Host itself, from the URL: the same value as endpoint.host, which was signed.
      const { host: _host, ...headers } = signed.headers;
      return {
        action,
        url: withQuery(endpoint.url, operationParams),
        headers: { ...commonHeaders(), ...headers },
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
      url: withQuery(endpoint.url, query),
      headers: hasBody
        ? { ...commonHeaders(), 'content-type': 'application/x-www-form-urlencoded' }
        : commonHeaders(),
      body: hasBody ? formEncode(operationParams) : undefined,
      secrets,
      stringToSign: rpcStringToSign('POST', all),
    };
  }

  /** Sends one request and reads the whole (capped) answer, within the time limit and the caller's signal. */
  async function exchange(request: PreparedRequest, signal: AbortSignal | undefined): Promise<Answer> {
    const where = `${endpoint.url}/`;
    const { action, secrets } = request;
    const answer = await httpCall({
      url: request.url,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      timeoutMs,
      signal,
      fetch: fetchImpl(),
      provider: 'sts',
      describe: `POST ${where}`,
      secrets,
      clock,
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
    return { status: answer.status, text: answer.text, headers: answer.headers, localNow: answer.localNow };
  }

  /** Sends, then parses a 2xx JSON object or throws the mapped error. */
  async function call(
    request: PreparedRequest,
    signal: AbortSignal | undefined,
  ): Promise<{ body: Record<string, unknown>; answer: Answer; requestId: string }> {
    const answer = await exchange(request, signal);
    const requestIdHeader = answer.headers.get('x-acs-request-id');
    const failure = () =>
      toStsError({
        kind: 'response',
        action: request.action,
        status: answer.status,
        body: answer.text,
        requestIdHeader,
        secrets: request.secrets,
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

  function invalid(action: string, answer: Answer, requestId: string, problem: string): StsError {
    return toStsError({
      kind: 'invalid-response',
      action,
      status: answer.status,
      problem,
      requestId: requestId === '' ? undefined : requestId,
    });
  }

  function credentialsResult(
    action: string,
    source: string,
    body: Record<string, unknown>,
    answer: Answer,
    requestId: string,
    durationSeconds: number,
  ): AssumeRoleResult {
    const c = body.Credentials;
    if (!isRecord(c)) throw invalid(action, answer, requestId, 'the answer has no Credentials object');
    const checked = checkCredentialsRecord(c, { keys: PASCAL_CASE_KEYS, requireToken: true, requireExpiration: true, parseTime: parseStsTime });
    if (checked.problems !== undefined) {
      const { key, problem } = checked.problems[0]!;
      throw invalid(
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
        options.logger,
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

  async function assumeRoleDetailed(
    source: Credentials,
    params: AssumeRoleParams,
    callOptions: StsCallOptions = {},
  ): Promise<AssumeRoleResult> {
    validateAssumeRoleParams(params);
    const request = await signedRequest(
      'AssumeRole',
      source,
      compact(assumeRoleWireParams(params)),
    );
    const { body, answer, requestId } = await call(request, callOptions.signal);
    const duration = params.durationSeconds ?? DEFAULT_DURATION_SECONDS;
    return credentialsResult('AssumeRole', ASSUME_ROLE_SOURCE, body, answer, requestId, duration);
  }

  async function assumeRoleWithOidcDetailed(
    params: AssumeRoleWithOidcParams,
    callOptions: StsCallOptions = {},
  ): Promise<AssumeRoleWithOidcResult> {
    validateAssumeRoleWithOidcParams(params);
    const action = 'AssumeRoleWithOIDC';
    const query = {
      Action: action,
      Format: 'JSON',
      Version: STS_API_VERSION,
      Timestamp: stsTimestamp(clock()),
    };
    const form = compact({
      OIDCProviderArn: params.oidcProviderArn,
      OIDCToken: params.oidcToken,
      RoleArn: params.roleArn,
      RoleSessionName: params.roleSessionName,
      DurationSeconds: params.durationSeconds,
      Policy: params.policy,
    });
    const request: PreparedRequest = {
      action,
      url: withQuery(endpoint.url, query),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': userAgent },
      body: formEncode(form),
      secrets: [params.oidcToken],
      stringToSign: undefined,
    };
    const { body, answer, requestId } = await call(request, callOptions.signal);
    const duration = params.durationSeconds ?? DEFAULT_DURATION_SECONDS;
    const result = credentialsResult(action, ASSUME_ROLE_WITH_OIDC_SOURCE, body, answer, requestId, duration);
    const info = body.OIDCTokenInfo;
    return {
      ...result,
      oidcTokenInfo: isRecord(info)
        ? {
            issuer: optionalString(info.Issuer),
            subject: optionalString(info.Subject),
            clientIds: optionalString(info.ClientIds),
            expirationTime: optionalString(info.ExpirationTime),
            issuanceTime: optionalString(info.IssuanceTime),
          }
        : undefined,
    };
  }

  async function getCallerIdentity(source: Credentials, callOptions: StsCallOptions = {}): Promise<CallerIdentity> {
    const action = 'GetCallerIdentity';
    const request = await signedRequest(action, source, {});
    const { body, answer, requestId } = await call(request, callOptions.signal);
    for (const field of ['AccountId', 'Arn'] as const) {
      if (optionalString(body[field]) === undefined) {
        throw invalid(action, answer, requestId, `${field} is missing or empty`);
      }
    }
    return {
      accountId: String(body.AccountId),
      userId: optionalString(body.UserId),
      arn: String(body.Arn),
      identityType: optionalString(body.IdentityType),
      principalId: optionalString(body.PrincipalId),
      roleId: optionalString(body.RoleId),
      requestId,
    };
  }

  return Object.freeze({
    endpoint: endpoint.url,
    assumeRoleDetailed,
    async assumeRole(source: Credentials, params: AssumeRoleParams, callOptions?: StsCallOptions) {
      return (await assumeRoleDetailed(source, params, callOptions)).credentials;
    },
    assumeRoleWithOidcDetailed,
    async assumeRoleWithOidc(params: AssumeRoleWithOidcParams, callOptions?: StsCallOptions) {
      return (await assumeRoleWithOidcDetailed(params, callOptions)).credentials;
    },
    getCallerIdentity,
  });
}
