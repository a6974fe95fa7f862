/**
 * The peer under test: @alicloud/credentials' RAMRoleARNCredentialsProvider (the RAM role
 * provider that calls STS AssumeRole), wired to an in-process fake STS.
 *
 * What is faked, and why the comparison stays fair:
 * - Only the network call is replaced: the provider's own instance field `doRequest` (the
 *   hook the peer keeps "for mock"), before the first call. Everything the peer does around
 *   it runs unchanged: its refresh decisions (SessionCredentialProvider in session.js), the
 *   AssumeRole request building and HMAC-SHA1 signing, and the parsing of the response.
 * - The fake waits the same delay as alicred's fake source (a setTimeout of `delayMs`, or
 *   nothing at all when 0, like fakeCredentialSource) and answers what STS answers:
 *   HTTP 200, a JSON content type, and a body with RequestId, AssumedRoleUser and
 *   Credentials {AccessKeyId, AccessKeySecret, SecurityToken, Expiration}, the expiration in
 *   STS's second-precision UTC form 'YYYY-MM-DDTHH:mm:ssZ', computed from the request's
 *   DurationSeconds and the current Date.now() (so a test that simulates time by replacing
 *   Date.now sees the same clock as the peer).
 * - The role is assumed from a static AccessKey (no ECS metadata, no file, no env lookup).
 *
 * Each fake network call is counted; that count is the peer's "source calls".
 */
import { createRequire } from 'node:module';
import { assumeRoleAnswer } from './fake-sts.mjs';

const require = createRequire(import.meta.url);

/** Loads the peer lazily, after bench/guard.mjs has set the environment. */
function loadPeer() {
  const mod = require('@alicloud/credentials');
  const pick = (name) => mod[name] ?? mod.default?.[name];
  const RAMRoleARNCredentialsProvider = pick('RAMRoleARNCredentialsProvider');
  const StaticAKCredentialsProvider = pick('StaticAKCredentialsProvider');
  if (typeof RAMRoleARNCredentialsProvider?.builder !== 'function' || typeof StaticAKCredentialsProvider?.builder !== 'function') {
    throw new Error('bench: could not find RAMRoleARNCredentialsProvider / StaticAKCredentialsProvider in @alicloud/credentials');
  }
  const version = require('@alicloud/credentials/package.json').version;
  return { RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider, version };
}

/**
 * An in-process stand-in for the STS AssumeRole endpoint, with the shape of the value the
 * peer's http.doRequest resolves to ({ statusCode, headers, body: Buffer }).
 */
export function fakeStsDoRequest({ delayMs = 0 } = {}) {
  let calls = 0;
  async function doRequest(request) {
    calls++;
    const n = calls;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const form = request?.bodyForm ?? {};
    const durationSeconds = Number(form.DurationSeconds ?? 3600);
    const roleArn = String(form.RoleArn ?? 'acs:ram::1234567890123456:role/bench');
    const sessionName = String(form.RoleSessionName ?? 'bench');
    const body = assumeRoleAnswer(n, { durationSeconds, roleArn, sessionName });
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json;charset=utf-8' },
      body: Buffer.from(JSON.stringify(body), 'utf8'),
    };
  }
  return Object.defineProperty(doRequest, 'calls', { get: () => calls });
}

/**
 * A fresh peer RAM role provider whose network call is the fake. Returns the provider,
 * the fake (for its call count) and the peer's version.
 */
export function createPeerRoleProvider({ durationSeconds, delayMs }) {
  const { RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider, version } = loadPeer();
  const sourceAk = StaticAKCredentialsProvider.builder()
    .withAccessKeyId('LTAI-bench-static')
    .withAccessKeySecret('bench-static-secret')
    .build();
  const provider = RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(sourceAk)
    .withRoleArn('acs:ram::1234567890123456:role/bench')
    .withRoleSessionName('bench')
    .withDurationSeconds(durationSeconds)
    .withStsEndpoint('sts.invalid') // never contacted: doRequest is replaced below
    .build();
  if (typeof provider.doRequest !== 'function') {
    throw new Error('bench: the peer provider has no doRequest instance field to replace');
  }
  const fake = fakeStsDoRequest({ delayMs });
  provider.doRequest = fake;
  return { provider, fake, version };
}

/**
 * The peer's Tea-facing object, built the way applications build it: `new Credential(config)`
 * with type ram_role_arn over a static AccessKey. Its inner RAMRoleARNCredentialsProvider's
 * `doRequest` is then replaced by the fake, as in createPeerRoleProvider.
 */
export function createPeerTeaCredential({ durationSeconds, delayMs, roleArn = 'acs:ram::1234567890123456:role/bench-tea' }) {
  const mod = require('@alicloud/credentials');
  const Credential = mod.default ?? mod;
  const credential = new Credential({
    type: 'ram_role_arn',
    accessKeyId: 'LTAI-bench-static',
    accessKeySecret: 'bench-static-secret',
    roleArn,
    roleSessionName: 'bench',
    roleSessionExpiration: durationSeconds,
    stsEndpoint: 'sts.invalid', // never contacted: doRequest is replaced below
  });
  const inner = credential.credential?.provider;
  if (typeof inner?.doRequest !== 'function') {
    throw new Error('bench: the peer Credential has no inner provider with a doRequest field to replace');
  }
  const fake = fakeStsDoRequest({ delayMs });
  inner.doRequest = fake;
  return { credential, fake, version: loadPeer().version };
}
