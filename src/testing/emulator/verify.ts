/**
 * The emulator's own signature arithmetic, written from the service's published algorithm
 * (V1 RPC HMAC-SHA1 and V3 ACS3-HMAC-SHA256) with node:crypto. It deliberately shares no
 * code with alicred's WebCrypto signer in src/sts/: the emulator judges that signer, and a
 * shared bug would pass on both sides.
 *
 * @internal
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the V3 algorithm, in `Authorization` and the string to sign. */
export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';

const HEX = '0123456789ABCDEF';

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes: only `A-Z a-z 0-9 - _ . ~` stay literal,
 * every other byte becomes `%XX` with upper-case hex (space is `%20`, `*` is `%2A`).
 */
export function rfc3986(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * The canonical query of both versions: every pair encoded, sorted by encoded key in byte
 * order, `k=v` joined with `&` (an empty value still gives `k=`; no parameters give `''`).
 */
export function canonicalQuery(params: Record<string, string>): string {
  const pairs = Object.entries(params).map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  // Encoded keys are ASCII, so comparing UTF-16 code units is comparing bytes.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * V1 string to sign: `METHOD&%2F&` + the canonical query encoded once more.
 * `params` are all signed parameters (query and form body) without `Signature`.
 */
export function v1StringToSign(method: string, params: Record<string, string>): string {
  return `${method.toUpperCase()}&${rfc3986('/')}&${rfc3986(canonicalQuery(params))}`;
}

/** V1 signature: base64 HMAC-SHA1 of the string to sign, keyed with `secret + '&'`. */
export function v1Signature(stringToSign: string, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}

/** Lower-case hex SHA-256 of bytes or a UTF-8 string. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a V3 canonical request is built from, as the server received it. */
export type V3CanonicalInput = {
  method: string;
  /** The path as sent (`/` for RPC APIs). */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Received headers by lower-case name, every value of a repeated header. */
  headers: Record<string, readonly string[] | undefined>;
  /** The names the client listed in `SignedHeaders`. */
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body actually received. */
  payloadHash: string;
};

/**
 * The V3 canonical request: method, path, canonical query, `name:value\n` for each signed
 * header (sorted by name; values trimmed, a repeated header's values sorted and joined with
 * `,`), the signed header names joined with `;`, and the payload hash, one per line.
 */
export function v3CanonicalRequest(input: V3CanonicalInput): string {
  const names = [...new Set(input.signedHeaders.map((n) => n.trim().toLowerCase()))].sort();
  const lines = names.map((name) => {
    const values = (input.headers[name] ?? []).map((v) => v.trim()).sort();
    return `${name}:${values.join(',')}\n`;
  });
  return [
    input.method.toUpperCase(),
    input.path === '' ? '/' : input.path,
    canonicalQuery(input.query),
    lines.join(''),
    names.join(';'),
    input.payloadHash,
  ].join('\n');
}

/** V3 string to sign: the algorithm name, a newline, the hex SHA-256 of the canonical request. */
export function v3StringToSign(canonicalRequest: string): string {
  return `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * V3 signature: lower-case hex HMAC-SHA256 of the string to sign, keyed with the secret
 * itself (no `&`).
 */
export function v3Signature(stringToSign: string, secret: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (false at once only when the lengths differ). */
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

const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;

/**
 * Parses a UTC `yyyy-MM-ddTHH:mm:ssZ` request time (milliseconds tolerated) into epoch ms;
 * NaN when malformed or not a real calendar time (month 13, February 30, hour 24...).
 */
export function parseRequestTime(value: string): number {
  const m = TIMESTAMP_RE.exec(value);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls February 30 over into March; a real date survives the round trip.
  if (new Date(time).getUTCDate() !== day) return Number.NaN;
  return time;
}
