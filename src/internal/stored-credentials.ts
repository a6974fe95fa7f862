/**
 * The record the shared STS cache store holds for one STS result, and the strict reading of
 * it back. What is stored is what STS stated (its `Expiration` and the server's time when it
 * answered, both on the server's clock), the lifetime the writer saw (after the cut to
 * `DurationSeconds`) and the writer's wall-clock time of writing, never an expiry moved onto
 * the writer's clock. A reader derives the time left from both statements and believes the
 * smaller: `min(expiration - now, lifetime - (now - storedAt))`. A writer whose clock is off
 * cannot lengthen a credential for the fleet (the first term does not depend on its clock),
 * and a stated expiration from a server clock that is off cannot either (the second term).
 * What no reader can correct is its own clock: hosts are assumed to agree to well within the
 * advisory window (minutes), as NTP keeps them; a record written in the reader's future
 * (beyond 2 s) is refused as not yet usable.
 *
 * Universal code.
 *
 * @internal
 */
import { createCredentials, normalizeCredentials, type Credentials } from '../credentials.js';
import { recordIssuedLifetime, statedExpirationOf } from './issued-lifetime.js';
import { MAX_TEMPORARY_LIFETIME_MS } from './lifetime.js';

/**
 * Largest stored value read or written (characters; the values are ASCII). A real record is
 * about 1 KB, sealed about 1.4 KB.
 *
 * @internal
 */
export const MAX_STORED_CHARS = 16 * 1024;
/** How far in the reader's future a record's times may be (the clocks' resolution and drift). */
const FUTURE_TOLERANCE_MS = 2_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const SOURCE = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;

/**
 * A record read back: credentials whose expiration is on the reader's clock, the lifetime they
 * were issued with, and the time they have left.
 *
 * @internal
 */
export type StoredEntry = { readonly credentials: Credentials; readonly lifetimeMs: number; readonly remainingMs: number };

/**
 * What reading gave: an entry, `garbage` (not a record: malformed, a field missing or wrong,
 * a value that is not a credential), or `unusable` (a well-formed record that is expired or
 * claims to come from the reader's future).
 *
 * @internal
 */
export type StoredReading = { readonly kind: 'ok'; readonly entry: StoredEntry } | { readonly kind: 'garbage' | 'unusable' };

/**
 * The record for `credentials` (an STS result issued with a lifetime of `lifetimeMs`),
 * written at wall-clock `now`; undefined for credentials that are not shared this way (no
 * expiration or no token: not temporary credentials; a `source` name a reader would refuse).
 *
 * @internal
 */
export function encodeStored(credentials: Credentials, lifetimeMs: number, now: number): string | undefined {
  const expiresAt = credentials.expiration?.getTime();
  if (expiresAt === undefined || credentials.securityToken === undefined || !(lifetimeMs > 0) || !SOURCE.test(credentials.source)) {
    return undefined;
  }
  const stated = statedExpirationOf(credentials);
  return JSON.stringify({
    v: 1,
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    securityToken: credentials.securityToken,
    source: credentials.source,
    // STS's own statement when the STS client loaded it; otherwise (a custom load) the expiry
    // as given, with no server time: then both terms of the reader's rule rest on our clock.
    expiration: new Date(stated?.expiration ?? expiresAt).toISOString(),
    serverTime: stated?.serverTime === undefined ? undefined : new Date(stated.serverTime).toISOString(),
    lifetimeMs: Math.floor(Math.min(lifetimeMs, MAX_TEMPORARY_LIFETIME_MS)),
    storedAt: new Date(now).toISOString(),
  });
}

function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Reads a record at wall-clock `now`; never throws. The credentials it gives expire (on the
 * reader's clock) after the smaller of the two estimates of the time left, and are recorded
 * with the lifetime they were issued with.
 *
 * @internal
 */
export function decodeStored(text: string, now: number): StoredReading {
  const garbage = { kind: 'garbage' } as const;
  if (typeof text !== 'string' || text.length > MAX_STORED_CHARS || !text.startsWith('{')) return garbage;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return garbage;
    record = parsed as Record<string, unknown>;
  } catch {
    return garbage;
  }
  const expiration = isoTime(record.expiration);
  const storedAt = isoTime(record.storedAt);
  const serverTime = record.serverTime === undefined ? undefined : isoTime(record.serverTime);
  const { lifetimeMs, source, securityToken } = record;
  if (
    record.v !== 1 ||
    expiration === undefined ||
    storedAt === undefined ||
    (record.serverTime !== undefined && serverTime === undefined) ||
    typeof lifetimeMs !== 'number' ||
    !Number.isInteger(lifetimeMs) ||
    lifetimeMs <= 0 ||
    lifetimeMs > MAX_TEMPORARY_LIFETIME_MS ||
    typeof source !== 'string' ||
    !SOURCE.test(source) ||
    typeof securityToken !== 'string' ||
    securityToken === '' ||
    (serverTime !== undefined && expiration <= serverTime)
  ) {
    return garbage;
  }
  // Not yet usable: written in our future. The writer's clock is ahead of ours, or ours is
  // behind (then neither term can be believed). STS's own time is not checked against ours:
  // STS's clock may be off, which is what the first term's partner is for.
  if (storedAt > now + FUTURE_TOLERANCE_MS) return { kind: 'unusable' };
  const remainingMs = Math.min(expiration - now, lifetimeMs - Math.max(0, now - storedAt));
  if (!(remainingMs > 0)) return { kind: 'unusable' };
  let credentials: Credentials;
  try {
    // The same checks as any provider's answer (printable key characters, lengths).
    const checked = normalizeCredentials(
      { accessKeyId: record.accessKeyId, accessKeySecret: record.accessKeySecret, securityToken, source },
      source,
      () => new Error('not credentials'),
    );
    credentials = createCredentials({
      accessKeyId: checked.accessKeyId,
      accessKeySecret: checked.accessKeySecret,
      securityToken: checked.securityToken,
      expiration: new Date(now + remainingMs),
      source,
    });
  } catch {
    return garbage;
  }
  recordIssuedLifetime(credentials, lifetimeMs);
  return { kind: 'ok', entry: { credentials, lifetimeMs, remainingMs } };
}
