/**
 * Turning STS failures into {@link StsError}s: service error bodies, non-JSON answers,
 * network failures and timeouts, each with `retryable` set per the STS error codes.
 *
 * Messages are built from what the server said plus the action, the HTTP status and the
 * request id. Anything equal to a secret of the request (the source AccessKeySecret, its
 * SecurityToken, an OIDC token; raw or percent-encoded) is replaced by `[REDACTED]`
 * before it reaches a message, even though it comes from the server.
 */
import { StsError } from '../errors.js';
import { bodyExcerpt as excerpt, describeFailure, sanitizeError, sanitizeText, scrubSecrets } from '../internal/redact.js';

export { scrubSecrets };

/** The fields of an STS error body (`{RequestId, HostId, Code, Message, Recommend}`). */
type StsErrorBody = {
  RequestId?: string;
  HostId?: string;
  Code?: string;
  Message?: string;
  Recommend?: string;
};

const SIGNATURE_MISMATCH_PREFIX = 'server string to sign is:';

/** Codes that are worth retrying whatever the status. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ServiceUnavailable',
  'InternalError',
  'InternalServerError',
  'ServiceTimeout',
  'GatewayTimeout',
  'RequestTimeout',
  'SignatureNonceUsed', // every attempt uses a fresh nonce
  'Timeout',
  'NetworkError',
]);

/** Code prefixes that are never worth retrying as is (fix the request or the identity). */
const NON_RETRYABLE_PREFIXES: readonly string[] = [
  'NoPermission',
  'Forbidden',
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidSignature', // InvalidSignatureMethod, InvalidSignatureVersion
  'InvalidTimeStamp',
  'EntityNotExist',
  'InvalidParameter',
  'MissingParameter',
  'Missing', // MissingSecurityToken, MissingRoleArn, ...
  'InvalidSecurityToken',
  'AuthenticationFail',
  'InvalidAction',
  'InvalidVersion',
  'UnsupportedHTTPMethod',
];

/**
 * Whether an STS error code (with its HTTP status) is worth retrying:
 * any code containing `Throttling`, `ServiceUnavailable`, `InternalError`,
 * `SignatureNonceUsed`, `Timeout`, `NetworkError`, and otherwise any 5xx or 429 status —
 * except auth, permission and parameter errors (`NoPermission`, `InvalidAccessKeyId.*`,
 * `SignatureDoesNotMatch`, `EntityNotExist.*`, `InvalidParameter*`, `Missing*`,
 * `InvalidSecurityToken.*`, `AuthenticationFail.*`, `InvalidTimeStamp.*`...), which never are.
 *
 * @example
 * ```ts
 * import { isRetryableStsCode } from 'alicred';
 * isRetryableStsCode('Throttling.User', 400); // true
 * isRetryableStsCode('NoPermission', 403);    // false
 * isRetryableStsCode('SomethingNew', 502);    // true (5xx)
 * ```
 */
export function isRetryableStsCode(code: string, httpStatus?: number): boolean {
  if (code.includes('Throttling')) return true;
  if (RETRYABLE_CODES.has(code)) return true;
  if (NON_RETRYABLE_PREFIXES.some((prefix) => code.startsWith(prefix))) return false;
  return httpStatus !== undefined && (httpStatus >= 500 || httpStatus === 429);
}

/**
 * What {@link toStsError} needs to know about a failed exchange.
 *
 * @example
 * ```ts
 * import { toStsError, type StsFailure } from 'alicred';
 * const failure: StsFailure = { kind: 'timeout', action: 'AssumeRole', endpoint: 'https://sts.aliyuncs.com', timeoutMs: 10000 };
 * toStsError(failure).code; // 'Timeout'
 * ```
 */
export type StsFailure =
  | {
      kind: 'response';
      /** The STS action, e.g. `AssumeRole`. */
      action: string;
      /** HTTP status of the answer. */
      status: number;
      /** The raw body text. */
      body: string;
      /** `x-acs-request-id` response header, used when the body has no RequestId. */
      requestIdHeader?: string | null | undefined;
      /** Secrets of the request, scrubbed from every message. */
      secrets?: readonly (string | undefined)[];
      /** The client's own string to sign, to explain a SignatureDoesNotMatch. */
      stringToSign?: string | undefined;
    }
  | {
      kind: 'network';
      action: string;
      /** The endpoint URL, for the message. */
      endpoint: string;
      /** What fetch (or reading the body) threw; only a sanitized stand-in of it becomes `cause`. */
      cause: unknown;
      secrets?: readonly (string | undefined)[];
    }
  | {
      /** fetch threw something that is not a network failure (e.g. an invalid header value). */
      kind: 'request';
      action: string;
      endpoint: string;
      cause: unknown;
      secrets?: readonly (string | undefined)[];
    }
  | {
      kind: 'timeout';
      action: string;
      endpoint: string;
      timeoutMs: number;
    }
  | {
      /** The answer's body passed the size limit. */
      kind: 'too-large';
      action: string;
      endpoint: string;
      status: number;
      /** The limit, in bytes. */
      maxBytes: number;
      /** What the body was said or seen to be, e.g. `more than 1048576 bytes`. */
      size: string;
    }
  | {
      kind: 'invalid-response';
      action: string;
      status: number;
      /** What is wrong, e.g. `Credentials.SecurityToken is missing`. */
      problem: string;
      requestId?: string | undefined;
    };

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Reads an error body: JSON `{Code, Message, ...}` (any key case) or XML `<Error><Code>…`. */
function parseErrorBody(body: string): StsErrorBody | undefined {
  const text = body.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const o = parsed as Record<string, unknown>;
    const code = str(o.Code) ?? str(o.code);
    if (code === undefined) return undefined;
    return {
      Code: code,
      Message: str(o.Message) ?? str(o.message),
      RequestId: str(o.RequestId) ?? str(o.requestId),
      HostId: str(o.HostId) ?? str(o.hostId),
      Recommend: str(o.Recommend) ?? str(o.recommend),
    };
  }
  if (text.startsWith('<')) {
    const tag = (name: string): string | undefined => {
      const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(text);
      return m?.[1] === undefined || m[1] === '' ? undefined : unescapeXml(m[1]);
    };
    const code = tag('Code');
    if (code === undefined) return undefined;
    return { Code: code, Message: tag('Message'), RequestId: tag('RequestId'), HostId: tag('HostId'), Recommend: tag('Recommend') };
  }
  return undefined;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e]!);
}

/** Longest service message kept in an error message. */
const MAX_SERVICE_MESSAGE_LENGTH = 500;

/**
 * The service's message, scrubbed, with the quoted server string to sign of a
 * SignatureDoesNotMatch left out (it repeats every parameter, the policy included), and
 * cut to 500 characters.
 */
function serviceMessageOf(message: string, secrets: readonly (string | undefined)[]): string {
  let text = message;
  const at = text.indexOf(SIGNATURE_MISMATCH_PREFIX);
  if (at !== -1) {
    const omitted = text.length - at - SIGNATURE_MISMATCH_PREFIX.length;
    text = `${text.slice(0, at + SIGNATURE_MISMATCH_PREFIX.length)} [${omitted} characters omitted]`;
  }
  return sanitizeText(text, secrets, MAX_SERVICE_MESSAGE_LENGTH);
}

/**
 * A hint for SignatureDoesNotMatch: when the server's string to sign (quoted in its
 * message) equals ours, the request arrived intact and the AccessKeySecret is wrong (the
 * check `@alicloud/credentials` makes). When they differ nothing is added: the server's
 * quoting of V3 requests is not documented well enough to blame the request.
 */
function signatureHint(message: string | undefined, ours: string | undefined): string {
  if (message === undefined || ours === undefined) return '';
  const at = message.indexOf(SIGNATURE_MISMATCH_PREFIX);
  if (at === -1) return '';
  const theirs = message.slice(at + SIGNATURE_MISMATCH_PREFIX.length).trim();
  return theirs === ours.trim() ? ' (the server computed the same string to sign: the AccessKeySecret is wrong)' : '';
}

/**
 * Maps a failed STS exchange to an {@link StsError} with `code`, `httpStatus`,
 * `requestId`, `recommend` and `retryable`:
 *
 * - `response`: an STS error body (JSON, or XML) gives the service's code and message;
 *   anything else (an HTML page from a proxy, an empty body) gives code `InvalidResponse`
 *   with the status and a short whitespace-collapsed excerpt. Retryable per
 *   {@link isRetryableStsCode} (`InvalidResponse` only for 5xx/429).
 * - `network`: code `NetworkError`, retryable; `cause` is a sanitized stand-in of the
 *   original (no URL query, no secret of the request), never the original itself.
 * - `request`: fetch refused the request (not a network failure): `RequestFailed`, not retryable.
 * - `timeout`: code `Timeout`, retryable.
 * - `too-large`: the body passed the size limit: `ResponseTooLarge`, not retryable.
 * - `invalid-response`: a 2xx answer missing what it must hold; code `InvalidResponse`,
 *   not retryable.
 *
 * @example
 * ```ts
 * import { toStsError } from 'alicred';
 * const e = toStsError({
 *   kind: 'response', action: 'AssumeRole', status: 403,
 *   body: '{"RequestId":"r-1","Code":"NoPermission","Message":"You are not authorized to do this action."}',
 * });
 * e.code;      // 'NoPermission'
 * e.retryable; // false
 * e.message;   // 'STS AssumeRole failed: NoPermission: You are not authorized to do this action. (HTTP 403, RequestId r-1)'
 * ```
 */
export function toStsError(failure: StsFailure): StsError {
  switch (failure.kind) {
    case 'response': {
      const secrets = failure.secrets ?? [];
      const parsed = parseErrorBody(failure.body);
      const headerRequestId = failure.requestIdHeader ?? undefined;
      if (parsed?.Code !== undefined) {
        const code = scrubSecrets(parsed.Code, secrets);
        const requestId = parsed.RequestId ?? headerRequestId;
        const serviceMessage = parsed.Message === undefined ? '(no message)' : serviceMessageOf(parsed.Message, secrets);
        const hint = code === 'SignatureDoesNotMatch' ? signatureHint(parsed.Message, failure.stringToSign) : '';
        const where = [`HTTP ${failure.status}`, requestId === undefined ? undefined : `RequestId ${requestId}`]
          .filter(Boolean)
          .join(', ');
        return new StsError(`STS ${failure.action} failed: ${code}: ${serviceMessage}${hint} (${where})`, {
          code,
          httpStatus: failure.status,
          requestId,
          recommend: parsed.Recommend,
          retryable: isRetryableStsCode(code, failure.status),
        });
      }
      const shown = excerpt(failure.body, { secrets });
      return new StsError(
        `STS ${failure.action} failed: HTTP ${failure.status} with a body that is not an STS answer` +
          (shown === '' ? ' (empty body)' : `: ${shown}`),
        {
          code: 'InvalidResponse',
          httpStatus: failure.status,
          requestId: headerRequestId,
          retryable: failure.status >= 500 || failure.status === 429,
        },
      );
    }
    case 'network': {
      // Never the foreign error itself: its message or cause may quote the URL with a token.
      const secrets = failure.secrets ?? [];
      return new StsError(`STS ${failure.action}: could not reach ${failure.endpoint}: ${describeFailure(failure.cause, secrets)}`, {
        code: 'NetworkError',
        retryable: true,
        cause: sanitizeError(failure.cause, secrets),
      });
    }
    case 'request': {
      const secrets = failure.secrets ?? [];
      return new StsError(`STS ${failure.action}: the request to ${failure.endpoint} could not be sent: ${describeFailure(failure.cause, secrets)}`, {
        code: 'RequestFailed',
        retryable: false,
        cause: sanitizeError(failure.cause, secrets),
      });
    }
    case 'timeout':
      return new StsError(
        `STS ${failure.action}: ${failure.endpoint} did not answer within ${failure.timeoutMs} ms`,
        { code: 'Timeout', retryable: true },
      );
    case 'too-large':
      return new StsError(
        `STS ${failure.action}: ${failure.endpoint} answered HTTP ${failure.status} with a body of ${failure.size}; ` +
          `the limit is ${failure.maxBytes} bytes`,
        { code: 'ResponseTooLarge', httpStatus: failure.status, retryable: false },
      );
    case 'invalid-response':
      return new StsError(
        `STS ${failure.action} returned an unusable answer (HTTP ${failure.status}): ${failure.problem}`,
        { code: 'InvalidResponse', httpStatus: failure.status, requestId: failure.requestId, retryable: false },
      );
  }
}
