/**
 * What each promise costs in the two browser bundles of bench/size.mjs.
 *
 * The bundles are rebuilt from src/ (esbuild, the same settings as size.mjs) with one
 * promise at a time replaced by the least code that keeps the module's interface: a
 * function body swapped for a naive one (found with the TypeScript parser, so a renamed
 * function fails the ledger instead of measuring nothing). Each row says what the promise
 * weighs alone, and what the bundle would weigh with it and every row above it gone.
 * The stand-ins are for measuring only: each one breaks a rule the tests hold.
 *
 *   node bench/size-ledger.mjs          # prints the table (npm run bench adds it to BENCHMARKS.md)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import ts from 'typescript';
import { BROWSER_BUNDLE } from './size.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Each promise: where it lives, and the naive body each function gets without it.
 * `fn` is a function name, or `Class.method`.
 */
export const PROMISES = [
  {
    name: 'redaction of foreign text (secrets, URL queries, key-like runs in server and fetch messages)',
    cut: [
      { file: 'src/internal/redact.ts', fn: 'scrubSecrets', body: '{ return text; }' },
      { file: 'src/internal/redact.ts', fn: 'dropPartialSecret', body: '{ return cut; }' },
      { file: 'src/internal/redact.ts', fn: 'stripUrlSecrets', body: '{ return text; }' },
      { file: 'src/internal/redact.ts', fn: 'sanitizeText', body: '{ return text.slice(0, max); }' },
      { file: 'src/internal/redact.ts', fn: 'bodyExcerpt', body: '{ return text.slice(0, options.max ?? 200); }' },
      { file: 'src/internal/redact.ts', fn: 'sanitizeError', body: '{ return error as Error; }' },
      { file: 'src/internal/redact.ts', fn: 'describeFailure', body: '{ return String((error as Error)?.message ?? error); }' },
    ],
  },
  {
    name: 'option checks (typed ConfigError naming the field, for every option)',
    cut: [
      { file: 'src/refresh-options.ts', fn: 'checkRefreshOptions', body: '{}' },
      { file: 'src/refresh-options.ts', fn: 'checkMinValidity', body: '{ return (value as number) ?? 0; }' },
      { file: 'src/internal/validate-options.ts', fn: 'checkTimeout', body: '{ return value as number; }' },
      { file: 'src/internal/validate-options.ts', fn: 'positiveNumber', body: '{ return (value as number) ?? fallback; }' },
      { file: 'src/providers/credentials-uri.ts', fn: 'checkHeaders', body: '{ return { ...headers }; }' },
      { file: 'src/sts/validate.ts', fn: 'validateAssumeRoleParams', body: '{}' },
      { file: 'src/sts/validate.ts', fn: 'validateSourceCredentials', body: '{}' },
      { file: 'src/sts/validate.ts', fn: 'validateRoleArn', body: '{}' },
    ],
  },
  {
    name: 'strict dates (ISO 8601 and the three HTTP-date forms, calendar-checked)',
    cut: [
      { file: 'src/sts/time.ts', fn: 'parseStsTime', body: '{ const n = Date.parse(String(value)); return Number.isNaN(n) ? undefined : n; }' },
      { file: 'src/sts/time.ts', fn: 'parseHttpDate', body: '{ const n = Date.parse(String(value)); return Number.isNaN(n) ? undefined : n; }' },
      { file: 'src/sts/time.ts', fn: 'parseAge', body: '{ return value ? Number(value) : undefined; }' },
    ],
  },
  {
    name: 'debug traces and warnings (engine events as log lines)',
    cut: [
      { file: 'src/refresh-engine.ts', fn: 'describe', body: "{ return e.type; }" },
      { file: 'src/refresh-engine.ts', fn: 'RefreshEngine.#debug', body: '{}' },
      { file: 'src/refresh-engine.ts', fn: 'RefreshEngine.#warn', body: '{}' },
    ],
  },
  {
    name: 'browser capabilities of fromCredentialsUri (relative URI, NetworkOrCorsError)',
    cut: [
      { file: 'src/providers/credentials-uri.ts', fn: 'pageLocation', body: '{ return undefined; }' },
      { file: 'src/providers/credentials-uri.ts', fn: 'fetchError', body: '{ return defaultError(PROVIDER)(failure); }' },
    ],
  },
  {
    name: 'credentials checks and redacting print forms (inspect, JSON, toString)',
    cut: [
      { file: 'src/credentials.ts', fn: 'credentialsProblem', body: '{ return undefined; }' },
      { file: 'src/credentials.ts', fn: 'printable', body: '{ return { accessKeyId: c.accessKeyId }; }' },
    ],
  },
  {
    name: 'instanceof across copies of alicred (error brands)',
    cut: [
      { file: 'src/errors.ts', fn: 'hasInstance', body: '{ return Function.prototype[Symbol.hasInstance].call(cls, value); }' },
      { file: 'src/errors.ts', fn: 'brand', body: '{}' },
    ],
  },
  {
    name: 'network failures told from bugs (runtime messages and codes: retry or not)',
    cut: [{ file: 'src/internal/network-error.ts', fn: 'isNetworkFailure', body: "{ return (error as Error)?.name === 'TypeError'; }" }],
  },
  {
    name: 'body cap (a streaming read that stops at 1 MiB)',
    cut: [{ file: 'src/internal/http.ts', fn: 'readBody', body: '{ return response.text(); }' }],
  },
  {
    name: 'transport rule (https, or http to loopback only; no user info)',
    cut: [
      { file: 'src/sts/endpoints.ts', fn: 'isLoopbackHost', body: "{ return host === 'localhost' || host === '127.0.0.1'; }" },
      { file: 'src/providers/credentials-uri.ts', fn: 'validateCredentialsUri', body: '{ return new URL(raw); }' },
      { file: 'src/sts/endpoints.ts', fn: 'parseEndpoint', body: "{ const url = new URL(raw.includes('://') ? raw : `https://${raw}`); return { url: url.origin, host: url.host, source }; }" },
    ],
  },
  {
    name: 'STS error answers read (JSON and XML bodies, retryable codes, signature hint)',
    cut: [
      { file: 'src/sts/errors.ts', fn: 'parseErrorBody', body: '{ try { return JSON.parse(body); } catch { return undefined; } }' },
      { file: 'src/sts/errors.ts', fn: 'isRetryableStsCode', body: '{ return httpStatus !== undefined && httpStatus >= 500; }' },
      { file: 'src/sts/errors.ts', fn: 'signatureHint', body: "{ return ''; }" },
    ],
  },
];

/** The source of `file` with each cut's function body replaced; throws for a name not found. */
function cutSource(file, cuts) {
  const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const spans = [];
  for (const cut of cuts) {
    const [outer, inner] = cut.fn.split('.');
    let found;
    const visit = (node, className) => {
      if (found) return;
      if (inner === undefined && ts.isFunctionDeclaration(node) && node.name?.text === outer) found = node;
      else if (inner !== undefined && ts.isMethodDeclaration(node) && className === outer && node.name.getText(sf) === inner) found = node;
      const name = ts.isClassDeclaration(node) ? node.name?.text : className;
      ts.forEachChild(node, (child) => visit(child, name));
    };
    visit(sf, undefined);
    if (!found?.body) throw new Error(`size-ledger: no function ${cut.fn} with a body in ${file}`);
    spans.push({ start: found.body.getStart(sf), end: found.body.getEnd(), body: cut.body });
  }
  spans.sort((a, b) => b.start - a.start);
  let out = text;
  for (const s of spans) out = out.slice(0, s.start) + s.body + out.slice(s.end);
  return out;
}

/** Bundles `entry` from src/ with the given promises cut; gzip -9 size in bytes. */
export async function bundleWithout(entry, promises) {
  const byFile = new Map();
  for (const p of promises) for (const c of p.cut) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c]);
  const plugin = {
    name: 'cut-promises',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const rel = args.path.slice(ROOT.length).replaceAll('\\', '/');
        const cuts = byFile.get(rel);
        if (!cuts) return undefined;
        return { contents: cutSource(rel, cuts), loader: 'ts' };
      });
    },
  };
  const result = await build({
    stdin: { contents: entry, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
    ...BROWSER_BUNDLE,
    plugins: [plugin],
  });
  return { gzip: gzipSync(result.outputFiles[0].contents, { level: 9 }).length };
}

export const LEDGER_ENTRIES = [
  { name: 'refreshing + fromCredentialsUri', entry: "export { refreshing, fromCredentialsUri } from './src/index.ts';", goal: 6 * 1024 },
  { name: 'fromRamRole', entry: "export { fromRamRole } from './src/index.ts';", goal: 15 * 1024 },
];

/** For each bundle: its size from src/, then per promise the bytes it weighs alone and what is left with it and all above it cut. */
export async function sizeLedger() {
  const bundles = [];
  for (const e of LEDGER_ENTRIES) {
    const whole = (await bundleWithout(e.entry, [])).gzip;
    const rows = [];
    for (let i = 0; i < PROMISES.length; i++) {
      const alone = await bundleWithout(e.entry, [PROMISES[i]]);
      const upTo = await bundleWithout(e.entry, PROMISES.slice(0, i + 1));
      rows.push({ promise: PROMISES[i].name, alone: whole - alone.gzip, left: upTo.gzip });
    }
    bundles.push({ ...e, whole, rows });
  }
  return bundles;
}

/** The ledger as a Markdown table. */
export function ledgerTable(bundles) {
  const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
  const head = ['promise cut (cumulative, top to bottom)', ...bundles.flatMap((b) => [`${b.name}: alone`, `${b.name}: left`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  lines.push(`| nothing cut (from src/) | ${bundles.map((b) => `— | ${kb(b.whole)}`).join(' | ')} |`);
  for (let i = 0; i < PROMISES.length; i++) {
    const cells = bundles.map((b) => {
      const r = b.rows[i];
      return `${r.alone} B | ${kb(r.left)}`;
    });
    lines.push(`| ${PROMISES[i].name} | ${cells.join(' | ')} |`);
  }
  lines.push(`| goal | ${bundles.map((b) => `— | ${kb(b.goal)}`).join(' | ')} |`);
  return lines.join('\n');
}

/** One sentence per bundle: how many promises must go before it meets its goal, if any number does. */
export function ledgerSummary(bundles) {
  return bundles
    .map((b) => {
      const at = b.rows.findIndex((r) => r.left <= b.goal);
      if (b.whole <= b.goal) return `\`${b.name}\` meets its goal with every promise kept.`;
      if (at === -1) return `\`${b.name}\` does not reach its goal even with all ${PROMISES.length} promises cut.`;
      return `\`${b.name}\` reaches its goal only with the first ${at + 1} promises of the table cut.`;
    })
    .join(' ');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bundles = await sizeLedger();
  console.log(ledgerTable(bundles));
  console.log(ledgerSummary(bundles));
}
