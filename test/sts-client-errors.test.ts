import { describe, it, expect } from 'vitest';
import { StsError } from '../src/errors.js';
import { bodyExcerpt } from '../src/internal/redact.js';
import { isRetryableStsCode, scrubSecrets, toStsError } from '../src/sts/errors.js';
import { percentEncode } from '../src/sts/sign.js';
import { CLOCK_SKEW_TOLERANCE_MS, parseHttpDate, parseStsTime, stsTimestamp, toLocalExpiration } from '../src/sts/time.js';

const TOKEN = 'CAISFakeSecurityToken+/=~*Z9';
const SECRET = 'FakeSecret0123456789abcdefABCDE';

describe('isRetryableStsCode (sts-api.md §1.8)', () => {
  it.each<[string, number | undefined, boolean]>([
    ['Throttling', 400, true],
    ['Throttling.User', 400, true],
    ['Throttling.Api', 503, true],
    ['Rejected.Throttling', 400, true],
    ['ServiceUnavailable', 503, true],
    ['InternalError', 500, true],
    ['SignatureNonceUsed', 400, true],
    ['Timeout', undefined, true],
    ['NetworkError', undefined, true],
    ['Unknown5xx', 500, true],
    ['Unknown429', 429, true],
    ['NoPermission', 403, false],
    ['NoPermission', 500, false],
    ['InvalidAccessKeyId.NotFound', 404, false],
    ['InvalidAccessKeyId.Inactive', 400, false],
    ['Forbidden.AccessKeyDisabled', 403, false],
    ['SignatureDoesNotMatch', 400, false],
    ['IncompleteSignature', 400, false],
    ['InvalidSignatureMethod', 400, false],
    ['InvalidTimeStamp.Expired', 400, false],
    ['EntityNotExist.Role', 404, false],
    ['InvalidParameter', 400, false],
    ['InvalidParameter.PolicyGrammar', 400, false],
    ['MissingParameter', 400, false],
    ['MissingRoleArn', 400, false],
    ['MissingSecurityToken', 400, false],
    ['InvalidSecurityToken.Expired', 400, false],
    ['InvalidSecurityToken.MismatchWithAccessKey', 400, false],
    ['AuthenticationFail.OIDCToken.Expired', 401, false],
    ['AuthenticationFail.NoPermission', 401, false],
    ['SomethingElse', 400, false],
    ['SomethingElse', undefined, false],
  ])('%s (HTTP %s) -> %s', (code, status, expected) => {
    expect(isRetryableStsCode(code, status)).toBe(expected);
  });
});

describe('scrubSecrets', () => {
  it('removes raw, percent-encoded, double-encoded and form-encoded forms', () => {
    const once = percentEncode(TOKEN);
    const twice = percentEncode(once);
    const form = new URLSearchParams({ t: TOKEN }).toString().slice(2);
    const text = `raw=${TOKEN} once=${once} twice=${twice} form=${form} uri=${encodeURIComponent(TOKEN)}`;
    const out = scrubSecrets(text, [TOKEN]);
    expect(out).toBe('raw=[REDACTED] once=[REDACTED] twice=[REDACTED] form=[REDACTED] uri=[REDACTED]');
  });

  it('leaves short secrets and undefined alone', () => {
    expect(scrubSecrets('abc abc', ['abc', undefined])).toBe('abc abc');
  });

  it('handles secrets that are not valid UTF-16', () => {
    expect(scrubSecrets('x\uD800yyyy', ['\uD800yyyy'])).toBe('x[REDACTED]');
  });
});

describe('bodyExcerpt', () => {
  it('collapses whitespace and keeps short bodies whole', () => {
    expect(bodyExcerpt('  <h1>\n\t502   Bad Gateway</h1>\r\n ')).toBe('<h1> 502 Bad Gateway</h1>');
  });

  it('cuts at 200 characters with an ellipsis', () => {
    const out = bodyExcerpt('x'.repeat(1000));
    expect(out.length).toBe(200);
    expect(out.endsWith('…')).toBe(true);
  });

  it('never leaves the start of a secret at the cut', () => {
    const body = `${'a'.repeat(190)}${SECRET}${'b'.repeat(50)}`;
    const out = bodyExcerpt(body, { secrets: [SECRET] });
    expect(out.length).toBeLessThanOrEqual(200);
    // The whole secret is replaced first; then nothing of it remains even partly.
    expect(out).not.toContain(SECRET.slice(0, 4));
  });

  it('a secret split by the cut before scrubbing is still not shown', () => {
    // With no full occurrence to scrub (the body itself ends inside the secret).
    const body = `${'a'.repeat(195)}${SECRET.slice(0, 20)}`;
    const out = bodyExcerpt(body, { secrets: [SECRET] });
    expect(out).not.toContain(SECRET.slice(0, 4));
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('toStsError', () => {
  it('service error body', () => {
    const e = toStsError({
      kind: 'response',
      action: 'AssumeRole',
      status: 403,
      body: '{"RequestId":"r-1","HostId":"sts.aliyuncs.com","Code":"NoPermission","Message":"You are not authorized to do this action.","Recommend":"https://api.aliyun.com/troubleshoot?q=NoPermission"}',
    });
    expect(e).toBeInstanceOf(StsError);
    expect(e.code).toBe('NoPermission');
    expect(e.requestId).toBe('r-1');
    expect(e.httpStatus).toBe(403);
    expect(e.recommend).toBe('https://api.aliyun.com/troubleshoot?q=NoPermission');
    expect(e.retryable).toBe(false);
    expect(e.provider).toBe('sts');
    expect(e.message).toBe(
      'STS AssumeRole failed: NoPermission: You are not authorized to do this action. (HTTP 403, RequestId r-1)',
    );
  });

  it('lower-case keys (some gateways) are read too', () => {
    const e = toStsError({ kind: 'response', action: 'GetCallerIdentity', status: 500, body: '{"code":"InternalError","message":"boom","requestId":"x"}' });
    expect(e.code).toBe('InternalError');
    expect(e.requestId).toBe('x');
    expect(e.retryable).toBe(true);
  });

  it('an error body without a message', () => {
    const e = toStsError({ kind: 'response', action: 'AssumeRole', status: 400, body: '{"Code":"InvalidParameter"}' });
    expect(e.message).toContain('(no message)');
    expect(e.requestId).toBeUndefined();
  });

  it('a very long service message is cut', () => {
    const e = toStsError({ kind: 'response', action: 'AssumeRole', status: 400, body: JSON.stringify({ Code: 'X', Message: 'm'.repeat(5000) }) });
    expect(e.message.length).toBeLessThan(700);
  });

  it('JSON without Code -> InvalidResponse with excerpt', () => {
    const e = toStsError({ kind: 'response', action: 'AssumeRole', status: 404, body: '{"error":"not found"}', requestIdHeader: 'H-1' });
    expect(e.code).toBe('InvalidResponse');
    expect(e.requestId).toBe('H-1');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('{"error":"not found"}');
  });

  it('secrets in a service message are scrubbed', () => {
    const e = toStsError({
      kind: 'response',
      action: 'AssumeRole',
      status: 400,
      body: JSON.stringify({ Code: 'InvalidSecurityToken.Malformed', Message: `token ${TOKEN} and ${percentEncode(TOKEN)}` }),
      secrets: [TOKEN, SECRET],
    });
    expect(e.message).not.toContain(TOKEN);
    expect(e.message).not.toContain(percentEncode(TOKEN));
  });

  it('SignatureDoesNotMatch with a different string to sign gets no verdict', () => {
    const e = toStsError({
      kind: 'response',
      action: 'AssumeRole',
      status: 400,
      body: JSON.stringify({ Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation. server string to sign is:POST&%2F&A' }),
      stringToSign: 'POST&%2F&B',
    });
    expect(e.message).not.toContain('AccessKeySecret is wrong');
    expect(e.message).toContain('[10 characters omitted]');
  });

  it('network, timeout and invalid-response kinds', () => {
    const cause = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    const n = toStsError({ kind: 'network', action: 'AssumeRole', endpoint: 'https://sts.aliyuncs.com', cause });
    expect(n.code).toBe('NetworkError');
    expect(n.retryable).toBe(true);
    // A sanitized stand-in, never the foreign error itself (it may quote a URL with a token).
    expect(n.cause).not.toBe(cause);
    expect(n.cause).toBeInstanceOf(Error);
    expect((n.cause as Error).name).toBe('TypeError');
    expect((n.cause as Error).message).toBe('fetch failed');
    expect(((n.cause as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(n.message).toBe(
      'STS AssumeRole: could not reach https://sts.aliyuncs.com: fetch failed <- ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1',
    );

    const t = toStsError({ kind: 'timeout', action: 'GetCallerIdentity', endpoint: 'https://sts.aliyuncs.com', timeoutMs: 10000 });
    expect(t.code).toBe('Timeout');
    expect(t.retryable).toBe(true);
    expect(t.message).toBe('STS GetCallerIdentity: https://sts.aliyuncs.com did not answer within 10000 ms');

    const i = toStsError({ kind: 'invalid-response', action: 'AssumeRole', status: 200, problem: 'Credentials.SecurityToken is missing or empty', requestId: 'R' });
    expect(i.code).toBe('InvalidResponse');
    expect(i.retryable).toBe(false);
    expect(i.requestId).toBe('R');
  });
});

describe('time helpers', () => {
  it('stsTimestamp drops milliseconds', () => {
    expect(stsTimestamp(Date.UTC(2025, 0, 15, 8, 0, 0, 999))).toBe('2025-01-15T08:00:00Z');
  });

  it.each<[string, number | undefined]>([
    ['2025-01-15T08:00:00Z', Date.UTC(2025, 0, 15, 8)],
    ['2025-01-15T08:00:00.123Z', Date.UTC(2025, 0, 15, 8, 0, 0, 123)],
    ['2025-01-15T08:00:00.123456789Z', Date.UTC(2025, 0, 15, 8, 0, 0, 123)],
    ['2025-01-15T16:00:00+08:00', Date.UTC(2025, 0, 15, 8)],
    ['2025-01-15T03:00:00-0500', Date.UTC(2025, 0, 15, 8)],
    ['2025-01-15 08:00:00Z', Date.UTC(2025, 0, 15, 8)],
    ['2025-01-15T08:00:00', Date.UTC(2025, 0, 15, 8)],
    [' 2025-01-15T08:00:00Z ', Date.UTC(2025, 0, 15, 8)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2025-02-29T00:00:00Z', undefined],
    ['2025-13-01T00:00:00Z', undefined],
    ['2025-01-15T24:00:00Z', undefined],
    ['2025-01-15T08:60:00Z', undefined],
    ['2025-01-15', undefined],
    ['2025-01-15T08:00Z', undefined],
    ['Wed, 15 Jan 2025 08:00:00 GMT', undefined],
    ['1736928000', undefined],
    ['', undefined],
  ])('parseStsTime(%j)', (text, expected) => {
    expect(parseStsTime(text)).toBe(expected);
  });

  it('parseStsTime ignores non-strings', () => {
    expect(parseStsTime(1736928000000)).toBeUndefined();
    expect(parseStsTime(null)).toBeUndefined();
  });

  it('parseHttpDate', () => {
    expect(parseHttpDate('Wed, 15 Jan 2025 08:00:00 GMT')).toBe(Date.UTC(2025, 0, 15, 8));
    expect(parseHttpDate('garbage')).toBeUndefined();
    expect(parseHttpDate('')).toBeUndefined();
    expect(parseHttpDate(null)).toBeUndefined();
  });

  it('toLocalExpiration', () => {
    const local = Date.UTC(2025, 0, 15, 7);
    expect(toLocalExpiration({ expiration: Date.UTC(2025, 0, 15, 9), serverDate: Date.UTC(2025, 0, 15, 8), localNow: local })).toEqual({
      expiresAt: Date.UTC(2025, 0, 15, 8),
      clockSkewMs: 3600_000,
    });
    expect(toLocalExpiration({ expiration: 5_000_000, serverDate: undefined, localNow: 1 })).toEqual({ expiresAt: 5_000_000, clockSkewMs: 0 });
    const within = toLocalExpiration({ expiration: 5_000_000, serverDate: 1_000_000 + CLOCK_SKEW_TOLERANCE_MS - 1, localNow: 1_000_000 });
    expect(within).toEqual({ expiresAt: 5_000_000, clockSkewMs: 0 });
    const beyond = toLocalExpiration({ expiration: 5_000_000, serverDate: 1_000_000 + CLOCK_SKEW_TOLERANCE_MS, localNow: 1_000_000 });
    expect(beyond).toEqual({ expiresAt: 5_000_000 - CLOCK_SKEW_TOLERANCE_MS, clockSkewMs: CLOCK_SKEW_TOLERANCE_MS });
  });
});
