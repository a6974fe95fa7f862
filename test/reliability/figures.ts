/**
 * Figures of the reliability suite. Each test file records rows of a section (`faults`,
 * `soak`, `fuzz`, `leaks`, `differential`); test/reliability/report.ts prints every section
 * as a table when the run ends. Files under .tmp/reliability/ carry the rows across vitest's
 * worker processes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type FigureRow = Record<string, string | number | boolean>;

export const FIGURES_DIR = resolve(import.meta.dirname, '..', '..', '.tmp', 'reliability');

let sequence = 0;

/** Records rows under `section`; the reporter prints them, in recording order, at the end. */
export function recordFigures(section: string, rows: readonly FigureRow[]): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const name = `${section}-${process.pid}-${Date.now()}-${sequence++}.json`;
  writeFileSync(join(FIGURES_DIR, name), JSON.stringify({ section, at: Date.now(), rows }));
}
