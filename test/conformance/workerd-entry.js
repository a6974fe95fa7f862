// The conformance suite as a Worker module (bundled by test/conformance/workerd.test.ts the way
// Wrangler bundles, 'vitest' aliased to shim.js; served by workerd without nodejs_compat).
// POST /run with the context as JSON body runs every case within that one request and
// answers { runtime, declared, results }.
import { declared, run } from './shim.js';
import './all.js';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/ready') return new Response('ready');
    if (url.pathname === '/run' && request.method === 'POST') {
      globalThis.__ALICRED_CONFORMANCE__ = await request.json();
      const results = await run();
      return Response.json({
        runtime: {
          userAgent: globalThis.navigator?.userAgent,
          process: typeof globalThis.process,
          Buffer: typeof globalThis.Buffer,
          require: typeof globalThis.require,
          subtle: typeof globalThis.crypto?.subtle?.sign,
        },
        declared: declared(),
        results,
      });
    }
    return new Response(`not found: ${url.pathname}`, { status: 404 });
  },
};
