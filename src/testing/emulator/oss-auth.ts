/**
 * Authentication of OSS requests as OSS does it, with OSS's own error codes: the signature
 * fields, the request time (or a signed URL's expiry), the AccessKey and its security token
 * (through `resolveAccessKey`, shared with the POP APIs), then the signature, recomputed by
 * the emulator's own verifier (oss-sign.ts) and compared in constant time.
 *
 * Every refusal is thrown as an {@link ApiError} whose `extra` fields become elements of OSS's
 * XML `<Error>` (an `EC` field becomes `<EC>` and `<RecommendDoc>`). No message or field ever
 * holds an AccessKey secret, and a quoted string to sign has its security token masked.
 *
 * @internal
 */
import type { Account, Caller } from './account.js';
import { resolveAccessKey, type KeyProblem } from './auth.js';
import {
  OSS_V4_ALGORITHM,
  UNSIGNED_PAYLOAD,
  ossV1CanonicalResource,
  ossV1Signature,
  ossV1StringToSign,
  ossV4CanonicalRequest,
  ossV4Signature,
  ossV4StringToSign,
  parseGmtDate,
  parseIsoBasic,
  type OssAuth,
  type OssHeaders,
  type OssQuery,
} from './oss-sign.js';
import { fail } from './respond.js';
import { rfc3986, safeEqual } from './verify.js';

/** A request to the OSS endpoint, as the authentication reads it. */
export type OssSignedRequest = {
  readonly method: string;
  /** Lower-case names; repeated values joined with `,`. */
  readonly headers: OssHeaders;
  readonly query: OssQuery;
  readonly bucket: string | undefined;
  readonly key: string;
  readonly auth: OssAuth;
  /** A hint appended to `SignatureDoesNotMatch` (e.g. a bucket both in Host and in the path). */
  readonly hint?: string | undefined;
};

/** OSS's answers to each {@link KeyProblem}: status, code, message, EC. */
const OSS_KEY_ERRORS: Record<KeyProblem, readonly [number, string, string, string?]> = {
  // Without a token, an STS key is looked up as a long-term key, which it is not.
  'missing-token': [403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.'],
  'malformed-token': [403, 'InvalidSecurityToken', 'The security token you provided is invalid.'],
  'token-mismatch': [403, 'AccessKeyIdAndSecurityTokenNotMatch', 'The OSS access key id and security token you provided does not match.'],
  revoked: [403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.'],
  'token-expired': [403, 'SecurityTokenExpired', 'The security token you provided has expired.', '0002-00000007'],
  'not-found': [403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.'],
  inactive: [403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided is disabled.'],
};

const iso = (ms: number) => new Date(ms).toISOString();

/** What replaces the security token where an error quotes what was signed. */
const TOKEN_MASK = '<security-token>';

function requireInteger(value: string, name: string): number {
  if (!/^\d{1,12}$/.test(value)) fail(403, 'AccessDenied', `Invalid ${name} in the signed URL: it must be a whole number of seconds.`);
  return Number(value);
}

function expired(expiresAt: number, now: number): never {
  fail(403, 'AccessDenied', 'Request has expired.', { Expires: iso(expiresAt), ServerTime: iso(now), EC: '0002-00000069' });
}

/**
 * The request time of a header-signed request, checked against the emulator clock: V4 reads
 * `x-oss-date` (ISO 8601 basic); V1 reads `x-oss-date` (HTTP date or ISO basic), else `Date`.
 */
function checkRequestTime(request: OssSignedRequest, now: number, maxSkewMs: number): void {
  const { headers, auth } = request;
  let raw: string | undefined;
  let time: number;
  if (auth.kind === 'v4-header') {
    raw = headers['x-oss-date'];
    time = raw === undefined ? Number.NaN : parseIsoBasic(raw);
    if (Number.isNaN(time)) fail(403, 'AccessDenied', 'OSS V4 authentication requires a valid x-oss-date header (yyyyMMddTHHmmssZ).');
  } else {
    raw = headers['x-oss-date'] ?? headers.date;
    time = raw === undefined ? Number.NaN : parseGmtDate(raw);
    if (raw !== undefined && Number.isNaN(time)) time = parseIsoBasic(raw);
    if (Number.isNaN(time)) fail(403, 'AccessDenied', 'OSS authentication requires a valid Date or x-oss-date header.');
  }
  if (Math.abs(now - time) > maxSkewMs) {
    fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      RequestTime: raw,
      ServerTime: iso(now),
      MaxAllowedSkewMilliseconds: maxSkewMs,
      EC: '0002-00000504',
    });
  }
}

/** The security token the request carries, where its signature scheme puts it. */
function tokenOf(request: OssSignedRequest): string | undefined {
  const fromQuery = (name: string) => request.query.find(([k]) => k === name)?.[1];
  const { kind } = request.auth;
  if (kind === 'v1-query') return fromQuery('security-token');
  if (kind === 'v4-query') return fromQuery('x-oss-security-token');
  return request.headers['x-oss-security-token'];
}

function hexBytes(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Recomputes the signature from what arrived; throws `SignatureDoesNotMatch` unless it is the
 * one sent, quoting the server's string to sign (and V4 canonical request) with the security
 * token masked: the emulator's answers end up in test logs, and alicred redacts tokens.
 */
function checkSignature(request: OssSignedRequest, secret: string, token: string | undefined): void {
  const { auth, headers, method } = request;
  let stringToSign: string;
  let expected: string;
  let canonicalRequest: string | undefined;
  if (auth.kind === 'v1-header' || auth.kind === 'v1-query') {
    const date = auth.kind === 'v1-query' ? auth.expires : (headers.date ?? headers['x-oss-date'] ?? '');
    const resource = ossV1CanonicalResource(request.bucket, request.key, request.query);
    stringToSign = ossV1StringToSign({ method, headers, date, resource });
    expected = ossV1Signature(stringToSign, secret);
  } else if (auth.kind === 'v4-header' || auth.kind === 'v4-query') {
    const query = auth.kind === 'v4-query' ? request.query.filter(([k]) => k !== 'x-oss-signature') : request.query;
    const payloadHash = auth.kind === 'v4-header' ? (headers['x-oss-content-sha256'] ?? UNSIGNED_PAYLOAD) : UNSIGNED_PAYLOAD;
    canonicalRequest = ossV4CanonicalRequest({
      method,
      bucket: request.bucket,
      key: request.key,
      query,
      headers,
      additionalHeaders: auth.additionalHeaders,
      payloadHash,
    });
    const timestamp = auth.kind === 'v4-query' ? auth.date! : (headers['x-oss-date'] ?? '');
    stringToSign = ossV4StringToSign(timestamp, auth.scope, canonicalRequest);
    expected = ossV4Signature(stringToSign, secret, auth.scope);
  } else {
    return;
  }
  if (safeEqual(expected, auth.signature)) return;
  // The token as signed: raw (V1, V4 headers) or percent-encoded (a V4 canonical query).
  const mask = (text: string) => (token ? text.split(token).join(TOKEN_MASK).split(rfc3986(token)).join(TOKEN_MASK) : text);
  stringToSign = mask(stringToSign);
  if (canonicalRequest !== undefined) canonicalRequest = mask(canonicalRequest);
  fail(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.' + (request.hint ?? ''),
    {
      StringToSign: stringToSign,
      SignatureProvided: auth.signature,
      ...(canonicalRequest === undefined ? { StringToSignBytes: hexBytes(stringToSign) } : { CanonicalRequest: canonicalRequest }),
      OSSAccessKeyId: auth.accessKeyId,
    },
  );
}

/**
 * The caller of an OSS request, or throws OSS's error. Checks, in order: the signature fields
 * (`InvalidArgument` 400 for a malformed `Authorization`, `AccessDenied` 403 for a signed URL
 * missing a field); the request time (`AccessDenied` when missing or malformed,
 * `RequestTimeTooSkewed` beyond `maxSkewMs`) or a signed URL's expiry (`AccessDenied`,
 * "Request has expired."); the AccessKey and token (`InvalidAccessKeyId`,
 * `InvalidSecurityToken`, `AccessKeyIdAndSecurityTokenNotMatch`, `SecurityTokenExpired`); the
 * signature (`SignatureDoesNotMatch`, with the server's string to sign).
 */
export function authenticateOss(account: Account, maxSkewMs: number, request: OssSignedRequest, now: number): Caller {
  const { auth } = request;
  if (auth.kind === 'malformed') {
    if (auth.placement === 'header') fail(400, 'InvalidArgument', auth.problem);
    fail(403, 'AccessDenied', auth.problem);
  }
  if (auth.kind === 'v4-header' || auth.kind === 'v4-query') {
    const { product, terminator } = auth.scope;
    if (product !== 'oss' || terminator !== 'aliyun_v4_request') {
      fail(400, 'InvalidArgument', `The credential scope must end with /oss/aliyun_v4_request for ${OSS_V4_ALGORITHM}.`);
    }
  }
  if (auth.kind === 'v1-query') {
    const expires = requireInteger(auth.expires, 'Expires') * 1000;
    if (now > expires) expired(expires, now);
  } else if (auth.kind === 'v4-query') {
    const signedAt = parseIsoBasic(auth.date!);
    if (Number.isNaN(signedAt)) fail(403, 'AccessDenied', 'Invalid x-oss-date in the signed URL (yyyyMMddTHHmmssZ).');
    const expires = signedAt + requireInteger(auth.expires!, 'x-oss-expires') * 1000;
    if (now > expires) expired(expires, now);
  } else {
    checkRequestTime(request, now, maxSkewMs);
  }
  const token = tokenOf(request);
  const { accessKeyId } = auth;
  // A token makes it an STS request: a long-term key is then not an STS key OSS knows.
  if (token !== undefined && token !== '' && !accessKeyId.startsWith('STS.')) {
    fail(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: accessKeyId });
  }
  const found = resolveAccessKey(account, accessKeyId, token, now);
  if (!found.ok) {
    const [status, code, message, ec] = OSS_KEY_ERRORS[found.problem];
    fail(status, code, message, { ...(code === 'InvalidAccessKeyId' ? { OSSAccessKeyId: accessKeyId } : {}), ...(ec ? { EC: ec } : {}) });
  }
  checkSignature(request, found.secret, token);
  return found.caller;
}
