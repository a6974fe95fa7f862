/**
 * The README stays true to the package: every entry of the exports map is in its entries
 * table, every runtime export of every entry is named in it (in backticks), and every example
 * has its line and its npm script.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; scripts: Record<string, string> };

const entries = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'alicred' : `alicred/${k.slice(2)}`));

describe('README', () => {
  it('lists every entry of the exports map', () => {
    expect(entries.filter((entry) => !readme.includes(`| \`${entry}\``))).toEqual([]);
  });

  it('names every runtime export of every entry', async () => {
    const missing: string[] = [];
    for (const entry of entries) {
      const file = entry === 'alicred' ? 'index' : entry.slice('alicred/'.length);
      const mod = (await import(resolve(root, 'dist', `${file}.js`))) as Record<string, unknown>;
      for (const name of Object.keys(mod)) {
        if (!new RegExp(`\`[^\`]*\\b${name}\\b[^\`]*\``).test(readme)) missing.push(`${entry}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every example a line, and an npm script to the new ones', () => {
    for (const file of readdirSync(resolve(root, 'examples')).filter((f) => f.endsWith('.mjs'))) {
      expect(readme.includes(`examples/${file}`), file).toBe(true);
      const name = file.slice(0, -'.mjs'.length);
      if (pkg.scripts[`example:${name}`] !== undefined) expect(readme.includes(`npm run example:${name}`), `npm run example:${name}`).toBe(true);
    }
    for (const script of Object.keys(pkg.scripts).filter((s) => s.startsWith('example:'))) {
      expect(readdirSync(resolve(root, 'examples'))).toContain(`${script.slice('example:'.length)}.mjs`);
    }
  });
});
