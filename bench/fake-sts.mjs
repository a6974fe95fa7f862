/* global URLSearchParams -- a Node global the shared eslint globals list lacks */
/**
 * An in-process STS AssumeRole endpoint for alicred's STS client, passed as its `fetch`
 * option: the same answer (HTTP 200, JSON, RequestId / AssumedRoleUser / Credentials with a
 * second-precision UTC Expiration from DurationSeconds) and the same delay semantics as
 * peer.mjs' fake for the peer, so both libraries sign, send and parse a real-shaped exchange
 * and nothing reaches the network (the global fetch stays the guard's tripwire).
 */

/** STS' Expiration format: UTC, whole seconds. */
function stsTimestamp(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The body STS answers AssumeRole with: the same for both libraries' fakes, the expiration
 * computed from DurationSeconds and the current Date.now (so simulated time reaches it).
 */
export function assumeRoleAnswer(n, { durationSeconds, roleArn, sessionName }) {
  return {
    RequestId: `BENCH-${String(n).padStart(8, '0')}-0000-0000-000000000000`,
    AssumedRoleUser: {
      Arn: `${roleArn.replace(':role/', ':assumed-role/')}/${sessionName}`,
      AssumedRoleId: `3000000000000000${n}:${sessionName}`,
    },
    Credentials: {
      SecurityToken: `CAIS-bench-token-${n}`,
      AccessKeyId: `STS.bench-${n}`,
      AccessKeySecret: `bench-secret-${n}`,
      Expiration: stsTimestamp(Date.now() + durationSeconds * 1000),
    },
  };
}

/** A fetch-compatible function answering AssumeRole; `.calls` counts requests. */
export function fakeStsFetch({ delayMs = 0 } = {}) {
  let calls = 0;
  async function fetchFake(url, init = {}) {
    calls++;
    const n = calls;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    // V3 signing puts the operation parameters in the query; V1 in a form body. Read both.
    const params = new URLSearchParams(new URL(String(url)).search);
    if (typeof init.body === 'string') for (const [k, v] of new URLSearchParams(init.body)) params.set(k, v);
    const durationSeconds = Number(params.get('DurationSeconds') ?? 3600);
    const roleArn = params.get('RoleArn') ?? 'acs:ram::1234567890123456:role/bench';
    const sessionName = params.get('RoleSessionName') ?? 'bench';
    const body = assumeRoleAnswer(n, { durationSeconds, roleArn, sessionName });
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json;charset=utf-8' },
    });
  }
  return Object.defineProperty(fetchFake, 'calls', { get: () => calls });
}

/** The static AccessKey both libraries assume roles from. */
export const SOURCE_KEY = { accessKeyId: 'LTAI-bench-static', accessKeySecret: 'bench-static-secret' };
