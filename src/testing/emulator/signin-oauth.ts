/**
 * The emulator's OAuth server for the aliyun CLI's OAuth mode: `POST /v1/token` (the
 * `refresh_token` grant, with rotating refresh tokens by default) and `POST /v1/exchange` (an
 * access token for STS credentials of the configured role). The wire format and the choices
 * made where the real behaviour is unknown are documented on `EmulatorOAuthOptions`
 * (signin-types.ts).
 *
 * @internal
 */
import { isoSeconds } from './account.js';
import type { ProductAnswer, ProductContext, ProductRequest, ProductRoute, ProductService } from './product.js';
import { fail, newRequestId } from './respond.js';
import { OAUTH_CLIENT_IDS, bearerToken, checkSeconds, expiryOf, jsonAnswer, newOpaqueToken, type OAuthSite } from './signin.js';
import type { MintOAuthTokensOptions, MintedOAuthTokens } from './signin-types.js';

/** Path of the token endpoint. */
export const OAUTH_TOKEN_PATH = '/v1/token';
/** Path of the exchange endpoint. */
export const OAUTH_EXCHANGE_PATH = '/v1/exchange';
/** Actions of the two endpoints in the log and for faults. */
export const OAUTH_TOKEN_ACTION = 'OAuthToken';
export const OAUTH_EXCHANGE_ACTION = 'OAuthExchange';
/** Session name of the STS credentials `/v1/exchange` issues. */
const SESSION_NAME = 'oauth-user';

type AccessToken = { expiresAt: number; site: OAuthSite };
/** A refresh token: `used` once rotated away, `revoked` by the test. */
type RefreshToken = { expiresAt: number; site: OAuthSite; state: 'active' | 'used' | 'revoked' };

/** The OAuth server: its route, and the test's handles on its tokens. */
export type OAuthService = ProductService & {
  /** See `Emulator.mintOAuthTokens`. */
  mint(options?: MintOAuthTokensOptions): MintedOAuthTokens;
  /** See `Emulator.revokeOAuthRefreshToken`. */
  revoke(refreshToken: string): boolean;
};

const INVALID_GRANT: Record<Exclude<RefreshToken['state'], 'active'> | 'unknown' | 'expired', string> = {
  unknown: 'The refresh token is invalid.',
  used: 'The refresh token has already been used.',
  revoked: 'The refresh token has been revoked.',
  expired: 'The refresh token is expired.',
};

function siteOfClient(clientId: string): OAuthSite | undefined {
  return (Object.keys(OAUTH_CLIENT_IDS) as OAuthSite[]).find((site) => OAUTH_CLIENT_IDS[site] === clientId);
}

/** Creates the OAuth server of `resolved.oauth` (it answers, and refuses every token, without one). */
export function createOAuthService({ account, resolved }: ProductContext): OAuthService {
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();

  const fresh = (taken: ReadonlyMap<string, unknown>): string => {
    let token: string;
    do token = newOpaqueToken();
    while (taken.has(token));
    return token;
  };
  const newAccessToken = (site: OAuthSite, seconds: number, now: number): [string, AccessToken] => {
    const token = fresh(accessTokens);
    const state: AccessToken = { expiresAt: expiryOf(now, seconds, resolved.timeScale), site };
    accessTokens.set(token, state);
    return [token, state];
  };
  const newRefreshToken = (site: OAuthSite, seconds: number, now: number): string => {
    const token = fresh(refreshTokens);
    refreshTokens.set(token, { expiresAt: expiryOf(now, seconds, resolved.timeScale), site, state: 'active' });
    return token;
  };

  /** `grant_type=refresh_token`: checks in the order EmulatorOAuthOptions lists them. */
  function refresh(request: ProductRequest, requestId: string, now: number): ProductAnswer {
    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      fail(400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded.');
    }
    const params = new URLSearchParams(request.body.toString('utf8'));
    const param = (name: string): string => {
      const value = params.get(name);
      if (value === null || value === '') fail(400, 'invalid_request', `The parameter ${name} is missing.`);
      return value;
    };
    const grantType = param('grant_type');
    if (grantType !== 'refresh_token') {
      fail(400, 'unsupported_grant_type', `The grant type ${JSON.stringify(grantType.slice(0, 64))} is not supported (the emulator serves refresh_token).`);
    }
    const site = siteOfClient(param('client_id'));
    if (site === undefined) fail(401, 'invalid_client', 'The client_id is not a known OAuth application.');
    const presented = param('refresh_token');
    const record = refreshTokens.get(presented);
    if (record === undefined) fail(400, 'invalid_grant', INVALID_GRANT.unknown);
    if (record.site !== site) fail(400, 'invalid_client', 'The refresh token was issued to another client_id.');
    if (record.state !== 'active') fail(400, 'invalid_grant', INVALID_GRANT[record.state]);
    if (now >= record.expiresAt) fail(400, 'invalid_grant', INVALID_GRANT.expired);
    const options = resolved.oauth!;
    const [accessToken, access] = newAccessToken(site, options.accessTokenSeconds, now);
    let refreshToken = presented;
    if (options.rotateRefreshTokens) {
      record.state = 'used';
      refreshToken = newRefreshToken(site, options.refreshTokenSeconds, now);
    }
    const body = {
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_in: access.expiresAt / 1000 - Math.floor(now / 1000),
      token_type: 'Bearer',
    };
    return jsonAnswer(200, body, undefined, requestId, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  /** The access token for STS credentials of `oauth.role`. */
  function exchange(request: ProductRequest, requestId: string, now: number): ProductAnswer {
    const token = bearerToken(request.headers);
    if (token === undefined) fail(401, 'invalid_token', 'The request carries no "Authorization: Bearer <access token>" header.');
    const record = accessTokens.get(token);
    if (record === undefined) fail(401, 'invalid_token', 'The access token is invalid.');
    if (now >= record.expiresAt) fail(401, 'expired_token', 'The access token is expired.');
    const options = resolved.oauth!;
    const role = account.roles.get(options.role.toLowerCase());
    if (role === undefined) fail(403, 'access_denied', 'The role of the OAuth application no longer exists.');
    const session = account.issue(role, SESSION_NAME, options.durationSeconds, {}, now);
    const fields = [
      ['requestId', requestId],
      ['accessKeyId', session.accessKeyId],
      ['accessKeySecret', session.accessKeySecret],
      ['securityToken', session.securityToken],
      ['expiration', isoSeconds(session.expiresAt)],
    ] as const;
    const pascal = options.exchangeCase === 'pascal';
    const body = Object.fromEntries(fields.map(([key, value]) => [pascal ? key[0]!.toUpperCase() + key.slice(1) : key, value]));
    return jsonAnswer(200, body, undefined, requestId);
  }

  function route(request: ProductRequest): ProductRoute | undefined {
    const isToken = request.path === OAUTH_TOKEN_PATH;
    if (!isToken && request.path !== OAUTH_EXCHANGE_PATH) return undefined;
    const requestId = newRequestId();
    const error = (status: number, code: string, message: string): ProductAnswer => {
      const body: Record<string, unknown> = { error: code, error_description: message };
      const headers: Record<string, string> = {};
      if (!isToken) {
        body.requestId = requestId;
        if (status === 401) headers['WWW-Authenticate'] = `Bearer error="${code.replace(/["\\]/g, '')}"`;
      }
      if (status === 405) headers.Allow = 'POST';
      return jsonAnswer(status, body, code, requestId, headers);
    };
    return {
      action: isToken ? OAUTH_TOKEN_ACTION : OAUTH_EXCHANGE_ACTION,
      accessKeyId: undefined,
      signatureVersion: 'anonymous',
      answer(): ProductAnswer {
        const now = resolved.clock();
        if (request.method !== 'POST') fail(405, 'invalid_request', `${request.method} is not allowed on ${request.path}; use POST.`);
        return isToken ? refresh(request, requestId, now) : exchange(request, requestId, now);
      },
      error,
    };
  }

  function mint(options: MintOAuthTokensOptions = {}): MintedOAuthTokens {
    const configured = resolved.oauth;
    if (configured === undefined) throw new TypeError('mintOAuthTokens: the emulator was started without the `oauth` option');
    const site = options.siteType ?? 'CN';
    if (site !== 'CN' && site !== 'INTL') throw new TypeError(`mintOAuthTokens: siteType must be 'CN' or 'INTL' (got ${JSON.stringify(site)})`);
    checkSeconds('mintOAuthTokens', 'accessTokenSeconds', options.accessTokenSeconds);
    checkSeconds('mintOAuthTokens', 'refreshTokenSeconds', options.refreshTokenSeconds);
    const now = resolved.clock();
    const [accessToken, access] = newAccessToken(site, options.accessTokenSeconds ?? configured.accessTokenSeconds, now);
    const refreshToken = newRefreshToken(site, options.refreshTokenSeconds ?? configured.refreshTokenSeconds, now);
    return { accessToken, refreshToken, accessTokenExpire: access.expiresAt / 1000 };
  }

  function revoke(refreshToken: string): boolean {
    const record = refreshTokens.get(refreshToken);
    if (record === undefined || record.state !== 'active') return false;
    record.state = 'revoked';
    return true;
  }

  return { route, mint, revoke };
}
