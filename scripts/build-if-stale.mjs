// Runs the rollup build unless dist/ is newer than everything it is built from, so
// `npm test` after `npm run build` (or a second `npm test`) starts testing at once.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const inputs = ['src', 'rollup.config.mjs', 'package.json', 'package-lock.json', 'tsconfig.json'];
const outputs = ['index', 'node', 'testing', 'tea'].flatMap((n) => ['js', 'cjs', 'd.ts', 'd.cts'].map((e) => `dist/${n}.${e}`));

function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function oldestOutput() {
  let oldest = Number.POSITIVE_INFINITY;
  for (const file of outputs) {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) return 0;
    oldest = Math.min(oldest, stat.mtimeMs);
  }
  return oldest;
}

if (process.env.CI !== 'true' && oldestOutput() > Math.max(...inputs.map(newest))) {
  console.log('dist/ is current; not rebuilding (npm run build forces a build)');
} else {
  const result = spawnSync(process.execPath, ['node_modules/rollup/dist/bin/rollup', '-c', 'rollup.config.mjs'], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
