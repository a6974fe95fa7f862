/**
 * From a resolved profile to a provider: the plain-data {@link ProfileSpec} both profile
 * sources produce, {@link buildSpec} (which gives every configuration error of the built
 * providers the file, profile and line it comes from, at build and at call time) and the
 * memo that keeps one provider per distinct configuration.
 *
 * Node only. Nothing here ever puts a secret in a message.
 *
 * @module
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { ConfigError, isCredentialsError } from '../errors.js';
import type { EnvLike } from '../internal/env.js';
import { fromCredentialsUri } from '../providers/credentials-uri.js';
import { fromEcsMetadata } from '../providers/ecs-metadata.js';
import { fromRamRole } from '../providers/ram-role.js';
import { fromStatic } from '../providers/static.js';
import type { RefreshingProvider, RefreshOptions } from '../refresh.js';
import { isStsClient, type StsClient, type StsClientOptions } from '../sts/client.js';
import type { CredentialProvider, ProviderCallOptions } from '../types.js';
import { fromOidcTokenFile } from './oidc-file.js';
import type { NodeSourceOptions } from './options.js';
import { fromProcess } from './process.js';
import { fromCliSignIn, type SignInSpec } from './cli-signin.js';

/**
 * The most role assumptions one profile may chain (`source_profile` links followed). Real
 * chains have two or three; each hop is one STS call, made in turn at every refresh, and a
 * provider tree thousands deep would exhaust the stack.
 */
export const MAX_ROLE_CHAIN_HOPS = 16;


/** STS endpoint settings a profile may carry (`sts_endpoint`, `sts_region`, `enable_vpc`). */
export type StsOverrides = { endpoint?: string; region?: string; vpc?: boolean };

/**
 * What a profile resolves to: plain data, without functions, so that its JSON (hashed)
 * identifies the provider to build. `static` carries secrets: only its digest is ever kept.
 */
export type ProfileSpec =
  | { kind: 'static'; accessKeyId: string; accessKeySecret: string; securityToken?: string }
  | {
      kind: 'ram-role';
      source: ProfileSpec;
      roleArn: string;
      roleSessionName?: string;
      policy?: string;
      durationSeconds?: number;
      externalId?: string;
      sts: StsOverrides;
    }
  | { kind: 'ecs'; roleName?: string }
  | {
      kind: 'oidc';
      roleArn: string;
      oidcProviderArn: string;
      tokenFile: string;
      roleSessionName?: string;
      policy?: string;
      durationSeconds?: number;
      sts: StsOverrides;
    }
  | { kind: 'uri'; uri: string }
  | { kind: 'process'; command: string }
  | SignInSpec;

/**
 * Where a spec field came from in the file, for errors: the profile key and its line, or
 * undefined when the field is not a key of the profile.
 */
export type Locate = (field: string) => { field: string; line: number | undefined } | undefined;

/** A built provider and everything it created that needs closing. */
type Built = { provider: CredentialProvider; closers: { close(): void }[] };

/**
 * Context for {@link buildSpec}: who builds (for the credentials' source and errors), from
 * which file and profile, and the source's options.
 */
export type BuildContext = {
  /** `ini-profile` or `cli-profile`: the provider name and credentials source of static keys. */
  provider: string;
  file: string;
  /** The profile that holds each spec (for ChainableRamRoleArn, each link's own). */
  describe: string;
  /** Line of the profile itself (its header or name), for errors about no key of it. */
  line: number | undefined;
  locate: Locate;
  options: NodeSourceOptions;
  env: EnvLike;
};

/** Spec fields that stand for every setting of a provider made from one value. */
const OWNING_FIELD: Partial<Record<ProfileSpec['kind'], string>> = { process: 'command', uri: 'uri' };

/** A ConfigError from any copy of alicred (ConfigError's `instanceof` checks the brand). */
function isConfigError(error: unknown): error is ConfigError {
  return isCredentialsError(error) && error instanceof ConfigError;
}

/** The message without its `fromX: ` and `field: ` prefixes nor `(field)` (the context says them). */
function innerMessage(error: ConfigError): string {
  let message = error.message.replace(/^(?:from[A-Za-z]+|sts|refreshing): /, '');
  const prefix = `${error.field ?? ''}: `;
  if (error.field !== undefined && message.startsWith(prefix)) message = message.slice(prefix.length);
  // `the OIDC token file /x (tokenFile) does not exist`: the option's name means nothing here.
  if (error.field !== undefined) message = message.split(` (${error.field})`).join('');
  return message;
}

/**
 * A ConfigError of a provider built from a profile, restated with the file, the profile,
 * the key and its line. Errors already stated by the profile source (`provider` is its
 * name) and other errors pass through.
 */
function attribute(error: unknown, own: BuildContext, kind: ProfileSpec['kind']): unknown {
  if (!isConfigError(error) || error.provider === own.provider) return error;
  const owning = OWNING_FIELD[kind];
  const where = (owning !== undefined ? own.locate(owning) : undefined) ?? own.locate(error.field ?? '');
  const field = where?.field ?? error.field;
  const line = where ? where.line : own.line;
  const at = line === undefined ? '' : ` (line ${line})`;
  const what = field === undefined ? `line ${line ?? '?'}` : `${field}${at}`;
  return new ConfigError(`${own.provider}: ${own.describe} in ${own.file}: ${what}: ${innerMessage(error)}`, {
    provider: own.provider,
    file: own.file,
    line,
    field,
    cause: error,
  });
}

/** `provider`, with the ConfigErrors it throws when called restated by {@link attribute}. */
function attributed(provider: RefreshingProvider, own: BuildContext, kind: ProfileSpec['kind']): CredentialProvider {
  const onError = (error: unknown): never => {
    throw attribute(error, own, kind);
  };
  const wrapped = (options?: ProviderCallOptions) => provider(options).catch(onError);
  return Object.assign(wrapped, { peek: () => provider.peek(), close: () => provider.close() });
}

/**
 * Builds the provider of a spec. Configuration errors of the underlying providers (a role
 * ARN that is not one, a duration out of range, an unreadable token file, a helper's bad
 * output), thrown while building or later while called, are restated as ConfigErrors naming
 * the file, the profile, the key and its line. `nested` gives specs from other profiles
 * (the links of a ChainableRamRoleArn) their own context, so that an error names the right
 * profile. A role chain is built from its innermost link outwards, without recursion.
 */
export function buildSpec(spec: ProfileSpec, ctx: BuildContext, nested: Map<ProfileSpec, BuildContext> = new Map()): Built {
  const links: Extract<ProfileSpec, { kind: 'ram-role' }>[] = [];
  let leaf = spec;
  while (leaf.kind === 'ram-role') {
    links.push(leaf);
    // Resolvers cap chains already; this guards the stack against any other spec.
    if (links.length > MAX_ROLE_CHAIN_HOPS + 1) {
      throw new ConfigError(`${ctx.provider}: ${ctx.describe} in ${ctx.file}: a role chain longer than ${MAX_ROLE_CHAIN_HOPS} hops`, {
        provider: ctx.provider,
        file: ctx.file,
        line: ctx.line,
      });
    }
    leaf = leaf.source;
  }
  let built = buildOne(leaf, nested.get(leaf) ?? ctx, undefined);
  try {
    for (let i = links.length - 1; i >= 0; i--) built = buildOne(links[i]!, nested.get(links[i]!) ?? ctx, built);
  } catch (error) {
    for (const c of built.closers) c.close(); // the inner links built so far
    throw error;
  }
  return built;
}

/** One provider; a role's `source` is already built. */
function buildOne(spec: ProfileSpec, own: BuildContext, source: Built | undefined): Built {
  const refresh: RefreshOptions | undefined =
    own.options.logger && !own.options.refresh?.logger ? { ...own.options.refresh, logger: own.options.logger } : own.options.refresh;
  try {
    switch (spec.kind) {
      case 'static': {
        // Validated like fromStatic, labelled with this source's name.
        fromStatic(spec);
        const credentials: Credentials = createCredentials({ ...spec, source: own.provider });
        const provider: CredentialProvider = async () => credentials;
        return { provider, closers: [] };
      }
      case 'ram-role': {
        const provider = fromRamRole({
          source: source!.provider,
          roleArn: spec.roleArn,
          roleSessionName: spec.roleSessionName,
          policy: spec.policy,
          durationSeconds: spec.durationSeconds,
          externalId: spec.externalId,
          sts: stsFor(own.options.sts, spec.sts, own.env),
          cache: own.options.stsCache,
          refresh,
          logger: own.options.logger,
        });
        return { provider: attributed(provider, own, spec.kind), closers: [...source!.closers, provider] };
      }
      case 'ecs': {
        const provider = fromEcsMetadata({ roleName: spec.roleName, env: own.env, logger: own.options.logger, refresh });
        return { provider: attributed(provider, own, spec.kind), closers: [provider] };
      }
      case 'oidc': {
        const provider = fromOidcTokenFile({
          roleArn: spec.roleArn,
          oidcProviderArn: spec.oidcProviderArn,
          tokenFile: spec.tokenFile,
          roleSessionName: spec.roleSessionName,
          policy: spec.policy,
          durationSeconds: spec.durationSeconds,
          sts: stsFor(own.options.sts, spec.sts, own.env),
          cache: own.options.stsCache,
          refresh,
          logger: own.options.logger,
          env: own.env,
        });
        return { provider: attributed(provider, own, spec.kind), closers: [provider] };
      }
      case 'uri': {
        const provider = fromCredentialsUri({ uri: spec.uri, env: own.env, refresh, logger: own.options.logger });
        return { provider: attributed(provider, own, spec.kind), closers: [provider] };
      }
      case 'process': {
        // The env option is the command's whole environment: only an explicit one is passed on.
        const provider = fromProcess({ command: spec.command, env: own.options.env, logger: own.options.logger, refresh });
        return { provider: attributed(provider, own, spec.kind), closers: [provider] };
      }
      case 'cloud-sso':
      case 'oauth': {
        if (spec.kind === 'oauth' && spec.siteType !== undefined && !/^(cn|intl)$/i.test(spec.siteType)) {
          throw new ConfigError(`${own.provider}: ${own.describe} in ${own.file}: oauth_site_type must be CN or INTL`, {
            provider: own.provider,
            file: own.file,
            line: own.locate('siteType')?.line ?? own.line,
            field: 'oauth_site_type',
          });
        }
        const provider = fromCliSignIn(spec, { file: own.file, options: { ...own.options, refresh } });
        return { provider: attributed(provider, own, spec.kind), closers: [provider] };
      }
    }
  } catch (error) {
    throw attribute(error, own, spec.kind);
  }
}

/** Removes undefined members (the spec's JSON, hence its digest, must not depend on them). */
export function compact<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * SHA-256 of the spec's JSON: the memo key, which never holds the secret itself. WebCrypto,
 * not node:crypto: importing alicred/node then loads no crypto module until a profile is read.
 */
export async function specDigest(spec: ProfileSpec): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(spec)));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * StsClient options for a profile: the caller's options, with the profile's endpoint
 * settings (when it has any) replacing theirs. An StsClient instance passed by the caller is
 * used as is (the caller built it on purpose); the env defaults to the source's env.
 */
export function stsFor(base: StsClient | StsClientOptions | undefined, overrides: StsOverrides, env: EnvLike): StsClient | StsClientOptions {
  if (isStsClient(base)) return base;
  const options: StsClientOptions = { ...base, env: base?.env ?? env };
  if (overrides.endpoint !== undefined || overrides.region !== undefined || overrides.vpc !== undefined) {
    delete options.endpoint;
    delete options.region;
    delete options.vpc;
    if (overrides.endpoint !== undefined) options.endpoint = overrides.endpoint;
    if (overrides.region !== undefined) options.region = overrides.region;
    if (overrides.vpc !== undefined) options.vpc = overrides.vpc;
  }
  return options;
}

/**
 * Providers built from profiles, one per distinct resolved configuration, reused across
 * calls so that the refresh engine's cache works. Keyed by slot (file + profile): when the
 * profile's content changes, the previous provider is closed (its timer stopped) and
 * replaced.
 */
export class ProviderMemo {
  private readonly slots = new Map<string, { digest: string; built: Built }>();
  private last: { provider: CredentialProvider; credentials: Credentials } | undefined;

  /** The provider for `slot` whose configuration digests to `digest`, built at most once. */
  get(slot: string, digest: string, build: () => Built): CredentialProvider {
    const current = this.slots.get(slot);
    if (current && current.digest === digest) return current.built.provider;
    const built = build();
    if (current) for (const c of current.built.closers) c.close();
    this.slots.set(slot, { digest, built });
    return built.provider;
  }

  /** Calls `provider` and remembers it and its answer for {@link peek}. */
  async call(provider: CredentialProvider, options: ProviderCallOptions | undefined): Promise<Credentials> {
    const credentials = await provider(options);
    this.last = { provider, credentials };
    return credentials;
  }

  /** The last answer if still usable: the refreshing provider's own peek, or keys that never expire. */
  peek(): Credentials | undefined {
    const last = this.last;
    if (!last) return undefined;
    const p = last.provider as Partial<RefreshingProvider>;
    if (typeof p.peek === 'function') return p.peek();
    return last.credentials.expiration === undefined ? last.credentials : undefined;
  }

  /** Stops every timer of every provider built so far. */
  close(): void {
    for (const { built } of this.slots.values()) for (const c of built.closers) c.close();
  }
}
