/**
 * Checks of numeric options (time limits, sizes) shared by the providers and the STS
 * client, so every one refuses the same values with the same kind of message.
 *
 * Universal code.
 *
 * @internal
 */
import { ConfigError } from '../errors.js';

/** setTimeout's largest delay: a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Who checks what, for the ConfigError: `fn` (e.g. `fromEcsMetadata`) prefixes the message
 * when given; `provider` and `field` go into the error.
 */
export type OptionSite = { fn?: string | undefined; provider: string; field: string };

function fail(site: OptionSite, rule: string): never {
  const prefix = site.fn === undefined ? '' : `${site.fn}: `;
  throw new ConfigError(`${prefix}${site.field} ${rule}`, { provider: site.provider, field: site.field });
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** A per-request time limit in ms: positive, finite and a delay `setTimeout` honours. */
export function checkTimeout(value: unknown, site: OptionSite): number {
  if (!isPositive(value) || value > MAX_TIMER_MS) {
    fail(site, `must be a positive number of milliseconds up to 2^31-1 (got ${String(value)})`);
  }
  return value;
}

/** A positive, finite number; `undefined` gives `fallback`. */
export function positiveNumber(value: unknown, fallback: number, site: OptionSite): number {
  if (value === undefined) return fallback;
  if (!isPositive(value)) fail(site, 'must be a positive number');
  return value;
}
