/**
 * Recognises a fetch that failed in transit (connection refused or reset, DNS, TLS, a body
 * cut short), by the shape each runtime gives it, not by its class: a `TypeError` is also
 * what a bug or a bad argument throws, and those must not be retried.
 */

/** What each runtime's fetch says when the network, not the program, failed. */
const NETWORK_MESSAGES: ReadonlySet<string> = new Set([
  'fetch failed', // Node (undici)
  'terminated', // Node (undici): the body stream was cut
  'Failed to fetch', // Chromium
  'NetworkError when attempting to fetch resource.', // Firefox
  'Load failed', // Safari
  'Network request failed', // React Native, whatwg-fetch
  'Network connection lost.', // Cloudflare Workers
  'The Internet connection appears to be offline.', // Safari (older)
]);

/** Error codes of Node's sockets and DNS that mean "try again may work". */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * True when `error` is a fetch's network failure (retryable), false for anything else,
 * including other TypeErrors (a bad argument, an encoder refusing a lone surrogate).
 *
 * @internal
 */
export function isNetworkFailure(error: unknown, depth = 0): boolean {
  // A cause chain can be long or even a cycle: look a few links deep only.
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { name, message, code, cause } = error as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (name !== 'TypeError' || typeof message !== 'string') return false;
  if (NETWORK_MESSAGES.has(message)) return true;
  // Deno and some polyfills: "error sending request for url (…): …" / "network error".
  if (/^(error sending request for url|network error)/i.test(message)) return true;
  // undici wraps the socket error as `cause`: `fetch failed` variants with a known code.
  return isNetworkFailure(cause, depth + 1);
}
