/**
 * The monotonic clock, for ages and deadlines that wall-clock jumps (NTP steps, a laptop
 * waking up) must not move.
 *
 * Universal code.
 *
 * @internal
 */

/**
 * Milliseconds from `performance.now()`, else `Date.now()` where there is no `performance`.
 * Looked up at each call (not bound once), so fake timers that replace `performance.now` work.
 */
export function monotonicNow(): number {
  const perf = globalThis.performance;
  return typeof perf?.now === 'function' ? perf.now() : Date.now();
}
