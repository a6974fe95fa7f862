/**
 * Time helpers of the STS client: the request timestamp, lenient parsing of `Expiration`,
 * and moving a server-stated expiration onto the local clock. Internal to the STS layer
 * (other providers parsing an `Expiration` may use them too).
 *
 * @internal
 */

/**
 * Below this difference between the server's `Date` header and the local clock, the clocks
 * are taken to agree: the header has a resolution of one second and the answer took some
 * time to arrive, so a smaller "skew" is noise, and `Expiration` is used exactly as stated.
 *
 * @example
 * ```ts
 * import { CLOCK_SKEW_TOLERANCE_MS } from './time.js';
 * CLOCK_SKEW_TOLERANCE_MS; // 2000
 * ```
 */
export const CLOCK_SKEW_TOLERANCE_MS = 2_000;

/**
 * UTC `yyyy-MM-ddTHH:mm:ssZ` (no milliseconds), the form STS wants for `Timestamp` and
 * `x-acs-date`.
 *
 * @example
 * ```ts
 * import { stsTimestamp } from './time.js';
 * stsTimestamp(Date.UTC(2025, 0, 15, 8, 0, 0, 123)); // '2025-01-15T08:00:00Z'
 * ```
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
 *
 * @example
 * ```ts
 * import { parseStsTime } from './time.js';
 * parseStsTime('2025-01-15T08:00:00Z');          // 1736928000000
 * parseStsTime('2025-01-15T08:00:00.500Z');      // 1736928000500
 * parseStsTime('2025-01-15T16:00:00+08:00');     // 1736928000000
 * parseStsTime('tomorrow');                      // undefined
 * ```
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

/**
 * Parses an HTTP `Date` header (IMF-fixdate, e.g. `Wed, 15 Jan 2025 08:00:00 GMT`, or any
 * form `Date.parse` reads). Returns ms since the epoch or `undefined`.
 *
 * @example
 * ```ts
 * import { parseHttpDate } from './time.js';
 * parseHttpDate('Wed, 15 Jan 2025 08:00:00 GMT'); // 1736928000000
 * parseHttpDate(null);                            // undefined
 * ```
 */
export function parseHttpDate(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The result of {@link toLocalExpiration}.
 *
 * @example
 * ```ts
 * import type { LocalExpiration } from './time.js';
 * const same: LocalExpiration = { expiresAt: Date.UTC(2025, 0, 15, 9), clockSkewMs: 0 };
 * ```
 */
export type LocalExpiration = {
  /** The expiration on the local clock (ms since the epoch). */
  expiresAt: number;
  /** Server clock minus local clock (ms) when it was measured and beyond tolerance, else 0. */
  clockSkewMs: number;
};

/**
 * Moves a server-stated expiration onto the local clock: `localNow + (expiration -
 * serverDate)`, so that code comparing it with the local clock (the refresh engine) is
 * not fooled by a local clock that runs ahead or behind. Without a server date, or when
 * the clocks agree within {@link CLOCK_SKEW_TOLERANCE_MS}, the stated value is kept.
 *
 * @example
 * ```ts
 * import { toLocalExpiration } from './time.js';
 * // The server's clock is one hour ahead of ours: the credential lives 1 h from now, locally.
 * const local = Date.UTC(2025, 0, 15, 7);
 * toLocalExpiration({ expiration: Date.UTC(2025, 0, 15, 9), serverDate: Date.UTC(2025, 0, 15, 8), localNow: local });
 * // { expiresAt: Date.UTC(2025, 0, 15, 8), clockSkewMs: 3600000 }
 * ```
 */
export function toLocalExpiration(input: {
  expiration: number;
  serverDate: number | undefined;
  localNow: number;
}): LocalExpiration {
  const { expiration, serverDate, localNow } = input;
  if (serverDate === undefined) return { expiresAt: expiration, clockSkewMs: 0 };
  const skew = serverDate - localNow;
  if (Math.abs(skew) < CLOCK_SKEW_TOLERANCE_MS) return { expiresAt: expiration, clockSkewMs: 0 };
  return { expiresAt: localNow + (expiration - serverDate), clockSkewMs: skew };
}
