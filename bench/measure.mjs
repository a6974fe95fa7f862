/**
 * Small measuring helpers for bench/run.mjs: a nanosecond clock, the median, and number
 * formatting. The timed loops themselves live in run.mjs, one hand-written loop per
 * library, so that V8 never shares one call site (and its type feedback) between the two
 * libraries: a shared polymorphic loop would slow both and blur the comparison.
 */

/** Current time in ns, as a Number (hrtime is monotonic and has ns resolution). */
export const nowNs = () => Number(process.hrtime.bigint());

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Lets every pending microtask, promise continuation and immediate run. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

export function formatNs(ns) {
  if (ns >= 100) return `${Math.round(ns)} ns`;
  return `${ns.toFixed(1)} ns`;
}

export function formatRatio(ratio) {
  if (!Number.isFinite(ratio)) return 'n/a';
  if (ratio >= 0.1) return ratio.toFixed(2);
  return ratio.toPrecision(2);
}

/** A markdown table; every column padded to its widest cell. */
export function markdownTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/**
 * Cost of the primitives a cached call cannot avoid on this machine, printed under the
 * table as context (not compared): one Date.now(), one performance.now(), and one `await`
 * of an async function that returns at once. Medians of 5 rounds.
 */
export async function calibrate(n = 1_000_000) {
  const dateNs = [];
  const perfNs = [];
  const awaitNs = [];
  const value = { ok: true };
  const immediate = async () => value;
  for (let r = 0; r < 5; r++) {
    let sink = 0;
    let start = nowNs();
    for (let i = 0; i < n; i++) sink += Date.now() & 1;
    dateNs.push((nowNs() - start) / n);
    start = nowNs();
    for (let i = 0; i < n; i++) sink += performance.now() > 0 ? 1 : 0;
    perfNs.push((nowNs() - start) / n);
    start = nowNs();
    for (let i = 0; i < n; i++) sink += (await immediate()).ok ? 1 : 0;
    awaitNs.push((nowNs() - start) / n);
    if (sink < 0) throw new Error('unreachable');
  }
  return { dateNow: median(dateNs), performanceNow: median(perfNs), awaitAsync: median(awaitNs) };
}
