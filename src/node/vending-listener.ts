/**
 * A fetch-style handler (`createVendingHandler`, or any `(Request) => Response`) mounted on
 * Node's http server: the request rebuilt as a WHATWG `Request`, the `Response` streamed back.
 *
 * Node only (node:http types; no module is loaded at import).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { messageOf } from '../errors.js';
import { logSafely } from '../internal/log.js';
import { sanitizeText } from '../internal/redact.js';
import { positiveNumber } from '../internal/validate-options.js';
import type { Logger } from '../types.js';

/** Default cap of the request line's URL, in bytes. */
const DEFAULT_MAX_URL_BYTES = 8 * 1024;
/** Default cap of all request headers together (names, values, separators), in bytes. */
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Most request headers taken. */
const MAX_HEADER_COUNT = 100;
/** A Host header: a name or IPv4 address, or a bracketed IPv6 address, and a port. */
const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * Options of {@link toNodeListener}.
 *
 * @example
 * ```ts
 * import type { NodeListenerOptions } from 'alicred/node';
 * const options: NodeListenerOptions = { maxHeaderBytes: 8192, logger: console };
 * ```
 */
export type NodeListenerOptions = {
  /** Requests whose headers together pass this many bytes (or 100 headers) get 431. Default 16384. */
  maxHeaderBytes?: number;
  /** Requests whose URL passes this many bytes get 414. Default 8192. */
  maxUrlBytes?: number;
  /**
   * The scheme of the URL the handler sees. Default `https` on a TLS socket, else `http`
   * (behind a TLS-terminating proxy, say `'https'`).
   */
  protocol?: 'http' | 'https';
  /** Receives what a handler threw (its message, sanitized); never a secret. */
  logger?: Logger;
};

/**
 * A `(req, res)` listener for `http.createServer` / `https.createServer`.
 *
 * @example
 * ```ts
 * import type { NodeRequestListener } from 'alicred/node';
 * const listener: NodeRequestListener = (_req, res) => void res.end();
 * ```
 */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

function generic(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const body = JSON.stringify({ Code: code, Message: message });
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

/** Waits until `res` may take more data, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes `response` to `res`: status, headers (every Set-Cookie kept), the body streamed. */
async function send(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  const body = response.body;
  if (body === null || head || response.status === 204 || response.status === 304) {
    body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) {
        reader.cancel().catch(() => {});
        return;
      }
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } catch {
    // The handler's body failed midway: the status is out, so cut the connection.
    reader.cancel().catch(() => {});
    res.destroy();
  }
}

/**
 * Mounts a fetch-style handler (such as `createVendingHandler`'s) on Node's http server. Each
 * request becomes a WHATWG `Request`: an absolute URL from the `Host` header (400 without a
 * valid one), its headers (431 past `maxHeaderBytes` or 100 headers; 414 for a URL past
 * `maxUrlBytes`), no body (a request body is discarded), and a `signal` aborted when the
 * client goes away. The `Response` is streamed back with its status and headers. A handler
 * that throws, or returns something that is not a `Response`, gives a generic 500 and a
 * `logger.warn`; nothing a handler does can crash the server.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createVendingHandler, fromStatic, toNodeListener } from 'alicred/node';
 * import { startEmulator } from 'alicred/testing';
 *
 * const server = { accessKeyId: 'LTAI5tVendor00000000001', accessKeySecret: 'vendor-secret' };
 * const emu = await startEmulator({ users: [{ name: 'vendor', ...server }], roles: [{ name: 'app', trustedUsers: ['vendor'] }] });
 * const vend = createVendingHandler({
 *   source: fromStatic(server),
 *   roleArn: emu.roleArn('app'),
 *   allowOrigins: [],
 *   authorize: async (request) => (request.headers.get('authorization') === 'Bearer t0k' ? { sessionName: 'job-7' } : null),
 *   policyFor: () => null,
 *   sts: { endpoint: emu.stsEndpoint },
 * });
 * const http = createServer(toNodeListener(vend, { logger: console }));
 * await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
 * // fromCredentialsUri({ uri: `http://127.0.0.1:${port}/`, headers: { Authorization: 'Bearer t0k' } }) reads it
 * http.close();
 * await emu.close();
 * ```
 */
export function toNodeListener(
  handler: (request: Request) => Promise<Response> | Response,
  options: NodeListenerOptions = {},
): NodeRequestListener {
  const site = (field: string) => ({ fn: 'toNodeListener', provider: 'vending', field });
  const maxHeaderBytes = positiveNumber(options.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES, site('maxHeaderBytes'));
  const maxUrlBytes = positiveNumber(options.maxUrlBytes, DEFAULT_MAX_URL_BYTES, site('maxUrlBytes'));
  const warn = (message: string) => logSafely(options.logger, 'warn', `alicred: toNodeListener: ${message}`);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The body is never read: drop it so the connection can be reused.
    req.resume();
    const target = req.url ?? '/';
    if (Buffer.byteLength(target) > maxUrlBytes) return generic(res, 414, 'URITooLong', 'the URL is too long');
    const raw = req.rawHeaders;
    let size = 0;
    for (let i = 0; i < raw.length; i += 2) size += raw[i]!.length + raw[i + 1]!.length + 4;
    if (raw.length / 2 > MAX_HEADER_COUNT || size > maxHeaderBytes) {
      return generic(res, 431, 'RequestHeaderFieldsTooLarge', 'the request headers are too large');
    }
    const host = req.headers.host;
    if (host === undefined || !HOST_RE.test(host) || !target.startsWith('/')) {
      return generic(res, 400, 'BadRequest', 'bad request');
    }
    const scheme = options.protocol ?? ((req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http');
    const method = (req.method ?? 'GET').toUpperCase();
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client went away'));
    });
    let request: Request;
    try {
      const headers = new Headers();
      for (let i = 0; i < raw.length; i += 2) {
        if (!raw[i]!.startsWith(':')) headers.append(raw[i]!, raw[i + 1]!);
      }
      request = new Request(`${scheme}://${host}${target}`, { method, headers, signal: controller.signal });
    } catch {
      // A method fetch refuses (CONNECT, TRACE), a header value it will not carry...
      if (/^[A-Z]+$/.test(method) && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
        return generic(res, 405, 'MethodNotAllowed', 'method not allowed', { Allow: 'GET, OPTIONS' });
      }
      return generic(res, 400, 'BadRequest', 'bad request');
    }
    let response: unknown;
    try {
      response = await handler(request);
    } catch (error) {
      warn(`the handler threw: ${sanitizeText(messageOf(error), [], 500)}`);
      return generic(res, 500, 'InternalError', 'internal error');
    }
    if (!(response instanceof Response)) {
      warn(`the handler returned ${response === null ? 'null' : typeof response}, not a Response`);
      return generic(res, 500, 'InternalError', 'internal error');
    }
    try {
      await send(res, response, method === 'HEAD');
    } catch (error) {
      // A header Node refuses (a bad name or value): nothing was sent yet, unless it was.
      warn(`the handler's response could not be sent: ${sanitizeText(messageOf(error), [], 500)}`);
      generic(res, 500, 'InternalError', 'internal error');
    }
  }

  return (req, res) => {
    serve(req, res).catch(() => {
      try {
        generic(res, 500, 'InternalError', 'internal error');
      } catch {
        res.destroy();
      }
    });
  };
}
