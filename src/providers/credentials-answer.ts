/**
 * What the credentials-URI and ECS-metadata providers share: one GET through the HTTP
 * helper, and reading the `{Code?, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`
 * answer both services give, with skew correction and a stable local expiration.
 *
 * Universal code: no Node built-ins, no `process`.
 */
import { createCredentials, type Credentials } from '../credentials.js';
import { CredentialsProviderError } from '../errors.js';
import { checkCredentialsRecord, PASCAL_CASE_KEYS, type CredentialKeys } from '../internal/credentials-json.js';
import { httpCall, type HttpCall } from '../internal/http.js';
import { logSafely } from '../internal/log.js';
import { MAX_TEMPORARY_LIFETIME_MS } from '../internal/lifetime.js';
import { bodyExcerpt as excerpt } from '../internal/redact.js';



import { boundedLocalExpiration, formatLifetime, parseAge, parseHttpDate, parseStsTime } from '../sts/time.js';
import type { Logger } from '../types.js';

/**
 * The answer of {@link httpRequest}: status, whole body text and the server's `Date`.
 *
 * @internal
 */
export type HttpAnswer = {
  /** HTTP status; 0 for a browser's opaque redirect. */
  readonly status: number;
  /** The body, at most 1 MiB. */
  readonly text: string;
  /** The `Date` header in epoch ms, when present and well-formed. */
  readonly serverDate: number | undefined;
  /** The `Age` header (seconds a cache held the answer), when present and well-formed. */
  readonly ageSeconds?: number | undefined;
  /** The local clock when the headers arrived. */
  readonly localNow?: number | undefined;
};

/**
 * Options of {@link httpRequest}.
 *
 * @internal
 */
export type HttpRequest = Omit<HttpCall, 'maxBytes'>;

/**
 * True for HTTP statuses worth retrying: 408, 429 and 5xx.
 *
 * @internal
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Headers whose values are never secret (scrubbing them would only garble messages). */
const PLAIN_HEADERS: ReadonlySet<string> = new Set(['accept', 'content-type', 'user-agent', 'x-aliyun-ecs-metadata-token-ttl-seconds']);

export function headerSecrets(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([name]) => !PLAIN_HEADERS.has(name.toLowerCase()))
    .map(([, value]) => value);
}

/**
 * One HTTP request within `timeoutMs` (connect, answer and body together), never
 * following redirects, the body capped at 1 MiB. Network failures and timeouts become
 * retryable {@link CredentialsProviderError}s (`NetworkError`, `Timeout`); other fetch
 * failures (`RequestFailed`) and oversized bodies (`ResponseTooLarge`) are not retryable.
 * Any HTTP status is returned, for the caller to judge. A caller's abort rejects with the
 * signal's reason. Errors never carry the foreign error itself, only a sanitized stand-in.
 *
 * @internal
 */
export async function httpRequest(request: HttpRequest): Promise<HttpAnswer> {
  const answer = await httpCall({ ...request, secrets: [...(request.secrets ?? []), ...headerSecrets(request.headers)] });
  return {
    status: answer.status,
    text: answer.text,
    serverDate: parseHttpDate(answer.headers?.get?.('date')),
    ageSeconds: parseAge(answer.headers?.get?.('age')),
    localNow: answer.localNow,
  };
}

/** Longest excerpt of a credentials answer in a message. */
const EXCERPT_CHARS = 120;
/** A credentials answer may carry secrets nobody told us: long key-like runs are masked too. */
export const ANSWER_EXCERPT = { max: EXCERPT_CHARS, unknownSecrets: true } as const;

/**
 * How {@link parseCredentialsBody} reads a body.
 *
 * @internal
 */
export type CredentialsBodyOptions = {
  provider: string;
  /** How messages start (the provider's function name). Default: `provider`. */
  label?: string | undefined;
  /** The endpoint, for messages (no secret). */
  describe: string;
  /** True: `Code` must be present and `"Success"`. False: when present it must be `"Success"`. */
  requireCode: boolean;
  /** `source` of the credentials. */
  source: string;
  /** The local wall clock when the answer arrived (ms), for clock-skew correction. */
  localNow: number;
  /** Told when a lifetime is cut to 12 h. */
  logger?: Logger | undefined;
  /** The request's own secrets (header values, query values, a metadata token): never quoted from the body. */
  secrets?: readonly (string | undefined)[] | undefined;
};

/**
 * Reads `{Code?, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` from a 200
 * answer. Expiration is parsed leniently (ISO 8601 with or without fraction or offset) and
 * moved onto the local clock when the server's `Date` disagrees with ours. Errors name
 * the missing or bad fields, never their values.
 *
 * @internal
 */
export function parseCredentialsBody(
  answer: HttpAnswer,
  how: CredentialsBodyOptions,
): { credentials: Credentials; statedExpiration: number } {
  const fail = (message: string, code = 'InvalidResponse'): never => {
    throw new CredentialsProviderError(`${how.label ?? how.provider}: ${how.describe} ${message}`, { provider: how.provider, code });
  };
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    fail(`answered HTTP ${answer.status} with a body that is not JSON: "${excerpt(answer.text, { ...ANSWER_EXCERPT, secrets: how.secrets })}"`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail(`answered HTTP ${answer.status} with JSON that is not an object`);
  }
  const r = body as Record<string, unknown>;
  if (r.Code !== undefined || how.requireCode) {
    if (r.Code !== 'Success') {
      const code = typeof r.Code === 'string' ? JSON.stringify(excerpt(r.Code, { max: 64, unknownSecrets: true, secrets: how.secrets })) : r.Code === undefined ? 'no Code' : 'a Code that is not a string';
      const message = typeof r.Message === 'string' && r.Message !== '' ? ` (Message: "${excerpt(r.Message, { ...ANSWER_EXCERPT, secrets: how.secrets })}")` : '';
      fail(`answered ${code} instead of Code "Success"${message}`, 'UnsuccessfulResponse');
    }
  }
  return credentialsFromRecord(r, PASCAL_CASE_KEYS, answer, how);
}

/**
 * The credentials of one record of an answer (`{AccessKeyId, …}` under `keys`' names), with
 * the expiration moved onto the local clock and capped at 12 h. Errors name the missing or
 * bad fields, never their values.
 *
 * @internal
 */
export function credentialsFromRecord(
  r: Record<string, unknown>,
  keys: CredentialKeys,
  answer: HttpAnswer,
  how: CredentialsBodyOptions,
): { credentials: Credentials; statedExpiration: number } {
  const fail = (message: string, code = 'InvalidResponse'): never => {
    throw new CredentialsProviderError(`${how.label ?? how.provider}: ${how.describe} ${message}`, { provider: how.provider, code });
  };
  const checked = checkCredentialsRecord(r, { keys, requireToken: true, requireExpiration: true, parseTime: parseStsTime });
  if (checked.problems !== undefined) {
    if (checked.problems[0]!.problem === 'not-a-date') {
      fail(`answered an ${keys.expiration} that is not an ISO 8601 date-time: ${JSON.stringify(excerpt(String(r[keys.expiration]), { max: 40, unknownSecrets: true, secrets: how.secrets }))}`);
    }
    fail(`answered without ${checked.problems.map((p) => p.key).join(', ')} (each must be a non-empty string)`);
  }
  const fields = checked.value!;
  const stated = fields.expiresAt!;
  // Skew-corrected (Date + Age), and never longer than any Alibaba Cloud temporary credential.
  const local = boundedLocalExpiration({
    expiration: stated,
    serverDate: answer.serverDate,
    ageSeconds: answer.ageSeconds,
    localNow: how.localNow,
    maxLifetimeMs: MAX_TEMPORARY_LIFETIME_MS,
  });
  if (local.clamped) {
    logSafely(
      how.logger,
      'warn',
      `alicred: ${how.label ?? how.provider}: ${how.describe} gives the credentials a lifetime of ${formatLifetime(local.lifetimeMs)}, ` +
        `more than the ${formatLifetime(MAX_TEMPORARY_LIFETIME_MS)} any Alibaba Cloud temporary credential has; using ${formatLifetime(MAX_TEMPORARY_LIFETIME_MS)}`,
    );
  }
  const { expiresAt } = local;
  const credentials = createCredentials({
    accessKeyId: fields.accessKeyId.trim(),
    accessKeySecret: fields.accessKeySecret,
    securityToken: fields.securityToken,
    expiration: new Date(expiresAt),
    source: how.source,
  });
  return { credentials, statedExpiration: stated };
}

/**
 * Keeps the local expiration of one credential stable across fetches: a source that hands
 * out the same credential again (ECS metadata before its rotation point) must yield the
 * same `expiration`, or the refresh engine would not recognise it as "not rotated" when
 * clock-skew correction moves it by a few milliseconds.
 *
 * @internal
 */
export function stableExpiration(): (credentials: Credentials, statedExpiration: number) => Credentials {
  let last: { accessKeyId: string; stated: number; credentials: Credentials } | undefined;
  return (credentials, stated) => {
    if (last && last.accessKeyId === credentials.accessKeyId && last.stated === stated) {
      const expiration = last.credentials.expiration;
      if (expiration && credentials.expiration && expiration.getTime() !== credentials.expiration.getTime()) {
        return createCredentials({
          accessKeyId: credentials.accessKeyId,
          accessKeySecret: credentials.accessKeySecret,
          securityToken: credentials.securityToken,
          expiration,
          source: credentials.source,
        });
      }
      return credentials;
    }
    last = { accessKeyId: credentials.accessKeyId, stated, credentials };
    return credentials;
  };
}

