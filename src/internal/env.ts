/**
 * Reading environment variables the same way everywhere: a value counts only when it is a
 * string with something besides whitespace, and is used trimmed.
 *
 * Universal code: `process` is only looked up through `globalThis`.
 *
 * @internal
 */

/**
 * An environment: `process.env` in Node, the `env` binding in a Worker, any plain object.
 *
 * @example
 * ```ts
 * import { fromEnv, type EnvLike } from 'alicred';
 * // A Worker's bindings, or a test's own environment instead of process.env:
 * const env: EnvLike = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5t...', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's3cr3t' };
 * const creds = await fromEnv({ env })();
 * ```
 */
export type EnvLike = Readonly<Record<string, string | undefined>>;

/** The process environment when the runtime has one (Node, Bun, Deno with compat), else undefined. */
export function processEnv(): EnvLike | undefined {
  const proc = (globalThis as { process?: { env?: EnvLike } }).process;
  return proc?.env;
}

/** A trimmed string that is not blank, else undefined (any other value, too). */
export function trimmedString(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A trimmed, non-empty env value, else undefined (also when there is no env). */
export function envString(env: EnvLike | undefined, name: string): string | undefined {
  return trimmedString(env?.[name]);
}

/** True when the variable is `true` in any case (the official libraries' rule). */
export function envFlag(env: EnvLike | undefined, name: string): boolean {
  return envString(env, name)?.toLowerCase() === 'true';
}
