/**
 * Fuzz (issue 9): the profile files. The shared credentials file (ini) is fuzzed in-process
 * (parseIniFile, checkIniProfile, the values and the field reader, 10 000 runs) and, as a
 * bonus, through the real fromIniProfile on a temporary HOME; the CLI's config.json through
 * parseCliFile and through fromCliProfile on a temporary HOME (its profile resolution is not
 * reachable otherwise). Files are built from a model, then spoiled line by line or as text.
 * Oracles: only alicred errors, no secret marker in them nor in the logger, every run
 * bounded, and an unspoiled file yields exactly the modelled values and credentials.
 */
import fc from 'fast-check';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseCliFile } from '../../src/node/cli-file.js';
import { fromCliProfile } from '../../src/node/cli-config.js';
import { checkIniProfile, loadIni, parseIniFile, valuesOf } from '../../src/node/ini-file.js';
import { fromIniProfile } from '../../src/node/ini-profile.js';
import { FieldReader, type ProfileValues } from '../../src/node/profile-fields.js';
import { INI_TYPES } from '../../src/node/profile-forms.js';
import {
  anyText,
  assertNoLeakInLogs,
  assertTypedAndClean,
  captureLogger,
  fakeFetch,
  params,
  record,
  RunMeter,
  SECRET,
  thrownBy,
  TOKEN,
  type FakeAnswer,
  type Generated,
} from './fuzz-kit.js';

/** Runs through the real providers (file written, stat'ed, read, parsed, resolved, called). */
const INI_PROVIDER_RUNS = 1_000;

let home = '';
let tokenFile = '';
beforeAll(async () => {
  await loadIni(); // parseIniFile is called directly below, not through a provider
  home = mkdtempSync(join(tmpdir(), 'alicred-fuzz-'));
  mkdirSync(join(home, '.alibabacloud'), { recursive: true });
  mkdirSync(join(home, '.aliyun'), { recursive: true });
  tokenFile = join(home, 'oidc-token');
  writeFileSync(tokenFile, `eyJhbGciOiJSUzI1NiJ9.${SECRET}.c2ln\n`, { mode: 0o600 });
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** What the fake STS hands out: a fresh hour on the real clock (the providers use it). */
const STS_KEY_ID = 'STS.FromFuzzedProfile01';
const stsFetch = fakeFetch((): FakeAnswer => ({
  kind: 'answer',
  status: 200,
  headers: [],
  cuts: [],
  body: JSON.stringify({
    RequestId: 'r-1',
    Credentials: { AccessKeyId: STS_KEY_ID, AccessKeySecret: SECRET, SecurityToken: TOKEN, Expiration: new Date(Date.now() + 3600_000).toISOString() },
  }),
}));
/** No ECS metadata request, no helper process, no credentials URI fetched for real. */
const SAFE_ENV = { ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS: 'true' };
const sourceOptions = (logger: ReturnType<typeof captureLogger>) => ({
  homedir: home,
  env: SAFE_ENV,
  logger,
  sts: { endpoint: 'http://127.0.0.1:9', fetch: stsFetch, timeoutMs: 200 },
  refresh: { retry: false as const },
});

// ---------------------------------------------------------------------------
// Profile values shared by both formats
// ---------------------------------------------------------------------------

const keyId = fc.stringMatching(/^LTAI5t[A-Za-z0-9]{16}$/);
const ROLE_ARN = 'acs:ram::1234567890123456:role/fuzz-role';
const OIDC_ARN = 'acs:ram::1234567890123456:oidc-provider/fuzz';
/** Values for the other keys: mostly good, sometimes what a user mistypes. */
const otherValue: Record<string, fc.Arbitrary<string>> = {
  role_arn: fc.constantFrom(ROLE_ARN, ROLE_ARN, 'acs:ram::123:user/x', 'fuzz-role'),
  role_session_name: fc.constantFrom('fuzz-session', 'fuzz.session@1', 'x', 'has space'),
  policy: fc.constantFrom('{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', '[1]', '{"Version":"1"'),
  duration_seconds: fc.constantFrom('900', '3600', '43200', '100', '50000', '1.5', 'an hour', '0'),
  role_session_expiration: fc.constantFrom('3600', 'x'),
  external_id: fc.constantFrom('fuzz-external-id', 'x'),
  sts_region: fc.constantFrom('cn-hangzhou', 'bad region!'),
  sts_endpoint: fc.constantFrom('http://127.0.0.1:9', 'sts.cn-hangzhou.aliyuncs.com', 'ftp://x', ''),
  enable_vpc: fc.constantFrom('true', 'false', 'maybe'),
  role_name: fc.constantFrom('fuzz-role', 'bad role/name'),
  oidc_provider_arn: fc.constantFrom(OIDC_ARN, OIDC_ARN, 'acs:ram::1:oidc/x'),
  oidc_token_file_path: fc.constantFrom('TOKEN_FILE', 'TOKEN_FILE', '/nonexistent/alicred-fuzz-token'),
  // None of these is fetched, nor one character away from a fetchable URL.
  credentials_uri: fc.constantFrom('ftp://192.0.2.1/creds', 'not a url', 'file:///etc/passwd'),
};

// ---------------------------------------------------------------------------
// ini: a model, its text, and line-level spoiling
// ---------------------------------------------------------------------------

const INI_KEYS: Record<string, readonly string[]> = {
  access_key: ['access_key_id', 'access_key_secret'],
  sts: ['access_key_id', 'access_key_secret', 'security_token'],
  ram_role_arn: ['access_key_id', 'access_key_secret', 'security_token', 'role_arn', 'role_session_name', 'policy', 'duration_seconds', 'external_id', 'sts_region', 'sts_endpoint', 'enable_vpc'],
  ecs_ram_role: ['role_name'],
  oidc_role_arn: ['role_arn', 'oidc_provider_arn', 'oidc_token_file_path', 'role_session_name', 'policy', 'duration_seconds', 'role_session_expiration'],
  credentials_uri: ['credentials_uri'],
  rsa_key_pair: ['public_key_id', 'private_key_file'],
  bearer: ['bearer_token'],
};
/** Keys a type must have; the others are optional. */
const INI_REQUIRED: Record<string, readonly string[]> = {
  access_key: ['access_key_id', 'access_key_secret'],
  sts: ['access_key_id', 'access_key_secret', 'security_token'],
  ram_role_arn: ['access_key_id', 'access_key_secret', 'role_arn'],
  oidc_role_arn: ['role_arn', 'oidc_provider_arn', 'oidc_token_file_path'],
  credentials_uri: ['credentials_uri'],
};

/** Built once: a stringMatching made inside `chain` would parse its regex at every run. */
const plainValue = fc.stringMatching(/^[a-z0-9_./-]{1,20}$/);

type IniProfile = { name: string; typeText: string; type: string; keys: [string, string][] };

const iniProfile = (name: fc.Arbitrary<string>) =>
  fc
    .tuple(name, fc.constantFrom(...Object.keys(INI_KEYS)), fc.constantFrom('', ' ', 'upper'), keyId, fc.infiniteStream(fc.boolean()))
    .chain(([n, type, typeStyle, id, coin]) => {
      const all = INI_KEYS[type]!;
      const required = new Set(INI_REQUIRED[type] ?? []);
      const chosen = all.filter((k) => required.has(k) || coin.next().value);
      const valueArbs = chosen.map((k): fc.Arbitrary<string> => {
        if (k === 'access_key_id') return fc.constant(id);
        if (k === 'access_key_secret') return fc.constant(SECRET);
        if (k === 'security_token' || k === 'bearer_token') return fc.constant(TOKEN);
        return otherValue[k] ?? plainValue;
      });
      return fc.tuple(...valueArbs).map((values): IniProfile => {
        const typeText = typeStyle === 'upper' ? type.toUpperCase() : `${typeStyle}${type}${typeStyle}`;
        return { name: n, typeText, type, keys: [['type', typeText], ...chosen.map((k, i): [string, string] => [k, values[i]!])] };
      });
    });

const sectionName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('default', 'prod', 'dev.cn', 'a-b_c', 'x') }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'has space', 'é') });

const iniFormat = fc.record({
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  spaceBefore: fc.constantFrom('', ' ', '\t'),
  spaceAfter: fc.constantFrom('', ' ', '  '),
  indent: fc.constantFrom('', '  '),
  comments: fc.boolean(),
  headerComment: fc.constantFrom('', ' ; main', ' # main'),
  topKeys: fc.boolean(),
});

type IniMutation =
  | { op: 'delete' | 'duplicate' | 'drop-eq' | 'open-bracket'; line: number }
  | { op: 'replace' | 'insert'; line: number; text: string }
  | { op: 'char'; line: number; at: number; piece: string };

/** Junk lines, some of them near-headers; none ends with `]` after a secret (see fuzz-answers.ts). */
const junkLine = fc.oneof(anyText(40), fc.constantFrom('[', '[ ]', '[default', '[default] trailing', '= value', '[]', 'key', '  [a]b]', 'x'.repeat(10_000), 'k[] = 1', 'k[] = 2', '__proto__ = 1'));
const iniMutation: fc.Arbitrary<IniMutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete' as const, 'duplicate' as const, 'drop-eq' as const, 'open-bracket' as const), line: fc.nat() }),
  fc.record({ op: fc.constantFrom('replace' as const, 'insert' as const), line: fc.nat(), text: junkLine }),
  fc.record({ op: fc.constant('char' as const), line: fc.nat(), at: fc.nat(), piece: fc.oneof(fc.constantFrom('[', '=', ';', '#', '\n', '\r', '"', "'", '\\', '\u0000', ' '), fc.string({ unit: 'binary', maxLength: 2 })) }),
);

const iniCase = fc.record({
  profiles: fc.uniqueArray(iniProfile(sectionName), { minLength: 1, maxLength: 4, selector: (p) => p.name }),
  format: iniFormat,
  mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as IniMutation[]) }, { weight: 3, arbitrary: fc.array(iniMutation, { minLength: 1, maxLength: 4 }) }),
  ask: fc.nat(),
  askMissing: fc.boolean(),
});
type IniCase = Generated<typeof iniCase>;

function iniLines(c: IniCase): string[] {
  const f = c.format;
  const lines: string[] = [];
  if (f.topKeys) lines.push('stray = before any section');
  for (const p of c.profiles) {
    if (f.comments) lines.push('; a comment', '');
    lines.push(`${f.indent}[${p.name}]${f.headerComment}`);
    for (const [k, v] of p.keys) {
      const value = v === 'TOKEN_FILE' ? tokenFile : v;
      lines.push(`${f.indent}${k}${f.spaceBefore}=${f.spaceAfter}${value}`);
      if (f.comments && k === 'type') lines.push('# keys follow');
    }
  }
  for (const m of c.mutations) {
    const i = m.line % (lines.length + (m.op === 'insert' ? 1 : 0) || 1);
    const line = lines[i] ?? '';
    switch (m.op) {
      case 'delete':
        lines.splice(i, 1);
        break;
      case 'duplicate':
        lines.splice(i, 0, line);
        break;
      case 'drop-eq':
        lines[i] = line.replace('=', ' ');
        break;
      case 'open-bracket':
        lines[i] = `[${line}`;
        break;
      case 'replace':
        lines[i] = m.text;
        break;
      case 'insert':
        lines.splice(i, 0, m.text);
        break;
      case 'char': {
        const at = m.at % (line.length + 1);
        lines[i] = line.slice(0, at) + m.piece + line.slice(at);
        break;
      }
    }
  }
  return lines;
}

/** What `ini` makes of a plain value (it reads true/false/null as JSON). */
const iniValue = (raw: string): unknown => {
  const v = raw.trim();
  return v === 'true' ? true : v === 'false' ? false : v === 'null' ? null : v;
};

/** A ProfileValues over one section, as the provider reads it (errors name keys, never values). */
function iniValues(section: ReturnType<typeof checkIniProfile> & object): ProfileValues {
  const lineOf = (key: string) => section.keys.get(key) ?? section.line;
  return {
    get: (key) => valuesOf(section)[key],
    has: (key) => section.keys.has(key),
    lineOf,
    error: (key, what, line = lineOf(key)) => new ConfigError(`fuzz: profile '${section.name}': ${key} (line ${line}) ${what}`, { provider: 'ini-profile', line, field: key }),
    notString: (value) => (Array.isArray(value) ? 'is given more than once as an array' : 'must be a string value (key = value)'),
    zeroIsUnset: false,
  };
}

function askedName(c: IniCase | { profiles: { name: string }[]; ask: number; askMissing: boolean }): string {
  return c.askMissing ? 'missing-profile' : c.profiles[c.ask % c.profiles.length]!.name;
}

// ---------------------------------------------------------------------------
// config.json: a model, its JSON, value- and text-level spoiling
// ---------------------------------------------------------------------------

const CLI_FIELDS: Record<string, readonly string[]> = {
  AK: ['access_key_id', 'access_key_secret'],
  StsToken: ['access_key_id', 'access_key_secret', 'sts_token'],
  RamRoleArn: ['access_key_id', 'access_key_secret', 'ram_role_arn', 'ram_session_name', 'expired_seconds', 'external_id', 'policy', 'sts_region'],
  EcsRamRole: ['ram_role_name'],
  ChainableRamRoleArn: ['source_profile', 'ram_role_arn', 'ram_session_name', 'expired_seconds'],
  OIDC: ['oidc_provider_arn', 'oidc_token_file', 'ram_role_arn', 'ram_session_name'],
  External: ['process_command'],
  CredentialsURI: ['credentials_uri'],
  CloudSSO: ['cloud_sso_sign_in_url'],
  OAuth: ['oauth_access_token'],
  Anonymous: [],
};
/** What `aliyun configure` writes besides the mode's own keys (empty strings and zeros). */
const CLI_FILLER = { sts_token: '', ram_role_name: '', ram_role_arn: '', ram_session_name: '', private_key: '', key_pair_name: '', expired_seconds: 0, verified: '', region_id: 'cn-hangzhou', output_format: 'json', language: 'en', site: '', retry_timeout: 0, connect_timeout: 0, retry_count: 0, process_command: '', credentials_uri: '' };

const cliValue: Record<string, fc.Arbitrary<unknown>> = {
  ram_role_arn: otherValue.role_arn!,
  ram_session_name: otherValue.role_session_name!,
  expired_seconds: fc.constantFrom(0, 900, 3600, '3600', 100, -1, 1.5, 'an hour'),
  external_id: otherValue.external_id!,
  policy: otherValue.policy!,
  sts_region: otherValue.sts_region!,
  ram_role_name: otherValue.role_name!,
  oidc_provider_arn: otherValue.oidc_provider_arn!,
  oidc_token_file: otherValue.oidc_token_file_path!,
  process_command: fc.constantFrom('/usr/local/bin/creds-helper --json'),
  credentials_uri: otherValue.credentials_uri!,
  cloud_sso_sign_in_url: fc.constant('https://signin.example.com/start'),
  oauth_access_token: fc.constant('oauth'),
};

type CliProfileModel = { name: string; mode: string; modeText: string | undefined; fields: Record<string, unknown> };
const cliNames = fc.constantFrom('default', 'prod', 'dev', 'ops.cn', 'a', '__proto__', 'toString', 'name with space');

const cliProfile = fc
  .tuple(cliNames, fc.constantFrom(...Object.keys(CLI_FIELDS)), fc.constantFrom('as-is', 'lower', 'upper', 'omitted'), keyId, fc.boolean(), fc.nat(), fc.infiniteStream(fc.boolean()))
  .chain(([name, mode, modeStyle, id, filler, source, coin]) => {
    const own = CLI_FIELDS[mode]!;
    const required = new Set(['access_key_id', 'access_key_secret', 'sts_token', 'ram_role_arn', 'source_profile', 'oidc_provider_arn', 'oidc_token_file', 'ram_role_name', 'process_command', 'credentials_uri']);
    const chosen = own.filter((k) => required.has(k) || coin.next().value);
    return fc.tuple(...chosen.map((k) => (k === 'access_key_id' ? fc.constant(id) : k === 'access_key_secret' ? fc.constant(SECRET) : k === 'sts_token' ? fc.constant(TOKEN) : k === 'source_profile' ? fc.constant(`#${source}`) : (cliValue[k] ?? fc.constant('x'))))).map((values): CliProfileModel => {
      const fields: Record<string, unknown> = filler ? { ...CLI_FILLER } : {};
      chosen.forEach((k, i) => (fields[k] = values[i] === 'TOKEN_FILE' ? 'TOKEN_FILE' : values[i]));
      const modeText = modeStyle === 'omitted' ? undefined : modeStyle === 'lower' ? mode.toLowerCase() : modeStyle === 'upper' ? mode.toUpperCase() : mode;
      return { name, mode, modeText, fields };
    });
  });

type CliMutation =
  | { op: 'field'; profile: number; key: string; value: unknown }
  | { op: 'drop'; profile: number; key: string }
  | { op: 'top'; key: 'profiles' | 'current'; value: unknown }
  | { op: 'whole'; value: unknown }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; piece: string }
  | { op: 'deep'; depth: number };

const weird = fc.oneof(fc.constantFrom(null, '', '  ', 0, 7, true, [], {}, ['a'], { a: 1 }), anyText(12));
const cliMutation: fc.Arbitrary<CliMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('field' as const), profile: fc.nat(), key: fc.constantFrom('name', 'mode', 'access_key_id', 'sts_token', 'ram_role_arn', 'source_profile', 'expired_seconds', 'ram_session_name', 'oidc_token_file', 'external_id'), value: weird }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('drop' as const), profile: fc.nat(), key: fc.constantFrom('name', 'mode', 'access_key_id', 'access_key_secret', 'sts_token', 'ram_role_arn', 'source_profile') }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('top' as const), key: fc.constantFrom('profiles' as const, 'current' as const), value: weird }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('whole' as const), value: fc.oneof(weird, fc.jsonValue({ maxDepth: 3 })) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), piece: fc.oneof(fc.constantFrom(',', '"', '}', '{', ']', '[', ':', '\\', '\u0000', '\n', '/*', '\ufeff', 'NaN'), anyText(3)) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 200, max: 2000 }) }) },
);

const cliCase = fc.record({
  profiles: fc.uniqueArray(cliProfile, { minLength: 1, maxLength: 5, selector: (p) => p.name }),
  current: fc.oneof({ weight: 4, arbitrary: fc.nat().map((n) => `#${n}`) }, { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'missing') }),
  ask: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.nat().map((n) => `#${n}`) }, { weight: 1, arbitrary: fc.constant('missing') }),
  indent: fc.constantFrom(0, 2, 4),
  mutations: fc.oneof({ weight: 2, arbitrary: fc.constant([] as CliMutation[]) }, { weight: 3, arbitrary: fc.array(cliMutation, { minLength: 1, maxLength: 3 }) }),
});
type CliCase = Generated<typeof cliCase>;

/** `#n` names the n-th profile (mod their count), so that links and `current` mostly resolve. */
const nameRef = (c: CliCase, ref: string | undefined) => (ref?.startsWith('#') ? c.profiles[Number(ref.slice(1)) % c.profiles.length]!.name : ref);

function cliText(c: CliCase): string {
  const profiles = c.profiles.map((p) => {
    const o: Record<string, unknown> = { name: p.name };
    if (p.modeText !== undefined) o.mode = p.modeText;
    for (const [k, v] of Object.entries(p.fields)) o[k] = k === 'source_profile' ? nameRef(c, v as string) : v === 'TOKEN_FILE' ? tokenFile : v;
    return o;
  });
  let top: unknown = { current: nameRef(c, c.current), profiles, meta_path: '' };
  const textOps: CliMutation[] = [];
  for (const m of c.mutations) {
    const t = top as Record<string, unknown>;
    const list = Array.isArray(t?.profiles) ? (t.profiles as Record<string, unknown>[]) : [];
    const target = list[m.op === 'field' || m.op === 'drop' ? m.profile % (list.length || 1) : 0];
    // A profile's secrets stay under their own keys: a mutation never writes one elsewhere.
    if (m.op === 'field' && target && typeof target === 'object') Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    else if (m.op === 'drop' && target && typeof target === 'object') delete target[m.key];
    else if (m.op === 'top' && t && typeof t === 'object' && !Array.isArray(t)) t[m.key] = m.value;
    else if (m.op === 'whole') top = m.value;
    else textOps.push(m);
  }
  let text = JSON.stringify(top, null, c.indent) ?? 'undefined';
  for (const m of textOps) {
    if (m.op === 'truncate') text = text.slice(0, m.at % (text.length + 1));
    else if (m.op === 'insert') {
      const at = m.at % (text.length + 1);
      text = text.slice(0, at) + m.piece + text.slice(at);
    } else if (m.op === 'deep') text = `{"x":${'['.repeat(m.depth)}${']'.repeat(m.depth)},${text.slice(1)}`;
  }
  return text;
}

describe('fuzz: profile files', () => {
  it('ini: parseIniFile + checkIniProfile + values + field reader, in-process', () => {
    const meter = new RunMeter();
    let roundTrips = 0;
    fc.assert(
      fc.property(iniCase, (c) => {
        meter.sync(() => {
          const text = iniLines(c).join(c.format.eol);
          const logger = captureLogger();
          const name = askedName(c);
          let section: ReturnType<typeof checkIniProfile>;
          const parseError = thrownBy(() => {
            const file = parseIniFile(text);
            section = checkIniProfile(file, name, '/fuzz/credentials', 'ini-profile', logger);
          });
          if (parseError !== undefined) {
            assertTypedAndClean(parseError);
            if (!(parseError instanceof ConfigError)) throw new Error('not a ConfigError');
          }
          if (section) {
            const values = iniValues(section);
            const readError = thrownBy(() => {
              const raw = values.get('type');
              const type = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
              const form = Object.hasOwn(INI_TYPES, type) ? INI_TYPES[type]!.form : undefined;
              if (form) new FieldReader(values).spec(form, `for type ${type}`, {});
            });
            if (readError !== undefined) assertTypedAndClean(readError);
          }
          assertNoLeakInLogs(logger);
          if (c.mutations.length === 0) {
            // The unspoiled file: the profile asked for, every key with exactly its value, no warning.
            const want = c.profiles.find((p) => p.name === name);
            if (parseError !== undefined) throw parseError;
            if (want === undefined) {
              if (section !== undefined) throw new Error(`found a profile '${name}' that is not in the model`);
              return;
            }
            if (section === undefined) throw new Error(`profile '${name}' not found`);
            const got = valuesOf(section);
            for (const [k, v] of want.keys) {
              const expected = iniValue(v === 'TOKEN_FILE' ? tokenFile : v);
              if (got[k] !== expected) throw new Error(`${name}.${k}: ${JSON.stringify(got[k])}, expected ${JSON.stringify(expected)}`);
            }
            if (Object.keys(got).length !== want.keys.length) throw new Error(`${name}: keys ${Object.keys(got).join(',')}`);
            if (logger.lines.length > 0) throw new Error(`warnings for a clean file: ${logger.lines.join('; ')}`);
            roundTrips++;
          }
        });
      }),
      params(),
    );
    expect(roundTrips).toBeGreaterThan(meter.runs / 10);
    record('ini profiles (parseIniFile + checkIniProfile + field reader)', meter, { exactRoundTrips: roundTrips });
  });

  it('ini: the real fromIniProfile on a temporary HOME (bonus runs)', async () => {
    const meter = new RunMeter();
    const path = join(home, '.alibabacloud', 'credentials');
    let roundTrips = 0;
    await fc.assert(
      fc.asyncProperty(iniCase, async (c) => {
        await meter.async(async () => {
          writeFileSync(path, iniLines(c).join(c.format.eol), { mode: 0o600 });
          chmodSync(path, 0o600);
          const logger = captureLogger();
          const name = askedName(c);
          const provider = fromIniProfile({ ...sourceOptions(logger), profile: name });
          try {
            const creds = await provider();
            const want = c.profiles.find((p) => p.name === name);
            if (c.mutations.length === 0 && want !== undefined && (want.type === 'access_key' || want.type === 'sts')) {
              const keys = new Map(want.keys);
              if (creds.accessKeyId !== keys.get('access_key_id') || creds.accessKeySecret !== SECRET || creds.securityToken !== keys.get('security_token')) {
                throw new Error(`profile '${name}' gave other credentials`);
              }
              roundTrips++;
            }
          } catch (error) {
            assertTypedAndClean(error);
          } finally {
            provider.close();
          }
          assertNoLeakInLogs(logger);
        });
      }),
      params(INI_PROVIDER_RUNS),
    );
    expect(roundTrips).toBeGreaterThan(0);
    record('ini profiles (fromIniProfile, real file)', meter, { exactRoundTrips: roundTrips });
  });

  it('config.json: parseCliFile', () => {
    const meter = new RunMeter();
    let roundTrips = 0;
    fc.assert(
      fc.property(cliCase, (c) => {
        meter.sync(() => {
          const text = cliText(c);
          let parsed: ReturnType<typeof parseCliFile> | undefined;
          const error = thrownBy(() => (parsed = parseCliFile(text, '/fuzz/config.json', 'cli-profile')));
          if (error !== undefined) {
            assertTypedAndClean(error);
            if (!(error instanceof ConfigError)) throw new Error('not a ConfigError');
          }
          if (c.mutations.length === 0) {
            if (parsed === undefined) throw error;
            const names = c.profiles.map((p) => p.name);
            if ([...parsed.byName.keys()].join('\n') !== names.join('\n')) throw new Error(`profiles ${[...parsed.byName.keys()].join(', ')}`);
            const current = nameRef(c, c.current);
            if (parsed.current !== (current === '' ? undefined : current)) throw new Error(`current ${String(parsed.current)}`);
            for (const p of c.profiles) {
              const got = parsed.byName.get(p.name)!.profile;
              for (const [k, v] of Object.entries(p.fields)) {
                const want = k === 'source_profile' ? nameRef(c, v as string) : v === 'TOKEN_FILE' ? tokenFile : v;
                if (got[k] !== want) throw new Error(`${p.name}.${k}: ${JSON.stringify(got[k])}, expected ${JSON.stringify(want)}`);
              }
            }
            roundTrips++;
          }
        });
      }),
      params(),
    );
    expect(roundTrips).toBeGreaterThan(meter.runs / 10);
    record('config.json (parseCliFile)', meter, { exactRoundTrips: roundTrips });
  });

  it('config.json: profile resolution through the real fromCliProfile on a temporary HOME', async () => {
    const meter = new RunMeter();
    const path = join(home, '.aliyun', 'config.json');
    const seen = { ok: 0, failed: 0, roundTrips: 0 };
    await fc.assert(
      fc.asyncProperty(cliCase, async (c) => {
        await meter.async(async () => {
          writeFileSync(path, cliText(c), { mode: 0o600 });
          chmodSync(path, 0o600);
          const logger = captureLogger();
          const asked = nameRef(c, c.ask);
          const provider = fromCliProfile({ ...sourceOptions(logger), profile: asked });
          try {
            const creds = await provider();
            seen.ok++;
            const name = asked ?? (nameRef(c, c.current) || 'default');
            const want = c.profiles.find((p) => p.name === name);
            if (c.mutations.length === 0 && want !== undefined && (want.mode === 'AK' || want.mode === 'StsToken')) {
              if (creds.accessKeyId !== want.fields.access_key_id || creds.accessKeySecret !== SECRET || creds.securityToken !== (want.mode === 'StsToken' ? TOKEN : undefined)) {
                throw new Error(`profile '${name}' gave other credentials`);
              }
              seen.roundTrips++;
            }
          } catch (error) {
            seen.failed++;
            assertTypedAndClean(error);
          } finally {
            provider.close();
          }
          assertNoLeakInLogs(logger);
        });
      }),
      params(),
    );
    expect(seen.roundTrips).toBeGreaterThan(meter.runs / 50);
    record('config.json (fromCliProfile: parse + resolution, real file)', meter, { ok: seen.ok, typedErrors: seen.failed, exactRoundTrips: seen.roundTrips });
  });
});
