/**
 * CredentialsErrorCode lists every code alicred itself throws: each `code: '…'` literal given
 * to an error in src/ (the emulator aside: it speaks for the service) is in the union.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '..', 'src');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testing') yield* files(path);
    } else if (entry.name.endsWith('.ts')) yield path;
  }
}

const errorsText = readFileSync(join(src, 'errors.ts'), 'utf8');
const union = new Set(
  [...(/export type CredentialsErrorCode =([\s\S]*?);/.exec(errorsText)?.[1] ?? '').matchAll(/\|\s*'([^']+)'/g)].map((m) => m[1]!),
);

describe('CredentialsErrorCode', () => {
  it('has the codes', () => {
    expect(union.size).toBeGreaterThan(20);
    expect(union).toContain('InvalidCredentials');
  });

  it('covers every code thrown in src/', () => {
    const missing: string[] = [];
    for (const file of files(src)) {
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      // `code: 'X'` in error options, `failure(…, 'X')` style helpers in process.ts, and defaults.
      const found = [
        ...text.matchAll(/\bcode:\s*'([A-Za-z.]+)'/g),
        ...text.matchAll(/\bfailure\([^;]*?,\s*'([A-Z][A-Za-z]+)'/g),
        ...text.matchAll(/\bcode = '([A-Z][A-Za-z]+)'/g),
        ...text.matchAll(/options\.code \?\? '([A-Za-z]+)'/g),
      ].map((m) => m[1]!);
      for (const code of found) {
        if (/^E[A-Z]+$/.test(code)) continue; // errno codes matched in Node errors, not thrown
        if (!union.has(code)) missing.push(`${file.slice(src.length + 1)}: ${code}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
