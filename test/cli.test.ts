/**
 * The `alicred` command as a child process against the emulator: whoami, env (every format;
 * sh output eval'd by sh; the JSON consumed as an aliyun CLI External profile), usage errors
 * and help, debug lines. No secret in any output but `env`'s.
 * (serve: cli-serve.test.ts; emulator and doctor: cli-emulator-doctor.test.ts.)
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCliProfile } from '../src/node/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { baseEnv, bundleCli, cliArgv, leakedSecrets, runCli } from './cli-helpers.js';

const run = promisify(execFile);

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tCliAlice0000000001', accessKeySecret: 'alice-cli-secret-0123456789' };
// A secret with the characters shells treat specially inside or around quotes (secrets have no spaces).
const CAROL = { name: 'carol', accessKeyId: 'LTAI5tCliCarol000000003', accessKeySecret: 'carol-cli-secret-0123456789' };
const BOB = { name: 'bob', accessKeyId: 'LTAI5tCliBob00000000002', accessKeySecret: `b0b's$HOME\`id\`"q"\\n!x;&|(*)` };

let cli: string;
let cleanup: () => Promise<void>;
let emu: Emulator;
const homes: string[] = [];

beforeAll(async () => {
  ({ cli, cleanup } = await bundleCli());
  emu = await startEmulator({ users: [ALICE, BOB, CAROL], roles: [{ name: 'cli-role', trustedUsers: ['alice', 'bob'] }] });
});

afterAll(async () => {
  await emu?.close();
  await cleanup?.();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

async function home(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alicred-cli-home-'));
  homes.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
    await chmod(join(dir, path), 0o600);
  }
  return dir;
}

/** The env of a child pointed at the emulator, with `keys` as ALIBABA_CLOUD_ACCESS_KEY_*. */
function envWith(homeDir: string, keys?: { accessKeyId: string; accessKeySecret: string }, extra: Record<string, string> = {}) {
  return baseEnv(homeDir, {
    ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint,
    ALIBABA_CLOUD_ACCESS_KEY_ID: keys?.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: keys?.accessKeySecret,
    ...extra,
  });
}

/** Secrets that must never be printed (outside `env`'s output): the users' and every issued one. */
function secrets(): string[] {
  return [ALICE.accessKeySecret, BOB.accessKeySecret, CAROL.accessKeySecret, ...emu.issued().flatMap((c) => [c.accessKeySecret, c.securityToken])];
}

function expectClean(result: { stdout: string; stderr: string }, streams: ('stdout' | 'stderr')[] = ['stdout', 'stderr']): void {
  for (const s of streams) expect(leakedSecrets(result[s], secrets()), `${s} leaks a secret`).toEqual([]);
  expect(result.stderr).not.toContain('peer-net');
}

/** `name  value` rows of whoami. */
function rows(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, 11).trim(), l.slice(12)]));
}

describe('alicred whoami', () => {
  it('env keys: the source, the identity ARN, no expiry; never a secret', async () => {
    const r = await runCli(cli, ['whoami'], envWith(await home(), ALICE));
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r.stdout)).toMatchObject({
      source: 'env',
      identity: `acs:ram::${emu.accountId}:user/alice`,
      type: 'RAMUser',
      'access key': ALICE.accessKeyId,
      expires: 'never (a long-lived AccessKey)',
    });
    expectClean(r);
  });

  it('--profile P: the profile of the credentials file, as defaultProvider({ profile: P })', async () => {
    const dir = await home({
      '.alibabacloud/credentials': `[default]\ntype = access_key\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\n` +
        `[carols]\ntype = access_key\naccess_key_id = ${CAROL.accessKeyId}\naccess_key_secret = ${CAROL.accessKeySecret}\n`,
    });
    const r = await runCli(cli, ['whoami', '--profile', 'carols'], envWith(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(rows(r.stdout)).toMatchObject({ source: 'ini-profile', identity: `acs:ram::${emu.accountId}:user/carol` });
    expectClean(r);
    const missing = await runCli(cli, ['whoami', '--profile', 'nobody'], envWith(dir));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expectClean(missing);
  });

  it('--role-arn: the role assumed on top; the session ARN and an expiry', async () => {
    const r = await runCli(cli, ['whoami', '--role-arn', emu.roleArn('cli-role')], envWith(await home(), ALICE));
    expect(r.code, r.stderr).toBe(0);
    const row = rows(r.stdout);
    expect(row.identity).toBe(`acs:ram::${emu.accountId}:assumed-role/cli-role/alicred-cli`);
    expect(row.source).toMatch(/^sts:AssumeRole \(role acs:ram::\d+:role\/cli-role, assumed with credentials from the env link\)$/);
    expect(row['access key']).toMatch(/^STS\./);
    expect(row.expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (59|60) min\)$/);
    expectClean(r);
  });

  it('nothing configured: exit 1, one line pointing at doctor', async () => {
    const r = await runCli(cli, ['whoami'], envWith(await home()));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^alicred whoami: error: no credentials found.*alicred doctor/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a role the user may not assume: exit 1, STS error in one line, no secret', async () => {
    const r = await runCli(cli, ['whoami', '--role-arn', emu.roleArn('no-such-role')], envWith(await home(), ALICE));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/EntityNotExist\.Role|NoPermission/);
    expectClean(r);
  });

  it('a network wait over a second: one progress line on stderr, then the answer', async () => {
    emu.inject({ action: 'GetCallerIdentity', latencyMs: 1_500 });
    const r = await runCli(cli, ['whoami'], envWith(await home(), ALICE));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(`alicred whoami: asking STS (${emu.stsEndpoint}) who these credentials are…\n`);
    expect(rows(r.stdout).identity).toBe(`acs:ram::${emu.accountId}:user/alice`);
  });

  it('ALICRED_DEBUG=1: a retried AssumeRole shows the failure and the wait', async () => {
    emu.inject({ action: 'AssumeRole', status: 503, code: 'ServiceUnavailable' });
    const r = await runCli(cli, ['whoami', '--role-arn', emu.roleArn('cli-role')], envWith(await home(), ALICE, { ALICRED_DEBUG: '1' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/debug alicred: ram-role acs:ram::\d+:role\/cli-role: attempt 1 failed \(.*ServiceUnavailable.*\); retrying in \d+ ms/);
    expectClean(r);
  });

  it('ALICRED_DEBUG=1 and DEBUG=alicred:*: the chain and refresh traced on stderr, never a secret', async () => {
    for (const flag of [{ ALICRED_DEBUG: '1' }, { DEBUG: 'express,alicred:*' }] as Record<string, string>[]) {
      const r = await runCli(cli, ['whoami', '--role-arn', emu.roleArn('cli-role')], envWith(await home(), ALICE, flag));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/debug alicred: default chain: trying env/);
      expect(r.stderr).toMatch(/debug alicred: default chain: env answered \(source env, no expiration\)/);
      expect(r.stderr).toMatch(/debug alicred: ram-role acs:ram::\d+:role\/cli-role: refresh started \(cold\)/);
      expect(r.stderr).toMatch(/refreshed: sts:AssumeRole, key STS\.\w{4}…, expires /);
      expectClean(r);
    }
    const quiet = await runCli(cli, ['whoami'], envWith(await home(), ALICE, { DEBUG: 'alicred,-alicred' }));
    expect(quiet.stderr).toBe('');
  });
});

describe('alicred env', () => {
  it('sh (default): eval by sh gives the role triple; no token line for a long-lived key but an unset', async () => {
    const r = await runCli(cli, ['env', '--role-arn', emu.roleArn('cli-role')], envWith(await home(), ALICE));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const script = 'eval "$1"; printf "%s\\n%s\\n%s" "$ALIBABA_CLOUD_ACCESS_KEY_ID" "$ALIBABA_CLOUD_ACCESS_KEY_SECRET" "$ALIBABA_CLOUD_SECURITY_TOKEN"';
    const { stdout } = await run('sh', ['-c', script, 'sh', r.stdout]);
    const [id, secret, token] = stdout.split('\n');
    const issued = emu.issued().find((c) => c.accessKeyId === id);
    expect(issued, 'the printed key is one the emulator issued').toBeDefined();
    expect(secret).toBe(issued!.accessKeySecret);
    expect(token).toBe(issued!.securityToken);

    // A long-lived key with shell metacharacters in its secret, over a stale token: quoted exactly, token unset.
    const plain = await runCli(cli, ['env'], envWith(await home(), BOB));
    expect(plain.stdout).toContain('unset ALIBABA_CLOUD_SECURITY_TOKEN');
    const check = 'ALIBABA_CLOUD_SECURITY_TOKEN=stale; eval "$1"; printf "%s|%s|%s" "$ALIBABA_CLOUD_ACCESS_KEY_ID" "$ALIBABA_CLOUD_ACCESS_KEY_SECRET" "${ALIBABA_CLOUD_SECURITY_TOKEN-unset}"';
    const evald = await run('sh', ['-c', check, 'sh', plain.stdout]);
    expect(evald.stdout).toBe(`${BOB.accessKeyId}|${BOB.accessKeySecret}|unset`);
  });

  it('fish and powershell: each shell\'s quoting', async () => {
    const fish = await runCli(cli, ['env', '--format', 'fish'], envWith(await home(), BOB));
    expect(fish.code, fish.stderr).toBe(0);
    expect(fish.stdout.trim().split('\n')).toEqual([
      `set -gx ALIBABA_CLOUD_ACCESS_KEY_ID '${BOB.accessKeyId}'`,
      `set -gx ALIBABA_CLOUD_ACCESS_KEY_SECRET 'b0b\\'s$HOME\`id\`"q"\\\\n!x;&|(*)'`,
      'set -e ALIBABA_CLOUD_SECURITY_TOKEN',
    ]);
    const ps = await runCli(cli, ['env', '--format', 'powershell'], envWith(await home(), BOB));
    expect(ps.code, ps.stderr).toBe(0);
    expect(ps.stdout.trim().split('\n')).toEqual([
      `$Env:ALIBABA_CLOUD_ACCESS_KEY_ID = '${BOB.accessKeyId}'`,
      `$Env:ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'b0b''s$HOME\`id\`"q"\\n!x;&|(*)'`,
      'Remove-Item -ErrorAction SilentlyContinue Env:ALIBABA_CLOUD_SECURITY_TOKEN',
    ]);
  });

  it('json: the External-mode object (StsToken with a role, AK without)', async () => {
    const sts = await runCli(cli, ['env', '--format', 'json', '--role-arn', emu.roleArn('cli-role')], envWith(await home(), ALICE));
    expect(sts.code, sts.stderr).toBe(0);
    const body = JSON.parse(sts.stdout) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['access_key_id', 'access_key_secret', 'expiration', 'mode', 'sts_token']);
    expect(body.mode).toBe('StsToken');
    expect(body.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const ak = JSON.parse((await runCli(cli, ['env', '--format', 'json'], envWith(await home(), ALICE))).stdout);
    expect(ak).toEqual({ mode: 'AK', access_key_id: ALICE.accessKeyId, access_key_secret: ALICE.accessKeySecret });
  });

  it('json as an aliyun CLI External profile: fromCliProfile runs `alicred env --format json` and gets role credentials', async () => {
    const command = [process.execPath, ...cliArgv(cli, ['env', '--format', 'json', '--role-arn', emu.roleArn('cli-role')])]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const dir = await home({
      '.aliyun/config.json': JSON.stringify({ current: 'ext', profiles: [{ name: 'ext', mode: 'External', process_command: command }] }),
    });
    const childEnv = envWith(await home(), ALICE);
    const provider = fromCliProfile({ homedir: dir, env: childEnv });
    try {
      const creds = await provider();
      expect(creds.accessKeyId).toMatch(/^STS\./);
      const issued = emu.issued().find((c) => c.accessKeyId === creds.accessKeyId);
      expect(issued?.roleName).toBe('cli-role');
      expect(creds.securityToken).toBe(issued!.securityToken);
      expect(creds.expiration!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    } finally {
      provider.close();
    }
  });
});

describe('usage, help, exit codes', () => {
  it('usage errors exit 2 with one line; --help exits 0 on stdout', async () => {
    const env = envWith(await home(), ALICE);
    for (const args of [[], ['bogus'], ['env', '--format', 'tcsh'], ['whoami', '--nope'], ['serve', '--port', 'x'], ['serve', '--port', '70000'], ['env', 'extra'], ['whoami', '--profile']]) {
      const r = await runCli(cli, args, env);
      expect(r.code, `alicred ${args.join(' ')}`).toBe(2);
      expect(r.stdout).toBe('');
      if (args.length > 0) expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    }
    for (const args of [['--help'], ['help', 'serve'], ['whoami', '--help'], ['env', '-h'], ['serve', '--help'], ['emulator', '--help'], ['doctor', '--help']]) {
      const r = await runCli(cli, args, env);
      expect(r.code, `alicred ${args.join(' ')}`).toBe(0);
      expect(r.stdout).toMatch(/^Usage: alicred/);
    }
  });

  it('no colour when not on a terminal (and never an escape sequence in piped output)', async () => {
    const r = await runCli(cli, ['doctor'], envWith(await home(), ALICE));
    expect(r.stdout + r.stderr).not.toContain('\u001b[');
  });
});
