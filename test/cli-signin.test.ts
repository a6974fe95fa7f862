/**
 * CloudSSO and OAuth profiles of ~/.aliyun/config.json, shaped exactly as the aliyun CLI
 * writes them (tab indentation, its field set), against the emulator's portal and OAuth
 * server: first resolution, cached-triple reuse with zero requests, refresh across expiry,
 * an expired SSO token (a clear error, no request loop), OAuth write-back keeping every
 * other byte, concurrent processes sharing one rotating refresh token with nothing lost, and
 * the default chain picking the profiles up.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsChainError, CredentialsProviderError, createStsClient, isCredentialsError, type Credentials } from '../src/index.js';
import { defaultProvider, fromCliProfile } from '../src/node/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/testing/index.js';

const root = resolve(import.meta.dirname, '..');
const ACCOUNT = '1234567890123456';
const ACCESS_CONFIG = 'ac-0123456789abcdef';

const account: EmulatorOptions = {
  roles: [
    { name: 'sso-developer', policies: [{ Statement: [{ Effect: 'Allow', Action: '*' }] }] },
    { name: 'oauth-user', policies: [{ Statement: [{ Effect: 'Allow', Action: '*' }] }] },
    { name: 'deployer', trustedRoles: ['oauth-user'], policies: [{ Statement: [{ Effect: 'Allow', Action: '*' }] }] },
  ],
  cloudSso: { assignments: [{ accountId: ACCOUNT, accessConfigurationId: ACCESS_CONFIG, role: 'sso-developer' }] },
  oauth: { role: 'oauth-user' },
};

let emu: Emulator; // real time
let fast: Emulator; // 900 s STS -> 3 s, 3600 s tokens -> 12 s
let home: string;

beforeAll(async () => {
  emu = await startEmulator(account);
  fast = await startEmulator({ ...account, timeScale: 300, cloudSso: { ...account.cloudSso!, durationSeconds: 900 }, oauth: { ...account.oauth!, durationSeconds: 900 } });
});
afterAll(async () => {
  await emu.close();
  await fast.close();
});
afterEach(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A profile in the CLI's field order (omitempty: undefined fields are left out). */
type Profile = Record<string, string | number | undefined>;
function cliConfig(profiles: Profile[], current = profiles[0]!.name as string): string {
  const clean = profiles.map((p) => Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)));
  // json.MarshalIndent(…, "", "\t"), as the CLI writes it.
  return JSON.stringify({ current, profiles: clean, meta_path: '' }, null, '\t');
}

function writeConfig(text: string): string {
  home = mkdtempSync(join(tmpdir(), 'alicred-signin-'));
  mkdirSync(join(home, '.aliyun'), { recursive: true });
  const path = join(home, '.aliyun', 'config.json');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const ssoProfile = (e: Emulator, token: { accessToken: string; expiresAt: number }, extra: Profile = {}): Profile => ({
  name: 'sso',
  mode: 'CloudSSO',
  region_id: 'cn-hangzhou',
  output_format: 'json',
  language: 'en',
  cloud_sso_sign_in_url: e.cloudSsoSignInUrl,
  access_token: token.accessToken,
  cloud_sso_access_token_expire: token.expiresAt,
  cloud_sso_access_config: ACCESS_CONFIG,
  cloud_sso_account_id: ACCOUNT,
  ...extra,
});

const oauthProfile = (tokens: { accessToken: string; refreshToken: string; accessTokenExpire: number }, extra: Profile = {}): Profile => ({
  name: 'oauth',
  mode: 'OAuth',
  region_id: 'cn-hangzhou',
  output_format: 'json',
  language: 'en',
  oauth_access_token: tokens.accessToken,
  oauth_refresh_token: tokens.refreshToken,
  oauth_access_token_expire: tokens.accessTokenExpire,
  oauth_site_type: 'CN',
  ...extra,
});

const options = (e: Emulator, extra: Parameters<typeof fromCliProfile>[0] = {}) => ({
  homedir: home,
  env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' },
  oauthBaseUrl: e.oauthBaseUrl,
  ...extra,
});

const calls = (e: Emulator) => ({
  sso: e.callCount('CloudSsoCredentials'),
  token: e.callCount('OAuthToken'),
  exchange: e.callCount('OAuthExchange'),
});

async function whoAmI(e: Emulator, credentials: Credentials): Promise<string> {
  return (await createStsClient({ endpoint: e.stsEndpoint }).getCallerIdentity(credentials)).arn;
}

async function errorOf(promise: Promise<unknown>): Promise<CredentialsProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCredentialsError(error), String(error)).toBe(true);
  return error as CredentialsProviderError;
}

describe('CloudSSO profiles', () => {
  it('first resolution: the access token is exchanged at the portal; the keys work', async () => {
    writeConfig(cliConfig([ssoProfile(emu, emu.mintCloudSsoToken())]));
    const before = calls(emu);
    const provider = fromCliProfile(options(emu));
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(await whoAmI(emu, creds)).toMatch(/assumed-role\/sso-developer\//);
    expect(calls(emu).sso).toBe(before.sso + 1);
    provider.close();
  });

  it('reuses the triple the CLI cached in the profile: a new process makes no request', async () => {
    const token = emu.mintCloudSsoToken();
    writeConfig(cliConfig([ssoProfile(emu, token)]));
    const first = fromCliProfile(options(emu));
    const issued = await first();
    first.close();
    // What the CLI stores after its own exchange: the triple, sts_expiration = Expiration - 5.
    const text = cliConfig([
      ssoProfile(emu, token, {
        access_key_id: issued.accessKeyId,
        access_key_secret: issued.accessKeySecret,
        sts_token: issued.securityToken,
        sts_expiration: Math.floor(issued.expiration!.getTime() / 1000) - 5,
      }),
    ]);
    writeConfig(text);
    const before = calls(emu);
    const provider = fromCliProfile(options(emu));
    const creds = await provider();
    expect(creds.accessKeyId).toBe(issued.accessKeyId);
    expect(calls(emu)).toEqual(before);
    // CloudSSO never writes back.
    expect(readFileSync(join(home, '.aliyun', 'config.json'), 'utf8')).toBe(text);
    provider.close();
  });

  it('an expired SSO token is usable only while the cached triple is: then a clear error, and no request loop', async () => {
    const token = fast.mintCloudSsoToken({ expiresInSeconds: 1200 }); // 4 s here
    writeConfig(cliConfig([ssoProfile(fast, token)]));
    const provider = fromCliProfile(options(fast));
    const creds = await provider(); // 3 s credentials
    await new Promise((r) => setTimeout(r, 4_300)); // both the token and the credentials are gone
    const before = calls(fast);
    for (let i = 0; i < 5; i++) {
      const error = await errorOf(provider());
      expect(error.code).toBe('LoginRequired');
      expect(error.retryable).toBe(false);
      expect(error.tryNext).toBe(false);
      expect(error.message).toMatch(/profile 'sso' \(CloudSSO\).*access token expired at .*; sign in again: aliyun configure --profile sso --mode CloudSSO/);
      expect(error.message).not.toContain(token.accessToken);
    }
    expect(calls(fast)).toEqual(before);
    expect(creds.accessKeyId).toMatch(/^STS\./);
    provider.close();
  }, 15_000);

  it('refreshes across expiry while the SSO token lives', async () => {
    writeConfig(cliConfig([ssoProfile(fast, fast.mintCloudSsoToken())]));
    const provider = fromCliProfile(options(fast));
    const keys = new Set<string>();
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      const creds = await provider();
      await whoAmI(fast, creds); // refused if expired
      keys.add(creds.accessKeyId);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(keys.size).toBeGreaterThanOrEqual(2);
    provider.close();
  }, 15_000);

  it('a token the portal refuses (revoked) is LoginRequired, and asking again makes no request', async () => {
    const token = emu.mintCloudSsoToken();
    emu.revokeCloudSsoToken(token.accessToken);
    writeConfig(cliConfig([ssoProfile(emu, token)]));
    const provider = fromCliProfile(options(emu));
    const before = calls(emu);
    expect((await errorOf(provider())).code).toBe('LoginRequired');
    expect((await errorOf(provider())).code).toBe('LoginRequired');
    expect(calls(emu).sso).toBe(before.sso + 1);
    provider.close();
  });

  it('an access configuration not assigned is LoginRequired; a 5xx is retried', async () => {
    writeConfig(cliConfig([ssoProfile(emu, emu.mintCloudSsoToken(), { cloud_sso_access_config: 'ac-not-assigned' })]));
    const denied = fromCliProfile(options(emu));
    expect((await errorOf(denied())).message).toMatch(/HTTP 403/);
    denied.close();

    writeConfig(cliConfig([ssoProfile(emu, emu.mintCloudSsoToken())]));
    emu.inject({ action: 'CloudSsoCredentials', status: 503 });
    const retried = fromCliProfile(options(emu, { refresh: { retry: { minDelayMs: 10, maxDelayMs: 20 } } }));
    expect((await retried()).accessKeyId).toMatch(/^STS\./);
    retried.close();
  });

  it('refuses a sign-in URL over plain http to a host that is not loopback (it would carry the token)', async () => {
    writeConfig(cliConfig([ssoProfile(emu, emu.mintCloudSsoToken(), { cloud_sso_sign_in_url: 'http://signin.example.com/device/login' })]));
    const provider = fromCliProfile(options(emu));
    const error = await errorOf(provider());
    expect(error.message).toMatch(/must be an https:\/\/ URL/);
    provider.close();
  });
});

describe('OAuth profiles', () => {
  it('first resolution: exchange, then the triple written back; every other byte of the file kept', async () => {
    const tokens = emu.mintOAuthTokens();
    const other: Profile = { name: 'default', mode: 'AK', access_key_id: 'LTAI5tOtherProfile01', access_key_secret: 'other-secret', region_id: 'cn-shanghai' };
    const path = writeConfig(cliConfig([oauthProfile(tokens, { site: 'cn' }), other], 'oauth'));
    const before = calls(emu);
    const provider = fromCliProfile(options(emu));
    const creds = await provider();
    expect(await whoAmI(emu, creds)).toMatch(/assumed-role\/oauth-user\//);
    expect(calls(emu).token).toBe(before.token); // the access token was fresh: no refresh
    expect(calls(emu).exchange).toBe(before.exchange + 1);
    const after = readFileSync(path, 'utf8');
    const doc = JSON.parse(after) as { profiles: Record<string, unknown>[]; meta_path: string };
    expect(doc.profiles[0]).toMatchObject({
      access_key_id: creds.accessKeyId,
      sts_token: creds.securityToken,
      sts_expiration: Math.floor(creds.expiration!.getTime() / 1000),
      site: 'cn',
    });
    expect(doc.profiles[1]).toEqual(other);
    expect(after).toContain('\n\t"profiles": [\n\t\t{\n\t\t\t"name": "oauth",');
    expect(after.endsWith('\n}') || after.endsWith('}')).toBe(true);
    // A new process then makes no request at all.
    provider.close();
    const mid = calls(emu);
    const again = fromCliProfile(options(emu));
    expect((await again()).accessKeyId).toBe(creds.accessKeyId);
    expect(calls(emu)).toEqual(mid);
    again.close();
  });

  it('refreshes an access token close to expiry (rotating refresh token) and writes both back', async () => {
    const tokens = emu.mintOAuthTokens({ accessTokenSeconds: 600 }); // inside the 20-minute lead
    const path = writeConfig(cliConfig([oauthProfile(tokens)]));
    const before = calls(emu);
    const provider = fromCliProfile(options(emu));
    const creds = await provider();
    expect(calls(emu).token).toBe(before.token + 1);
    const saved = (JSON.parse(readFileSync(path, 'utf8')) as { profiles: Record<string, string | number>[] }).profiles[0]!;
    expect(saved.oauth_refresh_token).not.toBe(tokens.refreshToken);
    expect(saved.oauth_access_token).not.toBe(tokens.accessToken);
    expect(saved.access_key_id).toBe(creds.accessKeyId);
    // The stored refresh token is the live one: the old one was spent.
    const reuse = await fetch(`${emu.oauthBaseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: '4038181954557748008' }),
    });
    expect(reuse.status).toBe(400);
    provider.close();
  });

  it('keeps working across several expiries: tokens refreshed, rotated and written back each time', async () => {
    const tokens = fast.mintOAuthTokens(); // 12 s here: always inside the 20-minute lead
    const path = writeConfig(cliConfig([oauthProfile(tokens)]));
    const provider = fromCliProfile(options(fast));
    const keys = new Set<string>();
    const until = Date.now() + 6_000; // 3 s STS credentials: at least two refreshes
    while (Date.now() < until) {
      const creds = await provider();
      await whoAmI(fast, creds); // refused if expired
      keys.add(creds.accessKeyId);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(keys.size).toBeGreaterThanOrEqual(3);
    const saved = (JSON.parse(readFileSync(path, 'utf8')) as { profiles: Record<string, string>[] }).profiles[0]!;
    // The file holds a triple the emulator issued (a background refresh may have written a newer
    // one than the loop's last call saw).
    expect(fast.issued().some((i) => i.accessKeyId === saved.access_key_id)).toBe(true);
    // Whatever rotated last is what the file holds: it still refreshes.
    const next = await fetch(`${fast.oauthBaseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved.oauth_refresh_token!, client_id: '4038181954557748008' }),
    });
    expect(next.status).toBe(200);
    provider.close();
  }, 15_000);

  it('a revoked refresh token is LoginRequired naming the profile and the command', async () => {
    const tokens = emu.mintOAuthTokens({ accessTokenSeconds: 60 });
    emu.revokeOAuthRefreshToken(tokens.refreshToken);
    writeConfig(cliConfig([oauthProfile(tokens, { oauth_site_type: 'CN' })]));
    const provider = fromCliProfile(options(emu));
    const error = await errorOf(provider());
    expect(error.code).toBe('LoginRequired');
    expect(error.message).toMatch(/profile 'oauth' \(OAuth\).*invalid_grant.*aliyun configure --profile oauth --mode OAuth --oauth-site-type CN/);
    expect(error.message).not.toContain(tokens.refreshToken);
    const before = calls(emu);
    expect((await errorOf(provider())).code).toBe('LoginRequired');
    expect(calls(emu)).toEqual(before); // no request while the file holds the refused token
    provider.close();
  });

  it('INTL site: its own client id; PascalCase exchange answers are read too', async () => {
    const pascal = await startEmulator({ ...account, oauth: { ...account.oauth!, exchangeCase: 'pascal' } });
    try {
      const tokens = pascal.mintOAuthTokens({ siteType: 'INTL', accessTokenSeconds: 60 });
      writeConfig(cliConfig([oauthProfile(tokens, { oauth_site_type: 'INTL' })]));
      const provider = fromCliProfile(options(pascal));
      const creds = await provider();
      expect(await whoAmI(pascal, creds)).toMatch(/oauth-user/);
      expect(pascal.callCount('OAuthToken')).toBe(1);
      provider.close();
    } finally {
      await pascal.close();
    }
  });

  it('a ChainableRamRoleArn on top of an OAuth profile: the OAuth profile is the one written back', async () => {
    const tokens = emu.mintOAuthTokens();
    const path = writeConfig(
      cliConfig(
        [
          { name: 'deploy', mode: 'ChainableRamRoleArn', source_profile: 'oauth', ram_role_arn: emu.roleArn('deployer'), ram_session_name: 'deploy' },
          oauthProfile(tokens),
        ],
        'deploy',
      ),
    );
    const provider = fromCliProfile(options(emu, { sts: { endpoint: emu.stsEndpoint } }));
    const creds = await provider();
    expect(await whoAmI(emu, creds)).toMatch(/assumed-role\/deployer\/deploy/);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { profiles: Record<string, unknown>[] };
    expect(doc.profiles[0]).not.toHaveProperty('access_key_id');
    expect(doc.profiles[1]).toHaveProperty('access_key_id');
    provider.close();
  });

  it('a read-only folder: one warning, the tokens kept in memory for the next refresh', async () => {
    const tokens = emu.mintOAuthTokens({ accessTokenSeconds: 60 });
    const path = writeConfig(cliConfig([oauthProfile(tokens)]));
    const folder = join(home, '.aliyun');
    // Read-only even for root: the immutable attribute (root ignores file modes).
    const locked = process.getuid?.() === 0 ? spawnSync('chattr', ['+i', folder]).status === 0 : (chmodSync(folder, 0o500), true);
    if (!locked) return; // no way to make the folder read-only here
    const warnings: string[] = [];
    const provider = fromCliProfile(options(emu, { logger: { warn: (m: string) => warnings.push(m) } }));
    try {
      expect((await provider()).accessKeyId).toMatch(/^STS\./);
      expect(warnings.filter((w) => /could not write refreshed tokens back/.test(w))).toHaveLength(1);
      // The next refresh uses the in-memory tokens, not the spent refresh token still in the file.
      expect((await provider({ forceRefresh: true })).accessKeyId).toMatch(/^STS\./);
      expect(readFileSync(path, 'utf8')).toContain(tokens.refreshToken);
    } finally {
      if (process.getuid?.() === 0) spawnSync('chattr', ['-i', folder]);
      else chmodSync(folder, 0o700);
      provider.close();
    }
  });

  it('concurrent processes refreshing one profile: one refresh, every process served, nothing lost', async () => {
    const tokens = emu.mintOAuthTokens({ accessTokenSeconds: 60 }); // every process wants a refresh
    const path = writeConfig(cliConfig([oauthProfile(tokens)]));
    const child = `
      const { fromCliProfile } = await import(${JSON.stringify(resolve(root, 'dist', 'node.js'))});
      const p = fromCliProfile({ homedir: ${JSON.stringify(home)}, oauthBaseUrl: ${JSON.stringify(emu.oauthBaseUrl)}, env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' } });
      const c = await p();
      p.close();
      process.stdout.write(c.accessKeyId);
    `;
    const before = calls(emu);
    const runs = await Promise.all(
      Array.from({ length: 6 }, () =>
        new Promise<{ code: number | null; out: string; err: string }>((done) =>
          execFile(process.execPath, ['--input-type=module', '-e', child], { timeout: 30_000 }, (error, out, err) =>
            done({ code: error ? ((error as { code?: number }).code ?? null) : 0, out, err }),
          ),
        ),
      ),
    );
    for (const r of runs) expect(r, r.err).toMatchObject({ code: 0, err: '' });
    // One refresh and one exchange among them; the others waited and reused the written triple.
    expect(calls(emu).token).toBe(before.token + 1);
    expect(calls(emu).exchange).toBe(before.exchange + 1);
    expect(new Set(runs.map((r) => r.out)).size).toBe(1);
    // The stored refresh token is the live one: it refreshes once more.
    const saved = (JSON.parse(readFileSync(path, 'utf8')) as { profiles: Record<string, string>[] }).profiles[0]!;
    const next = await fetch(`${emu.oauthBaseUrl}/v1/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved.oauth_refresh_token!, client_id: '4038181954557748008' }),
    });
    expect(next.status).toBe(200);
    expect(readdirSync(join(home, '.aliyun')).sort()).toEqual(['config.json']); // no lock or temp file left
  }, 60_000);
});

describe('defaultProvider', () => {
  it('picks a CloudSSO profile up through its CLI-profile link', async () => {
    writeConfig(cliConfig([ssoProfile(emu, emu.mintCloudSsoToken())]));
    const provider = defaultProvider(options(emu));
    expect((await provider()).source).toBe('cloud-sso');
    provider.close();
  });

  it('its error names the profile when the sign-in is gone, and does not fall through to another identity', async () => {
    const token = emu.mintCloudSsoToken({ expiresInSeconds: -10 });
    writeConfig(cliConfig([ssoProfile(emu, token)]));
    // A credentials file with a key below the CLI link must not be used instead.
    mkdirSync(join(home, '.alibabacloud'), { recursive: true });
    writeFileSync(join(home, '.alibabacloud', 'credentials'), '[default]\ntype = access_key\naccess_key_id = LTAI5tNotThisOne0001\naccess_key_secret = s\n');
    const provider = defaultProvider(options(emu));
    const error = await provider().then(
      () => undefined,
      (e: unknown) => e,
    );
    // A link's error that is not "try the next" stops the chain: it is what the caller sees.
    expect(error).not.toBeInstanceOf(CredentialsChainError);
    expect((error as CredentialsProviderError).code).toBe('LoginRequired');
    expect((error as Error).message).toMatch(/profile 'sso' \(CloudSSO\)/);
    expect((error as Error).message).toMatch(/aliyun configure --profile sso --mode CloudSSO/);
    provider.close();
  });
});
