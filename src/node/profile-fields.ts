/**
 * Reading profiles the same way for both files: one field reader over the values of an ini
 * section or a JSON profile object (trimmed strings, numbers given as strings or numbers,
 * booleans), and the declarative {@link SpecForm}s each format's table maps a type or mode
 * to. A form says which spec field comes from which key, in the order keys are checked, so
 * the same table both reads a profile and tells which key an error is about.
 *
 * Node only by use (no Node built-ins). Nothing here ever puts a value in a message.
 *
 * @module
 */
import type { ConfigError } from '../errors.js';
import { envString, type EnvLike } from '../internal/env.js';
import { compact, type ProfileSpec, type StsOverrides } from './profile-build.js';

/** One profile's values as its format gives them, with the format's errors and wording. */
export type ProfileValues = {
  /** The raw value of a key (as `ini` decoded it, or as JSON.parse gave it). */
  get(key: string): unknown;
  /** Whether the key is written at all, empty or not. */
  has(key: string): boolean;
  /** The line of a key, else of the profile itself. */
  lineOf(key: string): number | undefined;
  /** A ConfigError about `key` naming the file, the profile and the line. */
  error(key: string, what: string, line?: number): ConfigError;
  /** What to say of a value of the wrong type, when `expected` (e.g. `a string`) was wanted. */
  notString(value: unknown, expected: string): string;
  /** JSON: a zero (`"expired_seconds": 0`, as the CLI writes) means "not set". */
  readonly zeroIsUnset: boolean;
};

/** Profile keys of the STS endpoint settings, by {@link StsOverrides} field. */
export const STS_KEYS = { endpoint: 'sts_endpoint', region: 'sts_region', vpc: 'enable_vpc' } as const;

/** How one spec field is read. */
export type FieldRule =
  /** The first of `keys` that has a value; `env` is the variable read when none has. */
  | { readonly read: 'string'; readonly keys: readonly string[]; readonly required?: boolean; readonly env?: string }
  /** Whole seconds from the first of `keys` that has a value. */
  | { readonly read: 'seconds'; readonly keys: readonly string[] }
  /** `sts_endpoint`, `sts_region`, `enable_vpc`. */
  | { readonly read: 'sts' };

/**
 * What one profile type or mode reads: the spec kind, its fields in the order they are
 * checked, and for a role the identity that assumes it (read from the same profile first).
 */
export type SpecForm = {
  readonly kind: ProfileSpec['kind'];
  readonly source?: SpecForm;
  readonly fields: readonly (readonly [field: string, rule: FieldRule])[];
};

/** A required string. */
export const need = (key: string): FieldRule => ({ read: 'string', keys: [key], required: true });
/** An optional string from the first of `keys` that has a value. */
export const text = (...keys: string[]): FieldRule => ({ read: 'string', keys });
/** Optional whole seconds from the first of `keys` that has a value. */
export const seconds = (...keys: string[]): FieldRule => ({ read: 'seconds', keys });
/** The STS endpoint settings. */
export const STS: FieldRule = { read: 'sts' };

/** Spec fields reported by the built providers under another name. */
const FIELD_ALIASES: Readonly<Record<string, string>> = { token: 'tokenFile', oidcToken: 'tokenFile' };

/** Reads a profile's values; errors name the key and its line, never the value. */
export class FieldReader {
  constructor(readonly values: ProfileValues) {}

  private unset(value: unknown): boolean {
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '') || (value === 0 && this.values.zeroIsUnset);
  }

  /** The first of `keys` that has a value, else the first. */
  pick(keys: readonly string[]): string {
    return keys.find((key) => !this.unset(this.values.get(key))) ?? keys[0]!;
  }

  /** A trimmed string, or undefined when absent or blank. */
  str(key: string): string | undefined {
    const value = this.values.get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.values.error(key, this.values.notString(value, 'a string'));
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  need(key: string, because: string): string {
    const value = this.str(key);
    if (value === undefined) throw this.values.error(key, `is ${this.values.has(key) ? 'empty' : 'missing'}; it is required ${because}`);
    return value;
  }

  /** A whole number of seconds, written as a number or as digits. */
  seconds(key: string): number | undefined {
    const value = this.values.get(key);
    if (this.unset(value)) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
    if (typeof value === 'string' && /^\d{1,9}$/.test(value.trim())) {
      const n = Number(value.trim());
      return n === 0 && this.values.zeroIsUnset ? undefined : n;
    }
    if (typeof value !== 'string' && typeof value !== 'number') throw this.values.error(key, this.values.notString(value, 'a whole number of seconds'));
    throw this.values.error(key, 'must be a whole number of seconds');
  }

  bool(key: string): boolean | undefined {
    const value = this.values.get(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
    throw this.values.error(key, 'must be true or false');
  }

  sts(): StsOverrides {
    return compact({ endpoint: this.str(STS_KEYS.endpoint), region: this.str(STS_KEYS.region), vpc: this.bool(STS_KEYS.vpc) });
  }

  /** One field by its rule; `env` is where a rule's variable is read. */
  read(rule: FieldRule, because: string, env: EnvLike): unknown {
    switch (rule.read) {
      case 'sts':
        return this.sts();
      case 'seconds':
        return this.seconds(this.pick(rule.keys));
      case 'string': {
        const key = this.pick(rule.keys);
        const value = rule.required && rule.env === undefined ? this.need(key, because) : this.str(key);
        if (value !== undefined || rule.env === undefined) return value;
        const fromEnv = envString(env, rule.env);
        if (fromEnv !== undefined) return fromEnv;
        if (rule.required) throw this.values.error(key, `is missing and ${rule.env} is not set; one is required ${because}`);
        return undefined;
      }
    }
  }

  /**
   * The spec a form reads from this profile: its source first (a role's identity), then
   * each field in order. `source` replaces the form's own (a chain link's inner role).
   */
  spec(form: SpecForm, because: string, env: EnvLike, source?: ProfileSpec): ProfileSpec {
    const out: Record<string, unknown> = { kind: form.kind };
    if (source !== undefined) out.source = source;
    else if (form.source !== undefined) out.source = this.spec(form.source, because, env);
    for (const [field, rule] of form.fields) out[field] = this.read(rule, because, env);
    return compact(out) as ProfileSpec;
  }

  /**
   * Which key a spec field (as a built provider's ConfigError names it) came from, by the
   * form that read it: the key that had a value, the variable when none had, a key of the
   * same name, or undefined.
   */
  locate(form: SpecForm, field: string): { field: string; line: number | undefined } | undefined {
    const wanted = FIELD_ALIASES[field] ?? field;
    const key = this.keyOf(form, wanted) ?? (this.values.has(field) ? field : undefined);
    return key === undefined ? undefined : { field: key, line: this.values.lineOf(key) };
  }

  private keyOf(form: SpecForm, field: string): string | undefined {
    for (const [name, rule] of form.fields) {
      if (rule.read === 'sts') {
        if (field in STS_KEYS) return STS_KEYS[field as keyof typeof STS_KEYS];
        continue;
      }
      if (name !== field) continue;
      const key = this.pick(rule.keys);
      return rule.read === 'string' && rule.env !== undefined && this.unset(this.values.get(key)) ? rule.env : key;
    }
    return form.source === undefined ? undefined : this.keyOf(form.source, field);
  }
}
