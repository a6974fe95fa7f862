/**
 * Error values and response bodies of the emulator, shaped like Alibaba Cloud's
 * (`{RequestId, HostId, Code, Message, Recommend}`; XML under V1 when `Format` is XML or absent).
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';

/** An API error the emulator answers with. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra body fields, e.g. `AccessDeniedDetail`. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Throws an {@link ApiError}: the request ends with this error answer. */
export function fail(status: number, code: string, message: string, extra?: Record<string, unknown>): never {
  throw new ApiError(status, code, message, extra);
}

/** Throws `Missing<Name>` (400) for a mandatory parameter that is absent or empty. */
export function missing(name: string): never {
  fail(400, `Missing${name}`, `${name} is mandatory for this action.`);
}

/** Response format: JSON, or XML for V1 requests whose `Format` is XML or absent. */
export type ResponseFormat = 'JSON' | 'XML';

/** A request id like the service's: an upper-case UUID. */
export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function xmlElement(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => xmlElement(name, v)).join('');
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => xmlElement(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** Serialises a response body as the service would, and its content type. */
export function render(body: Record<string, unknown>, format: ResponseFormat, root: string): { contentType: string; text: string } {
  if (format === 'XML') {
    return {
      contentType: 'text/xml;charset=utf-8',
      text: `<?xml version='1.0' encoding='UTF-8'?>${xmlElement(root, body)}`,
    };
  }
  return { contentType: 'application/json;charset=utf-8', text: JSON.stringify(body) };
}

/** The error body: `{RequestId, HostId, Code, Message, Recommend}` plus any extra fields. */
export function errorBody(error: ApiError, requestId: string, hostId: string, product: string): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: error.code,
    Message: error.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=${product}&requestId=${requestId}`,
    ...error.extra,
  };
}

/** Default code for an injected HTTP status. */
export function codeForStatus(status: number): string {
  if (status === 503) return 'ServiceUnavailable';
  if (status === 429) return 'Throttling';
  if (status === 504) return 'GatewayTimeout';
  if (status >= 500) return 'InternalError';
  if (status === 404) return 'NotFound';
  if (status === 403) return 'Forbidden';
  return 'InvalidParameter';
}

/** Default message for an injected code. */
export function messageForCode(code: string): string {
  if (code === 'ServiceUnavailable') return 'The request has failed due to a temporary failure of the server.';
  if (code === 'InternalError') return 'STS Server Internal Error happened, please send the RequestId to us.';
  if (code.includes('Throttling')) return 'Request was denied due to user flow control.';
  return `Injected fault: ${code}.`;
}

/** A proxy's HTML error page, for `body: 'html'` faults. */
export const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>' +
  '<body><center><h1>502 Bad Gateway</h1></center><hr><center>Tengine</center></body></html>';
