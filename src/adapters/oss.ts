/**
 * alicred/oss — `ali-oss` clients (Node and browsers) that sign with an alicred provider's
 * current credentials, and presigned URLs that never outlive the credential that signed them.
 *
 * ali-oss needs keys at construction and refreshes them only through `refreshSTSToken`, on
 * its own 5-minute clock unless `refreshSTSTokenInterval` is 0. {@link toOssOptions} seeds the
 * keys and sets both, so every request asks the provider (a cached credential answers at once;
 * a refresh happens ahead of expiry). Universal: no Node built-in.
 *
 * @packageDocumentation
 */
import { ConfigError, CredentialsError, isCredentialsError } from '../errors.js';
import type { CredentialProvider } from '../types.js';
import { checkProvider, describe, snapshotOf } from './snapshot.js';

/** The key triple ali-oss takes, by its own names. */
export type OssKeys = {
  accessKeyId: string;
  accessKeySecret: string;
  stsToken?: string;
};

/**
 * What {@link toOssOptions} adds to the options of `new OSS(...)`.
 *
 * @example
 * ```ts
 * import { fromStatic } from 'alicred';
 * import { toOssOptions, type OssCredentialOptions } from 'alicred/oss';
 * const added: OssCredentialOptions = await toOssOptions(fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }));
 * added.refreshSTSTokenInterval; // 0: ali-oss asks on every request; the provider answers from its cache
 * ```
 */
export type OssCredentialOptions = OssKeys & {
  refreshSTSTokenInterval: 0;
  /**
   * Answers the provider's current triple, and only those three fields. ali-oss calls it only
   * for a client seeded with a security token.
   */
  refreshSTSToken: () => Promise<Required<OssKeys>>;
};

/** Options ali-oss reads for keys and their refresh: set by {@link toOssOptions}, so refused in its input. */
const OWNED = ['accessKeyId', 'accessKeySecret', 'stsToken', 'securityToken', 'refreshSTSToken', 'refreshSTSTokenInterval'] as const;

const keysOf = (c: { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined }): OssKeys =>
  c.securityToken === undefined
    ? { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret }
    : { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken };

/**
 * Options for `new OSS(...)` that keep the client on `provider`'s current credentials: the
 * current keys as the seed ali-oss requires, `refreshSTSTokenInterval: 0` and a
 * `refreshSTSToken` that answers the provider's current triple before every request. Throws a
 * ConfigError when `options` already sets keys or a refresh of its own.
 *
 * Long-lived keys (no security token) never need a refresh, and ali-oss then never asks.
 *
 * @example
 * ```ts
 * import OSS from 'ali-oss';
 * import { fromRamRole, fromStatic } from 'alicred';
 * import { toOssOptions } from 'alicred/oss';
 *
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/uploader',
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * });
 * const store = new OSS(await toOssOptions(provider, { region: 'oss-cn-hangzhou', bucket: 'my-bucket' }));
 * // await store.put('hello.txt', Buffer.from('hi')); // signed with the role's current token
 * provider.close();
 * ```
 */
export async function toOssOptions<O extends object = Record<never, never>>(
  provider: CredentialProvider,
  options?: O,
): Promise<Omit<O, keyof OssCredentialOptions> & OssCredentialOptions> {
  checkProvider(provider, 'toOssOptions');
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new ConfigError(`toOssOptions: options must be the options object of new OSS(...), got ${describe(options)}`, {
      provider: 'toOssOptions',
      field: 'options',
    });
  }
  for (const key of OWNED) {
    if (options !== undefined && (options as Record<string, unknown>)[key] !== undefined) {
      throw new ConfigError(
        `toOssOptions: options.${key} is set; leave keys and refreshSTSToken* out: the provider supplies the keys and refreshes them`,
        { provider: 'toOssOptions', field: key },
      );
    }
  }
  const seed = keysOf(await snapshotOf(provider, 'toOssOptions'));
  return {
    ...(options as O),
    ...seed,
    refreshSTSTokenInterval: 0,
    // ali-oss merges every returned field into its options: return the three keys only.
    refreshSTSToken: async () => {
      const keys = keysOf(await snapshotOf(provider, 'toOssOptions'));
      if (keys.stsToken === undefined) {
        // ali-oss refuses a refresh without a token (and would keep signing with the old one).
        throw new CredentialsError(
          'toOssOptions: the provider now gives long-lived keys without a security token, which ali-oss cannot take as a refresh; make the OSS client again with toOssOptions',
          { code: 'InvalidCredentials' },
        );
      }
      return keys as Required<OssKeys>;
    },
  };
}

/**
 * The part of an ali-oss client {@link signOssUrl} uses: its synchronous `signatureUrl`, which
 * reads the keys from the client's `options` (checked at run time: ali-oss's type declarations
 * do not list that field).
 */
export type OssUrlSigner = {
  signatureUrl(name: string, options?: object): string;
};
type HeldKeys = { accessKeyId?: string; accessKeySecret?: string; stsToken?: string };

/**
 * Options of {@link signOssUrl}: those of ali-oss `signatureUrl()`.
 *
 * @example
 * ```ts
 * import type { OssSignUrlOptions } from 'alicred/oss';
 * const options: OssSignUrlOptions = { expires: 600, method: 'GET', response: { 'content-disposition': 'attachment' } };
 * ```
 */
export type OssSignUrlOptions = {
  /** Seconds the URL is valid. Default 1800 (ali-oss's default). */
  expires?: number;
  method?: string;
  [option: string]: unknown;
};

/** Longest presigned URL validity OSS accepts for V1 URLs signed with STS: 7 days would outlive any token anyway. */
const MAX_URL_EXPIRES_S = 7 * 24 * 3600;

/**
 * A presigned URL (ali-oss `signatureUrl`, signature V1) signed from one snapshot of
 * `provider` valid for the whole life of the URL: it asks the provider for credentials valid
 * at least `expires` seconds more, signs with exactly those (not with keys the client may
 * still hold from an older refresh), and throws an `InsufficientValidity` CredentialsError
 * rather than mint a URL that would outlive its credential.
 *
 * @example
 * ```ts
 * import OSS from 'ali-oss';
 * import { fromRamRole, fromStatic } from 'alicred';
 * import { signOssUrl, toOssOptions } from 'alicred/oss';
 *
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/reader',
 *   durationSeconds: 3600,
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * });
 * const store = new OSS(await toOssOptions(provider, { region: 'oss-cn-hangzhou', bucket: 'my-bucket' }));
 * const url = await signOssUrl(store, provider, 'report.pdf', { expires: 600 }); // valid 10 min, and so is its token
 * provider.close();
 * ```
 */
export async function signOssUrl(client: OssUrlSigner, provider: CredentialProvider, name: string, options: OssSignUrlOptions = {}): Promise<string> {
  checkProvider(provider, 'signOssUrl');
  const held = (client as { options?: HeldKeys } | null)?.options;
  if (typeof client !== 'object' || client === null || typeof client.signatureUrl !== 'function' || typeof held !== 'object' || held === null) {
    throw new ConfigError(`signOssUrl: client must be an ali-oss client (new OSS(...)), got ${describe(client)}`, { provider: 'signOssUrl', field: 'client' });
  }
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('signOssUrl: name must be a non-empty object name', { provider: 'signOssUrl', field: 'name' });
  }
  const expires = options.expires ?? 1800;
  if (typeof expires !== 'number' || !Number.isInteger(expires) || expires < 1 || expires > MAX_URL_EXPIRES_S) {
    throw new ConfigError(`signOssUrl: options.expires must be a whole number of seconds from 1 to ${MAX_URL_EXPIRES_S}`, {
      provider: 'signOssUrl',
      field: 'expires',
    });
  }
  const validityMs = expires * 1000;
  const credentials = await snapshotOf(provider, 'signOssUrl', { minValidityMs: validityMs }).catch((error: unknown) => {
    // A provider that can never give that much (a role session shorter than the URL) says so
    // with a ConfigError about minValidityMs: for this call that is the same refusal.
    if (isCredentialsError(error) && (error as { field?: unknown }).field === 'minValidityMs') {
      throw new CredentialsError(`signOssUrl: no credential of this provider lives ${expires} s: ${error.message}`, {
        code: 'InsufficientValidity',
        cause: error,
      });
    }
    throw error;
  });
  // A provider that ignores minValidityMs (a plain function) is checked here instead.
  const leftMs = credentials.expiration === undefined ? Number.POSITIVE_INFINITY : credentials.expiration.getTime() - Date.now();
  if (leftMs < validityMs) {
    throw new CredentialsError(
      `signOssUrl: the provider's credentials expire in ${Math.max(0, Math.floor(leftMs / 1000))} s, before a URL valid ${expires} s would; ` +
        'ask for a shorter expires, or give the role a longer durationSeconds',
      { code: 'InsufficientValidity' },
    );
  }
  const saved = { accessKeyId: held.accessKeyId, accessKeySecret: held.accessKeySecret, stsToken: held.stsToken };
  // signatureUrl reads the client's keys synchronously: lend it this snapshot for that one call.
  Object.assign(held, { accessKeyId: credentials.accessKeyId, accessKeySecret: credentials.accessKeySecret, stsToken: credentials.securityToken });
  try {
    return client.signatureUrl(name, { ...options, expires });
  } finally {
    Object.assign(held, saved);
  }
}
