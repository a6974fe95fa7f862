/**
 * OIDC / RRSA from a token file (ACK "RAM Roles for Service Accounts"): the role ARN, the
 * OIDC provider ARN and the path of a projected service-account token, from options or from
 * the variables the ACK pod-identity webhook injects.
 */
import type { StsCache } from '../cache.js';
import { ConfigError, CredentialsProviderError } from '../errors.js';
import { failingProvider } from '../chain.js';
import { processEnv, trimmedString, type EnvLike } from '../internal/env.js';
import { fromOidc } from '../providers/oidc.js';
import type { RefreshingProvider, RefreshOptions } from '../refresh.js';
import { isStsClient, type StsClient, type StsClientOptions } from '../sts/client.js';
import type { Logger } from '../types.js';
import { validateOidcProviderArn, validateRoleArn, validateRoleSessionName } from '../sts/validate.js';
import { FileReadProblem, readSmallTextFile } from './read-file.js';
import { withDebugLogger } from './debug.js';

/** An OIDC token is a JWT of a few KiB. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

const ENV_ROLE_ARN = 'ALIBABA_CLOUD_ROLE_ARN';
const ENV_OIDC_PROVIDER_ARN = 'ALIBABA_CLOUD_OIDC_PROVIDER_ARN';
const ENV_OIDC_TOKEN_FILE = 'ALIBABA_CLOUD_OIDC_TOKEN_FILE';
const ENV_ROLE_SESSION_NAME = 'ALIBABA_CLOUD_ROLE_SESSION_NAME';

const PROVIDER = 'oidc';

/**
 * Options of {@link fromOidcTokenFile}; each unset value falls back to its environment variable.
 *
 * @example
 * ```ts
 * import { fromOidcTokenFile, type FromOidcTokenFileOptions } from 'alicred/node';
 * const options: FromOidcTokenFileOptions = { roleSessionName: 'billing-worker', durationSeconds: 900 };
 * const provider = fromOidcTokenFile(options); // the rest from the RRSA variables
 * ```
 */
export type FromOidcTokenFileOptions = {
  /** The role to assume. Default: env `ALIBABA_CLOUD_ROLE_ARN`. */
  roleArn?: string;
  /** `acs:ram::<account id>:oidc-provider/<name>`. Default: env `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`. */
  oidcProviderArn?: string;
  /** Path of the OIDC token, re-read at every refresh. Default: env `ALIBABA_CLOUD_OIDC_TOKEN_FILE`. */
  tokenFile?: string;
  /** Default: env `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `alicred`. */
  roleSessionName?: string;
  /** Default 3600. */
  durationSeconds?: number;
  /** A session policy (JSON) narrowing the role's permissions. */
  policy?: string;
  /**
   * STS client or its options. Options without `env` get this provider's `env`, so
   * ALIBABA_CLOUD_STS_ENDPOINT / _STS_REGION / _VPC_ENDPOINT_ENABLED (injected by the
   * webhook) apply.
   */
  sts?: StsClient | StsClientOptions;
  /** Shared STS-result cache; `false` for none. Default: the process-wide one. */
  cache?: StsCache | false;
  /** Options of the refresh engine. */
  refresh?: RefreshOptions;
  /** Receives warnings (a clamped lifetime, failed background refreshes); never secrets. */
  logger?: Logger;
  /** Environment variables, read once, when the provider is built. Default `process.env`. */
  env?: EnvLike;
};


/**
 * Temporary credentials for a RAM role from an OIDC token file, through STS
 * AssumeRoleWithOIDC (anonymous: no AccessKey needed). This is how pods on ACK with RRSA get
 * credentials: the webhook injects ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN
 * and ALIBABA_CLOUD_OIDC_TOKEN_FILE, and the kubelet rotates the token file, which is
 * therefore read again at every refresh.
 *
 * Each option falls back to its variable (read when the provider is built). None of the
 * three set: the provider is not configured and throws a {@link CredentialsProviderError}
 * with `tryNext: true`, so a chain moves on. Only some of them: a {@link ConfigError}
 * naming the missing ones — except that ALIBABA_CLOUD_ROLE_ARN alone in the environment
 * (also a default of RAM-role setups) counts as not configured. A token file that is
 * missing, unreadable or empty is a ConfigError naming its path, never its content. As
 * everywhere in alicred, an explicit option that is wrong is a ConfigError when the provider
 * is built; a wrong value from the environment or a file is reported by its calls.
 *
 * @example
 * ```ts
 * import { fromOidcTokenFile } from 'alicred/node';
 * // In a pod with RRSA: everything comes from the injected variables.
 * const provider = fromOidcTokenFile();
 * const creds = await provider();   // AssumeRoleWithOIDC with the current token
 * provider.close();
 *
 * // Or explicitly:
 * fromOidcTokenFile({
 *   roleArn: 'acs:ram::1234567890123456:role/app',
 *   oidcProviderArn: 'acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1',
 *   tokenFile: '/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token',
 * });
 * ```
 */
export function fromOidcTokenFile(options: FromOidcTokenFileOptions = {}): RefreshingProvider {
  options = withDebugLogger(options); // ALICRED_DEBUG / DEBUG=alicred: debug lines to stderr
  const env: EnvLike = options.env ?? processEnv() ?? {};

  /** One setting; `field` names where its value came from (the option, else the variable). */
  type Setting = { value: string | undefined; field: string; explicit: boolean; envName: string; optionName: string };
  const setting = (explicit: unknown, envName: string, optionName: string): Setting => {
    const own = trimmedString(explicit);
    if (own !== undefined) return { value: own, field: optionName, explicit: true, envName, optionName };
    return { value: trimmedString(env[envName]), field: envName, explicit: false, envName, optionName };
  };
  const roleArn = setting(options.roleArn, ENV_ROLE_ARN, 'roleArn');
  const providerArn = setting(options.oidcProviderArn, ENV_OIDC_PROVIDER_ARN, 'oidcProviderArn');
  const tokenFile = setting(options.tokenFile, ENV_OIDC_TOKEN_FILE, 'tokenFile');
  const sessionName = setting(options.roleSessionName, ENV_ROLE_SESSION_NAME, 'roleSessionName');
  const required = [roleArn, providerArn, tokenFile];
  const present = required.filter((s) => s.value !== undefined);

  const roleArnOnlyFromEnv = present.length === 1 && roleArn.value !== undefined && !roleArn.explicit;
  if (present.length === 0 || roleArnOnlyFromEnv) {
    const message = roleArnOnlyFromEnv
      ? `fromOidcTokenFile: ${ENV_ROLE_ARN} is set but neither ${ENV_OIDC_PROVIDER_ARN} nor ${ENV_OIDC_TOKEN_FILE}: not an OIDC setup`
      : `fromOidcTokenFile: ${ENV_ROLE_ARN}, ${ENV_OIDC_PROVIDER_ARN} and ${ENV_OIDC_TOKEN_FILE} are not set`;
    return failingProvider(() => new CredentialsProviderError(message, { provider: PROVIDER, tryNext: true }));
  }
  const missing = required.filter((s) => s.value === undefined);
  if (missing.length > 0) {
    const names = missing.map((s) => `${s.envName} (option ${s.optionName})`);
    const message =
      `fromOidcTokenFile: OIDC is partly configured (${present.map((s) => s.field).join(', ')}); ` +
      `missing ${names.join(' and ')}`;
    return failingProvider(() => new ConfigError(message, { provider: PROVIDER, field: missing[0]!.field }));
  }

  const path = tokenFile.value!;
  const readToken = async (): Promise<string> => {
    let text: string;
    try {
      text = await readSmallTextFile(path, MAX_TOKEN_FILE_BYTES);
    } catch (error) {
      const why = error instanceof FileReadProblem ? error.message : 'cannot be read';
      throw new ConfigError(`fromOidcTokenFile: the OIDC token file ${path} (${tokenFile.field}) ${why}`, {
        provider: PROVIDER,
        file: path,
        field: tokenFile.field,
      });
    }
    const token = text.trim();
    if (token === '') {
      throw new ConfigError(`fromOidcTokenFile: the OIDC token file ${path} (${tokenFile.field}) is empty`, {
        provider: PROVIDER,
        file: path,
        field: tokenFile.field,
      });
    }
    return token;
  };

  try {
    // Checked here so that a bad value is reported under the variable it came from.
    validateRoleArn(roleArn.value, roleArn.field);
    validateOidcProviderArn(providerArn.value, providerArn.field);
    if (sessionName.value !== undefined) validateRoleSessionName(sessionName.value, sessionName.field);
    const sts = isStsClient(options.sts) ? options.sts : { env, ...options.sts };
    return fromOidc({
      roleArn: roleArn.value!,
      oidcProviderArn: providerArn.value!,
      token: readToken,
      roleSessionName: sessionName.value,
      durationSeconds: options.durationSeconds,
      policy: options.policy,
      sts,
      cache: options.cache,
      refresh: options.refresh,
      logger: options.logger,
    });
  } catch (error) {
    // One rule for every provider: an explicit option is refused now; a value read from the
    // environment is reported by the calls (where a chain can show it beside the others).
    if (error instanceof ConfigError && typeof error.field === 'string' && error.field.startsWith('ALIBABA_CLOUD_')) {
      return failingProvider(() => error);
    }
    throw error;
  }
}

