// STS request signing on the built package, over each runtime's WebCrypto: the official
// reference vectors of test/sts-sign.test.ts (sts-api.md §3.4 and §4.4) reproduced byte for byte
// by createStsClient itself. The vector's timestamp comes from the client's `clock` option and
// its nonce from crypto.randomUUID (replaced for the one call); a capturing `fetch` keeps the
// request on this side (nothing is sent) and answers like STS.
import { createCredentials, createStsClient } from 'alicred';
import { describe, expect, it } from 'vitest';

// Shared inputs of the STS vectors (the same constants as test/sts-sign.test.ts).
const STS_AK = 'LTAI5tFAKEFAKEFAKE0001';
const STS_SECRET = 'FakeSecret0123456789abcdefABCDE';
const STS_TIMESTAMP = '2025-01-15T08:00:00Z';
const STS_NONCE = '3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b';
const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SIX_HEADERS = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version';

const authorizationOf = (ak, signedHeaders, signature) => `ACS3-HMAC-SHA256 Credential=${ak},SignedHeaders=${signedHeaders},Signature=${signature}`;

/** Runs `fn` with crypto.randomUUID answering `nonce`; restores it afterwards. */
async function withNonce(nonce, fn) {
  const c = globalThis.crypto;
  const own = Object.getOwnPropertyDescriptor(c, 'randomUUID');
  try {
    Object.defineProperty(c, 'randomUUID', { value: () => nonce, configurable: true, writable: true });
  } catch (error) {
    throw new Error(`cannot pin the nonce in this runtime (crypto.randomUUID is not replaceable): ${error}`);
  }
  try {
    return await fn();
  } finally {
    if (own) Object.defineProperty(c, 'randomUUID', own);
    else delete c.randomUUID;
  }
}

/** A fetch that records each request and answers like STS (AssumeRole or GetCallerIdentity). */
function capturingFetch() {
  const requests = [];
  const fetch = async (input, init = {}) => {
    const headers = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
    requests.push({ url: String(input), method: init.method, headers, body: init.body === undefined ? undefined : String(init.body) });
    const action = headers['x-acs-action'] ?? new URL(String(input)).searchParams.get('Action');
    const body =
      action === 'GetCallerIdentity'
        ? { RequestId: 'vec-req', AccountId: '123456789012', UserId: '300000000000000001', Arn: 'acs:ram::123456789012:assumed-role/test-role/vector-session', IdentityType: 'AssumedRoleUser', PrincipalId: '300000000000000001:vector-session', RoleId: '300000000000000001' }
        : {
            RequestId: 'vec-req',
            AssumedRoleUser: { Arn: `${ROLE_ARN}/vector-session`, AssumedRoleId: '300000000000000001:vector-session' },
            Credentials: { AccessKeyId: 'STS.vector', AccessKeySecret: 'vector-secret-0123456789', SecurityToken: 'vector-token-0123456789', Expiration: '2025-01-15T09:00:00Z' },
          };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, requests };
}

const vectorClock = () => Date.parse(STS_TIMESTAMP);
const caller = createCredentials({ accessKeyId: STS_AK, accessKeySecret: STS_SECRET, source: 'vector' });

describe('STS signing: official vectors through createStsClient', () => {
  it('§4.4 vector E: V3 AssumeRole, the six standard headers', async () => {
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ endpoint: 'https://sts.aliyuncs.com', fetch, clock: vectorClock });
    const result = await withNonce(STS_NONCE, () =>
      sts.assumeRoleDetailed(caller, { roleArn: ROLE_ARN, roleSessionName: 'vector-session', durationSeconds: 3600 }),
    );
    expect(requests).toHaveLength(1);
    const [r] = requests;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://sts.aliyuncs.com/?RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600');
    expect(r.headers).toMatchObject({
      'x-acs-action': 'AssumeRole',
      'x-acs-version': '2015-04-01',
      'x-acs-date': STS_TIMESTAMP,
      'x-acs-signature-nonce': STS_NONCE,
      'x-acs-content-sha256': EMPTY_BODY_SHA256,
    });
    expect(r.headers.authorization).toBe(
      authorizationOf(STS_AK, SIX_HEADERS, 'b1a76f706f13243493b9f36ae6e507d6091b458487962d6d80d8ae2c7c0f3aab'),
    );
    expect(r.headers['x-acs-security-token']).toBeUndefined();
    expect(result.credentials.accessKeyId).toBe('STS.vector');
    expect(result.statedExpiration.toISOString()).toBe('2025-01-15T09:00:00.000Z');
    expect(result.requestId).toBe('vec-req');
  });

  it('§4.4 vector G: V3 GetCallerIdentity by an STS caller (token signed), regional endpoint', async () => {
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ region: 'cn-hangzhou', env: {}, fetch, clock: vectorClock });
    const stsCaller = createCredentials({ accessKeyId: 'STS.NFakeAK', accessKeySecret: 'FakeStsSecret', securityToken: 'CAISFakeToken', source: 'vector' });
    const identity = await withNonce('0a1b2c3d4e5f60718293a4b5c6d7e8f9', () => sts.getCallerIdentity(stsCaller));
    const [r] = requests;
    expect(r.url).toBe('https://sts.cn-hangzhou.aliyuncs.com/');
    expect(r.headers['x-acs-security-token']).toBe('CAISFakeToken');
    expect(r.headers['x-acs-accesskey-id']).toBe('STS.NFakeAK');
    expect(r.headers.authorization).toBe(
      authorizationOf(
        'STS.NFakeAK',
        'host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version',
        'd6bfa5a66a99eb08eee19f081443b93d98d6730de6324aca0d051a51371c6882',
      ),
    );
    expect(identity.accountId).toBe('123456789012');
  });

  it('§3.4 vector C: V1 (HMAC-SHA1) AssumeRole, parameters in a form body', async () => {
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ endpoint: 'https://sts.aliyuncs.com', fetch, clock: vectorClock, signatureVersion: 'v1' });
    await withNonce('7f1e2d3c4b5a69788796a5b4c3d2e1f0', () =>
      sts.assumeRole(caller, { roleArn: ROLE_ARN, roleSessionName: 'vector-session', durationSeconds: 3600 }),
    );
    const [r] = requests;
    const query = Object.fromEntries(new URL(r.url).searchParams);
    expect(query).toMatchObject({
      Action: 'AssumeRole',
      Version: '2015-04-01',
      Format: 'JSON',
      Timestamp: STS_TIMESTAMP,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: '7f1e2d3c4b5a69788796a5b4c3d2e1f0',
      AccessKeyId: STS_AK,
    });
    expect(query.Signature).toBe('59koNgw2dP6n0sfXc5kSr27wYAw=');
    expect(r.url).toContain('&Signature=59koNgw2dP6n0sfXc5kSr27wYAw%3D');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.body).toBe('RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600');
    expect(r.headers.authorization).toBeUndefined();
  });

  it('§3.4 vector D\'s ExternalId (reserved and non-ASCII characters) is refused before any request', async () => {
    // The vector exercises percent-encoding; STS accepts only [\w+=,.@:/-] in ExternalId, and the
    // client says so up front rather than sending a request STS would refuse.
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ endpoint: 'https://sts.aliyuncs.com', fetch, clock: vectorClock, signatureVersion: 'v1' });
    const error = await sts
      .assumeRole(caller, { roleArn: ROLE_ARN, roleSessionName: 'enc.test_user-01', externalId: "a+b c~d*e!f'g(h)i/中" })
      .then(() => undefined, (e) => e);
    expect(error?.name).toBe('ConfigError');
    expect(error?.field).toBe('externalId');
    expect(requests).toHaveLength(0);
  });

  it('V1 encodes a session policy with RFC 3986 escapes in the signed form body', async () => {
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ endpoint: 'https://sts.aliyuncs.com', fetch, clock: vectorClock, signatureVersion: 'v1' });
    const policy = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":["acs:oss:*:*:my-bucket/*"]}]}';
    await sts.assumeRole(caller, { roleArn: ROLE_ARN, roleSessionName: 'alice@example.com', durationSeconds: 900, externalId: 'abcd1234', policy });
    const [r] = requests;
    expect(r.body).toContain(
      'Policy=%7B%22Version%22%3A%221%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22oss%3AGet%2A%22%5D%2C%22Resource%22%3A%5B%22acs%3Aoss%3A%2A%3A%2A%3Amy-bucket%2F%2A%22%5D%7D%5D%7D',
    );
    expect(r.body).toContain('RoleSessionName=alice%40example.com');
    expect(new URL(r.url).searchParams.get('Signature')).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('the pinned nonce was restored: two calls sign with two different nonces', async () => {
    const { fetch, requests } = capturingFetch();
    const sts = createStsClient({ endpoint: 'https://sts.aliyuncs.com', fetch, clock: vectorClock });
    await sts.assumeRole(caller, { roleArn: ROLE_ARN, roleSessionName: 'vector-session' });
    await sts.assumeRole(caller, { roleArn: ROLE_ARN, roleSessionName: 'vector-session' });
    const [a, b] = requests.map((r) => r.headers['x-acs-signature-nonce']);
    expect(a).not.toBe(b);
    expect(a).not.toBe(STS_NONCE);
    expect(requests[0].headers.authorization).not.toBe(requests[1].headers.authorization);
  });
});
