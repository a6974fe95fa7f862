/**
 * fromIniProfile: the SDKs' shared credentials file (~/.alibabacloud/credentials[.ini]).
 * Every test builds its own temporary HOME and passes `homedir` and `env` explicitly; role
 * profiles go to the local emulator on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../src/errors.js';
import { fromIniProfile } from '../src/node/ini-profile.js';
import { startEmulator, type Emulator } from '../src/testing/emulator/index.js';
import { failure } from './helpers.js';

const A = { name: 'user-a', accessKeyId: 'LTAI5tIniUserA00000001', accessKeySecret: 'ini-secret-a-0123456789' };
const SECRET = 'ini-secret-never-shown-42';
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });
const NO_ECS = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };

let emu: Emulator;
const homes: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    users: [{ ...A, policies: [allow('sts:AssumeRole')] }],
    roles: [{ name: 'iot-operator', trustedUsers: ['user-a'], trustedOidcProviders: ['ack-rrsa'], maxSessionDuration: 3600 }],
    oidcProviders: [{ name: 'ack-rrsa' }],
  });
});
afterAll(async () => {
  await emu.close();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

/** A temporary HOME with `files` (paths relative to it), mode 600 unless told. */
async function makeHome(files: Record<string, string> = {}, mode = 0o600): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'alicred-ini-'));
  homes.push(home);
  for (const [rel, text] of Object.entries(files)) {
    const path = join(home, rel);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
    await chmod(path, mode);
  }
  return home;
}
const cred = (text: string) => ({ '.alibabacloud/credentials': text });
const ak = (section = 'default', id = 'LTAI5tIniStatic0001', secret = SECRET) =>
  `[${section}]\ntype = access_key\naccess_key_id = ${id}\naccess_key_secret = ${secret}\n`;

/** A ConfigError with these fields, whose message and inspect() never show SECRET. */
function expectConfigError(e: unknown, fields: { file?: string; line?: number; field?: string; message?: RegExp }): void {
  expect(e).toBeInstanceOf(ConfigError);
  const err = e as ConfigError;
  expect(err.tryNext).toBe(false);
  expect(err.provider).toBe('ini-profile');
  if (fields.file !== undefined) expect(err.file).toBe(fields.file);
  if (fields.line !== undefined) expect(err.line).toBe(fields.line);
  if (fields.field !== undefined) expect(err.field).toBe(fields.field);
  if (fields.message) expect(err.message).toMatch(fields.message);
  expect(err.message).not.toContain(SECRET);
  expect(inspect(err, { depth: 10 })).not.toContain(SECRET);
}

function expectNotConfigured(e: unknown): void {
  expect(e).toBeInstanceOf(CredentialsProviderError);
  expect(e).not.toBeInstanceOf(ConfigError);
  expect((e as CredentialsProviderError).tryNext).toBe(true);
  expect((e as CredentialsProviderError).provider).toBe('ini-profile');
}

describe('fromIniProfile: static types', () => {
  it('type = access_key gives the keys, tagged ini-profile', async () => {
    const home = await makeHome(cred(ak()));
    const c = await fromIniProfile({ homedir: home, env: {} })();
    expect(c.accessKeyId).toBe('LTAI5tIniStatic0001');
    expect(c.accessKeySecret).toBe(SECRET);
    expect(c.securityToken).toBeUndefined();
    expect(c.source).toBe('ini-profile');
    expect(inspect(c)).not.toContain(SECRET);
  });

  it('type = sts gives the keys and the token, never refreshed', async () => {
    const home = await makeHome(
      cred('[default]\ntype = sts\naccess_key_id = STS.IniTemp\naccess_key_secret = s3cr3t-sts\nsecurity_token = tok-123\n'),
    );
    const provider = fromIniProfile({ homedir: home, env: {} });
    const c = await provider();
    expect(c).toMatchObject({ accessKeyId: 'STS.IniTemp', securityToken: 'tok-123', source: 'ini-profile' });
    expect(c.expiration).toBeUndefined();
    expect(provider.peek()).toBe(c);
    provider.close();
  });

  it('accepts comments, quotes, blank lines, CRLF, a BOM, indented headers and dotted section names', async () => {
    const text =
      '\uFEFF; a comment\r\n# another\r\n\r\n  [prod.cn]  \r\n type = "access_key" \r\naccess_key_id = \'LTAI5tDotted\'\r\n' +
      'access_key_secret = "quoted;secret"\r\nrole_name = x ; trailing comment\r\n\r\n[default]\r\ntype=access_key\r\naccess_key_id=x\r\naccess_key_secret=y\r\n';
    const home = await makeHome(cred(text));
    const c = await fromIniProfile({ homedir: home, env: {}, profile: 'prod.cn' })();
    expect(c.accessKeyId).toBe('LTAI5tDotted');
    expect(c.accessKeySecret).toBe('quoted;secret');
  });

  it('accepts the type in any case', async () => {
    const home = await makeHome(cred('[default]\ntype = Access_Key\naccess_key_id = LTAI5tCase\naccess_key_secret = x-secret\n'));
    expect((await fromIniProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tCase');
  });
});

describe('fromIniProfile: file and profile selection', () => {
  it('no file at either default path: not configured (tryNext), provider ini-profile', async () => {
    const home = await makeHome();
    const e = await failure(fromIniProfile({ homedir: home, env: {} })());
    expectNotConfigured(e);
    expect((e as Error).message).toContain(join(home, '.alibabacloud', 'credentials'));
  });

  it('falls back to ~/.alibabacloud/credentials.ini (the Python/Java name)', async () => {
    const home = await makeHome({ '.alibabacloud/credentials.ini': ak('default', 'LTAI5tFromDotIni') });
    expect((await fromIniProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tFromDotIni');
  });

  it('prefers ~/.alibabacloud/credentials over credentials.ini', async () => {
    const home = await makeHome({
      '.alibabacloud/credentials': ak('default', 'LTAI5tPlain'),
      '.alibabacloud/credentials.ini': ak('default', 'LTAI5tDotIni'),
    });
    expect((await fromIniProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tPlain');
  });

  it('file: option > env ALIBABA_CLOUD_CREDENTIALS_FILE > default; a leading ~ is expanded', async () => {
    const home = await makeHome({
      '.alibabacloud/credentials': ak('default', 'LTAI5tDefaultFile'),
      'env.ini': ak('default', 'LTAI5tEnvFile'),
      'opt.ini': ak('default', 'LTAI5tOptionFile'),
    });
    const env = { ALIBABA_CLOUD_CREDENTIALS_FILE: join(home, 'env.ini') };
    expect((await fromIniProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tDefaultFile');
    expect((await fromIniProfile({ homedir: home, env })()).accessKeyId).toBe('LTAI5tEnvFile');
    expect((await fromIniProfile({ homedir: home, env, file: join(home, 'opt.ini') })()).accessKeyId).toBe('LTAI5tOptionFile');
    expect((await fromIniProfile({ homedir: home, env: {}, file: '~/opt.ini' })()).accessKeyId).toBe('LTAI5tOptionFile');
  });

  it('a file named by option or env that does not exist is a ConfigError naming it (not a silent skip)', async () => {
    const home = await makeHome(cred(ak()));
    const missing = join(home, 'nope.ini');
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {}, file: missing })()), {
      file: missing,
      field: 'file',
      message: /does not exist/,
    });
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: { ALIBABA_CLOUD_CREDENTIALS_FILE: missing } })()), {
      file: missing,
      field: 'ALIBABA_CLOUD_CREDENTIALS_FILE',
    });
  });

  it('profile: option > env ALIBABA_CLOUD_PROFILE > default', async () => {
    const home = await makeHome(cred(ak('default', 'LTAI5tDefault') + ak('fromenv', 'LTAI5tEnv') + ak('fromopt', 'LTAI5tOpt')));
    const env = { ALIBABA_CLOUD_PROFILE: 'fromenv' };
    expect((await fromIniProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tDefault');
    expect((await fromIniProfile({ homedir: home, env })()).accessKeyId).toBe('LTAI5tEnv');
    expect((await fromIniProfile({ homedir: home, env, profile: 'fromopt' })()).accessKeyId).toBe('LTAI5tOpt');
  });

  it('no [default] profile and none asked for: not configured (tryNext)', async () => {
    const home = await makeHome(cred(ak('other')));
    const e = await failure(fromIniProfile({ homedir: home, env: {} })());
    expectNotConfigured(e);
    expect((e as Error).message).toContain('other');
  });

  it('a profile asked for by option or env but missing: ConfigError naming profile and file', async () => {
    const home = await makeHome(cred(ak('default') + ak('other')));
    const file = join(home, '.alibabacloud', 'credentials');
    const byOption = await failure(fromIniProfile({ homedir: home, env: {}, profile: 'prod' })());
    expectConfigError(byOption, { file, field: 'profile', message: /'prod'/ });
    expect((byOption as Error).message).toContain(file);
    expect((byOption as Error).message).toContain('default, other');
    const byEnv = await failure(fromIniProfile({ homedir: home, env: { ALIBABA_CLOUD_PROFILE: 'prod' } })());
    expectConfigError(byEnv, { file, field: 'ALIBABA_CLOUD_PROFILE', message: /'prod'/ });
  });
});

describe('fromIniProfile: errors name file, profile, key and line', () => {
  it('a malformed line (neither section, key = value, comment nor blank): file and line, never the text', async () => {
    const home = await makeHome(cred(`[default]\ntype = access_key\naccess_key_id = LTAI5tX\n${SECRET}\n`));
    const file = join(home, '.alibabacloud', 'credentials');
    const e = await failure(fromIniProfile({ homedir: home, env: {} })());
    expectConfigError(e, { file, line: 4, message: /malformed: line 4/ });
  });

  it('an unclosed section header and an empty key are malformed too', async () => {
    const home = await makeHome({ 'a.ini': '[default\ntype = access_key\n', 'b.ini': '[default]\n = value\n' });
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {}, file: join(home, 'a.ini') })()), { line: 1 });
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {}, file: join(home, 'b.ini') })()), { line: 2 });
  });

  it('missing type: field type, line of the section header', async () => {
    const home = await makeHome(cred(`${ak('default')}\n[noType]\naccess_key_id = LTAI5t\naccess_key_secret = ${SECRET}\n`));
    const e = await failure(fromIniProfile({ homedir: home, env: {}, profile: 'noType' })());
    expectConfigError(e, { field: 'type', line: 6, message: /profile 'noType'.*type \(line 6\) is missing/ });
  });

  it('unknown type: field type, its line, and the supported types', async () => {
    const home = await makeHome(cred(`[default]\naccess_key_id = LTAI5t\ntype = acess_key\naccess_key_secret = ${SECRET}\n`));
    const e = await failure(fromIniProfile({ homedir: home, env: {} })());
    expectConfigError(e, { field: 'type', line: 3, message: /"acess_key".*access_key, sts, ram_role_arn/ });
  });

  it('missing key: field is the key, line of the section, the type that needs it', async () => {
    const home = await makeHome(cred(`[default]\ntype = access_key\naccess_key_id = LTAI5tOnlyId\n`));
    const e = await failure(fromIniProfile({ homedir: home, env: {} })());
    expectConfigError(e, {
      file: join(home, '.alibabacloud', 'credentials'),
      field: 'access_key_secret',
      line: 1,
      message: /access_key_secret \(line 1\) is missing; it is required for type access_key/,
    });
  });

  it('an empty key is reported on its own line', async () => {
    const home = await makeHome(cred(`[default]\ntype = sts\naccess_key_id = STS.x\naccess_key_secret = ${SECRET}\nsecurity_token =\n`));
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {} })()), { field: 'security_token', line: 5, message: /is empty/ });
  });

  it('rsa_key_pair and bearer: ConfigError saying unsupported and why', async () => {
    const home = await makeHome(
      cred('[rsa]\ntype = rsa_key_pair\npublic_key_id = x\nprivate_key_file = /k.pem\n[bearer]\ntype = bearer\nbearer_token = t\n'),
    );
    const rsa = await failure(fromIniProfile({ homedir: home, env: {}, profile: 'rsa' })());
    expectConfigError(rsa, { field: 'type', line: 2, message: /rsa_key_pair, which alicred does not support: .*deprecated/ });
    const bearer = await failure(fromIniProfile({ homedir: home, env: {}, profile: 'bearer' })());
    expectConfigError(bearer, { field: 'type', line: 6, message: /bearer, which alicred does not support: .*not an AccessKey/ });
  });

  it('a value the role provider rejects: field is the profile key, with its line', async () => {
    const home = await makeHome(
      cred(
        `[default]\ntype = ram_role_arn\naccess_key_id = ${A.accessKeyId}\naccess_key_secret = ${SECRET}\n` +
          `role_arn = not-an-arn\nduration_seconds = 60\n`,
      ),
    );
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {} })()), { field: 'role_arn', line: 5, message: /not a role ARN/ });
    const home2 = await makeHome(
      cred(
        `[default]\ntype = ram_role_arn\naccess_key_id = ${A.accessKeyId}\naccess_key_secret = ${SECRET}\n` +
          `role_arn = ${emu.roleArn('iot-operator')}\nduration_seconds = 60\n`,
      ),
    );
    expectConfigError(await failure(fromIniProfile({ homedir: home2, env: {} })()), {
      field: 'duration_seconds',
      line: 6,
      message: /out of range/,
    });
    const home3 = await makeHome(
      cred(`[default]\ntype = ram_role_arn\naccess_key_id = a\naccess_key_secret = b\nrole_arn = ${emu.roleArn('x')}\nduration_seconds = soon\n`),
    );
    expectConfigError(await failure(fromIniProfile({ homedir: home3, env: {} })()), { field: 'duration_seconds', line: 6 });
  });
});

describe('fromIniProfile: role types against the emulator', () => {
  const ramRole = (extra = '') =>
    cred(
      `[default]\ntype = ram_role_arn\naccess_key_id = ${A.accessKeyId}\naccess_key_secret = ${A.accessKeySecret}\n` +
        `role_arn = ${emu.roleArn('iot-operator')}\n${extra}`,
    );

  it('ram_role_arn assumes the role with the profile keys (sts from NodeSourceOptions)', async () => {
    const home = await makeHome(ramRole('role_session_name = ini-basic\n'));
    const provider = fromIniProfile({ homedir: home, env: {}, sts: { endpoint: emu.stsEndpoint } });
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^STS\./);
    expect(c.securityToken).toBeTruthy();
    expect(c.expiration).toBeInstanceOf(Date);
    expect(provider.peek()).toBe(c);
    provider.close();
  });

  it('ram_role_arn extensions: sts_endpoint in the profile, duration_seconds, external_id, policy', async () => {
    const policy = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"iot:Query*","Resource":"*"}]}';
    const home = await makeHome(
      ramRole(`role_session_name = ini-ext\nduration_seconds = 900\nexternal_id = ext-1234\npolicy = ${policy}\nsts_endpoint = ${emu.stsEndpoint}\n`),
    );
    const before = Date.now();
    const provider = fromIniProfile({ homedir: home, env: {} });
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^STS\./);
    const lifetime = c.expiration!.getTime() - before;
    expect(lifetime).toBeGreaterThan(850_000);
    expect(lifetime).toBeLessThan(960_000);
    provider.close();
  });

  it('builds one role provider per distinct configuration, reused across calls; an edit builds a new one', async () => {
    const home = await makeHome(ramRole('role_session_name = ini-memo-1\n'));
    const file = join(home, '.alibabacloud', 'credentials');
    const starts: string[] = [];
    const provider = fromIniProfile({
      homedir: home,
      env: {},
      sts: { endpoint: emu.stsEndpoint },
      refresh: { onEvent: (e) => void (e.type === 'refresh-start' && starts.push(e.reason)) },
    });
    const before = emu.callCount('AssumeRole');
    const first = await provider();
    const again = await Promise.all([provider(), provider(), provider()]);
    expect(again.every((c) => c === first)).toBe(true);
    expect(starts).toEqual(['cold']); // the same refreshing provider answered every call
    expect(emu.callCount('AssumeRole') - before).toBe(1);

    await writeFile(file, ramRole('role_session_name = ini-memo-2\n')['.alibabacloud/credentials']);
    const edited = await provider();
    expect(edited.accessKeyId).not.toBe(first.accessKeyId);
    expect(starts).toEqual(['cold', 'cold']);
    expect(emu.callCount('AssumeRole') - before).toBe(2);
    provider.close();
  });

  it('oidc_role_arn assumes the role with the token file (fromOidcTokenFile)', async () => {
    const home = await makeHome();
    const tokenFile = join(home, 'token');
    await writeFile(tokenFile, emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', providerName: 'ack-rrsa' }));
    await writeFile(
      join(home, 'creds.ini'),
      `[default]\ntype = oidc_role_arn\nrole_arn = ${emu.roleArn('iot-operator')}\n` +
        `oidc_provider_arn = ${emu.oidcProviderArn('ack-rrsa')}\noidc_token_file_path = ${tokenFile}\nrole_session_name = ini-oidc\n`,
    );
    const before = emu.callCount('AssumeRoleWithOIDC');
    const provider = fromIniProfile({ homedir: home, env: {}, file: join(home, 'creds.ini'), sts: { endpoint: emu.stsEndpoint } });
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('AssumeRoleWithOIDC') - before).toBe(1);
    provider.close();
  });

  it('oidc_role_arn without oidc_token_file_path: ConfigError naming it', async () => {
    const home = await makeHome(cred(`[default]\ntype = oidc_role_arn\nrole_arn = ${emu.roleArn('r')}\noidc_provider_arn = x\n`));
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: {} })()), { field: 'oidc_token_file_path', line: 1 });
  });
});

describe('fromIniProfile: ecs_ram_role and credentials_uri delegate', () => {
  it('ecs_ram_role with ALIBABA_CLOUD_ECS_METADATA_DISABLED=true: not configured, no request', async () => {
    const home = await makeHome(cred('[default]\ntype = ecs_ram_role\nrole_name = EcsRole\n'));
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const e = await failure(fromIniProfile({ homedir: home, env: NO_ECS })());
      expect(e).toBeInstanceOf(CredentialsProviderError);
      expect((e as CredentialsProviderError).tryNext).toBe(true);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('credentials_uri fetches from the URI (a local server)', async () => {
    let hits = 0;
    const server: Server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          Code: 'Success',
          AccessKeyId: 'STS.FromUri',
          AccessKeySecret: 'uri-secret',
          SecurityToken: 'uri-token',
          Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`;
      const home = await makeHome(cred(`[default]\ntype = credentials_uri\ncredentials_uri = ${url}\n`));
      const provider = fromIniProfile({ homedir: home, env: NO_ECS });
      const c = await provider();
      expect(c.accessKeyId).toBe('STS.FromUri');
      await provider();
      expect(hits).toBe(1);
      provider.close();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('fromIniProfile: credentials_uri validation', () => {
  it('a credentials_uri the URI provider refuses (plain http to a non-loopback host): field and line', async () => {
    const home = await makeHome(cred('[default]\n\ntype = credentials_uri\ncredentials_uri = http://10.0.0.5/creds\n'));
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: NO_ECS })()), { field: 'credentials_uri', line: 4, message: /loopback/ });
  });
});

describe('fromIniProfile: hygiene', () => {
  it('a file readable by others: one warning per path (naming it, suggesting chmod 600), not an error', async () => {
    const home = await makeHome(cred(ak()), 0o644);
    const file = join(home, '.alibabacloud', 'credentials');
    const warn = vi.fn();
    const one = fromIniProfile({ homedir: home, env: {}, logger: { warn } });
    const two = fromIniProfile({ homedir: home, env: {}, logger: { warn } });
    await one();
    await one();
    await two();
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain(file);
    expect(message).toContain('chmod 600');
    expect(message).not.toContain(SECRET);
  });

  it('no warning for mode 600', async () => {
    const home = await makeHome(cred(ak()), 0o600);
    const warn = vi.fn();
    await fromIniProfile({ homedir: home, env: {}, logger: { warn } })();
    expect(warn).not.toHaveBeenCalled();
  });

  it('edits are picked up at the next call, also once the file is old enough to be cached', async () => {
    const home = await makeHome(cred(ak('default', 'LTAI5tVersion1')));
    const file = join(home, '.alibabacloud', 'credentials');
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    // Pretend the file was written long ago (ctime cannot be set back), so it gets cached.
    const realNow = Date.now.bind(Date);
    const later = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 10_000);
    try {
      const provider = fromIniProfile({ homedir: home, env: {} });
      expect((await provider()).accessKeyId).toBe('LTAI5tVersion1');
      expect((await provider()).accessKeyId).toBe('LTAI5tVersion1'); // served from the parsed cache
      await writeFile(file, ak('default', 'LTAI5tVersion2')); // same size
      await utimes(file, old, old); // even with the same mtime: ctime moved
      expect((await provider()).accessKeyId).toBe('LTAI5tVersion2');
      await rm(file);
      expectNotConfigured(await failure(provider()));
    } finally {
      later.mockRestore();
    }
  });
});
