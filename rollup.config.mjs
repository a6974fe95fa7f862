// Builds the three entries (alicred, alicred/node, alicred/testing) as ESM, CJS and types.
import { copyFile, rm } from 'node:fs/promises';
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { dts } from 'rollup-plugin-dts';

// Start from an empty dist/: chunk names carry hashes, and old ones would otherwise be packed too.
await rm('dist', { recursive: true, force: true });

const input = {
  index: 'src/index.ts',
  node: 'src/node/index.ts',
  testing: 'src/testing/index.ts',
  tea: 'src/adapters/tea.ts',
};

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['src/**/*.ts'],
    // inlineSources: the maps carry the TypeScript they point at (src/ is not shipped).
    compilerOptions: { noEmit: false, declaration: false, outDir: undefined, sourceMap: true, inlineSources: true },
    noEmitOnError: true,
  });

const isNodeBuiltin = (id) => id.startsWith('node:');

export default [
  {
    input,
    // ESM keeps every dependency external: the consumer's bundler resolves them.
    external: (id) => isNodeBuiltin(id) || /^(lru-cache|p-retry|is-network-error|ini|@alicloud\/)/.test(id),
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
    // p-retry (and its one dependency) ship ESM only, so the CJS build carries a copy;
    // lru-cache ships CJS and stays external.
    external: (id) => isNodeBuiltin(id) || /^(lru-cache|ini|@alicloud\/)/.test(id),
    plugins: [nodeResolve({ preferBuiltins: true }), ts()],
    output: {
      dir: 'dist',
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
      exports: 'named',
      sourcemap: true,
    },
  },
  // Types: one self-contained declaration file per entry (no shared chunks, so the .d.cts
  // copies never import an ESM-format .d.ts).
  ...Object.entries(input).map(([name, file]) => ({
    input: file,
    external: (id) => isNodeBuiltin(id) || /^(lru-cache|p-retry|ini|@alicloud\/)/.test(id),
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
