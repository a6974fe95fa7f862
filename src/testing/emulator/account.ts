/**
 * The emulated account's state: RAM users, roles, OIDC providers, and the STS sessions
 * (keys and tokens) issued so far, on the emulator clock.
 *
 * @internal
 */
import { createHash, randomBytes } from 'node:crypto';
import { signJwt } from './oidc.js';
import { DEFAULT_AUDIENCE, DEFAULT_OIDC_PROVIDER, type ResolvedOptions } from './options.js';
import type { EmulatorOidcProvider, EmulatorRole, EmulatorUser, MintOidcTokenOptions, Policy } from './types.js';

/** A RAM user and its AccessKey. */
export type UserState = { user: EmulatorUser; id: string; revoked: boolean };
/** A RAM role with its id, ARN and effective max session duration. */
export type RoleState = { role: EmulatorRole; id: string; arn: string; maxSessionDuration: number };
/** An OIDC provider with its issuer, accepted audiences and ARN. */
export type ProviderState = { provider: EmulatorOidcProvider; issuer: string; clientIds: string[]; arn: string };

/** Issued STS credentials and what they stand for. */
export type Session = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** Epoch ms on the emulator clock. */
  expiresAt: number;
  role: RoleState;
  sessionName: string;
  sessionPolicy: Policy | undefined;
  /** The RAM user at the root of the chain; undefined for OIDC sessions. */
  originUser: string | undefined;
  sourceIdentity: string | undefined;
  revoked: boolean;
};

/** An authenticated caller: a RAM user, or an STS session. */
export type Caller = { kind: 'user'; state: UserState } | { kind: 'session'; session: Session };

/** The account: lookups, issuing and revoking. */
export type Account = {
  readonly accountId: string;
  readonly usersByKey: ReadonlyMap<string, UserState>;
  /** By lower-case name. */
  readonly roles: ReadonlyMap<string, RoleState>;
  /** By lower-case name, in configuration order. */
  readonly providers: ReadonlyMap<string, ProviderState>;
  readonly sessionsByKey: ReadonlyMap<string, Session>;
  readonly sessionsByToken: ReadonlyMap<string, Session>;
  /** Key of the HS256 JWTs of every provider; private to this emulator. */
  readonly oidcKey: Buffer;
  roleArn(name: string): string;
  oidcProviderArn(name: string): string;
  /** Creates a session of `role`; `lifetime` is `duration / timeScale`, expiry on a whole second. */
  issue(role: RoleState, sessionName: string, duration: number, extra: SessionExtra, now: number): Session;
  /** Invalidates a user key or an issued one (see `Emulator.revoke`). */
  revoke(accessKeyId: string): boolean;
  /** The role of that name, created untrusted and with every permission if missing (vending roles). */
  ensureRole(name: string): RoleState;
  /** Deletes a role (see `Emulator.deleteRole`); sessions already issued stay valid. */
  deleteRole(name: string): boolean;
  /** A JWT of one of the providers (see `Emulator.mintOidcToken`). */
  mintOidcToken(mint: MintOidcTokenOptions, now: number): string;
};

/** The optional parts of a new session. */
export type SessionExtra = { sessionPolicy?: Policy | undefined; originUser?: string | undefined; sourceIdentity?: string | undefined };

/** Whether two RAM names are the same (RAM names are case-insensitive). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** UTC `yyyy-MM-ddTHH:mm:ssZ` of epoch ms (no milliseconds), as STS writes times. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A stable numeric id (users, roles) derived from a seed, starting with 1. */
function numericId(seed: string, digits: number): string {
  const n = BigInt('0x' + createHash('sha256').update(seed).digest('hex'));
  return ('1' + n.toString().padStart(digits, '0')).slice(0, digits);
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function randomBase58(length: number): string {
  let out = '';
  for (const b of randomBytes(length)) out += BASE58[b % BASE58.length];
  return out;
}

/** Builds the account from resolved options. */
export function createAccount(resolved: ResolvedOptions): Account {
  const { options, accountId, timeScale } = resolved;
  const oidcKey = randomBytes(32);
  const roleArn = (name: string) => `acs:ram::${accountId}:role/${name.toLowerCase()}`;
  const oidcProviderArn = (name: string) => `acs:ram::${accountId}:oidc-provider/${name}`;
  const roleState = (role: EmulatorRole, maxSessionDuration: number): RoleState => ({
    role,
    id: numericId(`role:${accountId}:${role.name}`, 19),
    arn: roleArn(role.name),
    maxSessionDuration,
  });

  const usersByKey = new Map<string, UserState>();
  for (const user of options.users ?? []) {
    usersByKey.set(user.accessKeyId, { user, id: numericId(`user:${accountId}:${user.name}`, 16), revoked: false });
  }
  const roles = new Map<string, RoleState>();
  for (const role of options.roles ?? []) roles.set(role.name.toLowerCase(), roleState(role, role.maxSessionDuration ?? 3600));
  // The roles of the vending endpoints exist in the account; absent from `roles`, they are
  // created untrusted (nobody can AssumeRole them) and with every permission.
  for (const name of [options.ecs?.roleName, options.credentialsUri?.roleName]) {
    if (name === undefined || roles.has(name.toLowerCase())) continue;
    roles.set(name.toLowerCase(), roleState({ name }, 43200));
  }
  const providers = new Map<string, ProviderState>();
  for (const provider of options.oidcProviders ?? [{ name: DEFAULT_OIDC_PROVIDER }]) {
    providers.set(provider.name.toLowerCase(), {
      provider,
      issuer: provider.issuerUrl ?? `https://oidc.emulator.invalid/${provider.name}`,
      clientIds: provider.clientIds ?? [DEFAULT_AUDIENCE],
      arn: oidcProviderArn(provider.name),
    });
  }
  const sessionsByKey = new Map<string, Session>();
  const sessionsByToken = new Map<string, Session>();

  function issue(role: RoleState, sessionName: string, duration: number, extra: SessionExtra, now: number): Session {
    const lifetimeMs = (duration * 1000) / timeScale;
    let expiresAt = Math.floor((now + lifetimeMs) / 1000) * 1000;
    if (expiresAt <= now) expiresAt = Math.ceil((now + lifetimeMs) / 1000) * 1000;
    let accessKeyId: string;
    do accessKeyId = `STS.${randomBase58(25)}`;
    while (sessionsByKey.has(accessKeyId));
    const session: Session = {
      accessKeyId,
      accessKeySecret: randomBase58(44),
      securityToken: `CAIS${randomBytes(330).toString('base64')}`,
      expiresAt,
      role,
      sessionName,
      sessionPolicy: extra.sessionPolicy,
      originUser: extra.originUser,
      sourceIdentity: extra.sourceIdentity,
      revoked: false,
    };
    sessionsByKey.set(accessKeyId, session);
    sessionsByToken.set(session.securityToken, session);
    return session;
  }

  function revoke(accessKeyId: string): boolean {
    const user = usersByKey.get(accessKeyId);
    if (user !== undefined && !user.revoked) return (user.revoked = true);
    const session = sessionsByKey.get(accessKeyId);
    if (session !== undefined && !session.revoked) return (session.revoked = true);
    return false;
  }

  function mintOidcToken(mint: MintOidcTokenOptions, now: number): string {
    const providerName = mint.providerName ?? [...providers.values()][0]?.provider.name;
    const provider = providerName === undefined ? undefined : providers.get(providerName.toLowerCase());
    if (provider === undefined) {
      throw new TypeError(`mintOidcToken: unknown OIDC provider ${JSON.stringify(mint.providerName ?? '(none configured)')}`);
    }
    if (typeof mint.subject !== 'string' || mint.subject === '') throw new TypeError('mintOidcToken: subject is required');
    const nowSeconds = Math.floor(now / 1000);
    return signJwt(
      {
        iss: provider.issuer,
        sub: mint.subject,
        aud: mint.audience ?? provider.clientIds[0] ?? DEFAULT_AUDIENCE,
        iat: nowSeconds,
        exp: nowSeconds + Math.round(mint.expiresInSeconds ?? 3600),
      },
      oidcKey,
    );
  }

  function ensureRole(name: string): RoleState {
    let role = roles.get(name.toLowerCase());
    if (role === undefined) roles.set(name.toLowerCase(), (role = roleState({ name }, 43200)));
    return role;
  }

  return {
    accountId,
    usersByKey,
    ensureRole,
    deleteRole: (name: string) => roles.delete(name.toLowerCase()),
    roles,
    providers,
    sessionsByKey,
    sessionsByToken,
    oidcKey,
    roleArn,
    oidcProviderArn,
    issue,
    revoke,
    mintOidcToken,
  };
}
