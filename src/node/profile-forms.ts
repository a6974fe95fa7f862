/**
 * What each profile kind reads, for both profile files: one table per format, from the
 * ini file's `type` and from the CLI config's `mode` to a {@link SpecForm} (or the reason
 * alicred refuses it). The readers (ini-profile.ts, cli-config.ts) look a kind up here and
 * never switch over kinds themselves.
 *
 * @module
 */
import type { CliMode } from './cli-modes.js';
import { need, seconds, STS, text, type FieldRule, type SpecForm } from './profile-fields.js';

/** A kind alicred builds, or one it refuses with the reason. */
export type KindEntry = { readonly form: SpecForm; readonly unsupported?: undefined } | { readonly form?: undefined; readonly unsupported: string };

/** Variable the CLI reads when a CredentialsURI profile has no `credentials_uri`. */
export const ENV_CREDENTIALS_URI = 'ALIBABA_CLOUD_CREDENTIALS_URI';

// ---------------------------------------------------------------------------
// ~/.alibabacloud/credentials: `type`
// ---------------------------------------------------------------------------

const INI_KEYS: SpecForm['fields'] = [
  ['accessKeyId', need('access_key_id')],
  ['accessKeySecret', need('access_key_secret')],
];
/** `duration_seconds`, or Go's legacy `role_session_expiration`. */
const INI_DURATION = seconds('duration_seconds', 'role_session_expiration');

/**
 * The ini file's types (matched after trimming and lower-casing), in the order messages
 * list them.
 */
export const INI_TYPES: Readonly<Record<string, KindEntry>> = {
  access_key: { form: { kind: 'static', fields: INI_KEYS } },
  sts: { form: { kind: 'static', fields: [...INI_KEYS, ['securityToken', need('security_token')]] } },
  ram_role_arn: {
    form: {
      kind: 'ram-role',
      source: { kind: 'static', fields: [...INI_KEYS, ['securityToken', text('security_token')]] },
      fields: [
        ['roleArn', need('role_arn')],
        ['roleSessionName', text('role_session_name')],
        ['policy', text('policy')],
        ['durationSeconds', INI_DURATION],
        ['externalId', text('external_id')],
        ['sts', STS],
      ],
    },
  },
  ecs_ram_role: { form: { kind: 'ecs', fields: [['roleName', text('role_name')]] } },
  oidc_role_arn: {
    form: {
      kind: 'oidc',
      fields: [
        ['roleArn', need('role_arn')],
        ['oidcProviderArn', need('oidc_provider_arn')],
        ['tokenFile', need('oidc_token_file_path')],
        ['roleSessionName', text('role_session_name')],
        ['policy', text('policy')],
        ['durationSeconds', INI_DURATION],
        ['sts', STS],
      ],
    },
  },
  credentials_uri: { form: { kind: 'uri', fields: [['uri', need('credentials_uri')]] } },
  rsa_key_pair: {
    unsupported:
      'RSA key pairs (GenerateSessionAccessKey) are deprecated by Alibaba Cloud and no longer supported by the ' +
      'current official Go and Node providers; use a RAM user AccessKey (type = access_key) or a role (type = ram_role_arn)',
  },
  bearer: {
    unsupported:
      'a bearer token is not an AccessKey: it authorizes only the few product APIs that accept it and cannot sign ' +
      'requests, so it cannot become Credentials',
  },
};

// ---------------------------------------------------------------------------
// ~/.aliyun/config.json: `mode`
// ---------------------------------------------------------------------------

const CLI_KEYS: SpecForm['fields'] = [
  ['accessKeyId', need('access_key_id')],
  ['accessKeySecret', need('access_key_secret')],
];
const CLI_DURATION = seconds('expired_seconds', 'duration_seconds');
/** A role's fields after its ARN (RamRoleArn, and each ChainableRamRoleArn link). */
const CLI_ROLE: SpecForm['fields'] = [
  ['roleArn', need('ram_role_arn')],
  ['roleSessionName', text('ram_session_name')],
  ['policy', text('policy')],
  ['durationSeconds', CLI_DURATION],
  ['externalId', text('external_id')],
  ['sts', STS],
];
const CLI_URI: FieldRule = { read: 'string', keys: ['credentials_uri'], required: true, env: ENV_CREDENTIALS_URI };

/** A CLI mode's entry; `external` names the key refused when ALIBABA_CLOUD_DISABLE_EXTERNAL_PROCESS is set. */
export type CliKindEntry = KindEntry & { readonly external?: string };

/**
 * The CLI's modes. ChainableRamRoleArn's form reads one link; its `source_profile` is
 * followed by the resolver.
 */
export const CLI_MODE_FORMS: Readonly<Record<CliMode, CliKindEntry>> = {
  AK: { form: { kind: 'static', fields: CLI_KEYS } },
  StsToken: { form: { kind: 'static', fields: [...CLI_KEYS, ['securityToken', need('sts_token')]] } },
  RamRoleArn: { form: { kind: 'ram-role', source: { kind: 'static', fields: CLI_KEYS }, fields: CLI_ROLE } },
  EcsRamRole: { form: { kind: 'ecs', fields: [['roleName', text('ram_role_name')]] } },
  ChainableRamRoleArn: { form: { kind: 'ram-role', fields: CLI_ROLE } },
  OIDC: {
    form: {
      kind: 'oidc',
      fields: [
        ['oidcProviderArn', need('oidc_provider_arn')],
        ['tokenFile', need('oidc_token_file')],
        ['roleArn', need('ram_role_arn')],
        // Python's CLI-profile provider reads role_session_name; the CLI writes ram_session_name.
        ['roleSessionName', text('ram_session_name', 'role_session_name')],
        ['policy', text('policy')],
        ['durationSeconds', CLI_DURATION],
        ['sts', STS],
      ],
    },
  },
  External: { form: { kind: 'process', fields: [['command', need('process_command')]] }, external: 'process_command' },
  CredentialsURI: { form: { kind: 'uri', fields: [['uri', CLI_URI]] }, external: 'credentials_uri' },
  RsaKeyPair: { unsupported: 'RSA key pairs (GenerateSessionAccessKey) are deprecated by Alibaba Cloud' },
  RamRoleArnWithRoleName: {
    unsupported: 'it is deprecated; use a ChainableRamRoleArn profile whose source_profile is an EcsRamRole profile',
  },
  // The tokens and the cached triple are read at each refresh (cli-signin.ts); the spec holds what names the identity.
  CloudSSO: {
    form: {
      kind: 'cloud-sso',
      fields: [
        ['signInUrl', need('cloud_sso_sign_in_url')],
        ['accountId', need('cloud_sso_account_id')],
        ['accessConfig', need('cloud_sso_access_config')],
      ],
    },
  },
  OAuth: { form: { kind: 'oauth', fields: [['siteType', text('oauth_site_type')]] } },
  BearerToken: { unsupported: 'a bearer token is not an AccessKey and cannot sign requests' },
  Anonymous: { unsupported: 'it means no credentials at all' },
};

/**
 * The CLI's AutoModeRecognition for a profile without `mode`: the first mode whose keys
 * all have values, in the CLI's order.
 */
export const CLI_AUTO_MODES: readonly (readonly [CliMode, readonly string[]])[] = [
  ['StsToken', ['access_key_id', 'access_key_secret', 'sts_token']],
  ['RamRoleArn', ['access_key_id', 'access_key_secret', 'ram_role_arn']],
  ['AK', ['access_key_id', 'access_key_secret']],
  ['RsaKeyPair', ['private_key', 'key_pair_name']],
  ['EcsRamRole', ['ram_role_name']],
  ['External', ['process_command']],
  ['OIDC', ['oidc_provider_arn', 'oidc_token_file', 'ram_role_arn']],
  ['CloudSSO', ['cloud_sso_sign_in_url']],
  ['BearerToken', ['bearer_token']],
];

/** The kinds of a table that alicred builds, in table order (for messages). */
export function supportedKinds(table: Readonly<Record<string, KindEntry>>): string[] {
  return Object.entries(table)
    .filter(([, entry]) => entry.form !== undefined)
    .map(([name]) => name);
}
