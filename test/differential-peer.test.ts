/**
 * Differential test against @alicloud/credentials 2.4.7: for a table of environment and file
 * setups, alicred's defaultProvider and the official default chain resolve the same
 * AccessKeyId and kind (with or without a security token), or both fail.
 *
 * The peer runs in a child process per case (its env and HOME are process-wide). Nothing may
 * leave 127.0.0.1: ECS metadata is disabled for both, and every case sets
 * ALIBABA_CLOUD_CREDENTIALS_URI to a loopback server, because the peer's chain otherwise
 * ends by fetching https://undefined/.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProvider } from '../src/node/default.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

type Outcome = { ok: true; id: string; token: boolean } | { ok: false };
type Case = {
  name: string;
  env?: Record<string, string>;
  /** Paths relative to HOME ($HOME is replaced in values). */
  files?: Record<string, string>;
  /** Use the loopback URI that answers with credentials instead of the failing one. */
  uriAnswers?: boolean;
  expect: Outcome;
};

const cliConfig = (current: string, profiles: object[]) => JSON.stringify({ current, profiles, meta_path: '' }, null, 2);

const cases: Case[] = [
  { name: 'env AccessKey pair', env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' }, expect: { ok: true, id: 'LTAIenv0001', token: false } },
  {
    name: 'env STS key with security token',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.env0002', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' },
    expect: { ok: true, id: 'STS.env0002', token: true },
  },
  { name: 'env ID without secret', env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0003' }, expect: { ok: false } },
  {
    name: 'ini default profile, access_key',
    files: { '.alibabacloud/credentials': '[default]\ntype = access_key\naccess_key_id = LTAIini0004\naccess_key_secret = s\n' },
    expect: { ok: true, id: 'LTAIini0004', token: false },
  },
  {
    name: 'ini profile chosen by ALIBABA_CLOUD_PROFILE',
    env: { ALIBABA_CLOUD_PROFILE: 'prod' },
    files: {
      '.alibabacloud/credentials':
        '[default]\ntype = access_key\naccess_key_id = LTAIini0005a\naccess_key_secret = s\n\n[prod]\ntype = access_key\naccess_key_id = LTAIini0005b\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIini0005b', token: false },
  },
  {
    name: 'ini file from ALIBABA_CLOUD_CREDENTIALS_FILE',
    env: { ALIBABA_CLOUD_CREDENTIALS_FILE: '$HOME/elsewhere/creds.ini' },
    files: { 'elsewhere/creds.ini': '[default]\ntype = access_key\naccess_key_id = LTAIini0006\naccess_key_secret = s\n' },
    expect: { ok: true, id: 'LTAIini0006', token: false },
  },
  {
    name: 'CLI config, current AK profile',
    files: { '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0007', access_key_secret: 's', region_id: 'cn-hangzhou' }]) },
    expect: { ok: true, id: 'LTAIcli0007', token: false },
  },
  {
    name: 'CLI config, StsToken profile chosen by ALIBABA_CLOUD_PROFILE',
    env: { ALIBABA_CLOUD_PROFILE: 'temp' },
    files: {
      '.aliyun/config.json': cliConfig('main', [
        { name: 'main', mode: 'AK', access_key_id: 'LTAIcli0008a', access_key_secret: 's' },
        { name: 'temp', mode: 'StsToken', access_key_id: 'STS.cli0008b', access_key_secret: 's', sts_token: 'tok' },
      ]),
    },
    expect: { ok: true, id: 'STS.cli0008b', token: true },
  },
  {
    name: 'CLI profile disabled: the ini file answers',
    env: { ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0009', access_key_secret: 's' }]),
      '.alibabacloud/credentials': '[default]\ntype = access_key\naccess_key_id = LTAIini0009\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIini0009', token: false },
  },
  {
    name: 'env wins over both files',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0010', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0010', access_key_secret: 's' }]),
      '.alibabacloud/credentials': '[default]\ntype = access_key\naccess_key_id = LTAIini0010\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIenv0010', token: false },
  },
  {
    name: 'CLI config wins over the ini file',
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0011', access_key_secret: 's' }]),
      '.alibabacloud/credentials': '[default]\ntype = access_key\naccess_key_id = LTAIini0011\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIcli0011', token: false },
  },
  { name: 'credentials URI answers', uriAnswers: true, expect: { ok: true, id: 'STS.uri0012', token: true } },
  { name: 'nothing configured', expect: { ok: false } },
  {
    name: 'env pair plus an empty token variable',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0014', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_SECURITY_TOKEN: '' },
    expect: { ok: true, id: 'LTAIenv0014', token: false },
  },
  {
    name: 'CLI config whose current profile is missing, ini answers',
    files: {
      '.aliyun/config.json': cliConfig('gone', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0015', access_key_secret: 's' }]),
      '.alibabacloud/credentials': '[default]\ntype = access_key\naccess_key_id = LTAIini0015\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIini0015', token: false },
  },
  {
    name: 'ini profile named by ALIBABA_CLOUD_PROFILE overrides the CLI current profile',
    env: { ALIBABA_CLOUD_PROFILE: 'only-ini', ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0016', access_key_secret: 's' }]),
      '.alibabacloud/credentials': '[only-ini]\ntype = access_key\naccess_key_id = LTAIini0016\naccess_key_secret = s\n',
    },
    expect: { ok: true, id: 'LTAIini0016', token: false },
  },
  {
    name: 'CLI config env var path is ignored by the peer but the default path answers',
    files: {
      '.aliyun/config.json': cliConfig('default', [{ name: 'default', mode: 'StsToken', access_key_id: 'STS.cli0017', access_key_secret: 's', sts_token: 't' }]),
    },
    expect: { ok: true, id: 'STS.cli0017', token: true },
  },
];

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          Code: 'Success',
          AccessKeyId: 'STS.uri0012',
          AccessKeySecret: 's',
          SecurityToken: 't',
          Expiration: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        }),
      );
      return;
    }
    res.statusCode = 500;
    res.end('{"Code":"InternalError"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function setUp(c: Case): Promise<{ home: string; env: Record<string, string> }> {
  const home = await mkdtemp(join(tmpdir(), 'alicred-diff-'));
  for (const [path, text] of Object.entries(c.files ?? {})) {
    const full = join(home, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text, { mode: 0o600 });
  }
  const env: Record<string, string> = {
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    ALIBABA_CLOUD_CREDENTIALS_URI: `${base}/${c.uriAnswers ? 'ok' : 'fail'}`,
  };
  for (const [k, v] of Object.entries(c.env ?? {})) env[k] = v.replace('$HOME', home);
  return { home, env };
}

const peerScript = `
const mod = require('@alicloud/credentials');
const Credential = mod.default || mod;
new Credential().getCredential().then(
  (m) => console.log(JSON.stringify({ ok: true, id: m.accessKeyId, token: Boolean(m.securityToken) })),
  () => console.log(JSON.stringify({ ok: false })),
);`;

async function peer(home: string, env: Record<string, string>): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['-e', peerScript], {
    cwd: root,
    timeout: 15_000,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome;
}

async function ours(home: string, env: Record<string, string>): Promise<Outcome> {
  const provider = defaultProvider({ env, homedir: home });
  try {
    const c = await provider();
    return { ok: true, id: c.accessKeyId, token: Boolean(c.securityToken) };
  } catch {
    return { ok: false };
  } finally {
    provider.close();
  }
}

describe('defaultProvider vs @alicloud/credentials default chain', () => {
  it('has at least 15 setups', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('$name', async (c) => {
    const { home, env } = await setUp(c);
    try {
      const [theirs, mine] = await Promise.all([peer(home, env), ours(home, env)]);
      expect(mine).toEqual(c.expect);
      expect(theirs).toEqual(mine);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
