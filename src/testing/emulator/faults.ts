/**
 * Injected faults (see `Emulator.inject`): the queue, and applying the next matching one to
 * a request (latency, socket reset, a literal or broken body, an error answer), and the
 * shaping faults that change how an answer is delivered (trickled or cut body, headers,
 * content type, a skewed server clock) or what its credentials say (Expiration, fields).
 *
 * @internal
 */
import type { ServerResponse } from 'node:http';
import { ApiError, HTML_PAGE, codeForStatus, messageForCode } from './respond.js';
import type { EmulatorFault, EmulatorRequestRecord } from './types.js';

/** Sends an answer and records its status and code. */
export type Reply = (status: number, contentType: string, text: string | Buffer, code: string | undefined, headers?: Record<string, string>) => void;

/** How one request is answered, for {@link FaultQueue.apply}. */
export type FaultTarget = {
  record: EmulatorRequestRecord;
  res: ServerResponse;
  requestId: string;
  reply: Reply;
  /** Answers with an error in the shape of the endpoint (API JSON/XML, IMDS HTML...). */
  replyError: (error: ApiError) => void;
  /** Sets how the answer (normal or faulted) is delivered; see {@link AnswerShape}. */
  shape: (shape: AnswerShape) => void;
};

/** The delivery and content changes of one faulted answer (the shaping fields of a fault). */
export type AnswerShape = Pick<
  EmulatorFault,
  'trickleMs' | 'chunkBytes' | 'resetAfterBytes' | 'contentType' | 'headers' | 'clockOffsetMs' | 'expiresInSeconds' | 'fields' | 'renameRoleTo'
>;

const SHAPE_KEYS = [
  'trickleMs',
  'chunkBytes',
  'resetAfterBytes',
  'contentType',
  'headers',
  'clockOffsetMs',
  'expiresInSeconds',
  'fields',
  'renameRoleTo',
] as const satisfies readonly (keyof AnswerShape)[];

function shapeOf(fault: EmulatorFault): AnswerShape | undefined {
  const shape: Record<string, unknown> = {};
  for (const key of SHAPE_KEYS) if (fault[key] !== undefined) shape[key] = fault[key];
  return Object.keys(shape).length === 0 ? undefined : (shape as AnswerShape);
}

/**
 * Rewrites a credentials record in place (STS `Credentials`, or a vending answer's top
 * level) as the shape says: `Expiration` relative to the server clock, literal fields, and
 * the server clock offset. Records without `Expiration` (error bodies) are left alone.
 */
export function reshapeCredentials(record: Record<string, unknown>, shape: AnswerShape | undefined, now: number): void {
  if (shape === undefined || typeof record.Expiration !== 'string') return;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (shape.expiresInSeconds !== undefined) record.Expiration = iso(now + shape.expiresInSeconds * 1000);
  if (shape.clockOffsetMs !== undefined) {
    const stated = Date.parse(record.Expiration as string);
    if (Number.isFinite(stated)) record.Expiration = iso(stated + shape.clockOffsetMs);
  }
  for (const [key, value] of Object.entries(shape.fields ?? {})) {
    if (value === null) delete record[key];
    else record[key] = value;
  }
}

/** The queue of injected faults and the timers of their latencies. */
export type FaultQueue = {
  /** Queues a fault (validated as `Emulator.inject` documents). */
  inject(fault: EmulatorFault): void;
  /** Drops every queued fault. */
  clear(): void;
  /**
   * Applies the next queued fault for `action`, if any. Resolves true when the request is
   * finished (answered, reset, or the emulator closed), false to serve it normally.
   */
  apply(action: string, target: FaultTarget): Promise<boolean>;
  /**
   * Sends an answer as `shape` says: extra headers, another content type, a `Date` off by
   * `clockOffsetMs`, the body trickled or cut after some bytes (the socket then reset).
   */
  deliver(res: ServerResponse, status: number, headers: Record<string, string>, text: string | Buffer, shape: AnswerShape | undefined): void;
  /** Drops the queue and ends every pending latency at once. */
  close(): void;
};

type QueuedFault = EmulatorFault & { remaining: number };
type Delay = { timer: ReturnType<typeof setTimeout>; resolve: () => void };

/**
 * Creates an empty {@link FaultQueue}; `isClosed` tells whether the emulator closed while a
 * latency ran (the request is then dropped).
 */
export function createFaultQueue(isClosed: () => boolean): FaultQueue {
  const faults: QueuedFault[] = [];
  const delays = new Set<Delay>();

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const delay: Delay = {
        timer: setTimeout(() => {
          delays.delete(delay);
          resolve();
        }, ms),
        resolve: () => resolve(),
      };
      delays.add(delay);
    });
  }

  function take(action: string): QueuedFault | undefined {
    const index = faults.findIndex((f) => f.action === undefined || f.action === action);
    if (index === -1) return undefined;
    const fault = faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  }

  async function apply(action: string, { record, res, requestId, reply, replyError, shape }: FaultTarget): Promise<boolean> {
    const fault = take(action);
    if (fault === undefined) return false;
    record.fault = true;
    const answerShape = shapeOf(fault);
    if (answerShape !== undefined) shape(answerShape);
    if (fault.latencyMs !== undefined && fault.latencyMs > 0) {
      await sleep(fault.latencyMs);
      if (isClosed()) return true;
    }
    if (fault.reset === true) {
      record.code = 'ConnectionReset';
      res.socket?.destroy();
      return true;
    }
    if (fault.body !== undefined) {
      if (fault.body === 'html') {
        reply(fault.status ?? 502, 'text/html;charset=utf-8', HTML_PAGE, undefined);
      } else if (fault.body === 'malformed-json') {
        reply(fault.status ?? 200, 'application/json;charset=utf-8', `{"RequestId":"${requestId}","Credentials":{"AccessKeyId":"STS.`, undefined);
      } else {
        const looksJson = /^\s*[[{]/.test(fault.body);
        reply(fault.status ?? 200, looksJson ? 'application/json;charset=utf-8' : 'text/plain;charset=utf-8', fault.body, undefined);
      }
      return true;
    }
    if (fault.status !== undefined || fault.code !== undefined || fault.message !== undefined) {
      const code = fault.code ?? codeForStatus(fault.status ?? 500);
      const status = fault.status ?? (code.includes('Throttling') ? 400 : 500);
      replyError(new ApiError(status, code, fault.message ?? messageForCode(code)));
      return true;
    }
    return false; // latency or shape only: serve normally
  }

  /** Writes `text` in chunks, `delayMs` apart; stops when the socket goes or the emulator closes. */
  async function trickle(res: ServerResponse, text: Buffer, chunkBytes: number, delayMs: number, cutAt: number | undefined): Promise<void> {
    const end = cutAt ?? text.length;
    for (let at = 0; at < end; at += chunkBytes) {
      if (at > 0) await sleep(delayMs);
      if (isClosed() || res.destroyed) return;
      res.write(text.subarray(at, Math.min(end, at + chunkBytes)));
    }
    if (cutAt !== undefined) {
      // Let the bytes written reach the client before the reset.
      await sleep(10);
      res.socket?.destroy();
    } else if (!res.destroyed) {
      res.end();
    }
  }

  function deliver(res: ServerResponse, status: number, headers: Record<string, string>, text: string | Buffer, answerShape: AnswerShape | undefined): void {
    if (res.destroyed || res.headersSent) return;
    const all: Record<string, string> = { ...headers };
    if (answerShape?.contentType !== undefined) all['Content-Type'] = answerShape.contentType;
    if (answerShape?.clockOffsetMs !== undefined && all.Date !== undefined) {
      all.Date = new Date(Date.parse(all.Date) + answerShape.clockOffsetMs).toUTCString();
    }
    Object.assign(all, answerShape?.headers);
    const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    res.writeHead(status, all);
    const cutAt = answerShape?.resetAfterBytes === undefined ? undefined : Math.min(body.length, answerShape.resetAfterBytes);
    if (answerShape?.trickleMs === undefined && cutAt === undefined) {
      res.end(body);
      return;
    }
    const chunk = answerShape?.trickleMs === undefined ? body.length || 1 : Math.max(1, answerShape.chunkBytes ?? 1);
    trickle(res, body, chunk, answerShape?.trickleMs ?? 0, cutAt).catch(() => res.destroy());
  }

  return {
    inject(fault: EmulatorFault): void {
      const count = fault.count ?? 1;
      if (!(Number.isInteger(count) && count >= 1)) throw new TypeError('inject: count must be an integer >= 1');
      if (fault.latencyMs !== undefined && !(fault.latencyMs >= 0)) throw new TypeError('inject: latencyMs must be >= 0');
      for (const key of ['trickleMs', 'resetAfterBytes'] as const) {
        const v = fault[key];
        if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new TypeError(`inject: ${key} must be a number >= 0`);
      }
      if (fault.chunkBytes !== undefined && !(Number.isInteger(fault.chunkBytes) && fault.chunkBytes >= 1)) {
        throw new TypeError('inject: chunkBytes must be an integer >= 1');
      }
      for (const key of ['clockOffsetMs', 'expiresInSeconds'] as const) {
        const v = fault[key];
        if (v !== undefined && !Number.isFinite(v)) throw new TypeError(`inject: ${key} must be a finite number`);
      }
      if (fault.renameRoleTo !== undefined && !/^[A-Za-z0-9.-]{1,64}$/.test(fault.renameRoleTo)) {
        throw new TypeError('inject: renameRoleTo must be a role name');
      }
      faults.push({ ...fault, remaining: count });
    },
    clear(): void {
      faults.length = 0;
    },
    apply,
    deliver,
    close(): void {
      for (const delay of delays) {
        clearTimeout(delay.timer);
        delay.resolve();
      }
      delays.clear();
      faults.length = 0;
    },
  };
}
