/**
 * `alicred emulator` and `alicred doctor` as child processes: the emulator from a config
 * file on a chosen port (its printed variables drive `alicred whoami`), unknown keys and bad
 * options as usage errors; doctor with nothing configured, with a profile (and a file other
 * users can read), with keys STS refuses and with a broken profile.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCredentialsUri } from '../src/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { baseEnv, bundleCli, leakedSecrets, runCli, startCli } from './cli-helpers.js';

const run = promisify(execFile);

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tDoctorAlice0000001', accessKeySecret: 'alice-doctor-secret-0123456789' };
const DAVE = { name: 'dave', accessKeyId: 'LTAI5tEmuDave00000000001', accessKeySecret: 'dave-emulator-secret-0123456789' };

let cli: string;
let cleanup: () => Promise<void>;
let emu: Emulator;
const dirs: string[] = [];

beforeAll(async () => {
  ({ cli, cleanup } = await bundleCli());
  emu = await startEmulator({ users: [ALICE] });
});

afterAll(async () => {
  await emu?.close();
  await cleanup?.();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(files: Record<string, string> = {}, mode = 0o600): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alicred-cli-emu-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
    await chmod(join(dir, path), mode);
  }
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** The variables a sh snippet sets, read back by sh itself. */
async function evalSh(lines: string): Promise<Record<string, string>> {
  const { stdout } = await run('sh', ['-c', 'eval "$1"; env', 'sh', lines], { env: { PATH: process.env.PATH ?? '' } });
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.startsWith('ALIBABA_CLOUD_'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('alicred emulator', () => {
  it('--config FILE --port N: runs it there and prints the variables that use it; whoami works with them', async () => {
    const port = await freePort();
    const dir = await tempDir({
      'emu.json': JSON.stringify({
        users: [DAVE],
        roles: [{ name: 'emu-role', trustedUsers: ['dave'], maxSessionDuration: 7200 }],
        credentialsUri: { roleName: 'vended' },
        accountId: '5555555555555555',
      }),
    });
    const running = await startCli(cli, ['emulator', '--config', join(dir, 'emu.json'), '--port', String(port)], baseEnv(dir), (o) => o.stderr.includes('stop with Ctrl-C'));
    try {
      const vars = await evalSh(running.output().stdout);
      expect(vars).toEqual({
        ALIBABA_CLOUD_STS_ENDPOINT: `http://127.0.0.1:${port}`,
        ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
        ALIBABA_CLOUD_CREDENTIALS_URI: `http://127.0.0.1:${port}/credentials-uri`,
        ALIBABA_CLOUD_ACCESS_KEY_ID: DAVE.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: DAVE.accessKeySecret,
      });
      expect(running.output().stderr).toContain('role acs:ram::5555555555555555:role/emu-role');
      const who = await runCli(cli, ['whoami', '--role-arn', 'acs:ram::5555555555555555:role/emu-role'], baseEnv(dir, vars));
      expect(who.code, who.stderr).toBe(0);
      expect(who.stdout).toContain('acs:ram::5555555555555555:assumed-role/emu-role/alicred-cli');
      const vended = await fromCredentialsUri({ uri: vars.ALIBABA_CLOUD_CREDENTIALS_URI, env: {} })();
      expect(vended.accessKeyId).toMatch(/^STS\./);
    } finally {
      const result = await running.stop('SIGTERM');
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('SIGTERM: stopping');
    }
  });

  it('without --config: a user with a fresh key and a role it may assume; fish format', async () => {
    const dir = await tempDir();
    const running = await startCli(cli, ['emulator'], baseEnv(dir), (o) => o.stderr.includes('stop with Ctrl-C'));
    try {
      const sh = running.output().stdout;
      const vars = await evalSh(sh);
      expect(vars.ALIBABA_CLOUD_ACCESS_KEY_ID).toMatch(/^LTAI5tDev[0-9A-F]{16}$/);
      const roleArn = /role (acs:ram::\d+:role\/dev-role)/.exec(running.output().stderr)?.[1];
      expect(roleArn).toBeDefined();
      const who = await runCli(cli, ['whoami', '--role-arn', roleArn!], baseEnv(dir, vars));
      expect(who.code, who.stderr).toBe(0);
      expect(who.stdout).toContain(':assumed-role/dev-role/alicred-cli');
    } finally {
      expect((await running.stop('SIGINT')).code).toBe(0);
    }
    const fish = await startCli(cli, ['emulator', '--format', 'fish'], baseEnv(dir), (o) => o.stderr.includes('stop with Ctrl-C'));
    expect(fish.output().stdout).toMatch(/^set -gx ALIBABA_CLOUD_STS_ENDPOINT 'http:\/\/127\.0\.0\.1:\d+'$/m);
    await fish.stop();
  });

  it('an unknown key (top level or nested), a bad option, bad JSON, a missing file: exit 2, one line', async () => {
    const dir = await tempDir({
      'top.json': JSON.stringify({ users: [], bogusKey: 1 }),
      'nested.json': JSON.stringify({ users: [{ ...DAVE, nmae: 'typo' }] }),
      'clock.json': JSON.stringify({ clock: 1 }),
      'bad-option.json': JSON.stringify({ timeScale: 0 }),
      'bad-port.json': JSON.stringify({ port: 1.5 }),
      'bad.json': '{ users: ',
      'array.json': '[]',
    });
    const cases: [string, RegExp][] = [
      ['top.json', /unknown key bogusKey/],
      ['nested.json', /unknown key users\[0\]\.nmae/],
      ['clock.json', /unknown key clock/],
      ['bad-option.json', /timeScale must be a finite number >= 1/],
      ['bad-port.json', /port must be an integer in 0\.\.65535/],
      ['bad.json', /is not valid JSON/],
      ['array.json', /must be a JSON object/],
      ['missing.json', /cannot read --config .*missing\.json \(ENOENT\)/],
    ];
    for (const [file, message] of cases) {
      const r = await runCli(cli, ['emulator', '--config', join(dir, file)], baseEnv(dir));
      expect(r.code, `${file}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('alicred doctor', () => {
  const env = (home: string, extra: Record<string, string> = {}) => baseEnv(home, { ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint, ...extra });
  const secrets = () => [ALICE.accessKeySecret, ...emu.issued().flatMap((c) => [c.accessKeySecret, c.securityToken])];

  it('nothing configured: exit 1, each link with its reason, the endpoint and the clock', async () => {
    const home = await tempDir();
    const r = await runCli(cli, ['doctor'], env(home));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`endpoint  ${emu.stsEndpoint} (from ALIBABA_CLOUD_STS_ENDPOINT)`);
    expect(r.stdout).toMatch(/clock {5}[+-]\d+\.\d s \(STS/);
    for (const [i, link, why] of [
      [1, 'env', /ALIBABA_CLOUD_ACCESS_KEY_ID/],
      [2, 'oidc', /ALIBABA_CLOUD_ROLE_ARN/],
      [3, 'cli-profile', /config\.json does not exist/],
      [4, 'ini-profile', /credentials\.ini exists/],
      [5, 'ecs-metadata', /ALIBABA_CLOUD_ECS_METADATA_DISABLED/],
      [6, 'credentials-uri', /ALIBABA_CLOUD_CREDENTIALS_URI is not set/],
    ] as const) {
      const line = r.stdout.split('\n').find((l) => l.trimStart().startsWith(`${i}. ${link} `));
      expect(line, link).toMatch(/not configured: /);
      expect(line).toMatch(why);
    }
    expect(r.stdout).toContain('No credentials: no link of the default chain is configured.');
    expect(r.stderr).not.toContain('peer-net');
  });

  it('--profile P: the cli-profile link answers, STS says who; a profile file others can read is flagged', async () => {
    const home = await tempDir(
      {
        '.aliyun/config.json': JSON.stringify({
          current: 'default',
          profiles: [
            { name: 'default', mode: 'AK', access_key_id: 'LTAI5tSomeoneElse0000001', access_key_secret: 'not-this-one-0123456789' },
            { name: 'dev', mode: 'AK', access_key_id: ALICE.accessKeyId, access_key_secret: ALICE.accessKeySecret },
          ],
        }),
      },
      0o644,
    );
    const r = await runCli(cli, ['doctor', '--profile', 'dev'], env(home));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Default chain (profile dev)');
    const line = r.stdout.split('\n').find((l) => l.includes('3. cli-profile'));
    expect(line).toMatch(new RegExp(`answers: long-lived AccessKey ${ALICE.accessKeyId} from cli-profile; STS: valid, acs:ram::\\d+:user/alice  <- used`));
    expect(r.stdout).toMatch(/config\.json {2}mode 644: other users can read or change it; run: chmod 600/);
    expect(r.stdout).toMatch(/OK: credentials come from cli-profile \(acs:ram::\d+:user\/alice\)\./);
    expect(leakedSecrets(r.stdout + r.stderr, [...secrets(), 'not-this-one-0123456789'])).toEqual([]);
  });

  it('keys STS refuses: exit 1, the link answers but is refused', async () => {
    const home = await tempDir();
    const r = await runCli(cli, ['doctor'], env(home, { ALIBABA_CLOUD_ACCESS_KEY_ID: ALICE.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'wrong-secret-0123456789' }));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1\. env .*STS: refused: .*SignatureDoesNotMatch/);
    expect(r.stdout).toContain('Unusable credentials: env answers, but STS refuses them.');
    expect(leakedSecrets(r.stdout + r.stderr, [...secrets(), 'wrong-secret-0123456789'])).toEqual([]);
  });

  it('a broken profile file: the link is configured but failing, the chain stops there (exit 1) even though a later link would answer', async () => {
    const home = await tempDir({
      '.aliyun/config.json': '{ "profiles": [ { "name": "default", "mode": "AK" ',
      '.alibabacloud/credentials': `[default]\ntype = access_key\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\n`,
    });
    const r = await runCli(cli, ['doctor'], env(home));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/3\. cli-profile +configured, failing: .*config\.json.*<- the chain stops here/);
    expect(r.stdout).toMatch(/4\. ini-profile +answers: .*\(not reached\)/);
    expect(r.stdout).toContain('No credentials: cli-profile is configured but fails');
    expect(leakedSecrets(r.stdout + r.stderr, secrets())).toEqual([]);
  });
});
