/**
 * Fuzz (issue 9): the time helpers of src/sts/time.ts. They return undefined on bad input,
 * so the oracle is "never throws, answers undefined or a finite instant", and every
 * well-formed timestamp built from a model parses to exactly that model's instant.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAge, parseHttpDate, parseStsTime } from '../../src/sts/time.js';
import { anyText, headerText, params, record, RunMeter, thrownBy, type Generated } from './fuzz-kit.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Days in a month, counted without Date (leap years by the Gregorian rule). */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A case: the text and what the parser must answer for it (undefined: must refuse). */
type Case = { text: unknown; expected: number | undefined; kind: string };

/** Replaces, inserts or deletes a few characters: near-misses of a valid text. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 2 })), { minLength: 1, maxLength: 3 }))
    .map(([text, edits]) => {
      let out = text;
      for (const [at, op, piece] of edits) {
        const i = out.length === 0 ? 0 : at % out.length;
        if (op === 'insert') out = out.slice(0, i) + piece + out.slice(i);
        else if (op === 'delete') out = out.slice(0, i) + out.slice(i + 1);
        else out = out.slice(0, i) + piece + out.slice(i + 1);
      }
      return out;
    });

// ---------------------------------------------------------------------------
// parseStsTime
// ---------------------------------------------------------------------------

const isoModel = fc.record({
  year: fc.integer({ min: 0, max: 9999 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 60 }),
  fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
  fractionSep: fc.constantFrom('.', ','),
  sep: fc.constantFrom('T', 't', ' '),
  zone: fc.oneof(
    fc.constantFrom('Z', 'z', ''),
    fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.boolean()).map(([s, h, m, colon]) => `${s}${pad(h)}${colon ? ':' : ''}${pad(m)}`),
  ),
  space: fc.constantFrom('', ' ', '\t', '\n '),
});

/** The instant an ISO model names, computed from its parts (undefined when impossible). */
function isoExpected(m: Generated<typeof isoModel>): number | undefined {
  // Date.UTC maps years 0-99 to 1900-1999; the parser refuses them rather than misread them.
  if (m.year < 100 || m.day > daysIn(m.year, m.month)) return undefined;
  let offsetMin = 0;
  if (m.zone.length > 1) {
    const h = Number(m.zone.slice(1, 3));
    const min = Number(m.zone.slice(-2));
    if (h > 23 || min > 59) return undefined;
    offsetMin = (h * 60 + min) * (m.zone[0] === '+' ? 1 : -1);
  }
  const ms = m.fraction === undefined ? 0 : Number(m.fraction.padEnd(3, '0').slice(0, 3));
  // A leap second is the instant right after :59.
  const base = Date.UTC(m.year, m.month - 1, m.day, m.hour, m.minute, Math.min(m.second, 59), ms) + (m.second === 60 ? 1000 : 0);
  return base - offsetMin * 60_000;
}

function isoText(m: Generated<typeof isoModel>): string {
  const frac = m.fraction === undefined ? '' : `${m.fractionSep}${m.fraction}`;
  return `${m.space}${pad(m.year, 4)}-${pad(m.month)}-${pad(m.day)}${m.sep}${pad(m.hour)}:${pad(m.minute)}:${pad(m.second)}${frac}${m.zone}${m.space}`;
}

const stsTimeCases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 5, arbitrary: isoModel.map((m): Case => ({ text: isoText(m), expected: isoExpected(m), kind: 'model' })) },
  { weight: 2, arbitrary: mutated(isoModel.map(isoText)).map((text): Case => ({ text, expected: NaN, kind: 'near-miss' })) },
  { weight: 2, arbitrary: anyText(40).map((text): Case => ({ text, expected: NaN, kind: 'text' })) },
  { weight: 1, arbitrary: fc.anything().map((text): Case => ({ text, expected: typeof text === 'string' ? NaN : undefined, kind: 'value' })) },
);

/** NaN in `expected` means "any answer, as long as it is undefined or a finite instant". */
function checkAnswer(name: string, c: Case, got: unknown): void {
  if (got !== undefined && !(typeof got === 'number' && Number.isFinite(got) && !Number.isNaN(new Date(got).getTime()))) {
    throw new Error(`${name}(${JSON.stringify(c.text)}) answered ${String(got)}, neither undefined nor a valid instant`);
  }
  if (Number.isNaN(c.expected)) return;
  if (got !== c.expected) throw new Error(`${name}(${JSON.stringify(c.text)}) answered ${String(got)}, expected ${String(c.expected)} (${c.kind})`);
  if (got !== undefined) roundTrips.set(name, (roundTrips.get(name) ?? 0) + 1);
}

/** Valid models that parsed to their instant, per parser: proof the oracle was exercised. */
const roundTrips = new Map<string, number>();

/** Records the row, after checking that a fair share of the runs were exact round trips. */
function recordWithRoundTrips(parser: string, name: string, meter: RunMeter): void {
  const n = roundTrips.get(name) ?? 0;
  expect(n, `${name}: valid round trips`).toBeGreaterThan(meter.runs / 5);
  record(parser, meter, { exactRoundTrips: n });
}

// ---------------------------------------------------------------------------
// parseHttpDate
// ---------------------------------------------------------------------------

const httpModel = fc.record({
  year: fc.integer({ min: 2000, max: 2099 }),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 31 }),
  hour: fc.integer({ min: 0, max: 23 }),
  minute: fc.integer({ min: 0, max: 59 }),
  second: fc.integer({ min: 0, max: 59 }),
  form: fc.constantFrom('imf', 'rfc850', 'asctime', 'asctime0'),
  weekday: fc.integer({ min: 0, max: 6 }),
  space: fc.constantFrom('', ' ', '\t'),
});

function httpText(m: Generated<typeof httpModel>): string {
  const mon = MONTHS[m.month - 1]!;
  const time = `${pad(m.hour)}:${pad(m.minute)}:${pad(m.second)}`;
  // The weekday is not checked against the date by the parser; any name must do.
  const text =
    m.form === 'imf'
      ? `${DAYS[m.weekday]}, ${pad(m.day)} ${mon} ${m.year} ${time} GMT`
      : m.form === 'rfc850'
        ? `${LONG_DAYS[m.weekday]}, ${pad(m.day)}-${mon}-${pad(m.year % 100)} ${time} GMT`
        : `${DAYS[m.weekday]} ${mon} ${m.form === 'asctime' ? String(m.day).padStart(2, ' ') : pad(m.day)} ${time} ${m.year}`;
  return `${m.space}${text}${m.space}`;
}

function httpExpected(m: Generated<typeof httpModel>): number | undefined {
  if (m.day > daysIn(m.year, m.month)) return undefined;
  return Date.UTC(m.year, m.month - 1, m.day, m.hour, m.minute, m.second);
}

const httpDateCases: fc.Arbitrary<Case> = fc.oneof(
  { weight: 5, arbitrary: httpModel.map((m): Case => ({ text: httpText(m), expected: httpExpected(m), kind: 'model' })) },
  { weight: 2, arbitrary: mutated(httpModel.map(httpText)).map((text): Case => ({ text, expected: NaN, kind: 'near-miss' })) },
  { weight: 2, arbitrary: fc.oneof(anyText(70), headerText(80)).map((text): Case => ({ text, expected: NaN, kind: 'text' })) },
  {
    weight: 1,
    arbitrary: fc.tuple(httpModel, fc.nat({ max: 200 })).map(([m, n]): Case => ({ text: `${httpText(m)}${' '.repeat(n)}x`, expected: undefined, kind: 'trailing junk' })),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined).map((text): Case => ({ text, expected: undefined, kind: 'nullish' })) },
);

// ---------------------------------------------------------------------------
// parseAge
// ---------------------------------------------------------------------------

const MAX_AGE = 2 ** 31;
const ageCases: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 10n ** 20n - 1n })), fc.constantFrom('', ' ', '\t'), fc.nat({ max: 3 }))
      .map(([n, space, zeros]): Case => {
        const digits = `${'0'.repeat(zeros)}${String(n)}`;
        const expected = digits.length > 20 ? undefined : Math.min(Number(digits), MAX_AGE);
        return { text: `${space}${digits}${space}`, expected, kind: 'model' };
      }),
  },
  { weight: 2, arbitrary: mutated(fc.nat().map(String)).map((text): Case => ({ text, expected: NaN, kind: 'near-miss' })) },
  { weight: 2, arbitrary: anyText(30).map((text): Case => ({ text, expected: NaN, kind: 'text' })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('-1', '1.5', '1e3', '0x10', '1,2', '+5', ' ', '', 'Infinity', '１２').map((text): Case => ({ text, expected: undefined, kind: 'malformed' })),
  },
);

describe('fuzz: time helpers', () => {
  it('parseStsTime: never throws; each ISO 8601 model parses to its instant', () => {
    const meter = new RunMeter();
    fc.assert(
      fc.property(stsTimeCases, (c) => {
        meter.sync(() => {
          let got: unknown;
          const error = thrownBy(() => (got = parseStsTime(c.text)));
          if (error !== undefined) throw new Error(`parseStsTime threw on ${JSON.stringify(c.text)}: ${String(error)}`);
          checkAnswer('parseStsTime', c, got);
        });
      }),
      params(),
    );
    recordWithRoundTrips('parseStsTime (Expiration)', 'parseStsTime', meter);
  });

  it('parseHttpDate: never throws; IMF-fixdate, RFC 850 and asctime models parse to their instant', () => {
    const meter = new RunMeter();
    fc.assert(
      fc.property(httpDateCases, (c) => {
        meter.sync(() => {
          let got: unknown;
          const error = thrownBy(() => (got = parseHttpDate(c.text as string)));
          if (error !== undefined) throw new Error(`parseHttpDate threw on ${JSON.stringify(c.text)}: ${String(error)}`);
          checkAnswer('parseHttpDate', c, got);
        });
      }),
      params(),
    );
    recordWithRoundTrips('parseHttpDate (Date header)', 'parseHttpDate', meter);
  });

  it('parseAge: never throws; digits parse to their value, capped at 2^31', () => {
    const meter = new RunMeter();
    fc.assert(
      fc.property(ageCases, (c) => {
        meter.sync(() => {
          let got: unknown;
          const error = thrownBy(() => (got = parseAge(c.text as string)));
          if (error !== undefined) throw new Error(`parseAge threw on ${JSON.stringify(c.text)}: ${String(error)}`);
          if (got !== undefined && !(Number.isInteger(got) && (got as number) >= 0 && (got as number) <= MAX_AGE)) {
            throw new Error(`parseAge(${JSON.stringify(c.text)}) answered ${String(got)}`);
          }
          checkAnswer('parseAge', c, got);
        });
      }),
      params(),
    );
    recordWithRoundTrips('parseAge (Age header)', 'parseAge', meter);
  });
});
