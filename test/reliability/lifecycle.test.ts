/**
 * Lifecycle (issue 9): 100 000 refreshing providers, each called once and dropped without
 * close() while its background timer is still armed (1 h credentials: the advisory point is
 * 30 min away). The timer holds its provider weakly and a finalizer clears it, so the heap
 * stays flat and the source is never called again.
 *
 * Runs the built package (dist/, built by `npm test`'s pretest) in `node --expose-gc`, with an
 * in-process source: gc() and a heap that no test runner shares.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordFigures } from './figures.js';

const root = resolve(import.meta.dirname, '..', '..');
const distUrl = pathToFileURL(resolve(root, 'dist/index.js')).href;

const N = 100_000;
/** Providers kept alive to learn what one holds: the yardstick for "flat". */
const CONTROL = 10_000;

// The child script. Timers are counted by wrapping setTimeout before alicred is loaded (the
// engine looks it up at each call); unref'd timers are invisible to getActiveResourcesInfo().
const script = `
const N = ${N}, CONTROL = ${CONTROL};
let armed = 0, peakArmed = 0;
const pending = new WeakSet();
const realSet = globalThis.setTimeout, realClear = globalThis.clearTimeout;
globalThis.setTimeout = (fn, ms, ...args) => {
  const handle = realSet((...a) => { if (pending.delete(handle)) armed--; fn(...a); }, ms, ...args);
  pending.add(handle);
  peakArmed = Math.max(peakArmed, ++armed);
  return handle;
};
globalThis.clearTimeout = (handle) => { if (handle !== undefined && pending.delete(handle)) armed--; realClear(handle); };

const { refreshing, createCredentials } = await import(${JSON.stringify(distUrl)});
const started = performance.now();
const sleep = (ms) => new Promise((ok) => realSet(ok, ms));
// Finalizers (ours and the engine's, which clears a collected provider's timer) run between gcs.
const settle = async () => { for (let k = 0; k < 4; k++) { gc(); await sleep(10); } };
const heap = () => process.memoryUsage().heapUsed;

let controlCalls = 0, collected = 0;
const registry = new FinalizationRegistry(() => { collected++; });
// An STS-sized answer: a token of about 1 KB, as real ones are.
const issue = (n) => createCredentials({
  accessKeyId: 'STS.lifecycle' + n, accessKeySecret: 'secret-' + n + '-'.repeat(24),
  securityToken: 'CAIS' + String(n).padStart(8, '0').repeat(128), expiration: new Date(Date.now() + 3600000), source: 'lifecycle',
});
// Yardstick: CONTROL providers kept alive (then closed and dropped).
await settle();
const controlBase = heap();
let kept = [];
for (let i = 0; i < CONTROL; i++) { const p = refreshing(async () => issue(-(++controlCalls))); await p(); kept.push(p); }
await settle();
const perProvider = (heap() - controlBase) / CONTROL;
for (const p of kept) p.close();
kept = undefined;
await settle();

// Drops N providers, each called once and peeked; heap and armed timers at 0, N/2 and N.
async function dropMany(options) {
  const marks = {};
  let calls = 0;
  const source = async () => issue(++calls);
  await settle();
  marks[0] = { heap: heap(), armed };
  for (let i = 1; i <= N; i++) {
    const p = refreshing(source, options);
    await p();
    p.peek(); // a use of the new credential: its background timer is armed
    registry.register(p, i);
    if (i === N / 2 || i === N) { await settle(); marks[i] = { heap: heap(), armed }; }
  }
  return { calls, marks };
}
// First without timers (what the engine itself keeps), then with them armed (1 h credentials).
peakArmed = armed;
const untimed = await dropMany({ backgroundTimer: false });
untimed.peakArmed = peakArmed;
collected = 0;
peakArmed = armed;
const timed = await dropMany({});
timed.peakArmed = peakArmed;
const collectedTimed = collected;
// Nothing may call the source again: no refresh of a dropped provider.
await sleep(200);
console.log(JSON.stringify({ untimed, timed, calls: timed.calls, collected: collectedTimed, perProvider, armedEnd: armed, ms: performance.now() - started }));
`;

type Mark = { heap: number; armed: number };
type Phase = { calls: number; marks: Record<string, Mark>; peakArmed: number };
type Result = { untimed: Phase; timed: Phase; calls: number; collected: number; perProvider: number; armedEnd: number; ms: number };

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      { cwd: root, timeout: 60_000, maxBuffer: 1 << 20, env: { ...process.env, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

const MB = 1024 * 1024;

describe('lifecycle: providers created and dropped without close()', () => {
  it('100 000 providers, each called once, dropped with timers armed: heap flat, timers cleared, 100 000 source calls', async () => {
    const started = performance.now();
    const run = await runChild();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout) as Result;
    const [m0, m50, m100] = [r.timed.marks[0]!, r.timed.marks[N / 2]!, r.timed.marks[N]!];
    const untimedGrowth = r.untimed.marks[N]!.heap - r.untimed.marks[0]!.heap;
    // What N live providers would hold, from the yardstick.
    const wouldHold = r.perProvider * N;
    const growth = m100.heap - m0.heap;

    recordFigures('soak', [
      {
        case: 'lifecycle: 100 000 dropped providers, timers armed',
        providers: N,
        'heap 0 / 50k / 100k (MB)': [m0, m50, m100].map((m) => (m.heap / MB).toFixed(1)).join(' / '),
        'growth (MB)': (growth / MB).toFixed(2),
        'growth without timers (MB)': (untimedGrowth / MB).toFixed(2),
        '100k live would hold (MB)': `${(wouldHold / MB).toFixed(0)} (${Math.round(r.perProvider)} B each)`,
        'timers armed 0 / 50k / 100k': [m0, m50, m100].map((m) => m.armed).join(' / '),
        'source calls': r.calls,
        collected: r.collected,
        'runtime (s)': ((performance.now() - started) / 1000).toFixed(1),
      },
    ]);

    expect(r.untimed.calls).toBe(N);
    // The premise: with timers, thousands were armed at once before finalizers cleared them.
    expect(r.timed.peakArmed).toBeGreaterThan(1000);
    expect(r.untimed.peakArmed).toBeLessThan(10);
    expect(r.calls).toBe(N);
    // Nearly all collected (the last few may still be referenced by the loop when measured).
    expect(r.collected).toBeGreaterThanOrEqual(N - 10);
    // The yardstick is meaningful: a live provider with its credential holds kilobytes.
    expect(r.perProvider).toBeGreaterThan(1000);
    // The engine itself keeps nothing of a dropped provider.
    expect(untimedGrowth).toBeLessThan(wouldHold * 0.01);
    // With timers: far below what live providers would hold. What grows is Node's map of timer
    // lists, one key per distinct whole-ms delay (jittered delays are all different), and it
    // saturates at the number of such delays (see the report); a leak of 200 B a provider fails this.
    expect(growth).toBeLessThan(wouldHold * 0.05);
    // Every dropped provider's timer was cleared by its finalizer, not left to fire in 30 min.
    expect(m100.armed).toBeLessThanOrEqual(m0.armed + 10);
    expect(r.armedEnd).toBeLessThanOrEqual(m0.armed + 10);
  }, 60_000);
});
