/**
 * Checking {@link EmulatorOptions} and filling in their defaults.
 *
 * @internal
 */
import { corsOptionsProblem } from './cors.js';
import { DEFAULT_PRODUCTS } from './iot.js';
import { vendingOptionsProblem } from './metadata.js';
import { policyGrammarError } from './policy.js';
import { SIGNIN_DEFAULTS, signInOptionsProblem } from './signin.js';
import type { EmulatorCloudSsoOptions, EmulatorOAuthOptions, EmulatorOptions, EmulatorProduct, Policy } from './types.js';

/** Account id of every ARN when `accountId` is not given. */
export const DEFAULT_ACCOUNT_ID = '1234567890123456';
/** The one OIDC provider that exists when `oidcProviders` is omitted. */
export const DEFAULT_OIDC_PROVIDER = 'emulator-oidc';
/** Default client id (audience) of an OIDC provider. */
export const DEFAULT_AUDIENCE = 'sts.aliyuncs.com';

/** Options with their defaults applied. */
export type ResolvedOptions = {
  options: EmulatorOptions;
  accountId: string;
  /** Epoch ms on the emulator clock. */
  clock: () => number;
  timeScale: number;
  maxSkewMs: number;
  products: readonly EmulatorProduct[];
  /** `cloudSso` with its defaults; undefined when not given. */
  cloudSso: Required<EmulatorCloudSsoOptions> | undefined;
  /** `oauth` with its defaults; undefined when not given. */
  oauth: Required<EmulatorOAuthOptions> | undefined;
  /** `cors`, copied; undefined when not given (no CORS header is sent). */
  cors: { allowOrigins: readonly string[] } | undefined;
};

/**
 * Throws a `TypeError` (`startEmulator: ...`) for the first inconsistency in `options`:
 * malformed ids, duplicate names or keys, trust in unknown principals, bad policies,
 * durations or vending options.
 */
export function validateOptions(options: EmulatorOptions): void {
  const err = (message: string): never => {
    throw new TypeError(`startEmulator: ${message}`);
  };
  if (options.accountId !== undefined && !/^\d{1,32}$/.test(options.accountId)) err('accountId must be digits');
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port <= 65535)) {
    err('port must be an integer in 0..65535');
  }
  if (options.timeScale !== undefined && !(Number.isFinite(options.timeScale) && options.timeScale >= 1)) {
    err('timeScale must be a finite number >= 1');
  }
  if (options.maxSkewSeconds !== undefined && !(options.maxSkewSeconds > 0)) err('maxSkewSeconds must be > 0');
  const checkPolicies = (owner: string, policies: Policy[] | undefined) => {
    for (const [i, p] of (policies ?? []).entries()) {
      const problem = policyGrammarError(p);
      if (problem !== undefined) err(`${owner}.policies[${i}]: ${problem}`);
    }
  };
  const userNames = new Set<string>();
  const keyIds = new Set<string>();
  for (const u of options.users ?? []) {
    if (!u.name || !u.accessKeyId || !u.accessKeySecret) err('every user needs name, accessKeyId and accessKeySecret');
    if (u.accessKeyId.startsWith('STS.')) err(`user ${u.name}: an AccessKeyId starting with "STS." is reserved for issued credentials`);
    if (userNames.has(u.name.toLowerCase())) err(`duplicate user name ${u.name}`);
    if (keyIds.has(u.accessKeyId)) err(`duplicate accessKeyId ${u.accessKeyId}`);
    userNames.add(u.name.toLowerCase());
    keyIds.add(u.accessKeyId);
    checkPolicies(`user ${u.name}`, u.policies);
  }
  const providerNames = new Set<string>();
  for (const p of options.oidcProviders ?? []) {
    if (!p.name) err('every OIDC provider needs a name');
    if (providerNames.has(p.name.toLowerCase())) err(`duplicate OIDC provider ${p.name}`);
    providerNames.add(p.name.toLowerCase());
  }
  if (options.oidcProviders === undefined) providerNames.add(DEFAULT_OIDC_PROVIDER);
  const roleNames = new Set((options.roles ?? []).map((r) => r.name.toLowerCase()));
  if (roleNames.size !== (options.roles ?? []).length) err('duplicate role name');
  for (const r of options.roles ?? []) {
    if (!r.name || !/^[A-Za-z0-9.-]{1,64}$/.test(r.name)) err(`invalid role name ${JSON.stringify(r.name)}`);
    const max = r.maxSessionDuration;
    if (max !== undefined && !(Number.isInteger(max) && max >= 3600 && max <= 43200)) {
      err(`role ${r.name}: maxSessionDuration must be an integer in 3600..43200`);
    }
    for (const u of r.trustedUsers ?? []) if (u !== '*' && !userNames.has(u.toLowerCase())) err(`role ${r.name} trusts unknown user ${u}`);
    for (const t of r.trustedRoles ?? []) if (!roleNames.has(t.toLowerCase())) err(`role ${r.name} trusts unknown role ${t}`);
    for (const p of r.trustedOidcProviders ?? []) {
      if (!providerNames.has(p.toLowerCase())) err(`role ${r.name} trusts unknown OIDC provider ${p}`);
    }
    checkPolicies(`role ${r.name}`, r.policies);
  }
  const vendingProblem = vendingOptionsProblem(options.ecs, options.credentialsUri);
  if (vendingProblem !== undefined) err(vendingProblem);
  const accountRoles = new Set([...roleNames, ...[options.ecs?.roleName, options.credentialsUri?.roleName].flatMap((n) => (n ? [n.toLowerCase()] : []))]);
  const signInProblem = signInOptionsProblem(options, accountRoles);
  if (signInProblem !== undefined) err(signInProblem);
  const corsProblem = corsOptionsProblem(options.cors);
  if (corsProblem !== undefined) err(corsProblem);
}

/** Validates `options` (see {@link validateOptions}) and applies the defaults. */
export function resolveOptions(options: EmulatorOptions): ResolvedOptions {
  validateOptions(options);
  return {
    options,
    accountId: options.accountId ?? DEFAULT_ACCOUNT_ID,
    // Read Date.now at each call, so fake timers installed later still drive the default clock.
    clock: options.clock ?? (() => Date.now()),
    timeScale: options.timeScale ?? 1,
    maxSkewMs: (options.maxSkewSeconds ?? 900) * 1000,
    products: options.products ?? DEFAULT_PRODUCTS,
    cloudSso: options.cloudSso && {
      assignments: options.cloudSso.assignments.map((a) => ({ ...a })),
      durationSeconds: options.cloudSso.durationSeconds ?? SIGNIN_DEFAULTS.stsSeconds,
    },
    oauth: options.oauth && {
      role: options.oauth.role,
      accessTokenSeconds: options.oauth.accessTokenSeconds ?? SIGNIN_DEFAULTS.accessTokenSeconds,
      refreshTokenSeconds: options.oauth.refreshTokenSeconds ?? SIGNIN_DEFAULTS.refreshTokenSeconds,
      durationSeconds: options.oauth.durationSeconds ?? SIGNIN_DEFAULTS.stsSeconds,
      rotateRefreshTokens: options.oauth.rotateRefreshTokens ?? true,
      exchangeCase: options.oauth.exchangeCase ?? 'camel',
    },
    cors: options.cors && { allowOrigins: [...options.cors.allowOrigins] },
  };
}
