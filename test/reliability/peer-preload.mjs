/**
 * Loaded with `node --import` into the child process that runs @alicloud/credentials for
 * differential.test.ts. The peer hard-codes public hosts (sts.aliyuncs.com, the OAuth hosts,
 * https://undefined/ when its chain falls through), so nothing it does may reach the network:
 *
 * - HTTP(S) requests and fetch to a host that is not loopback fail at once, without any
 *   socket or DNS lookup, and are reported as `intercepted` (expected in some setups).
 * - Underneath, any TCP/TLS connection or DNS lookup of a non-loopback name is refused and
 *   reported as `leak` (the test requires none).
 *
 * Reports are single lines on stderr: `peer-net {"kind":…,"host":…,"what":…}`.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

const LOOPBACK = /^(127(?:\.\d{1,3}){3}|::1|\[::1\]|localhost|::ffff:127(?:\.\d{1,3}){3})$/i;
const isLoopback = (host) => typeof host === 'string' && LOOPBACK.test(host);

function report(kind, host, what) {
  process.stderr.write(`peer-net ${JSON.stringify({ kind, host: String(host), what })}\n`);
}

function refusal(host) {
  return Object.assign(new Error(`peer-preload: ${host} is not loopback; refused`), { code: 'ECONNREFUSED' });
}

/** (url | options, [options], [callback]) of http.request, as one options object. */
function requestOptions(args, protocol) {
  let options = {};
  let rest = args;
  if (typeof args[0] === 'string' || args[0] instanceof URL) {
    const u = new URL(String(args[0]));
    options = { protocol: u.protocol, hostname: u.hostname, port: u.port, path: `${u.pathname}${u.search}` };
    rest = args.slice(1);
  }
  if (typeof rest[0] === 'object' && rest[0] !== null) {
    options = { ...options, ...rest[0] };
    rest = rest.slice(1);
  }
  const host = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
  return { options, host, what: `${options.protocol ?? protocol}//${host}${options.path ?? '/'}`, callback: rest[0] };
}

for (const [mod, protocol] of [
  [http, 'http:'],
  [https, 'https:'],
]) {
  const original = mod.request;
  mod.request = function loopbackRequest(...args) {
    const { options, host, what, callback } = requestOptions(args, protocol);
    if (isLoopback(host)) return original.apply(mod, args);
    report('intercepted', host, what);
    // A real ClientRequest whose connection fails before any socket exists.
    const refused = {
      ...options,
      agent: undefined,
      createConnection: (_opts, done) => {
        process.nextTick(() => done(refusal(host)));
      },
    };
    return typeof callback === 'function' ? original.call(mod, refused, callback) : original.call(mod, refused);
  };
  mod.get = function loopbackGet(...args) {
    const req = mod.request(...args);
    req.end();
    return req;
  };
}

const originalFetch = globalThis.fetch;
globalThis.fetch = function loopbackFetch(input, init) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  let host = '';
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    // not absolute: fetch rejects it itself
  }
  if (host !== '' && !isLoopback(host)) {
    report('intercepted', host, url);
    return Promise.reject(refusal(host));
  }
  return originalFetch(input, init);
};

// Defence in depth: whatever gets past the layer above is refused and reported as a leak.
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function loopbackConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : undefined;
  if (typeof first === 'string' || typeof options?.path === 'string') return originalConnect.apply(this, args);
  const host = options ? (options.host ?? 'localhost') : Array.isArray(args[0]) ? undefined : args[1];
  if (host !== undefined && !isLoopback(host)) {
    report('leak', host, 'net.Socket.connect');
    process.nextTick(() => this.destroy(refusal(host)));
    return this;
  }
  return originalConnect.apply(this, args);
};

const originalTlsConnect = tls.connect;
tls.connect = function loopbackTlsConnect(...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? args[0] : { host: typeof args[1] === 'string' ? args[1] : undefined };
  const host = options.host ?? options.servername;
  if (host !== undefined && !options.socket && !isLoopback(host)) report('leak', host, 'tls.connect');
  return originalTlsConnect.apply(tls, args);
};

const originalLookup = dns.lookup;
dns.lookup = function loopbackLookup(hostname, ...rest) {
  if (!isLoopback(hostname)) {
    report('leak', hostname, 'dns.lookup');
    const callback = rest.at(-1);
    if (typeof callback === 'function') process.nextTick(() => callback(Object.assign(refusal(hostname), { code: 'ENOTFOUND' })));
    return {};
  }
  return originalLookup.call(dns, hostname, ...rest);
};
const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = async function loopbackPromisesLookup(hostname, ...rest) {
  if (!isLoopback(hostname)) {
    report('leak', hostname, 'dns.promises.lookup');
    throw Object.assign(refusal(hostname), { code: 'ENOTFOUND' });
  }
  return originalPromisesLookup.call(dns.promises, hostname, ...rest);
};
