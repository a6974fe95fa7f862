/**
 * Table Store (OTS, API 2015-12-31) request signatures and response authorization, computed
 * by the emulator's own node:crypto code from the protocol, never by a client's signer.
 *
 * Request: `x-ots-signature = base64(HMAC-SHA1(AccessKeySecret, StringToSign))` with
 * `StringToSign = CanonicalURI + "\n" + "POST" + "\n" + CanonicalQueryString + "\n" +
 * CanonicalHeaders + "\n"`, where `CanonicalHeaders` are the `x-ots-*` request headers but
 * `x-ots-signature`, names lower-cased, values trimmed, `name:value` sorted by name and joined
 * by `"\n"` (the STS token, `x-ots-ststoken`, is one of them); `CanonicalQueryString` is empty
 * for every Table Store operation.
 *
 * Response: `Authorization: OTS <AccessKeyId>:<base64(HMAC-SHA1(AccessKeySecret,
 * CanonicalHeaders + "\n" + CanonicalURI))>` over the response's `x-ots-*` headers, which
 * SDKs that check responses (e.g. the Python SDK) verify on every 2xx answer.
 *
 * @internal
 */
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { safeEqual } from './verify.js';

/** The API version every request names in `x-ots-apiversion`. */
export const OTS_API_VERSION = '2015-12-31';

/** `x-ots-*` header names (lower case): the ones a request must carry, besides the optional token. */
export const REQUIRED_OTS_HEADERS = [
  'x-ots-date',
  'x-ots-apiversion',
  'x-ots-accesskeyid',
  'x-ots-instancename',
  'x-ots-contentmd5',
  'x-ots-signature',
] as const;

type Headers = IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>;

/** One header's value as signed: repeated values joined by `,`, then trimmed. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim();
}

/** Whether any header is an `x-ots-*` one: how Table Store requests are told from others. */
export function hasOtsHeaders(headers: Headers): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase().startsWith('x-ots-'));
}

/** The canonical `x-ots-*` headers (without `x-ots-signature`): sorted `name:value` lines joined by `\n`. */
export function canonicalOtsHeaders(headers: Headers): string {
  const lines: string[] = [];
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-ots-') || lower === 'x-ots-signature') continue;
    lines.push(`${lower}:${headerValue(headers, name) ?? ''}`);
  }
  // Names are ASCII: comparing UTF-16 code units is comparing bytes.
  return lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join('\n');
}

/** The canonical query: decoded pairs sorted by name then value, form-encoded again (empty for every operation). */
export function canonicalOtsQuery(query: URLSearchParams): string {
  const pairs = [...query.entries()].sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return new URLSearchParams(pairs).toString();
}

/** The request string to sign (see the module comment); `path` as received, e.g. `/ListTable`. */
export function otsRequestStringToSign(method: string, path: string, query: URLSearchParams, headers: Headers): string {
  return `${path}\n${method.toUpperCase()}\n${canonicalOtsQuery(query)}\n${canonicalOtsHeaders(headers)}\n`;
}

/** base64 HMAC-SHA1 of `stringToSign` keyed with the AccessKey secret itself. */
export function otsSignature(stringToSign: string, secret: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** Result of a request signature check; on failure, the server's string to sign. */
export type OtsSignatureCheck = { ok: true } | { ok: false; stringToSign: string };

/** Recomputes a request's `x-ots-signature` and compares it with the one sent, in constant time. */
export function verifyOtsRequest(method: string, path: string, query: URLSearchParams, headers: Headers, secret: string): OtsSignatureCheck {
  const stringToSign = otsRequestStringToSign(method, path, query, headers);
  if (safeEqual(otsSignature(stringToSign, secret), headerValue(headers, 'x-ots-signature') ?? '')) return { ok: true };
  return { ok: false, stringToSign };
}

/** base64 MD5 of a body, as `x-ots-contentmd5` carries it (requests and responses). */
export function otsContentMd5(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

/**
 * The response `Authorization` header: `OTS <accessKeyId>:<signature>` over the response's
 * `x-ots-*` headers and the request path, keyed with the caller's secret.
 */
export function otsResponseAuthorization(accessKeyId: string, secret: string, path: string, responseHeaders: Headers): string {
  return `OTS ${accessKeyId}:${otsSignature(`${canonicalOtsHeaders(responseHeaders)}\n${path}`, secret)}`;
}

const OTS_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** Epoch ms of an `x-ots-date` (UTC `yyyy-MM-ddTHH:mm:ss.SSSZ`), or NaN when it is not one. */
export function parseOtsDate(value: string): number {
  const m = OTS_DATE_RE.exec(value);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls over days past the month's end (31 April -> 1 May): refuse those.
  return new Date(time).getUTCDate() === day ? time : Number.NaN;
}
