/**
 * Fault matrix, STS side: what fromRamRole does when AssumeRole fails in transit, answers
 * garbage, states a bad Expiration or a skewed clock, refuses the role, or loses it; and a
 * caller's abort or close() while a refresh runs. Every fault comes from the emulator's
 * inject() (or a refused port), with an explicit retry budget so the call count is exact.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialsError, fromRamRole, fromStatic, StsError, type FromRamRoleOptions } from '../../src/index.js';
import { startEmulator, type Emulator, type EmulatorFault } from '../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { countingFetch, expectTypedError, faultTable, issuedSecrets, probe, refusedPort, releaseProbes, settle } from './harness.js';

const ALICE = { accessKeyId: 'LTAI5tFaultAlice000000001', accessKeySecret: 'alice-fault-secret-7Hq2ZpL9xW' };
const BOB = { accessKeyId: 'LTAI5tFaultBob00000000001', accessKeySecret: 'bob-fault-secret-Vn4Kc8Ry1T' };
/** Three tries in all, a few ms apart: the count is exact and the wait short. */
const RETRY = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };
const TRIES = RETRY.retries + 1;

const table = faultTable();
let emu: Emulator;
let now = 0;
let manualClock = false;

beforeEach(async () => {
  manualClock = false;
  now = Date.UTC(2026, 10, 27, 12, 0, 0);
  emu = await startEmulator({
    users: [
      { name: 'alice', ...ALICE },
      { name: 'bob', ...BOB },
    ],
    roles: [{ name: 'app', trustedUsers: ['alice'] }],
    // Tests that move time set manualClock; the others run on the real clock.
    clock: () => (manualClock ? now : Date.now()),
  });
});
afterEach(async () => {
  releaseProbes();
  await emu.close();
});
afterAll(() => recordFigures('faults', table.rows));

type Probe = ReturnType<typeof probe>;

function roleProvider(p: Probe, extra: Partial<FromRamRoleOptions> & { timeoutMs?: number; clock?: () => number } = {}) {
  const { timeoutMs = 1000, clock, ...rest } = extra;
  return fromRamRole({
    source: fromStatic(ALICE),
    roleArn: emu.roleArn('app'),
    durationSeconds: 900,
    cache: false,
    sts: { endpoint: emu.stsEndpoint, timeoutMs },
    logger: p.logger,
    refresh: { retry: RETRY, onEvent: p.onEvent, ...(clock ? { clock } : {}) },
    ...rest,
  });
}

const secrets = () => [ALICE.accessKeySecret, BOB.accessKeySecret, ...issuedSecrets(emu)];

/** One fault that makes every try fail: the error, the exact number of AssumeRole calls. */
function failing(spec: {
  fault: string;
  inject: EmulatorFault;
  code: string;
  message: RegExp;
  calls: number;
  timeoutMs?: number;
  cls?: typeof CredentialsError;
  /** What the emulator logged for each faulted request (status sent, code). */
  record?: { status?: number; code?: string };
}) {
  return async () => {
    const p = probe();
    emu.inject({ action: 'AssumeRole', count: spec.calls, ...spec.inject });
    const provider = roleProvider(p, { timeoutMs: spec.timeoutMs ?? 1000 });
    const r = await settle(provider());
    expect(r.ok).toBe(false);
    const error = expectTypedError(!r.ok && r.error, { cls: spec.cls ?? StsError, code: spec.code, message: spec.message });
    expect(emu.callCount('AssumeRole')).toBe(spec.calls);
    expect(emu.requests().every((q) => q.fault)).toBe(true);
    if (spec.record) for (const q of emu.requests()) expect(q).toMatchObject(spec.record);
    p.took(provider.peek());
    expect(provider.peek()).toBeUndefined();
    expect(p.events.events.filter((e) => e.type === 'refresh-failed')).toHaveLength(1);
    await p.end({ errors: [error], secrets: secrets(), close: [provider] });
    table.row(spec.fault, emu.callCount('AssumeRole'), `${error.code} after ${spec.calls} ${spec.calls === 1 ? 'try' : 'tries'}`);
  };
}

/** One fault on an answer that is still served: the credential and what it says. */
async function served(fault: EmulatorFault, durationSeconds = 900) {
  const p = probe();
  emu.inject({ action: 'AssumeRole', ...fault });
  const provider = roleProvider(p, { durationSeconds });
  const credentials = p.took(await provider());
  expect(credentials.accessKeyId).toMatch(/^STS\./);
  expect(emu.callCount('AssumeRole')).toBe(1);
  const leftS = (credentials.expiration!.getTime() - Date.now()) / 1000;
  // No timer until the credential is used; a peek is a use. The watch then sees the advisory
  // timer, and end() checks close() cleared it.
  expect(p.engineTimersArmed()).toBe(0);
  expect(provider.peek()).toBe(credentials);
  expect(p.engineTimersArmed()).toBe(1);
  return { p, provider, credentials, leftS };
}

describe('STS faults (fromRamRole against the emulator)', () => {
  it('STS 500', failing({ fault: 'STS 500', inject: { status: 500 }, code: 'InternalError', message: /AssumeRole failed: InternalError: .*HTTP 500/, calls: TRIES }));

  it('STS 502', failing({ fault: 'STS 502', inject: { status: 502, code: 'BadGateway' }, code: 'BadGateway', message: /BadGateway.*HTTP 502/, calls: TRIES }));

  it('STS 503', failing({ fault: 'STS 503', inject: { status: 503 }, code: 'ServiceUnavailable', message: /temporary failure.*HTTP 503/, calls: TRIES }));

  it('Throttling.User', failing({ fault: 'Throttling.User', inject: { code: 'Throttling.User' }, code: 'Throttling.User', message: /user flow control.*HTTP 400/, calls: TRIES }));

  it('Throttling.Api', failing({ fault: 'Throttling.Api', inject: { code: 'Throttling.Api', message: 'Request was denied due to api flow control.' }, code: 'Throttling.Api', message: /api flow control/, calls: TRIES }));

  it('slow headers (timeoutMs 200)', failing({ fault: 'slow headers', inject: { latencyMs: 1500 }, timeoutMs: 200, code: 'Timeout', message: /did not answer within 200 ms/, calls: TRIES }));

  it('slow body (trickled 1 byte / 40 ms)', failing({ fault: 'slow body (trickle)', inject: { trickleMs: 40 }, timeoutMs: 200, code: 'Timeout', message: /did not answer within 200 ms/, calls: TRIES, record: { status: 200 } }));

  it('reset mid-body', failing({ fault: 'reset mid-body', inject: { resetAfterBytes: 40 }, code: 'NetworkError', message: /could not reach http:\/\/127\.0\.0\.1:\d+/, calls: TRIES, record: { status: 200, code: 'ConnectionReset' } }));

  it('HTML page from a proxy (502)', failing({ fault: 'HTML from a proxy', inject: { body: 'html', status: 502 }, code: 'InvalidResponse', message: /HTTP 502 with a body that is not an STS answer: .*Bad Gateway/, calls: TRIES }));

  it('truncated JSON (200)', failing({ fault: 'truncated JSON', inject: { body: 'malformed-json' }, code: 'InvalidResponse', message: /HTTP 200 with a body that is not an STS answer/, calls: 1 }));

  it('200 with an error body', failing({
    fault: '200 with an error body',
    inject: { status: 200, body: '{"RequestId":"R-1","Code":"ServiceUnavailable","Message":"busy, try later"}' },
    code: 'ServiceUnavailable',
    message: /ServiceUnavailable: busy, try later \(HTTP 200, RequestId R-1\)/,
    calls: TRIES,
  }));

  it('Expiration unparseable', failing({ fault: 'Expiration unparseable', inject: { fields: { Expiration: 'next tuesday' } }, code: 'InvalidResponse', message: /Credentials\.Expiration "next tuesday" is not an ISO 8601/, calls: 1 }));

  it('Expiration in the past', failing({ fault: 'Expiration in the past', inject: { expiresInSeconds: -60 }, cls: CredentialsError, code: 'ExpiredCredentials', message: /returned credentials that expired at/, calls: 1 }));

  it('connect refused', async () => {
    const p = probe();
    const counter = countingFetch();
    const provider = fromRamRole({
      source: fromStatic(ALICE),
      roleArn: emu.roleArn('app'),
      cache: false,
      sts: { endpoint: `http://127.0.0.1:${await refusedPort()}`, fetch: counter.fetch, timeoutMs: 1000 },
      logger: p.logger,
      refresh: { retry: RETRY, onEvent: p.onEvent },
    });
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: StsError, code: 'NetworkError', message: /could not reach .*ECONNREFUSED/ });
    expect(error.retryable).toBe(true);
    expect(counter.count()).toBe(TRIES);
    await p.end({ errors: [error], secrets: secrets(), close: [provider] });
    table.row('connect refused', counter.count(), `NetworkError after ${TRIES} tries`);
  });

  it('wrong content type (JSON labelled text/html)', async () => {
    const { p, provider, leftS } = await served({ contentType: 'text/html;charset=utf-8' });
    expect(leftS).toBeGreaterThan(880);
    await p.end({ secrets: secrets(), close: [provider] });
    table.row('wrong content type', 1, 'served: body read as JSON');
  });

  it('Expiration absurdly far: clamped to DurationSeconds with a warning', async () => {
    const { p, provider, leftS } = await served({ expiresInSeconds: 10 * 365 * 86_400 });
    expect(leftS).toBeGreaterThan(895);
    expect(leftS).toBeLessThanOrEqual(900);
    expect(p.log.at('warn').join('\n')).toMatch(/more than the 900 s asked for \(DurationSeconds\); using 900 s/);
    await p.end({ secrets: secrets(), close: [provider] });
    table.row('Expiration absurdly far', 1, 'clamped to 900 s, warned');
  });

  it('Date skew +1 h (server clock ahead)', async () => {
    const { p, provider, leftS } = await served({ clockOffsetMs: 3_600_000 });
    expect(leftS).toBeGreaterThan(895);
    expect(leftS).toBeLessThanOrEqual(900);
    await p.end({ secrets: secrets(), close: [provider] });
    table.row('Date skew +1 h', 1, 'served, 900 s on the local clock');
  });

  it('Date skew -1 h (server clock behind)', async () => {
    // Uncorrected, this Expiration would read as 45 min in the past.
    const { p, provider, leftS } = await served({ clockOffsetMs: -3_600_000 });
    expect(leftS).toBeGreaterThan(895);
    expect(leftS).toBeLessThanOrEqual(900);
    await p.end({ secrets: secrets(), close: [provider] });
    table.row('Date skew -1 h', 1, 'served, 900 s on the local clock');
  });

  it('stale Date with Age (a cache replaying a 50-minute-old answer)', async () => {
    const { p, provider, leftS } = await served({ clockOffsetMs: -3_000_000, headers: { Age: '3000' } }, 3600);
    expect(leftS).toBeGreaterThan(595);
    expect(leftS).toBeLessThanOrEqual(600);
    await p.end({ secrets: secrets(), close: [provider] });
    table.row('stale Date with Age', 1, 'served, 600 s left (not 3600)');
  });

  it('permission denied on the role (untrusted user)', async () => {
    const p = probe();
    const provider = roleProvider(p, { source: fromStatic(BOB) });
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: StsError, code: 'NoPermission', message: /check the role trust policy.*HTTP 403/ });
    expect((error as StsError).httpStatus).toBe(403);
    expect(emu.callCount('AssumeRole')).toBe(1);
    await p.end({ errors: [error], secrets: secrets(), close: [provider] });
    table.row('permission denied on the role', 1, 'NoPermission, not retried');
  });

  it('role deleted mid-run: never the cached one past its mandatory point', async () => {
    manualClock = true;
    const p = probe();
    const provider = roleProvider(p, { clock: () => now });
    const first = p.took(await provider(), now);
    expect(emu.deleteRole('app')).toBe(true);
    now += 850_000; // 50 s left: inside the 90 s mandatory window
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: StsError, code: 'EntityNotExist.Role', message: /Role not exists.*HTTP 404/ });
    expect(provider.peek()).toBeUndefined();
    // Within the failure backoff (2.5-5 s): the same error, no STS call.
    expect(await settle(provider())).toEqual({ ok: false, error });
    expect(emu.callCount('AssumeRole')).toBe(2);
    now += 60_000; // expired, backoff over: one more try, still nothing handed out
    const again = await settle(provider());
    expectTypedError(!again.ok && again.error, { cls: StsError, code: 'EntityNotExist.Role' });
    expect(emu.callCount('AssumeRole')).toBe(3);
    expect(first.expiration!.getTime()).toBeLessThan(now);
    expect(provider.peek()).toBeUndefined();
    await p.end({ errors: [error, !again.ok && again.error], secrets: secrets(), close: [provider] });
    table.row('role deleted mid-run', 3, 'EntityNotExist.Role, 1 try per backoff; cached one withheld');
  });

  it('AbortSignal during a refresh: the caller gets its abort, the shared refresh goes on', async () => {
    const p = probe();
    emu.inject({ action: 'AssumeRole', latencyMs: 300 });
    const provider = roleProvider(p);
    const controller = new AbortController();
    const aborted = settle(provider({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const joined = provider();
    const r = await aborted;
    expect(r.ok).toBe(false);
    const reason = !r.ok ? (r.error as Error) : undefined;
    expect(reason?.name).toBe('AbortError');
    expect(reason).toBe(controller.signal.reason);
    p.took(await joined);
    expect(emu.callCount('AssumeRole')).toBe(1);
    await p.end({ errors: [reason], secrets: secrets(), close: [provider] });
    table.row('AbortSignal during a refresh', 1, 'caller: AbortError; others served');
  });

  it('close() during a refresh: the call completes, no timer is armed after it', async () => {
    const p = probe();
    emu.inject({ action: 'AssumeRole', latencyMs: 200 });
    const provider = roleProvider(p);
    const pending = provider();
    setTimeout(() => provider.close(), 50);
    p.took(await pending);
    expect(provider.peek()).toBeDefined();
    expect(p.engineTimersArmed()).toBe(0);
    expect(emu.callCount('AssumeRole')).toBe(1);
    // end() checks that no engine timer is left armed (close() ran before the answer came).
    await p.end({ secrets: secrets(), close: [] });
    table.row('close() during a refresh', 1, 'call served; no timer re-armed');
  });
});
