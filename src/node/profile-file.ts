/**
 * Helpers shared by the two profile-file sources ({@link fromIniProfile} for
 * `~/.alibabacloud/credentials` and {@link fromCliProfile} for `~/.aliyun/config.json`):
 * env and path choices, reading a file cheaply at every call, the one-time permission
 * warning and warnings given once. Positions are in json-locate.ts; turning a profile into a
 * provider in profile-build.ts.
 *
 * Node only (node:fs, node:os). Nothing here ever puts a secret in a message.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { FileReadProblem, readSmallTextFile } from './read-file.js';
import { logSafely } from '../internal/log.js';
import { homedir as osHomedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { envString, processEnv, type EnvLike } from '../internal/env.js';
import type { Logger } from '../types.js';

// ---------------------------------------------------------------------------
// Environment and paths
// ---------------------------------------------------------------------------

/** The env to read: the option, else `process.env`, else an empty object. Read at each call. */
export function envOf(options: { env?: EnvLike | undefined }): EnvLike {
  return options.env ?? processEnv() ?? {};
}

/** The home folder: the option, else `os.homedir()`. */
export function homeOf(options: { homedir?: string | undefined }): string {
  return options.homedir ?? osHomedir();
}

/**
 * Expands a leading `~` (`~`, `~/x`, `~\x`) against `home`; other paths are returned as given
 * (relative ones resolve against the working directory, as `fs` does).
 */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(2));
  return path;
}

/**
 * A chosen setting and where it came from (`name`: the option or env variable), so that a
 * missing target can be reported against what named it.
 */
export type Choice = { value: string; from: 'option' | 'env' | 'file' | 'default'; name: string };

/** The first non-empty of option, env variable, fallback. */
export function choose(
  option: string | undefined,
  optionName: string,
  env: EnvLike,
  envName: string,
  fallback: () => Choice,
): Choice {
  if (typeof option === 'string' && option.trim() !== '') return { value: option.trim(), from: 'option', name: optionName };
  const fromEnv = envString(env, envName);
  if (fromEnv !== undefined) return { value: fromEnv, from: 'env', name: envName };
  return fallback();
}

// ---------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------

/** A file read by {@link loadProfileFile}, with its parsed content. */
export type Loaded<T> = { readonly path: string; readonly value: T };

type CacheEntry = { stamp: string; value: unknown };

/** Parsed files, keyed by parser id and path; only entries whose mtime is not "racy". */
const parsedCache = new Map<string, CacheEntry>();
const MAX_CACHED_FILES = 64;
/** A file modified less than this long before it was read may change again unnoticed. */
const RACY_MS = 2_000;

/** Paths already warned about; one warning per path per process. */
const warnedPaths = new Set<string>();

/**
 * Reads and parses a profile file, or returns undefined when it does not exist.
 *
 * The file is `stat`ed at every call (one syscall; the permission check needs it anyway) and
 * read and parsed again only when its identity (inode, size, mtime, ctime) changed, so edits
 * are picked up at the next call while a warm call costs no read and no parse. Like git's
 * "racily clean" rule, a file modified less than 2 s before it was read is not cached (two
 * writes within the file system's timestamp granularity could otherwise go unnoticed).
 *
 * A file that exists but cannot be read (a folder, no permission) is a {@link ConfigError}.
 * A file readable by group or others gets one warning through `logger.warn` per path per
 * process. Parse errors are thrown by `parse` (never cached).
 */
export async function loadProfileFile<T>(
  path: string,
  parserId: string,
  parse: (text: string) => T,
  context: { provider: string; logger?: Logger | undefined },
): Promise<Loaded<T> | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ConfigError(`${context.provider}: cannot read ${path} (${code ?? 'unknown error'})`, {
      provider: context.provider,
      file: path,
    });
  }
  if (!info.isFile()) {
    throw new ConfigError(`${context.provider}: ${path} is not a regular file`, { provider: context.provider, file: path });
  }
  warnIfReadableByOthers(path, info.mode, context.logger);

  const cacheKey = `${parserId}\0${path}`;
  const stamp = `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
  const cached = parsedCache.get(cacheKey);
  if (cached && cached.stamp === stamp) return { path, value: cached.value as T };

  const readAt = Date.now();
  let text: string;
  try {
    text = await readSmallTextFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') return undefined; // removed between stat and read
    throw new ConfigError(`${context.provider}: ${path} ${error instanceof FileReadProblem ? error.message : 'cannot be read'}`, {
      provider: context.provider,
      file: path,
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const value = parse(text);
  parsedCache.delete(cacheKey);
  if (readAt - Math.max(info.mtimeMs, info.ctimeMs) >= RACY_MS) {
    if (parsedCache.size >= MAX_CACHED_FILES) {
      const oldest = parsedCache.keys().next().value;
      if (oldest !== undefined) parsedCache.delete(oldest);
    }
    parsedCache.set(cacheKey, { stamp, value });
  }
  return { path, value };
}

/**
 * Warns once per path per process (through `logger.warn`) when a profile file is readable or
 * writable by group or others (`mode & 0o077`); it holds secrets. Not an error. POSIX only:
 * Windows reports no meaningful mode bits.
 */
export function warnIfReadableByOthers(path: string, mode: number, logger: Logger | undefined): void {
  if (process.platform === 'win32' || (mode & 0o077) === 0 || warnedPaths.has(path)) return;
  warnedPaths.add(path);
  const octal = (mode & 0o777).toString(8);
  logSafely(
    logger,
    'warn',
    `alicred: ${path} is accessible by other users (mode ${octal}) and holds credentials; run: chmod 600 '${path.replace(/'/g, `'\\''`)}'`,
  );
}

/** Messages already given, per logger (a warning about a file is given once, not at every call). */
const givenWarnings = new WeakMap<object, Set<string>>();
const MAX_REMEMBERED_WARNINGS = 256;

/**
 * `logger.warn(message)`, once per logger and message: providers read their file at every
 * call, and a warning about its content must not repeat at every call. A logger that throws
 * is ignored.
 */
export function warnOnce(logger: Logger | undefined, message: string): void {
  if (!logger || typeof logger.warn !== 'function') return;
  let given = givenWarnings.get(logger);
  if (!given) givenWarnings.set(logger, (given = new Set()));
  if (given.has(message)) return;
  if (given.size >= MAX_REMEMBERED_WARNINGS) given.clear();
  given.add(message);
  try {
    logger.warn(message);
  } catch {
    // A broken logger must not break credentials.
  }
}
