/**
 * The options every provider takes the same way: one `logger` (the provider's own warnings
 * and the engine's, unless `refresh.logger` says otherwise) and one clock (`refresh.clock`,
 * also given to an STS client the provider creates), so a simulated clock or a logger given
 * once reaches every part.
 */
import type { RefreshOptions } from '../refresh.js';
import { createStsClient, isStsClient, type StsClient, type StsClientOptions } from '../sts/client.js';
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
  return { ...defaults, ...options.refresh, logger: options.refresh?.logger ?? options.logger ?? defaults.logger };
}

/**
 * The STS client a provider uses: the one given, or one created from the options given,
 * with the provider's logger and clock unless the options name their own.
 *
 * @internal
 */
export function stsClientFor(sts: StsClient | StsClientOptions | undefined, options: CommonProviderOptions): StsClient {
  if (isStsClient(sts)) return sts;
  return createStsClient({
    ...sts,
    logger: sts?.logger ?? options.logger ?? options.refresh?.logger,
    clock: sts?.clock ?? options.refresh?.clock,
  });
}
