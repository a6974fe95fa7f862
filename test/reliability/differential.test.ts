/**
 * Differential test against @alicloud/credentials 2.4.7 (issue 9): for each setup (env, ini
 * credentials file, CLI config.json, credentials URI, External process, OIDC and role
 * profiles), alicred's defaultProvider and the official default chain resolve the same
 * AccessKeyId and kind (access_key vs sts), or both fail. Differences kept on purpose are
 * listed in the table with their reason (`peer`), and assert the documented difference.
 *
 * Safety: the peer runs in a child process per setup (its env and HOME are process-wide),
 * started with peer-preload.mjs, which answers every request to a non-loopback host with a
 * refusal before any socket or DNS lookup (reported as `intercepted`) and refuses and reports
 * any deeper connection or lookup (`leak`, which fails the test). ECS metadata is disabled in
 * every setup, and ALIBABA_CLOUD_CREDENTIALS_URI points at a loopback server unless the setup
 * is about it being unset. alicred's STS is that loopback server too (it refuses every call),
 * so role setups fail on both sides.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultProvider } from '../../src/node/default.js';
import { recordFigures } from './figures.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const PRELOAD = join(import.meta.dirname, 'peer-preload.mjs');
const CHILD = join(import.meta.dirname, 'peer-child.mjs');
/** Peer child processes at a time (the suite runs on 2 cores). */
const CONCURRENCY = 2;

type Outcome = { ok: true; id: string; token: boolean } | { ok: false };
/** Applied before a further call on the same provider: env (null unsets), files (null deletes), a wait. */
type Step = { env?: Record<string, string | null>; files?: Record<string, string | null>; waitMs?: number };
type Case = {
  setup: string;
  env?: Record<string, string>;
  /** Paths relative to HOME. `$HOME`, `$NODE` and `$BASE` are replaced in values and texts. */
  files?: Record<string, string>;
  /** Path on the loopback server for ALIBABA_CLOUD_CREDENTIALS_URI (default `fail`); null leaves it unset. */
  uri?: string | null;
  /** Further calls on the same provider, each after its step. */
  then?: Step[];
  /** alicred's outcome, one per call. */
  expect: Outcome | Outcome[];
  /** A difference kept on purpose: the peer's outcome and why. */
  peer?: { expect: Outcome | Outcome[]; reason: string };
  /** Non-loopback hosts the peer is expected to try (each refused by the preload). */
  peerHosts?: string[];
};

const ak = (id: string): Outcome => ({ ok: true, id, token: false });
const sts = (id: string): Outcome => ({ ok: true, id, token: true });
const FAIL: Outcome = { ok: false };

const cliConfig = (current: string, profiles: object[], extra: object = {}) => JSON.stringify({ current, profiles, meta_path: '', ...extra }, null, 2);
const iniAk = (section: string, id: string) => `[${section}]\ntype = access_key\naccess_key_id = ${id}\naccess_key_secret = s\n`;
const ROLE = 'acs:ram::1234567890123456:role/diff';
const OIDC_ARN = 'acs:ram::1234567890123456:oidc-provider/diff';
const oidcEnv = { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: OIDC_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE: '$HOME/token' };
/** An External-mode helper that prints `output` (no network, no shell features). */
const helper = (output: string, exitCode = 0) => `process.stdout.write(${JSON.stringify(output)});\nprocess.exitCode = ${exitCode};\n`;
const external = (name = 'ext') => cliConfig(name, [{ name, mode: 'External', process_command: '$NODE $HOME/bin/creds.mjs' }]);
const FAR = '2099-01-01T00:00:00Z';

const cases: Case[] = [
  // --- the 17 setups of the first differential test ---
  { setup: 'env AccessKey pair', env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0001', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' }, expect: ak('LTAIenv0001') },
  {
    setup: 'env STS key with security token',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'STS.env0002', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_SECURITY_TOKEN: 'tok' },
    expect: sts('STS.env0002'),
  },
  { setup: 'env ID without secret', env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0003' }, expect: FAIL },
  { setup: 'ini default profile, access_key', files: { '.alibabacloud/credentials': iniAk('default', 'LTAIini0004') }, expect: ak('LTAIini0004') },
  {
    setup: 'ini profile chosen by ALIBABA_CLOUD_PROFILE',
    env: { ALIBABA_CLOUD_PROFILE: 'prod' },
    files: { '.alibabacloud/credentials': `${iniAk('default', 'LTAIini0005a')}\n${iniAk('prod', 'LTAIini0005b')}` },
    expect: ak('LTAIini0005b'),
  },
  {
    setup: 'ini file from ALIBABA_CLOUD_CREDENTIALS_FILE',
    env: { ALIBABA_CLOUD_CREDENTIALS_FILE: '$HOME/elsewhere/creds.ini' },
    files: { 'elsewhere/creds.ini': iniAk('default', 'LTAIini0006') },
    expect: ak('LTAIini0006'),
  },
  {
    setup: 'CLI config, current AK profile',
    files: { '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0007', access_key_secret: 's', region_id: 'cn-hangzhou' }]) },
    expect: ak('LTAIcli0007'),
  },
  {
    setup: 'CLI config, StsToken profile chosen by ALIBABA_CLOUD_PROFILE',
    env: { ALIBABA_CLOUD_PROFILE: 'temp' },
    files: {
      '.aliyun/config.json': cliConfig('main', [
        { name: 'main', mode: 'AK', access_key_id: 'LTAIcli0008a', access_key_secret: 's' },
        { name: 'temp', mode: 'StsToken', access_key_id: 'STS.cli0008b', access_key_secret: 's', sts_token: 'tok' },
      ]),
    },
    expect: sts('STS.cli0008b'),
  },
  {
    setup: 'CLI profile disabled: the ini file answers',
    env: { ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0009', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0009'),
    },
    expect: ak('LTAIini0009'),
  },
  {
    setup: 'env wins over both files',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0010', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0010', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0010'),
    },
    expect: ak('LTAIenv0010'),
  },
  {
    setup: 'CLI config wins over the ini file',
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0011', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0011'),
    },
    expect: ak('LTAIcli0011'),
  },
  { setup: 'credentials URI answers', uri: 'ok', expect: sts('STS.uri0012') },
  { setup: 'nothing configured (URI on loopback fails)', expect: FAIL },
  {
    setup: 'env pair plus an empty token variable',
    env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0014', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's', ALIBABA_CLOUD_SECURITY_TOKEN: '' },
    expect: ak('LTAIenv0014'),
  },
  {
    setup: 'CLI config whose current profile is missing, ini answers',
    files: {
      '.aliyun/config.json': cliConfig('gone', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0015', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0015'),
    },
    expect: ak('LTAIini0015'),
  },
  {
    setup: 'ini profile named by ALIBABA_CLOUD_PROFILE, CLI disabled',
    env: { ALIBABA_CLOUD_PROFILE: 'only-ini', ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0016', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('only-ini', 'LTAIini0016'),
    },
    expect: ak('LTAIini0016'),
  },
  {
    setup: 'CLI config at the default path, profile named default',
    files: { '.aliyun/config.json': cliConfig('default', [{ name: 'default', mode: 'StsToken', access_key_id: 'STS.cli0017', access_key_secret: 's', sts_token: 't' }]) },
    expect: sts('STS.cli0017'),
  },

  // --- env ---
  { setup: 'env secret without ID', env: { ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' }, expect: FAIL },
  {
    setup: 'ALIBABA_CLOUD_PROFILE names a profile in neither file',
    env: { ALIBABA_CLOUD_PROFILE: 'nowhere' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0019', access_key_secret: 's' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0019'),
    },
    expect: FAIL,
  },
  {
    setup: 'ALIBABA_CLOUD_PROFILE names an ini profile, CLI enabled: the CLI link passes',
    env: { ALIBABA_CLOUD_PROFILE: 'ops' },
    files: {
      '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0020', access_key_secret: 's' }]),
      '.alibabacloud/credentials': `${iniAk('default', 'LTAIini0020a')}\n${iniAk('ops', 'LTAIini0020b')}`,
    },
    expect: ak('LTAIini0020b'),
  },

  // --- odd but valid ini files ---
  {
    setup: 'ini with ; and # comments and blank lines',
    files: { '.alibabacloud/credentials': '; written by hand\n# second comment\n\n[default]\n; inside\ntype = access_key\n\n# between keys\naccess_key_id = LTAIini0021\naccess_key_secret = s\n\n' },
    expect: ak('LTAIini0021'),
  },
  {
    setup: 'ini with CRLF line endings',
    files: { '.alibabacloud/credentials': '[default]\r\ntype = access_key\r\naccess_key_id = LTAIini0022\r\naccess_key_secret = s\r\n' },
    expect: ak('LTAIini0022'),
  },
  {
    setup: 'ini with a UTF-8 BOM before a comment line',
    files: { '.alibabacloud/credentials': `\uFEFF# saved by Notepad\n${iniAk('default', 'LTAIini0023')}` },
    expect: ak('LTAIini0023'),
  },
  {
    setup: 'ini with a UTF-8 BOM right before [default]',
    files: { '.alibabacloud/credentials': `\uFEFF${iniAk('default', 'LTAIini0024')}` },
    expect: ak('LTAIini0024'),
    peer: { expect: FAIL, reason: 'alicred drops a leading UTF-8 BOM (Windows editors write one); the peer ini 1.3.8 reads "\\uFEFF[default]" as a key, so the section is lost' },
  },
  {
    setup: 'ini without spaces around =, tabs and indented keys',
    files: { '.alibabacloud/credentials': '[default]\ntype=access_key\n\taccess_key_id\t=\tLTAIini0025\n   access_key_secret =s   \n' },
    expect: ak('LTAIini0025'),
  },
  {
    setup: 'ini with double- and single-quoted values',
    files: { '.alibabacloud/credentials': `[default]\ntype = "access_key"\naccess_key_id = "LTAIini0026"\naccess_key_secret = 's'\n` },
    expect: ak('LTAIini0026'),
  },
  {
    setup: 'ini with [default] last, after other profiles',
    files: { '.alibabacloud/credentials': `${iniAk('dev', 'LTAIini0027a')}\n${iniAk('staging', 'LTAIini0027b')}\n${iniAk('default', 'LTAIini0027c')}` },
    expect: ak('LTAIini0027c'),
  },
  {
    setup: 'ini with extra unknown keys',
    files: { '.alibabacloud/credentials': '[default]\nregion_id = cn-hangzhou\ntype = access_key\naccess_key_id = LTAIini0028\nnote = rotated monthly\naccess_key_secret = s\nenable = true\n' },
    expect: ak('LTAIini0028'),
  },
  {
    setup: 'ini with [default] twice: the later key wins',
    files: { '.alibabacloud/credentials': `${iniAk('default', 'LTAIini0029a')}\n${iniAk('other', 'LTAIini0029b')}\n[default]\naccess_key_id = LTAIini0029c\n` },
    expect: ak('LTAIini0029c'),
  },
  {
    setup: 'ini with inline comments after values',
    files: { '.alibabacloud/credentials': '[default]\ntype = access_key ; static\naccess_key_id = LTAIini0030 # from the console\naccess_key_secret = s\n' },
    expect: ak('LTAIini0030'),
  },
  {
    setup: 'ini section header followed by a comment',
    files: { '.alibabacloud/credentials': '[default] ; the default\ntype = access_key\naccess_key_id = LTAIini0030b\naccess_key_secret = s\n' },
    expect: ak('LTAIini0030b'),
    peer: { expect: FAIL, reason: 'alicred allows a comment after a [section] header (as Python configparser does); the peer ini 1.3.8 reads that line as a key, so the section is lost' },
  },
  {
    setup: 'ini with several profiles, ALIBABA_CLOUD_PROFILE picks the middle one',
    env: { ALIBABA_CLOUD_PROFILE: 'b' },
    files: { '.alibabacloud/credentials': `${iniAk('a', 'LTAIini0031a')}\n${iniAk('b', 'LTAIini0031b')}\n${iniAk('default', 'LTAIini0031c')}` },
    expect: ak('LTAIini0031b'),
  },
  {
    setup: 'ini type ecs_ram_role while ECS metadata is disabled',
    files: { '.alibabacloud/credentials': '[default]\ntype = ecs_ram_role\nrole_name = diff\n' },
    expect: FAIL,
  },
  {
    setup: 'ini profile with no type',
    files: { '.alibabacloud/credentials': '[default]\naccess_key_id = LTAIini0033\naccess_key_secret = s\n' },
    expect: FAIL,
  },
  {
    setup: 'ini type sts',
    files: { '.alibabacloud/credentials': '[default]\ntype = sts\naccess_key_id = STS.ini0034\naccess_key_secret = s\nsecurity_token = t\n' },
    expect: sts('STS.ini0034'),
    peer: { expect: FAIL, reason: 'alicred reads type = sts (as credentials-python does); the peer ini reader knows only access_key, ecs_ram_role and ram_role_arn' },
  },
  {
    setup: 'only ~/.alibabacloud/credentials.ini exists',
    files: { '.alibabacloud/credentials.ini': iniAk('default', 'LTAIini0035') },
    expect: ak('LTAIini0035'),
    peer: { expect: FAIL, reason: 'alicred falls back to credentials.ini, the name Python and Java use; the peer reads only ~/.alibabacloud/credentials' },
  },
  {
    setup: 'ini dotted section name chosen by ALIBABA_CLOUD_PROFILE',
    env: { ALIBABA_CLOUD_PROFILE: 'prod.cn' },
    files: { '.alibabacloud/credentials': iniAk('prod.cn', 'LTAIini0036') },
    expect: ak('LTAIini0036'),
    peer: { expect: FAIL, reason: 'the peer ini 1.3.8 nests [prod.cn] as prod → cn, so the profile is not found; alicred keeps the section name whole' },
  },

  // --- odd but valid CLI config files ---
  {
    setup: 'CLI config with unknown top-level and profile keys, 4-space indent',
    files: {
      '.aliyun/config.json': JSON.stringify(
        {
          current: 'main',
          profiles: [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0037', access_key_secret: 's', region_id: 'cn-beijing', output_format: 'json', language: 'en', site: 'china', retry_timeout: 0, retry_count: 0 }],
          meta_path: '',
          language: 'en',
          plugins: { installed: [] },
        },
        null,
        4,
      ),
    },
    expect: ak('LTAIcli0037'),
  },
  {
    setup: 'CLI config with CRLF line endings',
    files: { '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0038', access_key_secret: 's' }]).replace(/\n/g, '\r\n') },
    expect: ak('LTAIcli0038'),
  },
  {
    setup: 'CLI config with a UTF-8 BOM',
    files: { '.aliyun/config.json': `\uFEFF${cliConfig('main', [{ name: 'main', mode: 'AK', access_key_id: 'LTAIcli0039', access_key_secret: 's' }])}` },
    expect: ak('LTAIcli0039'),
    peer: { expect: FAIL, reason: 'alicred drops a leading UTF-8 BOM from profile files; the peer hands it to JSON.parse, which rejects it, so its CLI link fails' },
  },
  {
    setup: 'CLI config, current is the last of several profiles',
    files: {
      '.aliyun/config.json': cliConfig('c', [
        { name: 'a', mode: 'AK', access_key_id: 'LTAIcli0040a', access_key_secret: 's' },
        { name: 'b', mode: 'StsToken', access_key_id: 'STS.cli0040b', access_key_secret: 's', sts_token: 't' },
        { name: 'c', mode: 'AK', access_key_id: 'LTAIcli0040c', access_key_secret: 's' },
      ]),
    },
    expect: ak('LTAIcli0040c'),
  },
  {
    setup: 'CLI config with two profiles of one name: the first wins',
    files: {
      '.aliyun/config.json': cliConfig('dup', [
        { name: 'dup', mode: 'AK', access_key_id: 'LTAIcli0041a', access_key_secret: 's' },
        { name: 'dup', mode: 'AK', access_key_id: 'LTAIcli0041b', access_key_secret: 's' },
      ]),
    },
    expect: ak('LTAIcli0041a'),
  },
  {
    setup: 'CLI config with an empty profiles list, ini answers',
    files: { '.aliyun/config.json': cliConfig('main', []), '.alibabacloud/credentials': iniAk('default', 'LTAIini0042') },
    expect: ak('LTAIini0042'),
  },
  {
    setup: 'CLI config mode in lower case (ak)',
    files: { '.aliyun/config.json': cliConfig('main', [{ name: 'main', mode: 'ak', access_key_id: 'LTAIcli0043', access_key_secret: 's' }]) },
    expect: ak('LTAIcli0043'),
    peer: { expect: FAIL, reason: 'alicred matches modes case-insensitively, as the aliyun CLI (NormalizeMode) does; the peer compares them exactly' },
  },
  {
    setup: 'CLI config EcsRamRole profile while ECS metadata is disabled, ini answers',
    files: {
      '.aliyun/config.json': cliConfig('ecs', [{ name: 'ecs', mode: 'EcsRamRole', ram_role_name: 'diff' }]),
      '.alibabacloud/credentials': iniAk('default', 'LTAIini0044'),
    },
    expect: ak('LTAIini0044'),
  },

  // --- External mode (process_command) ---
  {
    setup: 'CLI External mode printing StsToken credentials',
    files: {
      '.aliyun/config.json': external(),
      'bin/creds.mjs': helper(JSON.stringify({ mode: 'StsToken', access_key_id: 'STS.ext0045', access_key_secret: 's', sts_token: 't', expiration: FAR })),
    },
    expect: sts('STS.ext0045'),
  },
  {
    setup: 'CLI External mode printing an AccessKey',
    files: { '.aliyun/config.json': external(), 'bin/creds.mjs': helper(JSON.stringify({ mode: 'AK', access_key_id: 'LTAIext0046', access_key_secret: 's' })) },
    expect: ak('LTAIext0046'),
  },
  {
    setup: 'CLI External helper exits 1',
    files: { '.aliyun/config.json': external(), 'bin/creds.mjs': helper('', 1) },
    expect: FAIL,
  },
  {
    setup: 'CLI External helper prints something that is not JSON',
    files: { '.aliyun/config.json': external(), 'bin/creds.mjs': helper('access_key_id=LTAIext0048') },
    expect: FAIL,
  },
  {
    setup: 'CLI External profile chosen by ALIBABA_CLOUD_PROFILE over an AK current',
    env: { ALIBABA_CLOUD_PROFILE: 'ext' },
    files: {
      '.aliyun/config.json': cliConfig('main', [
        { name: 'main', mode: 'AK', access_key_id: 'LTAIcli0049', access_key_secret: 's' },
        { name: 'ext', mode: 'External', process_command: '$NODE $HOME/bin/creds.mjs' },
      ]),
      'bin/creds.mjs': helper(JSON.stringify({ mode: 'StsToken', access_key_id: 'STS.ext0049', access_key_secret: 's', sts_token: 't', expiration: FAR })),
    },
    expect: sts('STS.ext0049'),
  },

  // --- credentials URI ---
  { setup: 'credentials URI answer without Code', uri: 'nocode', expect: sts('STS.uri0050') },
  { setup: 'credentials URI answer without SecurityToken', uri: 'notoken', expect: FAIL },
  { setup: 'credentials URI answers something that is not JSON', uri: 'notjson', expect: FAIL },
  { setup: 'credentials URI answer with fractional-second Expiration', uri: 'millis', expect: sts('STS.uri0053') },

  // --- OIDC and role setups: STS refuses on both sides ---
  { setup: 'OIDC env with a token file', env: oidcEnv, files: { token: 'eyJhbGciOi.diff.token' }, expect: FAIL, peerHosts: ['sts.aliyuncs.com'] },
  { setup: 'OIDC env whose token file is missing', env: oidcEnv, expect: FAIL },
  {
    setup: 'OIDC env with ALIBABA_CLOUD_STS_REGION',
    env: { ...oidcEnv, ALIBABA_CLOUD_STS_REGION: 'cn-shanghai' },
    files: { token: 'eyJhbGciOi.diff.token' },
    expect: FAIL,
    peerHosts: ['sts.cn-shanghai.aliyuncs.com'],
  },
  {
    setup: 'ini type ram_role_arn',
    files: { '.alibabacloud/credentials': `[default]\ntype = ram_role_arn\naccess_key_id = LTAIini0057\naccess_key_secret = s\nrole_arn = ${ROLE}\nrole_session_name = diff\n` },
    expect: FAIL,
    peerHosts: ['sts.aliyuncs.com'],
  },
  {
    setup: 'ini type ram_role_arn without access_key_secret',
    files: { '.alibabacloud/credentials': `[default]\ntype = ram_role_arn\naccess_key_id = LTAIini0058\nrole_arn = ${ROLE}\n` },
    expect: FAIL,
  },
  {
    setup: 'CLI RamRoleArn profile',
    files: { '.aliyun/config.json': cliConfig('role', [{ name: 'role', mode: 'RamRoleArn', access_key_id: 'LTAIcli0059', access_key_secret: 's', ram_role_arn: ROLE, ram_session_name: 'diff' }]) },
    expect: FAIL,
    peerHosts: ['sts.aliyuncs.com'],
  },
  {
    setup: 'CLI ChainableRamRoleArn over an AK profile',
    files: {
      '.aliyun/config.json': cliConfig('chained', [
        { name: 'base', mode: 'AK', access_key_id: 'LTAIcli0060', access_key_secret: 's' },
        { name: 'chained', mode: 'ChainableRamRoleArn', source_profile: 'base', ram_role_arn: ROLE, ram_session_name: 'diff' },
      ]),
    },
    expect: FAIL,
    peerHosts: ['sts.aliyuncs.com'],
  },
  {
    setup: 'CLI OIDC profile',
    files: {
      '.aliyun/config.json': cliConfig('oidc', [{ name: 'oidc', mode: 'OIDC', oidc_provider_arn: OIDC_ARN, oidc_token_file: '$HOME/token', ram_role_arn: ROLE, ram_session_name: 'diff' }]),
      token: 'eyJhbGciOi.diff.token',
    },
    expect: FAIL,
    peerHosts: ['sts.aliyuncs.com'],
  },
  {
    setup: 'CLI OAuth profile (CN site) with an expired access token',
    files: {
      '.aliyun/config.json': cliConfig('oauth', [
        { name: 'oauth', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: 'rt', oauth_access_token: 'at', oauth_access_token_expire: 1 },
      ]),
    },
    expect: FAIL,
    peerHosts: ['oauth.aliyun.com'],
  },
  {
    setup: 'CLI CloudSSO profile with a loopback sign-in URL',
    files: {
      '.aliyun/config.json': cliConfig('sso', [
        {
          name: 'sso',
          mode: 'CloudSSO',
          cloud_sso_sign_in_url: '$BASE/sso',
          cloud_sso_account_id: '1234567890123456',
          cloud_sso_access_config: 'ac-diff',
          access_token: 'at',
          cloud_sso_access_token_expire: 4102444800,
        },
      ]),
    },
    expect: FAIL,
  },
  {
    setup: 'OIDC env set and an ini AccessKey profile',
    env: oidcEnv,
    files: { token: 'eyJhbGciOi.diff.token', '.alibabacloud/credentials': iniAk('default', 'LTAIini0064') },
    expect: FAIL,
    peerHosts: ['sts.aliyuncs.com'],
    peer: {
      expect: ak('LTAIini0064'),
      reason: 'a configured source that fails stops alicred’s chain; the peer silently falls through to another identity (the ini profile)',
    },
  },

  // --- the peer's documented defects ---
  {
    setup: 'URI fails, then env keys appear (same provider)',
    then: [{ env: { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAIenv0065', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' } }],
    expect: [FAIL, ak('LTAIenv0065')],
    peer: { expect: [FAIL, FAIL], reason: 'the peer pins the last link it tried, even after a failure (reference §2.1); alicred never stays pinned after a failure' },
  },
  {
    setup: 'URI credentials expire, then the URI fails',
    uri: 'once',
    then: [{ waitMs: 3_500 }],
    expect: [sts('STS.uri0066'), FAIL],
    peer: { expect: [sts('STS.uri0066'), sts('STS.uri0066')], reason: 'the peer serves the cached credentials past their expiry when a refresh fails (reference §2.1); alicred never hands out expired credentials' },
  },
  {
    setup: 'nothing configured and ALIBABA_CLOUD_CREDENTIALS_URI unset',
    uri: null,
    expect: FAIL,
    peerHosts: ['undefined'],
    peer: { expect: FAIL, reason: 'both fail, but the peer first fetches https://undefined/ (reference §2.1, refused here by the preload); alicred skips the unset URI link without any request' },
  },
  {
    setup: 'ini file edited between calls',
    files: { '.alibabacloud/credentials': iniAk('default', 'LTAIini0068a') },
    then: [{ files: { '.alibabacloud/credentials': iniAk('default', 'LTAIini0068b') } }],
    expect: [ak('LTAIini0068a'), ak('LTAIini0068b')],
    peer: { expect: [ak('LTAIini0068a'), ak('LTAIini0068a')], reason: 'alicred re-reads a profile file that changed; the peer keeps the profile it read first for the life of the process' },
  },
];

// --- the loopback server: credentials URI answers, alicred's STS (always refusing), CloudSSO ---

let server: Server;
let base: string;
const onceServed = new Set<string>();
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function uriAnswer(path: string): { status: number; body: string } {
  const creds = (id: string, extra: object = {}) => ({ AccessKeyId: id, AccessKeySecret: 's', SecurityToken: 't', Expiration: isoSeconds(Date.now() + 3_600_000), ...extra });
  const [, kind, key] = path.split('/');
  switch (kind) {
    case 'ok':
      return { status: 200, body: JSON.stringify({ Code: 'Success', ...creds('STS.uri0012') }) };
    case 'nocode':
      return { status: 200, body: JSON.stringify(creds('STS.uri0050')) };
    case 'notoken':
      return { status: 200, body: JSON.stringify({ Code: 'Success', AccessKeyId: 'LTAIuri0051', AccessKeySecret: 's', Expiration: isoSeconds(Date.now() + 3_600_000) }) };
    case 'notjson':
      return { status: 200, body: 'AccessKeyId=STS.uri0052' };
    case 'millis':
      return { status: 200, body: JSON.stringify({ Code: 'Success', ...creds('STS.uri0053', { Expiration: new Date(Date.now() + 3_600_000).toISOString() }) }) };
    case 'once': {
      // First answer per client expires 2 to 3 s later (whole seconds); every later request fails.
      if (onceServed.has(key!)) break;
      onceServed.add(key!);
      return { status: 200, body: JSON.stringify({ Code: 'Success', ...creds('STS.uri0066', { Expiration: isoSeconds(Math.ceil(Date.now() / 1000) * 1000 + 2_000) }) }) };
    }
  }
  return { status: 500, body: '{"Code":"InternalError"}' };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    res.setHeader('content-type', 'application/json');
    if (url === '/' || url.startsWith('/?')) {
      // alicred's STS: a non-retryable refusal.
      res.statusCode = 403;
      res.end(JSON.stringify({ RequestId: 'diff', Code: 'NoPermission', Message: 'refused by the differential test' }));
      return;
    }
    const { status, body } = uriAnswer(url);
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

// --- running one side ---

type Side = 'alicred' | 'peer';
type NetReport = { kind: 'intercepted' | 'leak'; host: string; what: string };

function fill(text: string, home: string): string {
  return text.replaceAll('$HOME', home).replaceAll('$NODE', process.execPath).replaceAll('$BASE', base);
}

async function writeFiles(home: string, files: Record<string, string | null>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    const full = join(home, path);
    if (text === null) {
      await rm(full, { force: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, fill(text, home), { mode: 0o600 });
  }
}

/** A fresh HOME for one side of one case, and that side's environment. */
async function setUp(c: Case, index: number, side: Side): Promise<{ home: string; env: Record<string, string> }> {
  const home = await mkdtemp(join(tmpdir(), `alicred-diff-${side}-`));
  await writeFiles(home, c.files ?? {});
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' };
  const uri = c.uri === undefined ? 'fail' : c.uri;
  if (uri !== null) env.ALIBABA_CLOUD_CREDENTIALS_URI = `${base}/${uri}/${index}-${side}`;
  for (const [k, v] of Object.entries(c.env ?? {})) env[k] = fill(v, home);
  return { home, env };
}

function fillStep(step: Step, home: string): Step {
  const env = step.env && Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, v === null ? null : fill(v, home)]));
  const files = step.files && Object.fromEntries(Object.entries(step.files).map(([k, v]) => [k, v === null ? null : fill(v, home)]));
  return { ...step, env, files };
}

async function peer(c: Case, index: number): Promise<{ calls: Outcome[]; net: NetReport[] }> {
  const { home, env } = await setUp(c, index, 'peer');
  try {
    const steps = [{}, ...(c.then ?? [])].map((s) => fillStep(s, home));
    const { stdout, stderr } = await run(process.execPath, ['--import', PRELOAD, CHILD, JSON.stringify({ steps })], {
      cwd: root,
      timeout: 20_000,
      // NODE_OPTIONS carries the preload into anything the peer starts (External helpers).
      env: { ...env, HOME: home, NODE_OPTIONS: `--import=${PRELOAD}` },
    });
    const net = stderr
      .split('\n')
      .filter((l) => l.startsWith('peer-net '))
      .map((l) => JSON.parse(l.slice('peer-net '.length)) as NetReport);
    const { calls } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { calls: Outcome[] };
    return { calls, net };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function ours(c: Case, index: number): Promise<Outcome[]> {
  const { home, env } = await setUp(c, index, 'alicred');
  const provider = defaultProvider({ env, homedir: home, sts: { endpoint: base, timeoutMs: 5_000 } });
  const calls: Outcome[] = [];
  try {
    for (const raw of [{}, ...(c.then ?? [])]) {
      const step = fillStep(raw, home);
      for (const [k, v] of Object.entries(step.env ?? {})) {
        if (v === null) delete env[k];
        else env[k] = v;
      }
      await writeFiles(home, step.files ?? {});
      if (step.waitMs) await new Promise((r) => setTimeout(r, step.waitMs));
      try {
        const creds = await provider();
        calls.push({ ok: true, id: creds.accessKeyId, token: Boolean(creds.securityToken) });
      } catch {
        calls.push(FAIL);
      }
    }
    return calls;
  } finally {
    provider.close();
    await rm(home, { recursive: true, force: true });
  }
}

// --- running every case, 2 peers at a time ---

type Result = { alicred: Outcome[]; peer: Outcome[]; net: NetReport[] };
const results = new Map<Case, Result>();

async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const list = (o: Outcome | Outcome[]): Outcome[] => (Array.isArray(o) ? o : [o]);
const show = (calls: Outcome[]) => calls.map((o) => (o.ok ? `${o.id} (${o.token ? 'sts' : 'access_key'})` : 'fails')).join(' → ');
const same = (a: Outcome[], b: Outcome[]) => JSON.stringify(a) === JSON.stringify(b);

function verdict(c: Case, r: Result): string {
  if (c.peer) return `differs on purpose: ${c.peer.reason}`;
  if (!same(r.alicred, r.peer)) return 'DIFFERS (unexpected)';
  return r.alicred.every((o) => !o.ok) ? 'both fail' : 'same';
}

beforeAll(async () => {
  await pool(cases, CONCURRENCY, async (c, i) => {
    const [theirs, mine] = await Promise.all([peer(c, i), ours(c, i)]);
    results.set(c, { alicred: mine, peer: theirs.calls, net: theirs.net });
  });
  recordFigures(
    'differential',
    cases.map((c) => {
      const r = results.get(c)!;
      return { setup: c.setup, alicred: show(r.alicred), peer: show(r.peer), verdict: verdict(c, r) };
    }),
  );
}, 60_000);

describe('defaultProvider vs @alicloud/credentials 2.4.7 default chain', () => {
  it('covers at least 40 setups', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(cases.map((c) => c.setup)).size).toBe(cases.length);
  });

  it.each(cases)('$setup', (c) => {
    const r = results.get(c)!;
    expect(r.alicred).toEqual(list(c.expect));
    if (c.peer) {
      expect(r.peer).toEqual(list(c.peer.expect));
    } else {
      expect(r.peer).toEqual(r.alicred);
    }
    // Nothing got past the preload's request layer, and only the expected hosts were tried.
    expect(r.net.filter((n) => n.kind === 'leak')).toEqual([]);
    expect([...new Set(r.net.map((n) => n.host))].sort()).toEqual([...(c.peerHosts ?? [])].sort());
  });
});
