/**
 * What the `alicred` command prints and how it ends: stdout for results, stderr for status,
 * progress, warnings and errors (one line each); colour only on a terminal and never with
 * `NO_COLOR`; exit codes 0 (ok), 1 (credentials), 2 (usage).
 *
 * @internal
 */
import { isCredentialsError } from '../errors.js';
import type { EnvLike } from '../internal/env.js';
import { sanitizeText } from '../internal/redact.js';
import type { Logger } from '../types.js';

/** Exit codes of every command. */
export const EXIT = Object.freeze({ ok: 0, credentials: 1, usage: 2 });

/** A stream as the command uses it (process.stdout / process.stderr, or a test double). */
export type OutStream = { write(text: string): unknown; isTTY?: boolean };

/** What a command runs with: its streams and environment. */
export type Io = { stdout: OutStream; stderr: OutStream; env: EnvLike };

/** What every command gets from main. */
export type CommandContext = {
  output: Output;
  env: EnvLike;
  /** Warnings (and, with ALICRED_DEBUG / DEBUG=alicred, debug lines) to stderr. */
  logger: Logger;
  /** Installs the SIGINT / SIGTERM handlers; resolves with the first signal's name (long-running commands stop then). */
  stopped: () => Promise<string>;
};

/** Wrong use of the command: exit 2, with a pointer to `--help`. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the command reports itself, as one line, with its exit code (default 1). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.credentials,
  ) {
    super(message);
  }
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
export type Colour = keyof typeof CODES;

/** How long something may wait on the network before a progress line says so. */
export const PROGRESS_AFTER_MS = 1_000;

/** The command's printer. */
export class Output {
  private readonly colourOut: boolean;
  private readonly colourErr: boolean;

  constructor(
    readonly io: Io,
    /** `alicred <command>`: how messages start. */
    readonly prefix = 'alicred',
  ) {
    const allowed = (io.env.NO_COLOR ?? '') === '' && io.env.TERM !== 'dumb';
    this.colourOut = allowed && io.stdout.isTTY === true;
    this.colourErr = allowed && io.stderr.isTTY === true;
  }

  /** `text` in a colour on stdout's terminal; plain elsewhere. */
  paint(colour: Colour, text: string, stream: 'out' | 'err' = 'out'): string {
    const on = stream === 'out' ? this.colourOut : this.colourErr;
    return on ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
  }

  /** One line on stdout. */
  out(line = ''): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** One line on stderr. */
  err(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** A status line on stderr: `alicred <command>: …`. */
  note(message: string): void {
    this.err(`${this.prefix}: ${message}`);
  }

  warn(message: string): void {
    this.err(`${this.paint('yellow', 'warning', 'err')}: ${oneLine(message)}`);
  }

  /** The one error line. */
  error(message: string): void {
    this.err(`${this.paint('red', `${this.prefix}: error`, 'err')}: ${oneLine(message)}`);
  }

  /**
   * Waits for `work`; if it takes longer than a second, says on stderr what is being waited
   * for (once), so a slow network never looks like a hang.
   */
  async progress<T>(label: string, work: Promise<T>): Promise<T> {
    const timer = setTimeout(() => this.note(`${label}…`), PROGRESS_AFTER_MS);
    try {
      return await work;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A logger for alicred's providers: warnings on stderr; debug lines on stderr when
   * `debug` is true (ALICRED_DEBUG / DEBUG=alicred).
   */
  logger(debug: boolean): Logger {
    const warn = (message: string): void => this.warn(message);
    if (!debug) return { warn };
    return { warn, debug: (message: string) => this.err(`${this.paint('dim', `${new Date().toISOString()} debug`, 'err')} ${message}`) };
  }
}

/** One line: newlines of a multi-line message joined. */
export function oneLine(message: string): string {
  return message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}

/**
 * Prints `error` as one line and returns the exit code: usage errors 2, everything else 1.
 * Errors alicred did not make are sanitized (no URL query, no key-like run of characters).
 */
export function report(output: Output, error: unknown, command: string | undefined): number {
  if (error instanceof UsageError) {
    output.error(`${error.message} (see: alicred ${command ?? ''}${command ? ' ' : ''}--help)`);
    return EXIT.usage;
  }
  if (error instanceof CliError) {
    output.error(error.message);
    return error.exitCode;
  }
  if (isCredentialsError(error)) {
    if (error.name === 'CredentialsChainError') {
      output.error("no credentials found: no link of the default chain is configured (run 'alicred doctor' to see each link's verdict)");
    } else {
      output.error(error.message);
    }
    return EXIT.credentials;
  }
  const message = error instanceof Error ? error.message : `a non-Error value was thrown (${typeof error})`;
  output.error(sanitizeText(message, [], 500));
  return EXIT.credentials;
}

/** `Date` as `yyyy-MM-ddTHH:mm:ssZ` (the form the credentials URI and External mode use). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "in 59 min", "in 2 h 5 min", "5 s ago": how far `date` is from now. */
export function fromNow(date: Date, now = Date.now()): string {
  const ms = date.getTime() - now;
  const abs = Math.abs(ms);
  const text =
    abs < 90_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3 * 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : `${Math.floor(abs / 3_600_000)} h ${Math.round((abs % 3_600_000) / 60_000)} min`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
