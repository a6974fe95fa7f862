/**
 * Fleet benchmark: N processes × M roles against the local STS emulator, counting AssumeRole
 * calls with each process on its own (the in-process cache only) and with the processes
 * sharing a store (`fileStsStore`, or `redisStsStore` on a redis-server of its own), printed
 * as a ratio. Each process calls every role's provider every 100 ms and uses the credentials
 * for a GetCallerIdentity call, for the same time in both runs; the emulator's `timeScale`
 * makes 900 s sessions short, so the runs cross several refreshes.
 *
 * Standalone (not part of bench/run.mjs yet). Everything talks to 127.0.0.1 only: a tripwire
 * refuses any other connection in the parent and in every child.
 *
 *   npm run build && node bench/fleet.mjs                    # dist/, file store
 *   node bench/fleet.mjs --from src                          # bundles src/ with esbuild instead
 *   node bench/fleet.mjs --store redis --processes 16 --roles 5 --seconds 20 --time-scale 120
 */
import { spawn, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|::1|localhost)$/i;
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function loopbackOnly(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : undefined;
  if (typeof first === 'string' || typeof options?.path === 'string') return originalConnect.apply(this, args);
  const host = options ? (options.host ?? 'localhost') : args[1];
  if (host !== undefined && !LOOPBACK.test(String(host))) throw new Error(`bench/fleet: a connection to ${host} is not loopback; refused`);
  return originalConnect.apply(this, args);
};

const HERE = fileURLToPath(import.meta.url);
const ROOT = join(dirname(HERE), '..');

/** The library: dist/ (as shipped), or src/ bundled now (before a build has the new entries). */
async function library(from) {
  if (from === 'dist') {
    return {
      node: join(ROOT, 'dist', 'node.js'),
      redis: join(ROOT, 'dist', 'redis.js'),
      testing: join(ROOT, 'dist', 'testing.js'),
      cleanup: () => {},
    };
  }
  const { build } = await import('esbuild');
  const cacheDir = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const out = mkdtempSync(join(cacheDir, 'alicred-bench-fleet-'));
  const entries = { node: 'src/node/index.ts', redis: 'src/stores/redis.ts', testing: 'src/testing/index.ts' };
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(ROOT, v)])),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return {
    node: join(out, 'node.mjs'),
    redis: join(out, 'redis.mjs'),
    testing: join(out, 'testing.mjs'),
    cleanup: () => rmSync(out, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Child: one process of the fleet.
// ---------------------------------------------------------------------------------------------
async function child(config) {
  const { createStsCache, createStsClient, fileStsStore, fromRamRole, fromStatic } = await import(pathToFileURL(config.lib.node).href);
  let store;
  let close = async () => {};
  if (config.store.kind === 'file') store = fileStsStore({ dir: config.store.dir });
  if (config.store.kind === 'redis') {
    const { redisStsStore } = await import(pathToFileURL(config.lib.redis).href);
    const { Redis } = await import('ioredis');
    const client = new Redis({ host: '127.0.0.1', port: config.store.port, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    store = redisStsStore({ client });
    close = async () => client.disconnect();
  }
  // Without a store: a cache of this process only (what every process has today).
  const cache = createStsCache(store ? { store, logger: { warn: (m) => process.send({ type: 'warn', message: m }) } } : {});
  const providers = config.roleArns.map((roleArn) =>
    fromRamRole({ source: fromStatic(config.user), roleArn, durationSeconds: 900, sts: { endpoint: config.endpoint }, cache }),
  );
  const sts = createStsClient({ endpoint: config.endpoint });
  process.send({ type: 'ready' });
  await new Promise((resolve) => process.once('message', resolve)); // go
  let ok = 0;
  let failed = 0;
  const until = Date.now() + config.seconds * 1000;
  while (Date.now() < until) {
    await Promise.all(
      providers.map(async (provider) => {
        try {
          await sts.getCallerIdentity(await provider());
          ok++;
        } catch {
          failed++;
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const provider of providers) provider.close();
  await close();
  process.send({ type: 'done', ok, failed });
}

// ---------------------------------------------------------------------------------------------
// Parent.
// ---------------------------------------------------------------------------------------------
function startRedis() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => {
        const dir = mkdtempSync(join(tmpdir(), 'alicred-bench-redis-'));
        const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
        proc.once('error', () => reject(new Error('redis-server is not installed: run apt-get update && apt-get install -y redis-server')));
        let out = '';
        proc.stdout.on('data', (c) => {
          out += c;
          if (out.includes('Ready to accept connections')) {
            proc.stdout.resume();
            resolve({ port, stop: () => (proc.kill('SIGKILL'), rmSync(dir, { recursive: true, force: true })) });
          }
        });
      });
    });
  });
}

async function runFleet({ lib, emu, processes, roleArns, user, seconds, store }) {
  const before = emu.callCount('AssumeRole');
  const children = Array.from({ length: processes }, () =>
    fork(HERE, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const warnings = [];
  const ready = children.map(
    (c) =>
      new Promise((resolve, reject) => {
        c.on('message', (m) => {
          if (m.type === 'ready') resolve();
          if (m.type === 'warn') warnings.push(m.message);
        });
        c.once('exit', (code) => reject(new Error(`a child exited (${code}) before it was ready`)));
      }),
  );
  const done = children.map((c) => new Promise((resolve) => c.on('message', (m) => m.type === 'done' && resolve(m))));
  for (const c of children) c.send({ type: 'config', config: { lib, endpoint: emu.stsEndpoint, user, roleArns, seconds, store } });
  await Promise.all(ready);
  for (const c of children) c.send({ type: 'go' });
  const results = await Promise.all(done);
  for (const c of children) if (c.connected) c.disconnect();
  return {
    sts: emu.callCount('AssumeRole') - before,
    ok: results.reduce((n, r) => n + r.ok, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    warnings,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      processes: { type: 'string', default: '8' },
      roles: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '12' },
      'time-scale': { type: 'string', default: '180' },
      store: { type: 'string', default: 'file' },
      from: { type: 'string', default: 'dist' },
    },
  });
  const processes = Number(values.processes);
  const roles = Number(values.roles);
  const seconds = Number(values.seconds);
  const timeScale = Number(values['time-scale']);
  if (!['file', 'redis'].includes(values.store)) throw new Error('--store is file or redis');
  const lib = await library(values.from);
  const { startEmulator } = await import(pathToFileURL(lib.testing).href);
  const user = { name: 'bench', accessKeyId: 'LTAI5tBenchFleet0000001', accessKeySecret: 'bench-fleet-secret-0123456789' };
  const roleNames = Array.from({ length: roles }, (_, i) => `bench-role-${i}`);
  const emu = await startEmulator({ users: [user], roles: roleNames.map((name) => ({ name, trustedUsers: ['bench'] })), timeScale });
  const roleArns = roleNames.map((r) => emu.roleArn(r));
  const scratch = mkdtempSync(join(tmpdir(), 'alicred-bench-fleet-'));
  const redis = values.store === 'redis' ? await startRedis() : undefined;
  try {
    const lifetime = 900 / timeScale;
    console.log(
      `alicred fleet bench: ${processes} processes × ${roles} roles, ${seconds} s per run, 900 s sessions living ${lifetime.toFixed(1)} s ` +
        `(a refresh about every ${(lifetime / 2).toFixed(1)} s), library from ${values.from}/`,
    );
    const common = { lib, emu, processes, roleArns, user: { accessKeyId: user.accessKeyId, accessKeySecret: user.accessKeySecret }, seconds };
    const alone = await runFleet({ ...common, store: { kind: 'none' } });
    const store = values.store === 'redis' ? { kind: 'redis', port: redis.port } : { kind: 'file', dir: join(scratch, 'sts') };
    const shared = await runFleet({ ...common, store });
    const row = (name, r) =>
      `  ${name.padEnd(22)} ${String(r.sts).padStart(6)} AssumeRole   ${String(r.ok).padStart(7)} calls answered, ${r.failed} failed`;
    console.log(row('each process alone', alone));
    console.log(row(`shared (${values.store} store)`, shared));
    console.log(`  ratio: ${(alone.sts / Math.max(1, shared.sts)).toFixed(1)}x fewer STS calls with the store (ideal: ${processes}x)`);
    if (shared.warnings.length > 0) console.log(`  store warnings: ${shared.warnings.join(' | ')}`);
    if (alone.failed + shared.failed > 0) process.exitCode = 1;
  } finally {
    redis?.stop();
    await emu.close();
    rmSync(scratch, { recursive: true, force: true });
    lib.cleanup();
  }
}

if (process.argv.includes('--child')) {
  process.once('message', (m) => {
    child(m.config).catch((error) => {
      console.error(error);
      process.exit(1);
    });
  });
} else {
  await main();
}
