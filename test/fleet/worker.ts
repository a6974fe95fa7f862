/**
 * One process of the fleet (bundled by harness.ts with esbuild, run with `fork`): RAM user
 * credentials, one fromRamRole provider per role, all on one createStsCache whose store is
 * Redis (ioredis or node-redis) or a folder; then, until told to stop, every role's
 * credentials are used for a GetCallerIdentity call every `intervalMs`. It reports its
 * counts, the cache's warnings and any failure to the parent over IPC.
 *
 * `hangOnLeaseAfterMs`: once that long into the run, the next lease this process wins is
 * reported (`holding`) and its STS call never made: the parent SIGKILLs it holding the lease.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createStsCache, createStsClient, fileStsStore, fromRamRole, fromStatic, type StsCacheStore } from '../../src/node/index.js';
import { redisStsStore } from '../../src/stores/redis.js';

export type WorkerConfig = {
  id: number;
  endpoint: string;
  user: { accessKeyId: string; accessKeySecret: string };
  roleArns: string[];
  durationSeconds: number;
  store: { kind: 'ioredis' | 'node-redis'; port: number } | { kind: 'file'; dir: string } | { kind: 'none' };
  encryptionKey?: string;
  leaseWaitMs?: number;
  storeTimeoutMs?: number;
  intervalMs: number;
  /** The providers' advisory window as a fraction of the lifetime (default: alicred's, L/2). */
  advisoryFraction?: number;
  hangOnLeaseAfterMs?: number;
  /** Every call a forced refresh (so this process goes for the lease at once). */
  forceEveryRound?: boolean;
};

export type WorkerMessage =
  | { type: 'ready'; id: number }
  | { type: 'stats'; id: number; ok: number; failed: number; rounds: number; keys: string[] }
  | { type: 'warn'; id: number; message: string }
  | { type: 'failure'; id: number; message: string }
  | { type: 'holding'; id: number }
  | { type: 'stopped'; id: number };

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const send = (message: WorkerMessage) => process.send?.(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();

async function makeStore(): Promise<{ store: StsCacheStore | undefined; close: () => Promise<void> }> {
  const s = config.store;
  if (s.kind === 'ioredis') {
    const client = new Redis({ host: '127.0.0.1', port: s.port, retryStrategy: () => 100, lazyConnect: true });
    client.on('error', () => {}); // reconnects on its own; the cache reports the outage
    await client.connect();
    return { store: redisStsStore({ client }), close: async () => client.disconnect() };
  }
  if (s.kind === 'node-redis') {
    const client = createClient({ socket: { host: '127.0.0.1', port: s.port, reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
    return { store: redisStsStore({ client }), close: async () => void client.destroy() };
  }
  if (s.kind === 'file') return { store: fileStsStore({ dir: s.dir }), close: async () => {} };
  return { store: undefined, close: async () => {} };
}

/** The store, except that past `hangOnLeaseAfterMs` a won lease is announced and then held forever. */
function hangingOnLease(store: StsCacheStore): StsCacheStore {
  const after = config.hangOnLeaseAfterMs;
  if (after === undefined) return store;
  return {
    keyPrefix: store.keyPrefix,
    get: (key) => store.get(key),
    set: (key, value, ttlMs) => store.set(key, value, ttlMs),
    release: (key, token) => store.release(key, token),
    async lease(key, ttlMs) {
      const token = await store.lease(key, ttlMs);
      if (token !== undefined && Date.now() - started >= after) {
        send({ type: 'holding', id: config.id });
        await new Promise(() => {}); // the STS call never comes: killed holding the lease
      }
      return token;
    },
  };
}

const { store, close } = await makeStore();
const cache = createStsCache({
  store: store && hangingOnLease(store),
  encryptionKey: config.encryptionKey,
  leaseWaitMs: config.leaseWaitMs,
  storeTimeoutMs: config.storeTimeoutMs,
  logger: { warn: (message: string) => send({ type: 'warn', id: config.id, message }) },
});
const providers = config.roleArns.map((roleArn) =>
  fromRamRole({
    source: fromStatic(config.user),
    roleArn,
    roleSessionName: 'fleet',
    durationSeconds: config.durationSeconds,
    sts: { endpoint: config.endpoint },
    cache: store ? cache : false,
    refresh: config.advisoryFraction === undefined ? undefined : { advisoryWindowMs: (lifetime: number) => lifetime * config.advisoryFraction! },
  }),
);
const sts = createStsClient({ endpoint: config.endpoint });

let stopping = false;
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'stop') stopping = true;
  if (message?.type === 'go') void run();
});
send({ type: 'ready', id: config.id });

async function run(): Promise<void> {
  let ok = 0;
  let failed = 0;
  let rounds = 0;
  const keys = new Set<string>();
  const report = () => send({ type: 'stats', id: config.id, ok, failed, rounds, keys: [...keys] });
  const ticker = setInterval(report, 200);
  while (!stopping) {
    await Promise.all(
      providers.map(async (provider) => {
        try {
          const creds = await provider({ forceRefresh: config.forceEveryRound === true });
          keys.add(creds.accessKeyId);
          await sts.getCallerIdentity(creds);
          ok++;
        } catch (error) {
          failed++;
          send({ type: 'failure', id: config.id, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        }
      }),
    );
    rounds++;
    report();
    await sleep(config.intervalMs);
  }
  clearInterval(ticker);
  report();
  for (const provider of providers) provider.close();
  await close();
  send({ type: 'stopped', id: config.id });
  process.disconnect?.();
}
