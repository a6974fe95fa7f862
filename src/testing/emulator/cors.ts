/**
 * CORS for the emulator (the `cors` option), so browser tests can call it from a page of
 * another origin: preflights answered on every path, `Access-Control-Allow-Origin` added to
 * every answer for the allowed origins. Without the option: no CORS header at all.
 *
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a preflight allows. */
const METHODS = 'GET, POST, PUT, DELETE, HEAD';
/** Headers a page may read from the answers (besides the CORS-safelisted ones). */
const EXPOSED = 'ETag, x-oss-request-id, x-acs-request-id, Date';
/** How long a browser may cache a preflight answer, in seconds. */
const MAX_AGE = '600';

/** Why `cors` is unusable, or undefined when it is fine (or absent). */
export function corsOptionsProblem(cors: unknown): string | undefined {
  if (cors === undefined) return undefined;
  const origins = (cors as { allowOrigins?: unknown } | null)?.allowOrigins;
  if (!Array.isArray(origins)) return 'cors.allowOrigins must be an array of origins';
  for (const origin of origins as unknown[]) {
    if (origin === '*') continue;
    let ok = false;
    try {
      ok = typeof origin === 'string' && new URL(origin).origin === origin;
    } catch {
      ok = false;
    }
    if (!ok) return `cors.allowOrigins: ${JSON.stringify(origin)} is not an origin (scheme://host[:port]) or "*"`;
  }
  return undefined;
}

/**
 * Applies CORS to one request: for an allowed `Origin`, sets the CORS headers on `res` (the
 * answer written later keeps them); answers a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) itself, 204 for an allowed origin, 403 without CORS
 * headers for another. Returns true when the request has been answered.
 */
export function applyCors(allowOrigins: readonly string[] | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (allowOrigins === undefined) return false;
  const origin = req.headers.origin;
  const allowed = origin !== undefined && (allowOrigins.includes('*') || allowOrigins.includes(origin));
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  res.setHeader('Vary', 'Origin');
  if (allowed) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
  }
  if (!preflight) return false;
  req.resume();
  if (!allowed) {
    res.writeHead(403, { 'Content-Type': 'text/plain;charset=utf-8', 'Content-Length': '0' });
    res.end();
    return true;
  }
  const requested = req.headers['access-control-request-headers'];
  const headers: Record<string, string> = {
    'Access-Control-Allow-Methods': METHODS,
    'Access-Control-Max-Age': MAX_AGE,
  };
  if (typeof requested === 'string' && requested.trim() !== '') headers['Access-Control-Allow-Headers'] = requested;
  res.writeHead(204, headers);
  res.end();
  return true;
}
