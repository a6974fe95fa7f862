/**
 * The emulator's sign-in endpoints, driven with plain fetch on 127.0.0.1: the CloudSSO
 * portal's `POST /cloud-credentials` and the OAuth server's `POST /v1/token` and
 * `POST /v1/exchange` (success shapes, every error, refresh-token rotation, expiry on the
 * emulator clock and under timeScale, the request log and injected faults), and the STS
 * credentials they issue checked against the emulator's own GetCallerIdentity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsClient } from '../src/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/testing/index.js';

const CN_CLIENT = '4038181954557748008';
const INTL_CLIENT = '4103531455503354461';
const ACCOUNT = '1234567890123456';
const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const OPAQUE = /^[A-Za-z0-9_-]{64}$/;

const BASE: EmulatorOptions = {
  roles: [{ name: 'sso-admin' }, { name: 'sso-reader' }, { name: 'oauth-role' }],
  cloudSso: {
    assignments: [
      { accountId: ACCOUNT, accessConfigurationId: 'ac-admin', role: 'sso-admin' },
      { accountId: '9999999999999999', accessConfigurationId: 'ac-read', role: 'sso-reader' },
    ],
  },
  oauth: { role: 'oauth-role' },
};

type Answer = { status: number; body: Record<string, unknown>; headers: Headers; text: string };

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers, text };
}

function cloudCredentials(emu: Emulator, token: string | undefined, body: unknown = { AccountId: ACCOUNT, AccessConfigurationId: 'ac-admin' }, init: RequestInit = {}): Promise<Answer> {
  const origin = new URL(emu.cloudSsoSignInUrl).origin; // what clients keep of cloud_sso_sign_in_url
  const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/json' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return fetch(`${origin}/cloud-credentials`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), ...init }).then(answer);
}

function refresh(emu: Emulator, params: Record<string, string>, init: RequestInit = {}): Promise<Answer> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: CN_CLIENT, Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...params });
  return fetch(`${emu.oauthBaseUrl}/v1/token`, { method: 'POST', body, ...init }).then(answer);
}

function exchange(emu: Emulator, token: string | undefined, init: RequestInit = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return fetch(`${emu.oauthBaseUrl}/v1/exchange`, { method: 'POST', headers, ...init }).then(answer);
}

async function callerArn(emu: Emulator, key: { accessKeyId: string; accessKeySecret: string; securityToken: string }): Promise<string> {
  const sts = createStsClient({ endpoint: emu.stsEndpoint, env: {} });
  return (await sts.getCallerIdentity({ ...key, source: 'test' })).arn;
}

/** The error body's keys and code, and that no secret token leaked into it. */
function expectError(a: Answer, status: number, keys: string[], code: string, ...secrets: string[]): void {
  expect(a.status, a.text).toBe(status);
  expect(Object.keys(a.body).sort()).toEqual([...keys].sort());
  expect(a.body.ErrorCode ?? a.body.error).toBe(code);
  for (const secret of secrets) expect(a.text).not.toContain(secret);
}
const SSO_ERROR = ['ErrorCode', 'ErrorMessage', 'RequestId'];
const TOKEN_ERROR = ['error', 'error_description'];
const EXCHANGE_ERROR = ['error', 'error_description', 'requestId'];

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator(BASE);
});
afterAll(() => emu.close());

describe('CloudSSO /cloud-credentials', () => {
  it('answers STS credentials of the assigned role in the portal shape; they work against STS', async () => {
    expect(emu.cloudSsoSignInUrl).toBe(`${emu.url}/device/login`);
    const before = Date.now();
    const minted = emu.mintCloudSsoToken();
    expect(minted.accessToken).toMatch(OPAQUE);
    expect(Number.isInteger(minted.expiresAt)).toBe(true);
    expect(minted.expiresAt * 1000 - before).toBeGreaterThan(3590_000);
    expect(minted.expiresAt * 1000 - before).toBeLessThanOrEqual(3601_000);

    const a = await cloudCredentials(emu, minted.accessToken);
    expect(a.status, a.text).toBe(200);
    expect(Object.keys(a.body).sort()).toEqual(['CloudCredential', 'RequestId']);
    expect(a.body.RequestId).toBe(a.headers.get('x-acs-request-id'));
    const c = a.body.CloudCredential as Record<string, string>;
    expect(Object.keys(c).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken']);
    expect(c.AccessKeyId).toMatch(/^STS\./);
    expect(c.Expiration).toMatch(ISO_SECONDS);
    expect(Date.parse(c.Expiration!) - before).toBeGreaterThan(3590_000);
    const key = { accessKeyId: c.AccessKeyId!, accessKeySecret: c.AccessKeySecret!, securityToken: c.SecurityToken! };
    expect(await callerArn(emu, key)).toBe(`acs:ram::${ACCOUNT}:assumed-role/sso-admin/cloudsso-user`);
    expect(emu.issued().at(-1)).toMatchObject({ accessKeyId: c.AccessKeyId, roleName: 'sso-admin', sessionName: 'cloudsso-user' });

    // Another assignment of the same token, in another (member) account id.
    const other = await cloudCredentials(emu, minted.accessToken, { AccountId: '9999999999999999', AccessConfigurationId: 'ac-read' });
    const o = other.body.CloudCredential as Record<string, string>;
    expect(await callerArn(emu, { accessKeyId: o.AccessKeyId!, accessKeySecret: o.AccessKeySecret!, securityToken: o.SecurityToken! })).toContain('assumed-role/sso-reader/');
  });

  it('refuses with {ErrorCode, ErrorMessage, RequestId}: bearer, token, body, assignment, method', async () => {
    const { accessToken } = emu.mintCloudSsoToken();
    expectError(await cloudCredentials(emu, undefined), 401, SSO_ERROR, 'MissingAccessToken');
    expectError(await cloudCredentials(emu, undefined, undefined, { headers: { Authorization: `Basic ${accessToken}` } }), 401, SSO_ERROR, 'MissingAccessToken', accessToken);
    const unknown = 'A'.repeat(64);
    expectError(await cloudCredentials(emu, unknown), 401, SSO_ERROR, 'InvalidAccessToken', unknown);
    const expired = emu.mintCloudSsoToken({ expiresInSeconds: -1 }).accessToken;
    const e = await cloudCredentials(emu, expired);
    expectError(e, 401, SSO_ERROR, 'AccessTokenExpired', expired);
    expect(e.body.ErrorMessage).toBe('The access token is expired.');
    const denied = await cloudCredentials(emu, accessToken, { AccountId: ACCOUNT, AccessConfigurationId: 'ac-read' });
    expectError(denied, 403, SSO_ERROR, 'Forbidden', accessToken);
    expect(denied.body.ErrorMessage).toBe('Access Denied');
    expectError(await cloudCredentials(emu, accessToken, '{"AccountId":'), 400, SSO_ERROR, 'InvalidParameter', accessToken);
    expectError(await cloudCredentials(emu, accessToken, '[]'), 400, SSO_ERROR, 'InvalidParameter');
    expectError(await cloudCredentials(emu, accessToken, { AccountId: ACCOUNT }), 400, SSO_ERROR, 'InvalidParameter');
    const get = await fetch(`${emu.url}/cloud-credentials`, { headers: { Authorization: `Bearer ${accessToken}` } }).then(answer);
    expectError(get, 405, SSO_ERROR, 'MethodNotAllowed');
    expect(get.headers.get('allow')).toBe('POST');

    expect(emu.revokeCloudSsoToken(accessToken)).toBe(true);
    expect(emu.revokeCloudSsoToken(accessToken)).toBe(false);
    expect(emu.revokeCloudSsoToken('nope')).toBe(false);
    expectError(await cloudCredentials(emu, accessToken), 401, SSO_ERROR, 'InvalidAccessToken', accessToken);
  });
});

describe('OAuth /v1/token and /v1/exchange', () => {
  it('refreshes (rotating the refresh token) and exchanges the access token for working STS keys', async () => {
    const minted = emu.mintOAuthTokens();
    expect(minted.accessToken).toMatch(OPAQUE);
    expect(minted.refreshToken).toMatch(OPAQUE);
    expect(minted.accessTokenExpire * 1000 - Date.now()).toBeGreaterThan(3590_000);

    const r = await refresh(emu, { refresh_token: minted.refreshToken });
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(r.body).toMatchObject({ expires_in: 3600, token_type: 'Bearer' });
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.body.refresh_token).toMatch(OPAQUE);
    expect(r.body.refresh_token).not.toBe(minted.refreshToken);
    expect(r.body.access_token).not.toBe(minted.accessToken);

    for (const token of [minted.accessToken, r.body.access_token as string]) {
      const x = await exchange(emu, token);
      expect(x.status, x.text).toBe(200);
      expect(Object.keys(x.body).sort()).toEqual(['accessKeyId', 'accessKeySecret', 'expiration', 'requestId', 'securityToken']);
      expect(x.body.requestId).toBe(x.headers.get('x-acs-request-id'));
      expect(x.body.expiration).toMatch(ISO_SECONDS);
      const key = { accessKeyId: x.body.accessKeyId as string, accessKeySecret: x.body.accessKeySecret as string, securityToken: x.body.securityToken as string };
      expect(await callerArn(emu, key)).toBe(`acs:ram::${ACCOUNT}:assumed-role/oauth-role/oauth-user`);
    }

    // The used refresh token is refused from now on; its successor works (and rotates in turn).
    const reuse = await refresh(emu, { refresh_token: minted.refreshToken });
    expectError(reuse, 400, TOKEN_ERROR, 'invalid_grant', minted.refreshToken);
    expect(reuse.body.error_description).toBe('The refresh token has already been used.');
    const next = await refresh(emu, { refresh_token: r.body.refresh_token as string });
    expect(next.status, next.text).toBe(200);
    expect(emu.revokeOAuthRefreshToken(r.body.refresh_token as string)).toBe(false); // already used
  });

  it('binds a refresh token to its site: INTL id for INTL tokens, invalid_client across sites', async () => {
    const intl = emu.mintOAuthTokens({ siteType: 'INTL' });
    expectError(await refresh(emu, { refresh_token: intl.refreshToken }), 400, TOKEN_ERROR, 'invalid_client', intl.refreshToken);
    const ok = await refresh(emu, { refresh_token: intl.refreshToken, client_id: INTL_CLIENT });
    expect(ok.status, ok.text).toBe(200);
    const cn = emu.mintOAuthTokens({ siteType: 'CN' });
    expectError(await refresh(emu, { refresh_token: cn.refreshToken, client_id: INTL_CLIENT }), 400, TOKEN_ERROR, 'invalid_client');
    expect(() => emu.mintOAuthTokens({ siteType: 'cn' as 'CN' })).toThrow(TypeError);
  });

  it('refuses /v1/token requests with the OAuth error codes', async () => {
    const { refreshToken } = emu.mintOAuthTokens();
    expectError(await refresh(emu, { refresh_token: refreshToken, client_id: '123' }), 401, TOKEN_ERROR, 'invalid_client', refreshToken);
    expectError(await refresh(emu, { refresh_token: refreshToken, grant_type: 'authorization_code' }), 400, TOKEN_ERROR, 'unsupported_grant_type');
    expectError(await refresh(emu, {}), 400, TOKEN_ERROR, 'invalid_request');
    expectError(await refresh(emu, { refresh_token: refreshToken, client_id: '' }), 400, TOKEN_ERROR, 'invalid_request');
    const unknown = 'B'.repeat(64);
    expectError(await refresh(emu, { refresh_token: unknown }), 400, TOKEN_ERROR, 'invalid_grant', unknown);
    const json = await fetch(`${emu.oauthBaseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CN_CLIENT }),
    }).then(answer);
    expectError(json, 400, TOKEN_ERROR, 'invalid_request', refreshToken);
    const get = await fetch(`${emu.oauthBaseUrl}/v1/token`).then(answer);
    expectError(get, 405, TOKEN_ERROR, 'invalid_request');
    expect(get.headers.get('allow')).toBe('POST');

    const expired = emu.mintOAuthTokens({ refreshTokenSeconds: -1 }).refreshToken;
    const e = await refresh(emu, { refresh_token: expired });
    expectError(e, 400, TOKEN_ERROR, 'invalid_grant', expired);
    expect(e.body.error_description).toBe('The refresh token is expired.');

    expect(emu.revokeOAuthRefreshToken(refreshToken)).toBe(true);
    expect(emu.revokeOAuthRefreshToken(refreshToken)).toBe(false);
    const revoked = await refresh(emu, { refresh_token: refreshToken });
    expectError(revoked, 400, TOKEN_ERROR, 'invalid_grant', refreshToken);
    expect(revoked.body.error_description).toBe('The refresh token has been revoked.');
  });

  it('refuses /v1/exchange: no bearer or unknown token (invalid_token), expired (expired_token), GET', async () => {
    const none = await exchange(emu, undefined);
    expectError(none, 401, EXCHANGE_ERROR, 'invalid_token');
    expect(none.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const unknown = 'C'.repeat(64);
    expectError(await exchange(emu, unknown), 401, EXCHANGE_ERROR, 'invalid_token', unknown);
    const { accessToken } = emu.mintOAuthTokens({ accessTokenSeconds: -1 });
    const e = await exchange(emu, accessToken);
    expectError(e, 401, EXCHANGE_ERROR, 'expired_token', accessToken);
    expect(e.body).toMatchObject({ error_description: 'The access token is expired.', requestId: e.headers.get('x-acs-request-id') });
    expectError(await exchange(emu, accessToken, { method: 'PUT' }), 405, EXCHANGE_ERROR, 'invalid_request');
  });

  it('with rotateRefreshTokens: false, answers the same refresh token, usable again', async () => {
    const fixed = await startEmulator({ ...BASE, oauth: { role: 'oauth-role', rotateRefreshTokens: false } });
    try {
      const { refreshToken } = fixed.mintOAuthTokens();
      for (let i = 0; i < 3; i++) {
        const r = await refresh(fixed, { refresh_token: refreshToken });
        expect(r.status, r.text).toBe(200);
        expect(r.body.refresh_token).toBe(refreshToken);
      }
    } finally {
      await fixed.close();
    }
  });

  it("answers /v1/exchange in PascalCase with exchangeCase: 'pascal'", async () => {
    const pascal = await startEmulator({ ...BASE, oauth: { role: 'oauth-role', exchangeCase: 'pascal' } });
    try {
      const x = await exchange(pascal, pascal.mintOAuthTokens().accessToken);
      expect(x.status, x.text).toBe(200);
      expect(Object.keys(x.body).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'RequestId', 'SecurityToken']);
      expect(x.body.Expiration).toMatch(ISO_SECONDS);
      const key = { accessKeyId: x.body.AccessKeyId as string, accessKeySecret: x.body.AccessKeySecret as string, securityToken: x.body.SecurityToken as string };
      expect(await callerArn(pascal, key)).toContain('assumed-role/oauth-role/oauth-user');
    } finally {
      await pascal.close();
    }
  });
});

describe('expiry on the emulator clock and under timeScale', () => {
  it('tokens expire when the emulator clock passes them', async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
    const timed = await startEmulator({ ...BASE, clock: () => now });
    try {
      const sso = timed.mintCloudSsoToken({ expiresInSeconds: 600 });
      expect(sso.expiresAt).toBe(Date.UTC(2030, 0, 1, 12, 10, 0) / 1000);
      const oauth = timed.mintOAuthTokens();
      expect(oauth.accessTokenExpire).toBe(Date.UTC(2030, 0, 1, 13, 0, 0) / 1000);

      now = sso.expiresAt * 1000 - 1;
      const ok = await cloudCredentials(timed, sso.accessToken);
      expect(ok.status, ok.text).toBe(200);
      expect((ok.body.CloudCredential as Record<string, string>).Expiration).toBe('2030-01-01T13:09:59Z');
      now = sso.expiresAt * 1000;
      expectError(await cloudCredentials(timed, sso.accessToken), 401, SSO_ERROR, 'AccessTokenExpired');

      now = oauth.accessTokenExpire * 1000;
      expectError(await exchange(timed, oauth.accessToken), 401, EXCHANGE_ERROR, 'expired_token');
      const r = await refresh(timed, { refresh_token: oauth.refreshToken });
      expect(r.status, r.text).toBe(200);
      expect(r.body.expires_in).toBe(3600);
      expect((await exchange(timed, r.body.access_token as string)).status).toBe(200);

      now += 30 * 24 * 3600 * 1000; // the rotated refresh token lives 30 days from the refresh
      expectError(await refresh(timed, { refresh_token: r.body.refresh_token as string }), 400, TOKEN_ERROR, 'invalid_grant');
    } finally {
      await timed.close();
    }
  });

  it('divides every lifetime by timeScale: tokens, expires_in and the STS credentials', async () => {
    const fast = await startEmulator({
      ...BASE,
      timeScale: 60,
      cloudSso: { ...BASE.cloudSso!, durationSeconds: 7200 },
      oauth: { role: 'oauth-role', accessTokenSeconds: 1800, durationSeconds: 900 },
    });
    try {
      const start = Date.now();
      const sso = fast.mintCloudSsoToken();
      expect(sso.expiresAt * 1000 - start).toBeGreaterThan(58_000);
      expect(sso.expiresAt * 1000 - start).toBeLessThanOrEqual(61_000);
      const c = (await cloudCredentials(fast, sso.accessToken)).body.CloudCredential as Record<string, string>;
      expect(Date.parse(c.Expiration!) - start).toBeGreaterThan(118_000);
      expect(Date.parse(c.Expiration!) - start).toBeLessThanOrEqual(121_000);

      const oauth = fast.mintOAuthTokens();
      expect(oauth.accessTokenExpire * 1000 - start).toBeLessThanOrEqual(31_000);
      const r = await refresh(fast, { refresh_token: oauth.refreshToken });
      expect(r.body.expires_in).toBe(30);
      const x = await exchange(fast, r.body.access_token as string);
      expect(Date.parse(x.body.expiration as string) - start).toBeLessThanOrEqual(16_000);

      const brief = fast.mintCloudSsoToken({ expiresInSeconds: 60 }); // 1 s of real time
      await new Promise((resolve) => setTimeout(resolve, brief.expiresAt * 1000 - Date.now() + 20));
      expectError(await cloudCredentials(fast, brief.accessToken), 401, SSO_ERROR, 'AccessTokenExpired');
    } finally {
      await fast.close();
    }
  });
});

describe('request log, faults, options', () => {
  it('logs the three actions with no AccessKeyId, anonymous, and their status and code', async () => {
    const log = await startEmulator(BASE);
    try {
      const { accessToken } = log.mintCloudSsoToken();
      await cloudCredentials(log, accessToken);
      await cloudCredentials(log, 'x'.repeat(64));
      const t = log.mintOAuthTokens();
      await refresh(log, { refresh_token: t.refreshToken });
      await exchange(log, t.accessToken);
      const records = log.requests().map(({ method, path, action, version, accessKeyId, signatureVersion, status, code, fault }) => ({
        method, path, action, version, accessKeyId, signatureVersion, status, code, fault,
      }));
      const common = { method: 'POST', version: '', accessKeyId: undefined, signatureVersion: 'anonymous', fault: false };
      expect(records).toEqual([
        { ...common, path: '/cloud-credentials', action: 'CloudSsoCredentials', status: 200, code: undefined },
        { ...common, path: '/cloud-credentials', action: 'CloudSsoCredentials', status: 401, code: 'InvalidAccessToken' },
        { ...common, path: '/v1/token', action: 'OAuthToken', status: 200, code: undefined },
        { ...common, path: '/v1/exchange', action: 'OAuthExchange', status: 200, code: undefined },
      ]);
      expect(log.callCount('CloudSsoCredentials')).toBe(2);
      expect(log.callCount('OAuthToken')).toBe(1);
    } finally {
      await log.close();
    }
  });

  it('answers an injected fault in the endpoint shape', async () => {
    const { refreshToken, accessToken } = emu.mintOAuthTokens();
    emu.inject({ action: 'OAuthToken', status: 503 });
    const t = await refresh(emu, { refresh_token: refreshToken });
    expectError(t, 503, TOKEN_ERROR, 'ServiceUnavailable');
    expect(emu.requests().at(-1)).toMatchObject({ action: 'OAuthToken', status: 503, code: 'ServiceUnavailable', fault: true });
    expect((await refresh(emu, { refresh_token: refreshToken })).status).toBe(200); // the fault did not spend the token

    emu.inject({ action: 'OAuthExchange', status: 500, code: 'server_error', message: 'boom' });
    const x = await exchange(emu, accessToken);
    expectError(x, 500, EXCHANGE_ERROR, 'server_error');
    expect(x.body.error_description).toBe('boom');

    emu.inject({ action: 'CloudSsoCredentials', status: 429 });
    expectError(await cloudCredentials(emu, emu.mintCloudSsoToken().accessToken), 429, SSO_ERROR, 'Throttling');
    emu.inject({ action: 'CloudSsoCredentials', body: '{"RequestId":"r"}' });
    expect((await cloudCredentials(emu, emu.mintCloudSsoToken().accessToken)).body).toEqual({ RequestId: 'r' });
  });

  it('routes only the exact paths', async () => {
    const before = emu.callCount('CloudSsoCredentials') + emu.callCount('OAuthToken');
    await fetch(`${emu.url}/cloud-credentials/x`, { method: 'POST' });
    await fetch(`${emu.url}/v1/tokens`, { method: 'POST' });
    expect(emu.callCount('CloudSsoCredentials') + emu.callCount('OAuthToken')).toBe(before);
    // Judged as POP requests instead (no Version: refused).
    expect(emu.requests().slice(-2).map((r) => [r.path, r.action, r.code])).toEqual([
      ['/cloud-credentials/x', '', 'MissingVersion'],
      ['/v1/tokens', '', 'MissingVersion'],
    ]);
  });

  it('throws a TypeError for roles that do not exist, bad options, and mints without the option', async () => {
    const assignment = { accountId: ACCOUNT, accessConfigurationId: 'ac-1', role: 'ghost' };
    await expect(startEmulator({ cloudSso: { assignments: [assignment] } })).rejects.toThrow(/cloudSso\.assignments\[0\]\.role names no configured role/);
    await expect(startEmulator({ oauth: { role: 'ghost' } })).rejects.toThrow(TypeError);
    await expect(startEmulator({ ...BASE, oauth: { role: 'oauth-role', accessTokenSeconds: 0 } })).rejects.toThrow(/accessTokenSeconds/);
    await expect(startEmulator({ ...BASE, cloudSso: { assignments: [], durationSeconds: 1.5 } })).rejects.toThrow(/durationSeconds/);
    const ecsRole = await startEmulator({ ecs: { roleName: 'instance' }, oauth: { role: 'instance' } });
    await ecsRole.close();
    const bare = await startEmulator();
    try {
      expect(() => bare.mintCloudSsoToken()).toThrow(/cloudSso/);
      expect(() => bare.mintOAuthTokens()).toThrow(/oauth/);
      expectError(await exchange(bare, 'D'.repeat(64)), 401, EXCHANGE_ERROR, 'invalid_token');
    } finally {
      await bare.close();
    }
  });
});
