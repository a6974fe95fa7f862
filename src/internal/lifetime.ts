/**
 * The ceiling on how long a credential may be believed to live. A clock correction (a
 * stale `Date` header) or a hostile source must never stretch a lifetime beyond what was
 * asked for (STS `DurationSeconds`) or, for sources that take no duration, beyond the
 * longest session Alibaba Cloud issues.
 */

/** The longest temporary credential Alibaba Cloud issues: 12 hours (STS max session duration). */
export const MAX_TEMPORARY_LIFETIME_MS = 12 * 60 * 60 * 1000;

/**
 * `expiresAt` (ms since the epoch, local clock) cut down to `localNow + maxLifetimeMs`.
 * `clamped` says whether it was cut (the caller logs a warning).
 *
 * @internal
 */
export function clampExpiration(
  expiresAt: number,
  localNow: number,
  maxLifetimeMs: number = MAX_TEMPORARY_LIFETIME_MS,
): { expiresAt: number; clamped: boolean } {
  const ceiling = localNow + maxLifetimeMs;
  return expiresAt > ceiling ? { expiresAt: ceiling, clamped: true } : { expiresAt, clamped: false };
}
