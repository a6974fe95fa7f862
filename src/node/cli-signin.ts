/**
 * The aliyun CLI's sign-in modes, CloudSSO and OAuth: profiles with no long-lived key on disk,
 * only tokens from a browser sign-in and the STS triple the CLI cached.
 *
 * At each refresh the profile is read again from config.json (the CLI, or another process,
 * may have signed in or refreshed meanwhile):
 * - the cached triple (`access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration`) is
 *   used while it has a minute left, and is not the one this provider already holds: a new
 *   process makes no request at all;
 * - CloudSSO: the access token (`access_token`, `cloud_sso_access_token_expire`) is exchanged
 *   at the portal. It cannot be refreshed: expired or refused, the error says which profile and
 *   what to run, at once and without a request loop. Nothing is written back (as the CLI).
 * - OAuth: under an exclusive `config.json.lock`, the access token is refreshed with the
 *   refresh token when it has 20 minutes or less left (refresh tokens rotate), exchanged for
 *   STS credentials, and tokens and triple are written back into the profile, every other byte
 *   of the file kept. Concurrent alicred processes take turns and reuse each other's work; a
 *   failed write (read-only mount) is a warning and the tokens stay in memory.
 *
 * @module
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { CredentialsProviderError, isCredentialsError } from '../errors.js';
import { envString, trimmedString } from '../internal/env.js';
import { logSafely } from '../internal/log.js';
import { engineOptions } from '../providers/options.js';
import { cloudSsoCredentials, exchangeOAuthToken, loginRequired as signInRefused, OAUTH_SITES, refreshOAuthTokens, type OAuthTokens, type SignInRequest } from '../providers/sign-in.js';
import { refreshing, type RefreshingProvider } from '../refresh.js';
import type { ProviderCallOptions } from '../types.js';
import { parseCliFile, type CliProfile } from './cli-file.js';
import { ConfigLockTimeoutError, editProfileFields, replaceFileAtomically, withConfigLock } from './cli-write-back.js';
import type { NodeSourceOptions } from './options.js';
import { envOf, loadProfileFile } from './profile-file.js';
import { readSmallTextFile } from './read-file.js';

const PROVIDER = 'cli-profile';

/** Env variable overriding the OAuth server of both sites (the emulator, a proxy). */
export const ENV_OAUTH_BASE_URL = 'ALICRED_OAUTH_BASE_URL';

/** A cached triple is used only with at least this much left (less would be refreshed at once). */
const MIN_CACHED_VALIDITY_MS = 60_000;
/** OAuth access tokens are refreshed this close to their expiry (the official libraries' 20 minutes). */
const OAUTH_REFRESH_LEAD_S = 1200;

/** Options the sign-in profiles read on top of every Node source's. */
export type SignInOptions = NodeSourceOptions & {
  /** The OAuth server, for both sites. Default: env ALICRED_OAUTH_BASE_URL, else the site's own. */
  oauthBaseUrl?: string;
};

/** A CloudSSO or OAuth profile, as resolved from config.json (the volatile tokens are read at each refresh). */
export type SignInSpec =
  | { kind: 'cloud-sso'; profile: string; signInUrl: string; accountId: string; accessConfig: string }
  | { kind: 'oauth'; profile: string; siteType?: string };

/** Where the profile lives and who reads it. */
export type SignInContext = { file: string; options: SignInOptions };

const str = (p: CliProfile, key: string): string | undefined => trimmedString(p[key]);
const epochSeconds = (p: CliProfile, key: string): number | undefined => {
  const v = p[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v.trim()) ? Number(v) : undefined;
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
};

/** The STS triple the CLI (or a process like this one) cached in the profile, if complete. */
function cachedTriple(p: CliProfile, source: string): Credentials | undefined {
  const accessKeyId = str(p, 'access_key_id');
  const accessKeySecret = str(p, 'access_key_secret');
  const securityToken = str(p, 'sts_token');
  const expires = epochSeconds(p, 'sts_expiration');
  if (accessKeyId === undefined || accessKeySecret === undefined || securityToken === undefined || expires === undefined) return undefined;
  return createCredentials({ accessKeyId, accessKeySecret, securityToken, expiration: new Date(expires * 1000), source });
}

/**
 * A provider for a CloudSSO or OAuth profile of `ctx.file`, refreshed by the engine like any
 * expiring source.
 */
export function fromCliSignIn(spec: SignInSpec, ctx: SignInContext): RefreshingProvider {
  const mode = spec.kind === 'cloud-sso' ? 'CloudSSO' : 'OAuth';
  const label = `fromCliProfile: profile '${spec.profile}' (${mode})`;
  const site = (spec.kind === 'oauth' ? (spec.siteType ?? 'CN') : 'CN').toUpperCase() === 'INTL' ? 'INTL' : 'CN';
  const relogin =
    spec.kind === 'cloud-sso'
      ? `aliyun configure --profile ${spec.profile} --mode CloudSSO`
      : `aliyun configure --profile ${spec.profile} --mode OAuth --oauth-site-type ${site}`;
  const { options, file } = ctx;
  const clock = options.refresh?.clock ?? (() => Date.now());
  /** The triple this provider last handed out from the file: not handed out again as "new". */
  let lastCachedKey: string | undefined;
  /** The token the service refused last: while the file still holds it, fail without a request. */
  let refusedToken: string | undefined;
  /** OAuth tokens this process obtained but could not write back (read-only file). */
  let unsaved: (OAuthTokens & { spent: string }) | undefined;
  let warnedUnsaved = false;

  const request = (signal: AbortSignal | undefined): SignInRequest => ({
    provider: PROVIDER,
    label,
    relogin,
    signal,
    clock,
    logger: options.logger,
  });
  const loginRequired = (why: string) => signInRefused({ provider: PROVIDER, label, relogin }, why);

  async function readProfile(): Promise<CliProfile> {
    const loaded = await loadProfileFile(file, PROVIDER, (text) => parseCliFile(text, file, PROVIDER), { provider: PROVIDER, logger: options.logger });
    const profile = loaded?.value.byName.get(spec.profile)?.profile;
    if (profile === undefined) {
      throw new CredentialsProviderError(`${label}: the profile is no longer in ${file}`, { provider: PROVIDER, code: 'NoCredentials' });
    }
    return profile;
  }

  /** The file's cached triple when it is worth handing out now. */
  function usableCached(p: CliProfile, forceRefresh: boolean): Credentials | undefined {
    const cached = cachedTriple(p, spec.kind === 'cloud-sso' ? 'cloud-sso' : 'oauth');
    if (cached === undefined || forceRefresh || cached.accessKeyId === lastCachedKey) return undefined;
    if (cached.expiration!.getTime() - clock() < MIN_CACHED_VALIDITY_MS) return undefined;
    lastCachedKey = cached.accessKeyId;
    return cached;
  }

  async function cloudSso(callOptions: ProviderCallOptions): Promise<Credentials> {
    if (spec.kind !== 'cloud-sso') throw new Error('unreachable');
    const p = await readProfile();
    const cached = usableCached(p, callOptions.forceRefresh === true);
    if (cached) return cached;
    const accessToken = str(p, 'access_token');
    const expire = epochSeconds(p, 'cloud_sso_access_token_expire');
    if (accessToken === undefined) throw loginRequired('the profile has no access_token');
    if (expire === undefined || expire * 1000 <= clock()) {
      throw loginRequired(`its CloudSSO access token ${expire === undefined ? 'has no expiry (cloud_sso_access_token_expire)' : `expired at ${new Date(expire * 1000).toISOString()}`}`);
    }
    if (accessToken === refusedToken) throw loginRequired('the CloudSSO portal refused its access token');
    try {
      return await cloudSsoCredentials({
        ...request(callOptions.signal),
        signInUrl: spec.signInUrl,
        accessToken,
        accountId: spec.accountId,
        accessConfigurationId: spec.accessConfig,
      });
    } catch (error) {
      if (isCredentialsError(error) && error.code === 'LoginRequired') refusedToken = accessToken;
      throw error;
    }
  }

  const oauthBase = (): string => options.oauthBaseUrl ?? envString(envOf(options), ENV_OAUTH_BASE_URL) ?? OAUTH_SITES[site].baseUrl;

  /** Writes `fields` into the profile; a failure is a warning (the caller keeps what it has in memory). */
  async function writeBack(fields: Record<string, string | number>): Promise<boolean> {
    try {
      const text = await readSmallTextFile(file);
      await replaceFileAtomically(file, editProfileFields(text, spec.profile, fields));
      return true;
    } catch (error) {
      if (!warnedUnsaved) {
        warnedUnsaved = true;
        const code = (error as { code?: unknown }).code;
        logSafely(options.logger, 'warn', `alicred: ${label}: could not write refreshed tokens back to ${file} (${typeof code === 'string' ? code : 'write failed'}); they are kept in memory for this process`);
      }
      return false;
    }
  }

  async function oauthLocked(callOptions: ProviderCallOptions): Promise<Credentials> {
    const p = await readProfile();
    // Another process may have refreshed while we waited for the lock: its triple is ours too.
    const cached = usableCached(p, callOptions.forceRefresh === true);
    if (cached) return cached;
    let accessToken = str(p, 'oauth_access_token');
    let refreshToken = str(p, 'oauth_refresh_token');
    let expire = epochSeconds(p, 'oauth_access_token_expire');
    if (unsaved !== undefined && refreshToken === unsaved.spent) {
      // The file still holds a refresh token this process spent (its write-back failed).
      ({ accessToken, refreshToken, expiresAt: expire } = unsaved);
    }
    const now = Math.floor(clock() / 1000);
    if (refreshToken !== undefined && (accessToken === undefined || expire === undefined || expire - now <= OAUTH_REFRESH_LEAD_S)) {
      if (refreshToken === refusedToken) throw loginRequired('the OAuth server refused its refresh token');
      let tokens: OAuthTokens;
      try {
        tokens = await refreshOAuthTokens({ ...request(callOptions.signal), baseUrl: oauthBase(), clientId: OAUTH_SITES[site].clientId, refreshToken });
      } catch (error) {
        if (isCredentialsError(error) && error.code === 'LoginRequired') refusedToken = refreshToken;
        throw error;
      }
      // The old refresh token is spent: save the new ones before anything else can fail.
      const saved = await writeBack({
        oauth_access_token: tokens.accessToken,
        oauth_refresh_token: tokens.refreshToken,
        oauth_access_token_expire: tokens.expiresAt,
      });
      unsaved = saved ? undefined : { ...tokens, spent: refreshToken };
      ({ accessToken, expiresAt: expire } = tokens);
    }
    if (accessToken === undefined) throw loginRequired('the profile has neither an access token nor a refresh token');
    if (refreshToken === undefined && expire !== undefined && expire <= now) {
      throw loginRequired(`its OAuth access token expired at ${new Date(expire * 1000).toISOString()} and there is no refresh token`);
    }
    if (accessToken === refusedToken) throw loginRequired('the OAuth server refused its access token');
    let credentials: Credentials;
    try {
      credentials = await exchangeOAuthToken({ ...request(callOptions.signal), baseUrl: oauthBase(), accessToken });
    } catch (error) {
      if (isCredentialsError(error) && error.code === 'LoginRequired') refusedToken = accessToken;
      throw error;
    }
    await writeBack({
      access_key_id: credentials.accessKeyId,
      access_key_secret: credentials.accessKeySecret,
      sts_token: credentials.securityToken!,
      sts_expiration: Math.floor(credentials.expiration!.getTime() / 1000),
    });
    lastCachedKey = credentials.accessKeyId;
    return credentials;
  }

  async function oauth(callOptions: ProviderCallOptions): Promise<Credentials> {
    // Without a lock nothing is shared; a read-only folder cannot take one (nor be written).
    const first = usableCached(await readProfile(), callOptions.forceRefresh === true);
    if (first) return first;
    try {
      return await withConfigLock(file, () => oauthLocked(callOptions), { signal: callOptions.signal });
    } catch (error) {
      if (error instanceof ConfigLockTimeoutError) {
        // Another process holds the lock for long: try again later (it may be refreshing for us).
        throw new CredentialsProviderError(`${label}: ${error.message}`, { provider: PROVIDER, code: 'Timeout', retryable: true });
      }
      const code = (error as { code?: unknown }).code;
      if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return oauthLocked(callOptions);
      throw error;
    }
  }

  return refreshing(
    async (callOptions: ProviderCallOptions = {}) => (spec.kind === 'cloud-sso' ? cloudSso(callOptions) : oauth(callOptions)),
    engineOptions(options, { name: `cli-profile ${spec.profile} (${mode})` }),
  );
}
