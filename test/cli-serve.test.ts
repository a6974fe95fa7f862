/**
 * `alicred serve` as a child process against the emulator: consumed by fromCredentialsUri and
 * by @alicloud/credentials' credentials_uri provider (in a child with the loopback-only
 * preload); bearer token; refusals (long-lived keys, a foreign Host, a bad or missing token,
 * another method); --token-file (0600, removed at exit); SIGTERM ends it cleanly.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromCredentialsUri } from '../src/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { baseEnv, bundleCli, leakedSecrets, runCli, startCli, type RunningCli } from './cli-helpers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const PRELOAD = join(root, 'test', 'reliability', 'peer-preload.mjs');

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tServeAlice00000001', accessKeySecret: 'alice-serve-secret-0123456789' };

let cli: string;
let cleanup: () => Promise<void>;
let emu: Emulator;
let home: string;
let server: RunningCli;
let uri: string;

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const secrets = () => [ALICE.accessKeySecret, ...emu.issued().flatMap((c) => [c.accessKeySecret, c.securityToken])];
const env = (extra: Record<string, string> = {}) =>
  baseEnv(home, {
    ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint,
    ALIBABA_CLOUD_ACCESS_KEY_ID: ALICE.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: ALICE.accessKeySecret,
    ...extra,
  });

/** One raw HTTP request (fetch cannot send a foreign Host header). */
function rawGet(url: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

beforeAll(async () => {
  ({ cli, cleanup } = await bundleCli());
  emu = await startEmulator({ users: [ALICE], roles: [{ name: 'served', trustedUsers: ['alice'] }] });
  home = await mkdtemp(join(tmpdir(), 'alicred-serve-home-'));
  server = await startCli(cli, ['serve', '--role-arn', emu.roleArn('served')], env(), (o) => o.stdout.includes('\n') && o.stderr.includes('serving'));
  uri = server.output().stdout.trim();
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await emu?.close();
  await cleanup?.();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('alicred serve', () => {
  it('prints one URI on 127.0.0.1 with a random token', () => {
    expect(uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/credentials\?token=[\w-]{43}$/);
    expect(server.output().stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('fromCredentialsUri gets the role credentials the emulator issued', async () => {
    const provider = fromCredentialsUri({ uri, env: {} });
    try {
      const creds = await provider();
      const issued = emu.issued().find((c) => c.accessKeyId === creds.accessKeyId);
      expect(issued?.roleName).toBe('served');
      expect(creds.accessKeySecret).toBe(issued!.accessKeySecret);
      expect(creds.securityToken).toBe(issued!.securityToken);
      expect(Math.abs(creds.expiration!.getTime() - issued!.expiration.getTime())).toBeLessThan(2_000);
    } finally {
      provider.close();
    }
  });

  it("@alicloud/credentials' credentials_uri provider reads it (in a loopback-only child)", async () => {
    const script = `
      const { createHash } = require('node:crypto');
      const mod = require('@alicloud/credentials');
      const Credential = mod.default ?? mod;
      const sha = (t) => createHash('sha256').update(String(t)).digest('hex');
      new Credential({ type: 'credentials_uri', credentialsURI: process.argv[1] }).getCredential().then(
        (m) => { console.log(JSON.stringify({ id: m.accessKeyId, secret: sha(m.accessKeySecret), token: sha(m.securityToken), type: m.type })); process.exit(0); },
        (e) => { console.log(JSON.stringify({ error: String(e && e.message).slice(0, 300) })); process.exit(0); });`;
    const { stdout, stderr } = await run(process.execPath, ['--import', PRELOAD, '-e', script, uri], { cwd: root, env: { PATH: process.env.PATH ?? '' } });
    expect(stderr).not.toContain('peer-net');
    const got = JSON.parse(stdout) as { id: string; secret: string; token: string; type: string; error?: string };
    expect(got.error).toBeUndefined();
    const issued = emu.issued().find((c) => c.accessKeyId === got.id);
    expect(issued?.roleName).toBe('served');
    expect(got).toMatchObject({ secret: sha(issued!.accessKeySecret), token: sha(issued!.securityToken), type: 'credentials_uri' });
  });

  it('takes the token as Authorization: Bearer too; answers no-store and no CORS header', async () => {
    const { origin, pathname, searchParams } = new URL(uri);
    const r = await rawGet(`${origin}${pathname}`, { Authorization: `Bearer ${searchParams.get('token')}` });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ Code: 'Success', AccessKeyId: expect.stringMatching(/^STS\./) });
    expect(r.headers['cache-control']).toBe('no-store');
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const viaLocalhost = await rawGet(uri, { Host: `localhost:${new URL(uri).port}` });
    expect(viaLocalhost.status).toBe(200);
  });

  it('refuses a bad or missing token (401), a foreign Host (403), another method (405): no credentials in the answer', async () => {
    const { origin, pathname, port } = new URL(uri);
    const bad = await rawGet(`${origin}${pathname}?token=not-the-token`, {});
    const none = await rawGet(`${origin}${pathname}`, { Authorization: 'Bearer ' });
    const prefix = await rawGet(uri.slice(0, -1), {});
    const foreign = await rawGet(uri, { Host: `attacker.example:${port}` });
    const rebound = await rawGet(uri, { Host: `127.0.0.1.nip.io:${port}` });
    const post = await rawGet(uri, {}, 'POST');
    expect([bad.status, none.status, prefix.status, foreign.status, rebound.status, post.status]).toEqual([401, 401, 401, 403, 403, 405]);
    for (const r of [bad, none, prefix, foreign, rebound, post]) {
      expect(r.body).not.toContain('AccessKey');
      expect(leakedSecrets(r.body, secrets())).toEqual([]);
    }
    expect(JSON.parse(foreign.body).Code).toBe('Forbidden');
  });

  it('stops on SIGTERM with exit 0; stderr never shows a secret nor the token', async () => {
    const token = new URL(uri).searchParams.get('token')!;
    const result = await server.stop('SIGTERM');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('SIGTERM: stopping');
    expect(result.stderr).toContain('refused a request (401');
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).not.toContain('peer-net');
    expect(leakedSecrets(result.stdout + result.stderr, secrets())).toEqual([]);
  });

  it('refuses to serve long-lived keys: exit 1, "pass --role-arn", nothing on stdout', async () => {
    const r = await runCli(cli, ['serve'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^alicred serve: error: refusing to serve long-lived AccessKey credentials \(from env\): pass --role-arn/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(leakedSecrets(r.stderr, secrets())).toEqual([]);
  });

  it('--token-file with --profile: the URI in a 0600 file (not on stdout), removed on SIGINT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alicred-serve-token-'));
    try {
      await mkdir(join(dir, '.alibabacloud'));
      const credFile = join(dir, '.alibabacloud', 'credentials');
      await writeFile(credFile, `[ops]\ntype = access_key\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\n`);
      await chmod(credFile, 0o600);
      const tokenFile = join(dir, 'uri');
      const childEnv = baseEnv(dir, { ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint });
      const running = await startCli(cli, ['serve', '--profile', 'ops', '--role-arn', emu.roleArn('served'), '--token-file', tokenFile], childEnv, (o) => o.stderr.includes('serving'));
      expect(running.output().stdout).toBe('');
      expect(running.output().stderr).toContain('ini-profile');
      expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
      const fileUri = (await readFile(tokenFile, 'utf8')).trim();
      const provider = fromCredentialsUri({ uri: fileUri, env: {} });
      expect((await provider()).accessKeyId).toMatch(/^STS\./);
      provider.close();
      const result = await running.stop('SIGINT');
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(tokenFile)).toBe(false);
      expect(leakedSecrets(result.stdout + result.stderr, secrets())).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
