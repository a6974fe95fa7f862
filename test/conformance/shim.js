// A tiny stand-in for the part of vitest's API the conformance suites use (describe, it,
// expect), for runtimes vitest cannot reach: the hosts bundle the suites with esbuild and alias
// 'vitest' to this file (test/conformance/host.ts, bundleConformance). Under Node the suites
// import the real vitest.
//
// Deliberately small. A matcher the suites use that is not here throws "not supported by the
// conformance shim" when it runs, so a suite cannot silently pass by calling something this
// shim ignores; add the matcher here, with vitest's meaning, when a suite needs it.

/** @typedef {{ name: string, fn: () => unknown, timeoutMs: number | undefined }} Case */

/** @type {Case[]} */
const cases = [];
/** @type {string[]} */
const path = [];

export function describe(name, fn) {
  path.push(name);
  try {
    const result = fn();
    if (result && typeof result.then === 'function') throw new Error(`describe(${JSON.stringify(name)}) must be synchronous`);
  } finally {
    path.pop();
  }
}

export function it(name, fn, timeout) {
  const timeoutMs = typeof timeout === 'number' ? timeout : typeof timeout?.timeout === 'number' ? timeout.timeout : undefined;
  cases.push({ name: [...path, name].join(' > '), fn, timeoutMs });
}
export const test = it;

/** The names of every case registered so far, in order. */
export function declared() {
  return cases.map((c) => c.name);
}

/**
 * Runs every registered case one after another (optionally only names containing `filter`)
 * and returns one result per case: `{ name, ok, ms, error? }`. Never throws.
 */
export async function run({ filter, timeoutMs = 20_000 } = {}) {
  const results = [];
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        Promise.resolve().then(() => c.fn()),
        new Promise((_, reject) => {
          const limit = c.timeoutMs ?? timeoutMs;
          timer = setTimeout(() => reject(new Error(`timed out after ${limit} ms`)), limit);
        }),
      ]);
      results.push({ name: c.name, ok: true, ms: Date.now() - started });
    } catch (error) {
      results.push({ name: c.name, ok: false, ms: Date.now() - started, error: describeError(error) });
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}

function describeError(error) {
  if (error instanceof Error) {
    const stack = typeof error.stack === 'string' ? error.stack.split('\n').slice(1, 6).join('\n') : '';
    return `${error.name}: ${error.message}${stack ? `\n${stack}` : ''}`;
  }
  return `thrown non-Error: ${String(error)}`;
}

// ---------------------------------------------------------------------------
// expect
// ---------------------------------------------------------------------------

function format(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `[Function ${value.name || 'anonymous'}]`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'Invalid' : value.toISOString()})`;
  if (value instanceof RegExp) return String(value);
  if (value === undefined) return 'undefined';
  try {
    const text = JSON.stringify(value, (_k, v) => (v === undefined ? '<undefined>' : typeof v === 'bigint' ? `${v}n` : v));
    return text === undefined ? String(value) : text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const isObject = (v) => typeof v === 'object' && v !== null;

/** vitest's toEqual: recursive, ignores properties whose value is undefined. */
function equals(a, b) {
  if (Object.is(a, b)) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof RegExp && b instanceof RegExp) return String(a) === String(b);
  if (!isObject(a) || !isObject(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Set && b instanceof Set) return a.size === b.size && [...a].every((x) => [...b].some((y) => equals(x, y)));
  if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([k, v]) => b.has(k) && equals(v, b.get(k)));
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  const keys = (o) => Object.keys(o).filter((k) => o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equals(a[k], b[k]));
}

/** vitest's toMatchObject: every property of `expected` is in `actual` (recursively), arrays whole. */
function matchesObject(actual, expected) {
  if (!isObject(expected) || expected instanceof Date || expected instanceof RegExp) return equals(actual, expected);
  if (!isObject(actual)) return false;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesObject(actual[i], e));
  }
  return Object.keys(expected).every((k) => k in actual && matchesObject(actual[k], expected[k]));
}

class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

function thrownBy(actual) {
  if (typeof actual !== 'function') throw new AssertionError(`expect(…).toThrow() needs a function, got ${format(actual)}`);
  try {
    actual();
  } catch (error) {
    return { threw: true, error };
  }
  return { threw: false, error: undefined };
}

function errorMatches(error, expected) {
  if (expected === undefined) return true;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof expected === 'string') return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === 'function') return error instanceof expected;
  if (isObject(expected)) return matchesObject(error, expected);
  return false;
}

/** Each matcher returns [pass, what was expected (for the message)]. */
const matchers = {
  toBe: (a, e) => [Object.is(a, e), `to be ${format(e)}`],
  toEqual: (a, e) => [equals(a, e), `to equal ${format(e)}`],
  toMatchObject: (a, e) => [matchesObject(a, e), `to match object ${format(e)}`],
  toMatch: (a, e) => [typeof a === 'string' && (typeof e === 'string' ? a.includes(e) : e.test(a)), `to match ${format(e)}`],
  toContain: (a, e) => [
    typeof a === 'string' ? typeof e === 'string' && a.includes(e) : Array.isArray(a) || a instanceof Set ? [...a].includes(e) : false,
    `to contain ${format(e)}`,
  ],
  toHaveLength: (a, e) => [a != null && a.length === e, `to have length ${e} (has ${a?.length})`],
  toBeDefined: (a) => [a !== undefined, 'to be defined'],
  toBeUndefined: (a) => [a === undefined, 'to be undefined'],
  toBeNull: (a) => [a === null, 'to be null'],
  toBeTruthy: (a) => [Boolean(a), 'to be truthy'],
  toBeFalsy: (a) => [!a, 'to be falsy'],
  toBeGreaterThan: (a, e) => [a > e, `to be greater than ${format(e)}`],
  toBeGreaterThanOrEqual: (a, e) => [a >= e, `to be greater than or equal to ${format(e)}`],
  toBeLessThan: (a, e) => [a < e, `to be less than ${format(e)}`],
  toBeLessThanOrEqual: (a, e) => [a <= e, `to be less than or equal to ${format(e)}`],
  toBeInstanceOf: (a, e) => [a instanceof e, `to be an instance of ${e?.name}`],
  toThrow: (a, e) => {
    const { threw, error } = thrownBy(a);
    return [threw && errorMatches(error, e), `to throw${e === undefined ? '' : ` ${format(e)}`}${threw ? ` (threw ${format(error)})` : ' (did not throw)'}`];
  },
};

function unsupported(name) {
  throw new AssertionError(`expect(…).${String(name)} is not supported by the conformance shim (test/conformance/shim.js)`);
}

function assertions(actual, message, negate) {
  const target = {};
  for (const [name, matcher] of Object.entries(matchers)) {
    target[name] = (...args) => {
      const [pass, what] = matcher(actual, ...args);
      if (pass === negate) {
        const text = `expected ${format(actual)} ${negate ? 'not ' : ''}${what}`;
        throw new AssertionError(message ? `${message}: ${text}` : text);
      }
    };
  }
  return target;
}

function guard(target) {
  return new Proxy(target, { get: (t, name) => (name in t ? t[name] : typeof name === 'symbol' ? undefined : unsupported(name)) });
}

/** A promise's settlement as an expect() chain: `.rejects.toThrow(…)`, `.resolves.toBe(…)`. */
function settled(promise, message, which) {
  const chain = (negate) => {
    const target = {};
    for (const name of Object.keys(matchers)) {
      target[name] = async (...args) => {
        let outcome;
        try {
          outcome = { ok: true, value: await promise };
        } catch (error) {
          outcome = { ok: false, value: error };
        }
        if (which === 'rejects' && outcome.ok) throw new AssertionError(`${message ? `${message}: ` : ''}expected a rejection, got ${format(outcome.value)}`);
        if (which === 'resolves' && !outcome.ok) throw new AssertionError(`${message ? `${message}: ` : ''}expected a value, got rejection ${format(outcome.value)}`);
        const value = outcome.value;
        // vitest: rejects.toThrow(x) checks the rejection reason itself.
        const subject = name === 'toThrow' ? () => { throw value; } : value;
        assertions(subject, message, negate)[name](...args);
      };
    }
    return guard(target);
  };
  const positive = chain(false);
  return guard(Object.assign(Object.create(null), positive, { not: chain(true) }));
}

export function expect(actual, message) {
  const base = assertions(actual, message, false);
  return guard({
    ...base,
    not: guard(assertions(actual, message, true)),
    get rejects() {
      return settled(actual, message, 'rejects');
    },
    get resolves() {
      return settled(actual, message, 'resolves');
    },
  });
}
