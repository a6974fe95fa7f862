import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import * as OpenApiUtilModule from '@alicloud/openapi-util';
import * as $tea from '@alicloud/tea-typescript';
import {
  ACS3_HMAC_SHA256,
  EMPTY_BODY_SHA256,
  buildRpcV1Params,
  buildV3Headers,
  percentEncode,
  rpcCanonicalizedQuery,
  rpcStringToSign,
  signRpcV1,
  signV3,
} from '../src/sts/sign.js';
import { ConfigError } from '../src/errors.js';
import { toBase64, toHex } from '../src/sts/encoding.js';

// `@alicloud/openapi-util` is CJS with `exports.default = Client`; depending on
// the interop layer the class is either `.default` or `.default.default`.
type OpenApiUtilClient = typeof OpenApiUtilModule.default;
const OpenApiUtil: OpenApiUtilClient =
  (OpenApiUtilModule.default as unknown as { default?: OpenApiUtilClient }).default ?? OpenApiUtilModule.default;

// ---------------------------------------------------------------------------
// Shared inputs of the STS vectors (sts-api.md §3.4 and §4.4)
// ---------------------------------------------------------------------------

const STS_AK = 'LTAI5tFAKEFAKEFAKE0001';
const STS_SECRET = 'FakeSecret0123456789abcdefABCDE';
const STS_TIMESTAMP = '2025-01-15T08:00:00Z';
const STS_NONCE = '3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b';
const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const POLICY_B =
  '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":["acs:oss:*:*:my-bucket/*"]}]}';
const TOKEN_B = 'CAISFakeSecurityToken+/=~*';

function authorizationOf(ak: string, signedHeaders: string, signature: string): string {
  return `ACS3-HMAC-SHA256 Credential=${ak},SignedHeaders=${signedHeaders},Signature=${signature}`;
}

// ---------------------------------------------------------------------------
// 1. Vectors
// ---------------------------------------------------------------------------

describe('V1 RPC signature: reference vectors (sts-api.md §3)', () => {
  it('§3.2 doc vector #1 (ECS DescribeDedicatedHosts)', async () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'DescribeDedicatedHosts',
      Format: 'JSON',
      RegionId: 'cn-beijing',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: 'edb2b34af0af9a6d14deaf7c1a5315eb',
      SignatureVersion: '1.0',
      Timestamp: '2023-03-13T08:34:30Z',
      Version: '2014-05-26',
    };
    expect(rpcCanonicalizedQuery(params)).toBe(
      'AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26',
    );
    expect(rpcStringToSign('GET', params)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26',
    );
    expect(await signRpcV1({ method: 'GET', params, accessKeySecret: 'testsecret' })).toBe(
      '9NaGiOspFP5UPcwX8Iwt2YJXXuk=',
    );
  });

  it('§3.3 doc vector #2 (ECS DescribeRegions)', async () => {
    const params = buildRpcV1Params({
      action: 'DescribeRegions',
      version: '2014-05-26',
      accessKeyId: 'testid',
      format: 'XML',
      nonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      timestamp: '2016-02-23T12:46:24Z',
      params: {},
    });
    expect(rpcStringToSign('GET', params)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(await signRpcV1({ method: 'GET', params, accessKeySecret: 'testsecret' })).toBe(
      'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
    );
  });

  it('§3.4 vector A (sts20150401 assumeRole, signatureAlgorithm v2)', async () => {
    const params = buildRpcV1Params({
      action: 'AssumeRole',
      version: '2015-04-01',
      accessKeyId: STS_AK,
      format: 'json',
      nonce: STS_NONCE,
      timestamp: STS_TIMESTAMP,
      params: { RoleArn: ROLE_ARN, RoleSessionName: 'vector-session', DurationSeconds: '3600' },
    });
    expect(rpcCanonicalizedQuery(params)).toBe(
      'AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Action=AssumeRole&DurationSeconds=3600&Format=json&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&SignatureMethod=HMAC-SHA1&SignatureNonce=3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b&SignatureVersion=1.0&Timestamp=2025-01-15T08%3A00%3A00Z&Version=2015-04-01',
    );
    expect(rpcStringToSign('POST', params)).toBe(
      'POST&%2F&AccessKeyId%3DLTAI5tFAKEFAKEFAKE0001%26Action%3DAssumeRole%26DurationSeconds%3D3600%26Format%3Djson%26RoleArn%3Dacs%253Aram%253A%253A123456789012%253Arole%252Ftest-role%26RoleSessionName%3Dvector-session%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b%26SignatureVersion%3D1.0%26Timestamp%3D2025-01-15T08%253A00%253A00Z%26Version%3D2015-04-01',
    );
    const signature = await signRpcV1({ method: 'POST', params, accessKeySecret: STS_SECRET });
    expect(signature).toBe('pUrNxXNNWgpxGpCkIcEzapDBfuQ=');
    // The wire URL carries it percent-encoded.
    expect(percentEncode(signature)).toBe('pUrNxXNNWgpxGpCkIcEzapDBfuQ%3D');
  });

  it('§3.4 vector B (STS-token caller, Policy and ExternalId)', async () => {
    const params = buildRpcV1Params({
      action: 'AssumeRole',
      version: '2015-04-01',
      accessKeyId: STS_AK,
      securityToken: TOKEN_B,
      format: 'json',
      nonce: STS_NONCE,
      timestamp: STS_TIMESTAMP,
      params: {
        RoleArn: ROLE_ARN,
        RoleSessionName: 'alice@example.com',
        DurationSeconds: '900',
        ExternalId: 'abcd1234',
        Policy: POLICY_B,
      },
    });
    expect(rpcCanonicalizedQuery(params)).toBe(
      'AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Action=AssumeRole&DurationSeconds=900&ExternalId=abcd1234&Format=json&Policy=%7B%22Version%22%3A%221%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22oss%3AGet%2A%22%5D%2C%22Resource%22%3A%5B%22acs%3Aoss%3A%2A%3A%2A%3Amy-bucket%2F%2A%22%5D%7D%5D%7D&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=alice%40example.com&SecurityToken=CAISFakeSecurityToken%2B%2F%3D~%2A&SignatureMethod=HMAC-SHA1&SignatureNonce=3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b&SignatureVersion=1.0&Timestamp=2025-01-15T08%3A00%3A00Z&Version=2015-04-01',
    );
    expect(await signRpcV1({ method: 'POST', params, accessKeySecret: STS_SECRET })).toBe(
      'KeCx8fJKLIf6zmnlUh7wzvgK9NE=',
    );
  });

  it('§3.4 vector C (credentials-nodejs RAMRoleARN provider, form-body params signed)', async () => {
    const params = buildRpcV1Params({
      action: 'AssumeRole',
      version: '2015-04-01',
      accessKeyId: STS_AK,
      nonce: '7f1e2d3c4b5a69788796a5b4c3d2e1f0',
      timestamp: STS_TIMESTAMP,
      // Format defaults to 'JSON' (upper case), as in this vector.
      params: { RoleArn: ROLE_ARN, RoleSessionName: 'vector-session', DurationSeconds: '3600' },
    });
    expect(params.Format).toBe('JSON');
    expect(rpcStringToSign('POST', params)).toBe(
      'POST&%2F&AccessKeyId%3DLTAI5tFAKEFAKEFAKE0001%26Action%3DAssumeRole%26DurationSeconds%3D3600%26Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A123456789012%253Arole%252Ftest-role%26RoleSessionName%3Dvector-session%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D7f1e2d3c4b5a69788796a5b4c3d2e1f0%26SignatureVersion%3D1.0%26Timestamp%3D2025-01-15T08%253A00%253A00Z%26Version%3D2015-04-01',
    );
    const signature = await signRpcV1({ method: 'POST', params, accessKeySecret: STS_SECRET });
    expect(signature).toBe('59koNgw2dP6n0sfXc5kSr27wYAw=');
    expect(percentEncode(signature)).toBe('59koNgw2dP6n0sfXc5kSr27wYAw%3D');
  });

  it('§3.4 vector D (encoding stress)', async () => {
    const externalId = "a+b c~d*e!f'g(h)i/中";
    expect(percentEncode(externalId)).toBe('a%2Bb%20c~d%2Ae%21f%27g%28h%29i%2F%E4%B8%AD');
    const params = buildRpcV1Params({
      action: 'AssumeRole',
      version: '2015-04-01',
      accessKeyId: STS_AK,
      format: 'JSON',
      nonce: 'enc-test-0001',
      timestamp: STS_TIMESTAMP,
      params: {
        RoleArn: ROLE_ARN,
        RoleSessionName: 'enc.test_user-01',
        Policy: '{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}',
        ExternalId: externalId,
      },
    });
    expect(rpcCanonicalizedQuery(params)).toContain('&ExternalId=a%2Bb%20c~d%2Ae%21f%27g%28h%29i%2F%E4%B8%AD&');
    expect(await signRpcV1({ method: 'POST', params, accessKeySecret: STS_SECRET })).toBe(
      'Zwt7xkfZnr4P9xz/Ar6VBo/HtZE=',
    );
  });
});

describe('V3 ACS3-HMAC-SHA256 signature: reference vectors (sts-api.md §4)', () => {
  it('§4.3 doc vector (ECS RunInstances)', async () => {
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
      headers: buildV3Headers({
        host: 'ecs.cn-shanghai.aliyuncs.com',
        action: 'RunInstances',
        version: '2014-05-26',
        date: '2023-10-26T10:22:32Z',
        nonce: '3156853299f313e23d1673dc12e1703d',
      }),
      body: '',
      accessKeyId: 'YourAccessKeyId',
      accessKeySecret: 'YourAccessKeySecret',
    });
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/',
        'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
        'host:ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action:RunInstances',
        'x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-date:2023-10-26T10:22:32Z',
        'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
        'x-acs-version:2014-05-26',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(result.stringToSign).toBe(
      'ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
    );
    expect(result.authorization).toBe(
      authorizationOf(
        'YourAccessKeyId',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
      ),
    );
    expect(result.headers['Authorization']).toBe(result.authorization);
  });

  it('§4.4 vector E (minimal AssumeRole, six standard headers)', async () => {
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: { RoleArn: ROLE_ARN, RoleSessionName: 'vector-session', DurationSeconds: '3600' },
      headers: buildV3Headers({
        host: 'sts.aliyuncs.com',
        action: 'AssumeRole',
        version: '2015-04-01',
        date: STS_TIMESTAMP,
        nonce: STS_NONCE,
      }),
      body: '',
      accessKeyId: STS_AK,
      accessKeySecret: STS_SECRET,
    });
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/',
        'DurationSeconds=3600&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session',
        'host:sts.aliyuncs.com',
        'x-acs-action:AssumeRole',
        'x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-date:2025-01-15T08:00:00Z',
        'x-acs-signature-nonce:3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b',
        'x-acs-version:2015-04-01',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(result.stringToSign).toBe(
      'ACS3-HMAC-SHA256\n72651207231a67a3366921651ac6858701b2fb1583ba505bf15d32c5508d1007',
    );
    expect(result.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=LTAI5tFAKEFAKEFAKE0001,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=b1a76f706f13243493b9f36ae6e507d6091b458487962d6d80d8ae2c7c0f3aab',
    );
  });

  it('§4.4 vector F (full sts20150401 assumeRole, x-acs-credentials-provider signed)', async () => {
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: { RoleArn: ROLE_ARN, RoleSessionName: 'vector-session', DurationSeconds: '3600' },
      headers: {
        ...buildV3Headers({
          host: 'sts.aliyuncs.com',
          action: 'AssumeRole',
          version: '2015-04-01',
          date: STS_TIMESTAMP,
          nonce: STS_NONCE,
        }),
        'x-acs-credentials-provider': 'static_ak',
        // Sent by the SDK but never signed.
        'user-agent': 'AlibabaCloud (linux; x64) Node.js/v20 Core/1.0.8 TeaDSL/2',
        accept: 'application/json',
      },
      body: '',
      accessKeyId: STS_AK,
      accessKeySecret: STS_SECRET,
    });
    const signedHeaders =
      'host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version';
    expect(result.stringToSign).toBe(
      'ACS3-HMAC-SHA256\nc77759f79a4d265773430e4957d32cda279c0e1916e8c9f0300c68fe4c53aca1',
    );
    expect(result.authorization).toBe(
      authorizationOf(STS_AK, signedHeaders, '2f9878b0fb4d328055eb3221c050d50bc7ec31875050a5d644303631fa5aa703'),
    );
    expect(result.headers['accept']).toBe('application/json');
  });

  it('§4.4 vector F2 (STS-token caller, Policy and ExternalId)', async () => {
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: {
        RoleArn: ROLE_ARN,
        RoleSessionName: 'alice@example.com',
        DurationSeconds: '900',
        ExternalId: 'abcd1234',
        Policy: POLICY_B,
      },
      headers: {
        ...buildV3Headers({
          host: 'sts.aliyuncs.com',
          action: 'AssumeRole',
          version: '2015-04-01',
          date: STS_TIMESTAMP,
          nonce: STS_NONCE,
        }),
        'x-acs-credentials-provider': 'static_sts',
      },
      body: '',
      accessKeyId: STS_AK,
      accessKeySecret: STS_SECRET,
      securityToken: TOKEN_B,
    });
    // Token goes into the header raw; `*` is %2A in the canonical query.
    expect(result.headers['x-acs-security-token']).toBe(TOKEN_B);
    expect(result.headers['x-acs-accesskey-id']).toBe(STS_AK);
    expect(result.canonicalRequest).toContain('%22oss%3AGet%2A%22');
    expect(result.canonicalRequest).toContain(`\nx-acs-security-token:${TOKEN_B}\n`);
    expect(result.authorization).toBe(
      authorizationOf(
        STS_AK,
        'host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version',
        '764c8936c27cf3fc67b984c8d0c90a057e0cc29bd2b2085e88f4870a85cd7e33',
      ),
    );
  });

  it('§4.4 vector G (GetCallerIdentity with an STS caller, empty query)', async () => {
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: {},
      headers: buildV3Headers({
        host: 'sts.cn-hangzhou.aliyuncs.com',
        action: 'GetCallerIdentity',
        version: '2015-04-01',
        date: STS_TIMESTAMP,
        nonce: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      }),
      body: '',
      accessKeyId: 'STS.NFakeAK',
      accessKeySecret: 'FakeStsSecret',
      securityToken: 'CAISFakeToken',
    });
    expect(result.canonicalRequest.split('\n')[2]).toBe('');
    expect(result.canonicalRequest.startsWith('POST\n/\n\nhost:sts.cn-hangzhou.aliyuncs.com\n')).toBe(true);
    expect(result.authorization).toBe(
      authorizationOf(
        'STS.NFakeAK',
        'host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version',
        'd6bfa5a66a99eb08eee19f081443b93d98d6730de6324aca0d051a51371c6882',
      ),
    );
  });

  it('§4.4 vector H (parameters in a form body)', async () => {
    const body =
      'RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600';
    const result = await signV3({
      method: 'POST',
      pathname: '/',
      query: {},
      headers: buildV3Headers({
        host: 'sts.aliyuncs.com',
        action: 'AssumeRole',
        version: '2015-04-01',
        date: STS_TIMESTAMP,
        nonce: STS_NONCE,
        contentType: 'application/x-www-form-urlencoded',
      }),
      body,
      accessKeyId: STS_AK,
      accessKeySecret: STS_SECRET,
    });
    expect(result.headers['x-acs-content-sha256']).toBe(
      'e8d37efcaade9f3b0181894bdd3d8805330a13eb256d3fb9589b99dd5cf5020c',
    );
    expect(result.authorization).toBe(
      authorizationOf(
        STS_AK,
        'content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        '977e985d9888755c0d794f5609dacb1b8e21a2fbb96f881831ef5e64f9c81158',
      ),
    );
  });
});

// ---------------------------------------------------------------------------
// 2. Differential tests against the official @alicloud/openapi-util 0.3.3
// ---------------------------------------------------------------------------

/** mulberry32: small deterministic PRNG so failures are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  string(alphabet: readonly string[], min: number, max: number): string {
    let s = '';
    const n = this.int(min, max);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
}

const ALNUM = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'];
const UNRESERVED = [...ALNUM, '-', '_', '.', '~'];
// Code points (not UTF-16 units) so surrogate pairs stay intact.
const NASTY = [
  ...ALNUM,
  ...UNRESERVED.slice(-4),
  ' ', '*', '~', '/', '=', '&', '+', '%', '!', "'", '(', ')', ':', '@', '#', '?', ',', ';', '"', '<', '>',
  '[', ']', '{', '}', '|', '\\', '^', '`', '$', '\t', '\n',
  'é', 'ß', 'ñ', '中', '文', '日本', 'Ω', '\u00a0', '\u3000', '\u20ac',
  '😀', '🚀', '👍🏽', '𝄞',
];
const HEADER_VALUE = [...ALNUM, ' ', '-', '_', '.', ':', '/', ';', '=', ',', '+', '*', '~'];

describe('differential: V1 getRPCSignature (@alicloud/openapi-util)', () => {
  it('matches the official signature on 200 random requests', async () => {
    const g = new Gen(0x5151_0001);
    const mismatches: string[] = [];
    for (let i = 0; i < 200; i++) {
      const method = g.pick(['GET', 'POST'] as const);
      const extra: Record<string, string | undefined> = {};
      const n = g.int(0, 8);
      for (let k = 0; k < n; k++) {
        // Random keys and values from the full nasty alphabet; prefix keys so
        // they never collide with the common parameter names.
        extra[`p${g.string(NASTY, 0, 10)}`] = g.bool(0.1) ? undefined : g.string(NASTY, 0, 24);
      }
      const params = buildRpcV1Params({
        action: g.string(ALNUM, 1, 30),
        version: g.pick(['2015-04-01', '2014-05-26', g.string(NASTY, 1, 12)]),
        accessKeyId: `LTAI${g.string(ALNUM, 8, 20)}`,
        securityToken: g.bool(0.3) ? g.string(NASTY, 1, 60) : undefined,
        format: g.pick([undefined, 'JSON', 'json', 'XML']),
        timestamp: new Date(Date.UTC(2000 + g.int(0, 40), g.int(0, 11), g.int(1, 28), g.int(0, 23), g.int(0, 59), g.int(0, 59)))
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        nonce: g.string(NASTY, 1, 40),
        params: extra,
      });
      const secret = g.bool(0.2) ? g.string(NASTY, 1, 40) : g.string(ALNUM, 30, 30);
      const ours = await signRpcV1({ method, params, accessKeySecret: secret });
      const theirs = OpenApiUtil.getRPCSignature(params, method, secret);
      if (ours !== theirs) mismatches.push(JSON.stringify({ i, method, params, secret, ours, theirs }));
    }
    expect(mismatches).toEqual([]);
  });
});

describe('differential: V3 getAuthorization (@alicloud/openapi-util)', () => {
  it('matches the official Authorization header on 200 random requests', async () => {
    const g = new Gen(0x5151_0003);
    const mismatches: string[] = [];
    for (let i = 0; i < 200; i++) {
      const method = g.pick(['GET', 'POST', 'PUT', 'DELETE']);

      // openapi-util 0.3.3 replaces only the first '+', '*' and '%7E' in the
      // path (openapi-core 1.0.8 replaces all), so use at most one of each.
      let pathname = '/';
      if (g.bool(0.3)) {
        const segments: string[] = [];
        for (let s = g.int(1, 3); s > 0; s--) segments.push(percentEncode(g.string(NASTY, 1, 8)));
        pathname = `/${segments.join('/')}${g.pick(['', '+x', '*', '%7E', '+a*b%7Ec'])}`;
      }

      // Query keys: unreserved characters only (see the key-encoding test
      // below: the official code does not encode names, the spec does).
      // Values: the full nasty alphabet.
      const query: Record<string, string> = {};
      for (let n = g.int(0, 8); n > 0; n--) {
        query[g.string(UNRESERVED, 1, 12)] = g.bool(0.1) ? '' : g.string(NASTY, 0, 30);
      }

      const headers: Record<string, string> = buildV3Headers({
        host: `${g.string(ALNUM, 1, 10).toLowerCase()}.aliyuncs.com`,
        action: g.string(ALNUM, 1, 30),
        version: g.pick(['2015-04-01', '2014-05-26']),
        date: '2025-01-15T08:00:00Z',
        nonce: g.string(ALNUM, 32, 32),
        contentType: g.pick([undefined, 'application/x-www-form-urlencoded', 'application/json; charset=utf-8']),
      });
      if (g.bool(0.5)) headers['x-acs-credentials-provider'] = g.pick(['static_ak', 'static_sts', 'ram_role_arn']);
      if (g.bool(0.3)) headers['X-Acs-Custom-Thing'] = `  ${g.string(HEADER_VALUE, 0, 20)}  `;
      if (g.bool(0.2)) {
        // Same name twice, differing in case: values sorted and comma-joined.
        headers['x-acs-dup'] = g.string(HEADER_VALUE, 1, 10);
        headers['X-ACS-DUP'] = g.string(HEADER_VALUE, 1, 10);
      }
      if (g.bool(0.5)) headers['user-agent'] = `AlibabaCloud ${g.string(HEADER_VALUE, 0, 20)}`;
      if (g.bool(0.5)) headers['accept'] = 'application/json';

      let body: string | Uint8Array;
      const bodyKind = g.int(0, 2);
      if (bodyKind === 0) body = '';
      else if (bodyKind === 1) body = g.string(NASTY, 1, 80);
      else body = Uint8Array.from({ length: g.int(0, 64) }, () => g.int(0, 255));

      const accessKeyId = `LTAI${g.string(ALNUM, 8, 20)}`;
      const accessKeySecret = g.bool(0.2) ? g.string(NASTY, 1, 40) : g.string(ALNUM, 30, 30);
      const securityToken = g.bool(0.3) ? g.string(HEADER_VALUE, 1, 80) : undefined;

      const ours = await signV3({ method, pathname, query, headers, body, accessKeyId, accessKeySecret, securityToken });

      // Reproduce what @alicloud/openapi-core does before calling getAuthorization.
      const payload = OpenApiUtil.hexEncode(
        OpenApiUtil.hash(typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body), ACS3_HMAC_SHA256),
      );
      const request = new $tea.Request();
      request.method = method;
      request.pathname = pathname;
      request.query = { ...query };
      request.headers = { ...headers, 'x-acs-content-sha256': payload };
      if (securityToken !== undefined) {
        request.headers['x-acs-accesskey-id'] = accessKeyId;
        request.headers['x-acs-security-token'] = securityToken;
      }
      const theirs = OpenApiUtil.getAuthorization(request, ACS3_HMAC_SHA256, payload, accessKeyId, accessKeySecret);

      if (ours.authorization !== theirs || ours.headers['x-acs-content-sha256'] !== payload) {
        mismatches.push(JSON.stringify({ i, method, pathname, query, headers, ours: ours.authorization, theirs }));
      }
    }
    expect(mismatches).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// 3. Edge cases
// ---------------------------------------------------------------------------

describe('percentEncode', () => {
  const table: Array<[string, string]> = [
    ['', ''],
    ['AZaz09-_.~', 'AZaz09-_.~'],
    [' ', '%20'],
    ['*', '%2A'],
    ['~', '~'],
    ['/', '%2F'],
    ['=', '%3D'],
    ['&', '%26'],
    ['+', '%2B'],
    ['%', '%25'],
    ['!', '%21'],
    ["'", '%27'],
    ['(', '%28'],
    [')', '%29'],
    [':', '%3A'],
    ['@', '%40'],
    ['"', '%22'],
    ['\n', '%0A'],
    ['é', '%C3%A9'],
    ['中', '%E4%B8%AD'],
    ['😀', '%F0%9F%98%80'],
    ['a b+c*d~e', 'a%20b%2Bc%2Ad~e'],
  ];
  it.each(table)('%j -> %j', (input, expected) => {
    expect(percentEncode(input)).toBe(expected);
  });

  it('encodes every printable ASCII character other than the unreserved set', () => {
    for (let c = 0x20; c < 0x7f; c++) {
      const ch = String.fromCharCode(c);
      const expected = /[A-Za-z0-9\-_.~]/.test(ch) ? ch : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
      expect(percentEncode(ch)).toBe(expected);
    }
  });

  it('rejects lone surrogates with a ConfigError that does not quote the value', () => {
    expect(() => percentEncode('\ud800')).toThrow(ConfigError);
    expect(() => percentEncode('a\udc00b')).toThrow(ConfigError);
    expect(() => percentEncode('CAISsecret-token\ud800')).toThrow(/^(?![\s\S]*CAISsecret)[\s\S]*lone surrogate/);
  });
});

describe('encoding helpers', () => {
  it('hex and base64 without Buffer', () => {
    expect(toHex(new Uint8Array([0, 1, 171, 255]))).toBe('0001abff');
    expect(toBase64(new Uint8Array([]))).toBe('');
    expect(toBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);
    expect(toBase64(big)).toBe(Buffer.from(big).toString('base64'));
  });
});

describe('V1 params and signing edge cases', () => {
  const base = {
    action: 'AssumeRole',
    version: '2015-04-01',
    accessKeyId: STS_AK,
    timestamp: STS_TIMESTAMP,
    nonce: STS_NONCE,
  };

  it('buildRpcV1Params produces exactly the common set plus defined operation params', () => {
    const params = buildRpcV1Params({ ...base, params: { RoleArn: ROLE_ARN, Policy: undefined } });
    expect(params).toEqual({
      Action: 'AssumeRole',
      Version: '2015-04-01',
      Format: 'JSON',
      Timestamp: STS_TIMESTAMP,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: STS_NONCE,
      AccessKeyId: STS_AK,
      RoleArn: ROLE_ARN,
    });
    expect('SecurityToken' in params).toBe(false);
    expect('Signature' in params).toBe(false);
  });

  it('SecurityToken is present only when a non-empty token is given', () => {
    expect(buildRpcV1Params({ ...base, params: {}, securityToken: 'tok' }).SecurityToken).toBe('tok');
    expect('SecurityToken' in buildRpcV1Params({ ...base, params: {}, securityToken: '' })).toBe(false);
    expect('SecurityToken' in buildRpcV1Params({ ...base, params: {} })).toBe(false);
  });

  it('rejects operation params that collide with common params', () => {
    expect(() => buildRpcV1Params({ ...base, params: { Signature: 'x' } })).toThrow(TypeError);
    expect(() => buildRpcV1Params({ ...base, params: { Timestamp: 'x' } })).toThrow(TypeError);
  });

  it('sorts by the raw (unencoded) name, like the official SDKs, then encodes', () => {
    // Sorting the *encoded* names instead would give a%2F, a%C3%A9, a., a_
    // and a different signature than @alicloud/openapi-util.
    expect(rpcCanonicalizedQuery({ 'a_': '3', 'aé': '4', 'a/': '2', 'a.': '1' })).toBe('a.=1&a%2F=2&a_=3&a%C3%A9=4');
  });

  it('uses secret + "&" as the HMAC key', async () => {
    const params = { Action: 'DescribeRegions', Timestamp: '2016-02-23T12:46:24Z' };
    const ours = await signRpcV1({ method: 'GET', params, accessKeySecret: 'testsecret' });
    const stringToSign = rpcStringToSign('GET', params);
    expect(ours).toBe(createHmac('sha1', 'testsecret&').update(stringToSign).digest('base64'));
    expect(ours).not.toBe(createHmac('sha1', 'testsecret').update(stringToSign).digest('base64'));
  });

  it('method is part of the string to sign', async () => {
    const params = { Action: 'GetCallerIdentity' };
    expect(rpcStringToSign('GET', params).startsWith('GET&%2F&')).toBe(true);
    expect(await signRpcV1({ method: 'GET', params, accessKeySecret: 's' })).not.toBe(
      await signRpcV1({ method: 'POST', params, accessKeySecret: 's' }),
    );
  });
});

describe('V3 edge cases', () => {
  const headers = buildV3Headers({
    host: 'sts.aliyuncs.com',
    action: 'GetCallerIdentity',
    version: '2015-04-01',
    date: STS_TIMESTAMP,
    nonce: STS_NONCE,
  });
  const base = { method: 'POST', pathname: '/', query: {}, headers, body: '', accessKeyId: 'ak', accessKeySecret: 'sk' };

  it('empty body hashes to the well-known SHA-256 of zero bytes, for strings and bytes', async () => {
    expect(EMPTY_BODY_SHA256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect((await signV3(base)).headers['x-acs-content-sha256']).toBe(EMPTY_BODY_SHA256);
    expect((await signV3({ ...base, body: new Uint8Array(0) })).headers['x-acs-content-sha256']).toBe(
      EMPTY_BODY_SHA256,
    );
  });

  it('string bodies are hashed as UTF-8 and match the same bytes', async () => {
    const text = 'a=中&b=😀';
    const fromString = await signV3({ ...base, body: text });
    const fromBytes = await signV3({ ...base, body: new TextEncoder().encode(text) });
    expect(fromString.headers['x-acs-content-sha256']).toBe(fromBytes.headers['x-acs-content-sha256']);
    expect(fromString.authorization).toBe(fromBytes.authorization);
  });

  it('token headers are added only when a non-empty token is given', async () => {
    const without = await signV3(base);
    expect(Object.keys(without.headers).filter((h) => /security-token|accesskey-id/i.test(h))).toEqual([]);
    expect(without.authorization).not.toContain('x-acs-security-token');

    const emptyToken = await signV3({ ...base, securityToken: '' });
    expect('x-acs-security-token' in emptyToken.headers).toBe(false);
    expect(emptyToken.authorization).toBe(without.authorization);

    const withToken = await signV3({ ...base, securityToken: '  tok  ' });
    expect(withToken.headers['x-acs-security-token']).toBe('  tok  ');
    expect(withToken.headers['x-acs-accesskey-id']).toBe('ak');
    expect(withToken.canonicalRequest).toContain('\nx-acs-security-token:tok\n');
    expect(withToken.authorization).toContain('x-acs-accesskey-id;');
    expect(withToken.authorization).toContain('x-acs-security-token;');
  });

  it('does not mutate the input headers and replaces managed headers in any case', async () => {
    const input = { ...headers, 'X-Acs-Content-Sha256': 'bogus', authorization: 'old', 'X-ACS-SECURITY-TOKEN': 'old' };
    const snapshot = { ...input };
    const result = await signV3({ ...base, headers: input, securityToken: 'new' });
    expect(input).toEqual(snapshot);
    expect(result.headers['X-Acs-Content-Sha256']).toBeUndefined();
    expect(result.headers['authorization']).toBeUndefined();
    expect(result.headers['X-ACS-SECURITY-TOKEN']).toBeUndefined();
    expect(result.headers['x-acs-content-sha256']).toBe(EMPTY_BODY_SHA256);
    expect(result.headers['x-acs-security-token']).toBe('new');
    expect(result.headers['Authorization']).toBe(result.authorization);
  });

  it('signs host, content-type and x-acs-* only, with lower-cased names', async () => {
    const result = await signV3({
      ...base,
      headers: { ...headers, 'Content-Type': 'application/json', 'User-Agent': 'x', Accept: 'application/json', 'X-Acs-Extra': ' v ' },
    });
    expect(result.authorization).toContain(
      'SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-extra;x-acs-signature-nonce;x-acs-version,',
    );
    expect(result.canonicalRequest).toContain('\nx-acs-extra:v\n');
    expect(result.canonicalRequest).not.toMatch(/user-agent|accept/);
  });

  it('canonical query: sorted, empty value gives "k=", values RFC 3986 encoded', async () => {
    const result = await signV3({ ...base, query: { b: 'x y*', a: '', c: '~/' } });
    expect(result.canonicalRequest.split('\n')[2]).toBe('a=&b=x%20y%2A&c=~%2F');
  });

  it('canonical query: names are percent-encoded too (spec; openapi-util leaves names raw)', async () => {
    const result = await signV3({ ...base, query: { 'a b': '1' } });
    expect(result.canonicalRequest.split('\n')[2]).toBe('a%20b=1');
  });

  it('canonical URI: "+", "*" and "%7E" are normalised everywhere in the path', async () => {
    const result = await signV3({ ...base, pathname: '/a+b+c/*x*/%7Ey%7E' });
    expect(result.canonicalRequest.split('\n')[1]).toBe('/a%20b%20c/%2Ax%2A/~y~');
  });

  it('upper-cases the method', async () => {
    expect((await signV3({ ...base, method: 'post' })).authorization).toBe((await signV3(base)).authorization);
  });

  it('rejects an empty AccessKeySecret', async () => {
    await expect(signV3({ ...base, accessKeySecret: '' })).rejects.toThrow(TypeError);
  });
});
