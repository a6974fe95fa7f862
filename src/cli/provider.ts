/**
 * The credentials a command works with: the default chain (`--profile P` means what
 * `defaultProvider({ profile: P })` means), optionally with a role assumed on top of it
 * (`--role-arn`), remembering which link of the chain answered.
 *
 * @internal
 */
import { createChain } from '../chain.js';
import type { Credentials } from '../credentials.js';
import { ConfigError } from '../errors.js';
import type { EnvLike } from '../internal/env.js';
import { fromRamRole } from '../providers/ram-role.js';
import type { CredentialProvider, Logger, ProviderCallOptions } from '../types.js';
import { defaultChainLinks } from '../node/default.js';
import { UsageError } from './output.js';

/** What a command asked for. */
export type IdentityRequest = { profile?: string | undefined; roleArn?: string | undefined; env: EnvLike; logger: Logger };

/** A provider of the command, with where its credentials came from. */
export type CommandProvider = CredentialProvider & {
  /** The default chain's link that answered last (`env`, `cli-profile`…), once one has. */
  link(): string | undefined;
  /** Stops every timer. */
  close(): void;
};

/**
 * Builds the provider: the default chain's links (those of `defaultProvider`) in a chain of
 * their own that notes which link answered, then `fromRamRole` on top when a role is asked
 * for. A malformed `--role-arn` is a usage error.
 */
export function commandProvider(request: IdentityRequest): CommandProvider {
  const { env, logger } = request;
  const links = defaultChainLinks({ profile: request.profile, env, logger });
  let answered: string | undefined;
  const noted = links.map(({ name, provider }) => {
    const wrapped = async (options?: ProviderCallOptions): Promise<Credentials> => {
      const credentials = await provider(options);
      answered = name;
      return credentials;
    };
    return Object.assign(wrapped, {
      close: () => (provider as { close?: () => void }).close?.(),
      peek: () => (provider as { peek?: () => Credentials | undefined }).peek?.(),
    });
  });
  const chain = createChain(noted, { name: 'default', linkNames: links.map((l) => l.name), rememberLastLink: true, logger });
  let provider: CredentialProvider & { close(): void } = chain;
  if (request.roleArn !== undefined) {
    try {
      provider = fromRamRole({ source: chain, roleArn: request.roleArn, roleSessionName: 'alicred-cli', logger });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`--role-arn: ${error.message}`);
      throw error;
    }
  }
  const call = (options?: ProviderCallOptions): Promise<Credentials> => provider(options);
  return Object.assign(call, {
    link: () => answered,
    close: () => {
      provider.close();
      chain.close();
    },
  });
}

/** True for temporary credentials (an STS token and an expiration): what a vending endpoint may hand out. */
export function isTemporary(credentials: Credentials): boolean {
  return credentials.securityToken !== undefined && credentials.securityToken !== '' && credentials.expiration !== undefined;
}

/** Where credentials came from, for people: `cli-profile (source cli-profile)`, `sts:AssumeRole on top of env`. */
export function describeSource(credentials: Credentials, link: string | undefined, roleArn: string | undefined): string {
  if (roleArn !== undefined) return `${credentials.source} (role ${roleArn}, assumed with credentials from the ${link ?? 'default chain'} link)`;
  if (link === undefined || link === credentials.source) return credentials.source;
  return `${link} (source ${credentials.source})`;
}
