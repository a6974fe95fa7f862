/**
 * The shared credentials file of the official SDKs: `~/.alibabacloud/credentials` (Go, Node,
 * PHP) or `~/.alibabacloud/credentials.ini` (Python, Java), an ini file whose sections are
 * profiles and whose `type` key says what each one is.
 *
 * @module
 */
import { join } from 'node:path';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import type { RefreshingProvider } from '../refresh.js';
import type { ProviderCallOptions } from '../types.js';
import { checkIniProfile, loadIni, parseIniFile, valuesOf, type IniFile, type IniSection } from './ini-file.js';
import type { NodeSourceOptions } from './options.js';
import { buildSpec, ProviderMemo, specDigest, type BuildContext } from './profile-build.js';
import { FieldReader, type ProfileValues, type SpecForm } from './profile-fields.js';
import { INI_TYPES, supportedKinds } from './profile-forms.js';
import { choose, envOf, expandHome, homeOf, loadProfileFile, type Choice } from './profile-file.js';
import { withDebugLogger } from './debug.js';

/** How this provider's messages start. */
const LABEL = 'fromIniProfile';
const PROVIDER = 'ini-profile';

/** Env variable naming the credentials file. */
const ENV_CREDENTIALS_FILE = 'ALIBABA_CLOUD_CREDENTIALS_FILE';
/** Env variable naming the profile (shared with the CLI config source). */
const ENV_PROFILE = 'ALIBABA_CLOUD_PROFILE';

/**
 * Options of {@link fromIniProfile}: where the file and the profile are, plus the
 * {@link NodeSourceOptions} every Node source takes (env, homedir, logger, sts, refresh).
 *
 * @example
 * ```ts
 * import { fromIniProfile, type FromIniProfileOptions } from 'alicred/node';
 * const options: FromIniProfileOptions = { profile: 'prod', file: '~/.alibabacloud/credentials', logger: console };
 * const creds = await fromIniProfile(options)();
 * ```
 */
export type FromIniProfileOptions = NodeSourceOptions & {
  /** Section to use. Default: env ALIBABA_CLOUD_PROFILE, else `default`. */
  profile?: string;
  /**
   * The credentials file (a leading `~` is expanded). Default: env
   * ALIBABA_CLOUD_CREDENTIALS_FILE, else `~/.alibabacloud/credentials`, else (when that one
   * does not exist) `~/.alibabacloud/credentials.ini`.
   */
  file?: string;
};

/** One section's values for the field reader: errors name the key and its line. */
function sectionValues(section: IniSection, file: string): ProfileValues {
  const lineOf = (key: string): number => section.keys.get(key) ?? section.line;
  return {
    get: (key) => valuesOf(section)[key],
    has: (key) => section.keys.has(key),
    lineOf,
    error: (key, what, line = lineOf(key)) =>
      new ConfigError(`${LABEL}: profile '${section.name}' in ${file}: ${key} (line ${line}) ${what}`, {
        provider: PROVIDER,
        file,
        line,
        field: key,
      }),
    notString: (value) => (Array.isArray(value) ? 'is given more than once as an array' : 'must be a string value (key = value)'),
    zeroIsUnset: false,
  };
}

/** The form of a section, by its `type` (looked up in {@link INI_TYPES}). */
function formOf(section: IniSection, values: ProfileValues): { form: SpecForm; type: string } {
  const supported = supportedKinds(INI_TYPES).join(', ');
  const rawType = values.get('type');
  if (rawType === undefined || rawType === null || rawType === '') {
    throw values.error('type', `is missing; set it to one of ${supported}`, section.line);
  }
  if (typeof rawType !== 'string') throw values.error('type', 'must be a string value');
  const type = rawType.trim().toLowerCase();
  const entry = Object.hasOwn(INI_TYPES, type) ? INI_TYPES[type] : undefined;
  if (entry?.form !== undefined) return { form: entry.form, type };
  if (entry !== undefined) throw values.error('type', `is ${type}, which alicred does not support: ${entry.unsupported}`);
  throw values.error('type', `is ${JSON.stringify(rawType.slice(0, 40))}, which is not a known type; use one of ${supported}`);
}

/**
 * Credentials from a profile of the SDKs' shared credentials file, read (when it changed)
 * at every call, so edits apply without a restart.
 *
 * File: `options.file`, else env ALIBABA_CLOUD_CREDENTIALS_FILE, else
 * `~/.alibabacloud/credentials`, else `~/.alibabacloud/credentials.ini` (the name Python and
 * Java use). Profile (section): `options.profile`, else env ALIBABA_CLOUD_PROFILE, else
 * `default`.
 *
 * Types (`type = …`): `access_key` (access_key_id, access_key_secret); `sts` (plus
 * security_token; never refreshed); `ram_role_arn` (access_key_id, access_key_secret,
 * role_arn, optional role_session_name, policy, and as alicred extensions external_id,
 * duration_seconds, sts_endpoint, sts_region, enable_vpc); `ecs_ram_role` (optional
 * role_name); `oidc_role_arn` (role_arn, oidc_provider_arn, oidc_token_file_path, optional
 * role_session_name, policy, duration_seconds); `credentials_uri` (credentials_uri).
 * `rsa_key_pair` and `bearer` are refused with a {@link ConfigError} that says why.
 *
 * Not configured (a chain moves on): no file at the default paths, or a file without the
 * `default` profile. Errors ({@link ConfigError} with `file`, `line`, `field`): a file named
 * by option or env that does not exist, a profile asked for by option or env that is not in
 * the file, a malformed line in that profile (or, when it is missing, a malformed header
 * that may have been meant to open it), a missing or unknown `type`, a missing key, and any
 * configuration error of the provider built from it (a bad role ARN, duration, token file…),
 * restated with the file, profile, key and line. Malformed lines elsewhere (a nameless
 * `[ ]` section, a stray line in another profile) are skipped, as the official readers do,
 * with one warning through `options.logger` naming the file and lines. Messages never
 * contain a secret. A file readable by other users gets one warning through
 * `options.logger`. Role profiles build one refreshing provider per distinct configuration,
 * reused across calls; `close()` stops their timers.
 *
 * @example
 * ```ts
 * import { fromIniProfile } from 'alicred/node';
 * // ~/.alibabacloud/credentials:
 * //   [default]
 * //   type = ram_role_arn
 * //   access_key_id = LTAI5t...
 * //   access_key_secret = ...
 * //   role_arn = acs:ram::1234567890123456:role/iot-operator
 * //   role_session_name = nightly
 * const provider = fromIniProfile({ logger: console });
 * const creds = await provider();   // STS.… from AssumeRole, refreshed before it expires
 * provider.close();
 * ```
 */
export function fromIniProfile(options: FromIniProfileOptions = {}): RefreshingProvider {
  options = withDebugLogger(options); // ALICRED_DEBUG / DEBUG=alicred: debug lines to stderr
  const memo = new ProviderMemo();

  async function iniProfileProvider(callOptions?: ProviderCallOptions) {
    callOptions?.signal?.throwIfAborted();
    const env = envOf(options);
    const home = homeOf(options);
    const defaultPath = join(home, '.alibabacloud', 'credentials');
    const fileChoice: Choice = choose(options.file, 'file', env, ENV_CREDENTIALS_FILE, () => ({
      value: defaultPath,
      from: 'default',
      name: 'default',
    }));
    const context = { provider: PROVIDER, logger: options.logger };
    await loadIni();
    let path = expandHome(fileChoice.value, home);
    let loaded = await loadProfileFile<IniFile>(path, PROVIDER, parseIniFile, context);
    if (!loaded && fileChoice.from === 'default') {
      path = `${defaultPath}.ini`;
      loaded = await loadProfileFile<IniFile>(path, PROVIDER, parseIniFile, context);
    }
    if (!loaded) {
      if (fileChoice.from === 'default') {
        throw new CredentialsProviderError(`${LABEL}: neither ${defaultPath} nor ${defaultPath}.ini exists`, {
          provider: PROVIDER,
          tryNext: true,
        });
      }
      throw new ConfigError(`${LABEL}: the credentials file ${path} (from ${fileChoice.name}) does not exist`, {
        provider: PROVIDER,
        file: path,
        field: fileChoice.name,
      });
    }

    const profileChoice = choose(options.profile, 'profile', env, ENV_PROFILE, () => ({ value: 'default', from: 'default', name: 'default' }));
    const section = checkIniProfile(loaded.value, profileChoice.value, path, PROVIDER, options.logger);
    if (!section) {
      const known = [...loaded.value.sections.keys()];
      const unreadable = loaded.value.skipped[0];
      if (known.length === 0 && unreadable !== undefined) {
        // Nothing in the file could be read (a binary or otherwise broken file): that is a
        // broken configuration, not an absent one, so a chain must stop here rather than
        // quietly use another identity.
        throw new ConfigError(
          `${LABEL}: ${path} is not an ini credentials file: no profile could be read (line ${unreadable.line} ${unreadable.what}); ` +
            'fix or remove it',
          { provider: PROVIDER, file: path, line: unreadable.line },
        );
      }
      const listing = known.length === 0 ? 'it has no profiles' : `its profiles: ${known.join(', ')}`;
      if (profileChoice.from === 'default') {
        throw new CredentialsProviderError(`${LABEL}: ${path} has no [default] profile (${listing})`, {
          provider: PROVIDER,
          tryNext: true,
        });
      }
      throw new ConfigError(`${LABEL}: profile '${profileChoice.value}' (from ${profileChoice.name}) is not in ${path} (${listing})`, {
        provider: PROVIDER,
        file: path,
        field: profileChoice.name,
      });
    }

    const values = sectionValues(section, path);
    const { form, type } = formOf(section, values);
    const reader = new FieldReader(values);
    const spec = reader.spec(form, `for type ${type}`, env);
    const ctx: BuildContext = {
      provider: PROVIDER,
      file: path,
      describe: `profile '${section.name}'`,
      line: section.line,
      locate: (field) => reader.locate(form, field),
      options,
      env,
    };
    const provider = memo.get(`${path}\0${section.name}`, await specDigest(spec), () => buildSpec(spec, ctx));
    return memo.call(provider, callOptions);
  }

  return Object.assign(iniProfileProvider, { peek: () => memo.peek(), close: () => memo.close() });
}
