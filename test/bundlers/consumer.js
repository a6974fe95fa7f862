// A small browser consumer of the published package, built by every bundler of
// test/bundlers.test.ts (esbuild, rollup, webpack 5, vite 8) from a scratch project whose
// node_modules/alicred is this repository, then run in Chromium. It uses the universal entry
// the way an app would, with a stand-in fetch (no network), and leaves its verdict in
// globalThis.__alicredBundlerResult for the test to read.
import { createCredentials, fromCredentialsUri, fromRamRole, refreshing } from 'alicred';

const HOUR = 3_600_000;

/** Answers like a credentials URI endpoint and like STS AssumeRole, and records what it saw. */
const seen = [];
async function fakeFetch(input, init = {}) {
  const url = new URL(String(input));
  seen.push({ url: url.href, headers: init.headers ?? {} });
  const expiration = new Date(Date.now() + HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const body = url.pathname === '/credentials'
    ? { Code: 'Success', AccessKeyId: 'STS.uri', AccessKeySecret: 'uri-secret-0123456789', SecurityToken: 'uri-token-0123456789', Expiration: expiration }
    : { RequestId: 'req-1', AssumedRoleUser: { Arn: 'acs:ram::1234567890123456:role/app/bundled', AssumedRoleId: '1:bundled' }, Credentials: { AccessKeyId: 'STS.role', AccessKeySecret: 'role-secret-0123456789', SecurityToken: 'role-token-0123456789', Expiration: expiration } };
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
}

async function main() {
  // refreshing + createCredentials: ten concurrent callers, one source call.
  let sourceCalls = 0;
  const base = refreshing(async () => {
    sourceCalls++;
    return createCredentials({ accessKeyId: 'LTAI5tBundled000001', accessKeySecret: 'bundled-secret-0123456789', expiration: new Date(Date.now() + HOUR), source: 'bundled' });
  }, { backgroundTimer: false });
  const all = await Promise.all(Array.from({ length: 10 }, () => base()));

  // fromCredentialsUri (loopback http is allowed; the stand-in fetch answers).
  const uri = fromCredentialsUri({ uri: 'http://127.0.0.1:9/credentials', fetch: fakeFetch });
  const fromUri = await uri();

  // fromRamRole: AssumeRole signed over WebCrypto with the base credentials.
  const role = fromRamRole({ source: base, roleArn: 'acs:ram::1234567890123456:role/app', roleSessionName: 'bundled', sts: { endpoint: 'https://sts.aliyuncs.com', fetch: fakeFetch }, cache: false });
  const fromRole = await role();
  const authorization = seen.find((r) => r.url.startsWith('https://sts.aliyuncs.com/'))?.headers?.Authorization ?? '';

  base.close();
  uri.close();
  role.close();
  return {
    sourceCalls,
    sameObject: all.every((c) => c === all[0]),
    uri: fromUri.accessKeyId,
    role: fromRole.accessKeyId,
    signedV3: /^ACS3-HMAC-SHA256 Credential=LTAI5tBundled000001,SignedHeaders=[a-z0-9;-]+,Signature=[0-9a-f]{64}$/.test(authorization),
    redacted: !JSON.stringify([all[0], fromUri, fromRole]).includes('secret-0123456789') && !String(fromRole).includes('role-token'),
    process: typeof globalThis.process,
  };
}

main().then(
  (result) => {
    globalThis.__alicredBundlerResult = { ok: true, ...result };
  },
  (error) => {
    globalThis.__alicredBundlerResult = { ok: false, error: `${error?.name}: ${error?.message}` };
  },
);
