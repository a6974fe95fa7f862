/**
 * Hardening of the profile-file sources: a cap on ChainableRamRoleArn depth (a 1000-deep
 * chain used to crash the process), ini files where one bad line no longer spoils the
 * others' profiles, and every configuration error of a provider built from a profile naming
 * the file, the profile, the key and its line. Temporary HOMEs, explicit env objects, and
 * the local emulator on 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { fromCliProfile } from '../src/node/cli-config.js';
import { fromIniProfile } from '../src/node/ini-profile.js';
import { buildSpec, MAX_ROLE_CHAIN_HOPS, type ProfileSpec } from '../src/node/profile-build.js';
import { startEmulator, type Emulator } from '../src/testing/emulator/index.js';
import { failure } from './helpers.js';

const USER = { name: 'user-a', accessKeyId: 'LTAI5tHardenUserA000001', accessKeySecret: 'harden-secret-a-0123456789' };
const SECRET = 'harden-secret-never-shown-42';
const NO_ECS = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };
const allow = (...actions: string[]) => ({ Statement: [{ Effect: 'Allow' as const, Action: actions }] });
/** Roles link0 … link16: link0 trusts the user, each next one the previous. */
const LINKS = Array.from({ length: MAX_ROLE_CHAIN_HOPS + 1 }, (_, i) => `link${i}`);

let emu: Emulator;
const homes: string[] = [];
const opened: { close(): void }[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    users: [{ ...USER, policies: [allow('sts:AssumeRole')] }],
    roles: [
      { name: 'app', trustedUsers: ['user-a'], trustedOidcProviders: ['ack-rrsa'], maxSessionDuration: 3600 },
      ...LINKS.map((name, i) => (i === 0 ? { name, trustedUsers: ['user-a'] } : { name, trustedRoles: [LINKS[i - 1]!] })),
    ],
    oidcProviders: [{ name: 'ack-rrsa' }],
  });
});
afterAll(async () => {
  for (const p of opened) p.close();
  await emu.close();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

async function tempHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'alicred-hardening-'));
  homes.push(home);
  return home;
}

/** A HOME whose ~/.alibabacloud/credentials is `text`; returns it and the file's path. */
async function iniHome(text: string): Promise<{ home: string; file: string }> {
  const home = await tempHome();
  await mkdir(join(home, '.alibabacloud'));
  const file = join(home, '.alibabacloud', 'credentials');
  await writeFile(file, text, { mode: 0o600 });
  return { home, file };
}

/** A HOME whose ~/.aliyun/config.json is `config`, pretty-printed (one key per line). */
async function cliHome(config: { current?: string; profiles: Record<string, unknown>[] }): Promise<{ home: string; file: string; text: string }> {
  const home = await tempHome();
  await mkdir(join(home, '.aliyun'));
  const file = join(home, '.aliyun', 'config.json');
  const text = JSON.stringify({ ...config, meta_path: '' }, null, 2);
  await writeFile(file, text, { mode: 0o600 });
  return { home, file, text };
}

/** 1-based line of the first line of `text` containing `needle`. */
function lineWith(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`no line with ${needle}`);
  return index + 1;
}

/** A ConfigError with these fields, stated in its message too, never showing a secret. */
function expectConfigError(
  e: unknown,
  want: { provider: string; file: string; profile: string; line?: number; field?: string; message?: RegExp },
): ConfigError {
  expect(e).toBeInstanceOf(ConfigError);
  const err = e as ConfigError;
  expect(err.provider).toBe(want.provider);
  expect(err.file).toBe(want.file);
  expect(err.message).toContain(want.file);
  expect(err.message).toContain(`profile '${want.profile}'`);
  if (want.line !== undefined) {
    expect(err.line).toBe(want.line);
    expect(err.message).toContain(`line ${want.line}`);
  }
  if (want.field !== undefined) {
    expect(err.field).toBe(want.field);
    expect(err.message).toContain(want.field);
  }
  if (want.message) expect(err.message).toMatch(want.message);
  for (const secret of [SECRET, USER.accessKeySecret]) {
    expect(err.message).not.toContain(secret);
    expect(inspect(err, { depth: 10 })).not.toContain(secret);
  }
  return err;
}

function recorder() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (m: string) => void warnings.push(m) } };
}

// ---------------------------------------------------------------------------
// 10: depth of ChainableRamRoleArn chains
// ---------------------------------------------------------------------------

/** `count` ChainableRamRoleArn profiles p0 -> p1 -> … -> p<count>, the last an AK profile. */
function chainProfiles(count: number, roleOf: (i: number) => string): Record<string, unknown>[] {
  const profiles: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    profiles.push({ name: `p${i}`, mode: 'ChainableRamRoleArn', source_profile: `p${i + 1}`, ram_role_arn: roleOf(i), ram_session_name: `hop${i}` });
  }
  profiles.push({ name: `p${count}`, mode: 'AK', access_key_id: USER.accessKeyId, access_key_secret: USER.accessKeySecret });
  return profiles;
}

describe('ChainableRamRoleArn depth (item 10)', () => {
  it('a 1000-deep chain is a ConfigError naming the chain and file, in a child process that does not crash', async () => {
    const { home, file } = await cliHome({ current: 'p0', profiles: chainProfiles(1000, () => 'acs:ram::123456789012:role/x') });
    // The child runs the real module (bundled from source), so a stack overflow kills it, not the test runner.
    const dir = await tempHome();
    await build({
      entryPoints: [fileURLToPath(new URL('../src/node/cli-config.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'cli-config.mjs'),
      logLevel: 'silent',
    });
    const script = join(dir, 'run.mjs');
    await writeFile(
      script,
      `import { fromCliProfile } from './cli-config.mjs';\n` +
        `const provider = fromCliProfile({ homedir: ${JSON.stringify(home)}, env: ${JSON.stringify(NO_ECS)},\n` +
        `  sts: { endpoint: ${JSON.stringify(emu.stsEndpoint)}, timeoutMs: 2000 }, refresh: { retry: false, backgroundTimer: false } });\n` +
        `try { await provider(); console.log(JSON.stringify({ ok: true })); }\n` +
        `catch (e) { console.log(JSON.stringify({ name: e.name, file: e.file, field: e.field, line: e.line, message: e.message })); }\n` +
        `provider.close();\n`,
    );
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [script], { timeout: 60_000, env: { ...NO_ECS, PATH: process.env.PATH ?? '' } }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });
    expect(result.stderr).not.toMatch(/Maximum call stack/);
    expect(result.code).toBe(0);
    const outcome = JSON.parse(result.stdout.trim()) as { name: string; file: string; field: string; message: string };
    expect(outcome.name).toBe('ConfigError');
    expect(outcome.file).toBe(file);
    expect(outcome.field).toBe('source_profile');
    expect(outcome.message).toContain(file);
    expect(outcome.message).toMatch(/p0 -> p1 -> p2 -> p3 -> … \(995 more\) -> p999 -> p1000/);
    expect(outcome.message).toContain(`at most ${MAX_ROLE_CHAIN_HOPS} source_profile hops`);
    expect(outcome.message).toContain('1000 hops');
  }, 90_000);

  it(`${MAX_ROLE_CHAIN_HOPS} hops work (one AssumeRole each); ${MAX_ROLE_CHAIN_HOPS + 1} are a ConfigError before any request`, async () => {
    const ok = await cliHome({ current: 'p0', profiles: chainProfiles(MAX_ROLE_CHAIN_HOPS, (i) => emu.roleArn(LINKS[MAX_ROLE_CHAIN_HOPS - 1 - i]!)) });
    const provider = fromCliProfile({ homedir: ok.home, env: NO_ECS, sts: { endpoint: emu.stsEndpoint } });
    opened.push(provider);
    const before = emu.callCount('AssumeRole');
    expect((await provider()).accessKeyId).toMatch(/^STS\./);
    expect(emu.callCount('AssumeRole') - before).toBe(MAX_ROLE_CHAIN_HOPS);

    const long = await cliHome({ current: 'p0', profiles: chainProfiles(MAX_ROLE_CHAIN_HOPS + 1, () => emu.roleArn('link0')) });
    const again = emu.callCount('AssumeRole');
    const e = await failure(fromCliProfile({ homedir: long.home, env: NO_ECS, sts: { endpoint: emu.stsEndpoint } })());
    expectConfigError(e, {
      provider: 'cli-profile',
      file: long.file,
      profile: `p${MAX_ROLE_CHAIN_HOPS}`,
      field: 'source_profile',
      line: lineWith(long.text, `"source_profile": "p${MAX_ROLE_CHAIN_HOPS + 1}"`),
      message: new RegExp(`is hop ${MAX_ROLE_CHAIN_HOPS + 1} of a chain of ${MAX_ROLE_CHAIN_HOPS + 1} hops`),
    });
    expect(emu.callCount('AssumeRole')).toBe(again);
  });

  it('cycles stay a clear ConfigError, short or longer than the cap', async () => {
    const short = await cliHome({
      current: 'a',
      profiles: [
        { name: 'a', mode: 'ChainableRamRoleArn', source_profile: 'b', ram_role_arn: emu.roleArn('app') },
        { name: 'b', mode: 'ChainableRamRoleArn', source_profile: 'a', ram_role_arn: emu.roleArn('app') },
      ],
    });
    expectConfigError(await failure(fromCliProfile({ homedir: short.home, env: NO_ECS })()), {
      provider: 'cli-profile',
      file: short.file,
      profile: 'b',
      field: 'source_profile',
      message: /cycle: a -> b -> a/,
    });

    const ring = Array.from({ length: 40 }, (_, i) => ({
      name: `r${i}`,
      mode: 'ChainableRamRoleArn',
      source_profile: `r${(i + 1) % 40}`,
      ram_role_arn: emu.roleArn('app'),
    }));
    const long = await cliHome({ current: 'r0', profiles: ring });
    expectConfigError(await failure(fromCliProfile({ homedir: long.home, env: NO_ECS })()), {
      provider: 'cli-profile',
      file: long.file,
      profile: `r${MAX_ROLE_CHAIN_HOPS}`,
      field: 'source_profile',
      message: /makes a cycle \(r0 -> r1 -> r2 -> r3 -> … \(35 more\) -> r39 -> r0\)/,
    });
  });

  it('buildSpec refuses a spec nested deeper than the cap without building anything', () => {
    let spec: ProfileSpec = { kind: 'static', accessKeyId: USER.accessKeyId, accessKeySecret: USER.accessKeySecret };
    for (let i = 0; i < 1000; i++) spec = { kind: 'ram-role', source: spec, roleArn: 'acs:ram::123456789012:role/x', sts: {} };
    const ctx = { provider: 'cli-profile', file: '/x/config.json', describe: "profile 'p0'", line: 3, locate: () => undefined, options: {}, env: NO_ECS };
    let thrown: unknown;
    try {
      buildSpec(spec, ctx).closers.forEach((c) => c.close());
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).file).toBe('/x/config.json');
    expect((thrown as ConfigError).message).toContain(`longer than ${MAX_ROLE_CHAIN_HOPS} hops`);
  });
});

// ---------------------------------------------------------------------------
// 14: one bad line no longer spoils a whole ini file
// ---------------------------------------------------------------------------

const AK = `type = access_key\naccess_key_id = LTAI5tHardenStatic01\naccess_key_secret = ${SECRET}\n`;

describe('ini: a malformed line spoils only its own profile (item 14)', () => {
  it('a nameless section `[ ] ;note` at the top is skipped with one warning naming file and line; [default] is read', async () => {
    const { home, file } = await iniHome(`[ ] ;note\nstray = 1\n\n[default]\n${AK}`);
    const { warnings, logger } = recorder();
    const provider = fromIniProfile({ homedir: home, env: NO_ECS, logger });
    expect((await provider()).accessKeyId).toBe('LTAI5tHardenStatic01');
    await provider();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toMatch(/line 1 is a section header without a name \(with the 1 line below it\)/);
    expect(warnings[0]).toContain("Profile 'default' does not use it");
  });

  it('a line without "=", an empty key and duplicate keys in other profiles, and garbage at the top: the profile asked for is read', async () => {
    const { home, file } = await iniHome(
      `garbage before any section\n[other]\ntype = access_key\n${SECRET}\n = nokey\ntype = sts\ntype = sts\n[default]\n${AK}[third]\nalso garbage\n`,
    );
    const { warnings, logger } = recorder();
    const c = await fromIniProfile({ homedir: home, env: NO_ECS, logger })();
    expect(c.accessKeyId).toBe('LTAI5tHardenStatic01');
    expect(warnings).toHaveLength(1);
    const w = warnings[0]!;
    expect(w).toContain(file);
    expect(w).toMatch(/line 1 is neither .* \(before any \[section\]\)/);
    expect(w).toMatch(/line 4 is neither .* \(in profile 'other'\)/);
    expect(w).toMatch(/line 5 has no key before "=" \(in profile 'other'\)/);
    expect(w).toMatch(/line 13 is neither .* \(in profile 'third'\)/);
    expect(w).not.toContain(SECRET);
    expect(w).not.toContain('garbage');
  });

  it('a malformed line inside the profile asked for stays a ConfigError naming file, profile and line', async () => {
    const { home, file } = await iniHome(`[ ]\n[default]\n${AK}${SECRET}\n[other]\n${AK}`);
    const e = await failure(fromIniProfile({ homedir: home, env: NO_ECS })());
    expectConfigError(e, { provider: 'ini-profile', file, profile: 'default', line: 6, message: /malformed: line 6 .*is neither/ });
    // The other profile of the same file is still readable.
    expect((await fromIniProfile({ homedir: home, env: NO_ECS, profile: 'other' })()).accessKeyId).toBe('LTAI5tHardenStatic01');
  });

  it('a malformed header: an error when the profile asked for is missing (it may be that one), a warning otherwise', async () => {
    const missing = await iniHome(`[default\n${AK}[other]\n${AK}`);
    const e = await failure(fromIniProfile({ homedir: missing.home, env: NO_ECS })());
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).line).toBe(1);
    expect((e as ConfigError).message).toMatch(/line 1 starts with "\[" but is not a \[section\] header; it may be the header of profile 'default'/);

    const present = await iniHome(`[broken] trailing\nkey = 1\n[default]\n${AK}`);
    const { warnings, logger } = recorder();
    expect((await fromIniProfile({ homedir: present.home, env: NO_ECS, logger })()).accessKeyId).toBe('LTAI5tHardenStatic01');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/line 1 starts with "\[" but is not a \[section\] header \(with the 1 line below it\)/);
  });
});

// ---------------------------------------------------------------------------
// 16: context on every configuration error of a profile-built provider
// ---------------------------------------------------------------------------

describe('ini: configuration errors of built providers name file, profile, key and line (item 16)', () => {
  async function oidcIni(overrides: Record<string, string>): Promise<{ home: string; file: string; text: string }> {
    const home = await tempHome();
    const tokenFile = join(home, 'token');
    await writeFile(tokenFile, emu.mintOidcToken({ subject: 'system:serviceaccount:default:app', providerName: 'ack-rrsa' }));
    const keys: Record<string, string> = {
      type: 'oidc_role_arn',
      role_arn: emu.roleArn('app'),
      oidc_provider_arn: emu.oidcProviderArn('ack-rrsa'),
      oidc_token_file_path: tokenFile,
      role_session_name: 'ini-oidc',
      ...overrides,
    };
    const text = `; comment\n[other]\n${AK}\n[default]\n${Object.entries(keys).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
    await mkdir(join(home, '.alibabacloud'));
    const file = join(home, '.alibabacloud', 'credentials');
    await writeFile(file, text, { mode: 0o600 });
    return { home, file, text };
  }

  const cases: [string, Record<string, string>, string, RegExp][] = [
    ['a malformed role ARN', { role_arn: 'acs:ram::12:role' }, 'role_arn', /not a role ARN|role ARN/i],
    ['a malformed OIDC provider ARN', { oidc_provider_arn: 'arn:aws:iam::1:oidc-provider/x' }, 'oidc_provider_arn', /oidc-provider/],
    ['a bad session name', { role_session_name: 'has spaces in it' }, 'role_session_name', /2-64 characters/],
    ['a duration out of range', { duration_seconds: '60' }, 'duration_seconds', /900/],
    ['a policy that is not JSON', { policy: 'not json' }, 'policy', /valid JSON/],
    ['a token file that does not exist', { oidc_token_file_path: '/nonexistent/alicred/token' }, 'oidc_token_file_path', /\/nonexistent\/alicred\/token.*does not exist/],
  ];

  it.each(cases)('oidc_role_arn with %s', async (_what, overrides, key, message) => {
    const { home, file, text } = await oidcIni(overrides);
    const provider = fromIniProfile({ homedir: home, env: NO_ECS, sts: { endpoint: emu.stsEndpoint } });
    opened.push(provider);
    const e = await failure(provider());
    expectConfigError(e, { provider: 'ini-profile', file, profile: 'default', field: key, line: lineWith(text, `${key} =`), message });
    // Every call says the same.
    expectConfigError(await failure(provider()), { provider: 'ini-profile', file, profile: 'default', field: key });
  });

  it('ram_role_arn with a policy that is not JSON and a session name too short', async () => {
    const text = `[default]\ntype = ram_role_arn\naccess_key_id = ${USER.accessKeyId}\naccess_key_secret = ${USER.accessKeySecret}\nrole_arn = ${emu.roleArn('app')}\npolicy = {oops\n`;
    const { home, file } = await iniHome(text);
    expectConfigError(await failure(fromIniProfile({ homedir: home, env: NO_ECS })()), { provider: 'ini-profile', file, profile: 'default', field: 'policy', line: 6 });
    const { home: home2, file: file2 } = await iniHome(text.replace('policy = {oops', 'role_session_name = x'));
    expectConfigError(await failure(fromIniProfile({ homedir: home2, env: NO_ECS })()), {
      provider: 'ini-profile',
      file: file2,
      profile: 'default',
      field: 'role_session_name',
      line: 6,
    });
  });
});

describe('cli: configuration errors of built providers name file, profile, key and line (item 16)', () => {
  async function oidcCli(overrides: Record<string, unknown>, extra: Record<string, unknown>[] = []) {
    const home = await tempHome();
    const tokenFile = join(home, 'token');
    await writeFile(tokenFile, emu.mintOidcToken({ subject: 'system:serviceaccount:default:cli', providerName: 'ack-rrsa' }));
    const profile = {
      name: 'oidc',
      mode: 'OIDC',
      oidc_provider_arn: emu.oidcProviderArn('ack-rrsa'),
      oidc_token_file: tokenFile,
      ram_role_arn: emu.roleArn('app'),
      ram_session_name: 'cli-oidc',
      ...overrides,
    };
    const written = await cliHome({ current: 'oidc', profiles: [{ name: 'first', mode: 'AK', access_key_id: 'LTAI5tx', access_key_secret: SECRET }, profile, ...extra] });
    return written;
  }

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a malformed role ARN', { ram_role_arn: 'acs:ram::12:role' }, 'ram_role_arn', /role ARN/i],
    ['a malformed OIDC provider ARN', { oidc_provider_arn: 'not-an-arn' }, 'oidc_provider_arn', /oidc-provider/],
    ['a bad session name', { ram_session_name: 'bad name!' }, 'ram_session_name', /2-64 characters/],
    ['a duration out of range', { expired_seconds: 100 }, 'expired_seconds', /900/],
    ['a policy that is not JSON', { policy: '{' }, 'policy', /valid JSON/],
    ['a token file that does not exist', { oidc_token_file: '/nonexistent/alicred/cli-token' }, 'oidc_token_file', /cli-token.*does not exist/],
  ];

  it.each(cases)('OIDC with %s', async (_what, overrides, key, message) => {
    const { home, file, text } = await oidcCli(overrides);
    const provider = fromCliProfile({ homedir: home, env: NO_ECS, sts: { endpoint: emu.stsEndpoint } });
    opened.push(provider);
    const e = await failure(provider());
    // The profile's own key, not the first profile's key of the same name.
    const keyLines = text.split('\n').map((l, i) => (l.includes(`"${key}"`) ? i + 1 : 0)).filter(Boolean);
    expectConfigError(e, { provider: 'cli-profile', file, profile: 'oidc', field: key, line: keyLines.at(-1), message });
  });

  it('a ChainableRamRoleArn whose source is a broken OIDC profile names the source profile', async () => {
    const { home, file, text } = await oidcCli({ name: 'oidc', oidc_token_file: '/nonexistent/alicred/src-token' }, [
      { name: 'top', mode: 'ChainableRamRoleArn', source_profile: 'oidc', ram_role_arn: emu.roleArn('app') },
    ]);
    const e = await failure(fromCliProfile({ homedir: home, env: NO_ECS, profile: 'top', sts: { endpoint: emu.stsEndpoint } })());
    expectConfigError(e, { provider: 'cli-profile', file, profile: 'oidc', field: 'oidc_token_file', line: lineWith(text, 'src-token') });
  });

  it('External: a helper printing something that is not credentials is reported against process_command and its line', async () => {
    const command = `${JSON.stringify(process.execPath)} -e "process.stdout.write('not json')"`;
    const { home, file, text } = await cliHome({ profiles: [{ name: 'default', mode: 'External', process_command: command }] });
    const provider = fromCliProfile({ homedir: home, env: NO_ECS });
    opened.push(provider);
    expectConfigError(await failure(provider()), {
      provider: 'cli-profile',
      file,
      profile: 'default',
      field: 'process_command',
      line: lineWith(text, '"process_command"'),
      message: /not valid JSON/,
    });
  });

  it('CredentialsURI: a URI the provider refuses names credentials_uri and its line', async () => {
    const { home, file, text } = await cliHome({ profiles: [{ name: 'default', mode: 'CredentialsURI', credentials_uri: 'http://10.0.0.5/creds' }] });
    expectConfigError(await failure(fromCliProfile({ homedir: home, env: NO_ECS })()), {
      provider: 'cli-profile',
      file,
      profile: 'default',
      field: 'credentials_uri',
      line: lineWith(text, '"credentials_uri"'),
    });
  });
});
