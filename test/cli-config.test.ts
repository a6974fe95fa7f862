/**
 * fromCliProfile: the aliyun CLI's ~/.aliyun/config.json. Every test builds its own
 * temporary HOME and passes `homedir` and `env` explicitly; role modes go to the local
 * emulator on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, CredentialsProviderError } from '../src/errors.js';
import { fromCliProfile } from '../src/node/cli-config.js';
import { startEmulator, type Emulator } from '../src/testing/emulator/index.js';
import { failure } from './helpers.js';

const A = { name: 'user-a', accessKeyId: 'LTAI5tCliUserA00000001', accessKeySecret: 'cli-secret-a-0123456789' };
const SECRET = 'cli-secret-never-shown-42';
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });
const NO_ECS = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };

let emu: Emulator;
const homes: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    users: [{ ...A, policies: [allow('sts:AssumeRole')] }],
    roles: [
      { name: 'iot-operator', trustedUsers: ['user-a'], trustedOidcProviders: ['ack-rrsa'], maxSessionDuration: 3600 },
      { name: 'auditor', trustedRoles: ['iot-operator'] },
    ],
    oidcProviders: [{ name: 'ack-rrsa' }],
  });
});
afterAll(async () => {
  await emu.close();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

type Profile = Record<string, unknown>;

/** A temporary HOME whose ~/.aliyun/config.json is `config` (an object, or raw text). */
async function makeHome(config?: { current?: string; profiles: Profile[] } | string, mode = 0o600): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'alicred-cli-'));
  homes.push(home);
  if (config !== undefined) {
    const path = configPath(home);
    await mkdir(join(home, '.aliyun'), { recursive: true });
    await writeFile(path, typeof config === 'string' ? config : JSON.stringify({ ...config, meta_path: '' }, null, 2));
    await chmod(path, mode);
  }
  return home;
}
const configPath = (home: string) => join(home, '.aliyun', 'config.json');
const akProfile = (name: string, id = 'LTAI5tCliStatic0001', extra: Profile = {}): Profile => ({
  name,
  mode: 'AK',
  access_key_id: id,
  access_key_secret: SECRET,
  region_id: 'cn-hangzhou',
  ...extra,
});
/** A profile as `aliyun configure` writes it: every field present, unset ones empty. */
const cliWritten = (fields: Profile): Profile => ({
  mode: '',
  access_key_id: '',
  access_key_secret: '',
  sts_token: '',
  sts_region: '',
  ram_role_name: '',
  ram_role_arn: '',
  ram_session_name: '',
  source_profile: '',
  private_key: '',
  key_pair_name: '',
  expired_seconds: 0,
  verified: '',
  region_id: 'cn-hangzhou',
  output_format: 'json',
  language: 'en',
  site: '',
  retry_timeout: 0,
  connect_timeout: 0,
  retry_count: 0,
  process_command: '',
  credentials_uri: '',
  oidc_provider_arn: '',
  oidc_token_file: '',
  ...fields,
});

function expectConfigError(e: unknown, fields: { file?: string; line?: number; field?: string; message?: RegExp }): void {
  expect(e).toBeInstanceOf(ConfigError);
  const err = e as ConfigError;
  expect(err.tryNext).toBe(false);
  expect(err.provider).toBe('cli-profile');
  if (fields.file !== undefined) expect(err.file).toBe(fields.file);
  if (fields.line !== undefined) expect(err.line).toBe(fields.line);
  if (fields.field !== undefined) expect(err.field).toBe(fields.field);
  if (fields.message) expect(err.message).toMatch(fields.message);
  for (const secret of [SECRET, A.accessKeySecret]) {
    expect(err.message).not.toContain(secret);
    expect(inspect(err, { depth: 10 })).not.toContain(secret);
  }
}

function expectNotConfigured(e: unknown): void {
  expect(e).toBeInstanceOf(CredentialsProviderError);
  expect(e).not.toBeInstanceOf(ConfigError);
  expect((e as CredentialsProviderError).tryNext).toBe(true);
  expect((e as CredentialsProviderError).provider).toBe('cli-profile');
}

describe('fromCliProfile: static modes', () => {
  it('AK gives the keys, tagged cli-profile', async () => {
    const home = await makeHome({ current: 'default', profiles: [akProfile('default')] });
    const provider = fromCliProfile({ homedir: home, env: {} });
    const c = await provider();
    expect(c).toMatchObject({ accessKeyId: 'LTAI5tCliStatic0001', source: 'cli-profile' });
    expect(c.accessKeySecret).toBe(SECRET);
    expect(inspect(c)).not.toContain(SECRET);
    expect(provider.peek()).toBe(c);
    provider.close();
  });

  it('StsToken gives the keys and the token', async () => {
    const home = await makeHome({
      current: 'tmp',
      profiles: [cliWritten({ name: 'tmp', mode: 'StsToken', access_key_id: 'STS.CliTemp', access_key_secret: SECRET, sts_token: 'tok-cli' })],
    });
    const c = await fromCliProfile({ homedir: home, env: {} })();
    expect(c).toMatchObject({ accessKeyId: 'STS.CliTemp', securityToken: 'tok-cli', source: 'cli-profile' });
  });

  it('mode names are matched case-insensitively, as the CLI does', async () => {
    const home = await makeHome({ profiles: [akProfile('default', 'LTAI5tLower', { mode: 'ak' })] });
    expect((await fromCliProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tLower');
  });

  it('without a mode, infers it from the fields like the CLI (AK, StsToken)', async () => {
    const home = await makeHome({
      profiles: [
        cliWritten({ name: 'default', access_key_id: 'LTAI5tInferred', access_key_secret: SECRET }),
        cliWritten({ name: 'sts', access_key_id: 'STS.Inferred', access_key_secret: SECRET, sts_token: 't' }),
      ],
    });
    expect((await fromCliProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tInferred');
    expect((await fromCliProfile({ homedir: home, env: {}, profile: 'sts' })()).securityToken).toBe('t');
  });
});

describe('fromCliProfile: file and profile selection', () => {
  it('ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true: not configured, the file is not even read', async () => {
    const home = await makeHome('{ this is not json');
    const e = await failure(fromCliProfile({ homedir: home, env: { ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'TRUE' } })());
    expectNotConfigured(e);
    expect((e as Error).message).toContain('ALIBABA_CLOUD_CLI_PROFILE_DISABLED');
  });

  it('no ~/.aliyun/config.json: not configured', async () => {
    const home = await makeHome();
    expectNotConfigured(await failure(fromCliProfile({ homedir: home, env: {} })()));
  });

  it('file: option > env ALIBABA_CLOUD_CONFIG_FILE > ~/.aliyun/config.json; explicit and missing is a ConfigError', async () => {
    const home = await makeHome({ profiles: [akProfile('default', 'LTAI5tDefaultFile')] });
    await writeFile(join(home, 'env.json'), JSON.stringify({ profiles: [akProfile('default', 'LTAI5tEnvFile')] }));
    await writeFile(join(home, 'opt.json'), JSON.stringify({ profiles: [akProfile('default', 'LTAI5tOptFile')] }));
    const env = { ALIBABA_CLOUD_CONFIG_FILE: join(home, 'env.json') };
    expect((await fromCliProfile({ homedir: home, env: {} })()).accessKeyId).toBe('LTAI5tDefaultFile');
    expect((await fromCliProfile({ homedir: home, env })()).accessKeyId).toBe('LTAI5tEnvFile');
    expect((await fromCliProfile({ homedir: home, env, file: join(home, 'opt.json') })()).accessKeyId).toBe('LTAI5tOptFile');
    expect((await fromCliProfile({ homedir: home, env: {}, file: '~/opt.json' })()).accessKeyId).toBe('LTAI5tOptFile');
    const missing = join(home, 'missing.json');
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: { ALIBABA_CLOUD_CONFIG_FILE: missing } })()), {
      file: missing,
      field: 'ALIBABA_CLOUD_CONFIG_FILE',
    });
  });

  it('profile: option > env ALIBABA_CLOUD_PROFILE > current > default', async () => {
    const profiles = [akProfile('default', 'LTAI5tDefault'), akProfile('cur', 'LTAI5tCurrent'), akProfile('env', 'LTAI5tEnv'), akProfile('opt', 'LTAI5tOpt')];
    const withCurrent = await makeHome({ current: 'cur', profiles });
    const noCurrent = await makeHome({ profiles });
    const env = { ALIBABA_CLOUD_PROFILE: 'env' };
    expect((await fromCliProfile({ homedir: noCurrent, env: {} })()).accessKeyId).toBe('LTAI5tDefault');
    expect((await fromCliProfile({ homedir: withCurrent, env: {} })()).accessKeyId).toBe('LTAI5tCurrent');
    expect((await fromCliProfile({ homedir: withCurrent, env })()).accessKeyId).toBe('LTAI5tEnv');
    expect((await fromCliProfile({ homedir: withCurrent, env, profile: 'opt' })()).accessKeyId).toBe('LTAI5tOpt');
  });

  it('`current` naming a missing profile: not configured (as in the official chains), the message says where', async () => {
    const home = await makeHome({ current: 'gone', profiles: [akProfile('default')] });
    const e = await failure(fromCliProfile({ homedir: home, env: {} })());
    expectNotConfigured(e);
    expect((e as Error).message).toContain(configPath(home));
    expect((e as Error).message).toMatch(/"current" \(line 2\) names profile 'gone', which is not in the file \(its profiles: default\)/);
  });

  it('a profile asked for by option or env that the file lacks: not configured (it may be in the credentials file)', async () => {
    const home = await makeHome({ current: 'default', profiles: [akProfile('default')] });
    const e = await failure(fromCliProfile({ homedir: home, env: { ALIBABA_CLOUD_PROFILE: 'prod' } })());
    expectNotConfigured(e);
    expect((e as Error).message).toMatch(/'prod' \(from ALIBABA_CLOUD_PROFILE\)/);
    expectNotConfigured(await failure(fromCliProfile({ homedir: home, env: {}, profile: 'prod' })()));
  });

  it('no current and no default profile: not configured', async () => {
    const home = await makeHome({ profiles: [akProfile('other')] });
    expectNotConfigured(await failure(fromCliProfile({ homedir: home, env: {} })()));
  });
});

describe('fromCliProfile: errors', () => {
  it('invalid JSON: file, line and column from the parse position, never the text', async () => {
    const text = `{\n  "current": "default",\n  "profiles": [\n    {"name": "default", "access_key_secret": "${SECRET}" "mode": "AK"}\n  ]\n}\n`;
    const home = await makeHome(text);
    const e = await failure(fromCliProfile({ homedir: home, env: {} })());
    expectConfigError(e, { file: configPath(home), line: 4, message: /not valid JSON: line 4, column 74/ });
  });

  it('invalid JSON at the end of input and with a trailing comma', async () => {
    const truncated = await makeHome('{"profiles": [');
    expectConfigError(await failure(fromCliProfile({ homedir: truncated, env: {} })()), { line: 1, message: /end of input/ });
    const trailing = await makeHome('{\n"profiles": [],\n}');
    expectConfigError(await failure(fromCliProfile({ homedir: trailing, env: {} })()), { line: 3, message: /line 3, column 1/ });
  });

  it('a wrong shape (profiles not an array): ConfigError naming the field', async () => {
    const home = await makeHome('{"current": "default",\n "profiles": {"name": "default"}}');
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'profiles', line: 2 });
  });

  it('a missing required field: field and the profile line; an empty one (as the CLI writes) counts as missing', async () => {
    const home = await makeHome({
      current: 'default',
      profiles: [akProfile('other'), cliWritten({ name: 'default', mode: 'AK', access_key_id: 'LTAI5tNoSecret' })],
    });
    const e = await failure(fromCliProfile({ homedir: home, env: {} })());
    expectConfigError(e, { field: 'access_key_secret', message: /profile 'default'.*access_key_secret \(line \d+\) is empty; it is required for mode AK/ });
    const line = (await import('node:fs')).readFileSync(configPath(home), 'utf8').split('\n').findIndex((l, i, all) => l.includes('"access_key_secret": ""') && all.slice(0, i).some((x) => x.includes('LTAI5tNoSecret'))) + 1;
    expect((e as ConfigError).line).toBe(line);
  });

  it('a value the role provider rejects: the profile key and its line', async () => {
    const home = await makeHome({
      profiles: [akProfile('default', A.accessKeyId, { mode: 'RamRoleArn', ram_role_arn: emu.roleArn('iot-operator'), expired_seconds: 60 })],
    });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'expired_seconds', message: /out of range/ });
  });

  it('mode CloudSSO without its account or access configuration: ConfigError naming the field (no request)', async () => {
    const home = await makeHome({ profiles: [{ name: 'default', mode: 'CloudSSO', cloud_sso_sign_in_url: 'https://signin.example.invalid', cloud_sso_access_config: 'ac-1' }] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'cloud_sso_account_id', message: /is missing; it is required for mode CloudSSO/ });
  });

  it('mode OAuth with a site type that is neither CN nor INTL: ConfigError naming the field', async () => {
    const home = await makeHome({ profiles: [{ name: 'default', mode: 'OAuth', oauth_site_type: 'EU', oauth_access_token: 'a', oauth_refresh_token: 'r' }] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'oauth_site_type', message: /must be CN or INTL/ });
  });

  it.each([
    ['BearerToken', { bearer_token: 'b' }],
    ['Anonymous', {}],
    ['RsaKeyPair', { private_key: '/k.pem', key_pair_name: 'kp' }],
    ['RamRoleArnWithRoleName', {}],
  ])('mode %s: ConfigError naming the mode and the profile', async (mode, fields) => {
    const home = await makeHome({ profiles: [{ name: 'default', mode, ...fields }] });
    const e = await failure(fromCliProfile({ homedir: home, env: {} })());
    expectConfigError(e, { field: 'mode', line: 5, message: new RegExp(`profile 'default'.*is ${mode}, which alicred does not support yet`) });
  });

  it('an unknown mode: ConfigError listing the supported ones', async () => {
    const home = await makeHome({ profiles: [akProfile('default', 'x', { mode: 'SuperSecure' })] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'mode', message: /"SuperSecure".*AK, StsToken, RamRoleArn/ });
  });

  it('no mode and nothing to infer it from: ConfigError with field mode', async () => {
    const home = await makeHome({ profiles: [cliWritten({ name: 'default' })] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'mode', message: /cannot be inferred/ });
  });
});

describe('fromCliProfile: role modes against the emulator', () => {
  it('RamRoleArn: expired_seconds becomes DurationSeconds; sts from NodeSourceOptions', async () => {
    const home = await makeHome({
      current: 'role',
      profiles: [
        cliWritten({
          name: 'role',
          mode: 'RamRoleArn',
          access_key_id: A.accessKeyId,
          access_key_secret: A.accessKeySecret,
          ram_role_arn: emu.roleArn('iot-operator'),
          ram_session_name: 'cli-role',
          expired_seconds: 900,
          external_id: 'ext-cli-1',
        }),
      ],
    });
    const before = Date.now();
    const provider = fromCliProfile({ homedir: home, env: {}, sts: { endpoint: emu.stsEndpoint } });
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^STS\./);
    const lifetime = c.expiration!.getTime() - before;
    expect(lifetime).toBeGreaterThan(850_000);
    expect(lifetime).toBeLessThan(960_000);
    provider.close();
  });

  it('RamRoleArn with sts_endpoint in the profile, mode in lower case; one provider reused across calls', async () => {
    const home = await makeHome({
      profiles: [
        akProfile('default', A.accessKeyId, {
          access_key_secret: A.accessKeySecret,
          mode: 'ramrolearn',
          ram_role_arn: emu.roleArn('iot-operator'),
          ram_session_name: 'cli-memo',
          sts_endpoint: emu.stsEndpoint,
        }),
      ],
    });
    const starts: string[] = [];
    const provider = fromCliProfile({ homedir: home, env: {}, refresh: { onEvent: (e) => void (e.type === 'refresh-start' && starts.push(e.reason)) } });
    const first = await provider();
    expect(first.accessKeyId).toMatch(/^STS\./);
    expect(await provider()).toBe(first);
    expect(await provider()).toBe(first);
    expect(starts).toEqual(['cold']);
    provider.close();
  });

  it('ChainableRamRoleArn: source_profile resolved recursively (AK -> iot-operator -> auditor)', async () => {
    const home = await makeHome({
      current: 'audit',
      profiles: [
        akProfile('base', A.accessKeyId, { access_key_secret: A.accessKeySecret }),
        cliWritten({ name: 'operator', mode: 'ChainableRamRoleArn', source_profile: 'base', ram_role_arn: emu.roleArn('iot-operator'), ram_session_name: 'op' }),
        cliWritten({ name: 'audit', mode: 'ChainableRamRoleArn', source_profile: 'operator', ram_role_arn: emu.roleArn('auditor'), ram_session_name: 'aud' }),
      ],
    });
    const before = emu.callCount('AssumeRole');
    const provider = fromCliProfile({ homedir: home, env: {}, sts: { endpoint: emu.stsEndpoint } });
    const c = await provider();
    expect(c.accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('AssumeRole') - before).toBe(2);
    // The second hop was signed with the first hop's STS key, not the RAM user's.
    const callers = emu.requests().filter((r) => r.action === 'AssumeRole').slice(-2).map((r) => r.accessKeyId);
    expect(callers[0]).toBe(A.accessKeyId);
    expect(callers[1]).toMatch(/^STS\./);
    provider.close();
  });

  it('ChainableRamRoleArn cycle: ConfigError listing the visited profiles', async () => {
    const home = await makeHome({
      current: 'a',
      profiles: [
        { name: 'a', mode: 'ChainableRamRoleArn', source_profile: 'b', ram_role_arn: emu.roleArn('x') },
        { name: 'b', mode: 'ChainableRamRoleArn', source_profile: 'c', ram_role_arn: emu.roleArn('y') },
        { name: 'c', mode: 'ChainableRamRoleArn', source_profile: 'a', ram_role_arn: emu.roleArn('z') },
      ],
    });
    const e = await failure(fromCliProfile({ homedir: home, env: {} })());
    expectConfigError(e, { field: 'source_profile', message: /cycle: a -> b -> c -> a/ });
    expect((e as Error).message).toContain("profile 'c'");
  });

  it('ChainableRamRoleArn: a self-reference and a missing source profile', async () => {
    const home = await makeHome({
      profiles: [
        { name: 'default', mode: 'ChainableRamRoleArn', source_profile: 'default', ram_role_arn: emu.roleArn('x') },
        { name: 'orphan', mode: 'ChainableRamRoleArn', source_profile: 'nobody', ram_role_arn: emu.roleArn('x') },
      ],
    });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { message: /cycle: default -> default/ });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {}, profile: 'orphan' })()), {
      field: 'source_profile',
      line: 12,
      message: /'nobody', which is not in the file/,
    });
  });

  it('ChainableRamRoleArn: an error in the source profile names that profile', async () => {
    const home = await makeHome({
      current: 'chain',
      profiles: [
        { name: 'base', mode: 'AK', access_key_id: 'LTAI5tx' },
        { name: 'chain', mode: 'ChainableRamRoleArn', source_profile: 'base', ram_role_arn: emu.roleArn('x') },
      ],
    });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'access_key_secret', message: /profile 'base'/ });
  });

  it('OIDC: assumes the role with the token file', async () => {
    const home = await makeHome();
    const tokenFile = join(home, 'token');
    await writeFile(tokenFile, emu.mintOidcToken({ subject: 'system:serviceaccount:default:cli', providerName: 'ack-rrsa' }));
    await mkdir(join(home, '.aliyun'));
    await writeFile(
      configPath(home),
      JSON.stringify({
        current: 'oidc',
        profiles: [
          cliWritten({
            name: 'oidc',
            mode: 'OIDC',
            oidc_provider_arn: emu.oidcProviderArn('ack-rrsa'),
            oidc_token_file: tokenFile,
            ram_role_arn: emu.roleArn('iot-operator'),
            ram_session_name: 'cli-oidc',
          }),
        ],
      }),
    );
    const before = emu.callCount('AssumeRoleWithOIDC');
    const provider = fromCliProfile({ homedir: home, env: {}, sts: { endpoint: emu.stsEndpoint } });
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('AssumeRoleWithOIDC') - before).toBe(1);
    provider.close();
  });

  it('OIDC without oidc_token_file: ConfigError naming it', async () => {
    const home = await makeHome({ profiles: [{ name: 'default', mode: 'OIDC', oidc_provider_arn: 'x', ram_role_arn: emu.roleArn('x') }] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: {} })()), { field: 'oidc_token_file' });
  });
});

describe('fromCliProfile: EcsRamRole, External and CredentialsURI delegate', () => {
  it('EcsRamRole with ALIBABA_CLOUD_ECS_METADATA_DISABLED=true: not configured, no request', async () => {
    const home = await makeHome({ profiles: [cliWritten({ name: 'default', mode: 'EcsRamRole', ram_role_name: 'EcsRole' })] });
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const e = await failure(fromCliProfile({ homedir: home, env: NO_ECS })());
      expect(e).toBeInstanceOf(CredentialsProviderError);
      expect((e as CredentialsProviderError).tryNext).toBe(true);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('EcsRamRole with a ram_role_name that is not a role name: ConfigError on that field', async () => {
    const home = await makeHome({ profiles: [{ name: 'default', mode: 'EcsRamRole', ram_role_name: '../admin' }] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: NO_ECS })()), { field: 'ram_role_name', line: 6, message: /not a RAM role name/ });
  });

  it('External runs process_command and reads its JSON', async () => {
    const script = `console.log(JSON.stringify({mode:'StsToken',access_key_id:'STS.FromProcess',access_key_secret:'proc-secret',sts_token:'proc-token',expiration:new Date(Date.now()+3600e3).toISOString()}))`;
    const command = `${JSON.stringify(process.execPath)} -e ${JSON.stringify(script)}`;
    const home = await makeHome({ profiles: [cliWritten({ name: 'default', mode: 'External', process_command: command })] });
    const provider = fromCliProfile({ homedir: home, env: { ...NO_ECS, PATH: process.env.PATH } });
    const c = await provider();
    expect(c).toMatchObject({ accessKeyId: 'STS.FromProcess', securityToken: 'proc-token' });
    expect(await provider()).toBe(c); // cached by the refresh engine, the command ran once
    provider.close();
  });

  it('External and CredentialsURI are refused with ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS, as in the CLI', async () => {
    const home = await makeHome({
      profiles: [
        { name: 'default', mode: 'External', process_command: 'echo {}' },
        { name: 'uri', mode: 'CredentialsURI', credentials_uri: 'http://127.0.0.1:9/' },
      ],
    });
    const env = { ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS: 'true' };
    expectConfigError(await failure(fromCliProfile({ homedir: home, env })()), { field: 'process_command', message: /disabled by ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS/ });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: { ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS: '1' }, profile: 'uri' })()), {
      field: 'credentials_uri',
    });
  });

  it('CredentialsURI fetches credentials_uri (else env ALIBABA_CLOUD_CREDENTIALS_URI) from a local server', async () => {
    let hits = 0;
    const server: Server = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          Code: 'Success',
          AccessKeyId: 'STS.CliUri',
          AccessKeySecret: 'uri-secret',
          SecurityToken: 'uri-token',
          Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`;
      const home = await makeHome({
        profiles: [
          cliWritten({ name: 'default', mode: 'CredentialsURI', credentials_uri: url }),
          cliWritten({ name: 'fromenv', mode: 'CredentialsURI' }),
        ],
      });
      const provider = fromCliProfile({ homedir: home, env: NO_ECS });
      expect((await provider()).accessKeyId).toBe('STS.CliUri');
      provider.close();
      const viaEnv = fromCliProfile({ homedir: home, env: { ...NO_ECS, ALIBABA_CLOUD_CREDENTIALS_URI: url }, profile: 'fromenv' });
      expect((await viaEnv()).accessKeyId).toBe('STS.CliUri');
      viaEnv.close();
      expect(hits).toBe(2);
      expectConfigError(await failure(fromCliProfile({ homedir: home, env: NO_ECS, profile: 'fromenv' })()), { field: 'credentials_uri' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('fromCliProfile: hygiene', () => {
  it('a config readable by others: one warning per path, naming it and suggesting chmod 600', async () => {
    const home = await makeHome({ profiles: [akProfile('default')] }, 0o640);
    const warn = vi.fn();
    await fromCliProfile({ homedir: home, env: {}, logger: { warn } })();
    await fromCliProfile({ homedir: home, env: {}, logger: { warn } })();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(configPath(home));
    expect(String(warn.mock.calls[0]![0])).toContain('chmod 600');
  });

  it('edits (aliyun configure) are picked up at the next call', async () => {
    const home = await makeHome({ current: 'a', profiles: [akProfile('a', 'LTAI5tFirst'), akProfile('b', 'LTAI5tSecond')] });
    const provider = fromCliProfile({ homedir: home, env: {} });
    expect((await provider()).accessKeyId).toBe('LTAI5tFirst');
    await writeFile(configPath(home), JSON.stringify({ current: 'b', profiles: [akProfile('a', 'LTAI5tFirst'), akProfile('b', 'LTAI5tSecond')] }));
    expect((await provider()).accessKeyId).toBe('LTAI5tSecond');
  });
});
