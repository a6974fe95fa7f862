/**
 * Helpers shared by the two profile-file sources ({@link fromIniProfile} for
 * `~/.alibabacloud/credentials` and {@link fromCliProfile} for `~/.aliyun/config.json`):
 * reading a file cheaply at every call, the one-time permission warning, line lookup, the
 * JSON syntax locator, and turning a resolved profile into a (memoized) provider.
 *
 * Node only (node:fs, node:crypto, node:os). Nothing here ever puts a secret in a message.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { stat, readFile } from 'node:fs/promises';
import { homedir as osHomedir } from 'node:os';
import { join } from 'node:path';
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError } from '../errors.js';
import { fromCredentialsUri } from '../providers/credentials-uri.js';
import { fromEcsMetadata } from '../providers/ecs-metadata.js';
import { processEnv, type EnvLike } from '../providers/env.js';
import { fromRamRole, isStsClient } from '../providers/ram-role.js';
import { fromStatic } from '../providers/static.js';
import type { RefreshingProvider, RefreshOptions } from '../refresh.js';
import type { StsClient, StsClientOptions } from '../sts/client.js';
import type { CredentialProvider, Logger, ProviderCallOptions } from '../types.js';
import { fromOidcTokenFile } from './oidc-file.js';
import type { NodeSourceOptions } from './options.js';
import { fromProcess } from './process.js';

// ---------------------------------------------------------------------------
// Environment and paths
// ---------------------------------------------------------------------------

/**
 * The env to read: the option, else `process.env`, else an empty object. Read at each call.
 *
 * @example
 * ```ts
 * import { envOf } from './profile-file.js';
 * envOf({ env: { ALIBABA_CLOUD_PROFILE: 'prod' } }).ALIBABA_CLOUD_PROFILE; // 'prod'
 * ```
 */
export function envOf(options: { env?: EnvLike | undefined }): EnvLike {
  return options.env ?? processEnv() ?? {};
}

/**
 * A trimmed, non-empty env value, else undefined.
 *
 * @example
 * ```ts
 * import { envValue } from './profile-file.js';
 * envValue({ A: '  x ', B: ' ' }, 'A'); // 'x'
 * envValue({ A: '  x ', B: ' ' }, 'B'); // undefined
 * ```
 */
export function envValue(env: EnvLike, name: string): string | undefined {
  const value = env[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * True when the variable is `true` in any case (the official libraries' rule).
 *
 * @example
 * ```ts
 * import { envFlag } from './profile-file.js';
 * envFlag({ ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'TRUE' }, 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED'); // true
 * ```
 */
export function envFlag(env: EnvLike, name: string): boolean {
  return envValue(env, name)?.toLowerCase() === 'true';
}

/**
 * The home folder: the option, else `os.homedir()`.
 *
 * @example
 * ```ts
 * import { homeOf } from './profile-file.js';
 * homeOf({ homedir: '/tmp/home' }); // '/tmp/home'
 * ```
 */
export function homeOf(options: { homedir?: string | undefined }): string {
  return options.homedir ?? osHomedir();
}

/**
 * Expands a leading `~` (`~`, `~/x`, `~\x`) against `home`; other paths are returned as given
 * (relative ones resolve against the working directory, as `fs` does).
 *
 * @example
 * ```ts
 * import { expandHome } from './profile-file.js';
 * expandHome('~/.aliyun/config.json', '/home/me'); // '/home/me/.aliyun/config.json'
 * ```
 */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(2));
  return path;
}

/**
 * A chosen setting and where it came from (`name`: the option or env variable), so that a
 * missing target can be reported against what named it.
 *
 * @example
 * ```ts
 * import type { Choice } from './profile-file.js';
 * const c: Choice = { value: 'prod', from: 'env', name: 'ALIBABA_CLOUD_PROFILE' };
 * ```
 */
export type Choice = { value: string; from: 'option' | 'env' | 'file' | 'default'; name: string };

/**
 * The first non-empty of option, env variable, fallback.
 *
 * @example
 * ```ts
 * import { choose } from './profile-file.js';
 * choose(undefined, 'profile', { ALIBABA_CLOUD_PROFILE: 'prod' }, 'ALIBABA_CLOUD_PROFILE',
 *   () => ({ value: 'default', from: 'default', name: 'default' }));
 * // { value: 'prod', from: 'env', name: 'ALIBABA_CLOUD_PROFILE' }
 * ```
 */
export function choose(
  option: string | undefined,
  optionName: string,
  env: EnvLike,
  envName: string,
  fallback: () => Choice,
): Choice {
  if (typeof option === 'string' && option.trim() !== '') return { value: option.trim(), from: 'option', name: optionName };
  const fromEnv = envValue(env, envName);
  if (fromEnv !== undefined) return { value: fromEnv, from: 'env', name: envName };
  return fallback();
}

// ---------------------------------------------------------------------------
// Reading files
// ---------------------------------------------------------------------------

/**
 * A file read by {@link loadProfileFile}, with its parsed content.
 *
 * @example
 * ```ts
 * import type { Loaded } from './profile-file.js';
 * const loaded: Loaded<unknown> = { path: '/home/me/.aliyun/config.json', value: {} };
 * ```
 */
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
 *
 * @example
 * ```ts
 * import { loadProfileFile } from './profile-file.js';
 * const loaded = await loadProfileFile('/home/me/.aliyun/config.json', 'json', JSON.parse, { provider: 'mine', logger: console });
 * if (loaded) console.log(Object.keys(loaded.value as object));
 * ```
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
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined; // removed between stat and read
    throw new ConfigError(`${context.provider}: cannot read ${path} (${code ?? 'unknown error'})`, {
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
 *
 * @example
 * ```ts
 * import { warnIfReadableByOthers } from './profile-file.js';
 * warnIfReadableByOthers('/home/me/.aliyun/config.json', 0o100644, console);
 * // alicred: /home/me/.aliyun/config.json is accessible by other users (mode 644) and holds credentials; run: chmod 600 '/home/me/.aliyun/config.json'
 * ```
 */
export function warnIfReadableByOthers(path: string, mode: number, logger: Logger | undefined): void {
  if (process.platform === 'win32' || (mode & 0o077) === 0 || warnedPaths.has(path)) return;
  warnedPaths.add(path);
  const octal = (mode & 0o777).toString(8);
  logger?.warn?.(
    `alicred: ${path} is accessible by other users (mode ${octal}) and holds credentials; run: chmod 600 '${path.replace(/'/g, `'\\''`)}'`,
  );
}

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

/**
 * 1-based line and column of a 0-based offset in `text`.
 *
 * @example
 * ```ts
 * import { lineColumnAt } from './profile-file.js';
 * lineColumnAt('a\nbc', 3); // { line: 2, column: 2 }
 * ```
 */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * The outcome of {@link scanJson}.
 *
 * @example
 * ```ts
 * import { scanJson, type JsonScan } from './profile-file.js';
 * const scan: JsonScan = scanJson('{"profiles": [{"name": "a"}]}');
 * if (scan.ok) scan.at.get(JSON.stringify(['profiles', 0, 'name'])); // 15
 * ```
 */
export type JsonScan =
  | { ok: true; /** Offset of each object member's key and each array element, by JSON.stringify(path). */ at: Map<string, number> }
  | { ok: false; offset: number; reason: string };

/**
 * A strict JSON (RFC 8259) scanner that parses nothing but records where things are: the
 * offset of every object key and array element by path, or the offset of the first syntax
 * error with a description that never quotes the text (which may hold secrets). Used because
 * `JSON.parse` errors in Node 20 quote the text and do not always give a position.
 *
 * @example
 * ```ts
 * import { scanJson } from './profile-file.js';
 * scanJson('{"a":\n  1,}');   // { ok: false, offset: 10, reason: 'expected a string (an object key)' }
 * ```
 */
export function scanJson(text: string): JsonScan {
  const at = new Map<string, number>();
  const path: (string | number)[] = [];
  let pos = 0;
  class Fail {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const fail = (reason: string, offset = pos): never => {
    throw new Fail(offset, pos >= text.length ? `unexpected end of input (${reason})` : reason);
  };
  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const record = (): void => {
    at.set(JSON.stringify(path), pos);
  };
  const string = (): string => {
    const start = pos;
    if (text[pos] !== '"') fail('expected a string');
    pos++;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return JSON.parse(text.slice(start, pos)) as string;
      }
      if (c < 0x20) fail('control character inside a string');
      if (c === 0x5c) {
        const e = text[pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('invalid \\u escape');
          pos += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) pos += 2;
        else fail('invalid escape in a string');
      } else pos++;
    }
    return fail('unterminated string', start);
  };
  const value = (depth: number): void => {
    if (depth > 256) fail('nested too deeply');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      ws();
      if (text[pos] === '}') {
        pos++;
        return;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a string (an object key)');
        const keyAt = pos;
        const key = string();
        path.push(key);
        at.set(JSON.stringify(path), keyAt);
        ws();
        if (text[pos] !== ':') fail("expected ':' after an object key");
        pos++;
        value(depth + 1);
        path.pop();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return;
        }
        fail("expected ',' or '}' after an object member");
      }
    }
    if (c === '[') {
      pos++;
      ws();
      if (text[pos] === ']') {
        pos++;
        return;
      }
      for (let i = 0; ; i++) {
        path.push(i);
        ws();
        record();
        value(depth + 1);
        path.pop();
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return;
        }
        fail("expected ',' or ']' after an array element");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return;
      }
    }
    const number = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos, pos + 400));
    if (number && number[0] !== '' && number[0] !== '-') {
      pos += number[0].length;
      return;
    }
    fail('expected a value (object, array, string, number, true, false or null)');
  };
  try {
    value(0);
    ws();
    if (pos < text.length) fail('unexpected content after the JSON value');
    return { ok: true, at };
  } catch (error) {
    if (error instanceof Fail) return { ok: false, offset: error.offset, reason: error.reason };
    throw error;
  }
}

/**
 * `JSON.parse`, with errors as a {@link ConfigError} naming the file, line and column (never
 * quoting the text).
 *
 * @example
 * ```ts
 * import { parseJsonFile } from './profile-file.js';
 * parseJsonFile('{"a": 1}', '/x.json', 'mine');   // { a: 1 }
 * parseJsonFile('{\n"a" 1}', '/x.json', 'mine');  // throws ConfigError: /x.json is not valid JSON: line 2, column 5: …
 * ```
 */
export function parseJsonFile(text: string, file: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const scan = scanJson(text);
    const offset = scan.ok ? 0 : scan.offset;
    const reason = scan.ok ? 'invalid JSON' : scan.reason;
    const { line, column } = lineColumnAt(text, offset);
    // No `cause`: the JSON.parse message quotes the text, which may hold a secret.
    throw new ConfigError(`${provider}: ${file} is not valid JSON: line ${line}, column ${column}: ${reason}`, {
      provider,
      file,
      line,
    });
  }
}

// ---------------------------------------------------------------------------
// From a profile to a provider
// ---------------------------------------------------------------------------

/**
 * STS endpoint settings a profile may carry (`sts_endpoint`, `sts_region`, `enable_vpc`).
 *
 * @example
 * ```ts
 * import type { StsOverrides } from './profile-file.js';
 * const o: StsOverrides = { region: 'cn-shanghai', vpc: true };
 * ```
 */
export type StsOverrides = { endpoint?: string; region?: string; vpc?: boolean };

/**
 * What a profile resolves to: plain data, without functions, so that its JSON (hashed)
 * identifies the provider to build. `static` carries secrets: only its digest is ever kept.
 *
 * @example
 * ```ts
 * import type { ProfileSpec } from './profile-file.js';
 * const spec: ProfileSpec = {
 *   kind: 'ram-role', roleArn: 'acs:ram::1234567890123456:role/reader', sts: {},
 *   source: { kind: 'static', accessKeyId: 'LTAI5t...', accessKeySecret: '...' },
 * };
 * ```
 */
export type ProfileSpec =
  | { kind: 'static'; accessKeyId: string; accessKeySecret: string; securityToken?: string }
  | {
      kind: 'ram-role';
      source: ProfileSpec;
      roleArn: string;
      roleSessionName?: string;
      policy?: string;
      durationSeconds?: number;
      externalId?: string;
      sts: StsOverrides;
    }
  | { kind: 'ecs'; roleName?: string }
  | {
      kind: 'oidc';
      roleArn: string;
      oidcProviderArn: string;
      tokenFile: string;
      roleSessionName?: string;
      policy?: string;
      durationSeconds?: number;
      sts: StsOverrides;
    }
  | { kind: 'uri'; uri: string }
  | { kind: 'process'; command: string };

/**
 * Maps a field of a spec (`roleArn`) to where it came from in the file, for errors.
 *
 * @example
 * ```ts
 * import type { Locate } from './profile-file.js';
 * const locate: Locate = (field) => ({ field: field === 'roleArn' ? 'role_arn' : field, line: 3 });
 * ```
 */
export type Locate = (field: string) => { field: string; line: number | undefined };

/** A built provider and everything it created that needs closing. */
type Built = { provider: CredentialProvider; closers: { close(): void }[] };

/**
 * Removes undefined members (the spec's JSON, hence its digest, must not depend on them).
 *
 * @example
 * ```ts
 * import { compact } from './profile-file.js';
 * compact({ a: 1, b: undefined }); // { a: 1 }
 * ```
 */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * SHA-256 of the spec's JSON: the memo key, which never holds the secret itself.
 *
 * @example
 * ```ts
 * import { specDigest } from './profile-file.js';
 * specDigest({ kind: 'ecs', roleName: 'app' }).length; // 64
 * ```
 */
export function specDigest(spec: ProfileSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

/**
 * StsClient options for a profile: the caller's options, with the profile's endpoint
 * settings (when it has any) replacing theirs. An StsClient instance passed by the caller is
 * used as is (the caller built it on purpose); the env defaults to the source's env.
 *
 * @example
 * ```ts
 * import { stsFor } from './profile-file.js';
 * stsFor({ endpoint: 'http://127.0.0.1:8080', timeoutMs: 5000 }, { region: 'cn-shanghai' }, {});
 * // { timeoutMs: 5000, env: {}, region: 'cn-shanghai' }
 * ```
 */
export function stsFor(base: StsClient | StsClientOptions | undefined, overrides: StsOverrides, env: EnvLike): StsClient | StsClientOptions {
  if (isStsClient(base)) return base;
  const options: StsClientOptions = { ...base, env: base?.env ?? env };
  if (overrides.endpoint !== undefined || overrides.region !== undefined || overrides.vpc !== undefined) {
    delete options.endpoint;
    delete options.region;
    delete options.vpc;
    if (overrides.endpoint !== undefined) options.endpoint = overrides.endpoint;
    if (overrides.region !== undefined) options.region = overrides.region;
    if (overrides.vpc !== undefined) options.vpc = overrides.vpc;
  }
  return options;
}

/** Strips `field: ` that validation messages start with. */
function innerMessage(error: ConfigError): string {
  const prefix = `${error.field ?? ''}: `;
  return error.field !== undefined && error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/**
 * Context for {@link buildSpec}: who builds (for the credentials' source and errors), from
 * which file and profile, and the source's options.
 *
 * @example
 * ```ts
 * import type { BuildContext } from './profile-file.js';
 * const ctx: BuildContext = {
 *   provider: 'ini-profile', file: '/home/me/.alibabacloud/credentials', describe: "profile 'default'",
 *   locate: (field) => ({ field, line: undefined }), options: {}, env: {},
 * };
 * ```
 */
export type BuildContext = {
  /** `ini-profile` or `cli-profile`: the provider name and credentials source of static keys. */
  provider: string;
  file: string;
  /** The profile that holds each spec (for ChainableRamRoleArn, each link's own). */
  describe: string;
  locate: Locate;
  options: NodeSourceOptions;
  env: EnvLike;
};

/**
 * Builds the provider of a spec. Validation errors of the underlying providers (a role ARN
 * that is not one, a duration out of range) are rethrown as ConfigErrors naming the file,
 * the profile key and its line. `nested` gives specs from other profiles (the links of a
 * ChainableRamRoleArn) their own context, so that an error names the right profile.
 *
 * @example
 * ```ts
 * import { buildSpec } from './profile-file.js';
 * const { provider, closers } = buildSpec(
 *   { kind: 'static', accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' },
 *   { provider: 'mine', file: '/x', describe: "profile 'default'", locate: (f) => ({ field: f, line: undefined }), options: {}, env: {} },
 * );
 * (await provider()).source; // 'mine'
 * for (const c of closers) c.close();
 * ```
 */
export function buildSpec(spec: ProfileSpec, ctx: BuildContext, nested: Map<ProfileSpec, BuildContext> = new Map()): Built {
  const own = nested.get(spec) ?? ctx;
  const refresh: RefreshOptions | undefined =
    own.options.logger && !own.options.refresh?.logger ? { ...own.options.refresh, logger: own.options.logger } : own.options.refresh;
  try {
    switch (spec.kind) {
      case 'static': {
        // Validated like fromStatic, labelled with this source's name.
        fromStatic(spec);
        const credentials: Credentials = createCredentials({ ...spec, source: own.provider });
        const provider: CredentialProvider = async () => credentials;
        return { provider, closers: [] };
      }
      case 'ram-role': {
        const source = buildSpec(spec.source, ctx, nested);
        const provider = fromRamRole({
          source: source.provider,
          roleArn: spec.roleArn,
          roleSessionName: spec.roleSessionName,
          policy: spec.policy,
          durationSeconds: spec.durationSeconds,
          externalId: spec.externalId,
          sts: stsFor(own.options.sts, spec.sts, own.env),
          refresh,
        });
        return { provider, closers: [...source.closers, provider] };
      }
      case 'ecs': {
        const provider = fromEcsMetadata({ roleName: spec.roleName, env: own.env, logger: own.options.logger, refresh });
        return { provider, closers: [provider] };
      }
      case 'oidc': {
        const provider = fromOidcTokenFile({
          roleArn: spec.roleArn,
          oidcProviderArn: spec.oidcProviderArn,
          tokenFile: spec.tokenFile,
          roleSessionName: spec.roleSessionName,
          policy: spec.policy,
          durationSeconds: spec.durationSeconds,
          sts: stsFor(own.options.sts, spec.sts, own.env),
          refresh,
          env: own.env,
        });
        return { provider, closers: [provider] };
      }
      case 'uri': {
        const provider = fromCredentialsUri({ uri: spec.uri, env: own.env, refresh });
        return { provider, closers: [provider] };
      }
      case 'process': {
        // The env option is the command's whole environment: only an explicit one is passed on.
        const provider = fromProcess({ command: spec.command, env: own.options.env, logger: own.options.logger, refresh });
        return { provider, closers: [provider] };
      }
    }
  } catch (error) {
    if (error instanceof ConfigError && error.file === undefined) {
      const where = own.locate(error.field ?? '');
      const line = where.line === undefined ? '' : ` (line ${where.line})`;
      throw new ConfigError(`${own.provider}: ${own.describe} in ${own.file}: ${where.field}${line}: ${innerMessage(error)}`, {
        provider: own.provider,
        file: own.file,
        line: where.line,
        field: where.field,
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Providers built from profiles, one per distinct resolved configuration, reused across
 * calls so that the refresh engine's cache works. Keyed by slot (file + profile): when the
 * profile's content changes, the previous provider is closed (its timer stopped) and
 * replaced.
 *
 * @example
 * ```ts
 * import { buildSpec, ProviderMemo, specDigest, type ProfileSpec } from './profile-file.js';
 * const memo = new ProviderMemo();
 * const spec: ProfileSpec = { kind: 'ecs', roleName: 'app' };
 * const ctx = { provider: 'mine', file: '/x', describe: "profile 'default'", locate: (f: string) => ({ field: f, line: undefined }), options: {}, env: {} };
 * const p = memo.get('/x\0default', specDigest(spec), () => buildSpec(spec, ctx)); // built once
 * memo.get('/x\0default', specDigest(spec), () => buildSpec(spec, ctx)) === p;    // true
 * memo.close();
 * ```
 */
export class ProviderMemo {
  private readonly slots = new Map<string, { digest: string; built: Built }>();
  private last: { provider: CredentialProvider; credentials: Credentials } | undefined;

  /** The provider for `slot` whose configuration digests to `digest`, built at most once. */
  get(slot: string, digest: string, build: () => Built): CredentialProvider {
    const current = this.slots.get(slot);
    if (current && current.digest === digest) return current.built.provider;
    const built = build();
    if (current) for (const c of current.built.closers) c.close();
    this.slots.set(slot, { digest, built });
    return built.provider;
  }

  /** Calls `provider` and remembers it and its answer for {@link peek}. */
  async call(provider: CredentialProvider, options: ProviderCallOptions | undefined): Promise<Credentials> {
    const credentials = await provider(options);
    this.last = { provider, credentials };
    return credentials;
  }

  /** The last answer if still usable: the refreshing provider's own peek, or keys that never expire. */
  peek(): Credentials | undefined {
    const last = this.last;
    if (!last) return undefined;
    const p = last.provider as Partial<RefreshingProvider>;
    if (typeof p.peek === 'function') return p.peek();
    return last.credentials.expiration === undefined ? last.credentials : undefined;
  }

  /** Stops every timer of every provider built so far. */
  close(): void {
    for (const { built } of this.slots.values()) for (const c of built.closers) c.close();
  }
}
