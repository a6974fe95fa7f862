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

/**
 * Runs `ours` and `peer` (each returning one measurement) for `rounds` rounds, alternating
 * which goes first, and returns both series and the per-round ratios ours/peer.
 */
export async function interleaved(rounds, ours, peer) {
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      a.push(await ours());
      b.push(await peer());
    } else {
      b.push(await peer());
      a.push(await ours());
    }
  }
  return { ours: a, peer: b, ...ratioStats(a, b) };
}

/** Per-round ratios a[i]/b[i]: all of them, their median, min and max. */
export function ratioStats(a, b) {
  const ratios = a.map((x, i) => x / b[i]);
  return { ratios, ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

/** "0.42 (0.40–0.45)": median of per-round ratios with their range. */
export function formatRatioRange({ ratio, min, max }) {
  if (min === max) return formatRatio(ratio);
  return `${formatRatio(ratio)} (${formatRatio(min)}–${formatRatio(max)})`;
}

export function formatBytes(bytes) {
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${Math.round(bytes)} B`;
}
