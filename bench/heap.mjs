/**
 * Heap per resolved RAM-role provider, both libraries: each sample is a fresh child process
 * (bench/heap-child.mjs, --expose-gc) that keeps N resolved providers alive and reports
 * (heapUsed after - before) / N, both after full GCs. Modes run interleaved per round.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, ratioStats } from './measure.mjs';

const CHILD = fileURLToPath(new URL('./heap-child.mjs', import.meta.url));
const N = 10_000; // at 2 000 the peer's figure (~450 B) wandered ±100 B with baseline noise
const ROUNDS = 3;

function sample(mode) {
  const out = spawnSync(process.execPath, ['--expose-gc', CHILD, mode, String(N)], { encoding: 'utf8', env: process.env });
  if (out.status !== 0) throw new Error(`heap: child ${mode} failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout).bytesPerProvider;
}

export async function benchHeap() {
  const options = [];
  const client = [];
  const inUse = [];
  const peer = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = ['alicred-options', 'alicred-client', 'alicred-in-use', 'peer'];
    if (r % 2 === 1) order.reverse();
    for (const mode of order) {
      const bytes = sample(mode);
      ({ peer, 'alicred-client': client, 'alicred-in-use': inUse, 'alicred-options': options })[mode].push(bytes);
    }
  }
  return {
    n: N,
    rounds: ROUNDS,
    options: { ours: median(options), peer: median(peer), ...ratioStats(options, peer) },
    client: { ours: median(client), peer: median(peer), ...ratioStats(client, peer) },
    inUse: { ours: median(inUse), peer: median(peer), ...ratioStats(inUse, peer) },
  };
}
