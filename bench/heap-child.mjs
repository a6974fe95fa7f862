/**
 * Child of bench/heap.mjs, run with --expose-gc: creates N RAM-role providers of one library,
 * each with its own role ARN, resolves each once (fake STS, no network), keeps them all
 * alive and prints the heap growth per provider as JSON.
 *
 * Usage: node --expose-gc bench/heap-child.mjs <alicred-options|alicred-client|alicred-in-use|peer> <N>
 *
 * alicred-in-use: as alicred-options, then called once more: a provider in use, its background
 * timer armed (alicred arms it on the first use after a credential arrives).
 */
import { blocked } from './guard.mjs';

const [mode, nArg] = process.argv.slice(2);
const N = Number(nArg);
const WARMUP = 200;
if (typeof globalThis.gc !== 'function') throw new Error('heap-child: run with --expose-gc');

const arn = (prefix, i) => `acs:ram::1234567890123456:role/${prefix}-${i}`;

/** Returns make(i) -> Promise<provider>, resolved once, for the mode. */
async function factory() {
  if (mode === 'peer') {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const { fakeStsDoRequest } = await import('./peer.mjs');
    const mod = require('@alicloud/credentials');
    const pick = (name) => mod[name] ?? mod.default?.[name];
    const Ram = pick('RAMRoleARNCredentialsProvider');
    const StaticAK = pick('StaticAKCredentialsProvider');
    // One source and one fake shared by all: per-provider state only is measured.
    const source = StaticAK.builder().withAccessKeyId('LTAI-bench-static').withAccessKeySecret('bench-static-secret').build();
    const fake = fakeStsDoRequest({ delayMs: 0 });
    return async (i) => {
      const p = Ram.builder()
        .withCredentialsProvider(source)
        .withRoleArn(arn('peer', i))
        .withRoleSessionName('bench')
        .withDurationSeconds(3600)
        .withStsEndpoint('sts.invalid')
        .build();
      p.doRequest = fake; // replaces the instance field the constructor set: no extra memory
      await p.getCredentials();
      return p;
    };
  }
  const { fromRamRole, fromStatic, createStsClient } = await import('../dist/index.js');
  const { fakeStsFetch, SOURCE_KEY } = await import('./fake-sts.mjs');
  const source = fromStatic(SOURCE_KEY);
  const fetch = fakeStsFetch({ delayMs: 0 });
  // alicred-options: one options object shared by all, so each provider creates its own STS
  // client (the like-for-like case: every peer provider builds its own request machinery).
  // alicred-client: one StsClient shared by all.
  const sts = mode === 'alicred-options' || mode === 'alicred-in-use' ? { fetch } : mode === 'alicred-client' ? createStsClient({ fetch }) : undefined;
  if (sts === undefined) throw new Error(`heap-child: unknown mode ${mode}`);
  const inUse = mode === 'alicred-in-use';
  return async (i) => {
    const p = fromRamRole({ source, roleArn: arn('alicred', i), durationSeconds: 3600, cache: false, sts });
    await p();
    if (inUse) await p(); // the hot path: arms the background timer
    return p;
  };
}

const make = await factory();
// Warm-up: code compiled and one-time structures allocated before the baseline.
const warm = [];
for (let i = 0; i < WARMUP; i++) warm.push(await make(-1 - i));
warm.length = 0;

const settle = async () => {
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 4; i++) globalThis.gc();
};

const kept = new Array(N).fill(null); // allocated before the baseline
await settle();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) kept[i] = await make(i);
await settle();
const after = process.memoryUsage().heapUsed;
if (kept.some((p) => p === null)) throw new Error('unreachable');
if (blocked.count !== 0) throw new Error('heap-child: network attempts were blocked');
process.stdout.write(JSON.stringify({ mode, n: N, bytesPerProvider: (after - before) / N }));
process.exit(0);
