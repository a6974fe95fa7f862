/**
 * The aliyun CLI's mode names, shared by the CLI config source (every mode of a profile)
 * and the process source (the modes an External-mode helper may print, and which other
 * values are safe to name in a message).
 *
 * @module
 */

/** Every mode the aliyun CLI knows, in its own order. */
export const CLI_MODES = [
  'AK',
  'StsToken',
  'RamRoleArn',
  'EcsRamRole',
  'ChainableRamRoleArn',
  'OIDC',
  'External',
  'CredentialsURI',
  'RsaKeyPair',
  'RamRoleArnWithRoleName',
  'CloudSSO',
  'OAuth',
  'BearerToken',
  'Anonymous',
] as const;

/** A mode of the aliyun CLI. */
export type CliMode = (typeof CLI_MODES)[number];

const MODE_BY_LOWER = new Map<string, CliMode>(CLI_MODES.map((m) => [m.toLowerCase(), m]));

/** The mode a string names, matched case-insensitively (as the CLI's `NormalizeMode`), else undefined. */
export function cliMode(raw: string): CliMode | undefined {
  return MODE_BY_LOWER.get(raw.trim().toLowerCase());
}
