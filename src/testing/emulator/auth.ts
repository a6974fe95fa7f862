/**
 * Reading an incoming OpenAPI request and verifying its signature the way the service
 * does: recompute it from what arrived (with alicred's own signer) and compare in constant
 * time.
 *
 * @internal
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ACS3_HMAC_SHA256, rpcStringToSign, signRpcV1, signV3 } from '../../sts/sign.js';
import type { SignatureVersion } from './types.js';

/**
 * The parts of a V3 `Authorization` header.
 *
 * @example
 * const auth: V3Authorization = { algorithm: 'ACS3-HMAC-SHA256', credential: 'id', signedHeaders: ['host'], signature: 'ab' };
 */
export type V3Authorization = {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
};

/**
 * An incoming request, decoded once (see {@link parseRequest}).
 *
 * @example
 * const { action, version, signatureVersion } = parseRequest('GET', '/?Action=X&Version=1', {}, Buffer.alloc(0));
 */
export type ParsedRequest = {
  method: string;
  /** Path as sent, without the query (`/`). */
  rawPath: string;
  /** Decoded query parameters (last value wins). */
  query: Record<string, string>;
  /** Decoded form-body parameters (application/x-www-form-urlencoded only). */
  form: Record<string, string>;
  /** Query, then form (form wins): the API parameters plus, under V1, the common ones. */
  params: Record<string, string>;
  body: Buffer;
  headers: IncomingHttpHeaders;
  signatureVersion: SignatureVersion;
  action: string;
  version: string;
  accessKeyId: string | undefined;
  /** Present under V3; undefined when the header could not be parsed. */
  authorization: V3Authorization | undefined;
  /** The caller's SecurityToken (V1 `SecurityToken`, V3 `x-acs-security-token`). */
  securityToken: string | undefined;
  /** The signature nonce (V1 `SignatureNonce`, V3 `x-acs-signature-nonce`). */
  nonce: string | undefined;
  /** The request time (V1 `Timestamp`, V3 `x-acs-date`). */
  timestamp: string | undefined;
};

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function searchParamsToRecord(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of search) out[key] = value;
  return out;
}

/**
 * Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`.
 *
 * @example
 * parseV3Authorization('ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=ab');
 */
export function parseV3Authorization(value: string): V3Authorization | undefined {
  const space = value.indexOf(' ');
  if (space <= 0) return undefined;
  const algorithm = value.slice(0, space);
  const fields: Record<string, string> = {};
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = fields;
  if (!credential || !signedHeaders || !signature) return undefined;
  return {
    algorithm,
    credential,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature,
  };
}

/**
 * Decodes a request: parameters, signature version, action, version and caller.
 *
 * @example
 * const parsed = parseRequest('POST', '/?Action=AssumeRole', req.headers, body);
 */
export function parseRequest(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): ParsedRequest {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? {} : searchParamsToRecord(new URLSearchParams(url.slice(q + 1)));
  const contentType = (header(headers, 'content-type') ?? '').toLowerCase();
  const form = contentType.startsWith('application/x-www-form-urlencoded')
    ? searchParamsToRecord(new URLSearchParams(body.toString('utf8')))
    : {};
  const params = { ...query, ...form };

  const authHeader = header(headers, 'authorization');
  let signatureVersion: SignatureVersion;
  let authorization: V3Authorization | undefined;
  let accessKeyId: string | undefined;
  if (authHeader !== undefined && authHeader !== '') {
    signatureVersion = 'v3';
    authorization = parseV3Authorization(authHeader);
    accessKeyId = authorization?.credential;
  } else if (params.Signature !== undefined || params.AccessKeyId !== undefined || params.SignatureMethod !== undefined) {
    signatureVersion = 'v1';
    accessKeyId = params.AccessKeyId;
  } else {
    signatureVersion = 'anonymous';
  }

  const v3 = signatureVersion === 'v3';
  return {
    method: method.toUpperCase(),
    rawPath,
    query,
    form,
    params,
    body,
    headers,
    signatureVersion,
    // Anonymous RPC calls carry Action/Version as parameters; Tea clients also send x-acs-* headers.
    action: (v3 ? header(headers, 'x-acs-action') : params.Action) ?? params.Action ?? header(headers, 'x-acs-action') ?? '',
    version:
      (v3 ? header(headers, 'x-acs-version') : params.Version) ?? params.Version ?? header(headers, 'x-acs-version') ?? '',
    accessKeyId,
    authorization,
    securityToken: v3 ? header(headers, 'x-acs-security-token') : params.SecurityToken,
    nonce: v3 ? header(headers, 'x-acs-signature-nonce') : params.SignatureNonce,
    timestamp: v3 ? header(headers, 'x-acs-date') : params.Timestamp,
  };
}

/**
 * Constant-time comparison of two strings (false at once only when the lengths differ).
 *
 * @example
 * safeEqual('abc', 'abc'); // true
 */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    // Still spend the time of one comparison.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * A problem with the request's signature fields, before any key is looked up.
 *
 * @example
 * const p: SignatureFormatProblem = { code: 'MissingSignatureNonce', message: 'SignatureNonce is mandatory for this action.' };
 */
export type SignatureFormatProblem = { code: string; message: string };

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;

/**
 * Parses a UTC `yyyy-MM-ddTHH:mm:ssZ` timestamp (milliseconds tolerated); NaN when malformed.
 *
 * @example
 * parseTimestamp('2025-01-15T08:00:00Z'); // 1736928000000
 */
export function parseTimestamp(value: string): number {
  if (!TIMESTAMP_RE.test(value)) return Number.NaN;
  return Date.parse(value);
}

/**
 * Checks the presence and form of the signature fields of a signed request. Returns the
 * first problem, or undefined.
 *
 * @example
 * signatureFormatProblem(parsed); // { code: 'MissingSignatureNonce', ... } | undefined
 */
export function signatureFormatProblem(parsed: ParsedRequest): SignatureFormatProblem | undefined {
  const missing = (name: string): SignatureFormatProblem => ({
    code: `Missing${name}`,
    message: `${name} is mandatory for this action.`,
  });
  const incomplete = (detail: string): SignatureFormatProblem => ({
    code: 'IncompleteSignature',
    message: `The request signature does not conform to Aliyun standards. ${detail}`,
  });
  if (parsed.signatureVersion === 'v1') {
    const p = parsed.params;
    if (parsed.method !== 'GET' && parsed.method !== 'POST') {
      return { code: 'UnsupportedHTTPMethod', message: `HTTP method ${parsed.method} is not supported by RPC APIs.` };
    }
    if (p.AccessKeyId === undefined || p.AccessKeyId === '') return missing('AccessKeyId');
    if (p.Signature === undefined || p.Signature === '') return missing('Signature');
    if (p.SignatureMethod === undefined) return missing('SignatureMethod');
    if (p.SignatureMethod !== 'HMAC-SHA1') {
      return { code: 'InvalidSignatureMethod', message: 'Specified signature method is not valid. Use HMAC-SHA1.' };
    }
    if (p.SignatureVersion !== undefined && p.SignatureVersion !== '1.0') {
      return { code: 'InvalidSignatureVersion', message: 'Specified signature version is not valid. Use 1.0.' };
    }
    if (p.SignatureNonce === undefined || p.SignatureNonce === '') return missing('SignatureNonce');
    if (p.Timestamp === undefined || p.Timestamp === '') return missing('Timestamp');
    return undefined;
  }
  if (parsed.signatureVersion === 'v3') {
    const auth = parsed.authorization;
    if (auth === undefined) return incomplete('The Authorization header is malformed.');
    if (auth.algorithm !== ACS3_HMAC_SHA256) {
      return { code: 'InvalidSignatureMethod', message: `Specified signature method ${auth.algorithm} is not supported.` };
    }
    for (const required of ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
      if (parsed.headers[required] === undefined) return incomplete(`The header ${required} is missing.`);
      if (!auth.signedHeaders.includes(required)) return incomplete(`The header ${required} is not signed.`);
    }
    for (const name of auth.signedHeaders) {
      if (parsed.headers[name] === undefined) return incomplete(`The signed header ${name} is missing.`);
    }
    if (parsed.headers['x-acs-security-token'] !== undefined && !auth.signedHeaders.includes('x-acs-security-token')) {
      return incomplete('The header x-acs-security-token is not signed.');
    }
    return undefined;
  }
  return missing('AccessKeyId');
}

/**
 * Result of a signature check.
 *
 * @example
 * const check: SignatureCheck = await verifyV1(parsed, secret);
 * if (!check.ok) console.log(check.stringToSign);
 */
export type SignatureCheck = { ok: true } | { ok: false; stringToSign: string };

/**
 * Recomputes the V1 (HMAC-SHA1) signature over every parameter but `Signature` (query and
 * form body) and compares it with the one sent.
 *
 * @example
 * await verifyV1(parsed, 'secret'); // { ok: true } | { ok: false, stringToSign }
 */
export async function verifyV1(parsed: ParsedRequest, secret: string): Promise<SignatureCheck> {
  const { Signature: given = '', ...signed } = parsed.params;
  const method = parsed.method as 'GET' | 'POST';
  const expected = await signRpcV1({ method, params: signed, accessKeySecret: secret });
  if (safeEqual(expected, given)) return { ok: true };
  return { ok: false, stringToSign: rpcStringToSign(method, signed) };
}

/**
 * Recomputes the V3 (ACS3-HMAC-SHA256) signature from the method, raw path, decoded query,
 * the headers named in `SignedHeaders` and the body bytes, and compares it with the one sent;
 * `x-acs-content-sha256` must also be the SHA-256 of the body actually received.
 *
 * @example
 * await verifyV3(parsed, 'secret'); // { ok: true } | { ok: false, stringToSign }
 */
export async function verifyV3(parsed: ParsedRequest, secret: string): Promise<SignatureCheck> {
  const auth = parsed.authorization!;
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(parsed.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const result = await signV3({
    method: parsed.method,
    pathname: parsed.rawPath === '' ? '/' : parsed.rawPath,
    query: parsed.query,
    headers,
    body: parsed.body,
    accessKeyId: auth.credential,
    accessKeySecret: secret,
  });
  const expected = /Signature=([0-9a-f]+)$/.exec(result.authorization)?.[1] ?? '';
  // signV3 hashes the body itself; the header that was sent (and signed) must agree with it.
  const bodyHash = createHash('sha256').update(parsed.body).digest('hex');
  const sentHash = header(parsed.headers, 'x-acs-content-sha256') ?? '';
  if (safeEqual(expected, auth.signature) && safeEqual(sentHash, bodyHash)) return { ok: true };
  return { ok: false, stringToSign: result.stringToSign };
}
