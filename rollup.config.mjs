// Builds the entries (alicred, alicred/node, alicred/testing, alicred/tea) as ESM, CJS and types.
// TypeScript is stripped by esbuild (fast, per file); type-checking is `npm run lint`'s job.
import { existsSync } from 'node:fs';
import { chmod, copyFile, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { transform } from 'esbuild';
import { dts } from 'rollup-plugin-dts';

// Start from an empty dist/: chunk names carry hashes, and old ones would otherwise be packed too.
await rm('dist', { recursive: true, force: true });

const input = {
  index: 'src/index.ts',
  node: 'src/node/index.ts',
  testing: 'src/testing/index.ts',
  tea: 'src/adapters/tea.ts',
  tablestore: 'src/adapters/tablestore.ts',
  oss: 'src/adapters/oss.ts',
  'pop-core': 'src/adapters/pop-core.ts',
  redis: 'src/stores/redis.ts',
};

/** TypeScript to JavaScript, one file at a time, with a source map that carries the source. */
const ts = () => ({
  name: 'esbuild-ts',
  resolveId(source, importer) {
    // Sources import './x.js' (nodenext style); the file on disk is './x.ts'.
    if (!importer || !source.startsWith('.') || !source.endsWith('.js')) return null;
    const candidate = resolve(dirname(importer), `${source.slice(0, -3)}.ts`);
    return existsSync(candidate) ? candidate : null;
  },
  async transform(code, id) {
    if (!id.endsWith('.ts')) return null;
    const out = await transform(code, {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
      sourcemap: 'external',
      sourcefile: id,
      sourcesContent: true,
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: true } },
    });
    return { code: out.code, map: out.map };
  },
});

const isNodeBuiltin = (id) => id.startsWith('node:');

export default [
  {
    input,
    // ESM keeps every dependency external: the consumer's bundler resolves them.
    external: (id) => isNodeBuiltin(id) || /^(ini|@alicloud\/|tablestore|ali-oss)/.test(id),
    plugins: [ts()],
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      sourcemap: true,
    },
  },
  {
    input,
    external: (id) => isNodeBuiltin(id) || /^(ini|@alicloud\/|tablestore|ali-oss)/.test(id),
    plugins: [ts()],
    output: {
      dir: 'dist',
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
      exports: 'named',
      sourcemap: true,
    },
  },
  // The command: ESM only, no declarations; alicred/* stay imports of the package itself
  // (dist/testing.js is loaded lazily by `alicred emulator`).
  {
    input: { cli: 'src/cli/main.ts' },
    external: (id) => isNodeBuiltin(id) || /^(ini|@alicloud\/|tablestore|ali-oss|alicred\/)/.test(id),
    plugins: [ts(), { name: 'cli-mode', async writeBundle() { await chmod('dist/cli.js', 0o755); } }],
    output: {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/cli-[name]-[hash].js',
      banner: '#!/usr/bin/env node',
      sourcemap: true,
    },
  },
  // Types: one self-contained declaration file per entry (no shared chunks, so the .d.cts
  // copies never import an ESM-format .d.ts).
  ...Object.entries(input).map(([name, file]) => ({
    input: file,
    external: (id) => isNodeBuiltin(id) || /^(ini|@alicloud\/|tablestore|ali-oss)/.test(id),
    plugins: [
      dts({ tsconfig: './tsconfig.json' }),
      {
        name: 'cts-copy',
        // CJS consumers resolve .d.cts next to .cjs; the declarations are identical.
        async writeBundle() {
          await copyFile(`dist/${name}.d.ts`, `dist/${name}.d.cts`);
        },
      },
    ],
    output: { file: `dist/${name}.d.ts`, format: 'es' },
  })),
];
