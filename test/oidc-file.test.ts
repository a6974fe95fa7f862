/**
 * fromOidcTokenFile against the local emulator: explicit and env-only configuration, the token
 * file re-read at every refresh (rotation), not-configured / partly configured / broken file
 * errors. Env objects are passed explicitly; process.env is never read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsCache } from '../src/cache.js';
import { ConfigError, CredentialsProviderError, StsError } from '../src/errors.js';
import { fromOidcTokenFile } from '../src/node/oidc-file.js';
import { createStsClient } from '../src/sts/client.js';
import { startEmulator, type Emulator } from '../src/testing/emulator/index.js';
import { failure } from './helpers.js';

const ROLE = 'rrsa-app';
const OIDC = 'ack-rrsa';
const SUBJECT = 'system:serviceaccount:default:app';

let emu: Emulator;
let dir: string;
const opened: { close(): void }[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    roles: [
      { name: ROLE, trustedOidcProviders: [OIDC], policies: [{ Statement: [{ Effect: 'Allow', Action: ['iot:*'] }] }] },
      { name: 'untrusting' },
    ],
    oidcProviders: [{ name: OIDC }, { name: 'other-idp' }],
  });
  dir = await mkdtemp(join(tmpdir(), 'alicred-oidc-file-'));
});
afterAll(async () => {
  for (const p of opened) p.close();
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
/** Writes a fresh token file and returns its path and content. */
async function tokenFile(options: { subject?: string; expiresInSeconds?: number; providerName?: string } = {}) {
  const path = join(dir, `token-${++seq}`);
  const token = emu.mintOidcToken({ subject: options.subject ?? SUBJECT, providerName: options.providerName ?? OIDC, expiresInSeconds: options.expiresInSeconds });
  await writeFile(path, `${token}\n`);
  return { path, token };
}

/** A fetch that records the OIDCToken of every request body before passing it on. */
function recordingFetch() {
  const tokens: string[] = [];
  const f: typeof fetch = async (input, init) => {
    const body = typeof init?.body === 'string' ? init.body : '';
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const token = new URLSearchParams(body).get('OIDCToken') ?? new URL(url).searchParams.get('OIDCToken');
    if (token !== null) tokens.push(token);
    return fetch(input, init);
  };
  return { fetch: f, tokens };
}

function track<T extends { close(): void }>(p: T): T {
  opened.push(p);
  return p;
}

describe('fromOidcTokenFile against the emulator', () => {
  it('assumes the role with explicit options (anonymous AssumeRoleWithOIDC)', async () => {
    const { path } = await tokenFile();
    const before = emu.callCount('AssumeRoleWithOIDC');
    const provider = track(
      fromOidcTokenFile({
        roleArn: emu.roleArn(ROLE),
        oidcProviderArn: emu.oidcProviderArn(OIDC),
        tokenFile: path,
        roleSessionName: 'explicit-session',
        durationSeconds: 900,
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache(),
        env: {},
      }),
    );
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(creds.securityToken).toBeTruthy();
    expect(creds.expiration).toBeInstanceOf(Date);
    expect(provider.peek()).toBe(creds);
    expect(emu.callCount('AssumeRoleWithOIDC')).toBe(before + 1);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRoleWithOIDC', signatureVersion: 'anonymous', status: 200 });
    const who = await createStsClient({ endpoint: emu.stsEndpoint, env: {} }).getCallerIdentity(creds);
    expect(who.arn).toBe(`acs:ram::${emu.accountId}:assumed-role/${ROLE}/explicit-session`);
  });

  it('is configured entirely from the environment (RRSA webhook variables, STS endpoint included)', async () => {
    const { path } = await tokenFile();
    const env = {
      ALIBABA_CLOUD_ROLE_ARN: emu.roleArn(ROLE),
      ALIBABA_CLOUD_OIDC_PROVIDER_ARN: emu.oidcProviderArn(OIDC),
      ALIBABA_CLOUD_OIDC_TOKEN_FILE: path,
      ALIBABA_CLOUD_ROLE_SESSION_NAME: 'rrsa-session',
      ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint,
    };
    const provider = track(fromOidcTokenFile({ env, cache: createStsCache() }));
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    const who = await createStsClient({ endpoint: emu.stsEndpoint, env: {} }).getCallerIdentity(creds);
    expect(who.arn).toBe(`acs:ram::${emu.accountId}:assumed-role/${ROLE}/rrsa-session`);
  });

  it('options win over the environment', async () => {
    const { path } = await tokenFile();
    const provider = track(
      fromOidcTokenFile({
        roleArn: emu.roleArn(ROLE),
        tokenFile: path,
        env: {
          ALIBABA_CLOUD_ROLE_ARN: emu.roleArn('untrusting'),
          ALIBABA_CLOUD_OIDC_PROVIDER_ARN: emu.oidcProviderArn(OIDC),
          ALIBABA_CLOUD_OIDC_TOKEN_FILE: join(dir, 'nowhere'),
          ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint,
        },
        cache: createStsCache(),
      }),
    );
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
  });

  it('concurrent callers share one STS call', async () => {
    const { path } = await tokenFile();
    const before = emu.callCount('AssumeRoleWithOIDC');
    const provider = track(
      fromOidcTokenFile({
        roleArn: emu.roleArn(ROLE),
        oidcProviderArn: emu.oidcProviderArn(OIDC),
        tokenFile: path,
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache(),
        env: {},
      }),
    );
    const all = await Promise.all(Array.from({ length: 50 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(emu.callCount('AssumeRoleWithOIDC')).toBe(before + 1);
  });

  it('re-reads the token file at every refresh (rotation)', async () => {
    const { path, token: first } = await tokenFile({ subject: 'system:serviceaccount:default:first' });
    const recorder = recordingFetch();
    const provider = track(
      fromOidcTokenFile({
        env: {
          ALIBABA_CLOUD_ROLE_ARN: emu.roleArn(ROLE),
          ALIBABA_CLOUD_OIDC_PROVIDER_ARN: emu.oidcProviderArn(OIDC),
          ALIBABA_CLOUD_OIDC_TOKEN_FILE: path,
        },
        sts: { endpoint: emu.stsEndpoint, fetch: recorder.fetch },
        cache: createStsCache(),
      }),
    );
    const one = await provider();
    expect(recorder.tokens).toEqual([first]);

    // The kubelet rotates the token: the next refresh sends the new one.
    const second = emu.mintOidcToken({ subject: 'system:serviceaccount:default:second', providerName: OIDC });
    await writeFile(path, second);
    const two = await provider({ forceRefresh: true });
    expect(two.accessKeyId).not.toBe(one.accessKeyId);
    expect(recorder.tokens).toEqual([first, second]);
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRoleWithOIDC', status: 200 });

    // An expired token in the file: the emulator sees (and rejects) exactly that token.
    const expired = emu.mintOidcToken({ subject: SUBJECT, providerName: OIDC, expiresInSeconds: -60 });
    await writeFile(path, expired);
    const error = await failure(() => provider({ forceRefresh: true }));
    expect(error).toBeInstanceOf(StsError);
    expect(error.code).toBe('AuthenticationFail.OIDCToken.Expired');
    expect(emu.requests().at(-1)).toMatchObject({ action: 'AssumeRoleWithOIDC', code: 'AuthenticationFail.OIDCToken.Expired' });
    expect(recorder.tokens.at(-1)).toBe(expired);
    expect(inspect(error, { depth: 5 })).not.toContain(expired);
    // The previous credentials are still served to plain calls meanwhile.
    expect((await provider()).accessKeyId).toBe(two.accessKeyId);

    // A token from an IdP the role does not trust is rejected too: again, the file's content is what is sent.
    const foreign = emu.mintOidcToken({ subject: SUBJECT, providerName: 'other-idp' });
    await writeFile(path, foreign);
    await expect(provider({ forceRefresh: true })).rejects.toBeInstanceOf(StsError);
    expect(recorder.tokens.at(-1)).toBe(foreign);
  });
});

describe('fromOidcTokenFile configuration errors', () => {
  const full = () => ({
    ALIBABA_CLOUD_ROLE_ARN: emu.roleArn(ROLE),
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: emu.oidcProviderArn(OIDC),
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: join(dir, 'unused'),
  });

  it('nothing set: not configured (tryNext), without any request', async () => {
    const before = emu.callCount();
    const provider = fromOidcTokenFile({ env: {}, sts: { endpoint: emu.stsEndpoint } });
    const error = await failure(provider);
    expect(error).toBeInstanceOf(CredentialsProviderError);
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((error as CredentialsProviderError).tryNext).toBe(true);
    expect((error as CredentialsProviderError).provider).toBe('oidc');
    expect(error.message).toContain('ALIBABA_CLOUD_OIDC_TOKEN_FILE');
    expect(provider.peek()).toBeUndefined();
    provider.close();
    expect(emu.callCount()).toBe(before);
    // Blank values count as unset; the session name alone configures nothing.
    const blank = await failure(fromOidcTokenFile({ env: { ALIBABA_CLOUD_ROLE_ARN: '  ', ALIBABA_CLOUD_ROLE_SESSION_NAME: 's' } }));
    expect((blank as CredentialsProviderError).tryNext).toBe(true);
  });

  it('ALIBABA_CLOUD_ROLE_ARN alone in the environment is not an OIDC setup (tryNext)', async () => {
    const error = await failure(fromOidcTokenFile({ env: { ALIBABA_CLOUD_ROLE_ARN: emu.roleArn(ROLE) } }));
    expect(error).not.toBeInstanceOf(ConfigError);
    expect((error as CredentialsProviderError).tryNext).toBe(true);
    expect(error.message).toMatch(/not an OIDC setup/);
  });

  it('partly configured: a ConfigError naming the missing variable(s)', async () => {
    const { ALIBABA_CLOUD_ROLE_ARN: _r, ...noRole } = full();
    const noRoleError = await failure(fromOidcTokenFile({ env: noRole }));
    expect(noRoleError).toBeInstanceOf(ConfigError);
    expect((noRoleError as ConfigError).field).toBe('ALIBABA_CLOUD_ROLE_ARN');
    expect(noRoleError.message).toContain('missing ALIBABA_CLOUD_ROLE_ARN');

    const { ALIBABA_CLOUD_OIDC_TOKEN_FILE: _t, ...noFile } = full();
    const noFileError = await failure(fromOidcTokenFile({ env: noFile }));
    expect((noFileError as ConfigError).field).toBe('ALIBABA_CLOUD_OIDC_TOKEN_FILE');
    expect(noFileError.message).toContain('missing ALIBABA_CLOUD_OIDC_TOKEN_FILE');
    expect(noFileError.message).not.toContain('missing ALIBABA_CLOUD_ROLE_ARN');

    const fileOnly = await failure(fromOidcTokenFile({ env: { ALIBABA_CLOUD_OIDC_TOKEN_FILE: join(dir, 'x') } }));
    expect(fileOnly).toBeInstanceOf(ConfigError);
    expect(fileOnly.message).toContain('ALIBABA_CLOUD_ROLE_ARN');
    expect(fileOnly.message).toContain('ALIBABA_CLOUD_OIDC_PROVIDER_ARN');

    // An explicit roleArn is a request for OIDC: the rest missing is an error, not a skip.
    const explicit = await failure(fromOidcTokenFile({ roleArn: emu.roleArn(ROLE), env: {} }));
    expect(explicit).toBeInstanceOf(ConfigError);
    expect(explicit.message).toContain('ALIBABA_CLOUD_OIDC_PROVIDER_ARN (option oidcProviderArn)');
    expect(explicit.message).toContain('ALIBABA_CLOUD_OIDC_TOKEN_FILE (option tokenFile)');
  });

  it('a malformed value is a ConfigError named after its variable, reported on call (never when built)', async () => {
    const build = () => fromOidcTokenFile({ env: { ...full(), ALIBABA_CLOUD_ROLE_ARN: 'arn:aws:iam::1:role/x' } });
    expect(build).not.toThrow();
    const error = await failure(build());
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('ALIBABA_CLOUD_ROLE_ARN');
    const badSession = await failure(fromOidcTokenFile({ env: { ...full(), ALIBABA_CLOUD_ROLE_SESSION_NAME: 'has spaces' } }));
    expect((badSession as ConfigError).field).toBe('ALIBABA_CLOUD_ROLE_SESSION_NAME');
    const badEndpoint = await failure(fromOidcTokenFile({ env: { ...full(), ALIBABA_CLOUD_STS_ENDPOINT: 'http://sts.example.com' } }));
    expect(badEndpoint).toBeInstanceOf(ConfigError);
  });

  it('a missing, empty or unreadable token file is a ConfigError with the path, and no STS call', async () => {
    const before = emu.callCount();
    const missingPath = join(dir, 'no-such-token');
    const options = (path: string) => ({
      env: { ...full(), ALIBABA_CLOUD_OIDC_TOKEN_FILE: path },
      sts: { endpoint: emu.stsEndpoint },
      cache: createStsCache(),
    });
    const missing = await failure(track(fromOidcTokenFile(options(missingPath))));
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toContain(missingPath);
    expect(missing.message).toContain('does not exist');
    expect((missing as ConfigError).file).toBe(missingPath);
    expect((missing as ConfigError).field).toBe('ALIBABA_CLOUD_OIDC_TOKEN_FILE');

    const emptyPath = join(dir, 'empty-token');
    await writeFile(emptyPath, ' \n');
    const empty = await failure(track(fromOidcTokenFile(options(emptyPath))));
    expect(empty).toBeInstanceOf(ConfigError);
    expect(empty.message).toContain(`${emptyPath} (ALIBABA_CLOUD_OIDC_TOKEN_FILE) is empty`);

    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    const isFolder = await failure(track(fromOidcTokenFile(options(folder))));
    expect(isFolder).toBeInstanceOf(ConfigError);
    expect(isFolder.message).toContain(folder);

    expect(emu.callCount()).toBe(before);
  });

  it('a token file that appears later is picked up by the next call', async () => {
    const path = join(dir, 'late-token');
    const provider = track(
      fromOidcTokenFile({
        roleArn: emu.roleArn(ROLE),
        oidcProviderArn: emu.oidcProviderArn(OIDC),
        tokenFile: path,
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache(),
        env: {},
      }),
    );
    await expect(provider()).rejects.toBeInstanceOf(ConfigError);
    await writeFile(path, emu.mintOidcToken({ subject: SUBJECT, providerName: OIDC }));
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
  });

  it('a rejected token never appears in the error', async () => {
    const path = join(dir, 'garbage-token');
    const garbage = 'not-a-jwt-Zx9OidcSecret0123456789';
    await writeFile(path, garbage);
    const provider = track(
      fromOidcTokenFile({
        env: { ...full(), ALIBABA_CLOUD_OIDC_TOKEN_FILE: path },
        sts: { endpoint: emu.stsEndpoint },
        cache: createStsCache(),
      }),
    );
    const error = await failure(provider);
    expect(error).toBeInstanceOf(StsError);
    expect([error.message, String(error), inspect(error, { depth: 5 })].join('\n')).not.toContain(garbage);
  });
});
