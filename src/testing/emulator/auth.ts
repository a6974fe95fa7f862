/**
 * Authentication as the service does it: signature fields, request time, the caller's key
 * or STS token, then the signature, recomputed from what arrived by the emulator's own
 * verifier (verify.ts, never alicred's signer) and compared in constant time; then nonce reuse.
 *
 * @internal
 */
import type { Account, Caller } from './account.js';
import type { ParsedRequest } from './request.js';
import { fail } from './respond.js';
import {
  V3_ALGORITHM,
  parseRequestTime,
  safeEqual,
  sha256Hex,
  v1Signature,
  v1StringToSign,
  v3CanonicalRequest,
  v3Signature,
  v3StringToSign,
} from './verify.js';

/** A problem with the request's signature fields, before any key is looked up. */
export type SignatureFormatProblem = { code: string; message: string };

const V3_REQUIRED_HEADERS = ['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'];

/**
 * Checks the presence and form of the signature fields of a signed request. Returns the
 * first problem, or undefined.
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
    if (auth.algorithm !== V3_ALGORITHM) {
      return { code: 'InvalidSignatureMethod', message: `Specified signature method ${auth.algorithm} is not supported.` };
    }
    for (const required of V3_REQUIRED_HEADERS) {
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
 * Result of a signature check; on failure, the server's string to sign (the service quotes
 * it in `SignatureDoesNotMatch`).
 */
export type SignatureCheck = { ok: true } | { ok: false; stringToSign: string };

/**
 * Recomputes the V1 (HMAC-SHA1) signature over every parameter but `Signature` (query and
 * form body) and compares it with the one sent.
 */
export function verifyV1(parsed: ParsedRequest, secret: string): SignatureCheck {
  const { Signature: given = '', ...signed } = parsed.params;
  const stringToSign = v1StringToSign(parsed.method, signed);
  if (safeEqual(v1Signature(stringToSign, secret), given)) return { ok: true };
  return { ok: false, stringToSign };
}

/**
 * Recomputes the V3 (ACS3-HMAC-SHA256) signature from the method, raw path, decoded query,
 * the headers named in `SignedHeaders` and the hash of the body bytes received, and compares
 * it with the one sent; `x-acs-content-sha256` must also be that hash.
 */
export function verifyV3(parsed: ParsedRequest, secret: string): SignatureCheck {
  const auth = parsed.authorization!;
  const payloadHash = sha256Hex(parsed.body);
  const canonical = v3CanonicalRequest({
    method: parsed.method,
    path: parsed.rawPath,
    query: parsed.query,
    headers: parsed.headerValues,
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  const stringToSign = v3StringToSign(canonical);
  const sentHash = (parsed.headerValues['x-acs-content-sha256'] ?? []).join(',');
  const signatureOk = safeEqual(v3Signature(stringToSign, secret), auth.signature);
  if (signatureOk && safeEqual(sentHash, payloadHash)) return { ok: true };
  return { ok: false, stringToSign };
}

/**
 * Why a key (and its token) cannot sign: the same checks for every product, each product
 * answering with its own codes.
 */
export type KeyProblem = 'missing-token' | 'malformed-token' | 'token-mismatch' | 'revoked' | 'token-expired' | 'not-found' | 'inactive';

/** The caller behind a key and the secret that signs with it, or why there is none. */
export type KeyResolution = { ok: true; caller: Caller; secret: string } | { ok: false; problem: KeyProblem };

/**
 * Finds the caller of `accessKeyId`: a RAM user's key, or an issued `STS.` key whose `token`
 * is the current, unexpired one issued with it (the real service reads the session from the
 * token, so the token is checked first).
 */
export function resolveAccessKey(account: Account, accessKeyId: string, token: string | undefined, now: number): KeyResolution {
  if (accessKeyId.startsWith('STS.')) {
    if (token === undefined || token === '') return { ok: false, problem: 'missing-token' };
    const session = account.sessionsByToken.get(token);
    if (session === undefined) return { ok: false, problem: 'malformed-token' };
    if (session.accessKeyId !== accessKeyId) return { ok: false, problem: 'token-mismatch' };
    if (session.revoked) return { ok: false, problem: 'revoked' };
    if (now >= session.expiresAt) return { ok: false, problem: 'token-expired' };
    return { ok: true, caller: { kind: 'session', session }, secret: session.accessKeySecret };
  }
  const state = account.usersByKey.get(accessKeyId);
  if (state === undefined || state.revoked) return { ok: false, problem: 'not-found' };
  if (state.user.disabled === true) return { ok: false, problem: 'inactive' };
  return { ok: true, caller: { kind: 'user', state }, secret: state.user.accessKeySecret };
}

/** The POP (RPC/ROA/V3) answers to each {@link KeyProblem}: status, code, message. */
const POP_KEY_ERRORS: Record<KeyProblem, [number, string, string]> = {
  'missing-token': [400, 'MissingSecurityToken', 'SecurityToken is mandatory for this action.'],
  'malformed-token': [400, 'InvalidSecurityToken.Malformed', 'Specified SecurityToken is malformed.'],
  'token-mismatch': [400, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.'],
  revoked: [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'],
  'token-expired': [400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.'],
  'not-found': [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'],
  inactive: [400, 'InvalidAccessKeyId.Inactive', 'Specified access key is disabled.'],
};

/**
 * Authentication bound to one account: the timestamp check (also used alone by anonymous
 * actions) and the full check of a signed request.
 */
export type Authenticator = {
  /** `InvalidTimeStamp.Format` / `.Expired` unless the request time is within the skew. */
  checkTimestamp(parsed: ParsedRequest, now: number): void;
  /** The caller of a signed request, or throws the service's error. */
  authenticate(parsed: ParsedRequest, now: number): Caller;
};

/** Creates the {@link Authenticator} of `account`, accepting request times within `maxSkewMs`. */
export function createAuthenticator(account: Account, maxSkewMs: number): Authenticator {
  // Nonce of each accepted request, by `accessKeyId\nnonce`, with its arrival time; oldest first.
  const nonces = new Map<string, number>();

  function checkTimestamp(parsed: ParsedRequest, now: number): void {
    if (parsed.timestamp === undefined) return;
    const t = parseRequestTime(parsed.timestamp);
    if (Number.isNaN(t)) fail(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.');
    if (Math.abs(now - t) > maxSkewMs) fail(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
  }

  function rememberNonce(key: string, now: number): void {
    // Forget nonces whose timestamps can no longer pass the skew check.
    for (const [k, t] of nonces) {
      if (t >= now - 2 * maxSkewMs) break;
      nonces.delete(k);
    }
    if (nonces.has(key)) fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.set(key, now);
  }

  function lookup(parsed: ParsedRequest, accessKeyId: string, now: number): { caller: Caller; secret: string } {
    const found = resolveAccessKey(account, accessKeyId, parsed.securityToken, now);
    if (!found.ok) {
      const [status, code, message] = POP_KEY_ERRORS[found.problem];
      fail(status, code, message);
    }
    return found;
  }

  function authenticate(parsed: ParsedRequest, now: number): Caller {
    const problem = signatureFormatProblem(parsed);
    if (problem !== undefined) fail(400, problem.code, problem.message);
    checkTimestamp(parsed, now);
    const accessKeyId = parsed.accessKeyId!;
    const { caller, secret } = lookup(parsed, accessKeyId, now);
    const check = parsed.signatureVersion === 'v3' ? verifyV3(parsed, secret) : verifyV1(parsed, secret);
    if (!check.ok) {
      fail(
        400,
        'SignatureDoesNotMatch',
        `Specified signature is not matched with our calculation. server string to sign is:${check.stringToSign}`,
      );
    }
    rememberNonce(`${accessKeyId}\n${parsed.nonce}`, now);
    return caller;
  }

  return { checkTimestamp, authenticate };
}
