/**
 * Browser bundle sizes: an entry of one `export { ... } from '...'` line, bundled with the
 * esbuild API into memory (bundle, minify, format esm, platform browser: esbuild applies the
 * package.json "browser" maps), then gzip level 9 with node:zlib. alicred resolves through
 * its own package.json "exports" to the built dist/.
 *
 * AWS references: fromHttp from @aws-sdk/credential-provider-http (its "browser" map sends
 * the index and fromHttp to their .browser files), and fromTemporaryCredentials from the file
 * @aws-sdk/credential-providers' "browser" map names for it (fromTemporaryCredentials.browser),
 * imported directly: esbuild does not apply that package's map to its main entry.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** The esbuild settings of every size row (bench/size-ledger.mjs uses them too). */
export const BROWSER_BUNDLE = { bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' };

/** Gzip -9 size (and raw minified size) of `contents` bundled for the browser. */
export async function bundleSize(contents) {
  const result = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js', sourcefile: 'entry.js' },
    ...BROWSER_BUNDLE,
  });
  const bytes = result.outputFiles[0].contents;
  return { minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** The browser file of @aws-sdk/credential-providers' fromTemporaryCredentials, from its own map. */
function awsTemporaryCredentialsEntry() {
  const pkgPath = require.resolve('@aws-sdk/credential-providers/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  const mapped = pkg.browser?.['./dist-es/fromTemporaryCredentials'];
  if (typeof mapped !== 'string') throw new Error('size: no browser mapping for fromTemporaryCredentials in @aws-sdk/credential-providers');
  return `@aws-sdk/credential-providers/${mapped.replace(/^\.\//, '')}.js`;
}

export const SIZE_CASES = [
  {
    name: 'refreshing + fromCredentialsUri',
    ours: "export { refreshing, fromCredentialsUri } from 'alicred';",
    reference: 'AWS fromHttp',
    peer: () => "export { fromHttp } from '@aws-sdk/credential-provider-http';",
    goalBytes: 6 * 1024,
  },
  {
    name: 'fromRamRole',
    ours: "export { fromRamRole } from 'alicred';",
    reference: 'AWS fromTemporaryCredentials',
    peer: () => `export { fromTemporaryCredentials } from '${awsTemporaryCredentialsEntry()}';`,
    goalBytes: 15 * 1024,
  },
];

export async function benchSize() {
  const versions = {
    http: require('@aws-sdk/credential-provider-http/package.json').version,
    providers: require('@aws-sdk/credential-providers/package.json').version,
  };
  const rows = [];
  for (const c of SIZE_CASES) {
    const ours = await bundleSize(c.ours);
    const peer = await bundleSize(c.peer());
    rows.push({ ...c, oursSize: ours, peerSize: peer, ratio: ours.gzip / peer.gzip });
  }
  return { rows, versions };
}
