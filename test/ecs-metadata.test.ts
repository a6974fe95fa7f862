/**
 * fromEcsMetadata against the emulator's ECS instance metadata service (real HTTP on
 * 127.0.0.1 only), plus the emulator's IMDS endpoints themselves. Every provider gets an
 * explicit `env` and the emulator's endpoint: nothing reads process.env or contacts
 * 100.100.100.200.
 */
import * as OpenApiModule from '@alicloud/openapi-client';
import * as Iot from '@alicloud/iot20180120';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../src/errors.js';
import { fromEcsMetadata, type FromEcsMetadataOptions } from '../src/providers/ecs-metadata.js';
import type { RefreshEvent } from '../src/refresh.js';
import { createStsClient } from '../src/sts/client.js';
import { toTeaCredential } from '../src/adapters/tea.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/testing/emulator/index.js';
import type { CredentialProvider } from '../src/types.js';
import { failure } from './helpers.js';

// CJS packages: the named export or the one under default, whichever the loader gives.
const OpenApi = ((OpenApiModule as unknown as { default?: { Config?: unknown } }).default?.Config
  ? (OpenApiModule as unknown as { default: typeof OpenApiModule }).default
  : OpenApiModule) as { Config: new (m: object) => object };
type AnyCtor = new (config: unknown) => Record<string, (...args: unknown[]) => Promise<{ body?: Record<string, unknown> }>>;
const IotClient = ((Iot as unknown as { default?: AnyCtor }).default ?? Iot) as unknown as AnyCtor;
const IotModels = Iot as unknown as { QueryProductListRequest: new (m: object) => object };

const ROLE = 'EcsInstanceRole';
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });
const baseOptions: EmulatorOptions = {
  roles: [{ name: ROLE, policies: [allow('iot:Query*')] }],
  products: [{ productKey: 'a1EcsKey01', productName: 'ecs-thermometer' }],
};

const started: Emulator[] = [];
async function emulator(ecs: EmulatorOptions['ecs'] = { roleName: ROLE }, extra: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ ...baseOptions, ecs, ...extra });
  if (!emu.url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to contact ${emu.url}`);
  started.push(emu);
  return emu;
}

const providers: { close(): void }[] = [];
function ecs(emu: Emulator, options: FromEcsMetadataOptions = {}) {
  const provider = fromEcsMetadata({ endpoint: emu.metadataEndpoint, env: {}, ...options });
  providers.push(provider);
  return provider;
}

const metadataRequests = (emu: Emulator) => emu.requests().filter((r) => r.action.startsWith('Metadata'));

afterEach(() => {
  for (const p of providers.splice(0)) p.close();
});
afterAll(async () => {
  await Promise.all(started.map((e) => e.close()));
});

let shared: Emulator;
beforeAll(async () => {
  shared = await emulator({ roleName: ROLE });
});

describe('fromEcsMetadata: IMDSv2 (hardening mode)', () => {
  it('gets a token, discovers the role, sends the token header, and reuses the token across refreshes', async () => {
    const emu = await emulator({ roleName: ROLE, requireToken: true });
    const provider = ecs(emu);
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(creds.securityToken).toBeTruthy();
    expect(creds.source).toBe('ecs-metadata');
    // 6 h credentials (the emulator floors Expiration to whole seconds)
    expect(creds.expiration!.getTime() - Date.now()).toBeGreaterThan(21_600_000 - 5_000);
    expect(metadataRequests(emu).map((r) => [r.action, r.method, r.status, r.metadataToken])).toEqual([
      ['MetadataToken', 'PUT', 200, undefined],
      ['MetadataRole', 'GET', 200, 'valid'],
      ['MetadataCredentials', 'GET', 200, 'valid'],
    ]);
    expect(metadataRequests(emu)[2]!.path).toBe(`/latest/meta-data/ram/security-credentials/${ROLE}`);

    await provider({ forceRefresh: true });
    emu.rotateMetadataCredentials();
    const rotated = await provider({ forceRefresh: true });
    expect(rotated.accessKeyId).not.toBe(creds.accessKeyId);
    expect(emu.callCount('MetadataToken')).toBe(1); // one token for every refresh
    expect(emu.callCount('MetadataRole')).toBe(3); // discovered at each refresh (the role may change)
    expect(emu.callCount('MetadataCredentials')).toBe(3);
    expect(metadataRequests(emu).every((r) => r.action === 'MetadataToken' || r.metadataToken === 'valid')).toBe(true);
  });

  it('1000 concurrent cold callers make one request of each kind', async () => {
    const emu = await emulator();
    const provider = ecs(emu);
    const all = await Promise.all(Array.from({ length: 1000 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect([emu.callCount('MetadataToken'), emu.callCount('MetadataRole'), emu.callCount('MetadataCredentials')]).toEqual([1, 1, 1]);
    expect(provider.peek()).toBe(all[0]);
  });

  it('the credentials are real: STS GetCallerIdentity and the IoT product API accept them', async () => {
    const provider = ecs(shared);
    const creds = await provider();
    const who = await createStsClient({ endpoint: shared.stsEndpoint, env: {} }).getCallerIdentity(creds);
    expect(who.arn).toBe(`acs:ram::${shared.accountId}:assumed-role/${ROLE.toLowerCase()}/i-emulator0000000000`);
    expect(who.identityType).toBe('AssumedRoleUser');

    const iot = new IotClient(new OpenApi.Config({ credential: toTeaCredential(provider), endpoint: shared.host, protocol: 'http' }));
    const result = await iot.queryProductList!(new IotModels.QueryProductListRequest({ currentPage: 1, pageSize: 10 }));
    expect(result.body?.success).toBe(true);
    expect(shared.requests().filter((r) => r.action === 'QueryProductList').at(-1)).toMatchObject({ status: 200, accessKeyId: creds.accessKeyId });
  });

  it('a stale cached token (401) with IMDSv1 disabled: one fresh token, then success', async () => {
    const emu = await emulator({ roleName: ROLE, requireToken: true });
    const provider = ecs(emu, { disableImdsV1: true, roleName: ROLE });
    await provider();
    expect(emu.revokeMetadataTokens()).toBe(1);
    emu.rotateMetadataCredentials();
    const again = await provider({ forceRefresh: true });
    expect(again.accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).map((r) => [r.action, r.status, r.metadataToken])).toEqual([
      ['MetadataToken', 200, undefined],
      ['MetadataCredentials', 200, 'valid'],
      ['MetadataCredentials', 401, 'invalid'],
      ['MetadataToken', 200, undefined],
      ['MetadataCredentials', 200, 'valid'],
    ]);
  });
});

describe('fromEcsMetadata: role name and configuration', () => {
  it('takes the role from env ALIBABA_CLOUD_ECS_METADATA (no discovery request)', async () => {
    const emu = await emulator();
    const provider = ecs(emu, { env: { ALIBABA_CLOUD_ECS_METADATA: ` ${ROLE} ` } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('MetadataRole')).toBe(0);
  });

  it('the roleName option wins over the env variable', async () => {
    const emu = await emulator();
    const provider = ecs(emu, { roleName: ROLE, env: { ALIBABA_CLOUD_ECS_METADATA: 'SomeOtherRole' } });
    await provider();
    expect(emu.callCount('MetadataRole')).toBe(0);
    expect(metadataRequests(emu).at(-1)!.path).toBe(`/latest/meta-data/ram/security-credentials/${ROLE}`);
  });

  it('ALIBABA_CLOUD_ECS_METADATA_DISABLED=true (any case): declines with tryNext, without any request', async () => {
    for (const value of ['true', 'TRUE', ' True ']) {
      const fetchSpy = vi.fn(globalThis.fetch);
      const before = shared.callCount();
      const provider = ecs(shared, { env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: value, ALIBABA_CLOUD_ECS_METADATA: ROLE }, fetch: fetchSpy });
      const e = await failure(provider());
      expect(e).toBeInstanceOf(CredentialsProviderError);
      expect((e as CredentialsProviderError).tryNext).toBe(true);
      expect((e as CredentialsProviderError).provider).toBe('ecs-metadata');
      expect(e.message).toMatch(/ALIBABA_CLOUD_ECS_METADATA_DISABLED/);
      expect(fetchSpy).not.toHaveBeenCalled();
      expect(shared.callCount()).toBe(before);
    }
  });

  it('ALIBABA_CLOUD_ECS_METADATA_DISABLED=false or unset: enabled', async () => {
    const provider = ecs(shared, { env: { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'false' } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
  });

  it('no RAM role attached: discovery 404 is a CredentialsProviderError (tryNext false) saying so', async () => {
    const emu = await emulator({}); // an instance without a role
    const provider = ecs(emu);
    const e = await failure(provider());
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ code: 'NoRole', tryNext: false, retryable: false });
    expect(e.message).toMatch(/no RAM role is attached to this ECS instance/);
    expect(emu.callCount('MetadataRole')).toBe(1); // not retried, no IMDSv1 retry of a 404 either
    expect(emu.callCount('MetadataCredentials')).toBe(0);
  });

  it('a role name the instance does not have: RoleNotFound', async () => {
    const provider = ecs(shared, { roleName: 'NotTheInstanceRole' });
    const e = await failure(provider());
    expect(e).toMatchObject({ code: 'RoleNotFound', tryNext: false });
    expect(e.message).toMatch(/"NotTheInstanceRole"/);
  });

  it('validates options up front (ConfigError naming the field), and the env role at call time', async () => {
    const before = shared.callCount();
    expect(() => fromEcsMetadata({ endpoint: 'ftp://127.0.0.1/', env: {} })).toThrow(ConfigError);
    expect(() => fromEcsMetadata({ endpoint: 'not a url', env: {} })).toThrow(/endpoint/);
    expect(() => fromEcsMetadata({ timeoutMs: 0, env: {} })).toThrow(/timeoutMs/);
    expect(() => fromEcsMetadata({ retries: -1, env: {} })).toThrow(/retries/);
    try {
      fromEcsMetadata({ roleName: '../../latest/api/token', env: {} });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe('roleName');
    }
    const provider = ecs(shared, { env: { ALIBABA_CLOUD_ECS_METADATA: 'a/b' } });
    const e = await failure(provider());
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('ALIBABA_CLOUD_ECS_METADATA');
    // Building providers (and a bad env role) made no request beyond the token PUT.
    expect(shared.requests().slice(before).every((r) => r.action === 'MetadataToken')).toBe(true);
  });
});

describe('fromEcsMetadata: IMDSv1 fallback', () => {
  it.each([403, 404, 500])('token PUT answers %i: continues without the token (IMDSv1)', async (status) => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataToken', status });
    const provider = ecs(emu);
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).map((r) => [r.action, r.status, r.metadataToken])).toEqual([
      ['MetadataToken', status, undefined],
      ['MetadataRole', 200, 'absent'],
      ['MetadataCredentials', 200, 'absent'],
    ]);
  });

  it('token PUT fails and IMDSv1 is disabled (option or env): a clear error, no data request', async () => {
    for (const options of [{ disableImdsV1: true }, { env: { ALIBABA_CLOUD_IMDSV1_DISABLED: 'True' } }] as FromEcsMetadataOptions[]) {
      const emu = await emulator();
      emu.inject({ action: 'MetadataToken', status: 403 });
      const e = await failure(ecs(emu, options)());
      expect(e).toBeInstanceOf(CredentialsProviderError);
      expect(e).toMatchObject({ code: 'MetadataTokenFailed', retryable: false, tryNext: false });
      expect(e.message).toMatch(/metadata token \(IMDSv2\).*HTTP 403.*IMDSv1 is disabled/);
      expect(metadataRequests(emu).map((r) => r.action)).toEqual(['MetadataToken']);
    }
  });

  it('disableImdsV1: false overrides ALIBABA_CLOUD_IMDSV1_DISABLED=true', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataToken', status: 403 });
    const provider = ecs(emu, { disableImdsV1: false, env: { ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
  });

  it('token PUT 503 with IMDSv1 disabled: retryable, retried, then served with a token', async () => {
    const emu = await emulator({ roleName: ROLE, requireToken: true });
    emu.inject({ action: 'MetadataToken', status: 503 });
    const provider = ecs(emu, { disableImdsV1: true, roleName: ROLE });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).map((r) => [r.action, r.status])).toEqual([
      ['MetadataToken', 503],
      ['MetadataToken', 200],
      ['MetadataCredentials', 200],
    ]);
  });

  it('a data request refused with the token is retried once without it', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', status: 500 });
    const provider = ecs(emu, { roleName: ROLE });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).map((r) => [r.action, r.status, r.metadataToken])).toEqual([
      ['MetadataToken', 200, undefined],
      ['MetadataCredentials', 500, 'valid'],
      ['MetadataCredentials', 200, 'absent'],
    ]);
  });

  it('...but not when IMDSv1 is disabled: the 500 is retried with the token instead', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', status: 500 });
    const provider = ecs(emu, { roleName: ROLE, disableImdsV1: true });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).map((r) => [r.action, r.status, r.metadataToken])).toEqual([
      ['MetadataToken', 200, undefined],
      ['MetadataCredentials', 500, 'valid'],
      ['MetadataCredentials', 200, 'valid'],
    ]);
  });

  it('hardening mode enforced and the token refused: the IMDSv1 request gets 403, reported', async () => {
    const emu = await emulator({ roleName: ROLE, requireToken: true });
    emu.inject({ action: 'MetadataToken', status: 403 });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e).toMatchObject({ code: 'HttpError', retryable: false });
    expect(e.message).toMatch(/HTTP 403/);
  });
});

describe('fromEcsMetadata: bad answers never leak a secret', () => {
  const SECRET = 'sEcReTvAlUe0123456789';
  const future = () => new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

  it('Code other than Success: UnsuccessfulResponse', async () => {
    const emu = await emulator();
    emu.inject({
      action: 'MetadataCredentials',
      body: JSON.stringify({ Code: 'Failed', AccessKeyId: 'STS.x', AccessKeySecret: SECRET, SecurityToken: SECRET, Expiration: future() }),
    });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ code: 'UnsuccessfulResponse', retryable: false });
    expect(e.message).toMatch(/"Failed" instead of Code "Success"/);
    expect(e.message).not.toContain(SECRET);
  });

  it('Code missing: refused (the metadata service always sends it)', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', body: JSON.stringify({ AccessKeyId: 'STS.x', AccessKeySecret: SECRET, SecurityToken: 't', Expiration: future() }) });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e).toMatchObject({ code: 'UnsuccessfulResponse' });
    expect(e.message).not.toContain(SECRET);
  });

  it('missing fields: InvalidResponse naming them', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', body: JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.x', AccessKeySecret: SECRET }) });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e).toMatchObject({ code: 'InvalidResponse' });
    expect(e.message).toMatch(/without SecurityToken, Expiration/);
    expect(e.message).not.toContain(SECRET);
  });

  it('not JSON: InvalidResponse with the status and a short excerpt', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', body: 'malformed-json' });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e).toMatchObject({ code: 'InvalidResponse' });
    expect(e.message).toMatch(/HTTP 200 with a body that is not JSON: "\{"RequestId"/);
  });

  it('a secret in a non-JSON body is redacted from the excerpt', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', body: `AccessKeySecret=${SECRET} SecurityToken: ${SECRET}x oops` });
    const e = await failure(ecs(emu, { roleName: ROLE })());
    expect(e.message).toMatch(/not JSON/);
    expect(e.message).not.toContain(SECRET);
  });

  it('Expiration is parsed leniently (fraction, no zone = UTC, offsets)', async () => {
    const at = Date.now() + 3 * 3600_000;
    const forms = [
      new Date(at).toISOString(), // with milliseconds
      new Date(at).toISOString().replace('Z', ''), // no zone: UTC
      new Date(at + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+08:00'),
    ];
    for (const Expiration of forms) {
      const emu = await emulator();
      emu.inject({ action: 'MetadataCredentials', body: JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.lenient', AccessKeySecret: 's', SecurityToken: 't', Expiration }) });
      const creds = await ecs(emu, { roleName: ROLE })();
      expect(Math.abs(creds.expiration!.getTime() - at)).toBeLessThan(1000);
    }
  });

  it('an already expired credential is an error, never served', async () => {
    const emu = await emulator();
    const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    emu.inject({ action: 'MetadataCredentials', body: JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.old', AccessKeySecret: 's', SecurityToken: 't', Expiration: past }) });
    const provider = ecs(emu, { roleName: ROLE });
    const e = await failure(provider());
    expect(e).toMatchObject({ code: 'ExpiredCredentials' });
    expect(provider.peek()).toBeUndefined();
  });
});

describe('fromEcsMetadata: network failures and timeouts', () => {
  it('a request slower than timeoutMs times out; retried (retries + 1 attempts), then a retryable Timeout', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', latencyMs: 400, count: 3 });
    const started = Date.now();
    const e = await failure(ecs(emu, { roleName: ROLE, timeoutMs: 100, retries: 2 })());
    expect(e).toBeInstanceOf(CredentialsProviderError);
    expect(e).toMatchObject({ code: 'Timeout', retryable: true });
    expect(e.message).toMatch(/timed out after 100 ms/);
    expect(emu.callCount('MetadataCredentials')).toBe(3);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a timeout followed by a good answer: served', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', latencyMs: 400, count: 1 });
    const creds = await ecs(emu, { roleName: ROLE, timeoutMs: 100 })();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('MetadataCredentials')).toBe(2);
  });

  it('a slow token PUT falls back to IMDSv1 at once', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataToken', latencyMs: 400 });
    const creds = await ecs(emu, { roleName: ROLE, timeoutMs: 100 })();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(metadataRequests(emu).at(-1)).toMatchObject({ action: 'MetadataCredentials', metadataToken: 'absent' });
  });

  it('connection refused: a retryable NetworkError', async () => {
    const gone = await startEmulator({});
    const endpoint = gone.metadataEndpoint;
    await gone.close();
    const provider = fromEcsMetadata({ endpoint, env: {}, roleName: ROLE, retries: 1, timeoutMs: 500 });
    providers.push(provider);
    const e = await failure(provider());
    expect(e).toMatchObject({ code: 'NetworkError', retryable: true });
    expect(e.message).toContain(endpoint);
  });

  it('a connection reset is retried', async () => {
    const emu = await emulator();
    emu.inject({ action: 'MetadataCredentials', reset: true });
    const creds = await ecs(emu, { roleName: ROLE, disableImdsV1: true })();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('MetadataCredentials')).toBe(2);
  });
});

describe('fromEcsMetadata: rotation (real time, scaled lifetimes)', () => {
  /** Calls the provider every `everyMs` for `forMs`, checking that nothing expired is ever served. */
  async function drive(provider: CredentialProvider, forMs: number, everyMs: number) {
    const seen: string[] = [];
    let calls = 0;
    const end = Date.now() + forMs;
    while (Date.now() < end) {
      const c = await provider();
      calls++;
      expect(c.expiration!.getTime()).toBeGreaterThan(Date.now());
      if (seen.at(-1) !== c.accessKeyId) seen.push(c.accessKeyId);
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return { seen, calls };
  }

  it('credentials rotated well before expiry: the provider switches to the new ones, never serves an expired one', async () => {
    // 6 h lifetime / 7200 = 3 s; the service rotates 4 h (2 s) before expiry, i.e. ~1 s after issuing.
    const emu = await emulator({ roleName: ROLE, lifetimeSeconds: 21_600, rotateBeforeSeconds: 14_400 }, { timeScale: 7200 });
    const provider = ecs(emu, { roleName: ROLE });
    const { seen, calls } = await drive(provider, 6_500, 10);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length); // never went back to an old one
    // a handful of requests for hundreds of calls
    expect(calls).toBeGreaterThan(200);
    expect(emu.callCount('MetadataCredentials')).toBeLessThan(seen.length * 3 + 2);
    // the current ones work
    const who = await createStsClient({ endpoint: emu.stsEndpoint, env: {} }).getCallerIdentity(await provider());
    expect(who.identityType).toBe('AssumedRoleUser');
  });

  it('a service that hands out the same credentials until late: not rotated, a few requests, no storm', async () => {
    // 6 h / 3600 = 6 s; the service rotates only 1 h (1 s) before expiry, after the
    // provider's advisory point (L/2 = ~3 s before expiry).
    const emu = await emulator({ roleName: ROLE, lifetimeSeconds: 21_600, rotateBeforeSeconds: 3_600 }, { timeScale: 3600 });
    const events: RefreshEvent[] = [];
    const provider = ecs(emu, { roleName: ROLE, refresh: { onEvent: (e) => events.push(e) } });
    const { seen, calls } = await drive(provider, 7_000, 2);
    expect(seen.length).toBe(2); // the first, then the rotated one
    expect(calls).toBeGreaterThan(1_000);
    const notRotated = events.filter((e) => e.type === 'not-rotated').length;
    expect(notRotated).toBeGreaterThanOrEqual(1);
    // 1 first fetch + a few "same again" + 1 rotated: at most a few requests over >1000 calls
    expect(emu.callCount('MetadataCredentials')).toBeLessThanOrEqual(8);
    expect(emu.callCount('MetadataToken')).toBe(1);
    expect(events.some((e) => e.type === 'refresh-failed')).toBe(false);
  }, 15_000);
});

describe('emulator: ECS metadata endpoints', () => {
  const put = (emu: Emulator, ttl: string | undefined) =>
    fetch(`${emu.metadataEndpoint}/latest/api/token`, { method: 'PUT', headers: ttl === undefined ? {} : { 'X-aliyun-ecs-metadata-token-ttl-seconds': ttl } });

  it('token TTL must be 1..21600; GET on the token path is 405', async () => {
    expect((await put(shared, undefined)).status).toBe(400);
    expect((await put(shared, '0')).status).toBe(400);
    expect((await put(shared, '21601')).status).toBe(400);
    const ok = await put(shared, '21600');
    expect(ok.status).toBe(200);
    expect((await ok.text()).length).toBeGreaterThan(20);
    expect((await fetch(`${shared.metadataEndpoint}/latest/api/token`)).status).toBe(405);
  });

  it('a token expires after its TTL (real seconds)', async () => {
    const token = await (await put(shared, '1')).text();
    const get = () => fetch(`${shared.metadataEndpoint}/latest/meta-data/ram/security-credentials/`, { headers: { 'X-aliyun-ecs-metadata-token': token } });
    expect(await (await get()).text()).toBe(ROLE);
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await get()).status).toBe(401);
  });

  it('serves the same credentials until the rotation point, with Code Success and LastUpdated', async () => {
    const url = `${shared.metadataEndpoint}/latest/meta-data/ram/security-credentials/${ROLE}`;
    const a = (await (await fetch(url)).json()) as Record<string, string>;
    const b = (await (await fetch(url)).json()) as Record<string, string>;
    expect(a.Code).toBe('Success');
    expect(Object.keys(a).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Code', 'Expiration', 'LastUpdated', 'SecurityToken']);
    expect(b.AccessKeyId).toBe(a.AccessKeyId);
    shared.rotateMetadataCredentials();
    const c = (await (await fetch(url)).json()) as Record<string, string>;
    expect(c.AccessKeyId).not.toBe(a.AccessKeyId);
  });

  it('without the ecs option every /latest/ path is 404; faults apply to metadata actions', async () => {
    const plain = await startEmulator({});
    started.push(plain);
    expect((await put(plain, '60')).status).toBe(404);
    expect(plain.requests().at(-1)).toMatchObject({ action: 'MetadataToken', path: '/latest/api/token', status: 404 });
    shared.inject({ action: 'MetadataRole', status: 502 });
    const r = await fetch(`${shared.metadataEndpoint}/latest/meta-data/ram/security-credentials/`);
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    expect(shared.requests().at(-1)).toMatchObject({ action: 'MetadataRole', fault: true, status: 502 });
  });

  it('rejects bad ecs options', async () => {
    await expect(startEmulator({ ecs: { roleName: 'bad/name' } })).rejects.toThrow(/ecs.roleName/);
    await expect(startEmulator({ ecs: { roleName: 'r', lifetimeSeconds: 100, rotateBeforeSeconds: 100 } })).rejects.toThrow(/rotateBeforeSeconds/);
  });
});
