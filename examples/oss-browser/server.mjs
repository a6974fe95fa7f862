// examples/oss-browser: a browser page uploads to OSS with credentials from a vending endpoint.
//
//   node examples/oss-browser/server.mjs      (after npm run build) prints the page's URL
//
// Three local servers, all on 127.0.0.1:
// - the page: index.html and main.js, bundled for the browser with esbuild (ali-oss through
//   its "browser" field), at http://localhost:<port>/ (any *.localhost is loopback to browsers);
// - the vending endpoint, createVendingHandler mounted with toNodeListener: it knows two
//   users by their session tokens and vends each of them 15-minute STS credentials whose
//   session policy allows only their own prefix of the bucket; CORS for the page's origin;
// - the alicred emulator playing RAM/STS and OSS, with CORS for the page's origin. OSS names
//   the bucket in the host (virtual-hosted style): http://browser-uploads.localhost:<port>.
//
// test/browser.test.ts drives the page in headless Chromium.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { URLSearchParams, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { createVendingHandler, fromStatic } from 'alicred';
import { toNodeListener } from 'alicred/node';
import { startEmulator } from 'alicred/testing';

export const BUCKET = 'browser-uploads';
/** Session tokens of the page's users (your session store, in a real app). */
export const SESSIONS = { 'demo-token-ada': 'ada', 'demo-token-grace': 'grace' };

const here = import.meta.dirname;
const listen = (server) =>
  new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve(server.address().port)));
const close = (server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
};

export async function startOssBrowserExample({ logger } = {}) {
  // The page server first: its origin goes into the CORS lists below.
  const bundle = await build({
    entryPoints: [join(here, 'main.js')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
  });
  const files = {
    '/': { type: 'text/html; charset=utf-8', body: await readFile(join(here, 'index.html')) },
    '/main.js': { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0].contents },
  };
  const page = createServer((req, res) => {
    if (req.url === '/favicon.ico') return void res.writeHead(204).end();
    const file = files[new URL(req.url ?? '/', 'http://localhost').pathname.replace(/^\/index\.html$/, '/')];
    res.writeHead(file ? 200 : 404, { 'content-type': file?.type ?? 'text/plain', 'cache-control': 'no-store' });
    res.end(file?.body ?? 'not found');
  });
  const pagePort = await listen(page);
  const pageOrigin = `http://localhost:${pagePort}`;

  const vendor = { accessKeyId: 'LTAI5tVendorBrowser0001', accessKeySecret: 'vendor-browser-secret-0123456789' };
  const emulator = await startEmulator({
    users: [{ name: 'vendor', ...vendor, policies: [{ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }] }],
    roles: [{ name: 'browser-uploads', trustedUsers: ['vendor'], policies: [{ Statement: [{ Effect: 'Allow', Action: 'oss:*', Resource: `acs:oss:*:*:${BUCKET}/*` }] }] }],
    cors: { allowOrigins: [pageOrigin] },
  });

  const vend = createVendingHandler({
    source: fromStatic(vendor),
    roleArn: emulator.roleArn('browser-uploads'),
    allowOrigins: [pageOrigin],
    authorize: (request) => {
      const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
      const user = token === undefined ? undefined : SESSIONS[token];
      return user === undefined ? null : { sessionName: user };
    },
    // Each user reads and writes only under its own prefix.
    policyFor: (_request, caller) => ({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['oss:PutObject', 'oss:GetObject'], Resource: `acs:oss:*:*:${BUCKET}/${caller.sessionName}/*` }],
    }),
    durationSeconds: 900,
    sts: { endpoint: emulator.stsEndpoint },
    logger,
  });
  const api = createServer(toNodeListener(vend, { logger }));
  const apiPort = await listen(api);

  const vendUrl = `http://127.0.0.1:${apiPort}/vend`;
  const ossEndpoint = `http://localhost:${emulator.port}`;
  const query = new URLSearchParams({ vend: vendUrl, endpoint: ossEndpoint, bucket: BUCKET, key: 'ada/hello.txt' });
  return {
    pageUrl: `${pageOrigin}/?${query}`,
    pageOrigin,
    vendUrl,
    ossEndpoint,
    bucket: BUCKET,
    emulator,
    /** Files esbuild put into main.js, relative to the repository. */
    bundleInputs: Object.keys(bundle.metafile.inputs),
    async close() {
      await Promise.all([close(page), close(api)]);
      await emulator.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const example = await startOssBrowserExample({ logger: console });
  console.log(`open ${example.pageUrl}\nsession tokens: ${Object.keys(SESSIONS).join(', ')} (each may write only under its user's prefix)\nCtrl-C stops`);
  const stop = async () => {
    await example.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
