import { createChain, failingProvider, type ChainProvider } from '../chain.js';
import type { Credentials } from '../credentials.js';
import { ConfigError, CredentialsProviderError, messageOf, saysTryNext } from '../errors.js';
import { fromCredentialsUri } from '../providers/credentials-uri.js';
import { fromEcsMetadata } from '../providers/ecs-metadata.js';
import { fromEnv, processEnv } from '../providers/env.js';
import type { RefreshingProvider } from '../refresh.js';
import type { CredentialProvider, ProviderCallOptions } from '../types.js';
import { fromCliProfile } from './cli-config.js';
import { debugLoggerFor } from './debug.js';
import { fromIniProfile } from './ini-profile.js';
import { fromOidcTokenFile } from './oidc-file.js';
import type { NodeSourceOptions } from './options.js';

/**
 * Options of {@link defaultProvider}.
 *
 * @example
 * ```ts
 * import { defaultProvider, type DefaultProviderOptions } from 'alicred/node';
 * const options: DefaultProviderOptions = {
 *   profile: 'ops',                                  // in both profile files
 *   ecsMetadata: { timeoutMs: 500, disableImdsV1: true },
 *   credentialsUri: { headers: { Authorization: 'Bearer local-vending-token' } },
 *   refresh: { advisoryWindowMs: 10 * 60_000 },
 *   logger: console,
 * };
 * const provider = defaultProvider(options);
 * provider.close();
 * ```
 */
export type DefaultProviderOptions = NodeSourceOptions & {
  /** Profile name for both profile files. Default: env ALIBABA_CLOUD_PROFILE, then the files' own default. */
  profile?: string;
  /** Options passed to the ECS metadata link (e.g. `endpoint`, `timeoutMs`). */
  ecsMetadata?: Omit<Parameters<typeof fromEcsMetadata>[0] & object, 'env' | 'logger' | 'refresh'>;
  /** Options passed to the credentials-URI link (e.g. `headers`, `timeoutMs`). */
  credentialsUri?: Omit<Parameters<typeof fromCredentialsUri>[0] & object, 'env' | 'refresh'>;
};

/** A named link of the default chain. @internal */
export type Link = { readonly name: string; readonly provider: CredentialProvider };

/**
 * The default chain, the same order as @alicloud/credentials and the other official
 * libraries, so existing setups work unchanged:
 *
 * 1. environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN)
 * 2. OIDC token file (ALIBABA_CLOUD_ROLE_ARN, _OIDC_PROVIDER_ARN, _OIDC_TOKEN_FILE; ACK RRSA)
 * 3. aliyun CLI profile (~/.aliyun/config.json; off with ALIBABA_CLOUD_CLI_PROFILE_DISABLED)
 * 4. credentials file profile (~/.alibabacloud/credentials[.ini])
 * 5. ECS instance metadata (off with ALIBABA_CLOUD_ECS_METADATA_DISABLED)
 * 6. credentials URI (only when ALIBABA_CLOUD_CREDENTIALS_URI is set)
 *
 * Links that are not configured are skipped without any request. Unlike the official
 * libraries, the chain never stays pinned to a link after a failure: it remembers the link
 * that answered (so a warm call costs what that link's cache costs), and forgets it as soon
 * as that link fails or `forceRefresh` is asked. When no link yields, the error lists each
 * link's verdict. Expiring credentials come from refreshing providers (one STS call for
 * many callers, refreshed ahead of expiry); `close()` stops their timers.
 *
 * @example
 * ```ts
 * import { defaultProvider } from 'alicred/node';
 * const provider = defaultProvider({ logger: console });
 * const creds = await provider();
 * console.log(creds.source); // e.g. 'env', 'cli-profile', 'sts:AssumeRole', 'ecs-metadata'
 * provider.close();
 * ```
 */
export function defaultProvider(options: DefaultProviderOptions = {}): ChainProvider {
  const env = options.env ?? processEnv() ?? {};
  const logger = debugLoggerFor(options.logger, env);
  const links = defaultChainLinks({ ...options, env, logger });
  return createChain(
    links.map((l) => l.provider),
    { name: 'default', linkNames: links.map((l) => l.name), rememberLastLink: true, logger },
  );
}

/**
 * The links of {@link defaultProvider}'s chain, named, in order (for `alicred doctor`, which
 * asks each one for its verdict). Never throws: a link with bad options rejects when called.
 *
 * @internal
 */
export function defaultChainLinks(options: DefaultProviderOptions = {}): Link[] {
  const env = options.env ?? processEnv() ?? {};
  const logger = debugLoggerFor(options.logger, env);
  const shared = { env, homedir: options.homedir, logger, sts: options.sts, stsCache: options.stsCache, refresh: options.refresh };
  return [
    link('env', () => fromEnv({ env })),
    link('oidc', () => fromOidcTokenFile({ env, sts: options.sts, cache: options.stsCache, refresh: options.refresh, logger })),
    link('cli-profile', () => fromCliProfile({ ...shared, profile: options.profile })),
    link('ini-profile', () => fromIniProfile({ ...shared, profile: options.profile })),
    // Off ECS the metadata address does not answer: no retries here, so the chain moves on
    // after about 2 s (token, then v1), as the official chain does. Pass ecsMetadata.retries to change.
    link('ecs-metadata', () => ecsLink(fromEcsMetadata({ retries: 0, ...options.ecsMetadata, env, logger, refresh: options.refresh }), env)),
    link('credentials-uri', () => fromCredentialsUri({ ...options.credentialsUri, env, refresh: options.refresh, logger })),
  ];
}

/**
 * Builds one link. defaultProvider() itself never throws: a link whose options are wrong
 * becomes one whose calls throw that ConfigError, which stops the chain where the link stands
 * (it is configured, but wrongly), with the same message a direct call would give.
 */
function link(name: string, make: () => CredentialProvider): Link {
  try {
    return { name, provider: make() };
  } catch (error) {
    return { name, provider: failingProvider(() => error) };
  }
}

/**
 * In the default chain, an instance metadata service that cannot be reached (or has no role
 * attached) before it ever answered means "not on ECS": try the next link. Once it has
 * answered, or when a role name is configured (ALIBABA_CLOUD_ECS_METADATA), its failures are
 * real and reported as they are, never turned into a silent switch to another identity.
 */
function ecsLink(ecs: RefreshingProvider, env: Record<string, string | undefined>): RefreshingProvider {
  let answered = false;
  async function ecsMetadataLink(callOptions?: ProviderCallOptions): Promise<Credentials> {
    try {
      const credentials = await ecs(callOptions);
      answered = true;
      return credentials;
    } catch (error) {
      const roleConfigured = Boolean(env.ALIBABA_CLOUD_ECS_METADATA?.trim());
      if (answered || roleConfigured || error instanceof ConfigError || saysTryNext(error)) {
        throw error;
      }
      throw new CredentialsProviderError(`ECS instance metadata is not available (${messageOf(error)})`, {
        provider: 'ecs-metadata',
        tryNext: true,
        cause: error,
      });
    }
  }
  return Object.assign(ecsMetadataLink, { peek: () => ecs.peek(), close: () => ecs.close() });
}
