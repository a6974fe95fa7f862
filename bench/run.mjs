/**
 * alicred vs @alicloud/credentials (and AWS references): cost of a cached call, number of
 * STS calls, memory per provider, bundle size and import time.
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
 * Issue 10's rows, one file each, called from main() below (how each is measured is in its
 * file and in the BENCHMARKS.md this run writes, with the machine):
 * 5. bench/tea.mjs: `toTeaCredential(fromRamRole(…)).getCredential()` vs the peer's
 *    `new Credential({ type: 'ram_role_arn' }).getCredential()`.
 * 6. bench/memoize.mjs: raw cached `await fromRamRole(…)()` vs @smithy/property-provider memoize.
 * 7. bench/heap.mjs (+ heap-child.mjs): heap per resolved role provider, child processes.
 * 8. bench/size.mjs: browser bundles (esbuild, gzip -9) vs AWS fromHttp / fromTemporaryCredentials.
 * 9. bench/import.mjs: cold import in fresh node processes.
 *
 * Run: npm run bench (builds dist/ first), or: npx rollup -c rollup.config.mjs && node bench/run.mjs
 */
import { blocked } from './guard.mjs'; // first: sets the env and arms the network tripwire
import os from 'node:os';
import { refreshing } from '../dist/index.js';
import { fakeCredentialSource } from '../dist/testing.js';
import { createPeerRoleProvider } from './peer.mjs';
import { calibrate, flush, formatBytes, formatNs, formatRatio, formatRatioRange, markdownTable, median, nowNs, ratioStats } from './measure.mjs';
import { benchTea } from './tea.mjs';
import { benchMemoize } from './memoize.mjs';
import { benchHeap } from './heap.mjs';
import { benchSize } from './size.mjs';
import { ledgerSummary, ledgerTable, sizeLedger } from './size-ledger.mjs';
import { benchImport } from './import.mjs';
import { writeBenchmarksMd } from './report.mjs';

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
    return { ours: median(oursNs), peer: median(peerNs), ...ratioStats(oursNs, peerNs), peek: median(peekNs), checks, peerVersion: peer.version };
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
  // In-process timings first, while nothing else runs; child processes and bundling after.
  const hot = await benchHotPath();
  const tea = await benchTea();
  const memo = await benchMemoize();
  const cold = await benchConcurrentCold();
  const spread = await benchSpreadOverTime();
  const heap = await benchHeap();
  const imp = await benchImport();
  const size = await benchSize();
  const ledgerBundles = await sizeLedger();
  const ledger = `${ledgerTable(ledgerBundles)}\n\n${ledgerSummary(ledgerBundles)}`;
  const base = await calibrate();
  if (blocked.count !== 0) throw new Error(`bench: ${blocked.count} network attempts were blocked; results are invalid`);

  const peerName = `@alicloud/credentials ${hot.peerVersion}`;
  const KB = 1024;
  const [sizeUri, sizeRole] = size.rows;
  // [measure, alicred, reference (what), reference value, ratio, goal, status]
  const rows = [
    [
      `cached hot path, ns per \`await provider()\` on \`refreshing(fakeCredentialSource)\` (3600 s creds; ${HOT_ROUNDS} rounds × ${HOT_ITERATIONS / 1000}k)`,
      formatNs(hot.ours),
      `${peerName} RAMRoleARNCredentialsProvider \`getCredentials()\`: ${formatNs(hot.peer)}`,
      formatRatioRange(hot),
      'ratio <= 0.25',
      mark(hot.ratio <= 0.25),
    ],
    [
      `Tea: \`toTeaCredential(fromRamRole(…)).getCredential()\`, ns per call (${tea.rounds} rounds × ${tea.iterations / 1000}k)`,
      formatNs(tea.oursNs),
      `${peerName} \`new Credential({ type: 'ram_role_arn' }).getCredential()\`: ${formatNs(tea.peerNs)}`,
      formatRatioRange(tea),
      'ratio <= 0.35',
      mark(tea.ratio <= 0.35),
    ],
    [
      `raw cached \`await fromRamRole(…)()\`, ns per call (${memo.rounds} rounds × ${memo.iterations / 1000}k)`,
      formatNs(memo.oursNs),
      `@smithy/property-provider ${memo.version} \`memoize\` (AWS SDK's settings): ${formatNs(memo.peerNs)}`,
      formatRatioRange(memo),
      'ratio <= 1.0',
      mark(memo.ratio <= 1.0),
    ],
    [
      `floor of each design, no library: two clock reads + a settled promise (alicred's rules) vs one clock read in an async function (memoize's)`,
      formatNs(memo.floor.oursNs),
      `one clock: ${formatNs(memo.floor.peerNs)}`,
      formatRatioRange(memo.floor),
      'informational: the hot-path floor',
      '',
    ],
    [
      `heap per resolved \`fromRamRole\` (own role ARN, \`cache: false\`, one shared \`sts\` options object; ${heap.n} kept, median of ${heap.rounds} children)`,
      formatBytes(heap.options.ours),
      `${peerName} RAMRoleARNCredentialsProvider, resolved: ${formatBytes(heap.options.peer)}`,
      formatRatioRange(heap.options),
      '<= 1 024 B',
      mark(heap.options.ours <= 1024),
    ],
    [
      `heap per resolved \`fromRamRole\` (as above, one shared in-process StsClient)`,
      formatBytes(heap.client.ours),
      `same peer figure: ${formatBytes(heap.client.peer)}`,
      formatRatioRange(heap.client),
      '<= 1 024 B',
      mark(heap.client.ours <= 1024),
    ],
    [
      `heap per \`fromRamRole\` in use (as the first row, then called once more: background timer armed)`,
      formatBytes(heap.inUse.ours),
      `same peer figure (it has no timer): ${formatBytes(heap.inUse.peer)}`,
      formatRatioRange(heap.inUse),
      'informational',
      '',
    ],
    [
      'browser bundle, `export { refreshing, fromCredentialsUri }`, min+gzip -9',
      `${formatBytes(sizeUri.oursSize.gzip)} (${sizeUri.oursSize.gzip} B)`,
      `@aws-sdk/credential-provider-http ${size.versions.http} \`fromHttp\` (browser): ${formatBytes(sizeUri.peerSize.gzip)}`,
      formatRatio(sizeUri.ratio),
      '<= 6 KB',
      mark(sizeUri.oursSize.gzip <= 6 * KB),
    ],
    [
      'browser bundle, `export { fromRamRole }`, min+gzip -9',
      `${formatBytes(sizeRole.oursSize.gzip)} (${sizeRole.oursSize.gzip} B)`,
      `@aws-sdk/credential-providers ${size.versions.providers} \`fromTemporaryCredentials\` (browser): ${formatBytes(sizeRole.peerSize.gzip)}`,
      formatRatio(sizeRole.ratio),
      '<= 15 KB',
      mark(sizeRole.oursSize.gzip <= 15 * KB),
    ],
    [
      `cold \`import('alicred/node')\`, ms in a fresh node (median of ${imp.samples} interleaved pairs)`,
      `${imp.oursMs.toFixed(1)} ms`,
      `\`import('@alicloud/credentials')\`: ${imp.peerMs.toFixed(1)} ms`,
      formatRatioRange(imp),
      'ratio <= 0.5',
      mark(imp.ratio <= 0.5),
    ],
    [
      `\`peek()\`, ns per call (${PEEK_ROUNDS} × ${PEEK_ITERATIONS / 1e6}M)`,
      formatNs(hot.peek),
      'n/a (no synchronous read)',
      'n/a',
      'informational',
      '',
    ],
    [
      `source calls, ${CONCURRENT} concurrent cold callers (${DELAY_MS} ms fake delay)`,
      String(cold.ours),
      `${peerName} RAMRoleARNCredentialsProvider: ${cold.peer}`,
      formatRatio(cold.ours / cold.peer),
      'alicred = 1',
      mark(cold.ours === 1),
    ],
    [
      `source calls, ${SPREAD_CALLS} calls over ${(SPREAD_CALLS * SPREAD_STEP_MS) / 60_000} simulated min (900 s creds)`,
      String(spread.ours),
      `${peerName} RAMRoleARNCredentialsProvider: ${spread.peer}`,
      formatRatio(spread.ours / spread.peer),
      'alicred <= 2',
      mark(spread.ours <= 2),
    ],
  ];
  const header = ['measure', 'alicred', 'reference', 'ratio alicred/ref: median (min–max) of rounds', 'goal', 'status'];
  const table = markdownTable(header, rows);

  const cpus = os.cpus();
  const machine = {
    node: process.version,
    cpu: `${cpus[0]?.model?.trim() ?? 'unknown CPU'} × ${cpus.length}`,
    platform: `${process.platform}/${process.arch}`,
    date: new Date().toISOString(),
  };
  const context =
    `Date.now() ${formatNs(base.dateNow)}, performance.now() ${formatNs(base.performanceNow)}, ` +
    `await of an async function that returns at once ${formatNs(base.awaitAsync)}`;

  console.log(`alicred vs ${peerName}, @smithy memoize, AWS browser providers`);
  console.log(`Node ${machine.node} on ${machine.platform}, ${machine.cpu}, ${machine.date}`);
  console.log('');
  console.log(table);
  console.log('');
  const perRound = (label, r) => console.log(`${label}: ${r.ratios.map((x) => formatRatio(x)).join(' ')}`);
  console.log('Per-round ratios (alicred/reference):');
  perRound('  hot path', hot);
  perRound('  Tea getCredential', tea);
  perRound('  raw fromRamRole vs memoize', memo);
  perRound('  heap, options object', heap.options);
  perRound('  heap, shared client', heap.client);
  perRound('  heap, in use', heap.inUse);
  perRound('  cold import', imp);
  console.log(`Context (this machine): ${context}.`);
  if (hot.checks.oursCalls !== 1 || hot.checks.peerCalls !== 1) {
    console.log(`WARNING: the hot-path providers made ${hot.checks.oursCalls} (alicred) / ${hot.checks.peerCalls} (peer) source calls, expected 1 each.`);
  }
  console.log('');
  console.log('What each promise weighs in the browser bundles (bench/size-ledger.mjs):');
  console.log(ledger);
  const file = await writeBenchmarksMd({ machine, table, context, ledger, results: { hot, tea, memo, heap, imp } });
  console.log(`Wrote ${file}. Total bench time ${((nowNs() - started) / 1e9).toFixed(1)} s.`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
