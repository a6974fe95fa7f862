/**
 * Injected faults (see `Emulator.inject`): the queue, and applying the next matching one to
 * a request (latency, socket reset, a literal or broken body, an error answer).
 *
 * @internal
 */
import type { ServerResponse } from 'node:http';
import { ApiError, HTML_PAGE, codeForStatus, messageForCode } from './respond.js';
import type { EmulatorFault, EmulatorRequestRecord } from './types.js';

/** Sends an answer and records its status and code. */
export type Reply = (status: number, contentType: string, text: string, code: string | undefined) => void;

/** How one request is answered, for {@link FaultQueue.apply}. */
export type FaultTarget = {
  record: EmulatorRequestRecord;
  res: ServerResponse;
  requestId: string;
  reply: Reply;
  /** Answers with an error in the shape of the endpoint (API JSON/XML, IMDS HTML...). */
  replyError: (error: ApiError) => void;
};

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

  async function apply(action: string, { record, res, requestId, reply, replyError }: FaultTarget): Promise<boolean> {
    const fault = take(action);
    if (fault === undefined) return false;
    record.fault = true;
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
    return false; // latency only: serve normally
  }

  return {
    inject(fault: EmulatorFault): void {
      const count = fault.count ?? 1;
      if (!(Number.isInteger(count) && count >= 1)) throw new TypeError('inject: count must be an integer >= 1');
      if (fault.latencyMs !== undefined && !(fault.latencyMs >= 0)) throw new TypeError('inject: latencyMs must be >= 0');
      faults.push({ ...fault, remaining: count });
    },
    clear(): void {
      faults.length = 0;
    },
    apply,
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
