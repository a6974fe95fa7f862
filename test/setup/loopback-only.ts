/**
 * A tripwire for every test file: nothing may leave the machine. A fetch to a host that is
 * not loopback, or a TCP connection to one, throws at once (before any DNS lookup) instead of
 * reaching a real endpoint, so a test that forgot to point a provider at the emulator fails
 * loudly rather than talking to Alibaba Cloud, 100.100.100.200 or a resolver.
 */
import net from 'node:net';

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|::1|\[::1\]|localhost|::ffff:127(?:\.\d{1,3}){3})$/i;

function refuse(what: string): never {
  throw new Error(`test tripwire: ${what} is not loopback; tests talk only to 127.0.0.1 / ::1`);
}

const originalFetch = globalThis.fetch;
globalThis.fetch = function loopbackFetch(input: Parameters<typeof fetch>[0], init?: RequestInit) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  let host = '';
  try {
    host = new URL(url).hostname;
  } catch {
    // Not an absolute URL: let fetch itself reject it.
  }
  if (host !== '' && !LOOPBACK.test(host)) return Promise.reject(new Error(`test tripwire: fetch to ${host} is not loopback`));
  return originalFetch(input, init);
} as typeof fetch;

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connectLoopbackOnly(this: net.Socket, ...args: unknown[]) {
  // net.connect() passes its arguments already normalised, as one array.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  const options = typeof first === 'object' && first !== null ? (first as { host?: unknown; path?: unknown }) : undefined;
  // IPC (a path) is not the network.
  if (typeof first === 'string' || typeof options?.path === 'string') return originalConnect.apply(this, args as never);
  const host = options ? (options.host ?? 'localhost') : Array.isArray(args[0]) ? undefined : args[1];
  if (host !== undefined && (typeof host !== 'string' || !LOOPBACK.test(host))) refuse(`a connection to ${String(host)}`);
  return originalConnect.apply(this, args as never);
} as typeof net.Socket.prototype.connect;
