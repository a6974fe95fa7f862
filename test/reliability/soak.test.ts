/**
 * Soak (issue 9): a daemon holding 15-minute role credentials for 7 simulated days, 10
 * providers over 3 roles, callers every 1–10 s, 5 % of STS calls failing at random (seeded).
 * Every call must get a usable credential or a typed error; STS sees about one AssumeRole per
 * role per half-lifetime, retries included; timers, listeners and heap stay flat.
 *
 * Time is vitest's fake clock (Date, setTimeout, performance). STS is in-process (a real
 * HTTP emulator cannot be driven across 7 simulated days quickly): it stamps expirations
 * with the fake Date.now and fails the way the real client does (StsErrors from toStsError).
 */
import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createCredentials,
  createStsCache,
  defaultStsCache,
  fromRamRole,
  fromStatic,
  isCredentials,
  isCredentialsError,
  toStsError,
  type Credentials,
  type RefreshingProvider,
  type StsCache,
  type StsClient,
} from '../../src/index.js';
import { recordFigures } from './figures.js';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const DAYS = 7;
const DURATION_S = 900;
/** The mandatory window of a 900 s credential, min(5 min, L/10): no caller may get less. */
const MANDATORY_MS = 90 * SECOND;
/** The real STS client's default time limit: a slower answer becomes its Timeout error. */
const STS_TIMEOUT_MS = 10 * SECOND;
const SEEDS = { callers: 0x5eed_0001, faults: 0x5eed_0002, jitter: 0x5eed_0003, outages: 0x5eed_0004 };
const ENDPOINT = 'http://127.0.0.1:9'; // never contacted: the client below is in-process

/** mulberry32: a small seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FAULTS = ['http500', 'http503', 'throttling', 'network', 'timeout'] as const;
type Fault = (typeof FAULTS)[number];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorBody(code: string): string {
  return JSON.stringify({ Code: code, Message: `simulated ${code}`, RequestId: 'soak-request' });
}

/** The StsError the real client would give for each fault, after the time it would take. */
async function fail(fault: Fault): Promise<never> {
  const action = 'AssumeRole';
  switch (fault) {
    case 'http500':
      await sleep(50);
      throw toStsError({ kind: 'response', action, status: 500, body: errorBody('InternalError') });
    case 'http503':
      await sleep(50);
      throw toStsError({ kind: 'response', action, status: 503, body: errorBody('ServiceUnavailable') });
    case 'throttling':
      await sleep(50);
      throw toStsError({ kind: 'response', action, status: 400, body: errorBody('Throttling.User') });
    case 'network':
      await sleep(5);
      throw toStsError({ kind: 'network', action, endpoint: ENDPOINT, cause: new TypeError('fetch failed') });
    case 'timeout':
      await sleep(STS_TIMEOUT_MS);
      throw toStsError({ kind: 'timeout', action, endpoint: ENDPOINT, timeoutMs: STS_TIMEOUT_MS });
  }
}

type SoakSts = StsClient & { readonly calls: number; readonly outageCalls: number; readonly faults: Record<Fault, number> };

/**
 * An in-process StsClient: counts every AssumeRole, answers 503 while `down()`, otherwise fails
 * `faultRate` of calls per the seeded plan and answers the rest in 20–200 ms.
 */
function soakSts(random: () => number, faultRate: number, down: () => boolean): SoakSts {
  let calls = 0;
  let issued = 0;
  let outageCalls = 0;
  const faults = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  const assumeRole = async (_source: Credentials, params: { durationSeconds?: number }): Promise<Credentials> => {
    calls++;
    if (down()) {
      outageCalls++;
      await sleep(50);
      throw toStsError({ kind: 'response', action: 'AssumeRole', status: 503, body: errorBody('ServiceUnavailable') });
    }
    if (random() < faultRate) {
      const fault = FAULTS[Math.floor(random() * FAULTS.length)]!;
      faults[fault]++;
      return fail(fault);
    }
    await sleep(20 + Math.floor(random() * 180));
    issued++;
    return createCredentials({
      accessKeyId: `STS.soak${issued}`,
      accessKeySecret: `soak-secret-${issued}`,
      securityToken: `soak-token-${issued}`,
      expiration: new Date(Date.now() + (params.durationSeconds ?? 3600) * SECOND),
      source: 'sts:AssumeRole',
    });
  };
  const unused = () => Promise.reject(new Error('soak: not used'));
  const client = {
    endpoint: ENDPOINT,
    get calls() {
      return calls;
    },
    get outageCalls() {
      return outageCalls;
    },
    faults,
    assumeRole,
    assumeRoleDetailed: unused,
    assumeRoleWithOidc: unused,
    assumeRoleWithOidcDetailed: unused,
    getCallerIdentity: unused,
  };
  return client as unknown as SoakSts;
}

/** gc(): the global one under --expose-gc, else V8's, exposed at run time; undefined if neither works. */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function processListeners(): number {
  return process.eventNames().reduce((n, name) => n + process.listenerCount(name), 0);
}

const MB = 1024 * 1024;

/** Replaces `object[key]` until {@link restorePatches}; not vi.spyOn, whose call log would grow the heap. */
const restores: (() => void)[] = [];
function patch<T extends object, K extends keyof T>(object: T, key: K, value: T[K]): void {
  const original = object[key];
  object[key] = value;
  restores.push(() => {
    object[key] = original;
  });
}
function restorePatches(): void {
  while (restores.length > 0) restores.pop()!();
}

/**
 * The shared cache keys each refresh with a WebCrypto SHA-256, which completes on libuv's
 * thread pool: real microseconds, but the loop below moves the fake clock 1–10 s every few
 * microseconds, so a digest would seem to take simulated minutes (refreshes then hit their
 * 60 s deadline before reaching STS). The same digest, computed synchronously, keeps it at
 * zero simulated time as in a real daemon.
 */
function syncDigest(): void {
  const subtle = globalThis.crypto.subtle;
  const real = subtle.digest.bind(subtle);
  patch(subtle, 'digest', (algorithm: AlgorithmIdentifier, data: BufferSource) => {
    if (algorithm !== 'SHA-256' || !ArrayBuffer.isView(data)) return real(algorithm, data);
    const bytes = createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest();
    return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  });
}

const DEFAULT_CACHE_SLOT = Symbol.for('alicred.stsCache');

/**
 * Drops the process-wide cache so the next use creates it under the current fake clock: it
 * keeps the Date.now it was created with, and one from an earlier test's fake clock would
 * make it misjudge every lifetime (see the finding at the end of this file).
 */
function freshDefaultCache(): void {
  delete (globalThis as Record<symbol, unknown>)[DEFAULT_CACHE_SLOT];
}

afterEach(() => {
  restorePatches();
  vi.useRealTimers();
  freshDefaultCache();
});

type Plan = {
  name: string;
  faultRate: number;
  /** A full STS outage this long once a simulated day, at a seeded time. */
  outageMs?: number;
};

type DaySample = { timers: number; listeners: number; processListeners: number; sts: number; heapMB?: number };

/** Runs the daemon for DAYS simulated days under `plan`; returns what the assertions and figures need. */
async function runSoak(plan: Plan) {
  const wallStart = performance.now(); // real time: fake timers are not installed yet
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
  // The engine's jitter (retry waits included), seeded too: the whole run replays exactly.
  patch(Math, 'random', prng(SEEDS.jitter));
  syncDigest();
  freshDefaultCache();

  const outages = prng(SEEDS.outages);
  let outageStart = Number.POSITIVE_INFINITY;
  const down = () => Date.now() >= outageStart && Date.now() < outageStart + (plan.outageMs ?? 0);
  const sts = soakSts(prng(SEEDS.faults), plan.faultRate, down);
  const tenantCache: StsCache = createStsCache();
  const alice = { accessKeyId: 'LTAI5tSoakAlice0000000001', accessKeySecret: 'alice-secret' };
  const bob = { accessKeyId: 'LTAI5tSoakBob000000000002', accessKeySecret: 'bob-secret' };
  // Several providers per role, as in a daemon with several clients of one role; two roles
  // share the process-wide cache, the third a cache of its own.
  const layout: { role: string; user: typeof alice; cache: StsCache; count: number }[] = [
    { role: 'acs:ram::1234567890123456:role/reader', user: alice, cache: defaultStsCache, count: 4 },
    { role: 'acs:ram::1234567890123456:role/writer', user: alice, cache: defaultStsCache, count: 3 },
    { role: 'acs:ram::1234567890123456:role/tenant', user: bob, cache: tenantCache, count: 3 },
  ];
  const providers: RefreshingProvider[] = layout.flatMap(({ role, user, cache, count }) =>
    Array.from({ length: count }, () => fromRamRole({ source: fromStatic(user), roleArn: role, durationSeconds: DURATION_S, sts, cache })),
  );

  // A daemon-wide shutdown signal, passed on half the calls: its listeners must not pile up.
  const shutdown = new AbortController();
  const stats = { calls: 0, pending: 0, ok: 0, typed: 0, untyped: 0, bad: 0, minLeftMs: Number.POSITIVE_INFINITY };
  const errorCodes = new Map<string, number>();
  let firstBad: string | undefined;
  let firstUntyped: unknown;

  const onValue = (c: Credentials) => {
    stats.pending--;
    const left = (c.expiration?.getTime() ?? 0) - Date.now();
    if (left < stats.minLeftMs) stats.minLeftMs = left;
    if (isCredentials(c) && c.accessKeyId.startsWith('STS.') && c.securityToken && left > MANDATORY_MS) stats.ok++;
    else {
      stats.bad++;
      firstBad ??= `${c.accessKeyId} with ${left} ms left at ${new Date(Date.now()).toISOString()}`;
    }
  };
  const onError = (e: unknown) => {
    stats.pending--;
    if (isCredentialsError(e)) {
      stats.typed++;
      errorCodes.set(e.code ?? 'none', (errorCodes.get(e.code ?? 'none') ?? 0) + 1);
    } else {
      stats.untyped++;
      firstUntyped ??= e;
    }
  };
  const call = (p: RefreshingProvider, withSignal: boolean) => {
    stats.calls++;
    stats.pending++;
    // Not awaited: a caller in the mandatory window waits on fake time that the loop advances.
    (withSignal ? p({ signal: shutdown.signal }) : p()).then(onValue, onError);
  };

  const gc = findGc();
  const days: DaySample[] = [];
  const callers = prng(SEEDS.callers);
  let elapsed = 0;
  let stsAtDayStart = 0;
  for (let day = 1; day <= DAYS; day++) {
    const dayEnd = day * DAY;
    if (plan.outageMs) outageStart = T0 + dayEnd - DAY + Math.floor(outages() * (DAY - plan.outageMs));
    while (elapsed < dayEnd) {
      const step = Math.min(dayEnd - elapsed, 1000 + Math.floor(callers() * 9000));
      await vi.advanceTimersByTimeAsync(step);
      elapsed += step;
      const n = 1 + Math.floor(callers() * 3);
      for (let i = 0; i < n; i++) call(providers[Math.floor(callers() * providers.length)]!, callers() < 0.5);
    }
    const sample: DaySample = {
      timers: vi.getTimerCount(),
      listeners: getEventListeners(shutdown.signal, 'abort').length,
      processListeners: processListeners(),
      sts: sts.calls - stsAtDayStart,
    };
    stsAtDayStart = sts.calls;
    if (gc && (day === 1 || day === DAYS)) {
      gc();
      sample.heapMB = process.memoryUsage().heapUsed / MB;
    }
    days.push(sample);
  }
  // Let the last callers and refreshes settle (a timeout fault plus retries takes < 1 min).
  await vi.advanceTimersByTimeAsync(2 * 60 * SECOND);
  const pendingAtEnd = stats.pending;
  for (const p of providers) p.close();
  await vi.advanceTimersByTimeAsync(2 * 60 * SECOND);
  const timersAfterClose = vi.getTimerCount();
  vi.useRealTimers();
  const runtimeS = (performance.now() - wallStart) / 1000;

  // One AssumeRole per role per half-lifetime (the advisory point of a 900 s token).
  const ideal = layout.length * ((DAYS * DAY) / ((DURATION_S * SECOND) / 2));
  const ratio = sts.calls / ideal;
  const first = days[0]!;
  const last = days[DAYS - 1]!;
  const codes = [...errorCodes].map(([c, n]) => `${c}:${n}`).join(' ') || 'none';
  recordFigures('soak', [
    {
      case: plan.name,
      'simulated days': DAYS,
      providers: providers.length,
      roles: layout.length,
      calls: stats.calls,
      'errors (typed)': `${stats.typed} (${codes})`,
      'untyped / invalid': `${stats.untyped} / ${stats.bad}`,
      'min validity left (s)': Math.round(stats.minLeftMs / 1000),
      'STS calls / ideal': `${sts.calls} / ${ideal} = ${ratio.toFixed(3)}`,
      'faults (outage calls)': `${Object.values(sts.faults).reduce((a, b) => a + b, 0)} (${sts.outageCalls})`,
      'timers d1 → d7': `${first.timers} → ${last.timers} (max ${Math.max(...days.map((d) => d.timers))})`,
      'signal listeners d1 → d7': `${first.listeners} → ${last.listeners}`,
      'heap d1 → d7 (MB)': first.heapMB === undefined ? 'no gc' : `${first.heapMB.toFixed(1)} → ${last.heapMB!.toFixed(1)}`,
      'runtime (s)': runtimeS.toFixed(1),
    },
  ]);
  return { sts, stats, firstBad, firstUntyped, pendingAtEnd, ratio, days, first, last, timersAfterClose, providers: providers.length, roles: layout.length };
}

function expectSound(r: Awaited<ReturnType<typeof runSoak>>): void {
  expect(r.firstUntyped).toBeUndefined();
  expect(r.stats.untyped).toBe(0);
  expect(r.firstBad).toBeUndefined();
  expect(r.stats.ok + r.stats.typed).toBe(r.stats.calls);
  expect(r.pendingAtEnd).toBe(0);
  // The faults really happened, every kind of them.
  for (const fault of FAULTS) expect(r.sts.faults[fault], fault).toBeGreaterThan(0);
}

function expectFlat(r: Awaited<ReturnType<typeof runSoak>>): void {
  // At most one engine timer per provider plus what a few refreshes in flight hold.
  for (const d of r.days) expect(d.timers).toBeLessThanOrEqual(r.providers + 3 * r.roles);
  expect(r.last.timers).toBeLessThanOrEqual(r.first.timers + r.roles);
  expect(r.last.listeners).toBeLessThanOrEqual(r.first.listeners + 2);
  expect(r.last.processListeners).toBe(r.first.processListeners);
  if (r.first.heapMB !== undefined) expect(r.last.heapMB! - r.first.heapMB).toBeLessThan(2);
  expect(r.timersAfterClose).toBe(0);
}

describe('soak: a daemon with 15-minute tokens over 7 simulated days', () => {
  it('10 providers over 3 roles, callers every 1–10 s, 5 % STS faults: valid or typed, ~1 AssumeRole per role per 450 s, flat', async () => {
    const r = await runSoak({ name: 'daemon, 5 % faults', faultRate: 0.05 });
    expectSound(r);
    expect(r.ratio).toBeLessThanOrEqual(1.2);
    // Steady state: no day makes more STS calls than the first, beyond noise.
    for (const d of r.days) expect(d.sts).toBeLessThanOrEqual(r.first.sts * 1.1);
    expectFlat(r);
  }, 120_000);

  it('the same, plus a 3-minute STS outage every day: stale values carry callers through, retries stay bounded', async () => {
    const r = await runSoak({ name: 'daemon, 5 % faults + 3 min outage/day', faultRate: 0.05, outageMs: 3 * 60 * SECOND });
    expectSound(r);
    expect(r.sts.outageCalls).toBeGreaterThan(0);
    expect(r.ratio).toBeLessThanOrEqual(1.25);
    expectFlat(r);
  }, 120_000);
});

/** Awaits `promise` while moving the fake clock, for calls that wait on simulated STS latency. */
async function withTime<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) await vi.advanceTimersByTimeAsync(50);
  return promise;
}

/** What the soak turned up in src/, now fixed: these would fail on the code before the fix. */
describe('findings of the soak, fixed', () => {
  const issue = (n: number, lifetimeS = DURATION_S) =>
    createCredentials({
      accessKeyId: `STS.finding${n}`,
      accessKeySecret: 's',
      securityToken: 't',
      expiration: new Date(Date.now() + lifetimeS * SECOND),
      source: 'sts:AssumeRole',
    });

  it('fixed: createStsCache reads Date.now at each use; under a later (fake) clock it never hands out an expired credential', async () => {
    // As in a user's suite: a module-level cache, then fake timers in a test (here 30 days ahead).
    const cache = createStsCache();
    vi.useFakeTimers({ now: Date.now() + 30 * DAY, toFake: ['Date', 'setTimeout', 'clearTimeout', 'performance'] });
    let loads = 0;
    const load = async () => issue(++loads);
    await cache.get('k', load);
    await vi.advanceTimersByTimeAsync(20 * 60 * SECOND); // past the 900 s expiry
    const again = await cache.get('k', load);
    expect(again.expiration!.getTime()).toBeGreaterThan(Date.now());
  });

  it('fixed: a provider given a half-aged credential by the shared cache keeps the 900 s token\'s windows (never serves inside its 90 s mandatory window)', async () => {
    vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout', 'performance'] });
    let down = false;
    const sts = soakSts(() => 0.99, 0, () => down); // no random faults; `down` fails every call
    const cache = createStsCache();
    const make = () =>
      fromRamRole({ source: fromStatic({ accessKeyId: 'LTAI5tFinding0000000001', accessKeySecret: 's' }), roleArn: 'acs:ram::1234567890123456:role/r', durationSeconds: DURATION_S, sts, cache, refresh: { retry: false } });
    const first = make();
    await withTime(first());
    await vi.advanceTimersByTimeAsync(400 * SECOND);
    const second = make();
    await withTime(second()); // the cached credential: 500 s left, so its engine takes L = 500 s
    first.close();
    down = true;
    let minLeft = Number.POSITIVE_INFINITY;
    for (let t = 0; t < 500; t += 5) {
      await vi.advanceTimersByTimeAsync(5 * SECOND);
      const c = await withTime(second()).catch(() => undefined);
      if (!c) break;
      minLeft = Math.min(minLeft, c.expiration!.getTime() - Date.now());
    }
    second.close();
    // Windows of a 900 s token: callers should stop getting it at 90 s left; they get it down to ~50 s.
    expect(minLeft).toBeGreaterThan(MANDATORY_MS);
  });
});
