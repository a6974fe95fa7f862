/**
 * Reading the SDKs' shared credentials file (an ini file whose sections are profiles)
 * leniently: a bad line spoils only the profile it belongs to. Java's, Python's and the
 * `ini` package's readers skip a nameless section (`[ ]`); refusing the whole file for it
 * (or for a stray line in another profile) would hide a good `[default]` below it.
 *
 * @module
 */
import { ConfigError } from '../errors.js';
import type { Logger } from '../types.js';
import { warnOnce } from './profile-file.js';

/** A line that is not blank, a comment, a `[section]` header nor `key = value`. */
export type IniProblem = {
  readonly line: number;
  readonly what: string;
  /** For a header that opens no profile: how many lines below it were skipped with it. */
  skippedBelow?: number;
};

/** One `[section]` of the file. */
export type IniSection = {
  readonly name: string;
  /** Line of its (first) header. */
  readonly line: number;
  /** Key → line of its last assignment (the one that wins). */
  readonly keys: Map<string, number>;
  /** Key lines, fed to `ini` for the values. */
  readonly body: string[];
  /** Malformed lines inside it: reading this profile is an error. */
  readonly problems: IniProblem[];
  values?: Record<string, unknown>;
};

/** A parsed credentials file. */
export type IniFile = {
  readonly sections: Map<string, IniSection>;
  /** Headers that are not headers (`[default`, `[a] b`): one of them may be the profile asked for. */
  readonly badHeaders: IniProblem[];
  /** Lines that belong to no profile and were skipped (nameless sections, stray lines at the top). */
  readonly skipped: IniProblem[];
};

/** The part of the `ini` package used here. */
type IniCodec = { unsafe(text: string): string; decode(text: string): unknown };
let codec: IniCodec | undefined;

/**
 * Loads the `ini` package, once. Called before the first file is parsed, not at import: most
 * processes never read a profile file, and loading it costs a few ms of start-up.
 */
export async function loadIni(): Promise<void> {
  codec ??= ((await import('ini')) as { default: IniCodec }).default;
}

function iniCodec(): IniCodec {
  if (codec === undefined) throw new Error('alicred: ini-file used before loadIni()');
  return codec;
}

const HEADER_RE = /^\[([^\]]*)\]\s*(?:[;#].*)?$/;
const NOT_A_HEADER = 'starts with "[" but is not a [section] header';
const NOT_A_LINE = 'is neither a [section] header, a key = value pair nor a comment';
const NO_KEY = 'has no key before "="';

/**
 * Splits the file into sections, checking every line: a line that is not blank, a comment
 * (`;` or `#`), a `[section]` header nor `key = value` is recorded against the section it
 * is in (the `ini` package would silently take it for a key), never thrown here. A nameless
 * header and a malformed one start a region whose lines belong to no profile. Values are
 * parsed by `ini`, section by section (so `[prod.cn]` is one profile, not `prod` → `cn`).
 * Problems name lines, never quote them (they may hold a secret).
 */
export function parseIniFile(text: string): IniFile {
  const ini = iniCodec();
  const sections = new Map<string, IniSection>();
  const badHeaders: IniProblem[] = [];
  const skipped: IniProblem[] = [];
  /** Where key lines go: a section, or the region of a header that opens no profile. */
  let current: IniSection | undefined;
  let region: IniProblem | undefined;
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) continue;
    if (trimmed.startsWith('[')) {
      current = undefined;
      region = undefined;
      const m = HEADER_RE.exec(trimmed);
      if (!m) {
        region = { line: lineNo, what: NOT_A_HEADER, skippedBelow: 0 };
        badHeaders.push(region);
        continue;
      }
      const name = ini.unsafe(m[1]!);
      if (name === '') {
        region = { line: lineNo, what: 'is a section header without a name', skippedBelow: 0 };
        skipped.push(region);
        continue;
      }
      current = sections.get(name);
      if (!current) {
        current = { name, line: lineNo, keys: new Map(), body: [], problems: [] };
        sections.set(name, current);
      }
      continue;
    }
    const eq = trimmed.indexOf('=');
    const problem = eq < 0 ? NOT_A_LINE : trimmed.slice(0, eq).trim() === '' ? NO_KEY : undefined;
    if (current) {
      if (problem !== undefined) {
        current.problems.push({ line: lineNo, what: problem });
        continue;
      }
      let key = ini.unsafe(trimmed.slice(0, eq).trim());
      if (key.endsWith('[]')) key = key.slice(0, -2);
      current.keys.set(key, lineNo);
      current.body.push(trimmed);
    } else if (region) {
      region.skippedBelow = (region.skippedBelow ?? 0) + 1;
    } else if (problem !== undefined) {
      // Before any section: belongs to no profile. Good keys there are ignored silently, as ini does.
      skipped.push({ line: lineNo, what: `${problem} (before any [section])` });
    }
  }
  return { sections, badHeaders, skipped };
}

/** The values of a section (parsed by `ini` on first use). */
export function valuesOf(section: IniSection): Record<string, unknown> {
  section.values ??= iniCodec().decode(section.body.join('\n')) as Record<string, unknown>;
  return section.values;
}

/** At most this many skipped lines are listed in one warning. */
const MAX_LISTED = 10;

/**
 * Checks that the profile asked for is readable: a malformed line inside it is a
 * {@link ConfigError} naming the file, the profile and the line; lines elsewhere that were
 * skipped get one warning through `logger.warn` (file and lines, never their text). When
 * the profile is missing, a malformed header is the error instead (it may have been meant
 * to open that profile). Returns the section, or undefined when it is not in the file.
 */
export function checkIniProfile(file: IniFile, name: string, path: string, provider: string, logger: Logger | undefined): IniSection | undefined {
  const section = file.sections.get(name);
  if (!section) {
    const bad = file.badHeaders[0];
    if (bad) {
      throw new ConfigError(
        `${provider}: ${path} is malformed: line ${bad.line} ${bad.what}; it may be the header of profile '${name}', which is not in the file otherwise`,
        { provider, file: path, line: bad.line },
      );
    }
    return undefined;
  }
  const own = section.problems[0];
  if (own) {
    throw new ConfigError(`${provider}: ${path} is malformed: line ${own.line} (in profile '${name}') ${own.what}`, {
      provider,
      file: path,
      line: own.line,
    });
  }
  if (typeof logger?.warn !== 'function') return section;
  const elsewhere: IniProblem[] = [...file.skipped, ...file.badHeaders];
  for (const other of file.sections.values()) {
    if (other !== section) for (const p of other.problems) elsewhere.push({ line: p.line, what: `${p.what} (in profile '${other.name}')` });
  }
  if (elsewhere.length > 0) {
    elsewhere.sort((a, b) => a.line - b.line);
    const listed = elsewhere.slice(0, MAX_LISTED).map((p) => {
      const n = p.skippedBelow;
      const below = n === undefined ? '' : ` (with the ${n} line${n === 1 ? '' : 's'} below it)`;
      return `line ${p.line} ${p.what}${below}`;
    });
    const more = elsewhere.length > MAX_LISTED ? `; and ${elsewhere.length - MAX_LISTED} more` : '';
    const them = elsewhere.length === 1 ? 'it' : 'them';
    warnOnce(logger, `alicred: ${provider}: ${path}: skipped: ${listed.join('; ')}${more}. Profile '${name}' does not use ${them}.`);
  }
  return section;
}
