/**
 * Writing refreshed OAuth tokens back into the aliyun CLI's `~/.aliyun/config.json`, safely:
 *
 * - {@link editProfileFields} changes the values of a few keys of one profile and leaves every
 *   other byte of the document as it was (other profiles, unknown fields, key order, tabs or
 *   spaces, CRLF, a BOM, the trailing newline), unlike the official libraries, which rewrite the
 *   whole file and (GO, JAVA) drop the fields they do not know.
 * - {@link withConfigLock} serialises alicred processes on an exclusive lock file next to the
 *   real config file (the CLI itself takes no lock).
 * - {@link replaceFileAtomically} writes the result the way the CLI does: a temporary file in
 *   the same folder, mode 0600, fsync, rename over the target (a symlink stays a symlink).
 *
 * A write-back is `withConfigLock(path, async () => { read; editProfileFields; replaceFileAtomically })`.
 * No error message here ever quotes a value of the file (key and profile names only).
 *
 * Node only (node:fs, node:os, node:path).
 *
 * @module
 */
import { open, readFile, readlink, realpath, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { lineColumnAt, scanJson } from './json-locate.js';

// ---------------------------------------------------------------------------
// editProfileFields: a byte-preserving edit of one profile
// ---------------------------------------------------------------------------

/** A JSON value with its span in the text; objects keep every member, duplicates included. */
type JsonNode =
  | { kind: 'object'; start: number; end: number; members: JsonMember[] }
  | { kind: 'array'; start: number; end: number; items: JsonNode[] }
  | { kind: 'scalar'; start: number; end: number; isString: boolean };
/** One object member: the decoded key, the span of the key's quoted text, the value. */
type JsonMember = { key: string; keyStart: number; keyEnd: number; value: JsonNode };

/** Deeper than any config file; a guard for the recursive scanner. */
const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Spans of every value in `text`, which JSON.parse has already accepted (the scanner is
 * strict anyway and throws on anything else, never quoting the text).
 */
function scanTree(text: string): JsonNode {
  let pos = 0;
  const broken = (): never => {
    throw new Error(`internal error: the JSON scanner stopped at line ${lineColumnAt(text, pos).line}`);
  };
  const ws = (): void => {
    for (let c = text.charCodeAt(pos); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++pos));
  };
  const string = (): void => {
    pos++; // the opening quote
    for (;;) {
      const c = text.charCodeAt(pos);
      if (Number.isNaN(c) || c < 0x20) broken();
      pos += c === 0x5c ? (text[pos + 1] === 'u' ? 6 : 2) : 1;
      if (c === 0x22) return;
    }
  };
  const value = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) broken();
    ws();
    const start = pos;
    const c = text[pos];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const members: JsonMember[] = [];
      const items: JsonNode[] = [];
      pos++;
      ws();
      if (text[pos] === close) pos++;
      else {
        for (;;) {
          if (c === '{') {
            ws();
            if (text[pos] !== '"') broken();
            const keyStart = pos;
            string();
            const keyEnd = pos;
            ws();
            if (text[pos++] !== ':') broken();
            members.push({ key: JSON.parse(text.slice(keyStart, keyEnd)) as string, keyStart, keyEnd, value: value(depth + 1) });
          } else items.push(value(depth + 1));
          ws();
          const next = text[pos++];
          if (next === close) break;
          if (next !== ',') broken();
        }
      }
      return c === '{' ? { kind: 'object', start, end: pos, members } : { kind: 'array', start, end: pos, items };
    }
    if (c === '"') {
      string();
      return { kind: 'scalar', start, end: pos, isString: true };
    }
    const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, pos));
    if (word !== undefined) pos += word.length;
    else {
      NUMBER.lastIndex = pos;
      if (!NUMBER.test(text)) broken();
      pos = NUMBER.lastIndex;
    }
    return { kind: 'scalar', start, end: pos, isString: false };
  };
  const root = value(0);
  ws();
  if (pos !== text.length) broken();
  return root;
}

/** The member JSON.parse keeps for `key`: the last one. */
function lastMember(node: JsonNode, key: string): JsonMember | undefined {
  if (node.kind !== 'object') return undefined;
  for (let i = node.members.length - 1; i >= 0; i--) if (node.members[i]!.key === key) return node.members[i];
  return undefined;
}

/** A name for messages: JSON-quoted, cut to 60 characters. */
function shown(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}

/**
 * `text` (the aliyun CLI's config.json) with, in the object of `profiles[]` whose `name` is
 * `profileName`, each key of `updates` set: an existing key's value is replaced in place (the
 * last occurrence of a duplicated key, the one JSON.parse and the CLI use); a missing key is
 * added after the profile's last member, separated and indented like its members. Strings are
 * JSON-encoded, numbers written as JSON numbers. Every other byte stays as it was.
 *
 * Throws an Error (naming keys and profiles, never quoting a value) when the text is not a JSON
 * object with a `profiles` array, when the profile is missing or appears more than once, when
 * an update is not a string or a finite number, or names `name`. The result is checked with
 * JSON.parse: it must equal the original with exactly the updates applied.
 *
 * @internal
 */
export function editProfileFields(text: string, profileName: string, updates: Readonly<Record<string, string | number>>): string {
  const fail = (why: string): never => {
    throw new Error(`cannot update profile ${shown(profileName)} in the CLI config: ${why}`);
  };
  const entries = Object.entries(updates);
  for (const [key, value] of entries) {
    if (key === 'name') fail('its "name" is not a field to update');
    if (typeof value === 'string') continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`the new value of ${shown(key)} is not a string or a finite number`);
  }
  const bom = text.charCodeAt(0) === 0xfeff ? '\ufeff' : '';
  const body = text.slice(bom.length);
  let expected: unknown;
  try {
    expected = JSON.parse(body);
  } catch {
    // The JSON.parse message quotes the text: describe the position instead.
    const scan = scanJson(body);
    const { line, column } = lineColumnAt(body, scan.ok ? 0 : scan.offset);
    return fail(`it is not valid JSON (line ${line}, column ${column}${scan.ok ? '' : `: ${scan.reason}`})`);
  }
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) return fail('the top level is not a JSON object');
  const profiles = lastMember(scanTree(body), 'profiles')?.value;
  if (profiles?.kind !== 'array') return fail('it has no "profiles" array');
  const found: number[] = [];
  profiles.items.forEach((item, index) => {
    const name = lastMember(item, 'name')?.value;
    if (name?.kind === 'scalar' && name.isString && JSON.parse(body.slice(name.start, name.end)) === profileName) found.push(index);
  });
  if (found.length === 0) fail('there is no profile of that name in "profiles"');
  if (found.length > 1) fail(`the name appears ${found.length} times in "profiles" (entries ${found.join(', ')}), so which one to update is ambiguous`);
  const index = found[0]!;
  const profile = profiles.items[index] as Extract<JsonNode, { kind: 'object' }>;

  const edits: { start: number; end: number; text: string }[] = [];
  const added: string[] = [];
  const members = profile.members;
  const last = members[members.length - 1]!; // it has a name, so at least one member
  const colon = body.slice(last.keyEnd, last.value.start);
  for (const [key, value] of entries) {
    const member = lastMember(profile, key);
    if (member) edits.push({ start: member.value.start, end: member.value.end, text: JSON.stringify(value) });
    else added.push(`${JSON.stringify(key)}${colon}${JSON.stringify(value)}`);
  }
  if (added.length > 0) {
    // The separator between the last two members (",\n\t\t\t", ", "…), or with one member the
    // whitespace before it after a comma.
    const previous = members[members.length - 2];
    const gap = previous ? body.slice(previous.value.end, last.keyStart) : `,${body.slice(profile.start + 1, last.keyStart)}`;
    edits.push({ start: last.value.end, end: last.value.end, text: added.map((member) => gap + member).join('') });
  }
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let cursor = 0;
  for (const edit of edits) {
    out += body.slice(cursor, edit.start) + edit.text;
    cursor = edit.end;
  }
  out += body.slice(cursor);

  // Post-condition: the result parses to the original with exactly these keys changed.
  const target = ((expected as Record<string, unknown>).profiles as Record<string, unknown>[])[index]!;
  for (const [key, value] of entries) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  }
  let actual: unknown;
  try {
    actual = JSON.parse(out);
  } catch {}
  if (JSON.stringify(actual) !== JSON.stringify(expected)) fail('internal error: the edited document does not match the expected result');
  return bom + out;
}

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The file a write to `path` lands in: symlinks resolved (also a dangling one, whose target is
 * created), else the path itself in its real folder.
 */
async function realTarget(path: string, hops = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const link = await readlink(path).catch(() => undefined); // undefined: missing, or not a link
  if (link !== undefined) {
    if (hops >= 40) throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), { code: 'ELOOP' });
    return realTarget(resolve(dirname(path), link), hops + 1);
  }
  const folder = dirname(resolve(path));
  return join(await realpath(folder).catch(() => folder), basename(path));
}

// ---------------------------------------------------------------------------
// withConfigLock
// ---------------------------------------------------------------------------

/** Default age (of the lock file's mtime) past which a lock counts as abandoned. */
const DEFAULT_STALE_MS = 30_000;
/** Default wait for a held lock. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Backoff between attempts: from 10 ms, doubled each time, capped, jittered to 50–100 %. */
const BACKOFF_FIRST_MS = 10;
const BACKOFF_CAP_MS = 250;

/**
 * Options of {@link withConfigLock}.
 *
 * @internal
 */
export type ConfigLockOptions = {
  /** A lock whose file was last modified longer ago than this is taken over. Default 30 000 ms. */
  staleMs?: number;
  /** How long to wait for a held lock before giving up. Default 10 000 ms. */
  timeoutMs?: number;
  /** Aborts the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
};

/**
 * The error when a lock stayed held for the whole wait: names the lock file, its holder if
 * known, and what to do about a lock left behind.
 *
 * @internal
 */
export class ConfigLockTimeoutError extends Error {
  override name = 'ConfigLockTimeoutError';
  constructor(
    readonly lockPath: string,
    message: string,
  ) {
    super(message);
  }
}

/** `bytes` random bytes in hex (WebCrypto: importing this module loads no node:crypto). */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** What a lock file holds: its owner and a random id, which makes the content unique. */
function ownerRecord(): string {
  return `${JSON.stringify({ pid: process.pid, hostname: hostname(), acquiredAt: new Date().toISOString(), id: randomHex(8) })}\n`;
}

/** Creates `path` with O_EXCL holding `content`: false when it exists already. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content, 'utf8');
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(path, { force: true }).catch(() => {});
    throw error;
  }
}

/** Removes `path` if it still holds `content` (ours). */
async function removeIfOurs(path: string, content: string): Promise<void> {
  const now = await readFile(path, 'utf8').catch(() => undefined);
  if (now === content) await rm(path, { force: true });
}

/** Milliseconds since `path` was last modified; undefined when it does not exist. */
async function ageOf(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Removes the lock if it is stale; true when it did. Removal happens only under a second
 * O_EXCL file (`<lock>.takeover`), after a fresh look at the lock's age: two waiters that both
 * saw the same stale lock cannot both remove it, nor can the second remove the lock the first
 * has just created. (Whoever removed it still competes for the O_EXCL create with everyone.)
 * A takeover file left by a crash right there is itself removed once older than `staleMs`.
 */
async function takeOverIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const age = await ageOf(lockPath);
  if (age === undefined || age <= staleMs) return false;
  const mutex = `${lockPath}.takeover`;
  const mine = ownerRecord();
  if (!(await createExclusive(mutex, mine))) {
    // Another waiter is taking over; its file is left only if it died right there.
    const mutexAge = await ageOf(mutex);
    if (mutexAge !== undefined && mutexAge > staleMs) await rm(mutex, { force: true });
    return false;
  }
  try {
    const again = await ageOf(lockPath);
    if (again === undefined || again <= staleMs) return false;
    await rm(lockPath, { force: true });
    return true;
  } finally {
    await removeIfOurs(mutex, mine).catch(() => {});
  }
}

/**
 * Waits `ms`, or rejects with the signal's reason when it aborts. The timer keeps the process
 * alive (an unref'd one would let Node exit in the middle of a wait) and is always cleared.
 */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Who holds the lock, for the timeout message (fields checked and cut, never the raw text). */
async function describeHolder(lockPath: string): Promise<string> {
  try {
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as Record<string, unknown>;
    const pid = Number.isSafeInteger(owner.pid) ? `pid ${String(owner.pid)}` : 'an unknown process';
    const host = typeof owner.hostname === 'string' ? ` on ${JSON.stringify(owner.hostname.slice(0, 64))}` : '';
    const since = typeof owner.acquiredAt === 'string' ? ` since ${owner.acquiredAt.slice(0, 30)}` : '';
    return ` (held by ${pid}${host}${since})`;
  } catch {
    return '';
  }
}

async function acquire(lockPath: string, staleMs: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    const content = ownerRecord();
    if (await createExclusive(lockPath, content)) return content;
    if (await takeOverIfStale(lockPath, staleMs)) continue;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new ConfigLockTimeoutError(
        lockPath,
        `timed out after ${timeoutMs} ms waiting for the lock file ${lockPath}${await describeHolder(lockPath)}, ` +
          'which another process holds while it updates the CLI config. If no alicred or aliyun CLI process is running, ' +
          `it was left behind: delete it (it is also taken over once it is ${Math.round(staleMs / 1000)} s old).`,
      );
    }
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 10));
    await sleep(Math.min(left, step / 2 + (Math.random() * step) / 2), signal);
  }
}

/**
 * Runs `fn` holding an exclusive lock on the config file: `<dir>/<base>.lock` next to the real
 * file (symlinks resolved), created with O_EXCL and mode 0600, holding the owner's pid,
 * hostname, time and a random id. A held lock is waited for (capped, jittered backoff) up to
 * `timeoutMs` (default 10 s), then a {@link ConfigLockTimeoutError} names the lock file. A lock
 * whose mtime is older than `staleMs` (default 30 s) is abandoned and taken over; while `fn`
 * runs, the lock's mtime is refreshed every `staleMs / 3`, so a slow `fn` keeps its lock. The
 * lock is removed in `finally`, only if it still holds our content. `signal` aborts the wait.
 * Not re-entrant: a nested call for the same file waits for itself until it times out.
 *
 * Errors creating the lock (a read-only or missing folder) propagate.
 *
 * @internal
 */
export async function withConfigLock<T>(configPath: string, fn: () => Promise<T>, options: ConfigLockOptions = {}): Promise<T> {
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (const [name, value] of [['staleMs', staleMs], ['timeoutMs', timeoutMs]] as const) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new TypeError(`withConfigLock: ${name} must be a number >= 0`);
  }
  options.signal?.throwIfAborted();
  const lockPath = `${await realTarget(configPath)}.lock`;
  const content = await acquire(lockPath, staleMs, timeoutMs, options.signal);
  let touching: Promise<void> = Promise.resolve();
  const heartbeat = setInterval(
    () => {
      touching = touching.then(async () => {
        if ((await readFile(lockPath, 'utf8').catch(() => undefined)) !== content) return;
        const now = new Date();
        await utimes(lockPath, now, now).catch(() => {});
      });
    },
    Math.min(2 ** 31 - 1, Math.max(10, Math.floor(staleMs / 3))),
  );
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await touching;
    await removeIfOurs(lockPath, content).catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// replaceFileAtomically
// ---------------------------------------------------------------------------

/**
 * Replaces the file at `path` with `text` (UTF-8) atomically, as the CLI does: symlinks are
 * resolved and the real target is replaced (a symlinked config.json stays a symlink); a
 * temporary `.<base>.tmp-<pid>-<random>` in the same folder is written with mode 0600,
 * fsynced and renamed over the target; then the folder is fsynced where the platform allows.
 * The result has mode 0600 (the CLI's); when run as another user (root), the file keeps its
 * owner where chown is allowed. On any failure the temporary file is removed and the error
 * propagates (a read-only folder: EACCES or EROFS).
 *
 * @internal
 */
export async function replaceFileAtomically(path: string, text: string): Promise<void> {
  const target = await realTarget(path);
  const folder = dirname(target);
  const temp = join(folder, `.${basename(target)}.tmp-${process.pid}-${randomHex(6)}`);
  const owner = await stat(target).catch(() => undefined);
  let handle;
  try {
    handle = await open(temp, 'wx', 0o600);
    await handle.writeFile(text, 'utf8');
    await handle.chmod(0o600); // whatever the umask
    if (owner && typeof process.getuid === 'function' && owner.uid !== process.getuid()) {
      await handle.chown(owner.uid, owner.gid).catch(() => {});
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, target);
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(temp, { force: true }).catch(() => {});
    throw error;
  }
  // The rename itself made durable; folders cannot be opened or fsynced everywhere (Windows).
  try {
    const dir = await open(folder, 'r');
    await dir.sync().finally(() => dir.close());
  } catch {
    // Best effort.
  }
}
