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
import type { SignInOptions } from './cli-signin.js';
import { envFlag, envString, trimmedString } from '../internal/env.js';
import { cliMode, type CliMode } from './cli-modes.js';
import { buildSpec, MAX_ROLE_CHAIN_HOPS, ProviderMemo, specDigest, type BuildContext, type ProfileSpec } from './profile-build.js';
import { choose, envOf, expandHome, homeOf, loadProfileFile, type Choice } from './profile-file.js';
import { FieldReader, type ProfileValues, type SpecForm } from './profile-fields.js';
import { CLI_AUTO_MODES, CLI_MODE_FORMS, supportedKinds } from './profile-forms.js';
import { withDebugLogger } from './debug.js';

/** How this provider's messages start. */
const LABEL = 'fromCliProfile';
const PROVIDER = 'cli-profile';

/** Env variable naming the CLI config file (read by credentials-go; alicred too). */
const ENV_CONFIG_FILE = 'ALIBABA_CLOUD_CONFIG_FILE';
/** `true` (any case): the CLI config source is off; the file is not even read. */
const ENV_CLI_PROFILE_DISABLED = 'ALIBABA_CLOUD_CLI_PROFILE_DISABLED';
/** `true` or `1`: the CLI refuses the External and CredentialsURI modes; so does alicred. */
const ENV_DISABLE_EXTERNAL_PROCESS = 'ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS';
const ENV_PROFILE = 'ALIBABA_CLOUD_PROFILE';

/**
 * Options of {@link fromCliProfile}: where the file and the profile are, plus the
 * {@link NodeSourceOptions} every Node source takes (env, homedir, logger, sts, refresh).
 *
 * @example
 * ```ts
 * import { fromCliProfile, type FromCliProfileOptions } from 'alicred/node';
 * const options: FromCliProfileOptions = { profile: 'ops', sts: { endpoint: 'http://127.0.0.1:8080' }, logger: console }; // a local STS emulator
 * const creds = await fromCliProfile(options)();
 * ```
 */
export type FromCliProfileOptions = SignInOptions & {
  /** Profile name. Default: env ALIBABA_CLOUD_PROFILE, else the file's `current`, else `default`. */
  profile?: string;
  /** The config file (a leading `~` is expanded). Default: env ALIBABA_CLOUD_CONFIG_FILE, else `~/.aliyun/config.json`. */
  file?: string;
};

const SUPPORTED_MODES = supportedKinds(CLI_MODE_FORMS).join(', ');

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
  private readonly readers = new Map<string, FieldReader>();

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

  private keyLine(name: string, key: string): number | undefined {
    const entry = this.file.byName.get(name);
    return entry ? (lineOf(this.file, ['profiles', entry.index, key]) ?? this.profileLine(name)) : undefined;
  }

  error(name: string, key: string, what: string): ConfigError {
    const line = this.keyLine(name, key);
    const at = line === undefined ? '' : ` (line ${line})`;
    return new ConfigError(`${LABEL}: profile '${name}' in ${this.path}: ${key}${at} ${what}`, {
      provider: PROVIDER,
      file: this.path,
      line,
      field: key,
    });
  }

  /** The field reader of profile `name`, made once. */
  private reader(name: string): FieldReader {
    let reader = this.readers.get(name);
    if (reader === undefined) {
      const p: CliProfile = this.file.byName.get(name)!.profile;
      const values: ProfileValues = {
        get: (key) => p[key],
        has: (key) => key in p,
        lineOf: (key) => this.keyLine(name, key),
        error: (key, what) => this.error(name, key, what),
        notString: (_value, expected) => `must be ${expected}`,
        zeroIsUnset: true,
      };
      reader = new FieldReader(values);
      this.readers.set(name, reader);
    }
    return reader;
  }

  /**
   * The spec of profile `name`. ChainableRamRoleArn links are walked first, each checked
   * (cycles, missing profiles, at most {@link MAX_ROLE_CHAIN_HOPS} hops), then the specs
   * are made from the innermost profile outwards: no recursion, whatever the file says.
   */
  resolve(name: string): ProfileSpec {
    const link = CLI_MODE_FORMS.ChainableRamRoleArn.form!;
    const because = 'for mode ChainableRamRoleArn';
    const chain = [name];
    const seen = new Set(chain);
    for (;;) {
      const current = chain[chain.length - 1]!;
      const r = this.reader(current);
      if (this.modeOf(current, r) !== 'ChainableRamRoleArn') break;
      const sourceName = r.need('source_profile', because);
      if (seen.has(sourceName)) {
        throw this.error(current, 'source_profile', `makes a cycle: ${describeChain([...chain, sourceName])}`);
      }
      if (!this.file.byName.has(sourceName)) throw this.error(current, 'source_profile', `names profile '${sourceName}', which is not in the file`);
      r.need('ram_role_arn', because);
      if (chain.length > MAX_ROLE_CHAIN_HOPS) throw this.tooLong(current, chain, sourceName);
      chain.push(sourceName);
      seen.add(sourceName);
    }
    let spec = this.single(chain[chain.length - 1]!);
    for (let i = chain.length - 2; i >= 0; i--) {
      spec = this.reader(chain[i]!).spec(link, because, this.env, spec);
      this.contexts.set(spec, this.context(chain[i]!, link));
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
      const mode: CliMode | undefined = typeof p?.mode === 'string' ? cliMode(p.mode) : undefined;
      const source: unknown = p?.source_profile;
      n = mode === 'ChainableRamRoleArn' ? trimmedString(source) : undefined;
    }
    const what = cycle ? `a chain that makes a cycle (${describeChain(names)})` : `a chain of ${names.length - 1} hops (${describeChain(names)})`;
    return this.error(current, 'source_profile', `is hop ${chain.length} of ${what}; at most ${MAX_ROLE_CHAIN_HOPS} source_profile hops are allowed`);
  }

  /** The spec of a profile that is not a ChainableRamRoleArn link, by its mode's form. */
  private single(name: string): ProfileSpec {
    const r = this.reader(name);
    const mode = this.modeOf(name, r);
    const entry = CLI_MODE_FORMS[mode];
    if (entry.form === undefined) {
      throw this.error(name, 'mode', `is ${mode}, which alicred does not support yet: ${entry.unsupported}. Supported modes: ${SUPPORTED_MODES}`);
    }
    if (entry.external !== undefined) this.checkExternalAllowed(name, entry.external, mode);
    const spec = r.spec(entry.form, `for mode ${mode}`, this.env);
    // A sign-in profile's tokens are read, and written back, at each refresh: it is named in the spec.
    if (spec.kind === 'cloud-sso' || spec.kind === 'oauth') spec.profile = name;
    if (spec.kind === 'ram-role') this.contexts.set(spec.source, this.context(name, entry.form));
    this.contexts.set(spec, this.context(name, entry.form));
    return spec;
  }

  private modeOf(name: string, r: FieldReader): CliMode {
    const raw = r.values.get('mode');
    if (raw !== undefined && raw !== null && typeof raw !== 'string') throw this.error(name, 'mode', 'must be a string');
    if (typeof raw === 'string' && raw.trim() !== '') {
      const mode = cliMode(raw);
      if (!mode) {
        throw this.error(name, 'mode', `is ${JSON.stringify(raw.slice(0, 40))}, which is not a mode of the aliyun CLI; supported: ${SUPPORTED_MODES}`);
      }
      return mode;
    }
    // No mode: the CLI's AutoModeRecognition, in its order.
    const auto = CLI_AUTO_MODES.find(([, keys]) => keys.every((key) => r.str(key) !== undefined));
    if (auto) return auto[0];
    throw this.error(name, 'mode', `is missing and cannot be inferred from the profile's fields; set one of ${SUPPORTED_MODES}`);
  }

  private checkExternalAllowed(name: string, key: string, mode: CliMode): void {
    const v = envString(this.env, ENV_DISABLE_EXTERNAL_PROCESS)?.toLowerCase();
    if (v === 'true' || v === '1') {
      throw this.error(name, key, `cannot be used: mode ${mode} is disabled by ${ENV_DISABLE_EXTERNAL_PROCESS}`);
    }
  }

  /** The build context of a spec read from profile `name` by `form`: errors name that profile's keys. */
  private context(name: string, form: SpecForm): BuildContext {
    const reader = this.reader(name);
    return {
      provider: PROVIDER,
      file: this.path,
      describe: `profile '${name}'`,
      line: this.profileLine(name),
      locate: (field) => reader.locate(form, field),
      options: this.options,
      env: this.env,
    };
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
 * `true` or `1`, as in the CLI. `CloudSSO` (cloud_sso_sign_in_url, cloud_sso_account_id,
 * cloud_sso_access_config; the access token exchanged at the portal) and `OAuth`
 * (oauth_site_type; tokens refreshed and written back under a lock): see node/cli-signin.ts;
 * both reuse the STS triple the CLI cached in the profile. Other modes (BearerToken,
 * Anonymous, RsaKeyPair, RamRoleArnWithRoleName) are a {@link ConfigError} naming the mode
 * and profile.
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
  options = withDebugLogger(options); // ALICRED_DEBUG / DEBUG=alicred: debug lines to stderr
  const memo = new ProviderMemo();

  async function cliProfileProvider(callOptions?: ProviderCallOptions) {
    callOptions?.signal?.throwIfAborted();
    const env = envOf(options);
    if (envFlag(env, ENV_CLI_PROFILE_DISABLED)) {
      throw new CredentialsProviderError(`${LABEL}: disabled by ${ENV_CLI_PROFILE_DISABLED}`, { provider: PROVIDER, tryNext: true });
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
        throw new CredentialsProviderError(`${LABEL}: ${path} does not exist`, { provider: PROVIDER, tryNext: true });
      }
      throw new ConfigError(`${LABEL}: the config file ${path} (from ${fileChoice.name}) does not exist`, {
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
      throw new CredentialsProviderError(`${LABEL}: ${path}: ${from} ${what} (${listing})`, { provider: PROVIDER, tryNext: true });
    }

    const resolver = new Resolver(file, path, options, env);
    const spec = resolver.resolve(name);
    const provider = memo.get(`${path}\0${name}`, await specDigest(spec), () => buildSpec(spec, resolver.contexts.get(spec)!, resolver.contexts));
    return memo.call(provider, callOptions);
  }

  return Object.assign(cliProfileProvider, { peek: () => memo.peek(), close: () => memo.close() });
}
