/**
 * What every Tea client pays per request: `credential.getCredential()` on a warm, cached
 * RAM-role credential.
 *
 * alicred: `toTeaCredential(fromRamRole({ source: fromStatic(key), roleArn, sts: { fetch: fake } }))`
 * with default options (shared STS cache, refresh engine). Peer: `new Credential({ type:
 * 'ram_role_arn', ... })` from @alicloud/credentials, its STS call replaced by peer.mjs' fake.
 * One cold fetch each (same fake delay), warm-up, then rounds interleaved; one hand-written
 * loop per library so V8 never shares a call site between them.
 */
import { fromRamRole, fromStatic } from '../dist/index.js';
import { toTeaCredential } from '../dist/tea.js';
import { fakeStsFetch, SOURCE_KEY } from './fake-sts.mjs';
import { createPeerTeaCredential } from './peer.mjs';
import { interleaved, median, nowNs } from './measure.mjs';

const DELAY_MS = 5;
const WARMUP = 50_000;
const ITERATIONS = 200_000;
const ROUNDS = 9;

// One hand-written loop per library on purpose (see measure.mjs): no shared call site.
async function loopOurs(credential, n) {
  let sink = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) {
    const m = await credential.getCredential();
    sink += m.accessKeyId.length;
  }
  const ns = (nowNs() - start) / n;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

async function loopPeer(credential, n) {
  let sink = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) {
    const m = await credential.getCredential();
    sink += m.accessKeyId.length;
  }
  const ns = (nowNs() - start) / n;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

export async function benchTea() {
  const fetch = fakeStsFetch({ delayMs: DELAY_MS });
  const provider = fromRamRole({
    source: fromStatic(SOURCE_KEY),
    roleArn: 'acs:ram::1234567890123456:role/bench-tea',
    durationSeconds: 3600,
    sts: { fetch },
  });
  const ours = toTeaCredential(provider);
  const peer = createPeerTeaCredential({ durationSeconds: 3600, delayMs: DELAY_MS });
  try {
    const a = await ours.getCredential();
    const b = await peer.credential.getCredential();
    if (!a.accessKeyId.startsWith('STS.') || !b.accessKeyId.startsWith('STS.')) throw new Error('tea: unexpected cold result');

    await loopOurs(ours, WARMUP);
    await loopPeer(peer.credential, WARMUP);
    const r = await interleaved(
      ROUNDS,
      () => loopOurs(ours, ITERATIONS),
      () => loopPeer(peer.credential, ITERATIONS),
    );
    if (fetch.calls !== 1 || peer.fake.calls !== 1) {
      throw new Error(`tea: the hot path made ${fetch.calls} (alicred) / ${peer.fake.calls} (peer) STS calls, expected 1 each`);
    }
    return { ...r, oursNs: median(r.ours), peerNs: median(r.peer), rounds: ROUNDS, iterations: ITERATIONS };
  } finally {
    provider.close();
  }
}
