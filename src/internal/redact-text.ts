/**
 * Redaction of free text that may quote a secret (a helper's stderr, a server's error body),
 * keeping it readable enough to diagnose: paths, ARNs, request ids and prose survive.
 *
 * The rule, applied to at most `maxChars` characters (the input is cut first, so that a
 * 1 MB stderr costs no more than a short one; every step is a linear scan or a regex
 * without nested quantifiers, so no input can make it backtrack):
 *
 * 1. A *secret word* is an identifier (`[A-Za-z][A-Za-z0-9_]*`) containing `secret`,
 *    `token`, `passw(or)d`, `pwd`, `key`, `credential`, `authoriz` or `signature`, in any
 *    case and inside compounds (`AccessKeySecret`, `SecurityToken`, `access_key_secret`,
 *    `sts_token`, `passwd`), unless its last part names something that is not a secret
 *    (`AccessKeyId`, `token_file`, `key_path`, `key_pair_name`: see NOT_SECRET_SUFFIXES).
 * 2. After a secret word, within a few separator characters (a closing quote, spaces, one
 *    `:` or `=`, or the word `is`/`was`/`are`, then an opening quote):
 *    - with `:` or `=` (an assignment), the value, whatever its length, up to whitespace or
 *      `"',;}` (`secret=hunter2`, `"sts_token": "..."`);
 *    - otherwise, a run of 16+ token characters (letters, digits, `+/=_.~-`: base64,
 *      base64url, hex, letters only, digits only) (`secret is abcdefghijklmnopqrstuvwxyzAB`);
 *    - `Bearer <value>`, any length.
 * 3. Anywhere, a run of 16+ characters of `[A-Za-z0-9+/=_-]` that mixes letters and digits
 *    (AccessKey ids and secrets, STS tokens, JWT segments), except:
 *    - a UUID (8-4-4-4-12 hex: request ids);
 *    - a path or ARN part (the run starts with `/` or follows `.`, `~` or `:`): only its
 *      `/`-separated pieces are judged;
 *    - words joined by `-` or `_` where each word is letters only or digits only
 *      (`cn-shanghai-finance-1`, `iot-operator-2024`).
 *    `.` and `:` end a run, so host names, file names, ARNs and times split into short parts;
 *    an `=` inside a run (not base64 padding) splits it into a name and a value, judged apart.
 *
 * Each masked value becomes `[REDACTED]`. No Node built-ins: usable in every runtime.
 *
 * @module
 */

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';

/** Default bound on the text looked at. */
export const REDACT_MAX_CHARS = 8 * 1024;

/** Identifier characters (no `-`: `x-api-key` is three words, `secret-xyz` is not one). */
const IDENT_RE = /[A-Za-z][A-Za-z0-9_]*/g;
const SECRET_WORD_RE = /secret|token|passw(?:or)?d|pwd|key|credential|authoriz|signature/i;
/** Last parts of an identifier that make it name something other than a secret. */
const NOT_SECRET_SUFFIXES = new Set([
  'id', 'ids', 'file', 'files', 'path', 'dir', 'name', 'names', 'arn', 'type', 'url', 'uri', 'endpoint',
  'expiration', 'expire', 'expires', 'expired', 'ttl', 'len', 'length', 'size', 'count', 'header', 'format',
  'pair', 'source', 'env', 'mode', 'missing', 'required', 'invalid', 'not',
]);
/** Characters of a long secret-like run after a secret word (rule 2, no assignment). */
const TOKEN_CHAR_RE = /[A-Za-z0-9+/=_.~-]/;
/** Characters that end an assigned value (rule 2, assignment). */
const VALUE_END = ' \t\r\n"\',;}';
/** Rule 3 runs. */
const LONG_RUN_RE = /[A-Za-z0-9+/=_-]{16,}/g;
const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const PURE_WORD_RE = /^(?:[A-Za-z]*|[0-9]*)$/;
/** Up to this many separator characters between a secret word and its value. */
const MAX_GAP = 8;

/** Options of {@link redactText}. */
export type RedactTextOptions = {
  /** Look at no more than this many characters (default 8 KiB); the rest is dropped, marked `…`. */
  maxChars?: number;
  /** Which end to keep when cutting: `end` (default; the tail of a log says what failed) or `start`. */
  keep?: 'start' | 'end';
  /** The text was already cut at its start (a kept tail): its first word may be part of a secret. */
  cutAtStart?: boolean;
};

/** Masks what may be a secret in free text (see the module comment for the exact rule). */
export function redactText(text: string, options: RedactTextOptions = {}): string {
  const maxChars = Math.max(0, Math.floor(options.maxChars ?? REDACT_MAX_CHARS));
  let body = text;
  let head = '';
  let tail = '';
  let cutStart = options.cutAtStart === true;
  let cutEnd = false;
  if (body.length > maxChars) {
    if (options.keep === 'start') {
      body = body.slice(0, maxChars);
      cutEnd = true;
    } else {
      body = body.slice(body.length - maxChars);
      cutStart = true;
    }
  }
  // A value cut in two must not show its remaining piece: drop the partial word at a cut.
  if (cutStart) {
    body = body.replace(/^[^\s"',;}]*/, '');
    head = '…';
  }
  if (cutEnd) {
    body = body.replace(/[^\s"',;}]*$/, '');
    tail = '…';
  }
  return head + redactLongRuns(redactAfterSecretWords(body)) + tail;
}

/** Rules 1 and 2. */
function redactAfterSecretWords(text: string): string {
  const out: string[] = [];
  let copied = 0;
  IDENT_RE.lastIndex = 0;
  for (let m = IDENT_RE.exec(text); m !== null; m = IDENT_RE.exec(text)) {
    const word = m[0];
    const end = m.index + word.length;
    const span = word.toLowerCase() === 'bearer' ? bearerValue(text, end) : isSecretWord(word) ? valueAfter(text, end) : undefined;
    if (span === undefined) continue;
    out.push(text.slice(copied, span[0]), REDACTED);
    copied = span[1];
    IDENT_RE.lastIndex = span[1];
  }
  out.push(text.slice(copied));
  return out.join('');
}

function isSecretWord(word: string): boolean {
  if (!SECRET_WORD_RE.test(word)) return false;
  // The last part: after the last `_`, else the last capitalised part (AccessKeyId -> id).
  const underscore = word.lastIndexOf('_');
  let last = underscore >= 0 ? word.slice(underscore + 1) : word;
  const camel = /[A-Z][a-z0-9]*$/.exec(last);
  if (camel && camel.index > 0) last = camel[0];
  return !NOT_SECRET_SUFFIXES.has(last.toLowerCase());
}

/** The [start, end) of the value after a secret word ending at `at`, if there is one. */
function valueAfter(text: string, at: number): [number, number] | undefined {
  let p = at;
  const limit = Math.min(text.length, at + MAX_GAP);
  let assigned = false;
  if (text[p] === '"' || text[p] === "'") p++;
  while (p < limit && (text[p] === ' ' || text[p] === '\t')) p++;
  if (text[p] === ':' || text[p] === '=') {
    assigned = true;
    p++;
  } else {
    const verb = /^(?:is|was|are)[ \t]/i.exec(text.slice(p, p + 4));
    if (verb && p > at) p += verb[0].length;
  }
  while (p < limit && (text[p] === ' ' || text[p] === '\t')) p++;
  if (text[p] === '"' || text[p] === "'") p++;
  const start = p;
  if (assigned) {
    // `Authorization: Bearer x`: keep the scheme, mask what follows it.
    const scheme = /^(?:bearer|basic)[ \t]+/i.exec(text.slice(p, p + 16));
    if (scheme) return bearerValue(text, p + scheme[0].length - 1);
    while (p < text.length && !VALUE_END.includes(text[p]!)) p++;
    return p > start ? [start, p] : undefined;
  }
  // Without `:`/`=`, a separator is required: `secrets/x` is a path, not a value.
  if (start === at) return undefined;
  while (p < text.length && TOKEN_CHAR_RE.test(text[p]!)) p++;
  return p - start >= 16 ? [start, p] : undefined;
}

/** The value after `Bearer` (any length). */
function bearerValue(text: string, at: number): [number, number] | undefined {
  let p = at;
  while (p < text.length && (text[p] === ' ' || text[p] === '\t')) p++;
  if (p === at) return undefined;
  const start = p;
  while (p < text.length && !VALUE_END.includes(text[p]!)) p++;
  return p > start ? [start, p] : undefined;
}

/** Rule 3. */
function redactLongRuns(text: string): string {
  return text.replace(LONG_RUN_RE, (run: string, offset: number) => judgeRun(run, offset > 0 ? text[offset - 1]! : ''));
}

/** A rule-3 run, masked or kept; `before` is the character before it. */
function judgeRun(run: string, before: string): string {
  // `=` inside a run (not base64 padding at its end) joins a name and a value: judge each.
  if (/=[^=]/.test(run)) {
    return run
      .split(/(=+)/)
      .map((piece, i) => (i % 2 === 1 ? piece : judgeRun(piece, i === 0 ? before : '=')))
      .join('');
  }
  if (run.length < 16) return run;
  if (run.includes('/') && (run.startsWith('/') || before === '.' || before === '~' || before === ':')) {
    return run
      .split('/')
      .map((piece) => (piece.length >= 16 && looksSecret(piece) ? REDACTED : piece))
      .join('/');
  }
  return looksSecret(run) ? REDACTED : run;
}

function looksSecret(run: string): boolean {
  if (!/[A-Za-z]/.test(run) || !/[0-9]/.test(run)) return false;
  if (UUID_RE.test(run)) return false;
  const words = run.split(/[-_]/);
  return !(words.length > 1 && words.every((w) => PURE_WORD_RE.test(w) && w.length < 16));
}
