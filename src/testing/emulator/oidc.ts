/**
 * JWTs for the emulator's OIDC providers: HS256 with a key private to one emulator.
 *
 * @internal
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims the emulator writes and reads. */
export type OidcClaims = {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  [claim: string]: unknown;
};

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Signs claims into `header.payload.signature` (base64url, HS256). */
export function signJwt(claims: OidcClaims, key: Buffer): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'alicred-emulator' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/** Why a token was rejected, or its claims. */
export type JwtCheck =
  | { ok: true; claims: OidcClaims }
  | { ok: false; reason: 'Invalid' | 'InvalidSignature'; detail: string };

/** Decodes a JWT and checks its HS256 signature against `key` (not expiry, issuer or audience). */
export function verifyJwt(token: string, key: Buffer): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    return { ok: false, reason: 'Invalid', detail: 'The OIDC token is not a JWT (header.payload.signature).' };
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'Invalid', detail: 'The OIDC token header or payload is not base64url JSON.' };
  }
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'HS256') {
    return { ok: false, reason: 'Invalid', detail: 'The OIDC token uses an unsupported algorithm.' };
  }
  const c = claims as Partial<OidcClaims> | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.iss !== 'string' ||
    typeof c.sub !== 'string' ||
    typeof c.exp !== 'number' ||
    !(typeof c.aud === 'string' || (Array.isArray(c.aud) && c.aud.every((a) => typeof a === 'string')))
  ) {
    return { ok: false, reason: 'Invalid', detail: 'The OIDC token lacks one of the claims iss, sub, aud, exp.' };
  }
  const expected = createHmac('sha256', key).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'InvalidSignature', detail: 'The signature of the OIDC token is invalid.' };
  }
  return { ok: true, claims: c as OidcClaims };
}
