/**
 * RAM policy grammar check and evaluation for the emulator.
 *
 * @internal
 */
import type { Policy, PolicyStatement } from './types.js';

/** Result of evaluating a set of policy layers. */
export type PolicyDecision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const globCache = new Map<string, RegExp>();

/** Case-insensitive glob match: `*` matches any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (re === undefined) {
    const source = pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    re = new RegExp(`^${source}$`, 'is');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re.test(value);
}

function asList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

function statementApplies(statement: PolicyStatement, action: string, resource: string | undefined): boolean {
  const actions = asList(statement.Action) ?? [];
  if (!actions.some((pattern) => globMatch(pattern, action))) return false;
  if (resource === undefined) return true;
  const resources = asList(statement.Resource);
  if (resources === undefined) return true;
  return resources.some((pattern) => globMatch(pattern, resource));
}

/**
 * Evaluates `action` on `resource` (undefined: resources are not modelled) against layers
 * of policies. Each layer is a set of policies (e.g. the role's, then the session policy);
 * the request is allowed only when every layer allows it and no layer denies it. Zero
 * layers allow everything.
 */
export function evaluate(layers: readonly (readonly Policy[])[], action: string, resource: string | undefined): PolicyDecision {
  let allowedEverywhere = true;
  for (const layer of layers) {
    let allowed = false;
    for (const policy of layer) {
      for (const statement of policy.Statement) {
        if (!statementApplies(statement, action, resource)) continue;
        if (statement.Effect === 'Deny') return 'ExplicitDeny';
        allowed = true;
      }
    }
    if (!allowed) allowedEverywhere = false;
  }
  return allowedEverywhere ? 'Allow' : 'ImplicitDeny';
}

function isStringOrStringList(value: unknown, allowEmpty: boolean): value is string | string[] {
  if (typeof value === 'string') return value.length > 0;
  return (
    Array.isArray(value) && (allowEmpty || value.length > 0) && value.every((v) => typeof v === 'string' && v.length > 0)
  );
}

/** Grammar check of a policy document (already parsed). Returns a reason when it is invalid. */
export function policyGrammarError(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return 'the policy must be a JSON object';
  const doc = document as Record<string, unknown>;
  if (doc.Version !== undefined && doc.Version !== '1') return 'Version must be "1"';
  const statements = doc.Statement;
  if (!Array.isArray(statements) || statements.length === 0) return 'Statement must be a non-empty array';
  for (const [i, raw] of statements.entries()) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `Statement[${i}] must be an object`;
    const s = raw as Record<string, unknown>;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return `Statement[${i}].Effect must be "Allow" or "Deny"`;
    if (!isStringOrStringList(s.Action, false)) return `Statement[${i}].Action must be a string or a non-empty string array`;
    if (s.Resource !== undefined && !isStringOrStringList(s.Resource, false)) {
      return `Statement[${i}].Resource must be a string or a non-empty string array`;
    }
  }
  return undefined;
}

/** Parses and checks a session policy (the `Policy` request parameter). */
export function parseSessionPolicy(text: string): { policy: Policy } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'not valid JSON' };
  }
  const error = policyGrammarError(parsed);
  if (error !== undefined) return { error };
  return { policy: parsed as Policy };
}
