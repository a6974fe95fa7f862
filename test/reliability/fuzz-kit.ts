/**
 * Shared pieces of the fuzz files (fuzz-*.test.ts): the fixed seed and run count, the secret
 * markers planted in fuzzed inputs and the leak check, the "only typed errors" check, a
 * capturing logger, per-run timing, and a fetch stand-in that answers from a fuzzed model.
 */
import fc from 'fast-check';
import { inspect } from 'node:util';
import { isCredentialsError } from '../../src/errors.js';
import type { Logger } from '../../src/types.js';
import { recordFigures } from './figures.js';

/** One seed for every property, so a failure replays exactly. */
export const SEED = 0x5eed_a11c;
/** Runs per parser (the issue asks for at least 10 000). */
export const RUNS = 10_000;
/** Whole-property bound: a hang fails the property instead of stalling the suite. */
export const PROPERTY_LIMIT_MS = 45_000;
/** One run of an async property that takes longer than this fails. */
export const RUN_LIMIT_MS = 2_000;

/** Shaped like a real AccessKeySecret (30 mixed letters and digits). */
export const SECRET = 'zQ8s3cr3tM4rk3rXy7Wv2Lp9Nb5Tk1';
/** Shaped like an STS SecurityToken (base64, well past the key-like-run thresholds). */
export const TOKEN = `CAIS${'t0K3nM4rK3r+Fz9/Qw7='.repeat(5)}Ab12`;
/** Any 12 consecutive characters of a marker count as a leak (a cut excerpt still leaks). */
const WINDOW = 12;
const FRAGMENTS = [...new Set([SECRET, TOKEN].flatMap((m) => Array.from({ length: m.length - WINDOW + 1 }, (_, i) => m.slice(i, i + WINDOW))))];

/** The first marker fragment found in `text`, if any. */
export function leakIn(text: string): string | undefined {
  return FRAGMENTS.find((f) => text.includes(f));
}

/** A logger that keeps every line it is given, at any level. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' '));
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

/** Fails unless no captured log line holds a marker. */
export function assertNoLeakInLogs(logger: { lines: string[] }): void {
  for (const line of logger.lines) {
    const leak = leakIn(line);
    if (leak !== undefined) throw new Error(`a secret fragment (${leak}) reached the logger: ${line}`);
  }
}

/**
 * The fuzz oracle for a failure: an alicred error (not a foreign one, nor one the refresh
 * engine had to wrap as RefreshFailed), whose message and full inspection hold no marker.
 */
export function assertTypedAndClean(error: unknown): void {
  if (!isCredentialsError(error)) {
    throw new Error(`an untyped error escaped: ${inspect(error, { depth: 3 })}`);
  }
  // The engine wraps only foreign errors into RefreshFailed: one here means a parser crashed.
  if (error.code === 'RefreshFailed') throw new Error(`a foreign error was wrapped by the engine: ${inspect(error, { depth: 5 })}`);
  const text = `${error.message}\n${inspect(error, { depth: 10 })}\n${String(error.stack)}`;
  const leak = leakIn(text);
  if (leak !== undefined) throw new Error(`a secret fragment (${leak}) is in an error: ${text}`);
}

/** Runs `fn`, returning what it threw (undefined when it did not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error ?? new Error('threw a nullish value');
  }
  return undefined;
}

/** Counts runs and keeps the slowest one. */
export class RunMeter {
  runs = 0;
  maxMs = 0;

  /** Times one synchronous run. */
  sync<T>(fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.note(performance.now() - start);
    }
  }

  /** Times one asynchronous run. */
  async async<T>(fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.note(performance.now() - start);
    }
  }

  private note(ms: number): void {
    this.runs++;
    if (ms > this.maxMs) this.maxMs = ms;
  }
}

/** fast-check parameters every property uses: the seed, the runs and the time bounds. */
export function params<T>(numRuns = RUNS): fc.Parameters<T> {
  return {
    seed: SEED,
    numRuns,
    endOnFailure: false,
    plugins: [fc.timeout(RUN_LIMIT_MS), fc.interruptAfterTimeLimit(PROPERTY_LIMIT_MS, { failOnInterrupt: true })],
  };
}

/** Records one parser's row; called only after its property passed. */
export function record(parser: string, meter: RunMeter, extra: Record<string, string | number> = {}): void {
  // fc.timeout cannot stop a synchronous run: the slowest one is checked here instead.
  if (meter.maxMs >= RUN_LIMIT_MS) throw new Error(`${parser}: one run took ${Math.round(meter.maxMs)} ms (limit ${RUN_LIMIT_MS} ms)`);
  recordFigures('fuzz', [{ parser, runs: meter.runs, seed: SEED, failures: 0, maxMsPerRun: Math.round(meter.maxMs * 100) / 100, ...extra }]);
}

// ---------------------------------------------------------------------------
// A fetch stand-in
// ---------------------------------------------------------------------------

/** What a fuzzed server does with one request. */
export type FakeAnswer =
  | {
      kind: 'answer';
      status: number;
      headers: readonly (readonly [string, string])[];
      body: string;
      /** Byte offsets at which the body is cut into chunks (splitting UTF-8 sequences too). */
      cuts: readonly number[];
      /** The stream errors after this many chunks, if set. */
      failAfter?: number | undefined;
      /** 'none' omits the stream (a polyfill without one): arrayBuffer() only. */
      stream?: 'stream' | 'none' | undefined;
    }
  | { kind: 'network' }
  | { kind: 'reject-string' }
  | { kind: 'hang' };

/** A Response-like object (any status, even ones `new Response` refuses) from a model. */
export function fakeResponse(a: Extract<FakeAnswer, { kind: 'answer' }>): Response {
  const bytes = new TextEncoder().encode(a.body);
  const cuts = [...new Set(a.cuts.map((c) => Math.min(bytes.length, Math.max(0, c))))].sort((x, y) => x - y);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > from) chunks.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  const headers = new Headers();
  for (const [name, value] of a.headers) headers.append(name, value);
  let i = 0;
  const body =
    a.stream === 'none'
      ? null
      : new ReadableStream<Uint8Array>({
          pull(controller) {
            if (a.failAfter !== undefined && i >= a.failAfter) {
              controller.error(new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }));
              return;
            }
            const chunk = chunks[i++];
            if (chunk === undefined) controller.close();
            else controller.enqueue(chunk);
          },
        });
  return {
    status: a.status,
    ok: a.status >= 200 && a.status < 300,
    type: 'basic',
    headers,
    body,
    arrayBuffer: async () => bytes.slice().buffer,
    text: async () => a.body,
  } as unknown as Response;
}

/** A fetch that answers by `route(url, init)`; it never touches the network. */
export function fakeFetch(route: (url: string, init: RequestInit | undefined) => FakeAnswer): typeof fetch {
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const a = route(url, init);
    switch (a.kind) {
      case 'network':
        return Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) }));
      case 'reject-string':
        return Promise.reject('socket hang up');
      case 'hang':
        // Settles only through the caller's signal, as a real stalled connection would.
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
        });
      case 'answer':
        return Promise.resolve(fakeResponse(a));
    }
  }) as typeof fetch;
}

// ---------------------------------------------------------------------------
// Arbitraries shared by several files
// ---------------------------------------------------------------------------

/** The type of what an arbitrary generates. */
export type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never;

/** `arb` in one run out of `oneIn`, else undefined (fc.option's `freq` counts the other way). */
export const rarely = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

/** Printable ASCII (header-safe) text. */
export const headerText = (maxLength = 40) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Text of any kind: ASCII, any code point, lone surrogates, controls. */
export const anyText = (maxLength = 60) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
    fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
  );

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An HTTP `Date` (IMF-fixdate) for `ms`, whole seconds. */
export function imfFixdate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}
