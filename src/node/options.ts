import type { EnvLike } from '../internal/env.js';
import type { RefreshOptions } from '../refresh.js';
import type { StsClient, StsClientOptions } from '../sts/client.js';
import type { Logger } from '../types.js';

/**
 * Options every Node source accepts, so that tests (and unusual deployments) can point them at
 * a temporary HOME, an env object, a local STS emulator and a logger.
 */
export type NodeSourceOptions = {
  /** Environment variables. Default `process.env`, read at each call. */
  env?: EnvLike;
  /** Home folder for `~/.alibabacloud` and `~/.aliyun`. Default `os.homedir()`. */
  homedir?: string;
  /** Receives warnings (e.g. a profile file readable by others). Never gets a secret. */
  logger?: Logger;
  /** STS client or its options, for sources that assume roles. */
  sts?: StsClient | StsClientOptions;
  /** Options of the refresh engine for expiring results. */
  refresh?: RefreshOptions;
};
