/**
 * Browser bundle budgets of the built dist/, measured as bench/size.mjs measures them: a
 * one-line entry bundled by esbuild (bundle, minify, esm, platform browser) into memory, then
 * gzip -9. `npm test` builds dist/ first (pretest).
 */
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const KB = 1024;

async function bundleText(contents: string): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

async function gzipBytes(contents: string): Promise<number> {
  return gzipSync(await bundleText(contents), { level: 9 }).length;
}

// Issue 10's goals are 6 KB and 15 KB. The budgets below are today's sizes rounded up to the
// next 0.5 KB; they only ever go down, towards the goals, as the code shrinks. (Set at 12.38
// and 23.41 KB; raised once, by 0.5 KB, when the refresh engine became a class: 0.2 KB more
// code for half the memory per provider, 3.5 -> 1.8 KB. Lowered to 12.5 and 18.5 KB when
// p-retry and lru-cache gave way to a retry loop and a bounded map of our own: 12.08 and
// 18.11 KB measured then. Raised by 0.5 KB for the first one when the browser work put
// capabilities into fromCredentialsUri itself, which no other entry can carry: relative
// URIs, a headers function, fetch's credentials mode, NetworkOrCorsError; and the engine's
// debug trace: 12.63 KB measured then. The fleet store level stays out of both: it is
// reached only through createStsCache({ store }). Lowered to 17.5 KB for fromRamRole when
// each STS operation became its own file (it no longer carries AssumeRoleWithOIDC or
// GetCallerIdentity) and the engine's internals became #private: 12.51 and 17.39 KB then.
// fromOidc, the other browser role path, gained a budget then: 15.77 KB, no signing code.)
// bench/size-ledger.mjs shows what each promise weighs in them, and what the goals would cost.
const budgets = [
  { entry: "export { refreshing, fromCredentialsUri } from 'alicred';", budget: 13 * KB, goal: 6 * KB },
  { entry: "export { fromRamRole } from 'alicred';", budget: 17.5 * KB, goal: 15 * KB },
  { entry: "export { fromOidc } from 'alicred';", budget: 16 * KB, goal: undefined },
];

describe('browser bundle size (min + gzip -9)', () => {
  for (const { entry, budget, goal } of budgets) {
    it(`${entry} stays within ${budget / KB} KB${goal === undefined ? '' : ` (goal ${goal / KB} KB)`}`, async () => {
      const bytes = await gzipBytes(entry);
      expect(bytes, `${entry}: ${bytes} B gzip, budget ${budget} B`).toBeLessThanOrEqual(budget);
    });
  }
});

describe('each STS operation is its own file: a bundle carries only what it calls', () => {
  const text = async (entry: string) => new TextDecoder().decode(await bundleText(entry));
  it('fromRamRole carries AssumeRole, not AssumeRoleWithOIDC or GetCallerIdentity', async () => {
    const out = await text("export { fromRamRole } from 'alicred';");
    expect(out).toContain('AssumeRole');
    expect(out).not.toContain('AssumeRoleWithOIDC');
    expect(out).not.toContain('GetCallerIdentity');
  });
  it('fromOidc carries no signing (the call is anonymous) and no other operation', async () => {
    const out = await text("export { fromOidc } from 'alicred';");
    expect(out).toContain('AssumeRoleWithOIDC');
    expect(out).not.toContain('ACS3-HMAC-SHA256');
    expect(out).not.toContain('HMAC-SHA1');
    expect(out).not.toContain('GetCallerIdentity');
  });
  it('createStsClient carries all three', async () => {
    const out = await text("export { createStsClient } from 'alicred';");
    for (const name of ['AssumeRoleWithOIDC', 'GetCallerIdentity', 'ACS3-HMAC-SHA256']) expect(out).toContain(name);
  });
});

describe('the size ledger (bench/size-ledger.mjs)', () => {
  it('finds every function it cuts, and each cut makes the bundles smaller or leaves them as they are', async () => {
    const { sizeLedger, PROMISES } = await import('../bench/size-ledger.mjs');
    const bundles = await sizeLedger();
    expect(bundles).toHaveLength(2);
    for (const b of bundles) {
      expect(b.rows).toHaveLength(PROMISES.length);
      let previous = b.whole;
      for (const row of b.rows) {
        expect(row.alone, `${b.name}: ${row.promise}`).toBeGreaterThanOrEqual(0);
        // Cumulative: cutting one more promise never adds bytes (gzip may wobble by a few).
        expect(row.left, `${b.name}: ${row.promise}`).toBeLessThanOrEqual(previous + 16);
        previous = row.left;
      }
    }
    // Each promise is in at least one of the two bundles: a row that weighs nothing in both cuts nothing.
    for (let i = 0; i < PROMISES.length; i++) {
      expect(Math.max(...bundles.map((b) => b.rows[i]!.alone)), PROMISES[i]!.name).toBeGreaterThan(50);
    }
  }, 60_000);
});
