/**
 * The universal entry (dist/index.js) in the real Cloudflare Workers runtime: workerd, from the
 * `workerd` devDependency, with no nodejs_compat flag (so no Node built-in can be relied on).
 *
 * test/workerd/worker.js is bundled with esbuild the way Wrangler resolves packages (conditions
 * workerd, worker, browser) and served by workerd on 127.0.0.1. Its global outbound is a network
 * service that allows 127.0.0.1 only, and the only server there is the one this test starts:
 * a fake STS (AssumeRole) and a credentials URI endpoint, which record every request so the
 * signatures that workerd's WebCrypto computed can be recomputed here with src/sts/sign.ts.
 *
 * `npm test` builds dist/ first (pretest); a missing dist/ is built in beforeAll.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_BODY_SHA256, signRpcV1, signV3 } from '../src/sts/sign.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');

const ACCESS_KEY_ID = 'LTAI5tWorkerdTestKey0001';
const ACCESS_KEY_SECRET = 'WorkerdTestSecret0123456789abcd';
const URI_TOKEN = 'Bearer workerd-uri-token';

// ---------------------------------------------------------------------------
// Can workerd run here? Decided at collection time, so the tests can skip with a reason.
// ---------------------------------------------------------------------------

type WorkerdInfo = { bin: string; compatibilityDate: string; version: string };

async function probeWorkerd(): Promise<{ info?: WorkerdInfo; problem?: string }> {
  let info: WorkerdInfo;
  try {
    // The package's main resolves the platform package's binary (@cloudflare/workerd-<os>-<arch>).
    // Spawning that binary directly (not the node shim in bin/) lets afterAll kill the real process.
    const pkg = createRequire(import.meta.url)('workerd') as { default: string; compatibilityDate: string; version: string };
    info = { bin: pkg.default, compatibilityDate: pkg.compatibilityDate, version: pkg.version };
  } catch (error) {
    return { problem: `the workerd package or its platform binary package is not installed: ${(error as Error).message}` };
  }
  if (!existsSync(info.bin)) return { problem: `workerd binary not found at ${info.bin}` };
  try {
    const { stdout } = await run(info.bin, ['--version'], { timeout: 10_000 });
    if (!/^workerd \d{4}-\d{2}-\d{2}/.test(stdout.trim())) return { problem: `unexpected workerd --version output: ${stdout.trim()}` };
  } catch (error) {
    const e = error as Error & { stderr?: string };
    return { problem: `workerd --version failed (${info.bin}): ${e.message} ${e.stderr ?? ''}`.trim() };
  }
  return { info };
}

const probe = await probeWorkerd();
const workerd = probe.info;
if (probe.problem) console.warn(`[workerd.test] SKIPPED: workerd cannot run on this machine: ${probe.problem}`);
const skip = probe.problem !== undefined;

// ---------------------------------------------------------------------------
// The loopback server: fake STS (POST /?...) and credentials URI (GET /credentials).
// ---------------------------------------------------------------------------

type Recorded = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
};

type Issued = { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string; Expiration: string };

const stsRequests: Recorded[] = [];
/** GET /slow-credentials: the known-problem scenario's source; `answered` once the answer is sent. */
const slowRequests: (Recorded & { answered: boolean })[] = [];
const uriRequests: Recorded[] = [];
/** Credentials handed out by the fake STS, by RoleSessionName. */
const issued = new Map<string, Issued>();
const uriIssued: Issued = {
  AccessKeyId: 'STS.uri',
  AccessKeySecret: 'uri-secret-0123456789abcdefABCDEF',
  SecurityToken: 'uri-token-0123456789abcdefABCDEF',
  Expiration: stsTime(Date.now() + 3_600_000),
};

function stsTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The operation parameters of a recorded STS request: query, plus a V1 form body. */
function paramsOf(r: Recorded): Record<string, string> {
  const url = new URL(r.url, 'http://127.0.0.1');
  const params = Object.fromEntries(url.searchParams);
  if (r.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(r.body)));
  }
  return params;
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
    const path = new URL(recorded.url, 'http://127.0.0.1').pathname;
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };

    if (req.method === 'GET' && path === '/credentials') {
      uriRequests.push(recorded);
      return json(200, { Code: 'Success', ...uriIssued, LastUpdated: stsTime(Date.now()) });
    }
    if (req.method === 'GET' && path === '/slow-credentials') {
      const entry = { ...recorded, answered: false };
      slowRequests.push(entry);
      const n = new URL(recorded.url, 'http://127.0.0.1').searchParams.get('n');
      // The first load answers at once; later ones after 300 ms, when the request that started
      // them (a background refresh) has long answered its own client.
      setTimeout(
        () => {
          json(200, { AccessKeyId: `STS.bg.${n}`, AccessKeySecret: `bg-secret-${n}-0123456789`, SecurityToken: `bg-token-${n}-0123456789` });
          entry.answered = true;
        },
        n === '1' ? 0 : 300,
      );
      return;
    }
    if (req.method === 'POST' && path === '/') {
      stsRequests.push(recorded);
      const params = paramsOf(recorded);
      const session = params.RoleSessionName ?? 'none';
      const n = stsRequests.length;
      const credentials: Issued = {
        AccessKeyId: `STS.${session}.${n}`,
        AccessKeySecret: `secret-${session}-${n}-0123456789abcdef`,
        SecurityToken: `token-${session}-${n}-0123456789abcdefABCDEF`,
        Expiration: stsTime(Date.now() + 3_600_000),
      };
      issued.set(session, credentials);
      const roleName = (params.RoleArn ?? '').split('/').pop();
      return json(200, {
        RequestId: `req-${n}`,
        AssumedRoleUser: { Arn: `acs:ram::1234567890123456:role/${roleName}/${session}`, AssumedRoleId: `300000000000000${n}:${session}` },
        Credentials: credentials,
      });
    }
    json(404, { Code: 'NotFound', Message: `${req.method} ${path}` });
  });
}

// ---------------------------------------------------------------------------
// Setup: server, bundle, config, workerd.
// ---------------------------------------------------------------------------

/** The worker's JSON report: checked field by field below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let server: Server | undefined;
let origin = '';
let dir: string | undefined;
let child: ChildProcess | undefined;
let childExit: Promise<void> | undefined;
let workerdUrl = '';
let output = '';
let bundleInputs: string[] = [];
let bundleText = '';
let report: Json | undefined;
let reuse: Json | undefined;
const background: Json[] = [];

async function freePort(): Promise<number> {
  const listener = createNetServer();
  await new Promise<void>((ok, fail) => listener.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((ok) => listener.close(() => ok()));
  return port;
}

/** A capnp text literal (JSON string escapes are valid capnp escapes for this ASCII). */
const text = (value: string): string => JSON.stringify(value);

function config(port: number, compatibilityDate: string): string {
  const bindings: [string, string][] = [
    ['ALIBABA_CLOUD_ACCESS_KEY_ID', ACCESS_KEY_ID],
    ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', ACCESS_KEY_SECRET],
    ['LOOPBACK_ORIGIN', origin],
  ];
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Replaces the implicit public-internet service: nothing in this workerd can reach past 127.0.0.1.
    (name = "internet", network = (allow = ["127.0.0.1/32"])),
  ],
  sockets = [ (name = "http", address = ${text(`127.0.0.1:${port}`)}, http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = ${text(compatibilityDate)},
  # No Node.js compatibility: the universal entry must not need Node built-ins or process.
  # (Recent workerd turns nodejs_compat and nodejs_compat_v2 on by compatibility date alone.)
  compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"],
  bindings = [
${bindings.map(([name, value]) => `    (name = ${text(name)}, text = ${text(value)}),`).join('\n')}
  ],
  globalOutbound = "internet",
);
`;
}

async function stopWorkerd(): Promise<void> {
  const proc = child;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const exited = await Promise.race([childExit!.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), 3_000))]);
  if (!exited) {
    proc.kill('SIGKILL');
    await childExit;
  }
}

/** Safety net: never leave workerd behind if this test process goes away without afterAll. */
const killOnExit = () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};

async function waitReady(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    if (child?.exitCode !== null || child?.signalCode !== null) {
      throw new Error(`workerd exited (code ${child?.exitCode}, signal ${child?.signalCode}) before answering:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && (await res.text()) === 'ready') return;
      last = new Error(`HTTP ${res.status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`workerd did not answer within ${deadlineMs} ms (${String(last)}):\n${output}`);
}

async function getJson(path: string): Promise<Json> {
  const res = await fetch(`${workerdUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  if (!res.ok) throw new Error(`workerd answered ${path} with HTTP ${res.status}: ${body}\n${output}`);
  return JSON.parse(body) as Json;
}

beforeAll(async () => {
  if (skip || !workerd) return;
  process.once('exit', killOnExit);

  if (!existsSync(join(root, 'dist', 'index.js'))) {
    await run('npx', ['rollup', '-c', 'rollup.config.mjs'], { cwd: root, timeout: 120_000 });
  }

  server = createServer(onRequest);
  await new Promise<void>((ok, fail) => server!.once('error', fail).listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  dir = await mkdtemp(join(tmpdir(), 'alicred-workerd-'));
  const bundle = await build({
    entryPoints: [join(root, 'test', 'workerd', 'worker.js')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    // How Wrangler resolves packages for Workers.
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
  });
  bundleText = bundle.outputFiles[0]!.text;
  bundleInputs = Object.keys(bundle.metafile.inputs).map((p) => relative(root, resolve(root, p)));
  await writeFile(join(dir, 'worker.js'), bundleText);

  const port = await freePort();
  await writeFile(join(dir, 'config.capnp'), config(port, workerd.compatibilityDate));
  workerdUrl = `http://127.0.0.1:${port}`;

  child = spawn(workerd.bin, ['serve', join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  childExit = new Promise((ok) => child!.once('exit', () => ok()));
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitReady(workerdUrl, 15_000);

  report = await getJson('/run');
  reuse = await getJson('/reuse');

  // The known-problem scenario (see the last tests): a cold load, then a request in the advisory
  // window that starts a background refresh and answers at once; give that refresh time to
  // finish (the server answers within 300 ms); then the mandatory window, then expiry.
  background.push(await getJson('/background?phase=1'), await getJson('/background?phase=2'));
  await new Promise((ok) => setTimeout(ok, 400));
  background.push(await getJson('/background?phase=3'), await getJson('/background?phase=4'));
}, 60_000);

afterAll(async () => {
  try {
    await stopWorkerd();
  } finally {
    process.removeListener('exit', killOnExit);
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((ok) => server!.close(() => ok()));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------

/** Fails with the worker's error and stack rather than a bare `false !== true`. */
function item(name: string): Json {
  const value = report?.[name] as Json | undefined;
  expect(value, `report.${name}`).toBeDefined();
  expect(value!.ok, `report.${name} failed in workerd: ${value!.error}\n${value!.stack ?? ''}`).toBe(true);
  return value!;
}

function sts(session: string): Recorded[] {
  return stsRequests.filter((r) => paramsOf(r).RoleSessionName === session);
}

/** Recomputes the V3 Authorization of a recorded request with src/sts/sign.ts, on Node. */
async function expectV3Signature(r: Recorded, accessKeyId: string, accessKeySecret: string, securityToken?: string) {
  const url = new URL(r.url, 'http://127.0.0.1');
  const { authorization: _sent, ...headers } = r.headers;
  const expected = await signV3({
    method: r.method,
    pathname: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: r.body,
    accessKeyId,
    accessKeySecret,
    securityToken,
  });
  expect(r.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=[^,]+,SignedHeaders=[a-z0-9;-]+,Signature=[0-9a-f]{64}$/);
  expect(r.headers.authorization).toBe(expected.authorization);
  return expected;
}

describe('workerd (Cloudflare Workers runtime), no nodejs_compat', () => {
  it.skipIf(skip)('bundles dist/index.js (not src/) for workerd without any Node built-in', () => {
    expect(bundleInputs).toContain('dist/index.js');
    expect(bundleInputs.filter((p) => p.startsWith('src/'))).toEqual([]);
    expect(bundleInputs.filter((p) => p.startsWith('node:') || /(^|\/)node_modules\/node:/.test(p))).toEqual([]);
    expect(bundleText).not.toMatch(/\bfrom\s*["']node:|\brequire\(\s*["']node:|\bimport\(\s*["']node:/);
    // The universal code has no runtime dependency: no third-party module in the Worker.
    expect(bundleInputs.filter((p) => p.includes('node_modules/'))).toEqual([]);
  });

  it.skipIf(skip)('runs in a runtime without process, Buffer or require', () => {
    expect(report?.runtime).toMatchObject({
      process: 'undefined',
      Buffer: 'undefined',
      require: 'undefined',
      nodeBuffer: 'unavailable',
      subtle: 'function',
      flags: { nodejs_compat: false, nodejs_compat_v2: false },
    });
    expect(report?.runtime.userAgent).toBe('Cloudflare-Workers');
  });

  it.skipIf(skip)('(a) fromEnv reads the env bindings; chain skips providers that cannot answer', () => {
    const env = item('env');
    const expected = { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET, source: 'env' };
    expect(env.direct).toMatchObject(expected);
    expect(env.direct.securityToken).toBeUndefined();
    expect(env.viaChain).toMatchObject(expected);
    expect(env.chainError).toMatchObject({ name: 'CredentialsChainError', code: 'NoCredentials' });
    expect(env.chainError.attempts).toHaveLength(2);
    expect(env.chainError.attempts[0].message).toMatch(/no process\.env; pass \{ env \}/);
    expect(env.chainError.attempts[1].message).toMatch(/are not set/);
  });

  it.skipIf(skip)('(b) refreshing: 100 concurrent calls make 1 source call; peek and close work', () => {
    const r = item('refreshing');
    expect(r.concurrent).toBe(100);
    expect(r.callsAfterConcurrent).toBe(1);
    expect(r.calls).toBe(1);
    expect(r.allSame).toBe(true);
    expect(r.peekBeforeIsUndefined).toBe(true);
    expect(r.peekIsCached).toBe(true);
    expect(r.againIsCached).toBe(true);
    expect(r.afterCloseIsCached).toBe(true);
    expect(r.credentials.accessKeyId).toBe('STS.counted');
  });

  it.skipIf(skip)('(c) no printed form of any credential shows its secret or token', () => {
    const r = item('redaction');
    // env ×2, refreshing, STS ×3, RAM role ×2, credentials URI ×2.
    expect(r.checked).toBe(10);
    for (const printed of r.items as { json: string; string: string; secretCount: number; leaked: number }[]) {
      expect(printed.secretCount).toBeGreaterThan(0);
      expect(printed.leaked, printed.json).toBe(0);
      expect(printed.json).toContain('"accessKeySecret":"[REDACTED]"');
      expect(printed.string).toContain('[REDACTED]');
    }
    // Belt and braces: no secret of the test appears in any JSON form.
    const all = JSON.stringify((r.items as { json: string }[]).map((p) => p.json));
    for (const secret of [ACCESS_KEY_SECRET, uriIssued.AccessKeySecret, uriIssued.SecurityToken, ...[...issued.values()].flatMap((c) => [c.AccessKeySecret, c.SecurityToken])]) {
      expect(all).not.toContain(secret);
    }
  });

  it.skipIf(skip)('(d) STS V3 signing over WebCrypto matches src/sts/sign.ts byte for byte', async () => {
    const r = item('sts');
    expect(r.endpoint).toBe(origin);

    const [v3] = sts('workerd-v3');
    expect(sts('workerd-v3')).toHaveLength(1);
    expect(v3!.method).toBe('POST');
    expect(v3!.body).toBe('');
    expect(v3!.headers.host).toBe(origin.slice('http://'.length));
    expect(v3!.headers['x-acs-action']).toBe('AssumeRole');
    expect(v3!.headers['x-acs-version']).toBe('2015-04-01');
    expect(v3!.headers['x-acs-content-sha256']).toBe(EMPTY_BODY_SHA256);
    expect(v3!.headers['x-acs-security-token']).toBeUndefined();
    expect(paramsOf(v3!)).toEqual({ RoleArn: 'acs:ram::1234567890123456:role/workerd-v3', RoleSessionName: 'workerd-v3', DurationSeconds: '3600' });
    await expectV3Signature(v3!, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    // The comparison has teeth: another secret gives another signature.
    await expect(expectV3Signature(v3!, ACCESS_KEY_ID, `${ACCESS_KEY_SECRET}x`)).rejects.toThrow();
    expect(v3!.headers.authorization).toContain(
      `Credential=${ACCESS_KEY_ID},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,`,
    );

    const issuedV3 = issued.get('workerd-v3')!;
    expect(r.v3.credentials).toMatchObject({
      accessKeyId: issuedV3.AccessKeyId,
      accessKeySecret: issuedV3.AccessKeySecret,
      securityToken: issuedV3.SecurityToken,
      source: 'sts:AssumeRole',
    });
    expect(r.v3.statedExpiration).toBe(new Date(issuedV3.Expiration).toISOString());
    expect(r.v3.requestId).toMatch(/^req-\d+$/);
    expect(r.v3.assumedRoleUser.arn).toBe('acs:ram::1234567890123456:role/workerd-v3/workerd-v3');
    expect(r.v3.clockSkewMs).toBe(0);

    // Signed with the temporary credentials: their token is sent and signed.
    const [chained] = sts('workerd-v3-token');
    expect(chained!.headers['x-acs-accesskey-id']).toBe(issuedV3.AccessKeyId);
    expect(chained!.headers['x-acs-security-token']).toBe(issuedV3.SecurityToken);
    await expectV3Signature(chained!, issuedV3.AccessKeyId, issuedV3.AccessKeySecret, issuedV3.SecurityToken);
    expect(r.v3Token.accessKeyId).toBe(issued.get('workerd-v3-token')!.AccessKeyId);

    // V1 (HMAC-SHA1): query + form parameters, Signature recomputed with src/sts/sign.ts.
    const [v1] = sts('workerd-v1');
    const { Signature: sent, ...params } = paramsOf(v1!);
    expect(params).toMatchObject({ Action: 'AssumeRole', AccessKeyId: ACCESS_KEY_ID, SignatureMethod: 'HMAC-SHA1', RoleSessionName: 'workerd-v1' });
    expect(sent).toBe(await signRpcV1({ method: 'POST', params, accessKeySecret: ACCESS_KEY_SECRET }));
    expect(r.v1.accessKeyId).toBe(issued.get('workerd-v1')!.AccessKeyId);
  });

  it.skipIf(skip)('(e) fromRamRole end to end with createStsCache(): one AssumeRole for 21 calls', async () => {
    const r = item('ramRole');
    const calls = sts('workerd-ram-role');
    expect(calls).toHaveLength(1);
    await expectV3Signature(calls[0]!, ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    const expected = issued.get('workerd-ram-role')!;
    expect(r.credentials).toMatchObject({ accessKeyId: expected.AccessKeyId, accessKeySecret: expected.AccessKeySecret, securityToken: expected.SecurityToken });
    expect(r.allSame).toBe(true);
    expect(r.otherAccessKeyId).toBe(expected.AccessKeyId);
    expect(r.peekIsCached).toBe(true);
    expect(r.cacheSize).toBe(1);
  });

  it.skipIf(skip)('(e) a module-scoped fromRamRole serves a later request from its cache', () => {
    expect(reuse?.ok, `${reuse?.error}\n${reuse?.stack ?? ''}`).toBe(true);
    expect(sts('workerd-shared')).toHaveLength(1);
    expect(reuse!.peekIsCached).toBe(true);
    expect(reuse!.credentials.accessKeyId).toBe(issued.get('workerd-shared')!.AccessKeyId);
    expect(item('ramRole').shared.accessKeyId).toBe(issued.get('workerd-shared')!.AccessKeyId);
  });

  it.skipIf(skip)('(f) fromCredentialsUri against the loopback server', () => {
    const r = item('credentialsUri');
    expect(r.credentials).toMatchObject({
      accessKeyId: uriIssued.AccessKeyId,
      accessKeySecret: uriIssued.AccessKeySecret,
      securityToken: uriIssued.SecurityToken,
      expiration: new Date(uriIssued.Expiration).toISOString(),
      source: 'credentials-uri',
    });
    expect(r.secondIsCached).toBe(true);
    expect(r.peekIsCached).toBe(true);
    expect(r.viaEnvAccessKeyId).toBe(uriIssued.AccessKeyId);
    // One request per provider; the first one carried the configured header.
    expect(uriRequests).toHaveLength(2);
    expect(uriRequests[0]!.headers.authorization).toBe(URI_TOKEN);
    expect(uriRequests.every((r) => r.method === 'GET')).toBe(true);
  });

  it.skipIf(skip)('setup: a module-scoped refreshing() starts a background refresh from the advisory window', () => {
    // Minute 0: cold load. Minute 50 (advisory window): the cached value at once, and a
    // background refresh (the second source call).
    expect(background[0]).toMatchObject({ ok: true, accessKeyId: 'STS.bg.1', calls: 1 });
    expect(background[1]).toMatchObject({ ok: true, accessKeyId: 'STS.bg.1', calls: 2 });
    expect(slowRequests[0]).toMatchObject({ method: 'GET', url: '/slow-credentials?n=1', answered: true });
    // (workerd drops the background fetch when its request ends: it may never reach the server.)
  });

  // In workerd a promise belongs to the request
  // that created it. The background refresh (refreshAhead) started by the minute-50 request is
  // never awaited by it; once that request has answered, the refresh can never settle (its fetch
  // answer and its deadline timer are dropped), but `inflight` keeps pointing at it. Every later
  // call that needs a refresh joins it: with this compatibility date it rejects at once with
  // "This promise was created by a request that has since ended, so it can never settle"
  // (handle_cross_request_promise_resolution); with older dates it hangs. The provider never
  // recovers in that isolate, even after expiry (minute 61). The engine now drops such a dead
  // refresh and starts one in the current request (src/refresh.ts joinRefresh).
  it.skipIf(skip)('after a background refresh, later requests get fresh credentials', () => {
    // The background refresh (call 2) died with its request; this request made call 3.
    expect(background[2], JSON.stringify(background[2])).toMatchObject({ ok: true, accessKeyId: 'STS.bg.3' });
    expect(background[3], JSON.stringify(background[3])).toMatchObject({ ok: true });
  });

  it.skipIf(skip)('workerd logged no uncaught error', () => {
    expect(output).not.toMatch(/Uncaught|uncaught exception|Error: /i);
  });
});
