/**
 * Fault matrix, other sources: the ECS metadata service (down, IMDSv2 token refused,
 * Code != Success, role renamed between discovery and credentials), the credentials URI
 * (401, 404, 500), an external process (hang, non-zero exit, huge output) and an OIDC token
 * file rotated under a running provider. Retry budgets are explicit; calls are counted by
 * the emulator, a counting fetch, or the process itself (one byte appended per run).
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CredentialsProviderError, fromCredentialsUri, fromEcsMetadata, type FromEcsMetadataOptions } from '../../src/index.js';
import { fromOidcTokenFile, fromProcess } from '../../src/node/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { countingFetch, expectTypedError, faultTable, issuedSecrets, probe, refusedPort, releaseProbes, settle } from './harness.js';

const RETRY = { retries: 2, minDelayMs: 1, maxDelayMs: 5 };
const TRIES = RETRY.retries + 1;
const table = faultTable();
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  releaseProbes();
  for (const c of cleanups.splice(0)) await c();
});
afterAll(() => recordFigures('faults', table.rows));

async function emulator(options: Parameters<typeof startEmulator>[0]): Promise<Emulator> {
  const emu = await startEmulator(options);
  cleanups.push(() => emu.close());
  return emu;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'alicred-faults-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Probe = ReturnType<typeof probe>;

describe('ECS metadata faults', () => {
  const ecs = (p: Probe, endpoint: string, extra: Partial<FromEcsMetadataOptions> = {}) =>
    fromEcsMetadata({ endpoint, env: {}, disableImdsV1: true, timeoutMs: 500, logger: p.logger, refresh: { retry: RETRY, onEvent: p.onEvent }, ...extra });

  it('metadata service down (connection refused)', async () => {
    const p = probe();
    const counter = countingFetch();
    const provider = ecs(p, `http://127.0.0.1:${await refusedPort()}`, { fetch: counter.fetch });
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'MetadataTokenFailed', message: /could not get a metadata token \(IMDSv2\).*ECONNREFUSED/ });
    expect(error.retryable).toBe(true);
    expect(counter.count()).toBe(TRIES); // one token PUT per try; no fallback with IMDSv1 disabled
    await p.end({ errors: [error], secrets: [], close: [provider] });
    table.row('metadata service down', counter.count(), `MetadataTokenFailed after ${TRIES} tries`);
  });

  it('IMDSv2 token refused (403), IMDSv1 disabled', async () => {
    const emu = await emulator({ ecs: { roleName: 'ecs-app' } });
    const p = probe();
    emu.inject({ action: 'MetadataToken', status: 403 });
    const provider = ecs(p, emu.metadataEndpoint);
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'MetadataTokenFailed', message: /HTTP 403; IMDSv1 is disabled/ });
    expect(emu.callCount()).toBe(1);
    await p.end({ errors: [!r.ok && r.error], secrets: issuedSecrets(emu), close: [provider] });
    table.row('IMDSv2 token refused', emu.callCount(), 'MetadataTokenFailed, not retried');
  });

  it('metadata Code != Success', async () => {
    const emu = await emulator({ ecs: { roleName: 'ecs-app' } });
    const p = probe();
    emu.inject({ action: 'MetadataCredentials', body: '{"Code":"Failed","Message":"the role is being updated"}' });
    const provider = ecs(p, emu.metadataEndpoint);
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'UnsuccessfulResponse', message: /answered "Failed" instead of Code "Success" \(Message: "the role is being updated"\)/ });
    expect([emu.callCount('MetadataToken'), emu.callCount('MetadataRole'), emu.callCount('MetadataCredentials')]).toEqual([1, 1, 1]);
    await p.end({ errors: [!r.ok && r.error], secrets: issuedSecrets(emu), close: [provider] });
    table.row('metadata Code != Success', emu.callCount(), 'UnsuccessfulResponse after 1 try (token, role, credentials)');
  });

  it('role renamed between the role-name and the credentials request', async () => {
    const emu = await emulator({ ecs: { roleName: 'ecs-app' } });
    const p = probe();
    emu.inject({ action: 'MetadataRole', renameRoleTo: 'ecs-app-v2' });
    const provider = ecs(p, emu.metadataEndpoint);
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'RoleNotFound', message: /no credentials for RAM role "ecs-app" \(HTTP 404\)/ });
    expect(emu.callCount()).toBe(3);
    const failedCalls = emu.callCount();
    // The next call discovers the new name (the token is reused).
    const credentials = p.took(await provider());
    expect(credentials.accessKeyId).toMatch(/^STS\./);
    expect([emu.callCount('MetadataToken'), emu.callCount('MetadataRole'), emu.callCount('MetadataCredentials')]).toEqual([1, 2, 2]);
    await p.end({ errors: [!r.ok && r.error], secrets: issuedSecrets(emu), close: [provider] });
    table.row('role renamed between requests', failedCalls, 'RoleNotFound after 1 try; next call rediscovers');
  });
});

describe('credentials URI faults', () => {
  async function uriCase(status: number, calls: number, retryable: boolean) {
    const emu = await emulator({ credentialsUri: { roleName: 'vended' } });
    const p = probe();
    emu.inject({ action: 'CredentialsUri', status, count: calls });
    const provider = fromCredentialsUri({ uri: emu.credentialsUri, timeoutMs: 500, logger: p.logger, refresh: { retry: RETRY, onEvent: p.onEvent } });
    const r = await settle(provider());
    const error = expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'HttpError', message: new RegExp(`/credentials-uri answered HTTP ${status}: `) });
    expect(error.retryable).toBe(retryable);
    expect(emu.callCount('CredentialsUri')).toBe(calls);
    expect(provider.peek()).toBeUndefined();
    await p.end({ errors: [error], secrets: issuedSecrets(emu), close: [provider] });
    table.row(`credentials URI ${status}`, calls, `HttpError after ${calls} ${calls === 1 ? 'try' : 'tries'}`);
  }

  it('credentials URI 401', () => uriCase(401, 1, false));
  it('credentials URI 404', () => uriCase(404, 1, false));
  it('credentials URI 500', () => uriCase(500, TRIES, true));

  it('credentials URI Expiration absurdly far: clamped to 12 h with a warning', async () => {
    const emu = await emulator({ credentialsUri: { roleName: 'vended' } });
    const p = probe();
    emu.inject({ action: 'CredentialsUri', expiresInSeconds: 10 * 365 * 86_400 });
    const provider = fromCredentialsUri({ uri: emu.credentialsUri, logger: p.logger, refresh: { retry: RETRY, onEvent: p.onEvent } });
    const credentials = p.took(await provider());
    const leftS = (credentials.expiration!.getTime() - Date.now()) / 1000;
    expect(leftS).toBeGreaterThan(43_195);
    expect(leftS).toBeLessThanOrEqual(43_200);
    expect(p.log.at('warn').join('\n')).toMatch(/more than the 43200 s \(12\.0 h\) any Alibaba Cloud temporary credential has; using 43200 s/);
    expect(emu.callCount('CredentialsUri')).toBe(1);
    await p.end({ secrets: issuedSecrets(emu), close: [provider] });
    table.row('credentials URI Expiration absurdly far', 1, 'clamped to 12 h, warned');
  });
});

describe('process faults (fromProcess, node -e)', () => {
  const SECRET_IN_STDERR = 'proc-stderr-secret-Qm3Xw8Ve2R';

  /** A command that appends one byte to `counter` per run, then runs `body`. */
  function processCase(body: string, extra: { timeoutMs?: number } = {}) {
    const dir = tempDir();
    const counter = join(dir, 'runs');
    writeFileSync(counter, '');
    const p = probe();
    const provider = fromProcess({
      command: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(counter)}, 'x'); ${body}`],
      env: {},
      logger: p.logger,
      refresh: { retry: RETRY, onEvent: p.onEvent },
      ...extra,
    });
    return { p, provider, runs: () => readFileSync(counter, 'utf8').length };
  }

  it('process hang: killed at timeoutMs', async () => {
    const { p, provider, runs } = processCase('setInterval(() => {}, 1000);', { timeoutMs: 1000 });
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'Timeout', message: /did not finish within 1000 ms; it was killed/ });
    expect(runs()).toBe(1);
    await p.end({ errors: [!r.ok && r.error], secrets: [], close: [provider] });
    table.row('process hang', 1, 'Timeout at 1000 ms, killed');
  });

  it('process non-zero exit (stderr quoting a secret)', async () => {
    const { p, provider, runs } = processCase(
      `console.error(JSON.stringify({ AccessKeyId: 'LTAI5tFromStderr00000001', AccessKeySecret: '${SECRET_IN_STDERR}' })); process.exit(3);`,
    );
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'ProcessFailed', message: /exited with code 3/ });
    expect(runs()).toBe(1);
    await p.end({ errors: [!r.ok && r.error], secrets: [SECRET_IN_STDERR], close: [provider] });
    table.row('process non-zero exit', 1, 'ProcessFailed (code 3), stderr redacted');
  });

  it('process huge output (200 KB on stdout)', async () => {
    const { p, provider, runs } = processCase(`process.stdout.write('x'.repeat(200_000));`);
    const r = await settle(provider());
    expectTypedError(!r.ok && r.error, { cls: CredentialsProviderError, code: 'OutputTooLarge', message: /printed more than 65536 bytes on stdout/ });
    expect(runs()).toBe(1);
    await p.end({ errors: [!r.ok && r.error], secrets: [], close: [provider] });
    table.row('process huge output', 1, 'OutputTooLarge at 64 KiB, killed');
  });
});

describe('OIDC token file rotated (renamed over) mid-run', () => {
  it('the refresh reads the new token, not the expired one', async () => {
    let now = Date.UTC(2026, 10, 27, 12, 0, 0);
    const clock = () => now;
    const emu = await emulator({ roles: [{ name: 'rrsa', trustedOidcProviders: ['emulator-oidc'] }], clock });
    const dir = tempDir();
    const tokenFile = join(dir, 'token');
    const tokenA = emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', expiresInSeconds: 600 });
    writeFileSync(tokenFile, tokenA);
    const p = probe();
    const provider = fromOidcTokenFile({
      roleArn: emu.roleArn('rrsa'),
      oidcProviderArn: emu.oidcProviderArn('emulator-oidc'),
      tokenFile,
      durationSeconds: 900,
      sts: { endpoint: emu.stsEndpoint },
      cache: false,
      env: {},
      logger: p.logger,
      refresh: { clock, retry: RETRY, onEvent: p.onEvent },
    });
    const first = p.took(await provider(), now);
    now += 850_000; // token A expired 250 s ago; the credential is inside its mandatory window
    // The kubelet's rotation: write beside, rename over (atomic).
    const tokenB = emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', expiresInSeconds: 3600 });
    writeFileSync(`${tokenFile}.tmp`, tokenB);
    renameSync(`${tokenFile}.tmp`, tokenFile);
    const second = p.took(await provider(), now);
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(emu.callCount('AssumeRoleWithOIDC')).toBe(2);
    expect(emu.requests().every((q) => q.code === undefined)).toBe(true);
    await p.end({ secrets: [tokenA, tokenB, ...issuedSecrets(emu)], close: [provider] });
    table.row('OIDC token file rotated mid-run', 2, 'refresh used the new token');
  });
});
