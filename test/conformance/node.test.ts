/**
 * The conformance suite (test/conformance/*.conformance.js) in Node, run by vitest itself: the
 * suites import the real vitest here, and the built package (alicred, alicred/oss) through the
 * package's exports. The same files run in Chromium (test/browser.test.ts) and in workerd
 * (test/conformance/workerd.test.ts) through test/conformance/shim.js.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceDir, ensureDist, startConformanceHost, type ConformanceHost } from './host.js';
import { expect as shimExpect } from './shim.js';
import './all.js';

let host: ConformanceHost | undefined;

beforeAll(async () => {
  await ensureDist();
  host = await startConformanceHost();
  (globalThis as { __ALICRED_CONFORMANCE__?: unknown }).__ALICRED_CONFORMANCE__ = host.context('node');
}, 120_000);

afterAll(async () => {
  delete (globalThis as { __ALICRED_CONFORMANCE__?: unknown }).__ALICRED_CONFORMANCE__;
  await host?.close();
});

describe('conformance suite wiring', () => {
  it('all.js imports every *.conformance.js file', () => {
    const files = readdirSync(conformanceDir).filter((f) => f.endsWith('.conformance.js')).sort();
    const listed = [...readFileSync(join(conformanceDir, 'all.js'), 'utf8').matchAll(/import '\.\/([^']+\.conformance\.js)'/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(files);
  });
});

describe('the shim (what decides pass or fail in Chromium and workerd)', () => {
  /** Whether `check` throws, as a failed assertion must. */
  const fails = (check: () => void) => {
    try {
      check();
      return false;
    } catch {
      return true;
    }
  };

  it('each matcher passes and fails as vitest\'s does', () => {
    const cases: [() => void, boolean][] = [
      [() => shimExpect(1).toBe(1), false],
      [() => shimExpect({}).toBe({}), true],
      [() => shimExpect({ a: [1, { b: 2 }], u: undefined }).toEqual({ a: [1, { b: 2 }] }), false],
      [() => shimExpect({ a: [1, { b: 2 }] }).toEqual({ a: [1, { b: 3 }] }), true],
      [() => shimExpect({ a: 1, b: { c: 2, d: 3 } }).toMatchObject({ b: { c: 2 } }), false],
      [() => shimExpect({ a: 1 }).toMatchObject({ a: 2 }), true],
      [() => shimExpect('STS.abc').toMatch(/^STS\./), false],
      [() => shimExpect('abc').toMatch(/^STS/), true],
      [() => shimExpect('abc').toContain('b'), false],
      [() => shimExpect(['a']).toContain('b'), true],
      [() => shimExpect([1, 2]).toHaveLength(2), false],
      [() => shimExpect([1]).toHaveLength(2), true],
      [() => shimExpect(undefined).toBeUndefined(), false],
      [() => shimExpect(0).toBeUndefined(), true],
      [() => shimExpect(0).toBeDefined(), false],
      [() => shimExpect(2).toBeGreaterThan(1), false],
      [() => shimExpect(1).toBeGreaterThanOrEqual(2), true],
      [() => shimExpect(1).toBeLessThanOrEqual(1), false],
      [() => shimExpect(2).toBeLessThan(2), true],
      [() => shimExpect(new TypeError('x')).toBeInstanceOf(Error), false],
      [() => shimExpect(() => { throw new Error('boom'); }).toThrow(/boom/), false],
      [() => shimExpect(() => undefined).toThrow(), true],
      [() => shimExpect(1).not.toBe(2), false],
      [() => shimExpect(1).not.toBe(1), true],
      [() => shimExpect(1).toBeCloseTo(1), true], // not in the shim: an error, never a silent pass
    ];
    expect(cases.map(([check]) => fails(check))).toEqual(cases.map(([, shouldFail]) => shouldFail));
  });

  it('a failed assertion says what was expected, with the caller\'s message', () => {
    expect(() => shimExpect(1, 'the count').toBe(2)).toThrow('the count: expected 1 to be 2');
  });

  it('rejects / resolves check the settlement', async () => {
    await shimExpect(Promise.reject(new Error('no'))).rejects.toThrow('no');
    await expect(shimExpect(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow(/expected a rejection/);
    await shimExpect(Promise.resolve(3)).resolves.toBe(3);
  });
});
