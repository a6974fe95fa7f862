// Run: npm run build && node examples/chain-and-refresh.mjs
//
// A chain (environment first, then fixed keys) and a custom expiring source made cheap with
// refreshing(): one source call for many callers, refreshed ahead of expiry.
import { chain, createCredentials, fromEnv, fromStatic, refreshing } from '../dist/index.js';

const fallback = fromStatic({ accessKeyId: 'LTAI5tExampleOnly', accessKeySecret: 'example-secret' });
const keys = await chain(fromEnv(), fallback)();
console.log('resolved from', keys.source, '->', keys); // the secret prints as [REDACTED]

// Any function returning expiring credentials, e.g. your own credential-vending endpoint.
let issued = 0;
const vend = async () => {
  issued++;
  await new Promise((r) => setTimeout(r, 20)); // pretend network latency
  return createCredentials({
    accessKeyId: `STS.example-${issued}`,
    accessKeySecret: 'temporary-secret',
    securityToken: 'temporary-token',
    expiration: new Date(Date.now() + 900_000),
    source: 'vending-endpoint',
  });
};

const provider = refreshing(vend, { logger: console });
const all = await Promise.all(Array.from({ length: 1000 }, () => provider()));
console.log(`1000 callers, ${issued} source call(s), all got ${new Set(all.map((c) => c.accessKeyId)).size} key`);
console.log('peek():', provider.peek()?.accessKeyId);
provider.close();
