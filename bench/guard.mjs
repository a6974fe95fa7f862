/**
 * Bench safety net, imported first by bench/run.mjs and bench/heap-child.mjs, and preloaded
 * (--import) into the cold-import children of bench/import.mjs.
 *
 * The benchmark must never reach the network: both libraries are fed by in-process fakes.
 * This module (1) disables the peer's ECS metadata lookups through its documented
 * environment variable before the peer is loaded, and (2) arms a tripwire so that any
 * outgoing TCP connection or fetch() in this process throws at once instead of silently
 * talking to a real endpoint (which would also skew every timing). If the tripwire ever
 * fires, the fakes were not installed correctly and the numbers would be meaningless.
 */
import net from 'node:net';

process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = 'true';

/** Number of blocked network attempts; run.mjs refuses to print a table if it is not 0. */
export const blocked = { count: 0 };

const refuse = (what) => {
  blocked.count++;
  throw new Error(`bench: network access attempted (${what}); the in-process fakes were bypassed`);
};

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectBlocked(...args) {
  const first = args[0];
  // Local IPC (a path string, or { path }) is not the network; everything else is refused.
  const isIpc = typeof first === 'string' || (first && typeof first === 'object' && typeof first.path === 'string');
  if (isIpc) return originalConnect.apply(this, args);
  return refuse('net.Socket.connect');
};

globalThis.fetch = async () => refuse('fetch');
