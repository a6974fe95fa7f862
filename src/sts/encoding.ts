/**
 * Byte/text helpers for request signing.
 *
 * Universal code: uses only `TextEncoder`, `btoa` and WebCrypto
 * (`globalThis.crypto.subtle`), which exist in Node.js >= 20, browsers,
 * Deno, Bun and edge runtimes. No Node built-ins and no `Buffer`.
 *
 * @internal
 */

const utf8Encoder = /* @__PURE__ */ new TextEncoder();

/** Encodes a string as UTF-8 bytes. */
export function utf8Bytes(value: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(value);
}

/**
 * Copies arbitrary bytes into a fresh `ArrayBuffer`-backed view, so they can be
 * handed to WebCrypto (which rejects `SharedArrayBuffer`-backed views).
 */
export function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

const HEX_DIGITS = '0123456789abcdef';

/** Lower-case hexadecimal encoding of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 0x0f]!;
  }
  return out;
}

/** Standard (RFC 4648 §4, padded, `+` and `/`) base64 encoding of bytes. */
export function toBase64(bytes: Uint8Array): string {
  // btoa() takes a "binary string" (one char per byte). Build it in chunks to
  // keep String.fromCharCode's argument count well below engine limits.
  let binary = '';
  const CHUNK = 0x2000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) {
    throw new Error(
      'alicred: WebCrypto (globalThis.crypto.subtle) is not available in this runtime; ' +
        'request signing needs it (Node.js >= 20, modern browsers and edge runtimes provide it).',
    );
  }
  return s;
}

/** SHA-256 digest of `data` (UTF-8 when a string). */
export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  const bytes = typeof data === 'string' ? utf8Bytes(data) : ownBytes(data);
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

/**
 * HMAC over `data` with `key` (both UTF-8 when strings).
 *
 * @param hash `'SHA-1'` for V1 RPC signatures, `'SHA-256'` for ACS3-HMAC-SHA256.
 */
export async function hmac(
  hash: 'SHA-1' | 'SHA-256',
  key: string | Uint8Array,
  data: string | Uint8Array,
): Promise<Uint8Array> {
  const keyBytes = typeof key === 'string' ? utf8Bytes(key) : ownBytes(key);
  if (keyBytes.length === 0) {
    // WebCrypto refuses zero-length HMAC keys; fail with a clear message.
    throw new TypeError('alicred: cannot sign with an empty AccessKeySecret');
  }
  const s = subtle();
  const cryptoKey = await s.importKey('raw', keyBytes, { name: 'HMAC', hash }, false, ['sign']);
  const dataBytes = typeof data === 'string' ? utf8Bytes(data) : ownBytes(data);
  return new Uint8Array(await s.sign('HMAC', cryptoKey, dataBytes));
}
