/**
 * The Credentials value: what every provider returns and every client signs with.
 *
 * A frozen object whose secret and token read like plain properties (that is how a
 * client signs) but never appear in its printed forms: `util.inspect`, `console.log`
 * in Node, `JSON.stringify` and `String()` all show `[REDACTED]`.
 */

/**
 * AccessKey credentials, long-lived (RAM user) or temporary (STS).
 *
 * @example
 * ```ts
 * import { fromStatic, type Credentials } from 'alicred';
 * const creds: Credentials = await fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' })();
 * // Sign with the plain properties; printing them never shows the secret.
 * const signingKey = `${creds.accessKeySecret}&`;
 * console.log(creds); // { accessKeyId: 'LTAI5t...', accessKeySecret: '[REDACTED]', source: 'static' }
 * if (creds.expiration && creds.expiration.getTime() - Date.now() < 60_000) console.warn('expires within a minute');
 * ```
 */
export type Credentials = {
  /** AccessKeyId; temporary ones start with `STS.`. Not a secret, printed as is. */
  readonly accessKeyId: string;
  /** AccessKeySecret. Read it to sign; it is redacted in every printed form. */
  readonly accessKeySecret: string;
  /** SecurityToken of temporary (STS) credentials. Redacted in every printed form. */
  readonly securityToken?: string;
  /** When the credentials stop working, on the local clock; absent for long-lived keys. */
  readonly expiration?: Date;
  /** Which provider produced them, e.g. `env`, `static`, `ram-role`. */
  readonly source: string;
};

/**
 * The fields a provider supplies to {@link createCredentials}.
 *
 * @example
 * ```ts
 * import { createCredentials, type CredentialsInit } from 'alicred';
 * // What a custom vending endpoint answered, before it becomes a redacted Credentials value.
 * const init: CredentialsInit = {
 *   accessKeyId: 'STS.NUgYrLnoC37mZZCNnAbez2F2q',
 *   accessKeySecret: 'vended-secret',
 *   securityToken: 'CAIS...',
 *   expiration: new Date(Date.now() + 3600_000),
 *   source: 'my-vendor',
 * };
 * const creds = createCredentials(init);
 * ```
 */
export type CredentialsInit = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
  expiration?: Date | undefined;
  source: string;
};

const REDACTED = '[REDACTED]';
/**
 * Marks a value made by any copy of alicred's {@link createCredentials} (the ESM and CJS
 * builds loaded together each have their own prototype): `value[Symbol.for('alicred.credentials')] === true`.
 */
const CREDENTIALS_BRAND = Symbol.for('alicred.credentials');
// Node looks this symbol up on any object it prints; using the registry avoids importing node:util.
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

function printable(c: Credentials): Record<string, unknown> {
  const out: Record<string, unknown> = {
    accessKeyId: c.accessKeyId,
    accessKeySecret: REDACTED,
  };
  if (c.securityToken !== undefined) out.securityToken = REDACTED;
  if (c.expiration !== undefined) out.expiration = c.expiration.toISOString();
  out.source = c.source;
  return out;
}

// Only lends its name to the printed form: `Credentials { accessKeySecret: '[REDACTED]', ... }`.
const InspectLabel = function Credentials() {} as unknown as { prototype: object };

// One shared prototype keeps each value small and the redacting methods off its own keys.
const credentialsPrototype: object = Object.freeze(
  Object.create(Object.prototype, {
    toJSON: {
      value(this: Credentials) {
        return printable(this);
      },
    },
    toString: {
      value(this: Credentials) {
        return `Credentials(${this.source}: ${this.accessKeyId}, secret ${REDACTED})`;
      },
    },
    [inspectSymbol]: {
      value(this: Credentials) {
        // A class-like label makes the redacted form recognisable in logs.
        return Object.assign(Object.create(InspectLabel.prototype), printable(this));
      },
    },
    [Symbol.toStringTag]: { value: 'Credentials' },
    [CREDENTIALS_BRAND]: { value: true },
  }),
);

/**
 * Fills a new credentials value. A constructor rather than `Object.create(proto, descriptors)`:
 * V8 then keeps all five fields inside the object (about 60 bytes instead of 100, per value).
 */
const CredentialsValue = function (this: object, init: CredentialsInit): void {
  Object.defineProperty(this, 'accessKeyId', { value: init.accessKeyId, enumerable: true });
  // Not enumerable: spreading, Object.entries and naive serialisers do not pick it up.
  Object.defineProperty(this, 'accessKeySecret', { value: init.accessKeySecret });
  Object.defineProperty(this, 'source', { value: init.source, enumerable: true });
  if (init.securityToken !== undefined) Object.defineProperty(this, 'securityToken', { value: init.securityToken });
  if (init.expiration !== undefined) {
    // A private copy, so a caller mutating its Date cannot move ours (the refresh engine
    // keeps its own numeric deadline anyway).
    Object.defineProperty(this, 'expiration', { value: new Date(init.expiration.getTime()), enumerable: true });
  }
} as unknown as { new (init: CredentialsInit): Credentials; prototype: object };
CredentialsValue.prototype = credentialsPrototype;

/**
 * Builds a frozen, print-safe Credentials value. Providers use it; users rarely need it
 * (see `fromStatic`).
 *
 * @example
 * ```ts
 * import { createCredentials } from 'alicred';
 * const creds = createCredentials({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t', source: 'mine' });
 * creds.accessKeySecret;    // 's3cr3t' — read it to sign
 * JSON.stringify(creds);    // {"accessKeyId":"LTAI5t...","accessKeySecret":"[REDACTED]","source":"mine"}
 * ```
 */
export function createCredentials(init: CredentialsInit): Credentials {
  return Object.freeze(new CredentialsValue(init));
}


/**
 * The raw fields as a plain, mutable object, for clients that take keys as separate
 * options (ali-oss, Table Store). The result is NOT redacted: do not log it.
 *
 * @example
 * ```ts
 * import { fromEnv, toPlainCredentials } from 'alicred';
 * const { accessKeyId, accessKeySecret, securityToken } = toPlainCredentials(await fromEnv()());
 * ```
 */
export function toPlainCredentials(c: Credentials): {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  expiration?: Date;
} {
  const out: { accessKeyId: string; accessKeySecret: string; securityToken?: string; expiration?: Date } = {
    accessKeyId: c.accessKeyId,
    accessKeySecret: c.accessKeySecret,
  };
  if (c.securityToken !== undefined) out.securityToken = c.securityToken;
  if (c.expiration !== undefined) out.expiration = new Date(c.expiration.getTime());
  return out;
}

/**
 * True for a value made by {@link createCredentials} of any copy of alicred (the ESM and the
 * CJS build loaded in one process, or two versions in one bundle): frozen, branded and
 * well-formed.
 *
 * @example
 * ```ts
 * import { createCredentials, isCredentials } from 'alicred';
 * isCredentials(createCredentials({ accessKeyId: 'LTAI5t...', accessKeySecret: 's', source: 'mine' })); // true
 * isCredentials({ accessKeyId: 'LTAI5t...', accessKeySecret: 's' });                                   // false
 * ```
 */
export function isCredentials(value: unknown): value is Credentials {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === credentialsPrototype) return true;
  return (
    typeof proto === 'object' &&
    proto !== null &&
    (proto as Record<symbol, unknown>)[CREDENTIALS_BRAND] === true &&
    Object.isFrozen(value) &&
    typeof (value as Credentials).accessKeyId === 'string' &&
    typeof (value as Credentials).accessKeySecret === 'string'
  );
}

/** Printable ASCII without spaces: what AccessKey ids, secrets and STS tokens are made of. */
const KEY_CHARS_RE = /^[\x21-\x7e]+$/;
const MAX_ID_LENGTH = 256;
const MAX_SECRET_LENGTH = 1024;
/** STS tokens run to a few KiB; anything far beyond is not a token. */
const MAX_TOKEN_LENGTH = 64 * 1024;

function isValidDate(value: unknown): value is Date {
  // The tag, not instanceof: a Date from another realm (vm, iframe) is still a Date.
  return Object.prototype.toString.call(value) === '[object Date]' && Number.isFinite((value as Date).getTime());
}

/** What is wrong with `value` as credentials (naming the field, never its value), or undefined. */
function credentialsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not a credentials object`;
  }
  const v = value as Record<string, unknown>;
  const key = (field: string, max: number): string | undefined => {
    const x = v[field];
    if (typeof x !== 'string') return `${field} is ${x === undefined ? 'missing' : `a ${x === null ? 'null' : typeof x}, not a string`}`;
    if (x === '') return `${field} is empty`;
    if (x.length > max) return `${field} is longer than ${max} characters`;
    if (!KEY_CHARS_RE.test(x)) return `${field} contains spaces, control or non-ASCII characters`;
    return undefined;
  };
  const problem = key('accessKeyId', MAX_ID_LENGTH) ?? key('accessKeySecret', MAX_SECRET_LENGTH);
  if (problem) return problem;
  const token = v.securityToken;
  if (token !== undefined && token !== null && token !== '') {
    const tokenProblem = key('securityToken', MAX_TOKEN_LENGTH);
    if (tokenProblem) return tokenProblem;
  }
  if (v.expiration !== undefined && !isValidDate(v.expiration)) {
    const isDate = Object.prototype.toString.call(v.expiration) === '[object Date]';
    return `expiration is ${isDate ? 'an invalid Date' : `a ${v.expiration === null ? 'null' : typeof v.expiration}, not a Date`}`;
  }
  return undefined;
}

/**
 * Checks what a provider returned and makes it a proper {@link Credentials} value: a valid
 * one made by alicred is returned as is; a well-formed object of another kind is copied
 * into a frozen, redacted one (a plain object would print its secret); anything else
 * throws `problem(reason)`, whose message must not quote the value.
 *
 * @internal
 */
export function normalizeCredentials(value: unknown, fallbackSource: string, problem: (reason: string) => Error): Credentials {
  const reason = credentialsProblem(value);
  if (reason !== undefined) throw problem(reason);
  if (isCredentials(value) && typeof value.source === 'string') return value;
  const v = value as Record<string, unknown>;
  const token = v.securityToken;
  return createCredentials({
    accessKeyId: v.accessKeyId as string,
    accessKeySecret: v.accessKeySecret as string,
    securityToken: typeof token === 'string' && token !== '' ? token : undefined,
    expiration: v.expiration as Date | undefined,
    source: typeof v.source === 'string' && v.source !== '' ? v.source.slice(0, 128) : fallbackSource,
  });
}
