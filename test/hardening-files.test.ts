/**
 * Files a user (or an env variable) points at can be hostile: a FIFO with no writer, /dev/zero,
 * a multi-gigabyte file. Token and profile files are refused or cut off with a ConfigError
 * naming the file, never read without bound or waited on forever.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createCredentials, type StsClient } from '../src/index.js';
import { fromIniProfile, fromOidcTokenFile } from '../src/node/index.js';

let dir: string;
const issue = async () =>
  createCredentials({ accessKeyId: 'STS.x', accessKeySecret: 's', securityToken: 't', expiration: new Date(Date.now() + 3600_000), source: 'x' });
/** An in-process StsClient: nothing leaves the process. */
const sts = { endpoint: 'http://127.0.0.1:9', assumeRole: issue, assumeRoleWithOidc: issue } as unknown as StsClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alicred-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const oidcEnv = (tokenFile: string) => ({
  ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1234567890123456:role/app',
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1234567890123456:oidc-provider/ack',
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
});

async function oidcFailure(tokenFile: string): Promise<ConfigError> {
  const provider = fromOidcTokenFile({ env: oidcEnv(tokenFile), sts, cache: false } as never);
  const started = Date.now();
  const e = await provider().catch((x: unknown) => x);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(e).toBeInstanceOf(ConfigError);
  expect((e as ConfigError).file).toBe(tokenFile);
  return e as ConfigError;
}

describe('OIDC token file', () => {
  it('a FIFO with no writer is refused at once, not waited on', async () => {
    const fifo = join(dir, 'token.fifo');
    execFileSync('mkfifo', [fifo]);
    expect((await oidcFailure(fifo)).message).toMatch(/not a regular file/);
  });

  it('/dev/zero is refused, not read forever', async () => {
    const link = join(dir, 'zero-token');
    await symlink('/dev/zero', link);
    expect((await oidcFailure(link)).message).toMatch(/not a regular file/);
  });

  it('a token file of 2 MB is refused as too large', async () => {
    const big = join(dir, 'big-token');
    await writeFile(big, 'e'.repeat(2 * 1024 * 1024));
    expect((await oidcFailure(big)).message).toMatch(/larger than/);
  });

  it('a normal token file still works', async () => {
    const ok = join(dir, 'ok-token');
    await writeFile(ok, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n');
    const provider = fromOidcTokenFile({ env: oidcEnv(ok), sts, cache: false } as never);
    expect((await provider()).accessKeyId).toBe('STS.x');
  });
});

describe('profile files', () => {
  it('a credentials file over 1 MiB is a ConfigError naming it', async () => {
    const home = join(dir, 'home-big');
    await mkdir(join(home, '.alibabacloud'), { recursive: true });
    const file = join(home, '.alibabacloud', 'credentials');
    await writeFile(file, `[default]\ntype = access_key\naccess_key_id = LTAI5tBig\naccess_key_secret = s\n; ${'x'.repeat(2 * 1024 * 1024)}\n`, { mode: 0o600 });
    const e = await fromIniProfile({ homedir: home, env: {} })().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).file).toBe(file);
    expect((e as ConfigError).message).toMatch(/larger than/);
  });
});
