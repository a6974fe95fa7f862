/**
 * Debug output switched on from the environment, in Node only (the universal entry reads no
 * environment for this): `ALICRED_DEBUG=1`, or `DEBUG` naming `alicred` the way the `debug`
 * package reads it (`alicred`, `alicred:*`, `*`, in a comma or space separated list, with
 * `-name` to exclude). Lines go to stderr; they never carry a secret (alicred's messages
 * never do).
 *
 * @module
 */
import type { EnvLike } from '../internal/env.js';
import type { Logger } from '../types.js';

/** Env variable: `1` / `true` / `yes` / `on` turns alicred's debug lines on, `0` / `false` / `no` / `off` off. */
export const ALICRED_DEBUG_ENV = 'ALICRED_DEBUG';

const ON = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['0', 'false', 'no', 'off']);

/** One `DEBUG` pattern as a regular expression (`*` matches anything, as in the `debug` package). */
function patternRe(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*?')}$`);
}

/** Whether a `DEBUG` pattern names alicred: `alicred` itself or any `alicred:` namespace. */
function namesAlicred(pattern: string): boolean {
  const re = patternRe(pattern);
  return re.test('alicred') || re.test('alicred:') || pattern.toLowerCase().startsWith('alicred:');
}

/**
 * Whether the environment asks for alicred's debug lines: `ALICRED_DEBUG` (on or off wins),
 * else `DEBUG` with a pattern naming alicred and no `-` pattern excluding it.
 *
 * @internal
 */
export function debugEnabled(env: EnvLike | undefined): boolean {
  const own = env?.[ALICRED_DEBUG_ENV]?.trim().toLowerCase();
  if (own !== undefined && own !== '') {
    if (ON.has(own)) return true;
    if (OFF.has(own)) return false;
  }
  const patterns = (env?.DEBUG ?? '').split(/[\s,]+/).filter((p) => p !== '');
  let on = false;
  for (const p of patterns) {
    if (p.startsWith('-')) {
      if (namesAlicred(p.slice(1))) return false;
    } else if (namesAlicred(p)) on = true;
  }
  return on;
}

/** Writes one line to stderr; a closed stream must not break credentials. */
function toStderr(level: string, message: string): void {
  try {
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  } catch {
    // stderr gone: nothing to tell.
  }
}

/** The stderr logger (debug and warnings); one object, so STS clients keyed by logger are shared. */
const stderrLogger: Logger = Object.freeze({
  debug: (message: string) => toStderr('debug', message),
  info: (message: string) => toStderr('info', message),
  warn: (message: string) => toStderr('warn', message),
  error: (message: string) => toStderr('error', message),
});

/** Loggers given without `debug`, each with a `debug` to stderr added (one wrapper per logger). */
const withStderrDebug = new WeakMap<Logger, Logger>();

/**
 * The logger a Node source should use: `logger` as given when it has a `debug` method or the
 * environment does not ask for debug lines; otherwise `logger`'s own methods plus a `debug`
 * writing to stderr, or (no logger given) a logger writing debug lines and warnings to stderr.
 * The same input gives the same object, so sharing keyed by logger keeps working.
 * (Used inside alicred/node, e.g. `debugLoggerFor(options.logger, options.env ?? process.env)`,
 * so `ALICRED_DEBUG=1 node app.js` traces every Node source.)
 *
 * @internal
 */
export function debugLoggerFor(logger: Logger | undefined, env: EnvLike | undefined): Logger | undefined {
  if (typeof logger?.debug === 'function' || !debugEnabled(env)) return logger;
  if (logger === undefined || logger === null) return stderrLogger;
  let wrapped = withStderrDebug.get(logger);
  if (wrapped === undefined) {
    const own = logger;
    const forward =
      (level: 'info' | 'warn' | 'error') =>
      (message: string, ...meta: unknown[]): void => {
        own[level]?.(message, ...meta);
      };
    wrapped = Object.freeze({ debug: stderrLogger.debug, info: forward('info'), warn: forward('warn'), error: forward('error') });
    withStderrDebug.set(logger, wrapped);
  }
  return wrapped;
}

/**
 * `options` with {@link debugLoggerFor}'s logger, or `options` itself when that is the one it
 * has (no copy unless debug lines are on and the logger lacks `debug`).
 *
 * @internal
 */
export function withDebugLogger<T extends { logger?: Logger | undefined; env?: EnvLike | undefined }>(options: T, env?: EnvLike): T {
  const logger = debugLoggerFor(options.logger, env ?? options.env ?? process.env);
  return logger === options.logger ? options : { ...options, logger };
}
