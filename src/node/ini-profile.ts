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
import { checkIniProfile, parseIniFile, valuesOf, type IniFile, type IniSection } from './ini-file.js';
import type { NodeSourceOptions } from './options.js';
import {
  buildSpec,
  compact,
  ProviderMemo,
  specDigest,
  type BuildContext,
  type ProfileSpec,
  type StsOverrides,
} from './profile-build.js';
import { choose, envOf, expandHome, homeOf, loadProfileFile, type Choice } from './profile-file.js';

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

/** Profile keys for each field name the providers report in their ConfigErrors. */
const KEY_OF_FIELD: Record<string, string> = {
  accessKeyId: 'access_key_id',
  accessKeySecret: 'access_key_secret',
  securityToken: 'security_token',
  roleArn: 'role_arn',
  roleSessionName: 'role_session_name',
  policy: 'policy',
  externalId: 'external_id',
  oidcProviderArn: 'oidc_provider_arn',
  tokenFile: 'oidc_token_file_path',
  token: 'oidc_token_file_path',
  oidcToken: 'oidc_token_file_path',
  roleName: 'role_name',
  uri: 'credentials_uri',
  endpoint: 'sts_endpoint',
  region: 'sts_region',
  vpc: 'enable_vpc',
};

/** The types the official libraries know; the two alicred refuses, with the reason. */
const UNSUPPORTED: Record<string, string> = {
  rsa_key_pair:
    'RSA key pairs (GenerateSessionAccessKey) are deprecated by Alibaba Cloud and no longer supported by the ' +
    'current official Go and Node providers; use a RAM user AccessKey (type = access_key) or a role (type = ram_role_arn)',
  bearer:
    'a bearer token is not an AccessKey: it authorizes only the few product APIs that accept it and cannot sign ' +
    'requests, so it cannot become Credentials',
};

const SUPPORTED_TYPES = ['access_key', 'sts', 'ram_role_arn', 'ecs_ram_role', 'oidc_role_arn', 'credentials_uri'];

/** Reads one section's values, with errors naming the key and its line. */
class SectionReader {
  constructor(
    private readonly section: IniSection,
    private readonly file: string,
  ) {}

  private describe(): string {
    return `profile '${this.section.name}' in ${this.file}`;
  }

  lineOf(key: string): number {
    return this.section.keys.get(key) ?? this.section.line;
  }

  error(key: string, what: string, line = this.lineOf(key)): ConfigError {
    return new ConfigError(`${PROVIDER}: ${this.describe()}: ${key} (line ${line}) ${what}`, {
      provider: PROVIDER,
      file: this.file,
      line,
      field: key,
    });
  }

  /** A string value, or undefined when absent or empty. Never shows the value. */
  optional(key: string): string | undefined {
    const value = valuesOf(this.section)[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      throw this.error(key, Array.isArray(value) ? 'is given more than once as an array' : 'must be a string value (key = value)');
    }
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  required(key: string, because: string): string {
    const value = this.optional(key);
    if (value === undefined) {
      throw this.error(key, this.section.keys.has(key) ? `is empty; it is required ${because}` : `is missing; it is required ${because}`);
    }
    return value;
  }

  integer(key: string): number | undefined {
    const value = this.optional(key);
    if (value === undefined) return undefined;
    if (!/^\d{1,9}$/.test(value)) throw this.error(key, 'must be a whole number of seconds');
    return Number(value);
  }

  boolean(key: string): boolean | undefined {
    const value = valuesOf(this.section)[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
    throw this.error(key, 'must be true or false');
  }

  sts(): StsOverrides {
    return compact({ endpoint: this.optional('sts_endpoint'), region: this.optional('sts_region'), vpc: this.boolean('enable_vpc') });
  }
}

/** The spec of a section, by its `type`. */
function specOf(section: IniSection, file: string): ProfileSpec {
  const r = new SectionReader(section, file);
  const rawType = valuesOf(section).type;
  if (rawType === undefined || rawType === null || rawType === '') {
    throw r.error('type', `is missing; set it to one of ${SUPPORTED_TYPES.join(', ')}`, section.line);
  }
  if (typeof rawType !== 'string') throw r.error('type', 'must be a string value');
  const type = rawType.trim().toLowerCase();
  const keys = (because: string) => ({
    accessKeyId: r.required('access_key_id', because),
    accessKeySecret: r.required('access_key_secret', because),
  });
  switch (type) {
    case 'access_key':
      return { kind: 'static', ...keys('for type access_key') };
    case 'sts':
      return { kind: 'static', ...keys('for type sts'), securityToken: r.required('security_token', 'for type sts') };
    case 'ram_role_arn': {
      const because = 'for type ram_role_arn';
      const source: ProfileSpec = compact({ kind: 'static' as const, ...keys(because), securityToken: r.optional('security_token') });
      return compact({
        kind: 'ram-role' as const,
        source,
        roleArn: r.required('role_arn', because),
        roleSessionName: r.optional('role_session_name'),
        policy: r.optional('policy'),
        durationSeconds: r.integer(durationKey(section)),
        externalId: r.optional('external_id'),
        sts: r.sts(),
      });
    }
    case 'ecs_ram_role':
      return compact({ kind: 'ecs' as const, roleName: r.optional('role_name') });
    case 'oidc_role_arn': {
      const because = 'for type oidc_role_arn';
      return compact({
        kind: 'oidc' as const,
        roleArn: r.required('role_arn', because),
        oidcProviderArn: r.required('oidc_provider_arn', because),
        tokenFile: r.required('oidc_token_file_path', because),
        roleSessionName: r.optional('role_session_name'),
        policy: r.optional('policy'),
        durationSeconds: r.integer(durationKey(section)),
        sts: r.sts(),
      });
    }
    case 'credentials_uri':
      return { kind: 'uri', uri: r.required('credentials_uri', 'for type credentials_uri') };
    default: {
      const reason = UNSUPPORTED[type];
      if (reason !== undefined) throw r.error('type', `is ${type}, which alicred does not support: ${reason}`);
      throw r.error('type', `is ${JSON.stringify(rawType.slice(0, 40))}, which is not a known type; use one of ${SUPPORTED_TYPES.join(', ')}`);
    }
  }
}

/** `duration_seconds`, or the legacy Go name `role_session_expiration` when only that is set. */
function durationKey(section: IniSection): string {
  return !section.keys.has('duration_seconds') && section.keys.has('role_session_expiration') ? 'role_session_expiration' : 'duration_seconds';
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
    let path = expandHome(fileChoice.value, home);
    let loaded = await loadProfileFile<IniFile>(path, PROVIDER, parseIniFile, context);
    if (!loaded && fileChoice.from === 'default') {
      path = `${defaultPath}.ini`;
      loaded = await loadProfileFile<IniFile>(path, PROVIDER, parseIniFile, context);
    }
    if (!loaded) {
      if (fileChoice.from === 'default') {
        throw new CredentialsProviderError(`${PROVIDER}: neither ${defaultPath} nor ${defaultPath}.ini exists`, {
          provider: PROVIDER,
          tryNext: true,
        });
      }
      throw new ConfigError(`${PROVIDER}: the credentials file ${path} (from ${fileChoice.name}) does not exist`, {
        provider: PROVIDER,
        file: path,
        field: fileChoice.name,
      });
    }

    const profileChoice = choose(options.profile, 'profile', env, ENV_PROFILE, () => ({ value: 'default', from: 'default', name: 'default' }));
    const section = checkIniProfile(loaded.value, profileChoice.value, path, PROVIDER, options.logger);
    if (!section) {
      const known = [...loaded.value.sections.keys()];
      const listing = known.length === 0 ? 'it has no profiles' : `its profiles: ${known.join(', ')}`;
      if (profileChoice.from === 'default') {
        throw new CredentialsProviderError(`${PROVIDER}: ${path} has no [default] profile (${listing})`, {
          provider: PROVIDER,
          tryNext: true,
        });
      }
      throw new ConfigError(`${PROVIDER}: profile '${profileChoice.value}' (from ${profileChoice.name}) is not in ${path} (${listing})`, {
        provider: PROVIDER,
        file: path,
        field: profileChoice.name,
      });
    }

    const spec = specOf(section, path);
    const reader = new SectionReader(section, path);
    const ctx: BuildContext = {
      provider: PROVIDER,
      file: path,
      describe: `profile '${section.name}'`,
      line: section.line,
      locate: (field) => {
        const key = field === 'durationSeconds' ? durationKey(section) : (KEY_OF_FIELD[field] ?? (section.keys.has(field) ? field : undefined));
        return key === undefined ? undefined : { field: key, line: reader.lineOf(key) };
      },
      options,
      env,
    };
    const provider = memo.get(`${path}\0${section.name}`, specDigest(spec), () => buildSpec(spec, ctx));
    return memo.call(provider, callOptions);
  }

  return Object.assign(iniProfileProvider, { peek: () => memo.peek(), close: () => memo.close() });
}
