/**
 * Running a fleet of worker processes (test/fleet/worker.ts) against the emulator: the worker
 * is bundled from src/ with esbuild (dist/ is not rebuilt for tests) into a temporary .mjs
 * under node_modules/.cache, so ioredis and redis resolve; each child runs with the loopback
 * tripwire of test/reliability/peer-preload.mjs.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { WorkerConfig, WorkerMessage } from './worker.js';

const root = resolve(import.meta.dirname, '..', '..');
const PRELOAD = join(root, 'test', 'reliability', 'peer-preload.mjs');

export type { WorkerConfig };

/** Bundles the worker; returns the .mjs and a cleanup. */
export async function bundleWorker(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const cache = join(root, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const dir = await mkdtemp(join(cache, 'alicred-fleet-'));
  const path = join(dir, 'worker.mjs');
  await build({
    entryPoints: [join(root, 'test', 'fleet', 'worker.ts')],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type WorkerState = {
  readonly config: WorkerConfig;
  readonly child: ChildProcess;
  ready: boolean;
  ok: number;
  failed: number;
  rounds: number;
  keys: Set<string>;
  warnings: string[];
  failures: string[];
  holding: boolean;
  exited: boolean;
  stderr: string;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 25 ms; throws `what` after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

export type Fleet = {
  readonly workers: WorkerState[];
  /** Starts every worker's loop at once. */
  go(): void;
  /** Sum of calls answered and failed, over every worker. */
  totals(): { ok: number; failed: number };
  /** Every failure message, prefixed with the worker's id. */
  failures(): string[];
  /** Asks every live worker to stop and waits for their exit. */
  stop(): Promise<void>;
  /** SIGKILLs one worker. */
  kill(id: number): Promise<void>;
};

/** Forks one worker per config and waits until each is connected to its store. */
export async function startFleet(bundle: string, configs: WorkerConfig[]): Promise<Fleet> {
  const workers = configs.map((config): WorkerState => {
    const child = fork(bundle, [JSON.stringify(config)], { execArgv: ['--import', PRELOAD], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const state: WorkerState = {
      config,
      child,
      ready: false,
      ok: 0,
      failed: 0,
      rounds: 0,
      keys: new Set(),
      warnings: [],
      failures: [],
      holding: false,
      exited: false,
      stderr: '',
    };
    child.stderr?.on('data', (chunk: Buffer) => (state.stderr = (state.stderr + chunk.toString()).slice(-4000)));
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') state.ready = true;
      else if (m.type === 'stats') Object.assign(state, { ok: m.ok, failed: m.failed, rounds: m.rounds, keys: new Set(m.keys) });
      else if (m.type === 'warn') state.warnings.push(m.message);
      else if (m.type === 'failure') state.failures.push(m.message);
      else if (m.type === 'holding') state.holding = true;
    });
    child.on('exit', () => (state.exited = true));
    return state;
  });
  await waitUntil(
    () => workers.every((w) => w.ready || w.exited),
    20_000,
    'every worker to connect',
  ).catch((error: unknown) => {
    for (const w of workers) w.child.kill('SIGKILL');
    throw error;
  });
  const dead = workers.find((w) => w.exited);
  if (dead) throw new Error(`worker ${dead.config.id} exited during start: ${dead.stderr}`);
  return {
    workers,
    go: () => workers.forEach((w) => w.child.send({ type: 'go' })),
    totals: () => ({ ok: workers.reduce((n, w) => n + w.ok, 0), failed: workers.reduce((n, w) => n + w.failed, 0) }),
    failures: () => workers.flatMap((w) => w.failures.map((f) => `worker ${w.config.id}: ${f}`)),
    async stop() {
      for (const w of workers) if (!w.exited) w.child.send({ type: 'stop' });
      await waitUntil(() => workers.every((w) => w.exited), 15_000, 'the workers to stop').catch(() => {
        for (const w of workers) if (!w.exited) w.child.kill('SIGKILL');
      });
    },
    async kill(id) {
      const w = workers.find((x) => x.config.id === id)!;
      w.child.kill('SIGKILL');
      await waitUntil(() => w.exited, 5_000, `worker ${id} to die`);
    },
  };
}
