/**
 * The one HTTP helper every source uses (STS, credentials URI, ECS metadata): one request
 * within a time limit that covers connect, headers and body; the body streamed with a
 * byte cap; never following redirects; failures typed, with foreign errors replaced by
 * sanitized stand-ins so no URL query or known secret can be printed from them.
 *
 * Universal code: `fetch`, `AbortController`, `TextDecoder`, web streams. No Node built-ins.
 *
 * @internal
 */
import { ConfigError, CredentialsProviderError, isCredentialsError } from '../errors.js';
import { raceAbort, unrefTimeout } from './abort.js';
import { isNetworkFailure } from './network-error.js';
import { describeFailure, sanitizeError } from './redact.js';

/** Largest body read by default: credentials answers are a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Why a request failed, handed to {@link HttpCall.toError}:
 * - `timeout`: the time limit passed (retryable, code `Timeout`);
 * - `network`: the network failed ({@link isNetworkFailure}; retryable, `NetworkError`);
 * - `request`: fetch threw something else, e.g. an invalid header value (not retryable, `RequestFailed`);
 * - `too-large`: the body passed `maxBytes` (not retryable: the same endpoint will answer the same; `ResponseTooLarge`).
 */
export type HttpFailure = {
  kind: 'timeout' | 'network' | 'request' | 'too-large';
  code: 'Timeout' | 'NetworkError' | 'RequestFailed' | 'ResponseTooLarge';
  retryable: boolean;
  /** A message naming provider and endpoint (no query), ready to use. */
  message: string;
  /** For `network` and `request`: what went wrong, sanitized. */
  reason: string;
  /** A sanitized stand-in of what fetch threw (never the original). */
  cause: Error | undefined;
  /** The HTTP status, for `too-large`. */
  status: number | undefined;
  /** For `too-large`: the size seen or declared, e.g. `more than 1048576 bytes`. */
  size: string | undefined;
  /** The body cap in force (bytes). */
  maxBytes: number;
};

/** One request. */
export type HttpCall = {
  url: string;
  method: 'GET' | 'PUT' | 'POST';
  headers: Record<string, string>;
  body?: string | undefined;
  /** Time limit for connect, headers and body together (ms). */
  timeoutMs: number;
  /** The caller's signal: aborting it rejects with its reason, unwrapped. */
  signal?: AbortSignal | undefined;
  /** Injected fetch; default the global one, looked up at each call. */
  fetch?: typeof fetch | undefined;
  /** fetch's `credentials` mode (browsers: whether cookies go along); not sent when undefined. */
  credentials?: RequestCredentials | undefined;
  /** Body cap in bytes; default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBytes?: number | undefined;
  /** Provider name for errors (their `provider` field). */
  provider: string;
  /** How messages start, e.g. `fromCredentialsUri`. Default: `provider`. */
  label?: string | undefined;
  /** What the request is, for messages (`GET http://…/path`), without any query or secret. */
  describe: string;
  /** Values never to print (tokens, secrets, query values), raw; encoded forms are derived. */
  secrets?: readonly (string | undefined)[] | undefined;
  /** Local clock, read when the headers arrive. Default `Date.now`. */
  clock?: (() => number) | undefined;
  /** Builds the error thrown; default a {@link CredentialsProviderError}. */
  toError?: ((failure: HttpFailure) => Error) | undefined;
};

/** What came back. */
export type HttpResult = {
  /** HTTP status; 0 for a browser's opaque redirect. */
  readonly status: number;
  readonly headers: Headers;
  /** The body, decoded as UTF-8, at most `maxBytes` bytes. */
  readonly text: string;
  /** Local clock when the headers arrived. */
  readonly localNow: number;
};

/** Thrown inside {@link httpCall} when the cap is passed; never escapes. */
class TooLarge {
  constructor(readonly status: number, readonly declared: number | undefined) {}
}

/** The error {@link httpCall} throws when given no `toError`: a {@link CredentialsProviderError}. */
export function defaultError(provider: string): (failure: HttpFailure) => Error {
  return (failure) =>
    new CredentialsProviderError(failure.message, {
      provider,
      code: failure.code,
      retryable: failure.retryable,
      cause: failure.cause,
    });
}

/** Reads the body, at most `maxBytes`, as UTF-8. Stops and cancels the stream past the cap. */
async function readBody(response: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  const declared = response.headers?.get?.('content-length')?.trim();
  if (declared !== undefined && /^\d{1,20}$/.test(declared) && Number(declared) > maxBytes) {
    response.body?.cancel().catch(() => {});
    throw new TooLarge(response.status, Number(declared));
  }
  const stream = response.body;
  if (stream && typeof stream.getReader === 'function') {
    const reader = stream.getReader();
    const decoder = new TextDecoder('utf-8');
    const parts: string[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await raceAbort(reader.read(), signal);
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) throw new TooLarge(response.status, undefined);
        parts.push(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      reader.cancel().catch(() => {});
      throw error;
    }
    parts.push(decoder.decode());
    return parts.join('');
  }
  // No stream (some polyfills): read it whole, then check.
  if (typeof response.arrayBuffer === 'function') {
    const bytes = await raceAbort(response.arrayBuffer(), signal);
    if (bytes.byteLength > maxBytes) throw new TooLarge(response.status, undefined);
    return new TextDecoder('utf-8').decode(bytes);
  }
  const text = await raceAbort(response.text(), signal);
  // Each UTF-16 unit is at least one UTF-8 byte: longer than the cap is surely too large.
  if (text.length > maxBytes) throw new TooLarge(response.status, undefined);
  return text;
}

/**
 * Sends one request and reads the whole (capped) answer. Any HTTP status is returned for
 * the caller to judge; timeouts, network failures, other fetch errors and oversized bodies
 * throw what `toError` makes of an {@link HttpFailure}. A caller's abort rejects with the
 * signal's reason. The timer is unref'd.
 */
export async function httpCall(call: HttpCall): Promise<HttpResult> {
  const { signal } = call;
  if (signal?.aborted) throw signal.reason;
  const f = call.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') {
    throw new ConfigError(`${call.label ?? call.provider}: this runtime has no global fetch; pass options.fetch`, {
      provider: call.provider,
      field: 'fetch',
    });
  }
  const maxBytes = call.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const secrets = call.secrets ?? [];
  const toError = call.toError ?? defaultError(call.provider);
  const controller = new AbortController();
  let timedOut = false;
  let finished = false;
  const timer = unrefTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${call.timeoutMs} ms`));
  }, call.timeoutMs);
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // raceAbort: settle on time even if an injected fetch ignores the signal.
    const response = await raceAbort(
      f(call.url, {
        method: call.method,
        headers: call.headers,
        body: call.body,
        // A redirect would replay a signed request (or a token) elsewhere: never follow one.
        redirect: 'manual',
        signal: controller.signal,
        // Only when asked for: other callers' requests stay exactly as they were.
        ...(call.credentials === undefined ? {} : { credentials: call.credentials }),
      }),
      controller.signal,
    );
    const localNow = call.clock ? call.clock() : Date.now();
    const text = await readBody(response, maxBytes, controller.signal);
    finished = true;
    return { status: response.type === 'opaqueredirect' ? 0 : response.status, headers: response.headers, text, localNow };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw toError({
        kind: 'timeout',
        code: 'Timeout',
        retryable: true,
        message: `${call.label ?? call.provider}: ${call.describe} timed out after ${call.timeoutMs} ms`,
        reason: `timed out after ${call.timeoutMs} ms`,
        cause: undefined,
        status: undefined,
        size: undefined,
        maxBytes,
      });
    }
    if (error instanceof TooLarge) {
      const size = error.declared === undefined ? `more than ${maxBytes} bytes` : `${error.declared} bytes (Content-Length)`;
      throw toError({
        kind: 'too-large',
        code: 'ResponseTooLarge',
        retryable: false,
        message: `${call.label ?? call.provider}: ${call.describe} answered HTTP ${error.status} with a body of ${size}; the limit is ${maxBytes} bytes`,
        reason: `a body of ${size}`,
        cause: undefined,
        status: error.status,
        size,
        maxBytes,
      });
    }
    // Our own typed errors (from a wrapping fetch) are already safe and classified.
    if (isCredentialsError(error)) throw error;
    const cause = sanitizeError(error, secrets);
    const reason = describeFailure(error, secrets);
    const network = isNetworkFailure(error);
    throw toError({
      kind: network ? 'network' : 'request',
      code: network ? 'NetworkError' : 'RequestFailed',
      retryable: network,
      message: `${call.label ?? call.provider}: ${call.describe} failed: ${reason}`,
      reason,
      cause,
      status: undefined,
      size: undefined,
      maxBytes,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    // Whatever went wrong, drop the connection rather than let a body keep streaming.
    if (!finished && !controller.signal.aborted) controller.abort(new Error('request abandoned'));
  }
}
