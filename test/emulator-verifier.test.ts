/**
 * The emulator's own signature verifier (src/testing/emulator/verify.ts, auth.ts), checked
 * against the official vectors of the STS reference (sts-api.md §3.2–3.4, §4.3–4.4): each
 * vector's request, parsed as the server receives it, must verify byte for byte, and a
 * one-character change in any signed part must be refused. Nothing here imports alicred's
 * signer (src/sts/): the verifier must stand on its own. No network.
 */
import { describe, expect, it } from 'vitest';
import { verifyV1, verifyV3 } from '../src/testing/emulator/auth.js';
import { parseRequest } from '../src/testing/emulator/request.js';
import {
  canonicalQuery,
  parseRequestTime,
  rfc3986,
  sha256Hex,
  v1Signature,
  v1StringToSign,
  v3CanonicalRequest,
  v3Signature,
  v3StringToSign,
} from '../src/testing/emulator/verify.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const AK = 'LTAI5tFAKEFAKEFAKE0001';
const SECRET = 'FakeSecret0123456789abcdefABCDE';
const ROLE_ARN = 'acs:ram::123456789012:role/test-role';
const TOKEN = 'CAISFakeSecurityToken+/=~*';
const POLICY = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":["acs:oss:*:*:my-bucket/*"]}]}';

/** The same string with one character changed (the last one). */
function oneOff(value: string): string {
  if (value === '') return 'x';
  const last = value.at(-1)!;
  return value.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

/** Wire query/form encoding as a client may send it (not the canonical one: `+` for space). */
function wire(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

// ---------------------------------------------------------------------------
// V1 (HMAC-SHA1 RPC)
// ---------------------------------------------------------------------------

type V1Vector = {
  name: string;
  method: 'GET' | 'POST';
  secret: string;
  /** Parameters sent in the query (with Signature added by the test). */
  query: Record<string, string>;
  /** Parameters sent in a form body. */
  form?: Record<string, string>;
  signature: string;
  canonical?: string;
  stringToSign?: string;
};

const V1_COMMON = {
  AccessKeyId: AK,
  Action: 'AssumeRole',
  SignatureMethod: 'HMAC-SHA1',
  SignatureVersion: '1.0',
  Timestamp: '2025-01-15T08:00:00Z',
  Version: '2015-04-01',
};

const V1_VECTORS: V1Vector[] = [
  {
    name: 'doc #1 DescribeDedicatedHosts (GET)',
    method: 'GET',
    secret: 'testsecret',
    query: {
      AccessKeyId: 'testid', Action: 'DescribeDedicatedHosts', Format: 'JSON', RegionId: 'cn-beijing',
      SignatureMethod: 'HMAC-SHA1', SignatureNonce: 'edb2b34af0af9a6d14deaf7c1a5315eb', SignatureVersion: '1.0',
      Timestamp: '2023-03-13T08:34:30Z', Version: '2014-05-26',
    },
    signature: '9NaGiOspFP5UPcwX8Iwt2YJXXuk=',
    canonical:
      'AccessKeyId=testid&Action=DescribeDedicatedHosts&Format=JSON&RegionId=cn-beijing&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26',
    stringToSign:
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26',
  },
  {
    name: 'doc #2 DescribeRegions (GET)',
    method: 'GET',
    secret: 'testsecret',
    query: {
      AccessKeyId: 'testid', Action: 'DescribeRegions', Format: 'XML', SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', SignatureVersion: '1.0', Timestamp: '2016-02-23T12:46:24Z',
      Version: '2014-05-26',
    },
    signature: 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
    stringToSign:
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
  },
  {
    name: 'A: sts20150401 AssumeRole, all in the query',
    method: 'POST',
    secret: SECRET,
    query: {
      ...V1_COMMON, Format: 'json', SignatureNonce: '3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b',
      DurationSeconds: '3600', RoleArn: ROLE_ARN, RoleSessionName: 'vector-session',
    },
    signature: 'pUrNxXNNWgpxGpCkIcEzapDBfuQ=',
    canonical:
      'AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Action=AssumeRole&DurationSeconds=3600&Format=json&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&SignatureMethod=HMAC-SHA1&SignatureNonce=3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b&SignatureVersion=1.0&Timestamp=2025-01-15T08%3A00%3A00Z&Version=2015-04-01',
    stringToSign:
      'POST&%2F&AccessKeyId%3DLTAI5tFAKEFAKEFAKE0001%26Action%3DAssumeRole%26DurationSeconds%3D3600%26Format%3Djson%26RoleArn%3Dacs%253Aram%253A%253A123456789012%253Arole%252Ftest-role%26RoleSessionName%3Dvector-session%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b%26SignatureVersion%3D1.0%26Timestamp%3D2025-01-15T08%253A00%253A00Z%26Version%3D2015-04-01',
  },
  {
    name: 'B: STS-token caller with Policy and ExternalId',
    method: 'POST',
    secret: SECRET,
    query: {
      ...V1_COMMON, Format: 'json', SignatureNonce: '3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b', SecurityToken: TOKEN,
      DurationSeconds: '900', ExternalId: 'abcd1234', Policy: POLICY, RoleArn: ROLE_ARN, RoleSessionName: 'alice@example.com',
    },
    signature: 'KeCx8fJKLIf6zmnlUh7wzvgK9NE=',
    canonical:
      'AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Action=AssumeRole&DurationSeconds=900&ExternalId=abcd1234&Format=json&Policy=%7B%22Version%22%3A%221%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22oss%3AGet%2A%22%5D%2C%22Resource%22%3A%5B%22acs%3Aoss%3A%2A%3A%2A%3Amy-bucket%2F%2A%22%5D%7D%5D%7D&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=alice%40example.com&SecurityToken=CAISFakeSecurityToken%2B%2F%3D~%2A&SignatureMethod=HMAC-SHA1&SignatureNonce=3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b&SignatureVersion=1.0&Timestamp=2025-01-15T08%3A00%3A00Z&Version=2015-04-01',
  },
  {
    name: 'C: credentials-nodejs, common parameters in the query, request parameters in a form body',
    method: 'POST',
    secret: SECRET,
    query: { ...V1_COMMON, Format: 'JSON', SignatureNonce: '7f1e2d3c4b5a69788796a5b4c3d2e1f0' },
    form: { RoleArn: ROLE_ARN, RoleSessionName: 'vector-session', DurationSeconds: '3600' },
    signature: '59koNgw2dP6n0sfXc5kSr27wYAw=',
    stringToSign:
      'POST&%2F&AccessKeyId%3DLTAI5tFAKEFAKEFAKE0001%26Action%3DAssumeRole%26DurationSeconds%3D3600%26Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A123456789012%253Arole%252Ftest-role%26RoleSessionName%3Dvector-session%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D7f1e2d3c4b5a69788796a5b4c3d2e1f0%26SignatureVersion%3D1.0%26Timestamp%3D2025-01-15T08%253A00%253A00Z%26Version%3D2015-04-01',
  },
  {
    name: 'D: encoding stress',
    method: 'POST',
    secret: SECRET,
    query: {
      ...V1_COMMON, Format: 'JSON', SignatureNonce: 'enc-test-0001', RoleArn: ROLE_ARN, RoleSessionName: 'enc.test_user-01',
      Policy: '{"Statement": [{"Action": ["*"],"Effect": "Allow","Resource": ["*"]}],"Version":"1"}',
      ExternalId: "a+b c~d*e!f'g(h)i/中",
    },
    signature: 'Zwt7xkfZnr4P9xz/Ar6VBo/HtZE=',
  },
];

/** The vector's request as the server receives it, parsed. */
function v1Request(v: V1Vector, query: Record<string, string> = v.query, form = v.form, method: string = v.method, signature = v.signature) {
  const url = `/?${wire({ ...query, Signature: signature })}`;
  const headers = form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' };
  return parseRequest(method, url, headers, Buffer.from(form === undefined ? '' : wire(form), 'utf8'));
}

describe('emulator verifier: V1 (HMAC-SHA1) official vectors', () => {
  it('percent-encodes as RFC 3986 over UTF-8 bytes (upper-case hex, space %20, ~ literal)', () => {
    expect(rfc3986("a+b c~d*e!f'g(h)i/中")).toBe('a%2Bb%20c~d%2Ae%21f%27g%28h%29i%2F%E4%B8%AD');
    expect(rfc3986('AZaz09-_.~')).toBe('AZaz09-_.~');
    expect(rfc3986('%:=&')).toBe('%25%3A%3D%26');
    expect(rfc3986('é😀')).toBe('%C3%A9%F0%9F%98%80');
    expect(canonicalQuery({ b: '', a: '1', B: 'x' })).toBe('B=x&a=1&b=');
  });

  for (const v of V1_VECTORS) {
    it(`${v.name}: canonical query, string to sign and signature byte for byte`, () => {
      const all = { ...v.query, ...v.form };
      if (v.canonical !== undefined) expect(canonicalQuery(all)).toBe(v.canonical);
      const stringToSign = v1StringToSign(v.method, all);
      if (v.stringToSign !== undefined) expect(stringToSign).toBe(v.stringToSign);
      expect(v1Signature(stringToSign, v.secret)).toBe(v.signature);
      expect(verifyV1(v1Request(v), v.secret)).toEqual({ ok: true });
    });

    it(`${v.name}: a one-character change in any signed part is refused`, () => {
      const refused = (parsed: ReturnType<typeof v1Request>, secret = v.secret) => {
        const check = verifyV1(parsed, secret);
        expect(check.ok).toBe(false);
      };
      const inForm = (key: string) => v.form !== undefined && key in v.form;
      for (const key of Object.keys({ ...v.query, ...v.form })) {
        const holder = inForm(key) ? 'form' : 'query';
        const source = (holder === 'form' ? v.form : v.query)!;
        const changedValue = { ...source, [key]: oneOff(source[key]!) };
        const { [key]: value, ...rest } = source;
        const changedKey = { ...rest, [oneOff(key)]: value! };
        const dropped = rest;
        for (const variant of [changedValue, changedKey, dropped]) {
          refused(holder === 'form' ? v1Request(v, v.query, variant) : v1Request(v, variant, v.form));
        }
      }
      refused(v1Request(v, v.query, v.form, v.method === 'GET' ? 'POST' : 'GET'));
      refused(v1Request(v, v.query, v.form, v.method, oneOff(v.signature.replace(/=+$/, '')) + '='));
      refused(v1Request(v), oneOff(v.secret));
      refused(v1Request(v, { ...v.query, Extra: 'x' }));
    });
  }

  it('with and without a security token: B verifies only with the token it was signed with', () => {
    const b = V1_VECTORS.find((v) => v.name.startsWith('B:'))!;
    const { SecurityToken: _token, ...withoutToken } = b.query;
    expect(verifyV1(v1Request(b), SECRET).ok).toBe(true);
    expect(verifyV1(v1Request(b, withoutToken), SECRET).ok).toBe(false);
    expect(verifyV1(v1Request(b, { ...b.query, SecurityToken: TOKEN.replace('+', ' ') }), SECRET).ok).toBe(false);
  });

  it('reads the wire as sent by the official clients (Vector A URL, Vector C query + form body)', () => {
    const a = parseRequest(
      'POST',
      '/?Action=AssumeRole&Format=json&Version=2015-04-01&Timestamp=2025-01-15T08%3A00%3A00Z&SignatureNonce=3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b&DurationSeconds=3600&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Signature=pUrNxXNNWgpxGpCkIcEzapDBfuQ%3D',
      { host: 'sts.aliyuncs.com', 'x-acs-action': 'AssumeRole', 'x-acs-version': '2015-04-01', 'x-acs-credentials-provider': 'static_ak' },
      Buffer.alloc(0),
    );
    expect(a.signatureVersion).toBe('v1');
    expect(verifyV1(a, SECRET)).toEqual({ ok: true });
    const c = parseRequest(
      'POST',
      '/?Version=2015-04-01&Action=AssumeRole&Format=JSON&Timestamp=2025-01-15T08%3A00%3A00Z&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=7f1e2d3c4b5a69788796a5b4c3d2e1f0&AccessKeyId=LTAI5tFAKEFAKEFAKE0001&Signature=59koNgw2dP6n0sfXc5kSr27wYAw%3D',
      { 'content-type': 'application/x-www-form-urlencoded', 'x-acs-credentials-provider': 'static_ak' },
      Buffer.from('RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600'),
    );
    expect(verifyV1(c, SECRET)).toEqual({ ok: true });
    // The body is signed: without the form content type its parameters are not read, and the check fails.
    const cNoForm = parseRequest('POST', `/?${wire({ ...c.query, Signature: '59koNgw2dP6n0sfXc5kSr27wYAw=' })}`, {}, c.body);
    expect(verifyV1(cNoForm, SECRET).ok).toBe(false);
  });

  it('the failure carries the server string to sign', () => {
    const a = V1_VECTORS.find((v) => v.name.startsWith('A:'))!;
    expect(verifyV1(v1Request(a), 'wrong')).toEqual({ ok: false, stringToSign: a.stringToSign });
  });
});

// ---------------------------------------------------------------------------
// V3 (ACS3-HMAC-SHA256)
// ---------------------------------------------------------------------------

type V3Vector = {
  name: string;
  accessKeyId: string;
  secret: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: string;
  signature: string;
  canonicalRequest?: string;
  stringToSignHash?: string;
};

const STS_HEADERS = {
  host: 'sts.aliyuncs.com',
  'x-acs-action': 'AssumeRole',
  'x-acs-content-sha256': EMPTY_SHA256,
  'x-acs-date': '2025-01-15T08:00:00Z',
  'x-acs-signature-nonce': '3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b',
  'x-acs-version': '2015-04-01',
};
const E_QUERY = { DurationSeconds: '3600', RoleArn: ROLE_ARN, RoleSessionName: 'vector-session' };
const FORM_BODY = 'RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session&DurationSeconds=3600';

const V3_VECTORS: V3Vector[] = [
  {
    name: 'doc RunInstances',
    accessKeyId: 'YourAccessKeyId',
    secret: 'YourAccessKeySecret',
    query: { ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', RegionId: 'cn-shanghai' },
    headers: {
      host: 'ecs.cn-shanghai.aliyuncs.com',
      'x-acs-action': 'RunInstances',
      'x-acs-version': '2014-05-26',
      'x-acs-date': '2023-10-26T10:22:32Z',
      'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
      'x-acs-content-sha256': EMPTY_SHA256,
    },
    signature: '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0',
    canonicalRequest: [
      'POST',
      '/',
      'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
      'host:ecs.cn-shanghai.aliyuncs.com',
      'x-acs-action:RunInstances',
      `x-acs-content-sha256:${EMPTY_SHA256}`,
      'x-acs-date:2023-10-26T10:22:32Z',
      'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
      'x-acs-version:2014-05-26',
      '',
      'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
      EMPTY_SHA256,
    ].join('\n'),
    stringToSignHash: '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259',
  },
  {
    name: 'E: minimal AssumeRole',
    accessKeyId: AK,
    secret: SECRET,
    query: E_QUERY,
    headers: STS_HEADERS,
    signature: 'b1a76f706f13243493b9f36ae6e507d6091b458487962d6d80d8ae2c7c0f3aab',
    canonicalRequest: [
      'POST',
      '/',
      'DurationSeconds=3600&RoleArn=acs%3Aram%3A%3A123456789012%3Arole%2Ftest-role&RoleSessionName=vector-session',
      'host:sts.aliyuncs.com',
      'x-acs-action:AssumeRole',
      `x-acs-content-sha256:${EMPTY_SHA256}`,
      'x-acs-date:2025-01-15T08:00:00Z',
      'x-acs-signature-nonce:3c8f2a1e5b7d4f6a9e0b1c2d3e4f5a6b',
      'x-acs-version:2015-04-01',
      '',
      'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
      EMPTY_SHA256,
    ].join('\n'),
    stringToSignHash: '72651207231a67a3366921651ac6858701b2fb1583ba505bf15d32c5508d1007',
  },
  {
    name: 'F: sts20150401 assumeRole (x-acs-credentials-provider signed)',
    accessKeyId: AK,
    secret: SECRET,
    query: E_QUERY,
    headers: { ...STS_HEADERS, 'x-acs-credentials-provider': 'static_ak' },
    signature: '2f9878b0fb4d328055eb3221c050d50bc7ec31875050a5d644303631fa5aa703',
    stringToSignHash: 'c77759f79a4d265773430e4957d32cda279c0e1916e8c9f0300c68fe4c53aca1',
  },
  {
    name: 'F2: STS-token caller with Policy and ExternalId',
    accessKeyId: AK,
    secret: SECRET,
    query: { DurationSeconds: '900', ExternalId: 'abcd1234', Policy: POLICY, RoleArn: ROLE_ARN, RoleSessionName: 'alice@example.com' },
    headers: {
      ...STS_HEADERS,
      'x-acs-accesskey-id': AK,
      'x-acs-security-token': TOKEN,
      'x-acs-credentials-provider': 'static_sts',
    },
    signature: '764c8936c27cf3fc67b984c8d0c90a057e0cc29bd2b2085e88f4870a85cd7e33',
  },
  {
    name: 'G: GetCallerIdentity with an STS caller, empty query',
    accessKeyId: 'STS.NFakeAK',
    secret: 'FakeStsSecret',
    query: {},
    headers: {
      host: 'sts.cn-hangzhou.aliyuncs.com',
      'x-acs-accesskey-id': 'STS.NFakeAK',
      'x-acs-action': 'GetCallerIdentity',
      'x-acs-content-sha256': EMPTY_SHA256,
      'x-acs-date': '2025-01-15T08:00:00Z',
      'x-acs-security-token': 'CAISFakeToken',
      'x-acs-signature-nonce': '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      'x-acs-version': '2015-04-01',
    },
    signature: 'd6bfa5a66a99eb08eee19f081443b93d98d6730de6324aca0d051a51371c6882',
  },
  {
    name: 'H: parameters in a form body',
    accessKeyId: AK,
    secret: SECRET,
    query: {},
    headers: {
      ...STS_HEADERS,
      'content-type': 'application/x-www-form-urlencoded',
      'x-acs-content-sha256': 'e8d37efcaade9f3b0181894bdd3d8805330a13eb256d3fb9589b99dd5cf5020c',
    },
    body: FORM_BODY,
    signature: '977e985d9888755c0d794f5609dacb1b8e21a2fbb96f881831ef5e64f9c81158',
  },
];

function authorization(v: V3Vector, signature = v.signature, names = Object.keys(v.headers).sort()): string {
  return `ACS3-HMAC-SHA256 Credential=${v.accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature}`;
}

/** The vector's request as the server receives it (plus unsigned headers a client adds), parsed. */
function v3Request(
  v: V3Vector,
  changes: { method?: string; path?: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string; auth?: string } = {},
) {
  const query = changes.query ?? v.query;
  const url = `${changes.path ?? '/'}${Object.keys(query).length === 0 ? '' : `?${wire(query)}`}`;
  const headers = { ...(changes.headers ?? v.headers), 'user-agent': 'AlibabaCloud', accept: 'application/json', authorization: changes.auth ?? authorization(v) };
  return parseRequest(changes.method ?? 'POST', url, headers, Buffer.from(changes.body ?? v.body ?? '', 'utf8'));
}

describe('emulator verifier: V3 (ACS3-HMAC-SHA256) official vectors', () => {
  for (const v of V3_VECTORS) {
    it(`${v.name}: canonical request, string to sign and signature byte for byte`, () => {
      const body = Buffer.from(v.body ?? '', 'utf8');
      expect(sha256Hex(body)).toBe(v.headers['x-acs-content-sha256']);
      const canonical = v3CanonicalRequest({
        method: 'POST',
        path: '/',
        query: v.query,
        headers: Object.fromEntries(Object.entries(v.headers).map(([k, value]) => [k, [value]])),
        signedHeaders: Object.keys(v.headers),
        payloadHash: sha256Hex(body),
      });
      if (v.canonicalRequest !== undefined) expect(canonical).toBe(v.canonicalRequest);
      const stringToSign = v3StringToSign(canonical);
      if (v.stringToSignHash !== undefined) expect(stringToSign).toBe(`ACS3-HMAC-SHA256\n${v.stringToSignHash}`);
      expect(v3Signature(stringToSign, v.secret)).toBe(v.signature);
      const parsed = v3Request(v);
      expect(parsed.signatureVersion).toBe('v3');
      expect(verifyV3(parsed, v.secret)).toEqual({ ok: true });
    });

    it(`${v.name}: a one-character change in any signed part is refused`, () => {
      const refused = (parsed: ReturnType<typeof v3Request>, secret = v.secret) => expect(verifyV3(parsed, secret).ok).toBe(false);
      for (const name of Object.keys(v.headers)) {
        refused(v3Request(v, { headers: { ...v.headers, [name]: oneOff(v.headers[name]!) } }));
        // A signed header left out of SignedHeaders changes the canonical request too.
        const fewer = Object.keys(v.headers).filter((n) => n !== name).sort();
        refused(v3Request(v, { auth: authorization(v, v.signature, fewer) }));
      }
      for (const key of Object.keys(v.query)) {
        refused(v3Request(v, { query: { ...v.query, [key]: oneOff(v.query[key]!) } }));
        const { [key]: value, ...rest } = v.query;
        refused(v3Request(v, { query: { ...rest, [oneOff(key)]: value! } }));
        refused(v3Request(v, { query: rest }));
      }
      refused(v3Request(v, { query: { ...v.query, Extra: 'x' } }));
      refused(v3Request(v, { body: oneOff(v.body ?? '') }));
      refused(v3Request(v, { method: 'GET' }));
      refused(v3Request(v, { path: '/a' }));
      refused(v3Request(v, { auth: authorization(v, oneOff(v.signature)) }));
      refused(v3Request(v), oneOff(v.secret));
    });
  }

  it('headers outside SignedHeaders are not part of the signature', () => {
    const e = V3_VECTORS.find((v) => v.name.startsWith('E:'))!;
    const parsed = v3Request(e, { headers: { ...e.headers, 'x-unsigned': 'anything' } });
    expect(verifyV3(parsed, SECRET)).toEqual({ ok: true });
  });

  it('with and without a security token: F2 verifies only with the token it was signed with', () => {
    const f2 = V3_VECTORS.find((v) => v.name.startsWith('F2:'))!;
    expect(verifyV3(v3Request(f2), SECRET).ok).toBe(true);
    const { 'x-acs-security-token': _token, ...withoutToken } = f2.headers;
    expect(verifyV3(v3Request(f2, { headers: withoutToken }), SECRET).ok).toBe(false);
  });

  it('x-acs-content-sha256 must be the hash of the body received, even when it was signed', () => {
    const h = V3_VECTORS.find((v) => v.name.startsWith('H:'))!;
    const other = 'RoleArn=x';
    const check = verifyV3(v3Request(h, { body: other }), SECRET);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.stringToSign).toMatch(/^ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
  });

  it('repeated headers: values trimmed, sorted and joined with ","', () => {
    const canonical = v3CanonicalRequest({
      method: 'post',
      path: '',
      query: {},
      headers: { host: [' h '], 'x-acs-b': ['2', ' 1'] },
      signedHeaders: ['X-Acs-B', 'host'],
      payloadHash: EMPTY_SHA256,
    });
    expect(canonical).toBe(`POST\n/\n\nhost:h\nx-acs-b:1,2\n\nhost;x-acs-b\n${EMPTY_SHA256}`);
  });
});

describe('emulator verifier: request times', () => {
  it('parses UTC yyyy-MM-ddTHH:mm:ssZ (milliseconds tolerated)', () => {
    expect(parseRequestTime('2025-01-15T08:00:00Z')).toBe(Date.UTC(2025, 0, 15, 8, 0, 0));
    expect(parseRequestTime('2025-01-15T08:00:00.5Z')).toBe(Date.UTC(2025, 0, 15, 8, 0, 0, 500));
    expect(parseRequestTime('2024-02-29T23:59:59Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
  });

  it('refuses anything else', () => {
    for (const bad of [
      '', '2025-01-15', '2025-01-15T08:00:00', '2025-01-15T08:00:00+08:00', '2025-01-15 08:00:00Z', '2025-1-15T08:00:00Z',
      '2025-13-01T00:00:00Z', '2025-00-01T00:00:00Z', '2025-02-29T00:00:00Z', '2025-04-31T00:00:00Z', '2025-01-15T24:00:00Z',
      '2025-01-15T08:60:00Z', '2025-01-15T08:00:60Z', '2025-01-15T08:00:00.1234Z', 'Wed, 15 Jan 2025 08:00:00 GMT',
    ]) {
      expect(parseRequestTime(bad), bad).toBeNaN();
    }
  });
});
