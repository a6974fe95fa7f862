/**
 * defaultProvider: the chain's verdicts, and proof that the official libraries' defects are
 * absent (no pinning after a failure, no request to an unset credentials URI, no expired
 * credential served), plus ECS metadata credentials that refresh, against the emulator.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStsClient, CredentialsChainError, CredentialsError, CredentialsProviderError } from '../src/index.js';
import { defaultProvider } from '../src/node/index.js';
import { startEmulator } from '../src/testing/index.js';

let home: string;
let server: Server;
let base: string;
/** What the loopback credentials URI answers; changed by the tests. */
let answer: { status: number; lifetimeMs: number; id: string } = { status: 500, lifetimeMs: 0, id: '' };

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'alicred-default-'));
  server = createServer((_req, res) => {
    res.statusCode = answer.status;
    res.setHeader('content-type', 'application/json');
    res.end(
      answer.status === 200
        ? JSON.stringify({
            Code: 'Success',
            AccessKeyId: answer.id,
            AccessKeySecret: 'uri-secret',
            SecurityToken: 'uri-token',
            Expiration: new Date(Date.now() + answer.lifetimeMs).toISOString(),
          })
        : '{"Code":"InternalError"}',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/creds`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(home, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const noEcs = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };

describe('defaultProvider', () => {
  it('with nothing configured, lists every link in order and makes no request at all', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const provider = defaultProvider({ env: { ...noEcs }, homedir: home });
    const err = await provider().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsChainError);
    const chainError = err as CredentialsChainError;
    expect(chainError.attempts.map((a) => a.provider)).toEqual([
      'env',
      'oidc',
      'cli-profile',
      'ini-profile',
      'ecs-metadata',
      'credentials-uri',
    ]);
    expect(chainError.message).toMatch(/ALIBABA_CLOUD_CREDENTIALS_URI/);
    expect(fetchSpy).not.toHaveBeenCalled(); // the official chain fetches https://undefined/ here
    provider.close();
  });

  it('is not pinned to a link after a failure', async () => {
    const env: Record<string, string | undefined> = { ...noEcs, ALIBABA_CLOUD_CREDENTIALS_URI: base };
    const provider = defaultProvider({ env, homedir: home, refresh: { retry: false } });
    answer = { status: 500, lifetimeMs: 0, id: '' };
    await expect(provider()).rejects.toBeInstanceOf(CredentialsError);
    // The official chain would now only ever ask the URI again; we look at every link.
    env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAI5tEnvLater';
    env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'secret';
    expect((await provider()).accessKeyId).toBe('LTAI5tEnvLater');
    // The answering link stops being configured: the next one answers at once.
    delete env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    delete env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    answer = { status: 200, lifetimeMs: 3_600_000, id: 'STS.uri-after' };
    const fromUri = await provider();
    expect([fromUri.accessKeyId, fromUri.source]).toEqual(['STS.uri-after', 'credentials-uri']);
    provider.close();
  });

  it('follows the order: env, then the CLI profile, then the ini file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alicred-order-'));
    await mkdir(join(dir, '.aliyun'));
    await mkdir(join(dir, '.alibabacloud'));
    await writeFile(
      join(dir, '.aliyun', 'config.json'),
      JSON.stringify({ current: 'main', profiles: [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli', access_key_secret: 's' }] }),
      { mode: 0o600 },
    );
    await writeFile(join(dir, '.alibabacloud', 'credentials'), '[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = s\n', {
      mode: 0o600,
    });
    const env: Record<string, string | undefined> = { ...noEcs, ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' };
    const ids = [];
    ids.push((await defaultProvider({ env, homedir: dir })()).accessKeyId);
    delete env.ALIBABA_CLOUD_ACCESS_KEY_ID;
    delete env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    ids.push((await defaultProvider({ env, homedir: dir })()).accessKeyId);
    env.ALIBABA_CLOUD_CLI_PROFILE_DISABLED = 'true';
    ids.push((await defaultProvider({ env, homedir: dir })()).accessKeyId);
    expect(ids).toEqual(['LTAIenv', 'LTAIcli', 'LTAIini']);
    await rm(dir, { recursive: true, force: true });
  });

  it('never serves an expired credential when the source keeps failing', async () => {
    const env = { ...noEcs, ALIBABA_CLOUD_CREDENTIALS_URI: base };
    answer = { status: 200, lifetimeMs: 2_000, id: 'STS.short-lived' };
    // Simulated clocks (the loopback server stamps Expiration with the same Date.now): no sleep.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    try {
      const provider = defaultProvider({ env, homedir: home, refresh: { retry: false } });
      const first = await provider();
      expect(first.accessKeyId).toBe('STS.short-lived');
      answer = { status: 500, lifetimeMs: 0, id: '' };
      vi.advanceTimersByTime(2_300);
      expect(provider.peek()).toBeUndefined();
      const err = await provider().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialsError); // the official library returns the expired one
      provider.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('yields ECS metadata credentials that refresh (emulator), and they are real', async () => {
    const emu = await startEmulator({
      ecs: { roleName: 'ecs-app', lifetimeSeconds: 4, rotateBeforeSeconds: 3 },
      roles: [{ name: 'ecs-app' }],
    });
    try {
      const provider = defaultProvider({ env: {}, homedir: home, ecsMetadata: { endpoint: emu.metadataEndpoint } });
      const first = await provider();
      expect(first.source).toBe('ecs-metadata');
      expect(first.accessKeyId).toMatch(/^STS\./);
      // 4 s credentials: the engine refreshes from 2 s on; the service rotated at 1 s.
      await new Promise((r) => setTimeout(r, 2_600));
      const later = await provider();
      await new Promise((r) => setTimeout(r, 200));
      const rotated = provider.peek() ?? later;
      expect(rotated.accessKeyId).not.toBe(first.accessKeyId);
      expect(emu.callCount('MetadataToken')).toBeLessThanOrEqual(2); // the IMDSv2 token is reused
      expect(emu.requests().some((r) => r.action === 'MetadataCredentials' && r.metadataToken === 'valid')).toBe(true);
      expect(provider.peek()?.source).toBe('ecs-metadata');
      // Once ECS has answered, its failures are reported, not skipped to another identity.
      emu.inject({ action: 'MetadataCredentials', count: 100, status: 500 });
      const failing = await provider({ forceRefresh: true }).catch((e: unknown) => e);
      expect(failing).not.toBeInstanceOf(CredentialsChainError);
      expect((failing as CredentialsProviderError).tryNext).toBe(false);
      emu.clearFaults();
      // STS itself accepts them: they are the instance role's.
      const who = await createStsClient({ endpoint: emu.stsEndpoint }).getCallerIdentity(rotated);
      expect(who.arn).toContain('ecs-app');
      provider.close();
    } finally {
      await emu.close();
    }
  });
});
