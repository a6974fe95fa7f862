/**
 * Raw cached call: `await fromRamRole(...)()` against the AWS SDK's cached provider,
 * `memoize` from @smithy/property-provider, configured as the AWS SDK's default chain
 * configures it (credential-provider-node: expired = less than 300 s left; refresh needed
 * only when there is an expiration), wrapping an async provider that waits the same fake
 * delay once and returns { accessKeyId, secretAccessKey, sessionToken, expiration }.
 */
import { createRequire } from 'node:module';
import { fromRamRole, fromStatic } from '../dist/index.js';
import { fakeStsFetch, SOURCE_KEY } from './fake-sts.mjs';
import { interleaved, median, nowNs } from './measure.mjs';

const require = createRequire(import.meta.url);
const DELAY_MS = 5;
const WARMUP = 50_000;
const ITERATIONS = 200_000;
const ROUNDS = 9;

// One hand-written loop per library on purpose (see measure.mjs): no shared call site.
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

async function loopAws(provider, n) {
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

/**
 * The floor of each design, without either library: what a cached call must do at least.
 * memoize's rule reads one clock (the wall clock) in an async function; alicred's rules need
 * two (the monotonic clock, so a clock set back cannot keep a dead credential alive, and the
 * wall clock, so one is never served after a machine sleep) and hand back a settled promise.
 */
async function floors(n) {
  const value = { accessKeyId: 'floor', expiration: new Date(Date.now() + 3600_000) };
  const settled = Promise.resolve(value);
  const anchor = performance.now() - Date.now();
  const advisoryAt = performance.now() + 1800_000;
  const twoClocks = () => (Math.max(performance.now(), Date.now() + anchor) < advisoryAt ? settled : Promise.reject(new Error('late')));
  const oneClock = async () => {
    if (value.expiration.getTime() - Date.now() < 300_000) throw new Error('late');
    return value;
  };
  return {
    two: async (m = n) => loopOurs(twoClocks, m),
    one: async (m = n) => loopAws(oneClock, m),
  };
}

export async function benchMemoize() {
  const { memoize } = require('@smithy/property-provider');
  const version = require('@smithy/property-provider/package.json').version;
  let awsCalls = 0;
  const aws = memoize(
    async () => {
      awsCalls++;
      await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
      return {
        accessKeyId: `ASIA-bench-${awsCalls}`,
        secretAccessKey: `bench-secret-${awsCalls}`,
        sessionToken: `bench-token-${awsCalls}`,
        expiration: new Date(Date.now() + 3600_000),
      };
    },
    (c) => c.expiration !== undefined && c.expiration.getTime() - Date.now() < 300_000,
    (c) => c.expiration !== undefined,
  );

  const fetch = fakeStsFetch({ delayMs: DELAY_MS });
  const ours = fromRamRole({
    source: fromStatic(SOURCE_KEY),
    roleArn: 'acs:ram::1234567890123456:role/bench-memoize',
    durationSeconds: 3600,
    sts: { fetch },
  });
  try {
    await ours();
    await aws();
    await loopOurs(ours, WARMUP);
    await loopAws(aws, WARMUP);
    const r = await interleaved(
      ROUNDS,
      () => loopOurs(ours, ITERATIONS),
      () => loopAws(aws, ITERATIONS),
    );
    if (fetch.calls !== 1 || awsCalls !== 1) throw new Error(`memoize: ${fetch.calls} (alicred) / ${awsCalls} (aws) source calls, expected 1 each`);
    const floor = await floors(ITERATIONS);
    await floor.two(WARMUP);
    await floor.one(WARMUP);
    const f = await interleaved(ROUNDS, () => floor.two(), () => floor.one());
    return {
      ...r,
      oursNs: median(r.ours),
      peerNs: median(r.peer),
      rounds: ROUNDS,
      iterations: ITERATIONS,
      version,
      floor: { ...f, oursNs: median(f.ours), peerNs: median(f.peer) },
    };
  } finally {
    ours.close();
  }
}
