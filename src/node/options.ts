import type { StsCache } from '../cache.js';
import type { EnvLike } from '../internal/env.js';
import type { RefreshOptions } from '../refresh.js';
import type { StsClient, StsClientOptions } from '../sts/client.js';
import type { Logger } from '../types.js';

/**
 * Options every Node source accepts, so that tests (and unusual deployments) can point them at
 * a temporary HOME, an env object, a local STS emulator and a logger.
 *
 * @example
 * ```ts
 * import { mkdtempSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { fromIniProfile, type NodeSourceOptions } from 'alicred/node';
 * // A test that must not see the developer's own ~/.alibabacloud or environment:
 * const isolated: NodeSourceOptions = {
 *   homedir: mkdtempSync(join(tmpdir(), 'alicred-test-')),
 *   env: {},
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator
 *   logger: console,
 * };
 * const provider = fromIniProfile(isolated);
 * await provider().catch((e: Error) => console.log(e.message)); // no credentials file in that HOME
 * ```
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
  /**
   * Where role profiles (RamRoleArn, ChainableRamRoleArn, OIDC) share their STS results, e.g.
   * a fleet cache `createStsCache({ store })`; `false` for none. Default: the process-wide one.
   */
  stsCache?: StsCache | false;
  /** Options of the refresh engine for expiring results. */
  refresh?: RefreshOptions;
};
