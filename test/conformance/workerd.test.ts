/**
 * The conformance suite (test/conformance/*.conformance.js) in workerd, the Cloudflare Workers
 * runtime, without nodejs_compat: workerd-entry.js bundled the way Wrangler bundles (conditions
 * workerd, worker, browser; 'vitest' aliased to shim.js; the built package through its
 * exports) and served by workerd on 127.0.0.1, its outbound network limited to 127.0.0.1. One
 * POST /run runs every case within one request, against the emulator and host server this
 * test starts; a failure lists every failing case with its message.
 *
 * test/workerd.test.ts checks Worker-specific behaviour (env bindings, a module-scoped provider
 * across requests, background refreshes that die with their request) the same way.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleConformance,
  conformanceDir,
  ensureDist,
  failures,
  probeWorkerd,
  startConformanceHost,
  startWorkerd,
  type Bundle,
  type CaseResult,
  type ConformanceHost,
  type Workerd,
} from './host.js';

const probe = await probeWorkerd();
const problem = 'problem' in probe ? probe.problem : undefined;
// The same rule as test/workerd.test.ts: a machine where the workerd binary cannot run at all
// (an unsupported platform) skips with the reason printed.
if (problem) console.warn(`[conformance/workerd.test] SKIPPED: workerd cannot run on this machine: ${problem}`);

type Report = {
  runtime: { userAgent: string; process: string; Buffer: string; require: string; subtle: string };
  declared: string[];
  results: CaseResult[];
};

let host: ConformanceHost | undefined;
let workerd: Workerd | undefined;
let bundle: Bundle | undefined;
let report: Report | undefined;

beforeAll(async () => {
  if (problem || 'problem' in probe) return;
  await ensureDist();
  [host, bundle] = await Promise.all([startConformanceHost(), bundleConformance(join(conformanceDir, 'workerd-entry.js'), 'workerd')]);
  workerd = await startWorkerd(bundle.text, probe);
  const res = await fetch(`${workerd.url}/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(host.context('workerd')),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`workerd answered /run with HTTP ${res.status}: ${text}\n${workerd.output()}`);
  report = JSON.parse(text) as Report;
}, 180_000);

afterAll(async () => {
  await workerd?.stop();
  await host?.close();
});

describe.skipIf(problem !== undefined)('conformance suite in workerd (no nodejs_compat)', () => {
  it('is bundled from the built package (dist/), with no Node built-in, no src/ and no dependency', () => {
    const inputs = bundle!.inputs;
    expect(inputs).toContain('dist/index.js');
    expect(inputs).toContain('dist/oss.js');
    expect(inputs.filter((p) => p.startsWith('src/') || p.startsWith('node:') || p.includes('node_modules/'))).toEqual([]);
    expect(bundle!.text).not.toMatch(/\bfrom\s*["']node:|\brequire\(\s*["']node:|\bimport\(\s*["']node:/);
  });

  it('runs in workerd: no process, Buffer or require; WebCrypto present', () => {
    expect(report!.runtime).toMatchObject({ process: 'undefined', Buffer: 'undefined', require: 'undefined', subtle: 'function', userAgent: 'Cloudflare-Workers' });
  });

  it('ran every declared case', () => {
    expect(report!.declared.length).toBeGreaterThanOrEqual(35);
    expect(report!.results.map((r) => r.name)).toEqual(report!.declared);
  });

  it('every conformance case passes in workerd', () => {
    expect(report!.results.length).toBeGreaterThanOrEqual(35);
    const failed = failures(report!.results);
    if (failed !== '') throw new Error(`${failed}\n\nworkerd output:\n${workerd!.output()}`);
  });

  it('workerd logged no uncaught error', () => {
    expect(workerd!.output()).not.toMatch(/Uncaught|uncaught exception/i);
  });
});
