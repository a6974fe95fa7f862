/**
 * alicred vs @alicloud/credentials: cost of a cached call and number of STS calls.
 *
 * Both libraries run in this one process, in the same run, fed by in-process fakes with
 * the same delay (nothing touches the network: see bench/guard.mjs and bench/peer.mjs).
 * alicred is `refreshing(fakeCredentialSource(...))`; the peer is its RAM role provider
 * (RAMRoleARNCredentialsProvider over a static AccessKey) whose STS request is answered by
 * a fake returning a real AssumeRole response body, so the peer's own caching, signing and
 * parsing all run. What is measured:
 *
 * 1. cached hot path: ns per `await provider()` vs `await peer.getCredentials()` once both
 *    hold 3600 s credentials (one cold fetch each, 5 ms fake delay); warm-up, then the
 *    median of several rounds, rounds of the two libraries interleaved so that machine
 *    noise hits both alike.
 * 2. `peek()`: alicred's synchronous read of the cache (the peer has no equivalent).
 * 3. 1000 concurrent cold callers on a fresh provider: how many source (STS) calls.
 * 4. 1000 calls spread over 10 simulated minutes, one every 600 ms, 900 s credentials:
 *    how many source calls. Time is simulated for alicred with its `clock` option and for
 *    the peer by replacing Date.now (restored afterwards). alicred's background timer is
 *    OFF here (a real-time timer cannot follow a simulated clock, and the peer has no
 *    timer), so both count only the refreshes their callers trigger; each call is awaited
 *    and the event loop flushed, so alicred's asynchronous advisory refreshes complete and
 *    are counted. Fake delay 0: only simulated time matters.
 *
 * Run: npm run bench (builds dist/ first), or: npx rollup -c rollup.config.mjs && node bench/run.mjs
 */
import { blocked } from './guard.mjs'; // first: sets the env and arms the network tripwire
import { refreshing } from '../dist/index.js';
import { fakeCredentialSource } from '../dist/testing.js';
import { createPeerRoleProvider } from './peer.mjs';
import { calibrate, flush, formatNs, formatRatio, markdownTable, median, nowNs } from './measure.mjs';

const DELAY_MS = 5;
const HOT_WARMUP = 50_000;
const HOT_ITERATIONS = 200_000;
const HOT_ROUNDS = 7;
const PEEK_ITERATIONS = 2_000_000;
const PEEK_ROUNDS = 7;
const CONCURRENT = 1000;
const SPREAD_CALLS = 1000;
const SPREAD_STEP_MS = 600;

// ---------------------------------------------------------------------------------------
// 1 + 2: hot path and peek

/** One hand-written loop per library (see measure.mjs for why). Returns ns per call. */
async function loopOurs(provider, n) {
  let sink = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) {
    const c = await provider();
    sink += c.accessKeyId.length;
  }
  const ns = (nowNs() - start) / n;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

async function loopPeer(provider, n) {
  let sink = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) {
    const c = await provider.getCredentials();
    sink += c.accessKeyId.length;
  }
  const ns = (nowNs() - start) / n;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

function loopPeek(provider, n) {
  let sink = 0;
  const start = nowNs();
  for (let i = 0; i < n; i++) {
    const c = provider.peek();
    if (c !== undefined) sink++;
  }
  const ns = (nowNs() - start) / n;
  if (sink !== n) throw new Error(`peek() returned undefined ${n - sink} times on a warm provider`);
  return ns;
}

async function benchHotPath() {
  const source = fakeCredentialSource({ lifetimeMs: 3600_000, delayMs: DELAY_MS });
  const ours = refreshing(source);
  const peer = createPeerRoleProvider({ durationSeconds: 3600, delayMs: DELAY_MS });
  try {
    // The one cold fetch each, same fake delay.
    const a = await ours();
    const b = await peer.provider.getCredentials();
    if (!a.accessKeyId.startsWith('STS.') || !b.accessKeyId.startsWith('STS.')) throw new Error('unexpected cold result');

    await loopOurs(ours, HOT_WARMUP);
    await loopPeer(peer.provider, HOT_WARMUP);
    loopPeek(ours, HOT_WARMUP);

    const oursNs = [];
    const peerNs = [];
    for (let r = 0; r < HOT_ROUNDS; r++) {
      // Alternate which library goes first in a round.
      if (r % 2 === 0) {
        oursNs.push(await loopOurs(ours, HOT_ITERATIONS));
        peerNs.push(await loopPeer(peer.provider, HOT_ITERATIONS));
      } else {
        peerNs.push(await loopPeer(peer.provider, HOT_ITERATIONS));
        oursNs.push(await loopOurs(ours, HOT_ITERATIONS));
      }
    }
    const peekNs = [];
    for (let r = 0; r < PEEK_ROUNDS; r++) peekNs.push(loopPeek(ours, PEEK_ITERATIONS));

    // The hot path must have stayed hot: one source call each, nothing more.
    const checks = { oursCalls: source.calls, peerCalls: peer.fake.calls };
    return { ours: median(oursNs), peer: median(peerNs), peek: median(peekNs), checks, peerVersion: peer.version };
  } finally {
    ours.close();
  }
}

// ---------------------------------------------------------------------------------------
// 3: concurrent cold callers

async function benchConcurrentCold() {
  const source = fakeCredentialSource({ lifetimeMs: 3600_000, delayMs: DELAY_MS });
  const ours = refreshing(source);
  try {
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => ours()));
    if (results.some((c) => c !== results[0])) throw new Error('alicred: concurrent callers got different credentials');
  } finally {
    ours.close();
  }

  const peer = createPeerRoleProvider({ durationSeconds: 3600, delayMs: DELAY_MS });
  const peerResults = await Promise.all(Array.from({ length: CONCURRENT }, () => peer.provider.getCredentials()));
  if (peerResults.some((c) => !c.accessKeyId?.startsWith('STS.'))) throw new Error('peer: a concurrent caller got no STS credentials');

  return { ours: source.calls, peer: peer.fake.calls };
}

// ---------------------------------------------------------------------------------------
// 4: calls spread over simulated time

async function benchSpreadOverTime() {
  // alicred: simulated wall clock through the `clock` option, background timer off.
  let simulated = Date.now();
  const clock = () => simulated;
  const source = fakeCredentialSource({ lifetimeMs: 900_000, delayMs: 0, clock });
  const ours = refreshing(source, { clock, backgroundTimer: false });
  try {
    for (let i = 0; i < SPREAD_CALLS; i++) {
      const c = await ours();
      if (!(c.expiration.getTime() > simulated)) throw new Error('alicred returned expired credentials');
      await flush(); // let a background (advisory) refresh started by this call finish
      simulated += SPREAD_STEP_MS;
    }
  } finally {
    ours.close();
  }

  // Peer: its refresh logic reads Date.now(); replace it for the duration, then restore.
  const realDateNow = Date.now;
  let peerCalls;
  let peerSimulated = realDateNow();
  Date.now = () => peerSimulated;
  try {
    const peer = createPeerRoleProvider({ durationSeconds: 900, delayMs: 0 });
    for (let i = 0; i < SPREAD_CALLS; i++) {
      const c = await peer.provider.getCredentials();
      if (!c.accessKeyId?.startsWith('STS.')) throw new Error('peer returned no STS credentials');
      await flush();
      peerSimulated += SPREAD_STEP_MS;
    }
    peerCalls = peer.fake.calls;
  } finally {
    Date.now = realDateNow;
  }
  return { ours: source.calls, peer: peerCalls };
}

// ---------------------------------------------------------------------------------------

const mark = (ok) => (ok ? 'met' : 'NOT met');

async function main() {
  const started = nowNs();
  const hot = await benchHotPath();
  const cold = await benchConcurrentCold();
  const spread = await benchSpreadOverTime();
  const base = await calibrate();
  if (blocked.count !== 0) throw new Error(`bench: ${blocked.count} network attempts were blocked; results are invalid`);

  const hotRatio = hot.ours / hot.peer;
  const rows = [
    [
      `cached hot path, ns per await (3600 s creds, median of ${HOT_ROUNDS}×${HOT_ITERATIONS / 1000}k)`,
      formatNs(hot.ours),
      formatNs(hot.peer),
      formatRatio(hotRatio),
      `ratio <= 0.25 (${mark(hotRatio <= 0.25)})`,
    ],
    [
      `peek(), ns per call (median of ${PEEK_ROUNDS}×${PEEK_ITERATIONS / 1e6}M)`,
      formatNs(hot.peek),
      'n/a',
      'n/a',
      'informational (sync, no I/O)',
    ],
    [
      `source calls, ${CONCURRENT} concurrent cold callers (${DELAY_MS} ms fake delay)`,
      String(cold.ours),
      String(cold.peer),
      formatRatio(cold.ours / cold.peer),
      `alicred = 1 (${mark(cold.ours === 1)})`,
    ],
    [
      `source calls, ${SPREAD_CALLS} calls over ${(SPREAD_CALLS * SPREAD_STEP_MS) / 60_000} simulated min (900 s creds)`,
      String(spread.ours),
      String(spread.peer),
      formatRatio(spread.ours / spread.peer),
      `alicred <= 2 (${mark(spread.ours <= 2)})`,
    ],
  ];

  console.log(`alicred vs @alicloud/credentials ${hot.peerVersion} (RAMRoleARNCredentialsProvider)`);
  console.log(`Node ${process.version} on ${process.platform}/${process.arch}, ${new Date().toISOString()}`);
  console.log('');
  console.log(markdownTable(['scenario', 'alicred', '@alicloud/credentials', 'ratio (alicred/peer)', 'goal'], rows));
  console.log('');
  console.log('Notes: in-process fakes on both sides, no network. Row 4 runs alicred with backgroundTimer: false');
  console.log('(a real-time timer cannot follow simulated time; the peer has none), so both count only');
  console.log('caller-triggered refreshes; alicred\'s asynchronous advisory refreshes are awaited and counted.');
  console.log(
    `Context (this machine): Date.now() ${formatNs(base.dateNow)}, performance.now() ${formatNs(base.performanceNow)}, ` +
      `await of an async function that returns at once ${formatNs(base.awaitAsync)}.`,
  );
  if (hot.checks.oursCalls !== 1 || hot.checks.peerCalls !== 1) {
    console.log(`WARNING: the hot-path providers made ${hot.checks.oursCalls} (alicred) / ${hot.checks.peerCalls} (peer) source calls, expected 1 each.`);
  }
  console.log(`Total bench time ${((nowNs() - started) / 1e9).toFixed(1)} s.`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
