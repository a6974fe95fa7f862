// The conformance suite as a browser page script (bundled by test/browser.test.ts with esbuild,
// 'vitest' aliased to shim.js). The test calls globalThis.__alicredConformance.run(context)
// through puppeteer's page.evaluate and asserts the results.
import { declared, run } from './shim.js';
import './all.js';

globalThis.__alicredConformance = {
  declared,
  async run(context, options) {
    globalThis.__ALICRED_CONFORMANCE__ = context;
    const results = await run(options);
    return {
      runtime: {
        userAgent: globalThis.navigator?.userAgent,
        process: typeof globalThis.process,
        Buffer: typeof globalThis.Buffer,
        require: typeof globalThis.require,
        subtle: typeof globalThis.crypto?.subtle?.sign,
        origin: globalThis.location?.origin,
      },
      declared: declared(),
      results,
    };
  },
};
