/**
 * Credentials from an external program (the aliyun CLI's `External` mode, `process_command`):
 * alicred runs the command, reads one JSON object from its stdout and caches the result with
 * the refresh engine.
 */
import type { ChildProcess } from 'node:child_process';
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import { checkCredentialsRecord, CLI_KEYS } from '../internal/credentials-json.js';
import { clampExpiration, MAX_TEMPORARY_LIFETIME_MS } from '../internal/lifetime.js';
import { redactText } from '../internal/redact-text.js';
import { MAX_TIMER_MS, positiveNumber } from '../internal/validate-options.js';
import type { EnvLike } from '../internal/env.js';
import { refreshing, type RefreshingProvider, type RefreshOptions } from '../refresh.js';
import { parseStsTime } from '../sts/time.js';
import type { Logger } from '../types.js';
import { cliMode, type CliMode } from './cli-modes.js';
import { withDebugLogger } from './debug.js';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

const PROVIDER = 'process';
/** How long a timed-out or oversized process gets after SIGTERM before SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** How much of stderr is kept (its tail) for the error message. */
const STDERR_KEEP_BYTES = 4 * 1024;
/** At most this much (redacted) stderr appears in an error message. */
const STDERR_EXCERPT_CHARS = 200;

/**
 * Options of {@link fromProcess}.
 *
 * @example
 * ```ts
 * import { fromProcess, type FromProcessOptions } from 'alicred/node';
 * const options: FromProcessOptions = {
 *   command: ['/usr/local/bin/vault-aliyun-creds', '--role', 'app'], // argv: no shell
 *   timeoutMs: 10_000,
 *   env: { ...process.env, VAULT_ADDR: 'https://vault.internal:8200' },
 * };
 * const provider = fromProcess(options);
 * ```
 */
export type FromProcessOptions = {
  /**
   * The command. A string runs through the shell (`/bin/sh -c` on POSIX, `cmd.exe` on
   * Windows), so it may use quotes, variables and pipes, like the aliyun CLI's
   * `process_command`. An array is an argv (`[program, ...args]`) run without any shell.
   */
  command: string | readonly string[];
  /**
   * Kill the command (and everything it started) after this long, in ms. Default 30000:
   * stdin is closed, so no interactive prompt can be answered anyway, and a caller awaiting
   * credentials should learn that a helper hangs well before typical HTTP timeouts do.
   * Raise it for helpers that legitimately wait (a browser-based sign-in).
   */
  timeoutMs?: number;
  /** Larger stdout is an error (the process is killed). Default 64 KiB. */
  maxOutputBytes?: number;
  /** Working folder of the command. Default: this process's. */
  cwd?: string;
  /** The command's whole environment. Default: this process's (`process.env`). */
  env?: EnvLike;
  /** Receives the refresh engine's warnings (never a secret). */
  logger?: Logger;
  /** Options of the refresh engine. */
  refresh?: RefreshOptions;
};

/** The modes the External-mode output may name (matched case-insensitively, like the aliyun CLI). */
const OUTPUT_MODES: readonly CliMode[] = ['AK', 'StsToken'];

/**
 * Credentials printed by an external program, in the aliyun CLI's `External` mode format:
 * the command prints one JSON object on stdout,
 *
 * ```json
 * {"mode": "StsToken", "access_key_id": "STS.…", "access_key_secret": "…", "sts_token": "…",
 *  "expiration": "2025-01-15T09:00:00Z"}
 * ```
 *
 * with `mode` `AK` or `StsToken` (case-insensitive; inferred from `sts_token` when absent)
 * and an optional ISO 8601 `expiration`. With an expiration the result is refreshed ahead of
 * it by the refresh engine; without one it is kept until `forceRefresh`. Concurrent callers
 * share one run of the command.
 *
 * The command runs with stdin closed; stderr is captured. It is killed, with everything it
 * started, after `timeoutMs` (error code `Timeout`) or when stdout exceeds `maxOutputBytes`
 * (`OutputTooLarge`). A non-zero exit is a {@link CredentialsProviderError} (`ProcessFailed`)
 * naming the program and exit code with at most a short, redacted excerpt of stderr; output
 * that is not valid JSON or lacks a field is a {@link ConfigError} naming the field. Error
 * messages never contain stdout, nor the command's arguments (only the program's name).
 * None of these failures is retried at once.
 *
 * @example
 * ```ts
 * import { fromProcess } from 'alicred/node';
 * // A stand-in for a real helper (a vault client, an SSO tool): prints External-mode JSON.
 * const helper = `console.log(JSON.stringify({ mode: 'StsToken', access_key_id: 'STS.demo', access_key_secret: 'demo-secret',
 *   sts_token: 'demo-token', expiration: new Date(Date.now() + 3600e3).toISOString() }))`;
 * const provider = fromProcess({ command: [process.execPath, '-e', helper] }); // argv: no shell
 * const creds = await provider();   // runs the command once
 * await provider();                 // cached until the printed expiration approaches
 * provider.close();
 * ```
 */
export function fromProcess(options: FromProcessOptions): RefreshingProvider {
  options = withDebugLogger(options ?? {}) as FromProcessOptions; // ALICRED_DEBUG / DEBUG=alicred: debug lines to stderr
  const command = checkCommand(options?.command);
  const site = (field: string) => ({ fn: 'fromProcess', provider: PROVIDER, field });
  const timeoutMs = Math.min(MAX_TIMER_MS, positiveNumber(options.timeoutMs, DEFAULT_TIMEOUT_MS, site('timeoutMs')));
  const maxOutputBytes = Math.max(1, Math.floor(positiveNumber(options.maxOutputBytes, DEFAULT_MAX_OUTPUT_BYTES, site('maxOutputBytes'))));
  const program = programName(command);
  const run: RunSpec = { command, program, timeoutMs, maxOutputBytes, cwd: options.cwd, env: options.env };
  const logger = options.logger ?? options.refresh?.logger;
  const clock = options.refresh?.clock ?? (() => Date.now());
  return refreshing(
    async ({ signal } = {}) => clampLifetime(parseOutput(await runCommand(run, signal), program), clock(), program, logger),
    {
      name: `process ${program}`,
      logger: options.logger,
      // The engine's own deadline must not cut the command's time limit short.
      refreshTimeoutMs: Math.min(MAX_TIMER_MS, Math.max(60_000, timeoutMs + 5_000)),
      ...options.refresh,
    },
  );
}

type RunSpec = {
  command: string | readonly string[];
  program: string;
  timeoutMs: number;
  maxOutputBytes: number;
  cwd: string | undefined;
  env: EnvLike | undefined;
};

function checkCommand(command: unknown): string | readonly string[] {
  if (typeof command === 'string' && command.trim() !== '') return command;
  if (Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string') && command[0] !== '') {
    return Object.freeze([...(command as string[])]);
  }
  throw new ConfigError('fromProcess: command must be a non-empty string or a non-empty array of strings', {
    provider: PROVIDER,
    field: 'command',
  });
}

/**
 * The program's name for messages: the first word of a shell command, skipping leading
 * `NAME=value` assignments (they may carry secrets), with quotes removed; never the
 * arguments. For an argv, its first element.
 */
function programName(command: string | readonly string[]): string {
  if (typeof command !== 'string') return shorten(command[0] ?? '');
  let rest = command;
  for (;;) {
    const [word, after] = shellWord(rest);
    rest = after;
    if (word === '') return 'command';
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return shorten(word);
  }
}

function shorten(word: string): string {
  return word.length > 120 ? `${word.slice(0, 117)}...` : word;
}

/** Reads one POSIX-shell word (quotes removed) from the start of `text`; returns it and the rest. */
function shellWord(text: string): [string, string] {
  let i = 0;
  while (i < text.length && /\s/.test(text[i]!)) i++;
  let word = '';
  let quote: '"' | "'" | undefined;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '\\' && process.platform !== 'win32' && i + 1 < text.length) {
      word += text[++i];
    } else if (/\s/.test(c)) {
      break;
    } else {
      word += c;
    }
  }
  return [word, text.slice(i)];
}

function failure(message: string, code: string, cause?: unknown): CredentialsProviderError {
  return new CredentialsProviderError(`fromProcess: ${message}`, { provider: PROVIDER, code, retryable: false, cause });
}

/** node:child_process, imported on the first run: importing alicred/node does not load it. */
let childProcess: typeof import('node:child_process') | undefined;

/** Runs the command; resolves with its stdout when it exits with 0. */
async function runCommand(spec: RunSpec, signal: AbortSignal | undefined): Promise<Buffer> {
  signal?.throwIfAborted();
  const { spawn } = (childProcess ??= await import('node:child_process'));
  signal?.throwIfAborted();
  const windows = process.platform === 'win32';
  return new Promise<Buffer>((resolve, reject) => {
    const common = {
      cwd: spec.cwd,
      env: spec.env === undefined ? undefined : definedOnly(spec.env),
      stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
      // POSIX: its own process group, so a timeout kills everything it started.
      detached: !windows,
      windowsHide: true,
    };
    let child: ChildProcess;
    try {
      child =
        typeof spec.command === 'string'
          ? spawn(spec.command, { ...common, shell: true })
          : spawn(spec.command[0]!, spec.command.slice(1), { ...common, shell: false });
    } catch (error) {
      reject(failure(`could not start ${spec.program} (${errorCode(error)})`, 'ProcessSpawnFailed', error));
      return;
    }

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr: Buffer = Buffer.alloc(0);
    let stderrBytes = 0;
    let settled = false;
    let closed = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;

    const timer = setTimeout(() => {
      stop(
        failure(`${spec.program} did not finish within ${spec.timeoutMs} ms; it was killed`, 'Timeout'),
      );
    }, spec.timeoutMs);
    timer.unref?.();

    const onAbort = (): void => stop(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    function finish(): void {
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    /** Fails the run and kills the process tree (SIGTERM, then SIGKILL after a grace period). */
    function stop(error: unknown): void {
      if (settled) return;
      finish();
      reject(error);
      killTree(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (!closed) killTree(child, 'SIGKILL');
      }, KILL_GRACE_MS);
      killTimer.unref?.();
      // Nothing more is read: do not let a lingering grandchild holding the pipes keep us alive.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
    }

    child.stdout!.on('data', (chunk: Buffer) => {
      if (settled) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > spec.maxOutputBytes) {
        stop(
          failure(
            `${spec.program} printed more than ${spec.maxOutputBytes} bytes on stdout (maxOutputBytes); it was killed`,
            'OutputTooLarge',
          ),
        );
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (settled) return;
      stderrBytes += chunk.length;
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_KEEP_BYTES) stderr = stderr.subarray(stderr.length - STDERR_KEEP_BYTES);
    });
    child.stdout!.on('error', () => {});
    child.stderr!.on('error', () => {});

    child.on('error', (error) => {
      // Spawning failed (no such program, bad cwd) or a kill failed after the fact.
      if (settled) return;
      finish();
      const hint = spec.cwd !== undefined ? '; check the program and cwd' : '';
      reject(failure(`could not start ${spec.program} (${errorCode(error)}${hint})`, 'ProcessSpawnFailed', error));
    });

    child.on('close', (code: number | null, sig: NodeJS.Signals | null) => {
      closed = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (settled) return;
      finish();
      if (code === 0) {
        resolve(Buffer.concat(stdout));
        return;
      }
      const how = code !== null ? `exited with code ${code}` : `was killed by signal ${sig ?? 'unknown'}`;
      const notFound = code === 127 && typeof spec.command === 'string' ? ' (command not found?)' : '';
      reject(
        failure(`${spec.program} ${how}${notFound}${describeStderr(stderr, stderrBytes)}`, 'ProcessFailed'),
      );
    });
  });
}

function definedOnly(env: EnvLike): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** Kills the child's whole process group (POSIX) or process tree (Windows); never throws. */
function killTree(child: ChildProcess, sig: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    try {
      // Only ever reached after runCommand loaded node:child_process.
      const killer = childProcess!.spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
      killer.on('error', () => {});
      killer.unref();
    } catch {
      child.kill();
    }
    return;
  }
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {}
  }
}

/**
 * A short excerpt of the tail of stderr, redacted by {@link redactText} (its module comment
 * states the rule): values after secret words and long key-like runs are masked; paths,
 * ARNs, request ids and prose stay readable. Only the kept tail (4 KiB) is ever looked at.
 */
function describeStderr(stderr: Buffer, totalBytes: number): string {
  const text = stderr.toString('utf8').replace(/\s+/g, ' ').trim();
  if (text === '') return '';
  // A tail cut out of a longer stderr may start inside a secret: redactText drops that piece.
  let excerpt = redactText(text, { maxChars: STDERR_KEEP_BYTES, cutAtStart: totalBytes > stderr.length });
  if (excerpt.length > STDERR_EXCERPT_CHARS) excerpt = `...${excerpt.slice(-STDERR_EXCERPT_CHARS)}`;
  return `; stderr (${totalBytes} bytes, redacted): ${excerpt}`;
}

/**
 * A helper may print any expiration (a typo, a far-future date): no temporary credential
 * lives longer than 12 h, so the local lifetime is cut to that, with a warning.
 */
function clampLifetime(credentials: Credentials, now: number, program: string, logger: Logger | undefined): Credentials {
  const stated = credentials.expiration?.getTime();
  if (stated === undefined) return credentials;
  const { expiresAt, clamped } = clampExpiration(stated, now, MAX_TEMPORARY_LIFETIME_MS);
  if (!clamped) return credentials;
  try {
    logger?.warn?.(
      `alicred: process ${program} printed an expiration of ${credentials.expiration!.toISOString()} ` +
        `(lifetime ${Math.round((stated - now) / 1000)} s), longer than the ${MAX_TEMPORARY_LIFETIME_MS / 1000} s any ` +
        `temporary credential lives; using ${new Date(expiresAt).toISOString()} (${MAX_TEMPORARY_LIFETIME_MS / 1000} s) instead`,
    );
  } catch {
    // A logger that throws must not fail the call.
  }
  return createCredentials({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    expiration: new Date(expiresAt),
    source: credentials.source,
  });
}

/** Parses the External-mode JSON. Messages name fields, never values. */
function parseOutput(stdout: Buffer, program: string): Credentials {
  const where = `the output of ${program}`;
  const bad = (message: string, field: string): ConfigError =>
    new ConfigError(`fromProcess: ${where} ${message}`, { provider: PROVIDER, field });

  const text = stdout.toString('utf8').replace(/^\uFEFF/, '').trim();
  if (text === '') throw bad('is empty: expected a JSON object on stdout', 'stdout');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: neither it nor the error is kept.
    throw bad(`is not valid JSON (${stdout.length} bytes on stdout; not shown, it may hold secrets)`, 'stdout');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw bad('is not a JSON object', 'stdout');
  }
  const record = data as Record<string, unknown>;

  // `mode` and the inference from `sts_token` are this format's own; the fields are shared.
  const str = (field: string): string | undefined => {
    const value = record[field];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
    if (typeof value !== 'string') throw bad(`has a ${field} that is not a string`, field);
    return value.trim();
  };

  const rawMode = str('mode');
  let mode: CliMode;
  if (rawMode === undefined) {
    mode = str(CLI_KEYS.securityToken) !== undefined ? 'StsToken' : 'AK';
  } else {
    const known = cliMode(rawMode);
    if (known === undefined || !OUTPUT_MODES.includes(known)) {
      // Only a mode the CLI knows is named: any other value is not echoed.
      const named = known !== undefined ? ` ${rawMode}` : '';
      throw bad(`has an unsupported mode${named}: expected AK or StsToken`, 'mode');
    }
    mode = known;
  }
  // Like the official libraries, a token printed with mode AK is kept.
  const checked = checkCredentialsRecord(record, {
    keys: CLI_KEYS,
    requireToken: mode === 'StsToken',
    requireExpiration: false,
    parseTime: (text) => parseStsTime(text.trim()),
  });
  if (checked.problems !== undefined) {
    const { key, problem } = checked.problems[0]!;
    if (problem === 'missing') throw bad(`has no ${key} (a non-empty string is required)`, key);
    if (problem === 'not-string') throw bad(`has a ${key} that is not a string`, key);
    throw bad('has an expiration that is not an ISO 8601 date-time (e.g. 2025-01-15T09:00:00Z)', key);
  }
  const fields = checked.value;
  const accessKeyId = fields.accessKeyId.trim();
  const accessKeySecret = fields.accessKeySecret.trim();
  const securityToken = fields.securityToken?.trim();
  const expiration = fields.expiresAt === undefined ? undefined : new Date(fields.expiresAt);
  return createCredentials({ accessKeyId, accessKeySecret, securityToken, expiration, source: PROVIDER });
}
