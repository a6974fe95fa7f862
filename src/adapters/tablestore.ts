/**
 * alicred/tablestore — keeps a `tablestore` (Table Store data client) signing with an alicred
 * provider's current credentials.
 *
 * The client has no credentials hook: its `SIGN` step reads `config.getCredentials()`
 * synchronously on every attempt. Every tablestore module has one event executor whose
 * listeners run before that step, so one asynchronous `sign` listener per module awaits the
 * provider and hands that attempt a view of the config with one credential snapshot (the
 * three fields from one credential, so nothing tears). Clients are found by their config in
 * a WeakMap: clients made per request leak nothing, and unbound clients sign as before.
 *
 * @packageDocumentation
 */
import type { Credentials } from '../credentials.js';
import { ConfigError } from '../errors.js';
import type { CredentialProvider } from '../types.js';
import { checkProvider, describe, snapshotOf } from './snapshot.js';

const ADAPTER = 'bindTableStoreClient';

/** The part of a tablestore request this adapter touches (tablestore ships no types). */
type SignRequest = { config: object; [BASE]?: object };
/** The part of tablestore's event executor (`TableStore.events`) used here. */
type EventExecutor = { onAsync(event: string, listener: (req: SignRequest, done: (error?: unknown) => void) => void): unknown };

/** The client's own config on a request whose `config` this adapter replaced (retries sign again). */
const BASE = Symbol('alicred.tablestore.config');
/** Provider of each bound client, by the client's config object. */
const providers = new WeakMap<object, CredentialProvider>();
/** Executors (one per tablestore module) that carry this module's listener. */
const hooked = new WeakSet<object>();

/**
 * The `sign` listener: for a bound client, waits for the provider and gives this attempt a
 * config view whose `getCredentials()` answers that one snapshot. A failure fails the request
 * (tablestore then reports it); it never signs with whatever keys the config holds.
 */
function signWithProvider(req: SignRequest, done: (error?: unknown) => void): void {
  const base = req[BASE] ?? req.config;
  const provider = providers.get(base);
  if (provider === undefined) {
    done();
    return;
  }
  req[BASE] = base;
  snapshotOf(provider, ADAPTER).then(
    (credentials: Credentials) => {
      const snapshot = {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.accessKeySecret,
        securityToken: credentials.securityToken,
      };
      const view = Object.create(base) as { getCredentials: () => typeof snapshot };
      view.getCredentials = () => snapshot;
      req.config = view;
      done();
    },
    (error: unknown) => done(error),
  );
}

/**
 * The event executor of the tablestore module `client` was made by: `addAllRequestListeners`
 * hands a request every executor of its module, `TableStore.events` first. Taken from the
 * client itself, so a second copy of the package in node_modules is hooked too, rather than
 * silently signing with the keys in its config.
 */
function eventsOf(client: object): EventExecutor {
  const add = (client as { addAllRequestListeners?: unknown }).addAllRequestListeners;
  if (typeof add !== 'function') {
    throw new ConfigError(`${ADAPTER}: client is not a tablestore Client (it has no addAllRequestListeners); pass new TableStore.Client({ ... })`, {
      provider: ADAPTER,
      field: 'client',
    });
  }
  const executors: unknown[] = [];
  // A stand-in request: collects the executors and ignores the per-client listeners.
  add.call(client, { addListeners: (executor: unknown) => executors.push(executor), addListener: () => {} });
  const events = executors[0] as Partial<EventExecutor> | undefined;
  if (typeof events?.onAsync !== 'function') {
    throw new ConfigError(`${ADAPTER}: this tablestore version has no asynchronous sign event to hook (supported: tablestore >= 5.6)`, {
      provider: ADAPTER,
      field: 'client',
    });
  }
  return events as EventExecutor;
}

/**
 * Makes a live `TableStore.Client` sign every request, and every retry, with `provider`'s
 * current credentials: each attempt awaits the provider (so a cold or expiring credential
 * is fetched first, never signed with) and signs with one consistent snapshot. Returns the
 * same client, with its type (`tablestore` ships no types; with `@types/tablestore` the
 * client keeps them). Binding again replaces the provider; keys in the client's config are not
 * used while it is bound.
 *
 * @example
 * ```ts
 * import TableStore from 'tablestore';
 * import { fromRamRole, fromStatic } from 'alicred';
 * import { bindTableStoreClient } from 'alicred/tablestore';
 *
 * const provider = fromRamRole({
 *   source: fromStatic({ accessKeyId: 'LTAI5t...', accessKeySecret: 's3cr3t' }),
 *   roleArn: 'acs:ram::1234567890123456:role/ots-writer',
 *   sts: { endpoint: 'http://127.0.0.1:8080' }, // a local emulator; omit in production
 * });
 * const client = bindTableStoreClient(
 *   new TableStore.Client({ endpoint: 'http://127.0.0.1:8080', instancename: 'my-instance' }),
 *   provider,
 * );
 * // await client.listTable({}); // signed with the role's current STS token, refreshed ahead of expiry
 * provider.close();
 * ```
 */
export function bindTableStoreClient<C extends object>(client: C, provider: CredentialProvider): C {
  const config = (client as { config?: unknown } | null)?.config;
  if (typeof client !== 'object' || client === null || typeof config !== 'object' || config === null) {
    throw new ConfigError(`${ADAPTER}: client must be a tablestore Client (an object with a config), got ${describe(client)}`, {
      provider: ADAPTER,
      field: 'client',
    });
  }
  checkProvider(provider, ADAPTER);
  const events = eventsOf(client);
  if (!hooked.has(events)) {
    events.onAsync('sign', signWithProvider);
    hooked.add(events);
  }
  providers.set(config, provider);
  return client;
}
