/**
 * The options every provider takes the same way: one `logger` (the provider's own warnings
 * and the engine's, unless `refresh.logger` says otherwise) and one clock (`refresh.clock`,
 * also given to an STS client the provider creates), so a simulated clock or a logger given
 * once reaches every part.
 */
import { ConfigError } from '../errors.js';
import type { RefreshOptions } from '../refresh.js';
import { processEnv } from '../internal/env.js';
import { isStsClient, type StsClient, type StsClientOptions } from '../sts/api.js';
import { resolveStsEndpoint } from '../sts/endpoints.js';
import type { Logger } from '../types.js';

/** Options shared by the providers. */
export type CommonProviderOptions = {
  /** Receives warnings (never secrets); also the engine's logger unless `refresh.logger` is set. */
  logger?: Logger;
  /** Options of the refresh engine (windows, retries, clock...). */
  refresh?: RefreshOptions;
};

/**
 * The engine options of a provider: its defaults, then `refresh`, with the top-level logger.
 *
 * @internal
 */
export function engineOptions(options: CommonProviderOptions, defaults: RefreshOptions): RefreshOptions {
  const merged: RefreshOptions = { ...defaults, ...options.refresh };
  const logger = options.refresh?.logger ?? options.logger ?? defaults.logger;
  // No `logger: undefined` key: every provider keeps this object, and a key is 8 bytes.
  if (logger !== undefined) merged.logger = logger;
  return merged;
}

/** What makes a client from options: the full client, or one of only the operations a provider calls. */
type ClientMaker<C> = (options: StsClientOptions) => C;
/** Clients made for one options object (or for none), by maker, logger, clock and endpoint. */
type SharedClient = { client: unknown; make: ClientMaker<unknown>; logger: Logger | undefined; clock: (() => number) | undefined; endpoint: string };
const sharedClients = new WeakMap<object, SharedClient[]>();
/** The key for providers given no STS options at all. */
const NO_OPTIONS = {};
/** Distinct loggers or clocks per options object beyond this get their own, unshared client. */
const MAX_SHARED_PER_KEY = 8;

/**
 * The STS client a provider uses: the one given, or one `make` creates from the options
 * given, with the provider's logger and clock unless the options name their own. `make`
 * builds a client of only the operations the provider calls (createAssumeRoleClient...), so
 * a bundle carries no other. Providers made with the same options object (or none), maker,
 * logger, clock and resolved endpoint share one client: a provider per tenant or per
 * request then costs no client of its own.
 *
 * @internal
 */
export function stsClientFor<C extends Partial<StsClient> & { readonly endpoint: string }>(
  sts: StsClient | StsClientOptions | undefined,
  options: CommonProviderOptions,
  make: ClientMaker<C>,
  needs: keyof StsClient,
  provider: string,
): C {
  if (isStsClient(sts)) {
    if (typeof sts[needs] !== 'function') {
      throw new ConfigError(`${provider}: sts has no ${needs} method (pass createStsClient() or its options)`, {
        provider,
        field: 'sts',
      });
    }
    return sts as C;
  }
  const logger = sts?.logger ?? options.logger ?? options.refresh?.logger;
  const clock = sts?.clock ?? options.refresh?.clock;
  // The endpoint depends on the environment at this moment: a client is shared only while it agrees.
  const endpoint = resolveStsEndpoint(sts ?? {}, sts?.env ?? processEnv() ?? {}).url;
  const key: object = sts ?? NO_OPTIONS;
  const shared = sharedClients.get(key) ?? [];
  const hit = shared.find((s) => s.make === make && s.logger === logger && s.clock === clock && s.endpoint === endpoint);
  if (hit) return hit.client as C;
  const client = make({ ...sts, logger, clock });
  if (shared.length < MAX_SHARED_PER_KEY) {
    shared.push({ client, make, logger, clock, endpoint: client.endpoint });
    sharedClients.set(key, shared);
  }
  return client;
}
