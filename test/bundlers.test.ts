/**
 * Every consumer's bundler resolves the package for the browser: esbuild, rollup (its own
 * resolution plus a tiny exports-map plugin, no @rollup/plugin-node-resolve), webpack 5 and
 * vite 8 each build test/bundlers/consumer.js (refreshing, createCredentials,
 * fromCredentialsUri, fromRamRole) in a scratch project whose node_modules/alicred is this
 * repository (a symlink, as an installed package). Each output must hold no Node built-in and
 * no free `process` identifier (the package's guarded `globalThis.process` read is fine), and
 * must run in headless Chromium (a missing chromium fails with the install command) and leave
 * the consumer's marker with the expected values.
 *
 * `npm test` builds dist/ first (pretest); a missing dist/ is built in beforeAll.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';
import { build as esbuild } from 'esbuild';
import type { Browser } from 'puppeteer-core';
import { rollup, type Plugin, type RollupLog } from 'rollup';
import { parseAst } from 'rollup/parseAst';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumInstalled, launchChromium, openPage, requireChromium } from './browser/chromium.js';
import { ensureDist } from './conformance/host.js';

const root = resolve(import.meta.dirname, '..');
const BUNDLERS = ['esbuild', 'rollup', 'webpack', 'vite'] as const;
type Bundler = (typeof BUNDLERS)[number];

/** What a build left: its JavaScript files (relative to its out dir), or why it failed. */
type Output = { dir: string; scripts: string[]; problems: string[] };

let project = '';
let server: Server | undefined;
let origin = '';
let browser: Browser | undefined;
const outputs = new Map<Bundler, Output>();
const ran = new Map<Bundler, { result: unknown; errors: string[] }>();

// ---------------------------------------------------------------------------
// The four builds
// ---------------------------------------------------------------------------

const pageHtml = (script: string, module: boolean) =>
  `<!doctype html><meta charset="utf-8"><title>alicred bundled</title><script ${module ? 'type="module" ' : ''}src="./${script}"></script>`;

async function buildEsbuild(out: string): Promise<string[]> {
  await esbuild({
    entryPoints: [join(project, 'src', 'consumer.js')],
    absWorkingDir: project,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    outfile: join(out, 'main.js'),
    logLevel: 'silent',
  });
  await writeFile(join(out, 'index.html'), pageHtml('main.js', true));
  return [];
}

/**
 * Resolves 'alicred' and 'alicred/<entry>' the way Node and bundlers read an exports map (the
 * browser, import and default conditions), from the package.json the consumer's
 * node_modules/alicred holds. Relative imports inside dist/ need nothing: rollup resolves them.
 */
function exportsMapResolver(): Plugin {
  return {
    name: 'alicred-exports',
    async resolveId(source, importer) {
      const m = /^alicred(\/.*)?$/.exec(source);
      if (!m || !importer) return null;
      const pkgDir = join(project, 'node_modules', 'alicred');
      const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
      let target: unknown = pkg.exports[`.${m[1] ?? ''}`];
      while (target !== null && typeof target === 'object') {
        const conditions = target as Record<string, unknown>;
        const key = ['browser', 'import', 'default'].find((c) => c in conditions);
        if (key === undefined) return null;
        target = conditions[key];
      }
      return typeof target === 'string' ? resolve(pkgDir, target) : null;
    },
  };
}

async function buildRollup(out: string): Promise<string[]> {
  const warnings: string[] = [];
  const bundle = await rollup({
    input: join(project, 'src', 'consumer.js'),
    plugins: [exportsMapResolver()],
    onwarn: (w: RollupLog) => void warnings.push(`${w.code}: ${w.message}`),
  });
  await bundle.write({ dir: out, format: 'es', entryFileNames: 'main.js', chunkFileNames: '[name]-[hash].js' });
  await bundle.close();
  await writeFile(join(out, 'index.html'), pageHtml('main.js', true));
  // An import left unresolved (a Node built-in among them) becomes external with a warning.
  return warnings;
}

async function buildWebpack(out: string): Promise<string[]> {
  const { default: webpack } = await import('webpack');
  const stats = await new Promise<import('webpack').Stats>((ok, fail) =>
    webpack(
      {
        mode: 'production',
        target: 'web',
        context: project,
        entry: join(project, 'src', 'consumer.js'),
        output: { path: out, filename: 'main.js' },
        devtool: false,
        performance: { hints: false },
        infrastructureLogging: { level: 'none' },
      },
      (error, result) => (error || !result ? fail(error ?? new Error('webpack gave no stats')) : ok(result)),
    ),
  );
  const info = stats.toJson({ all: false, errors: true, warnings: true });
  await writeFile(join(out, 'index.html'), pageHtml('main.js', false));
  return [...(info.errors ?? []), ...(info.warnings ?? [])].map((e) => `webpack: ${e.message}`);
}

async function buildVite(out: string): Promise<string[]> {
  const { build } = await import('vite');
  const warnings: string[] = [];
  await writeFile(join(project, 'index.html'), pageHtml('src/consumer.js', true));
  await build({
    root: project,
    configFile: false,
    envDir: false,
    mode: 'production',
    base: './',
    logLevel: 'silent',
    customLogger: {
      info: () => {},
      warn: (message: string) => void warnings.push(`vite: ${message}`),
      warnOnce: (message: string) => void warnings.push(`vite: ${message}`),
      error: (message: string) => void warnings.push(`vite error: ${message}`),
      clearScreen: () => {},
      hasErrorLogged: () => false,
      hasWarned: false,
    },
    build: { outDir: out, emptyOutDir: true, write: true, reportCompressedSize: false },
  });
  return warnings;
}

const builders: Record<Bundler, (out: string) => Promise<string[]>> = { esbuild: buildEsbuild, rollup: buildRollup, webpack: buildWebpack, vite: buildVite };

async function scriptsIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

// ---------------------------------------------------------------------------
// Checks on the output
// ---------------------------------------------------------------------------

type Node = { type: string; [key: string]: unknown };

/** Places where an identifier `process` is read as a variable (not a property name). */
function freeProcessReads(code: string): string[] {
  const found: string[] = [];
  const visit = (node: unknown, parent: Node | undefined, key: string | undefined) => {
    if (Array.isArray(node)) return node.forEach((child) => visit(child, parent, key));
    if (node === null || typeof node !== 'object' || typeof (node as Node).type !== 'string') return;
    const n = node as Node & { start?: number; name?: string };
    if (n.type === 'Identifier' && n.name === 'process') {
      const asProperty =
        (parent?.type === 'MemberExpression' && key === 'property' && parent.computed === false) ||
        ((parent?.type === 'Property' || parent?.type === 'MethodDefinition' || parent?.type === 'PropertyDefinition') && key === 'key' && parent.computed === false);
      if (!asProperty) found.push(code.slice(Math.max(0, (n.start ?? 0) - 40), (n.start ?? 0) + 40));
    }
    for (const [k, child] of Object.entries(n)) if (k !== 'type' && typeof child === 'object') visit(child, n, k);
  };
  visit(parseAst(code), undefined, undefined);
  return found;
}

const NODE_BUILTIN_IMPORT = /\bfrom\s*["']node:|\brequire\(\s*["'](node:|fs["']|path["']|crypto["']|http["']|os["'])|\bimport\(\s*["']node:|__vite-browser-external/;

// ---------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------

beforeAll(async () => {
  await ensureDist();
  project = await mkdtemp(join(tmpdir(), 'alicred-bundlers-'));
  await mkdir(join(project, 'node_modules'));
  await mkdir(join(project, 'src'));
  await symlink(root, join(project, 'node_modules', 'alicred'), 'dir');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'bundled-consumer', private: true, type: 'module' }));
  await copyFile(join(root, 'test', 'bundlers', 'consumer.js'), join(project, 'src', 'consumer.js'));

  // Without chromium the builds are still checked; each "runs in Chromium" test fails with the
  // install command.
  const launched = chromiumInstalled() ? launchChromium() : undefined;
  // One build at a time: on a loaded 2-core machine, four at once only thrash.
  for (const bundler of BUNDLERS) {
    const dir = join(project, 'out', bundler);
    await mkdir(dir, { recursive: true });
    try {
      const problems = await builders[bundler](dir);
      outputs.set(bundler, { dir, scripts: await scriptsIn(dir), problems });
    } catch (error) {
      outputs.set(bundler, { dir, scripts: [], problems: [`build failed: ${(error as Error).stack ?? String(error)}`] });
    }
  }

  server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const file = resolve(project, 'out', `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!file.startsWith(join(project, 'out') + sep)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const type = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }[extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((ok, fail) => server!.once('error', fail).listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const chromium = (browser = await launched);
  for (const bundler of chromium ? BUNDLERS : []) {
    if (outputs.get(bundler)!.scripts.length === 0) continue;
    const { page, log } = await openPage(chromium!);
    try {
      await page.goto(`${origin}/${bundler}/`, { waitUntil: 'load' });
      await page.waitForFunction(() => (globalThis as { __alicredBundlerResult?: unknown }).__alicredBundlerResult !== undefined, { timeout: 30_000 });
      ran.set(bundler, { result: await page.evaluate(() => (globalThis as { __alicredBundlerResult?: unknown }).__alicredBundlerResult), errors: log.errors });
    } catch (error) {
      ran.set(bundler, { result: undefined, errors: [...log.errors, `page: ${(error as Error).message}`] });
    } finally {
      await page.close();
    }
  }
}, 150_000);

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise<void>((ok) => server!.close(() => ok()));
  if (project) await rm(project, { recursive: true, force: true });
});

describe('package.json for TypeScript consumers without exports support', () => {
  it('typesVersions maps every subpath export to its declarations (node10 resolution; attw checks the rest)', async () => {
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: { types?: string } } | string>;
      typesVersions?: Record<string, Record<string, string[]>>;
    };
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== '.' && k !== './package.json');
    const expected = Object.fromEntries(subpaths.map((k) => [k.slice(2), [(pkg.exports[k] as { import: { types: string } }).import.types]]));
    expect(pkg.typesVersions?.['*']).toEqual(expected);
  });
});

describe('the output checks', () => {
  it('find free process reads and Node built-in imports, and let guarded reads through', () => {
    expect(freeProcessReads('const a = process.env.X; if (typeof process !== "undefined") a;')).toHaveLength(2);
    expect(freeProcessReads('const p = globalThis.process; const o = { process: 1 }; o.process; class C { process() {} }; "process.env"')).toEqual([]);
    expect('import { readFile } from "node:fs";').toMatch(NODE_BUILTIN_IMPORT);
    expect('const fs = require("fs");').toMatch(NODE_BUILTIN_IMPORT);
    expect('throw new Error("no process.env here: pass { env }")').not.toMatch(NODE_BUILTIN_IMPORT);
  });
});

describe.each(BUNDLERS)('%s: a browser consumer of alicred', (bundler) => {
  it('builds without errors or warnings', () => {
    const output = outputs.get(bundler)!;
    expect(output.problems, output.problems.join('\n')).toEqual([]);
    expect(output.scripts.length).toBeGreaterThan(0);
  });

  it('holds no Node built-in and no free process identifier', async () => {
    const output = outputs.get(bundler)!;
    expect(output.scripts.length, output.problems.join('\n')).toBeGreaterThan(0);
    for (const script of output.scripts) {
      const code = await readFile(join(output.dir, script), 'utf8');
      expect(code, `${bundler}/${script}`).not.toMatch(NODE_BUILTIN_IMPORT);
      expect(freeProcessReads(code), `${bundler}/${script} reads a free \`process\``).toEqual([]);
      // The package's own code is in it (the guarded read of the environment included).
      expect(code).toContain('globalThis');
    }
  });

  it('runs in Chromium and leaves the expected marker', () => {
    requireChromium();
    const run = ran.get(bundler);
    expect(run, `${bundler} did not run (see the build test)`).toBeDefined();
    expect(run!.errors).toEqual([]);
    expect(run!.result).toEqual({ ok: true, sourceCalls: 1, sameObject: true, uri: 'STS.uri', role: 'STS.role', signedV3: true, redacted: true, process: 'undefined' });
  });
});
