/**
 * The emulator's HTTP server on 127.0.0.1: reads each request, routes it (credential-vending
 * endpoints, STS, IoT Platform), applies injected faults, answers in the service's shapes
 * (with CORS headers under the `cors` option), keeps the request log, and closes everything
 * it opened.
 *
 * @internal
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Account } from './account.js';
import type { Authenticator } from './auth.js';
import { authorize } from './authorize.js';
import { applyCors } from './cors.js';
import { createFaultQueue, reshapeCredentials, type AnswerShape, type FaultQueue, type Reply } from './faults.js';
import { IOT_VERSION, iotBody } from './iot.js';
import { faultAnswer, routeVending, type VendingRoute, type createVendingService } from './metadata.js';
import type { ResolvedOptions } from './options.js';
import type { ProductAnswer, ProductRoute, ProductService } from './product.js';
import { parseRequest, type ParsedRequest } from './request.js';
import { ApiError, errorBody, fail, missing, newRequestId, render, type ResponseFormat } from './respond.js';
import { STS_VERSION, assumeRole, assumeRoleWithOidc, getCallerIdentity } from './sts.js';
import type { EmulatorRequestRecord } from './types.js';

const MAX_BODY_BYTES = 1 << 20;

/** What the server answers with. */
export type ServerContext = {
  resolved: ResolvedOptions;
  account: Account;
  auth: Authenticator;
  vending: ReturnType<typeof createVendingService>;
  /** Non-POP product endpoints (OSS, Table Store), tried in order before a POP request is parsed. */
  products: readonly ProductService[];
};

/** A listening server. */
export type RunningServer = {
  port: number;
  /** Every request received, oldest first (live; copy before handing out). */
  log: readonly EmulatorRequestRecord[];
  faults: FaultQueue;
  /** Closes the server, its sockets and pending fault latencies. Idempotent. */
  close(): Promise<void>;
};

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answerHeaders(contentType: string, text: string | Buffer, requestId: string, now: number): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(text)),
    Date: new Date(now).toUTCString(),
    'x-acs-request-id': requestId,
  };
}

function send(res: ServerResponse, status: number, contentType: string, text: string, requestId: string, now: number): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, answerHeaders(contentType, text, requestId, now));
  res.end(text);
}

/** A credentials answer (vending JSON) with the shape's rewrites applied; other text as is. */
function reshapeText(text: string, shape: AnswerShape | undefined, now: number): string {
  if (shape === undefined) return text;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return text;
  reshapeCredentials(body as Record<string, unknown>, shape, now);
  return JSON.stringify(body);
}

/** Runs one API request (STS or IoT) to a response body, or throws an ApiError. */
function dispatch(ctx: ServerContext, parsed: ParsedRequest, now: number): Record<string, unknown> {
  const { account, auth } = ctx;
  if (parsed.version === '') missing('Version');
  if (parsed.action === '') missing('Action');
  if (parsed.version === STS_VERSION) {
    if (parsed.action === 'AssumeRoleWithOIDC') {
      auth.checkTimestamp(parsed, now);
      return assumeRoleWithOidc(account, parsed, now);
    }
    if (parsed.action !== 'AssumeRole' && parsed.action !== 'GetCallerIdentity') {
      fail(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
    }
    const caller = auth.authenticate(parsed, now);
    return parsed.action === 'AssumeRole' ? assumeRole(account, parsed, caller, now) : getCallerIdentity(account, caller);
  }
  if (parsed.version === IOT_VERSION) {
    const caller = auth.authenticate(parsed, now);
    authorize(
      caller,
      `iot:${parsed.action}`,
      undefined,
      account.accountId,
      'Forbidden.RAM',
      "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    );
    return iotBody(parsed.action, parsed.params, ctx.resolved.products, '');
  }
  // Another product's API (ECS, RAM, ...): the signature and token are judged like any other,
  // then the answer says plainly that the emulator does not model that product.
  auth.authenticate(parsed, now);
  fail(
    501,
    'Emulator.ProductNotModeled',
    `The alicred emulator does not model the API version ${parsed.version} (action ${parsed.action}); ` +
      'the request was signed correctly with a valid key and token. It models STS (2015-04-01) and IoT Platform (2018-01-20) ' +
      'POP APIs, plus the OSS and Table Store endpoints.',
  );
}

/** Starts the server on 127.0.0.1 and a free port. */
export async function startServer(ctx: ServerContext): Promise<RunningServer> {
  const { clock } = ctx.resolved;
  const log: EmulatorRequestRecord[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  const faults = createFaultQueue(() => closed);

  const newRecord = (now: number, fields: Pick<EmulatorRequestRecord, 'method' | 'path' | 'action' | 'version' | 'accessKeyId' | 'signatureVersion'>): EmulatorRequestRecord => ({
    time: new Date(now),
    ...fields,
    status: 0,
    code: undefined,
    fault: false,
  });

  /** The answer's shape, set by a shaping fault (see faults.ts). */
  type ShapeHolder = { shape?: AnswerShape };
  const replier =
    (record: EmulatorRequestRecord, res: ServerResponse, requestId: string, held: ShapeHolder): Reply =>
    (status, contentType, text, code, headers) => {
      record.status = status;
      record.code = code;
      if (held.shape?.resetAfterBytes !== undefined) record.code = 'ConnectionReset';
      faults.deliver(res, status, { ...answerHeaders(contentType, text, requestId, clock()), ...headers }, text, held.shape);
    };

  /** A request to the ECS metadata service or the credentials URI. */
  async function handleVending(req: IncomingMessage, res: ServerResponse, route: VendingRoute, path: string, now0: number, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const record = newRecord(now0, { method, path, action: route.action, version: '', accessKeyId: undefined, signatureVersion: 'anonymous' });
    const tokenState = ctx.vending.tokenStateOf(route, req.headers, now0);
    if (tokenState !== undefined) record.metadataToken = tokenState;
    log.push(record);
    const held: ShapeHolder = {};
    const reply = replier(record, res, requestId, held);
    const replyError = (error: ApiError) => {
      const answer = faultAnswer(route, error.status, error.code, error.message);
      reply(answer.status, answer.contentType, answer.text, answer.code);
    };
    const shape = (s: AnswerShape) => (held.shape = s);
    if (!(await faults.apply(route.action, { record, res, requestId, reply, replyError, shape }))) {
      const now = clock();
      const answer = ctx.vending.answer(route, method, req.headers, now);
      reply(answer.status, answer.contentType, answer.status === 200 ? reshapeText(answer.text, held.shape, now) : answer.text, answer.code);
    }
    // A role renamed right after this answer (e.g. between role discovery and credentials).
    if (held.shape?.renameRoleTo !== undefined) ctx.vending.renameRole(held.shape.renameRoleTo);
  }

  /** A request one of the product services recognised (OSS, Table Store). */
  async function handleProduct(res: ServerResponse, route: ProductRoute, method: string, path: string, now0: number, requestId: string): Promise<void> {
    const { action, accessKeyId, signatureVersion } = route;
    const record = newRecord(now0, { method, path, action, version: '', accessKeyId, signatureVersion });
    log.push(record);
    const held: ShapeHolder = {};
    const reply = replier(record, res, requestId, held);
    const send = (answer: ProductAnswer) => {
      const { 'Content-Type': contentType = 'application/octet-stream', ...headers } = answer.headers;
      reply(answer.status, contentType, answer.body, answer.code, headers);
    };
    const replyError = (error: ApiError) => send(route.error(error.status, error.code, error.message));
    const shape = (s: AnswerShape) => (held.shape = s);
    if (await faults.apply(action, { record, res, requestId, reply, replyError, shape })) return;
    try {
      send(route.answer());
    } catch (error) {
      if (error instanceof ApiError) replyError(error);
      else replyError(new ApiError(500, 'InternalError', `Emulator internal error: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now0 = clock();
    const requestId = newRequestId();
    const body = await readBody(req);
    const hostId = req.headers.host ?? '127.0.0.1';
    if (body === undefined) {
      const err = new ApiError(413, 'RequestEntityTooLarge', 'The request body is too large.');
      send(res, 413, 'application/json;charset=utf-8', JSON.stringify(errorBody(err, requestId, hostId, 'Sts')), requestId, now0);
      req.socket.destroy();
      return;
    }
    const rawUrl = req.url ?? '/';
    const query = rawUrl.indexOf('?');
    const path = query === -1 ? rawUrl : rawUrl.slice(0, query);
    const route = routeVending(rawUrl, ctx.vending.credentialsUriPath);
    if (route !== undefined) return handleVending(req, res, route, path, now0, requestId);
    const method0 = (req.method ?? 'GET').toUpperCase();
    const productRequest = {
      method: method0,
      rawUrl,
      path,
      query: new URLSearchParams(query === -1 ? '' : rawUrl.slice(query + 1)),
      headers: req.headers,
      body,
      now: now0,
    };
    for (const service of ctx.products) {
      const productRoute = service.route(productRequest);
      if (productRoute !== undefined) return handleProduct(res, productRoute, method0, path, now0, requestId);
    }
    const parsed = parseRequest(req.method ?? 'GET', rawUrl, req.headers, body, req.headersDistinct);
    const { method, action, version, accessKeyId, signatureVersion } = parsed;
    const record = newRecord(now0, { method, path, action, version, accessKeyId, signatureVersion });
    log.push(record);
    const format: ResponseFormat =
      parsed.signatureVersion !== 'v3' && (parsed.params.Format ?? 'XML').toUpperCase() === 'XML' ? 'XML' : 'JSON';
    const product = parsed.version === IOT_VERSION ? 'Iot' : 'Sts';
    const held: ShapeHolder = {};
    const reply = replier(record, res, requestId, held);
    const replyError = (error: ApiError) => {
      const { contentType, text } = render(errorBody(error, requestId, hostId, product), format, 'Error');
      reply(error.status, contentType, text, error.code);
    };
    const shape = (s: AnswerShape) => (held.shape = s);

    if (await faults.apply(parsed.action, { record, res, requestId, reply, replyError, shape })) return;

    try {
      const now = clock();
      const result = dispatch(ctx, parsed, now);
      result.RequestId = requestId;
      if (typeof result.Credentials === 'object' && result.Credentials !== null) {
        reshapeCredentials(result.Credentials as Record<string, unknown>, held.shape, now);
      }
      const { contentType, text } = render(result, format, `${parsed.action}Response`);
      reply(200, contentType, text, undefined);
    } catch (error) {
      if (error instanceof ApiError) replyError(error);
      else replyError(new ApiError(500, 'InternalError', `Emulator internal error: ${(error as Error)?.message ?? String(error)}`));
    }
  }

  const server = createServer((req, res) => {
    // A preflight is answered here, unlogged; other answers keep the CORS headers set here.
    if (applyCors(ctx.resolved.cors?.allowOrigins, req, res)) return;
    handle(req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.resolved.options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    log,
    faults,
    close(): Promise<void> {
      if (closing !== undefined) return closing;
      closed = true;
      faults.close();
      closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
