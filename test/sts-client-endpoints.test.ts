import { describe, it, expect } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { isLoopbackHost, resolveStsEndpoint, type StsEndpointOptions } from '../src/sts/endpoints.js';
import { createStsClient } from '../src/sts/client.js';

type Env = Record<string, string | undefined>;

describe('resolveStsEndpoint: precedence', () => {
  const table: Array<[string, StsEndpointOptions, Env, string, string]> = [
    // [case, options, env, url, source]
    ['nothing configured', {}, {}, 'https://sts.aliyuncs.com', 'default'],
    ['region option', { region: 'cn-hangzhou' }, {}, 'https://sts.cn-hangzhou.aliyuncs.com', 'region'],
    ['region env', {}, { ALIBABA_CLOUD_STS_REGION: 'cn-beijing' }, 'https://sts.cn-beijing.aliyuncs.com', 'region'],
    [
      'region option beats region env',
      { region: 'cn-hangzhou' },
      { ALIBABA_CLOUD_STS_REGION: 'cn-beijing' },
      'https://sts.cn-hangzhou.aliyuncs.com',
      'region',
    ],
    ['vpc option + region', { region: 'cn-hangzhou', vpc: true }, {}, 'https://sts-vpc.cn-hangzhou.aliyuncs.com', 'region'],
    [
      'vpc env (any case) + region env',
      {},
      { ALIBABA_CLOUD_STS_REGION: 'cn-hangzhou', ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: 'TRUE' },
      'https://sts-vpc.cn-hangzhou.aliyuncs.com',
      'region',
    ],
    [
      'vpc env other than true is ignored',
      { region: 'cn-hangzhou' },
      { ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: '1' },
      'https://sts.cn-hangzhou.aliyuncs.com',
      'region',
    ],
    [
      'explicit vpc: false beats the env',
      { region: 'cn-hangzhou', vpc: false },
      { ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED: 'true' },
      'https://sts.cn-hangzhou.aliyuncs.com',
      'region',
    ],
    ['vpc without a region: the unified endpoint', { vpc: true }, {}, 'https://sts.aliyuncs.com', 'default'],
    [
      'env endpoint beats region and vpc',
      { region: 'cn-hangzhou', vpc: true },
      { ALIBABA_CLOUD_STS_ENDPOINT: 'sts-vpc.cn-shanghai.aliyuncs.com', ALIBABA_CLOUD_STS_REGION: 'cn-beijing' },
      'https://sts-vpc.cn-shanghai.aliyuncs.com',
      'env',
    ],
    [
      'explicit endpoint beats everything',
      { endpoint: 'sts.ap-southeast-1.aliyuncs.com', region: 'cn-hangzhou', vpc: true },
      { ALIBABA_CLOUD_STS_ENDPOINT: 'sts-vpc.cn-shanghai.aliyuncs.com', ALIBABA_CLOUD_STS_REGION: 'cn-beijing' },
      'https://sts.ap-southeast-1.aliyuncs.com',
      'option',
    ],
    ['blank env values count as unset', {}, { ALIBABA_CLOUD_STS_ENDPOINT: '  ', ALIBABA_CLOUD_STS_REGION: '' }, 'https://sts.aliyuncs.com', 'default'],
    ['bare host means https', { endpoint: 'sts.cn-shanghai.aliyuncs.com' }, {}, 'https://sts.cn-shanghai.aliyuncs.com', 'option'],
    ['bare host with a trailing slash', { endpoint: 'sts.cn-shanghai.aliyuncs.com/' }, {}, 'https://sts.cn-shanghai.aliyuncs.com', 'option'],
    ['bare host with a port', { endpoint: 'sts.example.test:8443' }, {}, 'https://sts.example.test:8443', 'option'],
    ['https URL, trailing slash dropped', { endpoint: 'https://sts.aliyuncs.com/' }, {}, 'https://sts.aliyuncs.com', 'option'],
    ['https URL, default port dropped', { endpoint: 'https://sts.aliyuncs.com:443' }, {}, 'https://sts.aliyuncs.com', 'option'],
    ['scheme and host are case-insensitive', { endpoint: 'HTTPS://STS.Aliyuncs.COM' }, {}, 'https://sts.aliyuncs.com', 'option'],
    ['http to 127.0.0.1', { endpoint: 'http://127.0.0.1:8080' }, {}, 'http://127.0.0.1:8080', 'option'],
    ['http to 127.x.y.z', { endpoint: 'http://127.10.0.3:9/' }, {}, 'http://127.10.0.3:9', 'option'],
    ['http to localhost', { endpoint: 'http://localhost:3000' }, {}, 'http://localhost:3000', 'option'],
    ['http to [::1]', { endpoint: 'http://[::1]:8080' }, {}, 'http://[::1]:8080', 'option'],
    ['http to a loopback env endpoint', {}, { ALIBABA_CLOUD_STS_ENDPOINT: 'http://127.0.0.1:9000' }, 'http://127.0.0.1:9000', 'env'],
    ['surrounding blanks are trimmed', { endpoint: '  https://sts.aliyuncs.com  ' }, {}, 'https://sts.aliyuncs.com', 'option'],
  ];

  it.each(table)('%s', (_name, options, env, url, source) => {
    const resolved = resolveStsEndpoint(options, env);
    expect(resolved.url).toBe(url);
    expect(resolved.source).toBe(source);
    expect(resolved.url.endsWith('/')).toBe(false);
    expect(resolved.host).toBe(new URL(url).host);
  });

  it('host carries the port fetch will send in Host', () => {
    expect(resolveStsEndpoint({ endpoint: 'http://127.0.0.1:8080' }).host).toBe('127.0.0.1:8080');
    expect(resolveStsEndpoint({ endpoint: 'https://sts.aliyuncs.com:443' }).host).toBe('sts.aliyuncs.com');
    expect(resolveStsEndpoint({ endpoint: 'http://[::1]:81' }).host).toBe('[::1]:81');
  });
});

describe('resolveStsEndpoint: refusals', () => {
  const table: Array<[string, StsEndpointOptions, Env, string, RegExp]> = [
    // [case, options, env, field, message]
    ['http to a public host', { endpoint: 'http://sts.aliyuncs.com' }, {}, 'endpoint', /plain http is accepted only for loopback hosts/],
    ['http to a private address', { endpoint: 'http://10.0.0.1:8080' }, {}, 'endpoint', /only for loopback/],
    ['http to 0.0.0.0', { endpoint: 'http://0.0.0.0:8080' }, {}, 'endpoint', /only for loopback/],
    ['http to a name that only looks local', { endpoint: 'http://localhost.evil.example' }, {}, 'endpoint', /only for loopback/],
    [
      'http in the env variable',
      {},
      { ALIBABA_CLOUD_STS_ENDPOINT: 'http://sts-vpc.cn-hangzhou.aliyuncs.com' },
      'ALIBABA_CLOUD_STS_ENDPOINT',
      /only for loopback/,
    ],
    ['another scheme', { endpoint: 'ftp://sts.aliyuncs.com' }, {}, 'endpoint', /scheme must be https/],
    ['a path', { endpoint: 'https://sts.aliyuncs.com/v1' }, {}, 'endpoint', /served at "\/"/],
    ['a query', { endpoint: 'https://sts.aliyuncs.com/?x=1' }, {}, 'endpoint', /remove the path, query/],
    ['user info', { endpoint: 'https://user:pw@sts.aliyuncs.com' }, {}, 'endpoint', /user info/],
    ['a bare host with a path', { endpoint: 'sts.aliyuncs.com/x' }, {}, 'endpoint', /give a host/],
    ['a bare host with a space', { endpoint: 'sts aliyuncs.com' }, {}, 'endpoint', /give a host/],
    ['garbage', { endpoint: 'https://' }, {}, 'endpoint', /neither a host name nor a URL|host is empty/],
    ['empty explicit endpoint', { endpoint: '' }, {}, 'endpoint', /non-empty host or URL/],
    ['empty explicit region', { region: ' ' }, {}, 'region', /non-empty region id/],
    ['malformed region option', { region: 'cn-hangzhou.evil.com/' }, {}, 'region', /not a region id/],
    ['malformed region env', {}, { ALIBABA_CLOUD_STS_REGION: 'CN_HANGZHOU' }, 'ALIBABA_CLOUD_STS_REGION', /not a region id/],
  ];

  it.each(table)('%s', (_name, options, env, field, message) => {
    let error: unknown;
    try {
      resolveStsEndpoint(options, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).message).toContain(field);
    expect((error as ConfigError).retryable).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['127.1', true], // the URL parser's shorthand for 127.0.0.1
    ['0x7f.0.0.1', true],
    ['[::1]', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['[::ffff:127.0.0.1]', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['[::2]', false],
    ['localhost.example.com', false],
    ['mylocalhost', false],
    ['sts.aliyuncs.com', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
    ['127.0.0.1/x', false],
  ])('%s -> %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('createStsClient: endpoint and options', () => {
  it('exposes the resolved endpoint', () => {
    expect(createStsClient({ env: {} }).endpoint).toBe('https://sts.aliyuncs.com');
    expect(createStsClient({ region: 'cn-hangzhou', vpc: true, env: {} }).endpoint).toBe(
      'https://sts-vpc.cn-hangzhou.aliyuncs.com',
    );
    expect(createStsClient({ env: { ALIBABA_CLOUD_STS_ENDPOINT: 'http://127.0.0.1:4000/' } }).endpoint).toBe(
      'http://127.0.0.1:4000',
    );
  });

  it('reads process.env by default', () => {
    const saved = process.env.ALIBABA_CLOUD_STS_REGION;
    process.env.ALIBABA_CLOUD_STS_REGION = 'cn-wulanchabu';
    try {
      expect(createStsClient().endpoint).toBe('https://sts.cn-wulanchabu.aliyuncs.com');
    } finally {
      if (saved === undefined) delete process.env.ALIBABA_CLOUD_STS_REGION;
      else process.env.ALIBABA_CLOUD_STS_REGION = saved;
    }
  });

  it('refuses an unusable endpoint at creation', () => {
    expect(() => createStsClient({ endpoint: 'http://example.com', env: {} })).toThrow(ConfigError);
  });

  it.each([
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ timeoutMs: -5 }, 'timeoutMs'],
    [{ timeoutMs: 2 ** 31 }, 'timeoutMs'],
    [{ signatureVersion: 'v2' as 'v1' }, 'signatureVersion'],
    [{ fetch: 'nope' as unknown as typeof fetch }, 'fetch'],
  ])('refuses %o', (options, field) => {
    let error: unknown;
    try {
      createStsClient({ ...options, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    expect((error as ConfigError).message).toContain(field);
  });
});
