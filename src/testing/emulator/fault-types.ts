/**
 * The faults the emulator can inject (`emulator.inject(fault)`), in a file of their own.
 *
 * @module
 */
/**
 * A fault to inject into the next matching request(s); see {@link Emulator.inject}.
 *
 * Without `status`, `code`, `reset` or `body`, only the latency applies and the request is
 * then served normally.
 *
 * The credential-vending endpoints have actions of their own: `MetadataToken` (the IMDSv2
 * token PUT), `MetadataRole` (role discovery), `MetadataCredentials` (the role's
 * credentials), `Metadata` (any other `/latest/` path) and `CredentialsUri`. An error fault
 * on an IMDS action answers with an HTML page of that status, on `CredentialsUri` with JSON
 * `{Code, Message}`. A fault without `action` matches these requests too.
 *
 * @example
 * ```ts
 * import { startEmulator } from 'alicred/testing';
 * const emu = await startEmulator({ ecs: { roleName: 'app' }, credentialsUri: { roleName: 'vended' } });
 *
 * emu.inject({ action: 'AssumeRole', count: 2, status: 503, code: 'ServiceUnavailable' });
 * emu.inject({ action: 'AssumeRole', latencyMs: 2_000 });        // slow, then normal
 * emu.inject({ reset: true });                                    // destroy the socket
 * emu.inject({ body: 'html', status: 502 });                      // a proxy's error page
 * emu.inject({ body: 'malformed-json' });                         // 200 with truncated JSON
 * emu.inject({ action: 'MetadataToken', status: 403 });           // IMDSv2 token refused
 * emu.inject({ action: 'MetadataCredentials', latencyMs: 1_500 }); // a slow metadata service
 * emu.inject({ action: 'CredentialsUri', body: '{"Code":"Failed"}' });
 * await emu.close();
 * ```
 */
export type EmulatorFault = {
  /** Only requests for this action (`AssumeRole`, `QueryProductList`...). Default: any. */
  action?: string;
  /** How many matching requests it applies to. Default 1. */
  count?: number;
  /** HTTP status of the error. Default 500, or 400 for a code containing `Throttling`; 200 for `body` faults, 502 for `'html'`. */
  status?: number;
  /** Error code in the body. Default derived from the status (`ServiceUnavailable`, `InternalError`...). */
  code?: string;
  /** Error message in the body. */
  message?: string;
  /** Delay before answering (or before resetting), in ms. */
  latencyMs?: number;
  /** Destroy the socket instead of answering. */
  reset?: boolean;
  /** Answer with an HTML page, truncated JSON, or this literal body. */
  body?: 'html' | 'malformed-json' | (string & {});
  /**
   * Shaping fields: they change the answer (the normal one, or the error above) instead of
   * replacing it. Send the headers at once, then the body `chunkBytes` (default 1) at a time,
   * this many ms apart: a slow body.
   */
  trickleMs?: number;
  /** Chunk size of a trickled body, in bytes. Default 1. */
  chunkBytes?: number;
  /** Send the headers (with the full Content-Length) and this many body bytes, then reset the socket. */
  resetAfterBytes?: number;
  /** Another `Content-Type` for the answer (e.g. `text/html` on a JSON body). */
  contentType?: string;
  /** Extra or replaced response headers, e.g. `{ Age: '3000' }`. */
  headers?: Record<string, string>;
  /** The server clock is off by this much: the `Date` header and every `Expiration` move by it. */
  clockOffsetMs?: number;
  /** A credentials answer's `Expiration` is this many seconds from now on the emulator clock (negative: already past). */
  expiresInSeconds?: number;
  /**
   * Fields of a credentials answer (STS `Credentials`, or the vending JSON) set to these
   * literal values, or removed with `null`: e.g. `{ Expiration: 'soon' }`.
   */
  fields?: Record<string, string | null>;
  /** ECS metadata: right after this answer, the instance's role is renamed to this (a detach and attach). */
  renameRoleTo?: string;
};
