/**
 * Authorization of an authenticated caller: its policy layers (user policies; role policies
 * and session policy), role trust, and the `AccessDeniedDetail` of a refusal.
 *
 * @internal
 */
import { sameName, type Caller } from './account.js';
import { evaluate, type PolicyDecision } from './policy.js';
import { fail } from './respond.js';
import type { EmulatorRole, Policy } from './types.js';

/**
 * The caller's policy layers, every one of which must allow an action (see `evaluate`):
 * a user's own policies; a session's role policies and its session policy. An omitted
 * `policies` adds no layer (everything allowed).
 */
export function policyLayers(caller: Caller): Policy[][] {
  if (caller.kind === 'user') return caller.state.user.policies ? [caller.state.user.policies] : [];
  const { session } = caller;
  const layers: Policy[][] = [];
  if (session.role.role.policies) layers.push(session.role.role.policies);
  if (session.sessionPolicy) layers.push([session.sessionPolicy]);
  return layers;
}

function principal(caller: Caller): { type: string; name: string } {
  if (caller.kind === 'user') return { type: 'SubUser', name: caller.state.user.name };
  return { type: 'AssumedRoleUser', name: `${caller.session.role.role.name}:${caller.session.sessionName}` };
}

/** Which policy refused: the session policy when the identity's own policies allow the action. */
function blamedPolicyType(caller: Caller, action: string): string {
  if (caller.kind === 'session' && caller.session.sessionPolicy !== undefined) {
    const own = caller.session.role.role.policies;
    if (own === undefined || evaluate([own], action, undefined) === 'Allow') return 'SessionPolicy';
  }
  return 'AccountLevelIdentityBasedPolicy';
}

/** The `AccessDeniedDetail` body field of a refusal. */
export function accessDeniedDetail(caller: Caller, action: string, decision: PolicyDecision, accountId: string): Record<string, unknown> {
  const p = principal(caller);
  return {
    AccessDeniedDetail: {
      AuthAction: action,
      AuthPrincipalType: p.type,
      AuthPrincipalDisplayName: p.name,
      AuthPrincipalOwnerId: accountId,
      NoPermissionType: decision,
      PolicyType: blamedPolicyType(caller, action),
    },
  };
}

/**
 * Throws `code` (403) with an `AccessDeniedDetail` unless the caller's policies allow `action`
 * on `resource` (undefined: resources not modelled).
 */
export function authorize(
  caller: Caller,
  action: string,
  resource: string | undefined,
  accountId: string,
  code: string,
  message: string,
): void {
  const decision = evaluate(policyLayers(caller), action, resource);
  if (decision !== 'Allow') fail(403, code, message, accessDeniedDetail(caller, action, decision, accountId));
}

/**
 * Whether the role's trust policy admits the caller: a trusted user (or `'*'`), a session of a
 * trusted role, or a session whose chain starts with a trusted user.
 */
export function isTrusted(role: EmulatorRole, caller: Caller): boolean {
  const trustsUser = (name: string | undefined) =>
    name !== undefined && (role.trustedUsers ?? []).some((u) => u === '*' || sameName(u, name));
  if (caller.kind === 'user') return trustsUser(caller.state.user.name);
  const { session } = caller;
  return (role.trustedRoles ?? []).some((r) => sameName(r, session.role.role.name)) || trustsUser(session.originUser);
}
