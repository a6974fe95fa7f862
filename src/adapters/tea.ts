/**
 * alicred/tea — hands any alicred provider to the official Tea/Darabonba clients
 * (@alicloud/sts20150401, @alicloud/iot20180120, every `@alicloud/<product>` client) as
 * their `Config.credential`.
 *
 * @packageDocumentation
 */
// A type query, not a default import: it names the class the same way from ESM (nodenext),
// CJS and bundler resolution, where a default import of this CJS package would differ.
type Credential = import('@alicloud/credentials').default;
import type { Credentials } from '../credentials.js';
import type { CredentialProvider } from '../types.js';

/** What `getCredential()` resolves to: the fields of @alicloud/credentials' CredentialModel. */
export type TeaCredentialModel = {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  bearerToken?: string;
  /** `sts` for temporary credentials, `access_key` for long-lived keys; never `bearer`. */
  type: 'sts' | 'access_key';
  /** Sent (and signed) by the clients as `x-acs-credentials-provider`. */
  providerName: string;
};

/** Options of {@link toTeaCredential}. */
export type TeaCredentialOptions = {
  /** Value of `providerName` (header `x-acs-credentials-provider`). Default `alicred/<source>`. */
  providerName?: string;
  /** Wall clock for judging a snapshot's expiry. Default `Date.now`. */
  clock?: () => number;
};

/** The per-field snapshot is replaced once it has less than this left. */
const STICKY_MARGIN_MS = 60_000;

// Header-safe: the clients put providerName into a signed header.
const headerSafe = (value: string): string => value.replace(/[^\w./:-]/g, '_').slice(0, 64);

/**
 * An object the official Tea/Darabonba clients accept as `Config.credential`, answered by an
 * alicred provider. Typed as @alicloud/credentials' `Credential` (an optional peer dependency
 * that every Tea client already brings), so assigning it needs no cast.
 *
 * Current clients call `getCredential()` once per request: one snapshot, never torn. Older
 * clients and the gateway SPI call the deprecated `getAccessKeyId()`, `getAccessKeySecret()`,
 * `getSecurityToken()` one after another: they answer from one snapshot, shared by concurrent
 * requests and replaced (by `getAccessKeyId()`) only when less than a minute of it is left,
 * so a refresh landing between the three calls cannot mix two key pairs. Leave `accessKeyId`/`accessKeySecret` unset in the
 * Config: the clients prefer them over `credential`.
 *
 * @example
 * ```ts
 * import Sts, * as $Sts from '@alicloud/sts20150401';
 * import { fromEnv } from 'alicred';
 * import { toTeaCredential } from 'alicred/tea';
 *
 * const client = new Sts.default(new $Sts.default.Config?.({}) ?? ({} as never)); // see README for the exact import
 * const config = { credential: toTeaCredential(fromEnv()), endpoint: 'sts.aliyuncs.com' };
 * ```
 */
export function toTeaCredential(provider: CredentialProvider, options: TeaCredentialOptions = {}): Credential {
  const clock = options.clock ?? Date.now;
  let snapshot: Credentials | undefined;

  const model = (c: Credentials): TeaCredentialModel => {
    const out: TeaCredentialModel = {
      accessKeyId: c.accessKeyId,
      accessKeySecret: c.accessKeySecret,
      type: c.securityToken ? 'sts' : 'access_key',
      providerName: options.providerName ?? headerSafe(`alicred/${c.source}`),
    };
    if (c.securityToken) out.securityToken = c.securityToken;
    return out;
  };

  const take = async (): Promise<Credentials> => (snapshot = await provider());
  const validFor = (c: Credentials | undefined, ms: number): c is Credentials =>
    c !== undefined && (c.expiration === undefined || c.expiration.getTime() - clock() > ms);
  const fromSnapshot = async (): Promise<Credentials> => (validFor(snapshot, 0) ? snapshot! : take());
  // The per-field snapshot is sticky: concurrent requests share it until it nears expiry, so one
  // request's getAccessKeyId() cannot swap the pair under another request's later getters.
  let taking: Promise<Credentials> | undefined;
  const stickySnapshot = async (): Promise<Credentials> => {
    if (validFor(snapshot, STICKY_MARGIN_MS)) return snapshot;
    // Concurrent first calls share one take, so they all see the same snapshot.
    taking ??= take().finally(() => {
      taking = undefined;
    });
    return taking;
  };

  const adapter = {
    getCredential: async () => model(await provider()),
    getAccessKeyId: async () => (await stickySnapshot()).accessKeyId,
    getAccessKeySecret: async () => (await fromSnapshot()).accessKeySecret,
    getSecurityToken: async () => (await fromSnapshot()).securityToken ?? '',
    // Synchronous in the official interface; an AccessKey credential has no bearer token.
    getBearerToken: () => '',
    getType: () => (snapshot === undefined || snapshot.securityToken ? 'sts' : 'access_key'),
  };
  // The class's one private member (`load`) is never called by the clients; the shape above is
  // what they use, verified against the official clients in test/tea-adapter.test.ts.
  return adapter as unknown as Credential;
}
