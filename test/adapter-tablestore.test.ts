/**
 * alicred/tablestore through the real `tablestore` client against the emulator's Table Store
 * endpoint, which verifies `x-ots-signature` with the secret of the key in the request and
 * refuses a token that is not the current, unexpired one for that key: a run spanning several
 * refreshes with concurrent requests, retries signed again, a cold provider awaited before the
 * first signature, and a second copy of the package hooked through its own client.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindTableStoreClient } from '../src/adapters/tablestore.js';
import { ConfigError, createStsCache, fromRamRole, fromStatic, type CredentialProvider } from '../src/index.js';
import { startEmulator, type Emulator } from '../src/testing/index.js';
import { acrossRefreshes } from './helpers.js';

const require = createRequire(import.meta.url);
type OtsClient = { config: object; listTable(params: object): Promise<{ tableNames: string[] }>; createTable(params: object): Promise<unknown> };
type TableStoreModule = { Client: new (config: object) => OtsClient };
const TableStore = require('tablestore') as TableStoreModule;

const alice = { name: 'alice', accessKeyId: 'LTAI5tOtsAdapter000001', accessKeySecret: 'ots-adapter-secret-0123' };
const INSTANCE = 'adapter-instance';

let emu: Emulator; // 900 s tokens last 3 s
let copyDir: string;

beforeAll(async () => {
  emu = await startEmulator({
    timeScale: 300,
    users: [{ ...alice, policies: [{ Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'ots:*'] }] }] }],
    roles: [{ name: 'ots-writer', trustedUsers: ['alice'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'ots:*' }] }] }],
  });
  // Inside the repository, so the copy's own dependencies resolve up to node_modules/.
  const tmp = resolve(import.meta.dirname, '..', '.tmp');
  mkdirSync(tmp, { recursive: true });
  copyDir = mkdtempSync(join(tmp, 'ots-copy-'));
});
afterAll(async () => {
  await emu.close();
  rmSync(copyDir, { recursive: true, force: true });
});

const role = (): ReturnType<typeof fromRamRole> =>
  fromRamRole({ source: fromStatic(alice), roleArn: emu.roleArn('ots-writer'), durationSeconds: 900, sts: { endpoint: emu.stsEndpoint }, cache: createStsCache() });

/** A client with no keys of its own (or decoy static keys), bound to `provider`. */
const boundClient = (provider: CredentialProvider, extra: object = {}, Module: TableStoreModule = TableStore) =>
  bindTableStoreClient(new Module.Client({ endpoint: emu.url, instancename: INSTANCE, maxRetries: 0, ...extra }), provider);

const otsRequests = () => emu.requests().filter((r) => r.signatureVersion === 'ots');

describe('bindTableStoreClient with the real tablestore client', () => {
  it('signs every request with the current token across several refreshes, concurrent requests included: none refused', async () => {
    const provider = role();
    const client = boundClient(provider);
    await client.createTable({
      tableMeta: { tableName: 'readings', primaryKey: [{ name: 'device', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    const before = otsRequests().length;
    // 3 s tokens: at least two refreshes
    const { ok, refused, keys } = await acrossRefreshes(provider, 7_000, () =>
      Array.from({ length: 8 }, async () => (await client.listTable({})).tableNames.includes('readings')),
    );
    provider.close();
    expect(refused).toBe(0);
    expect(ok).toBeGreaterThan(100);
    expect(keys.size).toBeGreaterThanOrEqual(3);
    const seen = otsRequests().slice(before);
    expect(seen.length).toBe(ok);
    expect(seen.every((r) => r.status === 200 && r.accessKeyId?.startsWith('STS.'))).toBe(true);
    expect(new Set(seen.map((r) => r.accessKeyId)).size).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('a cold provider is awaited before the first signature; decoy keys in the config are never used', async () => {
    const provider = role();
    const client = boundClient(provider, { accessKeyId: 'LTAI5tDecoyNeverUsed01', secretAccessKey: 'decoy' });
    const before = otsRequests().length;
    await client.listTable({});
    const [request] = otsRequests().slice(before);
    expect(request?.status).toBe(200);
    expect(request?.accessKeyId).toBe(provider.peek()?.accessKeyId);
    provider.close();
  });

  it('a retry is signed again, with the credentials current at that moment', async () => {
    let calls = 0;
    const inner = fromStatic(alice);
    const counting: CredentialProvider = async (options) => {
      calls++;
      return inner(options);
    };
    const client = boundClient(counting, { maxRetries: 2 });
    emu.inject({ action: 'ListTable', status: 503, code: 'OTSServerBusy' });
    await client.listTable({});
    expect(calls).toBe(2); // the first attempt and its retry each asked the provider
  });

  it('a provider that fails fails the request: nothing is sent, nothing signed with the config keys', async () => {
    const client = boundClient(
      async () => {
        throw new Error('credentials unavailable');
      },
      { accessKeyId: 'LTAI5tDecoyNeverUsed02', secretAccessKey: 'decoy' },
    );
    const before = otsRequests().length;
    await expect(client.listTable({})).rejects.toThrow('credentials unavailable');
    expect(otsRequests().length).toBe(before);
  });

  it('unbound clients of the same module keep signing with their own keys', async () => {
    const bound = boundClient(fromStatic(alice));
    const plain = new TableStore.Client({ endpoint: emu.url, instancename: INSTANCE, maxRetries: 0, accessKeyId: alice.accessKeyId, secretAccessKey: alice.accessKeySecret });
    await Promise.all([bound.listTable({}), plain.listTable({})]);
  });

  it('a second copy of the tablestore package is hooked through its own client', async () => {
    // Another copy on disk is another module instance, with its own event executor.
    cpSync(join(require.resolve('tablestore/package.json'), '..'), join(copyDir, 'node_modules', 'tablestore'), { recursive: true });
    const copyRequire = createRequire(join(copyDir, 'index.js'));
    const Copy = copyRequire('tablestore') as TableStoreModule;
    expect(Copy).not.toBe(TableStore);
    const provider = role();
    const client = boundClient(provider, { accessKeyId: 'LTAI5tDecoyNeverUsed03', secretAccessKey: 'decoy' }, Copy);
    const before = otsRequests().length;
    await client.listTable({});
    expect(otsRequests().slice(before)[0]?.accessKeyId).toBe(provider.peek()?.accessKeyId);
    provider.close();
  }, 30_000);

  it('refuses what is not a tablestore client or not a provider, with a ConfigError naming it', () => {
    const provider = fromStatic(alice);
    expect(() => bindTableStoreClient({} as never, provider)).toThrow(ConfigError);
    expect(() => bindTableStoreClient({ config: {} }, provider)).toThrow(/not a tablestore Client/);
    expect(() => bindTableStoreClient(new TableStore.Client({ endpoint: emu.url }), 'key' as never)).toThrow(/provider must be a credential provider function/);
  });
});
