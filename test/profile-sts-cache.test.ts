/**
 * Role profiles share STS results through the cache they are given (`stsCache`): a fleet cache
 * `createStsCache({ store })` reaches RamRoleArn, ChainableRamRoleArn and OIDC profiles, through
 * fromCliProfile, fromIniProfile and defaultProvider.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsCache, type StsCacheStore } from '../src/index.js';
import { defaultProvider, fromCliProfile, fromIniProfile } from '../src/node/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';

const A = { name: 'alice', accessKeyId: 'LTAI5tProfileCache0001', accessKeySecret: 'profile-cache-secret' };
let emu: Emulator;
let home: string;

beforeAll(async () => {
  emu = await startEmulator({
    users: [{ ...A, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }] }],
    roles: [{ name: 'app', trustedUsers: ['alice'] }],
  });
  home = mkdtempSync(join(tmpdir(), 'alicred-profile-cache-'));
  mkdirSync(join(home, '.aliyun'), { recursive: true });
  mkdirSync(join(home, '.alibabacloud'), { recursive: true });
  writeFileSync(
    join(home, '.aliyun', 'config.json'),
    JSON.stringify({ current: 'role', profiles: [{ name: 'role', mode: 'RamRoleArn', access_key_id: A.accessKeyId, access_key_secret: A.accessKeySecret, ram_role_arn: emu.roleArn('app'), ram_session_name: 'app' }] }, null, '\t'),
    { mode: 0o600 },
  );
  writeFileSync(
    join(home, '.alibabacloud', 'credentials'),
    `[default]\ntype = ram_role_arn\naccess_key_id = ${A.accessKeyId}\naccess_key_secret = ${A.accessKeySecret}\nrole_arn = ${emu.roleArn('app')}\nrole_session_name = app\n`,
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

/** An in-memory store standing for Redis: what two "processes" (two caches) share. */
function memoryStore(): StsCacheStore & { writes: number } {
  const data = new Map<string, string>();
  const leases = new Map<string, string>();
  const store = {
    writes: 0,
    async get(key: string) {
      return data.get(key);
    },
    async set(key: string, value: string) {
      store.writes++;
      data.set(key, value);
    },
    async lease(key: string) {
      if (leases.has(key)) return undefined;
      const token = `t${Math.random()}`;
      leases.set(key, token);
      return token;
    },
    async release(key: string, token: string) {
      if (leases.get(key) === token) leases.delete(key);
    },
  };
  return store;
}

const base = () => ({ homedir: home, env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' } });

describe('stsCache reaches role profiles', () => {
  it('two "processes" (two caches over one store) of a CLI RamRoleArn profile make one AssumeRole', async () => {
    const store = memoryStore();
    const before = emu.callCount('AssumeRole');
    const first = fromCliProfile({ ...base(), sts: { endpoint: emu.stsEndpoint }, stsCache: createStsCache({ store }) });
    const one = await first();
    await new Promise((r) => setTimeout(r, 50)); // the store write follows the call
    const second = fromCliProfile({ ...base(), sts: { endpoint: emu.stsEndpoint }, stsCache: createStsCache({ store }) });
    const two = await second();
    expect(two.accessKeyId).toBe(one.accessKeyId);
    expect(emu.callCount('AssumeRole')).toBe(before + 1);
    expect(store.writes).toBe(1);
    first.close();
    second.close();
  });

  it('stsCache: false makes each profile provider call STS itself', async () => {
    const before = emu.callCount('AssumeRole');
    const providers = [0, 1].map(() => fromIniProfile({ ...base(), sts: { endpoint: emu.stsEndpoint }, stsCache: false }));
    await Promise.all(providers.map((p) => p()));
    expect(emu.callCount('AssumeRole')).toBe(before + 2);
    for (const p of providers) p.close();
  });

  it('defaultProvider passes it to the profile links', async () => {
    const store = memoryStore();
    const provider = defaultProvider({ ...base(), sts: { endpoint: emu.stsEndpoint }, stsCache: createStsCache({ store }) });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    await new Promise((r) => setTimeout(r, 50));
    expect(store.writes).toBe(1);
    provider.close();
  });
});
