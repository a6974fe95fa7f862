/**
 * The built package as a consumer sees it: the exports map, ESM and CJS, types, a browser
 * bundle without Node built-ins, and a process that exits although a refresh timer is set.
 * `npm test` builds dist/ first (pretest).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const entries = ['index', 'node', 'testing', 'tea', 'tablestore', 'oss', 'pop-core', 'redis'] as const;
let consumer: string;

beforeAll(async () => {
  consumer = await mkdtemp(join(tmpdir(), 'alicred-consumer-'));
  await mkdir(join(consumer, 'node_modules'));
  // A symlink behaves like an installed package: Node resolves the exports map of its package.json.
  await symlink(root, join(consumer, 'node_modules', 'alicred'), 'dir');
  // The official clients, for the alicred/tea type-check (optional peer dependency).
  await symlink(join(root, 'node_modules', '@alicloud'), join(consumer, 'node_modules', '@alicloud'), 'dir');
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
});

afterAll(async () => {
  await rm(consumer, { recursive: true, force: true });
});

const node = (args: string[]) =>
  run(process.execPath, args, { cwd: consumer, timeout: 15_000, env: { ...process.env, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' } });

describe('build output', () => {
  it('has ESM, CJS and declarations for every entry', () => {
    for (const name of entries) {
      for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) {
        expect(existsSync(join(root, 'dist', `${name}.${ext}`)), `dist/${name}.${ext}`).toBe(true);
      }
    }
  });

  it('package.json declares the contract: module type, engines, sideEffects, exports', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.engines.node).toBe('>=20');
    expect(Object.keys(pkg.exports)).toEqual(['.', './node', './testing', './tea', './tablestore', './oss', './pop-core', './redis', './package.json']);
    // The clients the adapters serve are optional peers: installing alicred pulls in none of them.
    for (const peer of ['@alicloud/credentials', '@alicloud/pop-core', 'ali-oss', 'tablestore']) {
      expect(pkg.peerDependenciesMeta[peer]).toEqual({ optional: true });
    }
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['ini']);
  });
});

describe('consumers', () => {
  it("require('alicred') works from CommonJS, without require(esm)", async () => {
    const { stdout } = await node([
      '--no-experimental-require-module',
      '-e',
      `const a = require('alicred'); const n = require('alicred/node'); const t = require('alicred/testing');
       const p = a.refreshing(t.fakeCredentialSource({ lifetimeMs: 3600000 }));
       p().then((c) => { console.log(typeof a.fromEnv, typeof n.fromEnv, c.accessKeyId, JSON.stringify(c).includes('secret-')); p.close(); });`,
    ]);
    expect(stdout.trim()).toBe('function function STS.fake-1 false');
  });

  it("import('alicred') works from ESM", async () => {
    const { stdout } = await node([
      '--input-type=module',
      '-e',
      `const a = await import('alicred'); const { fromEnv } = await import('alicred/node');
       const c = await a.chain(fromEnv({ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5t', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's3cr3t' } }))();
       console.log(c.source, String(c).includes('s3cr3t'));`,
    ]);
    expect(stdout.trim()).toBe('env false');
  });

  it('a process exits although a refresh timer is armed (the timer is unref\'d)', async () => {
    const started = Date.now();
    const { stdout } = await node([
      '--input-type=module',
      '-e',
      `import { refreshing } from 'alicred'; import { fakeCredentialSource } from 'alicred/testing';
       const p = refreshing(fakeCredentialSource({ lifetimeMs: 3600000 }));
       await p(); console.log('armed');`,
    ]);
    expect(stdout.trim()).toBe('armed');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('type-checks for ESM and CJS consumers (moduleResolution nodenext)', async () => {
    const dir = join(consumer, 'types');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'esm.mts'),
      `import { refreshing, fromEnv, type Credentials, type RefreshingProvider } from 'alicred';
       import { fakeCredentialSource } from 'alicred/testing';
       const p: RefreshingProvider = refreshing(fromEnv());
       const f = fakeCredentialSource();
       export const c: Promise<Credentials> = p({ minValidityMs: 1000 }).then((x) => x);
       export const n: number = f.calls;`,
    );
    await writeFile(
      join(dir, 'cjs.cts'),
      `import { chain, fromStatic, CredentialsChainError } from 'alicred';
       import type { Credentials } from 'alicred/node';
       export const p = chain(fromStatic({ accessKeyId: 'a', accessKeySecret: 'b' }));
       export const isChainError = (e: unknown) => e instanceof CredentialsChainError;
       export type C = Credentials;`,
    );
    // toTeaCredential must be assignable to the official Config.credential without a cast.
    await writeFile(
      join(dir, 'tea.mts'),
      `import { fromRamRole, fromStatic } from 'alicred';
       import { toTeaCredential } from 'alicred/tea';
       import { $OpenApiUtil } from '@alicloud/openapi-core';
       import * as $OpenApi from '@alicloud/openapi-client';
       const provider = fromRamRole({ source: fromStatic({ accessKeyId: 'a', accessKeySecret: 'b' }), roleArn: 'acs:ram::1:role/r' });
       const core = new $OpenApiUtil.Config({});
       core.credential = toTeaCredential(provider);
       const client: $OpenApi.Config = new $OpenApi.Config({});
       client.credential = toTeaCredential(provider, { providerName: 'x' });
       export { core, client };`,
    );
    // The client adapters: pop-core's own Config accepts toPopCoreConfig's result without a cast;
    // the others keep the caller's types (tablestore and ali-oss ship none).
    const adapters = `import RPCClient from '@alicloud/pop-core';
       import { fromStatic, type CredentialProvider } from 'alicred';
       import { toPopCoreConfig } from 'alicred/pop-core';
       import { bindTableStoreClient } from 'alicred/tablestore';
       import { toOssOptions, signOssUrl } from 'alicred/oss';
       const provider: CredentialProvider = fromStatic({ accessKeyId: 'a', accessKeySecret: 'b' });
       export const rpc = new RPCClient(toPopCoreConfig(provider, { endpoint: 'http://127.0.0.1:1', apiVersion: '2018-01-20' }));
       declare const ots: { config: object; listTable(params: object): Promise<{ tableNames: string[] }> };
       export const names: Promise<string[]> = bindTableStoreClient(ots, provider).listTable({}).then((r) => r.tableNames);
       export const oss = toOssOptions(provider, { region: 'oss-cn-hangzhou', bucket: 'b' }).then((o) => {
         const interval: 0 = o.refreshSTSTokenInterval;
         const region: string = o.region;
         return { interval, region, keys: o.refreshSTSToken() };
       });
       declare const store: { options: { accessKeyId?: string }; signatureUrl(name: string, options?: object): string };
       export const url: Promise<string> = signOssUrl(store, provider, 'a.txt', { expires: 60 });`;
    await writeFile(join(dir, 'adapters.mts'), adapters);
    await writeFile(join(dir, 'adapters.cts'), adapters);
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['ES2022', 'DOM'] },
        files: ['esm.mts', 'cjs.cts', 'tea.mts', 'adapters.mts', 'adapters.cts'],
      }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 60_000 }).catch((e: { stdout: string }) => e);
    expect((result as { stdout: string }).stdout).toBe('');
  });
});

describe('npm pack', () => {
  it('a fresh clone packs the build (prepack), LICENSE, and source maps that carry their sources', async () => {
    const clone = await mkdtemp(join(tmpdir(), 'alicred-pack-'));
    try {
      await run('git', ['clone', '--quiet', '--no-hardlinks', root, clone], { timeout: 60_000 });
      await symlink(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts=false'], { cwd: clone, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
      const files = (JSON.parse(stdout.slice(stdout.indexOf('['))) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
      for (const name of entries) {
        for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) expect(files, `dist/${name}.${ext}`).toContain(`dist/${name}.${ext}`);
      }
      expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
      expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
      const license = await readFile(join(clone, 'LICENSE'), 'utf8');
      expect(license).toMatch(/MIT License/);
      // Every map either ships the text of each source it names, or is not shipped at all.
      for (const map of files.filter((f) => f.endsWith('.map'))) {
        const parsed = JSON.parse(await readFile(join(clone, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
        expect(parsed.sourcesContent?.length, map).toBe(parsed.sources.length);
        expect(parsed.sourcesContent!.every((c) => typeof c === 'string' && c.length > 0), map).toBe(true);
      }
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('universal entry', () => {
  it('bundles for the browser with esbuild, with no Node built-in in its graph', async () => {
    const result = await build({
      stdin: {
        contents: `import { refreshing, chain, fromEnv, fromStatic, createStsCache, stsCacheKey } from 'alicred';
                   import { toOssOptions, signOssUrl } from 'alicred/oss';
                   globalThis.out = [refreshing, chain, fromEnv, fromStatic, createStsCache, stsCacheKey, toOssOptions, signOssUrl];`,
        resolveDir: consumer,
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // The universal code has no runtime dependency: nothing from node_modules but alicred itself.
    expect(inputs.some((i) => i.endsWith('dist/index.js'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('dist/oss.js'))).toBe(true); // alicred/oss is universal: ali-oss runs in browsers
    expect(inputs.filter((i) => i.includes('node_modules/') && !i.includes('node_modules/alicred/'))).toEqual([]);
    const text = result.outputFiles[0]!.text;
    expect(text).not.toMatch(/require\(["'](node:)?(fs|os|path|http|https|crypto|child_process|util)["']\)/);
    expect(text).not.toMatch(/from ["']node:/);
  });

  it('the universal code type-checks with no Node types (tsconfig.universal.json)', async () => {
    // No Node built-in, process or Buffer outside node/, cli/ and testing/: they do not exist
    // in browsers or Workers, and without @types/node they are type errors.
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '--noEmit', '-p', join(root, 'tsconfig.universal.json')], { cwd: root, timeout: 120_000 }).catch(
      (e: { stdout: string }) => e,
    );
    expect((result as { stdout: string }).stdout).toBe('');
  }, 120_000);
});
