/**
 * Product endpoints that are not POP APIs (OSS, Table Store): each recognises its own
 * requests, checks their own signature scheme and token against the account, and answers in
 * its own format. The server routes to them before parsing a POP request (see server.ts).
 *
 * @internal
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Account } from './account.js';
import type { ResolvedOptions } from './options.js';
import type { SignatureVersion } from './types.js';

/** One request to a product endpoint, as read by the server. */
export type ProductRequest = {
  readonly method: string;
  /** The raw request target, e.g. `/bucket/key?uploads` (still percent-encoded). */
  readonly rawUrl: string;
  /** The path without the query, still percent-encoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Emulator clock, ms. */
  readonly now: number;
};

/** What a product answers, and what the request log records of it. */
export type ProductAnswer = {
  readonly status: number;
  /** Content-Type and any product headers; Content-Length, Date and the request id are added. */
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
  /** The product's error code, for the request log; undefined on success. */
  readonly code?: string | undefined;
};

/** What the server reads of a product request before answering it (for the log and faults). */
export type ProductRoute = {
  /** The operation, e.g. `PutObject` or `ListTable` (also the name faults are injected under). */
  readonly action: string;
  readonly accessKeyId: string | undefined;
  readonly signatureVersion: SignatureVersion;
  /** Answers the request: authentication, authorization, the operation. */
  answer(): ProductAnswer;
  /** The product's error answer, for an injected fault or an internal error. */
  error(status: number, code: string, message: string): ProductAnswer;
};

/** A product endpoint of the emulator. */
export type ProductService = {
  /** The route of `request` when it is one of this product's, else undefined. */
  route(request: ProductRequest): ProductRoute | undefined;
};

/** What a product service is made from. */
export type ProductContext = {
  readonly account: Account;
  readonly resolved: ResolvedOptions;
};
