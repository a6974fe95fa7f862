/**
 * Prints the reliability suite's figures (see figures.ts) as markdown tables, one per section,
 * after the run; clears them before a run so stale figures are never shown.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter } from 'vitest/node';
import { FIGURES_DIR, type FigureRow } from './figures.js';

const ORDER = ['faults', 'soak', 'fuzz', 'leaks', 'differential'];

function table(rows: readonly FigureRow[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export default class ReliabilityReporter implements Reporter {
  onInit(): void {
    rmSync(FIGURES_DIR, { recursive: true, force: true });
  }

  onTestRunEnd(): void {
    let files: string[];
    try {
      files = readdirSync(FIGURES_DIR).filter((f) => f.endsWith('.json'));
    } catch {
      return;
    }
    const sections = new Map<string, { at: number; rows: FigureRow[] }[]>();
    for (const file of files) {
      const { section, at, rows } = JSON.parse(readFileSync(join(FIGURES_DIR, file), 'utf8')) as { section: string; at: number; rows: FigureRow[] };
      sections.set(section, [...(sections.get(section) ?? []), { at, rows }]);
    }
    const names = [...sections.keys()].sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
    for (const name of names) {
      const rows = sections.get(name)!.sort((a, b) => a.at - b.at).flatMap((x) => x.rows);
      process.stdout.write(`\nreliability: ${name} (${rows.length} rows)\n${table(rows)}\n`);
    }
  }
}
