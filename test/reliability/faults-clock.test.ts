/**
 * Fault matrix, time: the local clock jumping forward or back, and a machine sleep (the
 * monotonic clock frozen while the wall clock moves on). Only `Date` and `performance` are
 * faked, so the emulator's sockets run on real timers; the emulator keeps its own clock
 * (`server`), the true time, which local clock faults do not move.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fromRamRole, fromStatic, type RefreshingProvider } from '../../src/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { faultTable, issuedSecrets, probe, releaseProbes } from './harness.js';

const ALICE = { accessKeyId: 'LTAI5tClockAlice0000001', accessKeySecret: 'alice-clock-secret-Rb6Tn1Hs4M' };
const RETRY = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };
const HOUR = 3_600_000;
const table = faultTable();
/** The true time (the server's clock), in ms. */
let server = 0;
let emu: Emulator;

beforeEach(async () => {
  server = Date.now();
  vi.useFakeTimers({ toFake: ['Date', 'performance'], now: server });
  // The request timestamps follow the faked local clock: let the emulator accept a skew of
  // up to a day, so what is tested is how credentials are judged, not the signature check.
  emu = await startEmulator({ users: [{ name: 'alice', ...ALICE }], roles: [{ name: 'app', trustedUsers: ['alice'] }], clock: () => server, maxSkewSeconds: 86_400 });
});
afterEach(async () => {
  releaseProbes();
  await emu.close();
  vi.useRealTimers();
});
afterAll(() => recordFigures('faults', table.rows));

type Probe = ReturnType<typeof probe>;
function role(p: Probe): RefreshingProvider {
  return fromRamRole({
    source: fromStatic(ALICE),
    roleArn: emu.roleArn('app'),
    durationSeconds: 900,
    cache: false,
    sts: { endpoint: emu.stsEndpoint },
    logger: p.logger,
    refresh: { retry: RETRY, onEvent: p.onEvent, backgroundTimer: false },
  });
}

/** Seconds the credential has left on the local clock. */
const leftS = (c: { expiration?: Date | undefined }) => (c.expiration!.getTime() - Date.now()) / 1000;

describe('clock faults (fromRamRole, emulator on the true clock)', () => {
  it('clock jumps forward 1 h: one early refresh, the new credential skew-corrected', async () => {
    const p = probe();
    const provider = role(p);
    const first = p.took(await provider());
    vi.setSystemTime(Date.now() + HOUR); // local wall clock only; the server did not move
    expect(provider.peek()).toBeUndefined(); // looks expired: not handed out
    const second = p.took(await provider());
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    // The server's Date says the local clock is 1 h ahead: 900 s on the local clock.
    expect(leftS(second)).toBeGreaterThan(895);
    expect(leftS(second)).toBeLessThanOrEqual(900);
    expect(emu.callCount('AssumeRole')).toBe(2);
    await p.end({ secrets: [ALICE.accessKeySecret, ...issuedSecrets(emu)], close: [provider] });
    expect(vi.getTimerCount()).toBe(0);
    table.row('clock jumps forward', 2, 'one early refresh, 900 s after correction');
  });

  it('clock jumps back 1 h after the credential expired: never served again', async () => {
    const p = probe();
    const provider = role(p);
    const first = p.took(await provider());
    vi.advanceTimersByTime(1_000_000); // 1000 s really pass (both clocks): expired
    server += 1_000_000;
    vi.setSystemTime(Date.now() - HOUR); // then the wall clock is set back
    expect(first.expiration!.getTime()).toBeGreaterThan(Date.now()); // the wall clock alone would keep it
    expect(provider.peek()).toBeUndefined();
    const second = p.took(await provider());
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(leftS(second)).toBeGreaterThan(895);
    expect(leftS(second)).toBeLessThanOrEqual(900);
    expect(emu.callCount('AssumeRole')).toBe(2);
    await p.end({ secrets: [ALICE.accessKeySecret, ...issuedSecrets(emu)], close: [provider] });
    expect(vi.getTimerCount()).toBe(0);
    table.row('clock jumps back', 2, 'expired one refused (monotonic age); refreshed');
  });

  it('machine sleep: monotonic clock frozen for 2 h, the expired credential is never served', async () => {
    const p = probe();
    const provider = role(p);
    const first = p.took(await provider());
    const monotonic = performance.now();
    vi.setSystemTime(Date.now() + 2 * HOUR); // asleep: the wall clock moves, performance.now() does not
    server += 2 * HOUR;
    expect(performance.now()).toBe(monotonic);
    expect(provider.peek()).toBeUndefined();
    const second = p.took(await provider());
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(leftS(second)).toBeGreaterThan(895);
    expect(emu.callCount('AssumeRole')).toBe(2);
    await p.end({ secrets: [ALICE.accessKeySecret, ...issuedSecrets(emu)], close: [provider] });
    expect(vi.getTimerCount()).toBe(0);
    table.row('machine sleep (2 h)', 2, 'expired one never served; refreshed on wake');
  });
});
