/**
 * The leak scan: every kind of scenario (successes, refreshes, role chains, V1 and V3
 * signing, OIDC, ECS metadata, credentials URI, an external process, profile files, the
 * default chain, the Tea adapter, and their failures) runs with one capturing logger and one
 * `onEvent` sink. Then every captured line, every thrown error (inspected with its causes),
 * every event and every public object's printed forms are searched for any secret: the
 * users' secrets, the OIDC tokens, the bearer token, and every AccessKeySecret and
 * SecurityToken the emulator issued. Zero hits.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chain,
  createStsCache,
  fromCredentialsUri,
  fromEcsMetadata,
  fromOidc,
  fromRamRole,
  fromStatic,
  refreshing,
  type CredentialProvider,
  type StsClientOptions,
} from '../../src/index.js';
import { toTeaCredential } from '../../src/adapters/tea.js';
import { defaultProvider, fromCliProfile, fromIniProfile, fromProcess } from '../../src/node/index.js';
import { startEmulator, type Emulator } from '../../src/testing/index.js';
import { recordFigures } from './figures.js';
import { captureEvents, captureLogger, errorTexts, issuedSecrets } from './harness.js';

const ALICE = { name: 'alice', accessKeyId: 'LTAI5tLeakScanAlice00001', accessKeySecret: 'alice-secret-LEAKSCAN-0123456789ab' };
const BOB = { name: 'bob', accessKeyId: 'LTAI5tLeakScanBob000002', accessKeySecret: 'bob-secret-LEAKSCAN-0123456789abcd' };
const BEARER = 'Bearer vend-LEAKSCAN-bearer-token-0123456789';
const PROCESS_SECRET = 'procSecretLEAKSCANabcdefghijklmnopqrstuv';
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });

let emu: Emulator;
let home: string;
const log = captureLogger();
const sink = captureEvents();
/** Everything printed or thrown during the scenarios. */
const texts: string[] = [];
const oidcTokens: string[] = [];
const rows: { scenario: string; outcome: string }[] = [];

/** Runs one scenario: whatever it returns or throws is printed in every form and kept. */
async function scenario(name: string, run: () => Promise<unknown>): Promise<void> {
  let outcome: string;
  try {
    const value = await run();
    for (const v of Array.isArray(value) ? value : [value]) {
      texts.push(inspect(v, { depth: 10 }), String(v));
      try {
        texts.push(JSON.stringify(v) ?? '');
      } catch {
        // A value JSON cannot show is not a leak either.
      }
    }
    outcome = 'ok';
  } catch (error) {
    texts.push(...errorTexts(error));
    outcome = (error as { code?: string }).code ?? 'error';
  }
  rows.push({ scenario: name, outcome });
}

const refresh = { logger: log.logger, onEvent: sink.onEvent, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5 } };

beforeAll(async () => {
  emu = await startEmulator({
    users: [
      { ...ALICE, policies: [allow('sts:AssumeRole', 'iot:*')] },
      { ...BOB, policies: [allow('iot:*')] },
    ],
    roles: [
      { name: 'app', trustedUsers: ['alice'], policies: [allow('sts:AssumeRole', 'iot:*')], trustedOidcProviders: ['ack'] },
      { name: 'auditor', trustedRoles: ['app'], policies: [allow('iot:Query*')] },
    ],
    oidcProviders: [{ name: 'ack' }],
    ecs: { roleName: 'ecs-app', requireToken: true },
    credentialsUri: { roleName: 'vended', requireHeader: { name: 'Authorization', value: BEARER } },
    products: [{ productKey: 'a1LeakScan', productName: 'thermometer' }],
  });
  home = mkdtempSync(join(tmpdir(), 'alicred-leaks-'));
});

afterAll(async () => {
  await emu.close();
  rmSync(home, { recursive: true, force: true });
});

const sts = (extra: StsClientOptions = {}): StsClientOptions => ({ endpoint: emu.stsEndpoint, ...extra });
const role = (name: string) => emu.roleArn(name);

describe('leak scan', () => {
  it('runs every kind of scenario, then finds no secret in anything printed, thrown, logged or emitted', async () => {
    // STS, both signatures, a refresh, the Tea adapter and role chaining.
    for (const signatureVersion of ['v3', 'v1'] as const) {
      await scenario(`fromRamRole ${signatureVersion}, forced refresh, Tea model`, async () => {
        const p = fromRamRole({ source: fromStatic(ALICE), roleArn: role('app'), sts: sts({ signatureVersion }), cache: createStsCache(), refresh, logger: log.logger });
        const first = await p();
        const second = await p({ forceRefresh: true });
        const tea = toTeaCredential(p) as unknown as { getCredential(): Promise<unknown>; getAccessKeySecret(): Promise<string> };
        const model = await tea.getCredential();
        await tea.getAccessKeySecret();
        p.close();
        return [first, second, model, p, tea];
      });
      await scenario(`role chain ${signatureVersion}`, async () => {
        const app = fromRamRole({ source: fromStatic(ALICE), roleArn: role('app'), sts: sts({ signatureVersion }), cache: false, refresh });
        const auditor = fromRamRole({ source: app, roleArn: role('auditor'), sts: sts({ signatureVersion }), cache: false, refresh });
        const c = await auditor();
        auditor.close();
        app.close();
        return c;
      });
      // An STS source signing with a wrong secret: the service quotes its string to sign,
      // which under V1 carries the source's SecurityToken.
      await scenario(`chained source with a wrong secret ${signatureVersion}`, async () => {
        const app = fromRamRole({ source: fromStatic(ALICE), roleArn: role('app'), sts: sts({ signatureVersion }), cache: false, refresh });
        const good = await app();
        app.close();
        const forged: CredentialProvider = async () => ({ ...good, accessKeySecret: `${good.accessKeySecret}x`, securityToken: good.securityToken, accessKeyId: good.accessKeyId, source: 'forged' }) as never;
        const p = fromRamRole({ source: forged, roleArn: role('auditor'), sts: sts({ signatureVersion }), cache: false, refresh });
        try {
          return await p();
        } finally {
          p.close();
        }
      });
    }
    // STS failures: refused trust, service errors, throttling, a proxy page.
    await scenario('NoPermission (bob is not trusted)', async () =>
      fromRamRole({ source: fromStatic(BOB), roleArn: role('app'), sts: sts(), cache: false, refresh })(),
    );
    for (const fault of [
      { status: 503, code: 'ServiceUnavailable' },
      { status: 400, code: 'Throttling.User' },
      { status: 502, body: '<html><body>Bad gateway for /?SecurityToken=echo</body></html>' },
    ]) {
      await scenario(`AssumeRole fault ${JSON.stringify(fault)}`, async () => {
        emu.inject({ action: 'AssumeRole', count: 5, ...fault });
        try {
          return await fromRamRole({ source: fromStatic(ALICE), roleArn: role('app'), sts: sts({ signatureVersion: 'v1' }), cache: false, refresh })();
        } finally {
          emu.clearFaults();
        }
      });
    }
    // OIDC: a good token, then one STS refuses.
    const token = emu.mintOidcToken({ providerName: 'ack', subject: 'system:serviceaccount:ns:app' });
    oidcTokens.push(token);
    await scenario('fromOidc', async () => {
      const p = fromOidc({ roleArn: role('app'), oidcProviderArn: emu.oidcProviderArn('ack'), token, sts: sts(), cache: false, refresh });
      const c = await p();
      p.close();
      return c;
    });
    await scenario('fromOidc with a token STS refuses', async () => {
      const bad = `${token.slice(0, -4)}AAAA`;
      oidcTokens.push(bad);
      return fromOidc({ roleArn: role('app'), oidcProviderArn: emu.oidcProviderArn('ack'), token: bad, sts: sts(), cache: false, refresh })();
    });
    // ECS metadata: a success, a failing service, a refused token.
    await scenario('fromEcsMetadata', async () => {
      const p = fromEcsMetadata({ endpoint: emu.metadataEndpoint, env: {}, logger: log.logger, refresh });
      const c = await p();
      p.close();
      return c;
    });
    for (const fault of [{ action: 'MetadataCredentials', status: 500 }, { action: 'MetadataToken', status: 403 }]) {
      await scenario(`ECS metadata fault ${fault.action} ${fault.status}`, async () => {
        emu.inject({ ...fault, count: 10 });
        try {
          return await fromEcsMetadata({ endpoint: emu.metadataEndpoint, env: {}, logger: log.logger, disableImdsV1: true, refresh })();
        } finally {
          emu.clearFaults();
        }
      });
    }
    // Credentials URI: with its bearer token, and without.
    await scenario('fromCredentialsUri', async () => {
      const p = fromCredentialsUri({ uri: `${emu.credentialsUri}?token=${encodeURIComponent(BEARER)}`, headers: { Authorization: BEARER }, logger: log.logger, refresh });
      const c = await p();
      p.close();
      return c;
    });
    await scenario('fromCredentialsUri refused (401)', async () =>
      fromCredentialsUri({ uri: `${emu.credentialsUri}?token=${encodeURIComponent(BEARER)}`, headers: { Authorization: 'Bearer wrong-LEAKSCAN-x' }, logger: log.logger, refresh })(),
    );
    // An external process: a success, and a failure that prints the secret on stderr.
    const json = JSON.stringify({ mode: 'AK', access_key_id: 'LTAI5tProcessLeak01', access_key_secret: PROCESS_SECRET });
    await scenario('fromProcess', async () => fromProcess({ command: [process.execPath, '-e', `process.stdout.write(${JSON.stringify(json)})`], logger: log.logger, refresh })());
    await scenario('fromProcess failing, secret on stderr', async () =>
      fromProcess({ command: [process.execPath, '-e', `console.error('AccessKeySecret: ${PROCESS_SECRET}'); process.exit(3)`], logger: log.logger, refresh })(),
    );
    // Profile files: a readable-by-others file (warning), a malformed one, a role profile.
    mkdirSync(join(home, '.alibabacloud'), { recursive: true });
    const ini = join(home, '.alibabacloud', 'credentials');
    writeFileSync(
      ini,
      `[default]\ntype = access_key\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\n` +
        `[role]\ntype = ram_role_arn\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\nrole_arn = ${role('app')}\n` +
        `[broken]\ntype = ram_role_arn\naccess_key_id = ${ALICE.accessKeyId}\naccess_key_secret = ${ALICE.accessKeySecret}\nrole_arn = not-an-arn\n`,
    );
    chmodSync(ini, 0o644);
    const env = { ALIBABA_CLOUD_STS_ENDPOINT: emu.stsEndpoint, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };
    for (const profile of ['default', 'role', 'broken', 'missing']) {
      await scenario(`fromIniProfile ${profile}`, async () => fromIniProfile({ homedir: home, env, profile, logger: log.logger, refresh })());
    }
    mkdirSync(join(home, '.aliyun'), { recursive: true });
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'ak',
        profiles: [
          { name: 'ak', mode: 'AK', access_key_id: ALICE.accessKeyId, access_key_secret: ALICE.accessKeySecret },
          { name: 'bad', mode: 'RamRoleArn', access_key_id: ALICE.accessKeyId, access_key_secret: ALICE.accessKeySecret, ram_role_arn: 'nope' },
        ],
      }),
      { mode: 0o600 },
    );
    for (const profile of ['ak', 'bad']) {
      await scenario(`fromCliProfile ${profile}`, async () => fromCliProfile({ homedir: home, env, profile, logger: log.logger, refresh })());
    }
    // The default chain: one that answers, one where every link declines, one that stops.
    await scenario('defaultProvider (CLI profile)', async () => {
      const p = defaultProvider({ homedir: home, env, logger: log.logger, refresh });
      const c = await p();
      p.close();
      return [c, p];
    });
    await scenario('defaultProvider, nothing configured', async () => defaultProvider({ homedir: join(home, 'empty'), env, logger: log.logger, refresh })());
    await scenario('chain with a source that returns a plain object', async () =>
      chain(async () => ({ accessKeyId: 'LTAI5tPlain', accessKeySecret: ALICE.accessKeySecret }) as never)(),
    );
    await scenario('refreshing a source that throws a secret string', async () =>
      refreshing(async () => {
        throw `token=${BEARER}`;
      }, refresh)(),
    );

    // Now the scan.
    const secrets = [ALICE.accessKeySecret, BOB.accessKeySecret, BEARER, BEARER.slice('Bearer '.length), PROCESS_SECRET, ...oidcTokens, ...issuedSecrets(emu)];
    const everything = [...texts, ...log.lines, ...sink.texts()];
    const hits: string[] = [];
    for (const text of everything) {
      for (const secret of secrets) {
        if (secret.length >= 8 && text.includes(secret)) hits.push(`${secret.slice(0, 6)}… in: ${text.slice(Math.max(0, text.indexOf(secret) - 60), text.indexOf(secret))}`);
      }
    }
    recordFigures('leaks', [
      ...rows.map((r) => ({ scenario: r.scenario, outcome: r.outcome, hits: '' })),
      { scenario: `ALL: ${rows.length} scenarios, ${everything.length} texts, ${new Set(secrets).size} secrets`, outcome: '', hits: hits.length },
    ]);
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(issuedSecrets(emu).length).toBeGreaterThanOrEqual(10);
    // The scenarios really failed where they should (so their errors were scanned).
    const outcome = (name: string) => rows.find((r) => r.scenario === name)?.outcome;
    expect(outcome('fromRamRole v1, forced refresh, Tea model')).toBe('ok');
    expect(outcome('fromOidc')).toBe('ok');
    expect(outcome('fromEcsMetadata')).toBe('ok');
    expect(outcome('fromCredentialsUri')).toBe('ok');
    expect(outcome('fromProcess')).toBe('ok');
    expect(outcome('chained source with a wrong secret v1')).toBe('SignatureDoesNotMatch');
    expect(outcome('NoPermission (bob is not trusted)')).toBe('NoPermission');
    expect(rows.filter((r) => r.outcome !== 'ok').length).toBeGreaterThanOrEqual(12);
    expect(hits).toEqual([]);
  }, 60_000);
});
