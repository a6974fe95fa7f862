/**
 * Logging that can never break credential resolution: a caller's logger may throw (a closed
 * stream, a strict test double), and that must not replace the real error, skip a backoff or
 * abort a refresh.
 */
import type { Logger } from '../types.js';

/**
 * Calls `logger[level](message)` if it exists; whatever it throws is ignored.
 *
 * @internal
 */
export function logSafely(logger: Logger | undefined, level: 'debug' | 'info' | 'warn' | 'error', message: string): void {
  try {
    const method = logger?.[level];
    if (typeof method === 'function') method.call(logger, message);
  } catch {
    // A logger's failure is its own; credentials go on.
  }
}
