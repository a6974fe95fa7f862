/**
 * The records the refresh engine keeps (refresh-engine.ts): the cached credential with its
 * deadlines, and the refresh in flight.
 *
 * @internal
 */
import type { Credentials } from './credentials.js';

/**
 * One cached credential. Deadlines are on the engine's elapsed-time clock (see `clock`),
 * fixed once when the credential arrives, so the hot path is two clock reads and a compare.
 */
export type Entry = {
  readonly credentials: Credentials;
  /** Handed to every caller of the hot path: no allocation per call. */
  readonly resolved: Promise<Credentials>;
  /**
   * Elapsed-clock instants, whole ms rounded down (towards refreshing early): V8 stores small
   * integers in the object itself, fractions in boxes of their own. Infinity for credentials
   * that never expire. (The wall-clock expiry is `credentials.expiration`.)
   */
  readonly advisoryAt: number;
  readonly mandatoryAt: number;
  readonly expiresAtElapsed: number;
  /** Elapsed-clock reading minus wall-clock reading at arrival: maps the wall clock onto ours. */
  readonly wallAnchor: number;
};

/** The mandatory window of an entry, in ms. @internal */
export const mandatoryMsOf = (e: Entry): number => {
  const ms = e.expiresAtElapsed - e.mandatoryAt;
  return ms > 0 ? ms : 0; // Infinity - Infinity: a credential that never expires
};


/** One refresh in flight: its outcome, its deadline, and how many callers await it. */
export type Run = {
  promise: Promise<Entry>;
  deadline: ReturnType<typeof setTimeout> | undefined;
  /** While any caller awaits the refresh, its deadline holds the process. */
  waiters: number;
};
