/**
 * Fuzzed credentials answers for fuzz-http.test.ts and fuzz-process.test.ts: a valid answer
 * built from a model (so a parse can be compared with it), then optionally spoiled field by
 * field and as text. Secret markers sit only where secrets sit (AccessKeySecret,
 * SecurityToken): a mutation never moves them under another name, since a secret printed
 * under a made-up key is not something any redaction could know about.
 */
import fc from 'fast-check';
import { anyText, headerText, imfFixdate, rarely, SECRET, TOKEN } from './fuzz-kit.js';

/** The local clock of every fuzzed run (whole seconds, so a `Date` header can state it). */
export const NOW = Date.UTC(2025, 0, 15, 8, 0, 0);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `ms` as ISO 8601 in one of the forms STS, ECS and helpers write. */
export function isoAt(ms: number, form: number): string {
  const iso = new Date(ms).toISOString();
  switch (form % 5) {
    case 0:
      return iso.replace(/\.\d{3}Z$/, 'Z');
    case 1:
      return iso;
    case 2: {
      // The same instant at +08:00 (Beijing), as a Chinese region may state it.
      const local = new Date(ms + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '');
      return `${local}+08:00`;
    }
    case 3:
      return iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
    default:
      return `${iso.slice(0, 19)}.${pad(new Date(ms).getUTCMilliseconds(), 3)}000Z`;
  }
}

/** A valid answer's fields, before any spoiling. */
export type CredentialModel = { accessKeyId: string; expiresAt: number; expirationText: string };

/** Lifetimes (s) from 15 min to `maxS`, in whole ms so that every ISO form states them exactly. */
export const credentialModel = (minS: number, maxS: number): fc.Arbitrary<CredentialModel> =>
  fc
    .tuple(fc.stringMatching(/^STS\.[A-Za-z0-9]{10,28}$/), fc.integer({ min: minS * 1000, max: maxS * 1000 }), fc.nat({ max: 4 }))
    .map(([accessKeyId, lifetimeMs, form]) => {
      // Forms without milliseconds state whole seconds only.
      const expiresAt = form === 1 || form === 4 ? NOW + lifetimeMs : NOW + Math.floor(lifetimeMs / 1000) * 1000;
      return { accessKeyId, expiresAt, expirationText: isoAt(expiresAt, form) };
    });

/** What a field may be spoiled into. */
const weirdValue = fc.oneof(
  fc.constantFrom(null, '', '   ', 0, 1, true, false, [], {}, '\u0000', '\ud800'),
  anyText(20),
  fc.jsonValue({ maxDepth: 2 }),
);
const weirdExpiration = fc.oneof(
  weirdValue,
  fc.constantFrom('2025-02-30T00:00:00Z', '2025-01-15T08:00:00+25:00', '2025-01-15', '1736928000', 'Wed, 15 Jan 2025 09:00:00 GMT', '2025-01-15T09:00:00.Z', '+275760-09-13T00:00:00Z', '0000-01-01T00:00:00Z', '2025-01-15T07:59:59Z'),
  fc.integer({ min: -1e6, max: 1e13 }),
);

type FieldKey = 'AccessKeyId' | 'AccessKeySecret' | 'SecurityToken' | 'Expiration';
/** One field-level spoiling. */
export type FieldMutation =
  | { op: 'delete'; key: FieldKey | 'Code' }
  | { op: 'set'; key: FieldKey | 'Code'; value: unknown }
  | { op: 'junk'; key: string; value: unknown }
  | { op: 'pad-secret' };

const fieldKeys: FieldKey[] = ['AccessKeyId', 'AccessKeySecret', 'SecurityToken', 'Expiration'];
export const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom<FieldKey | 'Code'>(...fieldKeys, 'Code') }),
  fc.record({ op: fc.constant('set' as const), key: fc.constantFrom<FieldKey | 'Code'>('AccessKeyId', 'AccessKeySecret', 'SecurityToken', 'Code'), value: weirdValue }),
  fc.record({ op: fc.constant('set' as const), key: fc.constant<FieldKey>('Expiration'), value: weirdExpiration }),
  fc.record({ op: fc.constant('junk' as const), key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'Message', 'Credentials'), fc.string({ maxLength: 10 })), value: weirdValue }),
  fc.constant({ op: 'pad-secret' as const }),
);

/** The flat `{Code?, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` record. */
export function flatRecord(model: CredentialModel, code: string | undefined, mutations: readonly FieldMutation[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  if (code !== undefined) r.Code = code;
  r.AccessKeyId = model.accessKeyId;
  r.AccessKeySecret = SECRET;
  r.SecurityToken = TOKEN;
  r.Expiration = model.expirationText;
  r.LastUpdated = '2025-01-15T08:00:00Z';
  for (const m of mutations) {
    if (m.op === 'delete') delete r[m.key];
    else if (m.op === 'pad-secret') r.AccessKeySecret = ` ${SECRET}\t`;
    // defineProperty: a `__proto__` key must become an own property, as JSON.parse makes it.
    else Object.defineProperty(r, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
  }
  return r;
}

/** One text-level spoiling of a serialised answer. */
export type TextMutation =
  | { op: 'truncate'; at: number }
  | { op: 'wrap'; before: string; after: string }
  | { op: 'insert'; at: number; piece: string }
  | { op: 'replace'; text: string }
  | { op: 'duplicate-key' };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('wrap' as const), before: fc.constantFrom('', '\ufeff', '<html><body>', ')]}\'\n', ' \n\t', 'null'), after: fc.constantFrom('', '</body></html>', '\u0000', ',', '}', ' garbage') }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), piece: fc.oneof(fc.constantFrom(',', '"', '}', '{', ']', '\\', '\u0000', '"x":1,'), anyText(4)) }),
  fc.record({ op: fc.constant('replace' as const), text: fc.oneof(anyText(200), fc.constantFrom('', '{}', '[]', 'null', '"str"', '<Error><Code>Oops</Code></Error>', '{"Code":"Success"}')) }),
  fc.constant({ op: 'duplicate-key' as const }),
);

/**
 * Serialises `value` and applies `mutations`. Insertions land only right after `{`, `,` or
 * `[`, so a secret's key name is never split nor parted from its value (see the module
 * comment, and the known leaks in fuzz-http.test.ts).
 */
export function serialise(value: unknown, indent: 0 | 2 | '\t', mutations: readonly TextMutation[]): string {
  let text = JSON.stringify(value, null, indent);
  for (const m of mutations) {
    if (m.op === 'truncate') text = text.slice(0, m.at % (text.length + 1));
    else if (m.op === 'wrap') text = `${m.before}${text}${m.after}`;
    else if (m.op === 'replace') text = m.text;
    else if (m.op === 'duplicate-key') text = text.replace(/^\{/, '{"AccessKeyId":"STS.dup",');
    else {
      // Not after ':': a piece between a secret's key and its value is the known leak below.
      const spots = [...text.matchAll(/[{,[]/g)].map((x) => x.index + 1);
      const at = spots.length === 0 ? 0 : spots[m.at % spots.length]!;
      text = `${text.slice(0, at)}${m.piece}${text.slice(at)}`;
    }
  }
  return text;
}

/** A `Date` (and maybe `Age`) header, and when well-formed, what it states. */
export type ServerClock = { headers: [string, string][]; dateMs: number | undefined; ageS: number | undefined; known: boolean };

export const serverClock: fc.Arbitrary<ServerClock> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<ServerClock>({ headers: [], dateMs: undefined, ageS: undefined, known: true }) },
  {
    weight: 3,
    // Within the 2 s tolerance, and well beyond it both ways.
    arbitrary: fc.oneof(fc.integer({ min: -1, max: 1 }), fc.integer({ min: -40_000, max: 40_000 })).map(
      (s): ServerClock => ({ headers: [['date', imfFixdate(NOW + s * 1000)]], dateMs: NOW + s * 1000, ageS: undefined, known: true }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: -3600, max: 3600 }), fc.oneof(fc.nat({ max: 7200 }), fc.constant(2 ** 40))).map(
      ([s, age]): ServerClock => ({
        headers: [
          ['date', imfFixdate(NOW + s * 1000)],
          ['age', String(age)],
        ],
        dateMs: NOW + s * 1000,
        ageS: Math.min(age, 2 ** 31),
        known: true,
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(headerText(40), headerText(10)).map(([d, a]): ServerClock => ({ headers: [['date', d], ['age', a]], dateMs: undefined, ageS: undefined, known: false })),
  },
);

/**
 * The local expiration an answer must yield, by the documented rule: the stated one; moved
 * onto the local clock when `Date` (+ `Age`) disagrees with it by 2 s or more; never more
 * than `maxMs` after the local now.
 */
export function expectedExpiry(statedMs: number, clock: ServerClock, maxMs: number): number {
  let at = statedMs;
  if (clock.dateMs !== undefined) {
    const serverNow = clock.dateMs + (clock.ageS ?? 0) * 1000;
    if (Math.abs(serverNow - NOW) >= 2000) at = NOW + (statedMs - serverNow);
  }
  return Math.min(at, NOW + maxMs);
}

/** HTTP statuses, weighted towards 200. */
export const status = fc.oneof(
  { weight: 12, arbitrary: fc.constant(200) },
  { weight: 3, arbitrary: fc.constantFrom(201, 204, 301, 302, 304, 307, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) },
);

/** How the body reaches the reader: chunking (UTF-8 split too), a stream that fails, no stream. */
export const delivery = fc.record({
  cuts: fc.array(fc.nat({ max: 600 }), { maxLength: 4 }),
  failAfter: rarely(fc.nat({ max: 3 }), 15),
  stream: fc.constantFrom<'stream' | 'none'>('stream', 'stream', 'stream', 'none'),
});
