/**
 * The aliyun CLI's configuration, `~/.aliyun/config.json`: `{ "current": "<name>",
 * "profiles": [{ "name": …, "mode": …, … }] }`.
 *
 * @module
 */
import { join } from 'node:path';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import type { RefreshingProvider } from '../refresh.js';
import type { ProviderCallOptions } from '../types.js';
import { lineOf, parseCliFile, type CliFile, type CliProfile } from './cli-file.js';
import type { NodeSourceOptions } from './options.js';
import {
  buildSpec,
  compact,
  MAX_ROLE_CHAIN_HOPS,
  ProviderMemo,
  specDigest,
  type BuildContext,
  type Locate,
  type ProfileSpec,
  type StsOverrides,
} from './profile-build.js';
import { choose, envFlag, envOf, envValue, expandHome, homeOf, loadProfileFile, type Choice } from './profile-file.js';

const PROVIDER = 'cli-profile';

/** Env variable naming the CLI config file (read by credentials-go; alicred too). */
const ENV_CONFIG_FILE = 'ALIBABA_CLOUD_CONFIG_FILE';
/** `true` (any case): the CLI config source is off; the file is not even read. */
const ENV_CLI_PROFILE_DISABLED = 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED';
/** `true` or `1`: the CLI refuses the External and CredentialsURI modes; so does alicred. */
const ENV_DISABLE_EXTERNAL_PROCESS = 'ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS';
const ENV_PROFILE = 'ALIBABA_CLOUD_PROFILE';
const ENV_CREDENTIALS_URI = 'ALIBABA_CLOUD_CREDENTIALS_URI';

/**
 * Options of {@link fromCliProfile}: where the file and the profile are, plus the
 * {@link NodeSourceOptions} every Node source takes (env, homedir, logger, sts, refresh).
 *
 * @example
 * ```ts
 * import { fromCliProfile, type FromCliProfileOptions } from 'alicred/node';
 * const options: FromCliProfileOptions = { profile: 'ops', sts: { region: 'cn-shanghai' }, logger: console };
 * const creds = await fromCliProfile(options)();
 * ```
 */
export type FromCliProfileOptions = NodeSourceOptions & {
  /** Profile name. Default: env ALIBABA_CLOUD_PROFILE, else the file's `current`, else `default`. */
  profile?: string;
  /** The config file (a leading `~` is expanded). Default: env ALIBABA_CLOUD_CONFIG_FILE, else `~/.aliyun/config.json`. */
  file?: string;
};

/** The CLI's mode names; matched case-insensitively, as `NormalizeMode` does. */
const MODES = [
  'AK',
  'StsToken',
  'RamRoleArn',
  'EcsRamRole',
  'ChainableRamRoleArn',
  'OIDC',
  'External',
  'CredentialsURI',
  'RsaKeyPair',
  'RamRoleArnWithRoleName',
  'CloudSSO',
  'OAuth',
  'BearerToken',
  'Anonymous',
] as const;
type Mode = (typeof MODES)[number];
const MODE_BY_LOWER = new Map<string, Mode>(MODES.map((m) => [m.toLowerCase(), m]));
const SUPPORTED_MODES: readonly Mode[] = ['AK', 'StsToken', 'RamRoleArn', 'EcsRamRole', 'ChainableRamRoleArn', 'OIDC', 'External', 'CredentialsURI'];

const UNSUPPORTED: Partial<Record<Mode, string>> = {
  CloudSSO: 'it needs the CLI\'s browser sign-in (`aliyun configure --mode CloudSSO`) and its token cache',
  OAuth: 'it needs the CLI\'s OAuth sign-in and writes refreshed tokens back to the file',
  BearerToken: 'a bearer token is not an AccessKey and cannot sign requests',
  Anonymous: 'it means no credentials at all',
  RsaKeyPair: 'RSA key pairs (GenerateSessionAccessKey) are deprecated by Alibaba Cloud',
  RamRoleArnWithRoleName: 'it is deprecated; use a ChainableRamRoleArn profile whose source_profile is an EcsRamRole profile',
};

/** Spec field → profile key, for errors raised while building. */
const KEY_OF_FIELD: Record<string, string> = {
  accessKeyId: 'access_key_id',
  accessKeySecret: 'access_key_secret',
  securityToken: 'sts_token',
  roleArn: 'ram_role_arn',
  roleSessionName: 'ram_session_name',
  policy: 'policy',
  externalId: 'external_id',
  oidcProviderArn: 'oidc_provider_arn',
  tokenFile: 'oidc_token_file',
  token: 'oidc_token_file',
  oidcToken: 'oidc_token_file',
  roleName: 'ram_role_name',
  uri: 'credentials_uri',
  command: 'process_command',
  endpoint: 'sts_endpoint',
  region: 'sts_region',
  vpc: 'enable_vpc',
  durationSeconds: 'expired_seconds',
};

/** A profile's values, read with errors naming the key and its line. */
type Fields = {
  readonly p: CliProfile;
  str(key: string): string | undefined;
  need(key: string, because: string): string;
  seconds(): number | undefined;
  sts(): StsOverrides;
};

/** Names for messages: each cut to 40 characters, the list abbreviated past 8. */
function describeChain(names: readonly string[]): string {
  const short = names.map((n) => (n.length > 40 ? `${n.slice(0, 37)}...` : n));
  if (short.length <= 8) return short.join(' -> ');
  return [...short.slice(0, 4), `… (${short.length - 6} more)`, ...short.slice(-2)].join(' -> ');
}

/** Resolves profiles of one file into specs, following source_profile links (iteratively). */
class Resolver {
  /** Each spec's build context (the links of a chain come from different profiles). */
  readonly contexts = new Map<ProfileSpec, BuildContext>();

  constructor(
    private readonly file: CliFile,
    private readonly path: string,
    private readonly options: FromCliProfileOptions,
    private readonly env: ReturnType<typeof envOf>,
  ) {}

  /** Line of the profile itself (its `name`, else the array element). */
  private profileLine(name: string): number | undefined {
    const entry = this.file.byName.get(name);
    return entry ? (lineOf(this.file, ['profiles', entry.index, 'name']) ?? lineOf(this.file, ['profiles', entry.index])) : undefined;
  }

  error(name: string, key: string, what: string): ConfigError {
    const entry = this.file.byName.get(name);
    const line = entry ? (lineOf(this.file, ['profiles', entry.index, key]) ?? this.profileLine(name)) : undefined;
    const at = line === undefined ? '' : ` (line ${line})`;
    return new ConfigError(`${PROVIDER}: profile '${name}' in ${this.path}: ${key}${at} ${what}`, {
      provider: PROVIDER,
      file: this.path,
      line,
      field: key,
    });
  }

  private fields(name: string): Fields {
    const p = this.file.byName.get(name)!.profile;
    const str = (key: string): string | undefined => {
      const v = p[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw this.error(name, key, 'must be a string');
      return v.trim() === '' ? undefined : v.trim();
    };
    const need = (key: string, because: string): string => {
      const v = str(key);
      if (v === undefined) throw this.error(name, key, `is ${key in p ? 'empty' : 'missing'}; it is required ${because}`);
      return v;
    };
    const seconds = (): number | undefined => {
      for (const key of ['expired_seconds', 'duration_seconds']) {
        const v = p[key];
        if (v === undefined || v === null || v === '' || v === 0) continue;
        if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
        if (typeof v === 'string' && /^\d{1,9}$/.test(v.trim())) return Number(v.trim()) || undefined;
        throw this.error(name, key, 'must be a whole number of seconds');
      }
      return undefined;
    };
    const bool = (key: string): boolean | undefined => {
      const v = p[key];
      if (v === undefined || v === null || v === '') return undefined;
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
      throw this.error(name, key, 'must be true or false');
    };
    const sts = (): StsOverrides => compact({ endpoint: str('sts_endpoint'), region: str('sts_region'), vpc: bool('enable_vpc') });
    return { p, str, need, seconds, sts };
  }

  /**
   * The spec of profile `name`. ChainableRamRoleArn links are walked first, each checked
   * (cycles, missing profiles, at most {@link MAX_ROLE_CHAIN_HOPS} hops), then the specs
   * are made from the innermost profile outwards: no recursion, whatever the file says.
   */
  resolve(name: string): ProfileSpec {
    const chain = [name];
    const seen = new Set(chain);
    for (;;) {
      const current = chain[chain.length - 1]!;
      const f = this.fields(current);
      if (this.modeOf(current, f) !== 'ChainableRamRoleArn') break;
      const because = 'for mode ChainableRamRoleArn';
      const sourceName = f.need('source_profile', because);
      if (seen.has(sourceName)) {
        throw this.error(current, 'source_profile', `makes a cycle: ${describeChain([...chain, sourceName])}`);
      }
      if (!this.file.byName.has(sourceName)) throw this.error(current, 'source_profile', `names profile '${sourceName}', which is not in the file`);
      f.need('ram_role_arn', because);
      if (chain.length > MAX_ROLE_CHAIN_HOPS) throw this.tooLong(current, chain, sourceName);
      chain.push(sourceName);
      seen.add(sourceName);
    }
    let spec = this.single(chain[chain.length - 1]!);
    for (let i = chain.length - 2; i >= 0; i--) {
      const f = this.fields(chain[i]!);
      spec = this.role(spec, f.need('ram_role_arn', 'for mode ChainableRamRoleArn'), f);
      this.contexts.set(spec, this.context(chain[i]!));
    }
    return spec;
  }

  /** The error for a chain past the cap, naming all of it (measured without building anything). */
  private tooLong(current: string, chain: readonly string[], next: string): ConfigError {
    const names = [...chain];
    const seen = new Set(names);
    let cycle = false;
    for (let n: string | undefined = next; n !== undefined; ) {
      names.push(n);
      if (seen.has(n)) {
        cycle = true;
        break;
      }
      seen.add(n);
      const p: CliProfile | undefined = this.file.byName.get(n)?.profile;
      const mode: string = typeof p?.mode === 'string' ? p.mode.trim().toLowerCase() : '';
      const source: unknown = p?.source_profile;
      n = mode === 'chainableramrolearn' && typeof source === 'string' && source.trim() !== '' ? source.trim() : undefined;
    }
    const what = cycle ? `a chain that makes a cycle (${describeChain(names)})` : `a chain of ${names.length - 1} hops (${describeChain(names)})`;
    return this.error(current, 'source_profile', `is hop ${chain.length} of ${what}; at most ${MAX_ROLE_CHAIN_HOPS} source_profile hops are allowed`);
  }

  /** The spec of a profile that is not a ChainableRamRoleArn link. */
  private single(name: string): ProfileSpec {
    const f = this.fields(name);
    const { str, need } = f;
    const mode = this.modeOf(name, f);
    const because = `for mode ${mode}`;
    let spec: ProfileSpec;
    switch (mode) {
      case 'AK':
        spec = { kind: 'static', accessKeyId: need('access_key_id', because), accessKeySecret: need('access_key_secret', because) };
        break;
      case 'StsToken':
        spec = {
          kind: 'static',
          accessKeyId: need('access_key_id', because),
          accessKeySecret: need('access_key_secret', because),
          securityToken: need('sts_token', because),
        };
        break;
      case 'RamRoleArn': {
        const source: ProfileSpec = { kind: 'static', accessKeyId: need('access_key_id', because), accessKeySecret: need('access_key_secret', because) };
        this.contexts.set(source, this.context(name));
        spec = this.role(source, need('ram_role_arn', because), f);
        break;
      }
      case 'EcsRamRole':
        spec = compact({ kind: 'ecs' as const, roleName: str('ram_role_name') });
        break;
      case 'OIDC':
        spec = compact({
          kind: 'oidc' as const,
          oidcProviderArn: need('oidc_provider_arn', because),
          tokenFile: need('oidc_token_file', because),
          roleArn: need('ram_role_arn', because),
          // Python's CLI-profile provider reads role_session_name; the CLI writes ram_session_name.
          roleSessionName: str('ram_session_name') ?? str('role_session_name'),
          policy: str('policy'),
          durationSeconds: f.seconds(),
          sts: f.sts(),
        });
        break;
      case 'External':
        this.checkExternalAllowed(name, 'process_command', mode);
        spec = { kind: 'process', command: need('process_command', because) };
        break;
      case 'CredentialsURI': {
        this.checkExternalAllowed(name, 'credentials_uri', mode);
        const uri = str('credentials_uri') ?? envValue(this.env, ENV_CREDENTIALS_URI);
        if (uri === undefined) throw this.error(name, 'credentials_uri', `is missing and ${ENV_CREDENTIALS_URI} is not set; one is required ${because}`);
        spec = { kind: 'uri', uri };
        break;
      }
      default:
        throw this.error(
          name,
          'mode',
          `is ${mode}, which alicred does not support yet: ${UNSUPPORTED[mode] ?? 'unsupported'}. Supported modes: ${SUPPORTED_MODES.join(', ')}`,
        );
    }
    this.contexts.set(spec, this.context(name));
    return spec;
  }

  private role(source: ProfileSpec, roleArn: string, f: Fields): ProfileSpec {
    return compact({
      kind: 'ram-role' as const,
      source,
      roleArn,
      roleSessionName: f.str('ram_session_name'),
      policy: f.str('policy'),
      durationSeconds: f.seconds(),
      externalId: f.str('external_id'),
      sts: f.sts(),
    });
  }

  private modeOf(name: string, f: Fields): Mode {
    const { p, str } = f;
    const raw = p.mode;
    if (raw !== undefined && raw !== null && typeof raw !== 'string') throw this.error(name, 'mode', 'must be a string');
    if (typeof raw === 'string' && raw.trim() !== '') {
      const mode = MODE_BY_LOWER.get(raw.trim().toLowerCase());
      if (!mode) {
        throw this.error(name, 'mode', `is ${JSON.stringify(raw.slice(0, 40))}, which is not a mode of the aliyun CLI; supported: ${SUPPORTED_MODES.join(', ')}`);
      }
      return mode;
    }
    // No mode: the CLI's AutoModeRecognition, in its order.
    if (str('access_key_id') && str('access_key_secret')) {
      if (str('sts_token')) return 'StsToken';
      if (str('ram_role_arn')) return 'RamRoleArn';
      return 'AK';
    }
    if (str('private_key') && str('key_pair_name')) return 'RsaKeyPair';
    if (str('ram_role_name')) return 'EcsRamRole';
    if (str('process_command')) return 'External';
    if (str('oidc_provider_arn') && str('oidc_token_file') && str('ram_role_arn')) return 'OIDC';
    if (str('cloud_sso_sign_in_url')) return 'CloudSSO';
    if (str('bearer_token')) return 'BearerToken';
    throw this.error(name, 'mode', `is missing and cannot be inferred from the profile's fields; set one of ${SUPPORTED_MODES.join(', ')}`);
  }

  private checkExternalAllowed(name: string, key: string, mode: Mode): void {
    const v = envValue(this.env, ENV_DISABLE_EXTERNAL_PROCESS)?.toLowerCase();
    if (v === 'true' || v === '1') {
      throw this.error(name, key, `cannot be used: mode ${mode} is disabled by ${ENV_DISABLE_EXTERNAL_PROCESS}`);
    }
  }

  /** Which key a spec field came from in profile `p` (the CLI has aliases and env fallbacks). */
  private keyOf(field: string, p: CliProfile): string | undefined {
    const filled = (key: string) => p[key] !== undefined && p[key] !== null && p[key] !== '' && p[key] !== 0;
    if (field === 'durationSeconds') return filled('expired_seconds') || !filled('duration_seconds') ? 'expired_seconds' : 'duration_seconds';
    if (field === 'roleSessionName' && !filled('ram_session_name') && filled('role_session_name')) return 'role_session_name';
    if (field === 'uri' && !filled('credentials_uri')) return ENV_CREDENTIALS_URI;
    return KEY_OF_FIELD[field] ?? (field in p ? field : undefined);
  }

  private context(name: string): BuildContext {
    const entry = this.file.byName.get(name)!;
    const line = this.profileLine(name);
    const locate: Locate = (field) => {
      const key = this.keyOf(field, entry.profile);
      if (key === undefined) return undefined;
      return { field: key, line: lineOf(this.file, ['profiles', entry.index, key]) ?? line };
    };
    return { provider: PROVIDER, file: this.path, describe: `profile '${name}'`, line, locate, options: this.options, env: this.env };
  }
}

/**
 * Credentials from a profile of the aliyun CLI's `~/.aliyun/config.json`, read (when it
 * changed) at every call, so `aliyun configure` takes effect without a restart.
 *
 * File: `options.file`, else env ALIBABA_CLOUD_CONFIG_FILE, else `~/.aliyun/config.json`.
 * Profile: `options.profile`, else env ALIBABA_CLOUD_PROFILE, else the file's `current`,
 * else `default`. Env ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true turns the source off (not
 * configured; the file is not read).
 *
 * Modes (matched case-insensitively, as the CLI does; inferred from the fields when absent):
 * `AK`, `StsToken` (never refreshed), `RamRoleArn` (AccessKey + ram_role_arn,
 * ram_session_name, expired_seconds, external_id, policy, sts_region, sts_endpoint,
 * enable_vpc), `EcsRamRole` (ram_role_name), `ChainableRamRoleArn` (source_profile resolved
 * recursively; a cycle is an error listing the profiles), `OIDC` (oidc_provider_arn,
 * oidc_token_file, ram_role_arn, ram_session_name), `External` (process_command, run by
 * `fromProcess`), `CredentialsURI` (credentials_uri, else env ALIBABA_CLOUD_CREDENTIALS_URI).
 * External and CredentialsURI are refused when ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS is
 * `true` or `1`, as in the CLI. Other modes (CloudSSO, OAuth, BearerToken, Anonymous,
 * RsaKeyPair, RamRoleArnWithRoleName) are a {@link ConfigError} naming the mode and profile.
 *
 * Not configured (a chain moves on): disabled, no file at the default path, a profile asked
 * for by option or env, or named by `current`, that the file does not have (it may be in the
 * credentials file, the next link of the default chain, as with the official chains), or no
 * `current` and no `default` profile. Errors ({@link ConfigError}): invalid JSON (with line
 * and column), a file named by option or env that does not exist, a missing or invalid field
 * (named in `field`, with its line). Messages never contain a secret. A file readable by other
 * users gets one warning through `options.logger`. Role profiles build one refreshing
 * provider per distinct configuration, reused across calls; `close()` stops their timers.
 *
 * @example
 * ```ts
 * import { fromCliProfile } from 'alicred/node';
 * // after `aliyun configure --profile ops --mode RamRoleArn`:
 * const provider = fromCliProfile({ profile: 'ops', logger: console });
 * const creds = await provider();   // STS.… from AssumeRole, refreshed before it expires
 * provider.close();
 * ```
 */
export function fromCliProfile(options: FromCliProfileOptions = {}): RefreshingProvider {
  const memo = new ProviderMemo();

  async function cliProfileProvider(callOptions?: ProviderCallOptions) {
    callOptions?.signal?.throwIfAborted();
    const env = envOf(options);
    if (envFlag(env, ENV_CLI_PROFILE_DISABLED)) {
      throw new CredentialsProviderError(`${PROVIDER}: disabled by ${ENV_CLI_PROFILE_DISABLED}`, { provider: PROVIDER, tryNext: true });
    }
    const home = homeOf(options);
    const fileChoice: Choice = choose(options.file, 'file', env, ENV_CONFIG_FILE, () => ({
      value: join(home, '.aliyun', 'config.json'),
      from: 'default',
      name: 'default',
    }));
    const path = expandHome(fileChoice.value, home);
    const loaded = await loadProfileFile(path, PROVIDER, (text) => parseCliFile(text, path, PROVIDER), { provider: PROVIDER, logger: options.logger });
    if (!loaded) {
      if (fileChoice.from === 'default') {
        throw new CredentialsProviderError(`${PROVIDER}: ${path} does not exist`, { provider: PROVIDER, tryNext: true });
      }
      throw new ConfigError(`${PROVIDER}: the config file ${path} (from ${fileChoice.name}) does not exist`, {
        provider: PROVIDER,
        file: path,
        field: fileChoice.name,
      });
    }
    const file = loaded.value;
    const profileChoice: Choice = choose(options.profile, 'profile', env, ENV_PROFILE, () =>
      file.current !== undefined ? { value: file.current, from: 'file', name: 'current' } : { value: 'default', from: 'default', name: 'default' },
    );
    const name = profileChoice.value;
    if (!file.byName.has(name)) {
      const known = [...file.byName.keys()];
      const listing = known.length === 0 ? 'it has no profiles' : `its profiles: ${known.join(', ')}`;
      // Not an error, so that a chain moves on, as the official default chains do: the
      // profile name (ALIBABA_CLOUD_PROFILE, defaultProvider's `profile`) applies to both
      // profile files and may be in the credentials file, the next link; a stale `current`
      // (a profile deleted by hand) must not hide that file either.
      const from =
        profileChoice.from === 'default'
          ? 'no "current" is set and'
          : profileChoice.from === 'file'
            ? `"current" (line ${lineOf(file, ['current']) ?? '?'}) names profile '${name}', which is`
            : `profile '${name}' (from ${profileChoice.name}):`;
      const what = profileChoice.from === 'default' ? `there is no 'default' profile` : 'not in the file';
      throw new CredentialsProviderError(`${PROVIDER}: ${path}: ${from} ${what} (${listing})`, { provider: PROVIDER, tryNext: true });
    }

    const resolver = new Resolver(file, path, options, env);
    const spec = resolver.resolve(name);
    const provider = memo.get(`${path}\0${name}`, specDigest(spec), () => buildSpec(spec, resolver.contexts.get(spec)!, resolver.contexts));
    return memo.call(provider, callOptions);
  }

  return Object.assign(cliProfileProvider, { peek: () => memo.peek(), close: () => memo.close() });
}
