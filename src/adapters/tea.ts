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

/**
 * What `getCredential()` resolves to: the fields of @alicloud/credentials' CredentialModel.
 *
 * @example
 * ```ts
 * import { fromStatic } from 'alicred';
 * import { toTeaCredential, type TeaCredentialModel } from 'alicred/tea';
 * // What a Tea client sees for each request, checked in a unit test:
 * const model = await toTeaCredential(fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' })).getCredential();
 * const expected: Pick<TeaCredentialModel, 'type' | 'providerName'> = {
 *   type: 'access_key',          // 'sts' for temporary credentials
 *   providerName: 'alicred/static', // sent as x-acs-credentials-provider
 * };
 * console.assert(model.type === expected.type && model.providerName === expected.providerName);
 * ```
 */
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

/**
 * Options of {@link toTeaCredential}.
 *
 * @example
 * ```ts
 * import { fromEnv } from 'alicred';
 * import { toTeaCredential, type TeaCredentialOptions } from 'alicred/tea';
 * // Tell requests of this service apart in ActionTrail by their credentials-provider header.
 * const options: TeaCredentialOptions = { providerName: 'billing-worker' };
 * const credential = toTeaCredential(fromEnv(), options);
 * ```
 */
export type TeaCredentialOptions = {
  /** Value of `providerName` (header `x-acs-credentials-provider`). Default `alicred/<source>`. */
  providerName?: string;
  /** Wall clock for judging a snapshot's expiry. Default `Date.now`. */
  clock?: () => number;
};

/** The legacy getters' snapshot is replaced, when no request is between its getters, once it has less than this left. */
const STICKY_MARGIN_MS = 60_000;
/**
 * Below this much validity the snapshot is replaced even if a request seems to be between
 * its getters: real getters run back to back within microseconds, so a request "open" for
 * the 50 s since the sticky margin is one that failed between them and will never finish.
 */
const HARD_MARGIN_MS = 10_000;

// Header-safe: the clients put providerName into a signed header.
const headerSafe = (value: string): string => value.replace(/[^\w./:-]/g, '_').slice(0, 64);

const REDACTED = '[REDACTED]';
// Node looks this symbol up on any object it prints.
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/** What a model shows when printed or serialised: never the secret or the token. */
function printable(this: TeaCredentialModel): Record<string, unknown> {
  const out: Record<string, unknown> = { accessKeyId: this.accessKeyId, accessKeySecret: REDACTED };
  if (this.securityToken !== undefined) out.securityToken = REDACTED;
  out.type = this.type;
  out.providerName = this.providerName;
  return out;
}

const modelPrototype: object = Object.freeze(
  Object.create(Object.prototype, { toJSON: { value: printable }, [inspectSymbol]: { value: printable } }),
);

/** A frozen model whose secret and token read like plain properties but never print. */
function teaModel(c: Credentials, providerName: string): TeaCredentialModel {
  const props: PropertyDescriptorMap = {
    accessKeyId: { value: c.accessKeyId, enumerable: true },
    accessKeySecret: { value: c.accessKeySecret, enumerable: false },
    type: { value: c.securityToken ? 'sts' : 'access_key', enumerable: true },
    providerName: { value: providerName, enumerable: true },
  };
  if (c.securityToken) props.securityToken = { value: c.securityToken, enumerable: false };
  return Object.freeze(Object.create(modelPrototype, props)) as TeaCredentialModel;
}

/**
 * An object the official Tea/Darabonba clients accept as `Config.credential`, answered by an
 * alicred provider. Typed as @alicloud/credentials' `Credential` (an optional peer dependency
 * that every Tea client already brings), so assigning it needs no cast.
 *
 * Current clients call `getCredential()` once per request: one snapshot, never torn. Older
 * clients and the gateway SPI call the deprecated `getAccessKeyId()`, `getAccessKeySecret()`,
 * `getSecurityToken()` one after another: they answer from one shared snapshot, which is
 * replaced (by a `getAccessKeyId()`) once less than a minute of it is left, but never while
 * another request is between its first and last getter (it is still valid then), so no
 * interleaving of requests can mix two key pairs. Leave `accessKeyId`/`accessKeySecret`
 * unset in the Config: the clients prefer them over `credential`.
 *
 * @example
 * ```ts
 * import StsPackage from '@alicloud/sts20150401';
 * import { Config } from '@alicloud/openapi-client';
 * import { fromStatic } from 'alicred';
 * import { toTeaCredential } from 'alicred/tea';
 * import { startEmulator } from 'alicred/testing';
 *
 * // A CJS package: under Node ESM the client class is `.default` of the default import.
 * const Sts = (StsPackage as unknown as { default?: typeof StsPackage }).default ?? StsPackage;
 *
 * // The local emulator stands in for STS here; in production leave `endpoint` to the client.
 * const keys = { accessKeyId: 'LTAI5tAlice000000000001', accessKeySecret: 'alice-secret' };
 * const emu = await startEmulator({ users: [{ name: 'alice', ...keys }] });
 *
 * // No accessKeyId/accessKeySecret in the Config: the client would prefer them to `credential`.
 * const config = new Config({ endpoint: emu.host, protocol: 'http' });
 * config.credential = toTeaCredential(fromStatic(keys)); // typed as the official Credential: no cast
 * const sts = new Sts(config);
 * const { body } = await sts.getCallerIdentity();
 * body?.arn; // 'acs:ram::1234567890123456:user/alice'
 * await emu.close();
 * ```
 */
export function toTeaCredential(provider: CredentialProvider, options: TeaCredentialOptions = {}): Credential {
  const clock = options.clock ?? (() => Date.now());
  /** The snapshot the deprecated per-field getters answer from. */
  let snapshot: Credentials | undefined;
  /**
   * Requests between their getters: `getAccessKeyId()` calls not yet followed by a
   * `getSecurityToken()` (every client calls the three in that order). While any is open the
   * snapshot is not replaced, so no request can read one pair's id and another pair's secret.
   */
  let open = 0;
  let taking: Promise<Credentials> | undefined;

  // One frozen model per credential: clients call getCredential() on every request, and a
  // refreshing provider hands back the same Credentials object until it refreshes.
  let lastCredentials: Credentials | undefined;
  let lastModel: TeaCredentialModel | undefined;
  let lastAnswer: Promise<Credentials> | undefined;
  let lastModelAnswer: Promise<TeaCredentialModel> | undefined;
  const modelOf = (c: Credentials): TeaCredentialModel => {
    if (c === lastCredentials) return lastModel!;
    lastModel = teaModel(c, options.providerName ?? headerSafe(`alicred/${c.source}`));
    lastCredentials = c;
    return lastModel;
  };

  const left = (c: Credentials): number => (c.expiration === undefined ? Number.POSITIVE_INFINITY : c.expiration.getTime() - clock());

  /** Replaces the snapshot (concurrent callers share one provider call). Anything open on the old one is over. */
  const replace = (): Promise<Credentials> => {
    taking ??= provider()
      .then((c) => {
        snapshot = c;
        open = 0;
        return c;
      })
      .finally(() => {
        taking = undefined;
      });
    return taking;
  };

  /** The snapshot for a request's first getter: kept while usable and while another request is mid-way. */
  const forNewRequest = async (): Promise<Credentials> => {
    const current = taking === undefined ? snapshot : undefined;
    if (current !== undefined) {
      const ms = left(current);
      if (ms > STICKY_MARGIN_MS || (open > 0 && ms > HARD_MARGIN_MS)) return current;
    }
    return replace();
  };

  /** The snapshot for a request's later getters: the one its id came from, unless it has expired. */
  const forSameRequest = async (): Promise<Credentials> => {
    const current = snapshot;
    return current !== undefined && left(current) > 0 ? current : replace();
  };

  const adapter = {
    getCredential: (): Promise<TeaCredentialModel> => {
      // A refreshing provider's hot path hands back one settled promise per credential: answer
      // it with one settled promise of the model, with no allocation per request.
      const answer = provider();
      if (answer !== lastAnswer) {
        lastAnswer = answer;
        lastModelAnswer = answer.then(modelOf);
      }
      return lastModelAnswer!;
    },
    getAccessKeyId: async () => {
      const c = await forNewRequest();
      open++;
      return c.accessKeyId;
    },
    getAccessKeySecret: async () => (await forSameRequest()).accessKeySecret,
    getSecurityToken: async () => {
      const c = await forSameRequest();
      open = Math.max(0, open - 1);
      return c.securityToken ?? '';
    },
    // Synchronous in the official interface; an AccessKey credential has no bearer token.
    getBearerToken: () => '',
    getType: () => (snapshot === undefined || snapshot.securityToken ? 'sts' : 'access_key'),
  };
  // The class's one private member (`load`) is never called by the clients; the shape above is
  // what they use, verified against the official clients in test/tea-adapter.test.ts.
  return adapter as unknown as Credential;
}
