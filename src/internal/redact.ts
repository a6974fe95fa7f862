/**
 * Keeping secrets out of what we print: known secrets scrubbed in every encoded form, URL
 * queries and user info stripped, foreign errors replaced by sanitized stand-ins, and
 * excerpts built from a bounded prefix so no regex ever runs over a huge body.
 *
 * Universal code: no Node built-ins.
 *
 * @internal
 */

/** What replaces a secret. */
export const REDACTED = '[REDACTED]';
/** Secrets shorter than this are not scrubbed (they would mangle ordinary text). */
export const MIN_SCRUB_LENGTH = 4;
/** Excerpts and foreign messages are cut to this many characters before any regex runs. */
export const EXCERPT_SOURCE_CHARS = 4096;
/** How deep a foreign cause chain is copied. */
const MAX_CAUSE_DEPTH = 3;

/** RFC 3986 encoding as the signers do it (`encodeURIComponent` plus `! ' ( ) *`). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Replaces every occurrence of each secret (as is, percent-encoded once and twice, and
 * form-encoded) with `[REDACTED]`. Secrets shorter than 4 characters are left alone.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SCRUB_LENGTH) continue;
    forms.add(secret);
    try {
      const once = rfc3986(secret);
      forms.add(once);
      forms.add(rfc3986(once));
      forms.add(encodeURIComponent(secret));
      forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
    } catch {
      // A lone surrogate: the raw form is all that can appear.
    }
  }
  // Longest first, so a form containing another is replaced whole.
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form.length >= MIN_SCRUB_LENGTH) out = out.split(form).join(REDACTED);
  }
  return scrubFragments(out, forms);
}

/** Pieces of a secret this long or longer are secret too (a body cut inside it, a half-quoted key). */
const FRAGMENT_LENGTH = 12;

/**
 * Masks every run of `FRAGMENT_LENGTH`+ characters that also occurs inside a secret: a server
 * that echoes part of a key, or a body cut in the middle of one, must not show that part.
 * One pass over the text with a set of the secrets' fragments; the text is bounded by callers.
 */
function scrubFragments(text: string, forms: ReadonlySet<string>): string {
  const fragments = new Set<string>();
  for (const form of forms) {
    if (form.length <= FRAGMENT_LENGTH) continue;
    // Bounded: a token of a few KiB gives a few thousand fragments.
    for (let i = 0; i + FRAGMENT_LENGTH <= Math.min(form.length, 16_384); i++) fragments.add(form.slice(i, i + FRAGMENT_LENGTH));
  }
  if (fragments.size === 0 || text.length < FRAGMENT_LENGTH) return text;
  let out = '';
  let i = 0;
  let maskedTo = 0;
  for (; i + FRAGMENT_LENGTH <= text.length; i++) {
    if (fragments.has(text.slice(i, i + FRAGMENT_LENGTH))) {
      if (i > maskedTo) out += text.slice(maskedTo, i);
      if (i >= maskedTo) out += REDACTED;
      maskedTo = i + FRAGMENT_LENGTH;
    }
  }
  return maskedTo === 0 ? text : out + text.slice(Math.max(maskedTo, 0));
}

/** Drops a trailing prefix of any secret from a string that was cut short. */
export function dropPartialSecret(cut: string, secrets: readonly (string | undefined)[]): string {
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SCRUB_LENGTH) continue;
    for (let n = Math.min(secret.length - 1, cut.length); n >= MIN_SCRUB_LENGTH; n--) {
      if (cut.endsWith(secret.slice(0, n))) return cut.slice(0, cut.length - n);
    }
  }
  return cut;
}

// A URL with a scheme; the query/fragment part runs to whitespace or a quote.
const URL_RE = /\b([a-z][a-z0-9+.-]{0,20}:\/\/)([^\s"'<>`/?#]*@)?([^\s"'<>`?#]*)([?#][^\s"'<>`]*)?/gi;
// `name=value` pairs whose value is a secret, wherever they appear (a path+query without scheme).
const SECRET_PAIR_RE = /\b([\w-]{0,40}?(?:token|secret|signature|password|passwd))(=|%3D)[^&\s"'<>`]*/gi;

/**
 * Strips user info, query and fragment from every URL in `text` (`https://h/p?…`) and the
 * value of any `SecurityToken=`, `Signature=`, `token=`… pair. `text` should be bounded.
 */
export function stripUrlSecrets(text: string): string {
  return text
    .replace(URL_RE, (_m, scheme: string, _user: string | undefined, rest: string, query: string | undefined) => {
      if (query === undefined) return `${scheme}${rest}`;
      // Keep closing punctuation that ends a quoted URL: "(https://h/?q): reason".
      const tail = /[)\].,;:]+$/.exec(query)?.[0] ?? '';
      return `${scheme}${rest}?…${tail}`;
    })
    .replace(SECRET_PAIR_RE, (_m, name: string, eq: string) => `${name}${eq}${REDACTED}`);
}

const KEY_RUN_RE = /[A-Za-z0-9+/=_]{16,}/g;

/**
 * Foreign text made safe to print: cut to `max` characters, URLs stripped of queries and
 * user info, known secrets scrubbed.
 */
export function sanitizeText(text: string, secrets: readonly (string | undefined)[] = [], max = 1000): string {
  let bounded = text.length > EXCERPT_SOURCE_CHARS ? dropPartialSecret(text.slice(0, EXCERPT_SOURCE_CHARS), secrets) : text;
  // Known secrets first; then, since foreign text may carry secrets nobody told us about, any
  // long run of key characters that mixes letters and digits (ids, secrets and tokens do;
  // words, hosts, paths and hyphenated request ids do not).
  bounded = scrubSecrets(stripUrlSecrets(bounded), secrets).replace(KEY_RUN_RE, (run) =>
    /[A-Za-z]/.test(run) && /\d/.test(run) ? REDACTED : run,
  );
  return bounded.length > max ? `${dropPartialSecret(bounded.slice(0, max - 1), secrets)}…` : bounded;
}

/** Longest excerpt by default. */
export const DEFAULT_EXCERPT_CHARS = 200;

// `"AccessKeySecret": "…"`, `token=…`: the value after a secret-looking field name.
const SECRET_FIELD_RE = /("?(?:AccessKeySecret|SecurityToken|access_key_secret|security_token|sts_token|secret|token|password)"?\s*[:=]\s*)("[^"]*"?|[^\s,;&}]*)/gi;
// The same fields written as XML elements (`<AccessKeySecret>…</AccessKeySecret>`), as STS answers in XML.
const SECRET_ELEMENT_RE = /(<(AccessKeySecret|SecurityToken|access_key_secret|security_token|sts_token|Secret|Token|Password)>)[^<]*((?:<\/\2>)?)/gi;
// A long run of key-like characters: a secret nobody told us about.
// A credentials answer's secrets are 30 characters and up; 16 catches them wherever they stand.
const LONG_RUN_RE = /[A-Za-z0-9+/=_-]{16,}/g;

/** Options of {@link bodyExcerpt}. */
export type ExcerptOptions = {
  /** Longest result, `…` included. Default 200. */
  max?: number | undefined;
  /** Known secrets (the request's), scrubbed in every encoded form. */
  secrets?: readonly (string | undefined)[] | undefined;
  /**
   * The text may carry secrets we were not told (a credentials answer): also mask every run
   * of 32+ key-like characters. Off for error pages, where such runs are ids worth reading.
   */
  unknownSecrets?: boolean | undefined;
};

/**
 * A short, single-line excerpt of foreign text (a response body, a field of one) for error
 * messages. The one rule: only a bounded prefix is looked at (no regex over a huge body);
 * URL queries stripped, known secrets scrubbed, values of secret-looking fields
 * (`AccessKeySecret`, `SecurityToken`, `token`, `password`…) masked, with `unknownSecrets`
 * long key-like runs masked too; whitespace collapsed; cut to `max` with `…`, never leaving
 * the start of a known secret at the cut.
 */
export function bodyExcerpt(text: string, options: ExcerptOptions = {}): string {
  const secrets = options.secrets ?? [];
  const max = options.max ?? DEFAULT_EXCERPT_CHARS;
  const prefix = text.length > EXCERPT_SOURCE_CHARS ? dropPartialSecret(text.slice(0, EXCERPT_SOURCE_CHARS), secrets) : text;
  let masked = scrubSecrets(stripUrlSecrets(prefix), secrets)
    .replace(SECRET_FIELD_RE, '$1"[REDACTED]"')
    .replace(SECRET_ELEMENT_RE, `$1${REDACTED}$3`);
  if (options.unknownSecrets === true) masked = masked.replace(LONG_RUN_RE, REDACTED);
  const collapsed = masked.replace(/\s+/g, ' ').trim();
  if (collapsed.length <= max) return prefix.length < text.length ? `${collapsed}…` : collapsed;
  return `${dropPartialSecret(collapsed.slice(0, max - 1), secrets)}…`;
}

function ownString(value: object, key: string): string | undefined {
  try {
    const v = (value as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // a throwing getter
  }
}

/**
 * A printable stand-in for a foreign error (what fetch threw): an `Error` with the same
 * name, sanitized message and string `code`, and a sanitized stand-in of its own cause
 * (a few links deep). The original is never kept: its message, properties or cause may
 * quote the request URL with a token in the query.
 */
export function sanitizeError(error: unknown, secrets: readonly (string | undefined)[], depth = 0): Error {
  if (typeof error !== 'object' || error === null) {
    const text = typeof error === 'string' ? error : `non-error value thrown (${typeof error})`;
    return new Error(sanitizeText(text, secrets));
  }
  const name = ownString(error, 'name');
  const message = ownString(error, 'message') ?? '';
  const code = ownString(error, 'code');
  let cause: unknown;
  try {
    cause = (error as { cause?: unknown }).cause;
  } catch {
    cause = undefined;
  }
  const nested =
    cause === undefined || cause === null || cause === error || depth + 1 >= MAX_CAUSE_DEPTH
      ? undefined
      : sanitizeError(cause, secrets, depth + 1);
  const safe = new Error(sanitizeText(message, secrets), nested === undefined ? undefined : { cause: nested });
  if (name !== undefined && name !== 'Error') {
    Object.defineProperty(safe, 'name', { value: sanitizeText(name, secrets, 100), configurable: true, writable: true });
  }
  if (code !== undefined) {
    (safe as Error & { code?: string }).code = sanitizeText(code, secrets, 100);
  }
  // The stack's first line repeats name and message: rebuild it from the clean ones.
  const frames = (safe.stack ?? '').split('\n').slice(1).join('\n');
  safe.stack = `${safe.name}: ${safe.message}${frames === '' ? '' : `\n${frames}`}`;
  return safe;
}

/**
 * The values of a URL's query (and the query itself), for {@link scrubSecrets}: a token
 * passed as `?token=…` is a secret.
 */
export function querySecrets(url: URL): string[] {
  if (url.search === '') return [];
  const out = [url.search.slice(1)];
  for (const [, value] of url.searchParams) out.push(value);
  return out;
}

/**
 * `code: message <- code: message` of a foreign error chain, a few links deep, sanitized
 * (for our own messages; the chain itself is never kept).
 */
export function describeFailure(error: unknown, secrets: readonly (string | undefined)[]): string {
  const parts: string[] = [];
  let current: unknown = error;
  try {
    for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
      if (typeof current !== 'object') {
        parts.push(typeof current === 'string' ? current : `non-error value thrown (${typeof current})`);
        break;
      }
      const { code, message } = current as { code?: unknown; message?: unknown };
      const piece = [typeof code === 'string' ? code : undefined, typeof message === 'string' ? message.slice(0, 2000) : undefined]
        .filter((p): p is string => p !== undefined && p !== '')
        .join(': ');
      if (piece !== '' && !parts.some((p) => p.includes(piece))) parts.push(piece);
      current = (current as { cause?: unknown }).cause;
    }
  } catch {
    // A throwing getter: keep what was read.
  }
  return parts.length === 0 ? 'unknown error' : sanitizeText(parts.join(' <- '), secrets, 500);
}
