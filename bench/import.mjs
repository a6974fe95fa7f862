/**
 * Cold import: a fresh `node` per sample, timing `import(specifier)` inside the child with
 * performance.now() (process start-up is not counted). alicred/node and @alicloud/credentials
 * alternate sample by sample; the ratio is taken per pair. Each child preloads
 * bench/guard.mjs (--import) so the tripwire holds there too; that loads node:net before the
 * timer starts, which both imports would load anyway (the peer also loads http, tls, https).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, ratioStats } from './measure.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUARD = new URL('./guard.mjs', import.meta.url).href;
const SAMPLES = 25;

function sample(specifier) {
  const code = `const t=performance.now();import(${JSON.stringify(specifier)}).then(()=>{process.stdout.write(String(performance.now()-t))})`;
  const out = spawnSync(process.execPath, ['--import', GUARD, '-e', code], { cwd: ROOT, encoding: 'utf8', env: process.env });
  if (out.status !== 0) throw new Error(`import: child for ${specifier} failed (${out.status}): ${out.stderr}`);
  return Number(out.stdout);
}

export async function benchImport() {
  const ours = [];
  const peer = [];
  sample('alicred/node'); // first spawn pays for a cold file cache; not counted
  sample('@alicloud/credentials');
  for (let i = 0; i < SAMPLES; i++) {
    if (i % 2 === 0) {
      ours.push(sample('alicred/node'));
      peer.push(sample('@alicloud/credentials'));
    } else {
      peer.push(sample('@alicloud/credentials'));
      ours.push(sample('alicred/node'));
    }
  }
  return { samples: SAMPLES, oursMs: median(ours), peerMs: median(peer), ours, peer, ...ratioStats(ours, peer) };
}
