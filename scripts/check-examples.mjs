// Type-checks every ```ts example: in doc comments under src/ and in README.md. Each example
// becomes a module under .tmp/examples/ that imports alicred by its public names (mapped to
// src/), so an example that names something alicred does not export, or calls it wrongly,
// fails `npm run lint`. Examples must be self-contained and must not import internals.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = join(root, '.tmp', 'examples');

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** ```ts blocks of a text, with the line each starts on; `prefix` strips the doc-comment margin. */
function blocks(text, prefix) {
  const found = [];
  const lines = text.split('\n');
  let open;
  lines.forEach((raw, i) => {
    const line = prefix ? raw.replace(prefix, '') : raw;
    if (open === undefined && /^```ts\s*$/.test(line.trim()) && (!prefix || prefix.test(raw))) open = { start: i + 2, body: [] };
    else if (open !== undefined && line.trim() === '```') {
      found.push(open);
      open = undefined;
    } else if (open !== undefined) open.body.push(line);
  });
  return found;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const origins = new Map();
const problems = [];
let count = 0;
const sources = [...walk(join(root, 'src'))].map((f) => ({ file: f, prefix: /^\s*\*\s?/ }));
sources.push({ file: join(root, 'README.md'), prefix: undefined });
for (const { file, prefix } of sources) {
  const rel = relative(root, file);
  for (const block of blocks(readFileSync(file, 'utf8'), prefix)) {
    const code = block.body.join('\n');
    if (/from\s+['"]\.\.?\//.test(code)) {
      problems.push(`${rel}:${block.start}: an example imports a relative path; use the public names (alicred, alicred/node...)`);
      continue;
    }
    const name = `ex${String(++count).padStart(3, '0')}.ts`;
    origins.set(name, `${rel}:${block.start}`);
    // A leading line keeps line numbers: example line n is file line n + 1.
    writeFileSync(join(out, name), `// ${rel}:${block.start}\n${code}\nexport {};\n`);
  }
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: {
      noEmit: true,
      baseUrl: '.',
      paths: {
        alicred: ['../../src/index.ts'],
        'alicred/node': ['../../src/node/index.ts'],
        'alicred/testing': ['../../src/testing/index.ts'],
        'alicred/tea': ['../../src/adapters/tea.ts'],
        'alicred/redis': ['../../src/stores/redis.ts'],
      },
    },
    include: ['*.ts'],
  }),
);
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { encoding: 'utf8' });
for (const line of tsc.stdout.split('\n')) {
  const m = /^(?:.*[\\/])?(ex\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
  if (m) {
    const [file, start] = origins.get(m[1]).split(':');
    problems.push(`${file}:${Number(start) + Number(m[2]) - 2}: ${m[4]}`);
  } else if (line.trim() !== '' && !/^\s/.test(line) && !line.includes('ex')) problems.push(line);
}
if (problems.length > 0) {
  console.error(`${problems.length} problem(s) in ${count} examples:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`${count} examples type-check`);
