/**
 * Sealing the values of the shared STS cache store: AES-256-GCM over WebCrypto, a random
 * 12-byte IV per value, the full store key as additional data (a value moved to another key
 * does not open). Keys are 32 random bytes, or a passphrase stretched once with
 * PBKDF2-SHA-256 under a salt fixed per key prefix; a list of keys seals with the first and
 * opens with any (rotation).
 *
 * Universal code: WebCrypto, `btoa` / `atob`, no Node built-in.
 *
 * @internal
 */
import { ConfigError } from '../errors.js';

/**
 * One key: 32 bytes, their standard padded base64 (44 characters ending in `=`, as
 * `openssl rand -base64 32` prints), or a passphrase of at least 32 characters.
 *
 * @internal
 */
export type SealKey = Uint8Array | string;

/** What sealed text starts with; plain values are JSON and start with `{`. */
export const SEALED_PREFIX = 'a1:';
/** PBKDF2-SHA-256 rounds for a passphrase (OWASP's figure for SHA-256). */
export const PASSPHRASE_ITERATIONS = 600_000;
/** Shortest passphrase accepted. */
export const MIN_PASSPHRASE_CHARS = 32;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const RAW_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });

/**
 * Seals and opens store values.
 *
 * @internal
 */
export type Sealer = {
  seal(plain: string, additionalData: string): Promise<string>;
  /** The plain text, or undefined when no key opens it (another key, tampered, not sealed). */
  open(sealed: string, additionalData: string): Promise<string | undefined>;
};

type KeySpec = { kind: 'raw'; bytes: Uint8Array<ArrayBuffer> } | { kind: 'passphrase'; text: string };

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function keySpec(key: unknown, index: number | undefined): KeySpec {
  const where = index === undefined ? 'encryptionKey' : `encryptionKey[${index}]`;
  const fail = (rule: string): never => {
    throw new ConfigError(`createStsCache: ${where} ${rule}`, { provider: 'sts-cache', field: 'encryptionKey' });
  };
  if (key instanceof Uint8Array) {
    if (key.length !== 32) fail(`must be 32 bytes (got ${key.length})`);
    const bytes = new Uint8Array(32);
    bytes.set(key);
    return { kind: 'raw', bytes };
  }
  if (typeof key !== 'string') return fail('must be a Uint8Array of 32 bytes, their base64, or a passphrase of 32+ characters');
  if (RAW_BASE64.test(key)) {
    const bytes = fromBase64(key);
    if (bytes?.length === 32) return { kind: 'raw', bytes };
  }
  if (key.length < MIN_PASSPHRASE_CHARS) {
    fail(`is neither the base64 of 32 bytes nor a passphrase of at least ${MIN_PASSPHRASE_CHARS} characters (got ${key.length} characters)`);
  }
  return { kind: 'passphrase', text: key };
}

/**
 * Checks `option` (one key or a non-empty list) now, synchronously (a ConfigError names the
 * bad one), and returns a sealer that derives its keys on first use, once. `salt` (the store's
 * key prefix) makes one passphrase give different keys under different prefixes.
 *
 * @internal
 */
export function createSealer(option: unknown, salt: string, iterations = PASSPHRASE_ITERATIONS): Sealer {
  const list = Array.isArray(option) ? (option as unknown[]) : [option];
  if (list.length === 0) {
    throw new ConfigError('createStsCache: encryptionKey must not be an empty list', { provider: 'sts-cache', field: 'encryptionKey' });
  }
  const specs = list.map((key, i) => keySpec(key, Array.isArray(option) ? i : undefined));
  let derived: Promise<CryptoKey[]> | undefined;
  const keys = (): Promise<CryptoKey[]> => {
    derived ??= Promise.all(specs.map((spec) => importKey(spec, salt, iterations))).catch((error: unknown) => {
      derived = undefined; // a runtime without WebCrypto now may not be one later (tests); try again next time
      throw error;
    });
    return derived;
  };
  return {
    async seal(plain, additionalData) {
      const [key] = await keys();
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(additionalData) }, key!, encoder.encode(plain));
      const out = new Uint8Array(IV_BYTES + sealed.byteLength);
      out.set(iv);
      out.set(new Uint8Array(sealed), IV_BYTES);
      return SEALED_PREFIX + toBase64(out);
    },
    async open(sealed, additionalData) {
      if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
      const bytes = fromBase64(sealed.slice(SEALED_PREFIX.length));
      if (bytes === undefined || bytes.length < IV_BYTES + TAG_BYTES) return undefined;
      const iv = bytes.slice(0, IV_BYTES);
      const body = bytes.slice(IV_BYTES);
      const aad = encoder.encode(additionalData);
      for (const key of await keys()) {
        try {
          const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, body);
          return decoder.decode(plain);
        } catch {
          // Not this key (or tampered): try the next.
        }
      }
      return undefined;
    },
  };
}

async function importKey(spec: KeySpec, salt: string, iterations: number): Promise<CryptoKey> {
  const usages: KeyUsage[] = ['encrypt', 'decrypt'];
  if (spec.kind === 'raw') return crypto.subtle.importKey('raw', spec.bytes, { name: 'AES-GCM' }, false, usages);
  const base = await crypto.subtle.importKey('raw', encoder.encode(spec.text), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', iterations, salt: encoder.encode(`alicred sts-cache v1\u0000${salt}`) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    usages,
  );
}
