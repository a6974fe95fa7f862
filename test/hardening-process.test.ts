/**
 * Hardening seen from a real Node process running the built package (issue 7, items 1, 10,
 * 11, 15): dropped providers are collected and go quiet, whatever a caller awaits keeps the
 * process alive until it settles (and nothing else does), and the ESM and CJS builds loaded
 * together share one error tree and one STS cache. `npm test` builds dist/ first (pretest).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const esmUrl = pathToFileURL(resolve(root, 'dist/index.js')).href;
const cjsPath = resolve(root, 'dist/index.cjs');

type Run = { code: number | null; stdout: string; stderr: string; ms: number };

/** Runs a script in a fresh Node process; never rejects, so exit codes can be asserted. */
function runScript(source: string, { type = 'module', args = [] as string[], timeoutMs = 20_000 } = {}): Promise<Run> {
  const started = Date.now();
  const flags = type === 'module' ? ['--input-type=module'] : ['--input-type=commonjs'];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...args, ...flags, '-e', source],
      { cwd: root, timeout: timeoutMs, env: { ...process.env, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' } },
      (error, stdout, stderr) => {
        const code = error && typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : error ? null : 0;
        done({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** A script prelude: a loopback port nobody listens on. */
const closedPort = `
const net = await import('node:net');
const closedPort = await new Promise((ok) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); }); });
`;

describe('item 1: dropped providers are garbage-collected and make no more calls', () => {
  it('2000 providers called once and dropped: collected while their timers are still armed, no refresh, heap back', async () => {
    const r = await runScript(
      `
      const { refreshing, createCredentials } = await import(${JSON.stringify(esmUrl)});
      const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
      let calls = 0, collected = 0;
      const registry = new FinalizationRegistry(() => { collected++; });
      const N = 2000;
      async function make(i, lifetimeMs) {
        const p = refreshing(async () => {
          calls++;
          return createCredentials({ accessKeyId: 'STS.k' + i, accessKeySecret: 's'.repeat(30), securityToken: 't'.repeat(2000),
            expiration: new Date(Date.now() + lifetimeMs), source: 'test' });
        });
        await p();
        registry.register(p, i);
      }
      const gcAll = async () => { for (let k = 0; k < 5; k++) { gc(); await sleep(30); } };
      await gcAll();
      const before = process.memoryUsage().heapUsed;
      // 1 h credentials: every background timer is still armed (advisory point 30 min away)
      // when the providers are dropped, so only a timer that holds them weakly lets them go.
      for (let i = 0; i < N; i++) await make(i, 3600000);
      const filled = process.memoryUsage().heapUsed;
      await gcAll();
      const armed = { collected, after: process.memoryUsage().heapUsed };
      // 3 s credentials: past every advisory point (1.5 s) and expiry, nobody called: no refresh.
      collected = 0;
      const callsBefore = calls;
      for (let i = 0; i < N; i++) await make(i, 3000);
      await sleep(4000);
      await gcAll();
      console.log(JSON.stringify({ calls: calls - callsBefore, collectedLater: collected, armed, before, filled }));
      `,
      { args: ['--expose-gc'] },
    );
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout) as { calls: number; collectedLater: number; armed: { collected: number; after: number }; before: number; filled: number };
    expect(m.armed.collected).toBeGreaterThanOrEqual(1990);
    // Each provider held a ~2 KB token; what stays after collection is far below that.
    expect(m.armed.after - m.before).toBeLessThan((m.filled - m.before) / 2);
    expect(m.calls).toBe(2000);
    expect(m.collectedLater).toBeGreaterThanOrEqual(1990);
    expect(r.code).toBe(0);
  });
});

describe('items 10 and 15: what a caller awaits keeps the process alive until it settles', () => {
  it('a hung source: the caller gets the Timeout error (ESM), not exit code 13', async () => {
    const r = await runScript(`
      const { refreshing } = await import(${JSON.stringify(esmUrl)});
      const p = refreshing(() => new Promise(() => {}), { refreshTimeoutMs: 1500 });
      try { await p(); console.log('resolved'); } catch (e) { console.log('rejected', e.code); }
    `);
    expect(r.stdout.trim()).toBe('rejected Timeout');
    expect(r.code).toBe(0);
  });

  it('a hung source: the caller gets the Timeout error (CJS), not a silent exit', async () => {
    const r = await runScript(
      `
      const { refreshing } = require(${JSON.stringify(cjsPath)});
      refreshing(() => new Promise(() => {}), { refreshTimeoutMs: 1500 })()
        .then(() => console.log('resolved'), (e) => console.log('rejected', e.code));
    `,
      { type: 'commonjs' },
    );
    expect(r.stdout.trim()).toBe('rejected Timeout');
  });

  it('fromRamRole with STS unreachable: the retry waits hold the process until the error (ESM)', async () => {
    const r = await runScript(`
      ${closedPort}
      const { fromRamRole, fromStatic } = await import(${JSON.stringify(esmUrl)});
      const p = fromRamRole({
        source: fromStatic({ accessKeyId: 'LTAI5tExample', accessKeySecret: 'secret' }),
        roleArn: 'acs:ram::1234567890123456:role/app',
        sts: { endpoint: 'http://127.0.0.1:' + closedPort },
        refresh: { retry: { retries: 2, minDelayMs: 400, maxDelayMs: 400 } },
      });
      try { await p(); console.log('resolved'); } catch (e) { console.log('rejected', e.code); }
    `);
    expect(r.stdout.trim()).toBe('rejected NetworkError');
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(700); // both retry waits happened
  });

  it('fromRamRole with STS unreachable: the same from CommonJS', async () => {
    const r = await runScript(
      `
      const net = require('node:net');
      const { fromRamRole, fromStatic } = require(${JSON.stringify(cjsPath)});
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = s.address().port;
        s.close(() => {
          fromRamRole({
            source: fromStatic({ accessKeyId: 'LTAI5tExample', accessKeySecret: 'secret' }),
            roleArn: 'acs:ram::1234567890123456:role/app',
            sts: { endpoint: 'http://127.0.0.1:' + port },
            refresh: { retry: { retries: 2, minDelayMs: 400, maxDelayMs: 400 } },
          })().then(() => console.log('resolved'), (e) => console.log('rejected', e.code));
        });
      });
    `,
      { type: 'commonjs' },
    );
    expect(r.stdout.trim()).toBe('rejected NetworkError');
  });

  it('a background refresh nobody awaits does not hold the process', async () => {
    const r = await runScript(`
      const { refreshing, createCredentials } = await import(${JSON.stringify(esmUrl)});
      let calls = 0;
      const p = refreshing(() => {
        calls++;
        if (calls > 1) return new Promise(() => {}); // the background refresh hangs
        return Promise.resolve(createCredentials({ accessKeyId: 'STS.a', accessKeySecret: 's', securityToken: 't',
          expiration: new Date(Date.now() + 2000), source: 'test' }));
      }, { refreshTimeoutMs: 30000 });
      await p();
      await new Promise((ok) => setTimeout(ok, 1200)); // advisory point (1 s) passed
      await p(); // served at once, starts the background refresh
      console.log('done', calls);
    `);
    expect(r.stdout.trim()).toBe('done 2');
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(10_000); // not the 30 s deadline
  });
});

describe('item 11: the ESM and CJS builds in one process', () => {
  it('share the error tree, credentials brand and the default STS cache', async () => {
    const r = await runScript(`
      const { createRequire } = await import('node:module');
      const http = await import('node:http');
      let assumeRoleCalls = 0;
      const server = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          assumeRoleCalls++;
          const exp = new Date(Date.now() + 900000).toISOString().replace(/\\.\\d{3}Z$/, 'Z');
          setTimeout(() => {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ RequestId: 'r-' + assumeRoleCalls, Credentials: { AccessKeyId: 'STS.shared' + assumeRoleCalls,
              AccessKeySecret: 'secret', SecurityToken: 'token', Expiration: exp } }));
          }, 50);
        });
      });
      await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
      const endpoint = 'http://127.0.0.1:' + server.address().port;
      const slot = Symbol.for('alicred.stsCache');
      const esm = await import(${JSON.stringify(esmUrl)});
      const cjs = createRequire(import.meta.url)(${JSON.stringify(cjsPath)});
      const out = { importCreatedCache: globalThis[slot] !== undefined };
      const skip = new cjs.CredentialsProviderError('not configured', { provider: 'cjs-link', tryNext: true });
      out.instanceofAcross = skip instanceof esm.CredentialsProviderError && skip instanceof esm.CredentialsError && !(skip instanceof esm.StsError);
      out.isCredentialsError = esm.isCredentialsError(skip) && cjs.isCredentialsError(new esm.ConfigError('x'));
      out.brand = skip[Symbol.for('alicred.error')] === true;
      out.chainMovesOn = (await esm.chain(async () => { throw skip; }, esm.fromStatic({ accessKeyId: 'LTAI5tStatic', accessKeySecret: 's' }))()).source;
      const stop = new cjs.CredentialsProviderError('configured but broken', { provider: 'cjs-link', tryNext: false });
      out.chainStops = await esm.chain(async () => { throw stop; }, esm.fromStatic({ accessKeyId: 'LTAI5tStatic', accessKeySecret: 's' }))().then(() => 'served', (e) => e === stop ? 'stopped' : 'other');
      out.isCredentialsAcross = esm.isCredentials(cjs.createCredentials({ accessKeyId: 'LTAI5t', accessKeySecret: 's', source: 'cjs' }));
      const opts = (lib) => ({ source: lib.fromStatic({ accessKeyId: 'LTAI5tShared', accessKeySecret: 'secret' }), roleArn: 'acs:ram::1234567890123456:role/app', durationSeconds: 900, sts: { endpoint } });
      const a = esm.fromRamRole(opts(esm));
      const b = cjs.fromRamRole(opts(cjs));
      const [ca, cb] = await Promise.all([a(), b()]);
      out.sameCredential = ca.accessKeyId === cb.accessKeyId;
      out.assumeRoleCalls = assumeRoleCalls;
      out.facadeSize = esm.defaultStsCache.size === cjs.defaultStsCache.size && esm.defaultStsCache.size === 1;
      a.close(); b.close(); server.close();
      console.log(JSON.stringify(out));
    `);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      importCreatedCache: false,
      instanceofAcross: true,
      isCredentialsError: true,
      brand: true,
      chainMovesOn: 'static',
      chainStops: 'stopped',
      isCredentialsAcross: true,
      sameCredential: true,
      assumeRoleCalls: 1,
      facadeSize: true,
    });
  });
});
