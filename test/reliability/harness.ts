/**
 * Shared checks of the reliability suite: a logger and an event sink that capture
 * everything, a guard against unhandled rejections, secret scans over every captured text,
 * a loopback HTTP server with a request counter, and the emulator's issued secrets.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { expect } from 'vitest';
import { isCredentialsError, type Credentials, type CredentialsError, type Logger, type RefreshEvent } from '../../src/index.js';
import type { Emulator } from '../../src/testing/index.js';

/** A logger that keeps every message (all levels, with their extra arguments, inspected). */
export function captureLogger(): { logger: Required<Logger>; lines: string[]; at: (level: keyof Logger) => string[] } {
  const lines: string[] = [];
  const levels: string[] = [];
  const keep =
    (level: keyof Logger) =>
    (message: string, ...meta: unknown[]): void => {
      levels.push(level);
      lines.push([message, ...meta.map((m) => inspect(m, { depth: 10 }))].join(' '));
    };
  return {
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
    lines,
    at: (level) => lines.filter((_, i) => levels[i] === level),
  };
}

/** An `onEvent` sink; `texts()` renders every event (errors and causes included). */
export function captureEvents(): { onEvent: (e: RefreshEvent) => void; events: RefreshEvent[]; texts: () => string[] } {
  const events: RefreshEvent[] = [];
  return {
    onEvent: (e) => events.push(e),
    events,
    texts: () => events.map((e) => inspect(e, { depth: 10 })),
  };
}

/**
 * Every way an error gets printed: `util.inspect` (causes included), `String`, JSON and
 * the bare message.
 */
export function errorTexts(error: unknown): string[] {
  const texts = [inspect(error, { depth: 10 }), String(error)];
  try {
    texts.push(JSON.stringify(error) ?? '');
  } catch (e) {
    texts.push(`(JSON.stringify threw ${String(e)})`);
  }
  if (error instanceof Error) texts.push(error.message, error.stack ?? '');
  return texts;
}

/** Fails when any text contains any secret (secrets shorter than 8 characters are ignored as too common). */
export function expectNoSecret(texts: readonly string[], secrets: readonly (string | undefined)[]): void {
  const real = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8))];
  for (const text of texts) {
    for (const secret of real) {
      if (text.includes(secret)) {
        const at = text.indexOf(secret);
        throw new Error(`a secret (${secret.slice(0, 4)}…, ${secret.length} chars) leaked into: …${text.slice(Math.max(0, at - 80), at)}[SECRET]…`);
      }
    }
  }
}

/** The AccessKeySecrets and SecurityTokens an emulator issued so far. */
export function issuedSecrets(emu: Emulator): string[] {
  return emu.issued().flatMap((c) => [c.accessKeySecret, c.securityToken]);
}

/**
 * Checks the error: an alicred error (or `cls`), its `code`, and a fragment of its message.
 * Returns it typed.
 */
export function expectTypedError(
  error: unknown,
  want: { cls?: abstract new (...args: never[]) => Error; code?: string; message?: string | RegExp },
): CredentialsError {
  expect(isCredentialsError(error), `not an alicred error: ${inspect(error)}`).toBe(true);
  if (want.cls) expect(error).toBeInstanceOf(want.cls);
  const e = error as CredentialsError;
  if (want.code !== undefined) expect(e.code).toBe(want.code);
  if (want.message !== undefined) expect(e.message).toMatch(want.message);
  return e;
}

/** What a promise settles to, without throwing: the value or the error. */
export async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Fails when a credential handed out has expired (or expires within `marginMs`) at `now`. */
export function expectUnexpired(credentials: Credentials | undefined, now = Date.now(), marginMs = 0): void {
  if (credentials === undefined) return;
  const expiration = credentials.expiration?.getTime();
  if (expiration === undefined) return;
  expect(expiration, `expired credential ${credentials.accessKeyId} handed out`).toBeGreaterThan(now + marginMs);
}

/**
 * Records unhandled rejections from now on; `stop()` removes the listener and fails if
 * any came. Vitest reports them too, but only after the test, not naming it.
 */
export function guardUnhandled(): { stop: () => void; remove: () => void; seen: unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  return {
    seen,
    remove: () => process.off('unhandledRejection', listener),
    stop() {
      process.off('unhandledRejection', listener);
      expect(seen.map((r) => inspect(r)), 'unhandled rejections').toEqual([]);
    },
  };
}

/** Lets pending I/O callbacks and microtasks run (a late rejection shows up by then). */
export function drain(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback HTTP server with a request counter; `close()` drops every connection. */
export type LoopbackServer = {
  url: string;
  port: number;
  count: () => number;
  close: () => Promise<void>;
};

/** Starts a node:http server on 127.0.0.1 that answers with `handler`. */
export async function loopbackServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<LoopbackServer> {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    count: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed): connecting is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fetch that counts its calls and passes them to the global one. */
export function countingFetch(): { fetch: typeof fetch; count: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return globalThis.fetch(input, init);
    },
    count: () => n,
  };
}

/** Ref'd `Timeout` handles of this process: timers that would keep it alive. */
export function heldTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/**
 * Watches the refresh engine's background timers (real timers): every `setTimeout` whose
 * callback is the engine's `fireTimer`, until it fires or is cleared. Unref'd timers are
 * invisible to `getActiveResourcesInfo`, so they are counted here. `pending()` is how many
 * are still armed; `restore()` puts the originals back.
 */
export function watchEngineTimers(): { pending: () => number; restore: () => void } {
  const original = { set: globalThis.setTimeout, clear: globalThis.clearTimeout };
  const armed = new Set<unknown>();
  const set = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (typeof callback !== 'function' || callback.name !== 'fireTimer') return original.set(callback, ms, ...args);
    const handle: unknown = original.set(
      (...a: unknown[]) => {
        armed.delete(handle);
        callback(...a);
      },
      ms,
      ...args,
    );
    armed.add(handle);
    return handle;
  }) as typeof setTimeout;
  const clear = ((handle: Parameters<typeof clearTimeout>[0]) => {
    armed.delete(handle);
    original.clear(handle);
  }) as typeof clearTimeout;
  globalThis.setTimeout = set;
  globalThis.clearTimeout = clear;
  return {
    pending: () => armed.size,
    restore() {
      if (globalThis.setTimeout === set) globalThis.setTimeout = original.set;
      if (globalThis.clearTimeout === clear) globalThis.clearTimeout = original.clear;
    },
  };
}

/** What {@link probe} checks when a fault test ends. */
export type ProbeEnd = {
  /** Errors the test saw; each printed every way and scanned. */
  errors?: readonly unknown[];
  /** Secrets that must appear nowhere (source secret, issued secrets and tokens...). */
  secrets: readonly (string | undefined)[];
  /** Things to close first (providers, servers); each awaited. */
  close?: readonly ({ close(): void | Promise<void> } | undefined)[];
  /** Real timers: no engine timer may be left after `close` (default true). */
  engineTimers?: boolean;
};

const openProbes = new Set<{ release: () => void }>();

/**
 * The instruments of one fault test: a capturing logger, an event sink, an
 * unhandled-rejection guard and (with real timers) the engine-timer watch. `took()` checks
 * every credential handed out; `end()` closes what it is given and runs every check.
 * Call {@link releaseProbes} in `afterEach`, so a test that failed half-way leaves nothing behind.
 */
export function probe(options: { watchTimers?: boolean } = {}) {
  const log = captureLogger();
  const events = captureEvents();
  const guard = guardUnhandled();
  const timers = options.watchTimers === false ? undefined : watchEngineTimers();
  const handed: Credentials[] = [];
  let released = false;
  const handle = {
    release() {
      if (released) return;
      released = true;
      timers?.restore();
      guard.remove();
    },
  };
  openProbes.add(handle);
  return {
    logger: log.logger,
    onEvent: events.onEvent,
    log,
    events,
    handed,
    /** Engine background timers armed right now (undefined when not watched). */
    engineTimersArmed: () => timers?.pending(),
    /** Checks a credential handed out (not expired at `now`) and keeps it. */
    took<T extends Credentials | undefined>(credentials: T, now = Date.now()): T {
      expectUnexpired(credentials, now);
      if (credentials !== undefined) handed.push(credentials);
      return credentials;
    },
    async end(end: ProbeEnd): Promise<void> {
      for (const c of end.close ?? []) await c?.close();
      await drain();
      try {
        guard.stop();
        if (timers && end.engineTimers !== false) expect(timers.pending(), 'engine timers left armed after close()').toBe(0);
        const texts = [...log.lines, ...events.texts(), ...(end.errors ?? []).flatMap(errorTexts)];
        expectNoSecret(texts, end.secrets);
      } finally {
        handle.release();
        openProbes.delete(handle);
      }
    },
  };
}

/** Releases the instruments of probes whose test ended early (call in `afterEach`). */
export function releaseProbes(): void {
  for (const p of openProbes) p.release();
  openProbes.clear();
}

/** The rows of the `faults` table of one test file. */
export function faultTable(): { row: (fault: string, calls: number, outcome: string) => void; rows: { fault: string; calls: number; outcome: string }[] } {
  const rows: { fault: string; calls: number; outcome: string }[] = [];
  return { rows, row: (fault, calls, outcome) => rows.push({ fault, calls, outcome }) };
}
