/**
 * Alibaba Cloud OpenAPI request signing, as used for STS:
 *
 * - V1 RPC signature (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`;
 *   Alibaba's docs call it "signature method V2"), still used by the official
 *   credentials SDKs for AssumeRole.
 * - V3 signature (`ACS3-HMAC-SHA256`, `Authorization` header), the default of
 *   the current `@alicloud/openapi-core` based SDKs.
 *
 * Universal code: only WebCrypto (`globalThis.crypto.subtle`), `TextEncoder`,
 * `btoa` and `encodeURIComponent` are used, so it runs unchanged in Node.js
 * >= 20, browsers, Deno, Bun and edge runtimes. No Node built-ins, no `Buffer`.
 *
 * Both algorithms are byte-for-byte compatible with the official
 * `@alicloud/openapi-util` / `@alicloud/openapi-core` implementations (see
 * `test/sts-sign.test.ts` for the published vectors and a differential test).
 */

import { ConfigError } from '../errors.js';
import { hmac, sha256, toBase64, toHex } from './encoding.js';

/** HTTP methods that STS (an RPC-style API) accepts. */
export type RpcMethod = 'GET' | 'POST';

/** Name of the V3 signature algorithm, as it appears in the string to sign and the `Authorization` header. */
export const ACS3_HMAC_SHA256 = 'ACS3-HMAC-SHA256';

/** `x-acs-content-sha256` of an empty body (hex SHA-256 of zero bytes). */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// ---------------------------------------------------------------------------
// Percent-encoding
// ---------------------------------------------------------------------------

/**
 * Alibaba Cloud's RFC 3986 percent-encoding, used for every signed key and value.
 *
 * The string is encoded as UTF-8; only `A-Z a-z 0-9 - _ . ~` stay literal, every
 * other byte becomes `%XX` with upper-case hex. So a space is `%20` (never `+`),
 * `*` is `%2A`, `/` is `%2F` and `~` stays `~`. This is exactly
 * `encodeURIComponent` plus escaping of `! ' ( ) *`, as the official SDKs do.
 *
 * Throws a {@link ConfigError} (which never quotes the value) for strings that
 * are not well-formed UTF-16 (lone surrogates), since they have no UTF-8 encoding.
 */
export function percentEncode(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // Never quote the value: it may be a SecurityToken or a policy. Parameters are checked
    // (with their field named) before signing; this is the second line of defence.
    throw new ConfigError('alicred: a request parameter is not well-formed UTF-16 (it has a lone surrogate) and cannot be signed', {
      provider: 'sts',
      code: 'InvalidParameter',
    });
  }
  return encoded.replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Keys whose value is a string, in the order the official SDKs sort them (JS default sort on the raw key). */
function sortedKeys(record: Record<string, string | null | undefined>): string[] {
  return Object.keys(record)
    .filter((key) => record[key] !== undefined && record[key] !== null)
    .sort();
}

/** `pct(k)=pct(v)` pairs sorted by raw key and joined with `&`. Shared by V1 and V3. */
function canonicalQuery(params: Record<string, string | null | undefined>): string {
  return sortedKeys(params)
    .map((key) => `${percentEncode(key)}=${percentEncode(params[key] as string)}`)
    .join('&');
}

// ---------------------------------------------------------------------------
// V1 RPC (HMAC-SHA1)
// ---------------------------------------------------------------------------

/**
 * Canonicalized query string of the V1 RPC signature: parameters sorted by name,
 * each key and value percent-encoded, joined as `k1=v1&k2=v2`.
 *
 * Parameters whose value is `undefined` or `null` are skipped. Keys are sorted
 * before encoding with JavaScript's default (UTF-16 code unit) order, like the
 * official SDKs; for the ASCII-alphanumeric parameter names of STS this is the
 * same as byte order of the encoded names.
 */
export function rpcCanonicalizedQuery(params: Record<string, string>): string {
  return canonicalQuery(params);
}

/**
 * V1 RPC string to sign: `METHOD&%2F&pct(canonicalizedQuery)`.
 *
 * Note the canonicalized query is percent-encoded a second time, so `%3A`
 * becomes `%253A`. `params` must hold every signed parameter (common
 * parameters, query and form-body parameters) except `Signature`.
 */
export function rpcStringToSign(method: RpcMethod, params: Record<string, string>): string {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/**
 * Computes the V1 RPC `Signature` value: base64 of HMAC-SHA1 over
 * {@link rpcStringToSign}, keyed with `accessKeySecret + '&'`.
 *
 * `params` are all signed parameters without `Signature` (see
 * {@link buildRpcV1Params}); for a POST with a form body they must include the
 * body parameters too. The result is the raw base64 value: percent-encode it
 * (`+`, `/`, `=`) when appending it to the query string.
 */
export async function signRpcV1(input: {
  method: RpcMethod;
  params: Record<string, string>;
  accessKeySecret: string;
}): Promise<string> {
  const stringToSign = rpcStringToSign(input.method, input.params);
  return toBase64(await hmac('SHA-1', `${input.accessKeySecret}&`, stringToSign));
}

/** Names {@link buildRpcV1Params} sets itself; operation parameters may not use them. */
const RPC_COMMON_PARAM_NAMES: ReadonlySet<string> = new Set([
  'Action',
  'Version',
  'Format',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'Timestamp',
  'SecurityToken',
  'Signature',
]);

/**
 * Builds the full set of signed V1 RPC parameters: the common parameters
 * (`Format`, `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`,
 * `SignatureNonce`, `Timestamp`, `Version`, `AccessKeyId`, `SecurityToken` when
 * a non-empty token is given, `Action`) plus the operation parameters, with
 * `undefined` values dropped. Pass the result to {@link signRpcV1}, then add
 * `Signature` to what you send.
 *
 * - `timestamp` must be UTC `yyyy-MM-ddTHH:mm:ssZ` without milliseconds, e.g.
 *   `new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')`.
 * - `nonce` must be unique per request.
 * - `format` defaults to `'JSON'` (the server default would be XML).
 *
 * Throws a `TypeError` if an operation parameter reuses a common parameter name.
 */
export function buildRpcV1Params(input: {
  action: string;
  version: string;
  accessKeyId: string;
  securityToken?: string;
  params: Record<string, string | undefined>;
  timestamp: string;
  nonce: string;
  format?: string;
}): Record<string, string> {
  const result: Record<string, string> = {
    Action: input.action,
    Version: input.version,
    Format: input.format ?? 'JSON',
    Timestamp: input.timestamp,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: input.nonce,
    AccessKeyId: input.accessKeyId,
  };
  if (input.securityToken !== undefined && input.securityToken !== '') {
    result.SecurityToken = input.securityToken;
  }
  for (const [key, value] of Object.entries(input.params)) {
    if (value === undefined || value === null) continue;
    if (RPC_COMMON_PARAM_NAMES.has(key)) {
      throw new TypeError(`alicred: operation parameter "${key}" collides with a common RPC parameter`);
    }
    result[key] = value;
  }
  return result;
}

// ---------------------------------------------------------------------------
// V3 (ACS3-HMAC-SHA256)
// ---------------------------------------------------------------------------

/**
 * Builds the caller-supplied common V3 headers (lower-case names): `host`,
 * `x-acs-action`, `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce` and,
 * when given, `content-type`. {@link signV3} adds `x-acs-content-sha256`, the
 * token headers and `Authorization`.
 *
 * `date` must be UTC `yyyy-MM-ddTHH:mm:ssZ` (within 15 minutes of server time);
 * `nonce` must be unique per request.
 */
export function buildV3Headers(input: {
  host: string;
  action: string;
  version: string;
  date: string;
  nonce: string;
  contentType?: string;
}): Record<string, string> {
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': input.date,
    'x-acs-signature-nonce': input.nonce,
  };
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  return headers;
}

/** Result of {@link signV3}. */
export interface V3SignResult {
  /**
   * Headers to send: the input headers, plus `x-acs-content-sha256`,
   * `x-acs-accesskey-id` and `x-acs-security-token` (only when a token was
   * given) and `Authorization`.
   */
  headers: Record<string, string>;
  /** Value of the `Authorization` header. */
  authorization: string;
  /** The canonical request that was hashed (for debugging and tests). */
  canonicalRequest: string;
  /** `ACS3-HMAC-SHA256\n<hex sha256(canonicalRequest)>`. */
  stringToSign: string;
}

function isSignedHeader(lowerName: string): boolean {
  return lowerName === 'host' || lowerName === 'content-type' || lowerName.startsWith('x-acs-');
}

/**
 * Signs a request with `ACS3-HMAC-SHA256` (Alibaba Cloud signature V3).
 *
 * - `pathname` is the already-encoded request path (`/` for RPC APIs such as
 *   STS); as in the official SDK, `+` becomes `%20`, `*` becomes `%2A` and
 *   `%7E` becomes `~` in the canonical URI.
 * - `query` is the unencoded query parameters. The canonical query sorts them by
 *   name and percent-encodes names and values ({@link percentEncode}); an empty
 *   value gives `k=`, `undefined`/`null` values are skipped. The wire encoding
 *   may differ (the server decodes first).
 * - `headers` must contain `host`, `x-acs-action`, `x-acs-version`, `x-acs-date`,
 *   `x-acs-signature-nonce` and, when there is a body, `content-type` (see
 *   {@link buildV3Headers}). Every header named `host`, `content-type` or
 *   `x-acs-*` (case-insensitive) is signed, including extra ones such as
 *   `x-acs-credentials-provider`; others (`user-agent`, `accept`) are not.
 *   Values are trimmed; repeated names (differing only in case) are sorted
 *   and joined with `,`.
 * - `body` is hashed exactly as sent (UTF-8 when a string) into
 *   `x-acs-content-sha256`.
 * - With a non-empty `securityToken`, `x-acs-accesskey-id` and
 *   `x-acs-security-token` are added and signed, as the official SDK does.
 *
 * Headers that this function sets replace input headers of the same name in
 * any case. The HTTP method is upper-cased.
 */
export async function signV3(input: {
  method: string;
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string | Uint8Array;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}): Promise<V3SignResult> {
  const token = input.securityToken !== undefined && input.securityToken !== '' ? input.securityToken : undefined;

  const managed = new Set(['authorization', 'x-acs-content-sha256']);
  if (token !== undefined) {
    managed.add('x-acs-accesskey-id');
    managed.add('x-acs-security-token');
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers)) {
    if (value === undefined || value === null) continue;
    if (managed.has(name.toLowerCase())) continue;
    headers[name] = value;
  }
  const payloadHash = toHex(await sha256(input.body));
  headers['x-acs-content-sha256'] = payloadHash;
  if (token !== undefined) {
    headers['x-acs-accesskey-id'] = input.accessKeyId;
    headers['x-acs-security-token'] = token;
  }

  // Canonical headers: lower-case names, trimmed values, repeated names merged.
  const grouped = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!isSignedHeader(lower)) continue;
    const values = grouped.get(lower);
    if (values) values.push(value.trim());
    else grouped.set(lower, [value.trim()]);
  }
  const signedNames = [...grouped.keys()].sort();
  const canonicalHeaders = signedNames.map((name) => `${name}:${grouped.get(name)!.sort().join(',')}\n`).join('');
  const signedHeaders = signedNames.join(';');

  const canonicalUri = input.pathname.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~');
  const method = input.method.toUpperCase();

  const canonicalRequest = [
    method,
    canonicalUri,
    canonicalQuery(input.query),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const stringToSign = `${ACS3_HMAC_SHA256}\n${toHex(await sha256(canonicalRequest))}`;
  const signature = toHex(await hmac('SHA-256', input.accessKeySecret, stringToSign));
  const authorization = `${ACS3_HMAC_SHA256} Credential=${input.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  headers['Authorization'] = authorization;

  return { headers, authorization, canonicalRequest, stringToSign };
}
