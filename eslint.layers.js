// The import-direction rule: a module in src/ imports only from its own layer or layers to
// its left (ARCHITECTURE.md, "Layers"):
//   internal, types, credentials, errors → sts → refresh → cache → chain, providers
//   → node, adapters, stores, vending, cli → the entries
// src/testing/ judges our code, so it may import only the public entries and internal
// helpers (type-only imports aside: they share no code).
import { dirname, relative, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, 'src');

/** Layer rank of a file under src/, or undefined for files outside it. */
function rank(file) {
  const rel = relative(SRC, file).replaceAll('\\', '/');
  if (rel.startsWith('..')) return undefined;
  if (/^(internal\/|types\.ts$|credentials\.ts$|errors\.ts$)/.test(rel)) return 0;
  if (rel.startsWith('sts/')) return 1;
  if (/^refresh(-options|-engine)?\.ts$/.test(rel)) return 2;
  if (rel === 'cache.ts' || rel === 'cache-store.ts') return 3;
  if (rel === 'chain.ts' || rel.startsWith('providers/')) return 4;
  if (/^(node\/(?!index\.ts$)|adapters\/|stores\/|cli\/)/.test(rel) || rel === 'vending.ts') return 5;
  if (rel === 'index.ts' || rel === 'node/index.ts') return 6;
  if (rel.startsWith('testing/')) return 'testing';
  return undefined;
}

const TESTING_MAY_IMPORT = /^(index\.ts|node\/index\.ts|adapters\/[^/]+\.ts|internal\/.+|testing\/.+)$/;

export const layersPlugin = {
  rules: {
    'import-direction': {
      meta: { type: 'problem', schema: [], messages: { up: '{{from}} (layer {{a}}) must not import {{to}} (layer {{b}}): imports go only leftwards', testing: 'src/testing/ judges our code: import {{to}} through a public entry instead' } },
      create(context) {
        const file = context.filename;
        const own = rank(file);
        if (own === undefined) return {};
        const check = (node, source, typeOnly) => {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const target = resolve(dirname(file), source.replace(/\.js$/, '.ts'));
          const theirs = rank(target);
          if (theirs === undefined) return;
          const to = relative(SRC, target).replaceAll('\\', '/');
          const from = relative(SRC, file).replaceAll('\\', '/');
          if (own === 'testing') {
            if (!typeOnly && !TESTING_MAY_IMPORT.test(to)) context.report({ node, messageId: 'testing', data: { to } });
            return;
          }
          if (theirs === 'testing' || theirs > own) context.report({ node, messageId: 'up', data: { from, to, a: String(own), b: String(theirs) } });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value, node.importKind === 'type'),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, node.exportKind === 'type'),
          ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value, false),
        };
      },
    },
  },
};
