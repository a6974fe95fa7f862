/**
 * The Node side of the conformance suite (test/conformance/*.conformance.js): what every host
 * (Node, Chromium, workerd) needs and a browser or a Worker cannot do itself.
 *
 * - startConformanceHost: the emulator (RAM user, roles, OIDC provider, credentials URI) and a
 *   small HTTP server on 127.0.0.1 (the "host server") that mints OIDC tokens for the suite
 *   (GET /__host/oidc-token), serves whatever files a host test registers (a page, a bundle),
 *   and hands the suite its context (test/conformance/context.js).
 *   A page served by the host server calls the emulator cross-origin: the emulator is started
 *   with `cors: { allowOrigins: [<host server origins>] }`.
 * - bundleConformance: the suites bundled with esbuild for a browser page or a Worker, the
 *   built package resolved through its exports (dist/), 'vitest' aliased to shim.js.
 * - startWorkerd: workerd (the Cloudflare Workers runtime) serving one bundled module.
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
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/testing/index.js';

const run = promisify(execFile);
export const root = resolve(import.meta.dirname, '..', '..');
export const conformanceDir = import.meta.dirname;

/** What the suites read (test/conformance/context.js documents each field). */
export type ConformanceContext = {
  runtime: 'node' | 'chromium' | 'workerd';
  stsEndpoint: string;
  credentialsUri: string;
  credentialsUriHeader: { name: string; value: string };
  oidcTokenUrl: string;
  user: { accessKeyId: string; accessKeySecret: string };
  roleArn: string;
  untrustedRoleArn: string;
  oidcRoleArn: string;
  oidcProviderArn: string;
};

/** One result of shim.js run(). */
export type CaseResult = { name: string; ok: boolean; ms: number; error?: string };

export const FIXTURE = {
  user: { name: 'conformance', accessKeyId: 'LTAI5tConformance0000001', accessKeySecret: 'conformance-secret-0123456789abcdef' },
  uriHeader: { name: 'Authorization', value: 'Bearer conformance-credentials-uri' },
  role: 'conformance-role',
  untrustedRole: 'untrusted-role',
  oidcRole: 'oidc-role',
  oidcProvider: 'conformance-oidc',
} as const;

/** A file the host server serves, or a handler of its own. */
export type Route = { type: string; body: string | Uint8Array } | ((req: IncomingMessage, res: ServerResponse) => void);

export type ConformanceHost = {
  /** `http://127.0.0.1:<port>` of the host server. */
  readonly origin: string;
  readonly port: number;
  readonly emulator: Emulator;
  /** The context for `runtime`. */
  context(runtime: ConformanceContext['runtime']): ConformanceContext;
  /** Serves `route` at `path` (exact match, query ignored). */
  route(path: string, route: Route): void;
  close(): Promise<void>;
};

function sendText(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
  res.end(body);
}

/** Whether the emulator answers a CORS preflight from `origin` for a signed STS call. */
export async function answersCors(emulatorUrl: string, origin: string): Promise<boolean> {
  const res = await fetch(`${emulatorUrl}/`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,x-acs-action,x-acs-date,x-acs-signature-nonce',
    },
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status < 300 && res.headers.get('access-control-allow-origin') === origin;
}

export async function startConformanceHost(): Promise<ConformanceHost> {
  const routes = new Map<string, Route>();
  let emulator: Emulator | undefined;

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (req.method === 'OPTIONS' && path.startsWith('/__host/')) {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': 'GET, POST' });
      res.end();
      return;
    }
    if (path === '/__host/oidc-token' && emulator) {
      const subject = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('subject') ?? 'system:serviceaccount:conformance:app';
      sendText(res, 200, 'text/plain', emulator.mintOidcToken({ subject, providerName: FIXTURE.oidcProvider }));
      return;
    }
    const found = routes.get(path);
    if (typeof found === 'function') return found(req, res);
    if (found) return sendText(res, 200, found.type, found.body);
    sendText(res, 404, 'text/plain', `host server: nothing at ${path}`);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  const emulatorOptions = {
    users: [FIXTURE.user],
    roles: [
      { name: FIXTURE.role, trustedUsers: [FIXTURE.user.name], maxSessionDuration: 3600 },
      { name: FIXTURE.untrustedRole, trustedUsers: [] },
      { name: FIXTURE.oidcRole, trustedOidcProviders: [FIXTURE.oidcProvider] },
    ],
    oidcProviders: [{ name: FIXTURE.oidcProvider }],
    credentialsUri: { roleName: 'vended', requireHeader: { ...FIXTURE.uriHeader } },
    // Pages served by the host server call the emulator cross-origin.
    cors: { allowOrigins: [origin, `http://localhost:${port}`] },
  } satisfies EmulatorOptions;
  try {
    emulator = await startEmulator(emulatorOptions);
  } catch (error) {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
    throw error;
  }
  const emu = emulator;

  return {
    origin,
    port,
    emulator: emu,
    context(runtime) {
      return {
        runtime,
        stsEndpoint: emu.stsEndpoint,
        credentialsUri: emu.credentialsUri,
        credentialsUriHeader: { ...FIXTURE.uriHeader },
        oidcTokenUrl: `${origin}/__host/oidc-token`,
        user: { accessKeyId: FIXTURE.user.accessKeyId, accessKeySecret: FIXTURE.user.accessKeySecret },
        roleArn: emu.roleArn(FIXTURE.role),
        untrustedRoleArn: emu.roleArn(FIXTURE.untrustedRole),
        oidcRoleArn: emu.roleArn(FIXTURE.oidcRole),
        oidcProviderArn: emu.oidcProviderArn(FIXTURE.oidcProvider),
      };
    },
    route(path, route) {
      routes.set(path, route);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await emu.close();
    },
  };
}

/** Builds dist/ when it is missing (npm test builds it first: pretest). */
export async function ensureDist(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'index.js')) || !existsSync(join(root, 'dist', 'oss.js'))) {
    await run('npx', ['rollup', '-c', 'rollup.config.mjs'], { cwd: root, timeout: 180_000 });
  }
}

export type Bundle = { text: string; inputs: string[] };

/**
 * The suites (or any entry) bundled for a browser or a Worker: the built package through its
 * exports map (import 'alicred' resolves to dist/ by the package's self-reference), 'vitest'
 * replaced by shim.js.
 */
export async function bundleConformance(entry: string, target: 'browser' | 'workerd'): Promise<Bundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
    alias: { vitest: join(conformanceDir, 'shim.js') },
    // The suites are files of this package, whose package.json says sideEffects: false: without
    // this, esbuild drops all.js's bare imports of them (and the page would run zero cases).
    ignoreAnnotations: true,
    ...(target === 'browser'
      ? { platform: 'browser' as const }
      : // How Wrangler resolves packages for Workers.
        { platform: 'neutral' as const, conditions: ['workerd', 'worker', 'browser'], mainFields: ['browser', 'module', 'main'] }),
  });
  return {
    text: result.outputFiles![0]!.text,
    inputs: Object.keys(result.metafile!.inputs).map((p) => relative(root, resolve(root, p))),
  };
}

// ---------------------------------------------------------------------------
// workerd
// ---------------------------------------------------------------------------

export type Workerd = { url: string; output: () => string; stop: () => Promise<void> };

/** The workerd binary of the `workerd` devDependency, or why it cannot run here. */
export async function probeWorkerd(): Promise<{ bin: string; compatibilityDate: string } | { problem: string }> {
  let pkg: { default: string; compatibilityDate: string };
  try {
    pkg = createRequire(import.meta.url)('workerd') as typeof pkg;
  } catch (error) {
    return { problem: `the workerd package or its platform binary package is not installed: ${(error as Error).message}` };
  }
  if (!existsSync(pkg.default)) return { problem: `workerd binary not found at ${pkg.default}` };
  try {
    await run(pkg.default, ['--version'], { timeout: 20_000 });
  } catch (error) {
    return { problem: `workerd --version failed (${pkg.default}): ${(error as Error).message}` };
  }
  return { bin: pkg.default, compatibilityDate: pkg.compatibilityDate };
}

async function freePort(): Promise<number> {
  const listener = createNetServer();
  await new Promise<void>((ok, fail) => listener.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((ok) => listener.close(() => ok()));
  return port;
}

/**
 * Serves `moduleText` (an ES module Worker) in workerd on 127.0.0.1, without nodejs_compat,
 * its outbound network limited to 127.0.0.1. Resolves once GET /ready answers 'ready'.
 */
export async function startWorkerd(moduleText: string, workerd: { bin: string; compatibilityDate: string }): Promise<Workerd> {
  const dir = await mkdtemp(join(tmpdir(), 'alicred-conformance-workerd-'));
  const port = await freePort();
  await writeFile(join(dir, 'worker.js'), moduleText);
  const text = (value: string) => JSON.stringify(value);
  await writeFile(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["127.0.0.1/32"])),
  ],
  sockets = [ (name = "http", address = ${text(`127.0.0.1:${port}`)}, http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = ${text(workerd.compatibilityDate)},
  compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"],
  globalOutbound = "internet",
);
`,
  );
  let output = '';
  const child: ChildProcess = spawn(workerd.bin, ['serve', join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), 5_000))]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`workerd exited (code ${child.exitCode}, signal ${child.signalCode}) before answering:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok && (await res.text()) === 'ready') return { url, output: () => output, stop };
      last = new Error(`HTTP ${res.status}`);
    } catch (error) {
      last = error;
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await stop();
  throw new Error(`workerd did not answer within 30 s (${String(last)}):\n${output}`);
}

/** Every failing case with its message, for an assertion that shows them all at once. */
export function failures(results: CaseResult[]): string {
  const failed = results.filter((r) => !r.ok);
  return failed.length === 0 ? '' : `${failed.length} of ${results.length} conformance case(s) failed:\n\n${failed.map((r) => `✗ ${r.name}\n    ${(r.error ?? '').replaceAll('\n', '\n    ')}`).join('\n\n')}`;
}
