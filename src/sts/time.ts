/**
 * Time helpers of the STS client: the request timestamp, lenient parsing of `Expiration`,
 * and moving a server-stated expiration onto the local clock. Internal to the STS layer
 * (other providers parsing an `Expiration` may use them too).
 *
 * @internal
 */
import { clampExpiration } from '../internal/lifetime.js';

/**
 * Below this difference between the server's `Date` header and the local clock, the clocks
 * are taken to agree: the header has a resolution of one second and the answer took some
 * time to arrive, so a smaller "skew" is noise, and `Expiration` is used exactly as stated.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 2_000;

/**
 * UTC `yyyy-MM-ddTHH:mm:ssZ` (no milliseconds), the form STS wants for `Timestamp` and
 * `x-acs-date`.
 */
export function stsTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Parses an ISO 8601 date-time as STS and metadata services write it: with or without
 * fractional seconds, with `Z` or a `±hh:mm` / `±hhmm` offset; without any zone it is
 * read as UTC (never as local time). Returns ms since the epoch, or `undefined` when the
 * text is not such a date-time or names an impossible date (`2025-02-30`).
 */
export function parseStsTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_RE.exec(value.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), fraction);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (second === 60) ms += 1000; // a leap second: the instant right after :59
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMinutes = Number(m[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
    ms += m[9] === '+' ? -offset : offset;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

const WEEKDAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const IMF_FIXDATE_RE = /* @__PURE__ */ new RegExp(`^(?:${WEEKDAYS}), (\\d{2}) (${MONTH}) (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const RFC850_RE = /* @__PURE__ */ new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-(${MONTH})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2}) GMT$`);
const ASCTIME_RE = /* @__PURE__ */ new RegExp(`^(?:${WEEKDAYS}) (${MONTH}) ([ \\d]\\d) (\\d{2}):(\\d{2}):(\\d{2}) (\\d{4})$`);

function utcDate(year: number, month: string, day: number, hour: number, minute: number, second: number): number | undefined {
  const m = MONTHS.indexOf(month);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(year, m, day, hour, minute, Math.min(second, 59));
  const check = new Date(ms);
  return check.getUTCDate() === day && check.getUTCMonth() === m ? ms : undefined;
}

/**
 * Parses an HTTP `Date` header in the forms RFC 9110 §5.6.7 allows: IMF-fixdate
 * (`Wed, 15 Jan 2025 08:00:00 GMT`), and the obsolete RFC 850 and asctime forms. Anything
 * else (a date without zone, which `Date.parse` would read as local time, or garbage) is
 * `undefined`: no clock correction rather than a wrong one.
 */
export function parseHttpDate(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  const text = value.trim();
  let m = IMF_FIXDATE_RE.exec(text);
  if (m) return utcDate(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850_RE.exec(text);
  if (m) {
    // Two-digit years: RFC 9110 says the nearest past century; STS dates are after 2000.
    return utcDate(2000 + Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_RE.exec(text);
  if (m) return utcDate(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

/** Largest `Age` believed (RFC 9111 §5.1: 2^31 s stands for "more than that"). */
const MAX_AGE_SECONDS = 2_147_483_648;

/**
 * Parses an `Age` header: a non-negative integer of seconds that a cache held the answer.
 * Malformed values (negative, fractional, a list, text) are `undefined`; huge ones are cut
 * to 2^31 s, which still marks any credential in the answer as expired.
 */
export function parseAge(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!/^\d{1,20}$/.test(text)) return undefined;
  return Math.min(Number(text), MAX_AGE_SECONDS);
}

/** The result of {@link toLocalExpiration}. */
export type LocalExpiration = {
  /** The expiration on the local clock (ms since the epoch). */
  expiresAt: number;
  /** Server clock minus local clock (ms) when it was measured and beyond tolerance, else 0. */
  clockSkewMs: number;
};

/**
 * Moves a server-stated expiration onto the local clock: `localNow + (expiration -
 * serverNow)`, where the server's "now" is its `Date` plus the `Age` a cache held the
 * answer, so that code comparing it with the local clock (the refresh engine) is not
 * fooled by a local clock that runs ahead or behind, nor by a cache replaying an old
 * answer. Without a server date, or when the clocks agree within
 * {@link CLOCK_SKEW_TOLERANCE_MS}, the stated value is kept. It does not bound the
 * lifetime: see {@link boundedLocalExpiration}.
 */
export function toLocalExpiration(input: {
  expiration: number;
  serverDate: number | undefined;
  /** The answer's `Age` header, in seconds. */
  ageSeconds?: number | undefined;
  localNow: number;
}): LocalExpiration {
  const { expiration, serverDate, localNow } = input;
  if (serverDate === undefined) return { expiresAt: expiration, clockSkewMs: 0 };
  const serverNow = serverDate + (input.ageSeconds ?? 0) * 1000;
  const skew = serverNow - localNow;
  if (Math.abs(skew) < CLOCK_SKEW_TOLERANCE_MS) return { expiresAt: expiration, clockSkewMs: 0 };
  return { expiresAt: localNow + (expiration - serverNow), clockSkewMs: skew };
}

/** The result of {@link boundedLocalExpiration}. */
export type BoundedExpiration = LocalExpiration & {
  /** The lifetime the answer gave, on the local clock, before the ceiling (ms). */
  lifetimeMs: number;
  /** True when the lifetime was cut by more than the clock tolerance: log a warning. */
  clamped: boolean;
};

/**
 * {@link toLocalExpiration}, then cut to `localNow + maxLifetimeMs`: whatever a `Date`
 * header says, a credential never lives longer than was asked for (STS `DurationSeconds`)
 * or than 12 h. A cut within {@link CLOCK_SKEW_TOLERANCE_MS} (the header's resolution) is
 * made silently; a larger one sets `clamped`. An expiration already past stays past.
 */
export function boundedLocalExpiration(input: {
  expiration: number;
  serverDate: number | undefined;
  ageSeconds?: number | undefined;
  localNow: number;
  maxLifetimeMs: number;
}): BoundedExpiration {
  const local = toLocalExpiration(input);
  const { expiresAt, clamped } = clampExpiration(local.expiresAt, input.localNow, input.maxLifetimeMs);
  const lifetimeMs = local.expiresAt - input.localNow;
  return {
    expiresAt,
    clockSkewMs: local.clockSkewMs,
    lifetimeMs,
    clamped: clamped && lifetimeMs - input.maxLifetimeMs > CLOCK_SKEW_TOLERANCE_MS,
  };
}

/** A lifetime for log messages: `3600 s (1.0 h)`. */
export function formatLifetime(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 3600 ? `${seconds} s (${(seconds / 3600).toFixed(1)} h)` : `${seconds} s`;
}
