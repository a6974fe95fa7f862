/**
 * Code health that a review would otherwise have to recheck by hand: no source file grows
 * past 500 lines (split it by concern instead).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '..', 'src');

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

describe('src/', () => {
  it('has no file over 500 lines', () => {
    const long = [...files(src)]
      .map((f) => ({ file: relative(src, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });
});
