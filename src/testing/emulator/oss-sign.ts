/**
 * The emulator's own OSS signature arithmetic, written from Alibaba Cloud's published
 * algorithms with node:crypto:
 * - V1: `Authorization: OSS <AccessKeyId>:<Signature>`, or a URL with `OSSAccessKeyId`,
 *   `Expires` and `Signature`; base64 HMAC-SHA1 keyed with the AccessKey secret over
 *   `VERB\nContent-MD5\nContent-Type\nDate-or-Expires\n` + CanonicalizedOSSHeaders +
 *   CanonicalizedResource.
 * - V4: `Authorization: OSS4-HMAC-SHA256 Credential=…,AdditionalHeaders=…,Signature=…`, or a
 *   URL with `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`, `x-oss-expires` and
 *   `x-oss-signature`; hex HMAC-SHA256 over `OSS4-HMAC-SHA256\n<x-oss-date>\n<scope>\n` + the
 *   hex SHA-256 of the canonical request, keyed by the chain `"aliyun_v4" + secret` → date →
 *   region → `oss` → `aliyun_v4_request`.
 *
 * It shares no code with ali-oss's signer nor with alicred's signer in src/sts/: the emulator
 * judges clients, and a bug shared by both sides would pass unnoticed.
 *
 * @internal
 */
import { createHmac } from 'node:crypto';
import { rfc3986, sha256Hex } from './verify.js';

/** Name of the V4 algorithm, in `Authorization`, `x-oss-signature-version` and the string to sign. */
export const OSS_V4_ALGORITHM = 'OSS4-HMAC-SHA256';
/** The payload hash of every V4 request whose `x-oss-content-sha256` does not give one. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** A request's headers by lower-case name, repeated values joined with `,`. */
export type OssHeaders = Readonly<Record<string, string>>;
/** A request's query, decoded, in arrival order (a key sent without `=` has the value `''`). */
export type OssQuery = readonly (readonly [string, string])[];

/** The V4 credential scope: `<AccessKeyId>/<date>/<region>/<product>/<terminator>`. */
export type OssV4Scope = { readonly date: string; readonly region: string; readonly product: string; readonly terminator: string };

/** Where a request's OSS signature is and what it says. */
export type OssAuth =
  | { readonly kind: 'v1-header'; readonly accessKeyId: string; readonly signature: string }
  | { readonly kind: 'v1-query'; readonly accessKeyId: string; readonly signature: string; readonly expires: string }
  | {
      readonly kind: 'v4-header' | 'v4-query';
      readonly accessKeyId: string;
      readonly scope: OssV4Scope;
      /** Lower-case, sorted, without duplicates. */
      readonly additionalHeaders: readonly string[];
      readonly signature: string;
      /** `x-oss-date` and `x-oss-expires` of a presigned URL (v4-query only). */
      readonly date?: string;
      readonly expires?: string;
    }
  | { readonly kind: 'malformed'; readonly version: 'oss-v1' | 'oss-v4'; readonly accessKeyId: string | undefined; readonly placement: 'header' | 'query'; readonly problem: string };

function queryValue(query: OssQuery, name: string): string | undefined {
  return query.find(([k]) => k === name)?.[1];
}

function parseScope(credential: string): { accessKeyId: string; scope: OssV4Scope } | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) return undefined;
  const [accessKeyId, date, region, product, terminator] = parts as [string, string, string, string, string];
  return { accessKeyId, scope: { date, region, product, terminator } };
}

function additionalHeaderList(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return [...new Set(value.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''))].sort();
}

/**
 * Reads the OSS signature of a request: the `Authorization` header (`OSS ` or
 * `OSS4-HMAC-SHA256 `), else the query of a presigned URL. Undefined when the request carries
 * neither (it is then not an OSS request the emulator can judge).
 */
export function readOssAuth(authorization: string | undefined, query: OssQuery): OssAuth | undefined {
  if (authorization !== undefined && authorization.startsWith('OSS ')) {
    const rest = authorization.slice(4).trim();
    const colon = rest.lastIndexOf(':');
    if (colon <= 0 || colon === rest.length - 1) {
      return { kind: 'malformed', version: 'oss-v1', placement: 'header', accessKeyId: colon > 0 ? rest.slice(0, colon) : undefined, problem: 'The Authorization header is invalid: expected "OSS <AccessKeyId>:<Signature>".' };
    }
    return { kind: 'v1-header', accessKeyId: rest.slice(0, colon).trim(), signature: rest.slice(colon + 1).trim() };
  }
  if (authorization !== undefined && authorization.startsWith(`${OSS_V4_ALGORITHM} `)) {
    const fields = new Map<string, string>();
    for (const part of authorization.slice(OSS_V4_ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const parsed = parseScope(fields.get('Credential') ?? '');
    const signature = fields.get('Signature') ?? '';
    if (parsed === undefined || signature === '') {
      return { kind: 'malformed', version: 'oss-v4', placement: 'header', accessKeyId: parsed?.accessKeyId, problem: 'The Authorization header is invalid: expected "OSS4-HMAC-SHA256 Credential=<AccessKeyId>/<date>/<region>/oss/aliyun_v4_request,Signature=<hex>".' };
    }
    return { kind: 'v4-header', ...parsed, additionalHeaders: additionalHeaderList(fields.get('AdditionalHeaders')), signature };
  }
  const ossAccessKeyId = queryValue(query, 'OSSAccessKeyId');
  if (ossAccessKeyId !== undefined) {
    const signature = queryValue(query, 'Signature');
    const expires = queryValue(query, 'Expires');
    if (ossAccessKeyId === '' || !signature || !expires) {
      return { kind: 'malformed', version: 'oss-v1', placement: 'query', accessKeyId: ossAccessKeyId || undefined, problem: 'A signed URL needs OSSAccessKeyId, Expires and Signature.' };
    }
    return { kind: 'v1-query', accessKeyId: ossAccessKeyId, signature, expires };
  }
  const version = queryValue(query, 'x-oss-signature-version');
  const credential = queryValue(query, 'x-oss-credential');
  if (version === undefined && credential === undefined && queryValue(query, 'x-oss-signature') === undefined) return undefined;
  const parsed = parseScope(credential ?? '');
  const signature = queryValue(query, 'x-oss-signature');
  const date = queryValue(query, 'x-oss-date');
  const expires = queryValue(query, 'x-oss-expires');
  if (version !== OSS_V4_ALGORITHM || parsed === undefined || !signature || !date || !expires) {
    return { kind: 'malformed', version: 'oss-v4', placement: 'query', accessKeyId: parsed?.accessKeyId, problem: `A V4 signed URL needs x-oss-signature-version=${OSS_V4_ALGORITHM}, x-oss-credential, x-oss-date, x-oss-expires and x-oss-signature.` };
  }
  return { kind: 'v4-query', ...parsed, additionalHeaders: additionalHeaderList(queryValue(query, 'x-oss-additional-headers')), signature, date, expires };
}

// ---------------------------------------------------------------------------
// V1
// ---------------------------------------------------------------------------

/**
 * The sub-resources of the V1 CanonicalizedResource, as the V1 algorithm lists them (query
 * parameters not in this list are not signed).
 */
export const V1_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append', 'tagging',
  'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName', 'replication',
  'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod',
  'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type', 'x-oss-traffic-limit',
  'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'udf', 'udfName', 'udfImage', 'udfId', 'udfImageDesc', 'udfApplication',
  'udfApplicationLog', 'restore', 'callback', 'callback-var', 'qosInfo', 'policy', 'stat', 'encryption', 'versions',
  'versioning', 'versionId', 'sequential', 'continuation-token', 'regionList', 'cloudboxes', 'inventory', 'inventoryId',
  'worm', 'wormId', 'wormExtend',
]);

/**
 * The V1 CanonicalizedResource: `/<bucket>/<key>` with the key decoded (`/<bucket>/` for a
 * bucket operation, `/` with no bucket), then the sub-resources present in the query, sorted
 * by name, `?name=value&name2` (decoded values; a sub-resource without a value is its name).
 */
export function ossV1CanonicalResource(bucket: string | undefined, key: string, query: OssQuery): string {
  const path = bucket === undefined ? '/' : `/${bucket}/${key}`;
  const subresources = query
    .filter(([k]) => V1_SUBRESOURCES.has(k))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .sort((a, b) => byName(a.split('=', 1)[0]!, b.split('=', 1)[0]!));
  return subresources.length === 0 ? path : `${path}?${subresources.join('&')}`;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The V1 CanonicalizedOSSHeaders: every `x-oss-` header, lower-case name, value trimmed,
 * `name:value\n`, sorted by name; `''` when there is none.
 */
export function ossV1CanonicalHeaders(headers: OssHeaders): string {
  return Object.keys(headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort(byName)
    .map((name) => `${name}:${headers[name]!.trim()}\n`)
    .join('');
}

/** What a V1 string to sign is made of, as the server received it. */
export type OssV1Input = {
  readonly method: string;
  readonly headers: OssHeaders;
  /** The `Date` line: the `Date` (or `x-oss-date`) header, or a signed URL's `Expires`. */
  readonly date: string;
  readonly resource: string;
};

/** The V1 string to sign. */
export function ossV1StringToSign(input: OssV1Input): string {
  const { headers } = input;
  return [
    input.method.toUpperCase(),
    headers['content-md5'] ?? '',
    headers['content-type'] ?? '',
    input.date,
    ossV1CanonicalHeaders(headers) + input.resource,
  ].join('\n');
}

/** The V1 signature: base64 HMAC-SHA1 of the string to sign, keyed with the AccessKey secret itself. */
export function ossV1Signature(stringToSign: string, secret: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

// ---------------------------------------------------------------------------
// V4
// ---------------------------------------------------------------------------

/** What a V4 canonical request is made of, as the server received it. */
export type OssV4Input = {
  readonly method: string;
  readonly bucket: string | undefined;
  readonly key: string;
  /** Every query parameter but `x-oss-signature`. */
  readonly query: OssQuery;
  readonly headers: OssHeaders;
  /** The `AdditionalHeaders` (or `x-oss-additional-headers`) names: lower-case, sorted. */
  readonly additionalHeaders: readonly string[];
  /** `x-oss-content-sha256`, or {@link UNSIGNED_PAYLOAD}. */
  readonly payloadHash: string;
};

/** Whether V4 signs this header whether or not `AdditionalHeaders` names it. */
function signedByDefault(name: string): boolean {
  return name.startsWith('x-oss-') || name === 'content-type' || name === 'content-md5';
}

/**
 * The V4 canonical request, one part per line: the method; the canonical URI (`/<bucket>/<key>`
 * URI-encoded with `/` kept, `/<bucket>/` or `/`); the canonical query (names and values
 * RFC 3986-encoded, sorted by name, `name=value` or `name` alone when the value is empty,
 * joined with `&`); the canonical headers (`x-oss-*`, `Content-Type`, `Content-MD5` and the
 * additional headers present, lower-case `name:trimmed value\n`, sorted); the additional
 * header names joined with `;`; the payload hash.
 */
export function ossV4CanonicalRequest(input: OssV4Input): string {
  const uri = input.bucket === undefined ? '/' : `/${rfc3986(input.bucket)}/${input.key.split('/').map(rfc3986).join('/')}`;
  const query = input.query
    .map(([k, v]) => [rfc3986(k), v === '' ? '' : rfc3986(v)] as const)
    .sort((a, b) => byName(a[0], b[0]) || byName(a[1], b[1]))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
  const additional = new Set(input.additionalHeaders);
  const headers = Object.keys(input.headers)
    .filter((name) => signedByDefault(name) || additional.has(name))
    .sort(byName)
    .map((name) => `${name}:${input.headers[name]!.trim()}\n`)
    .join('');
  return [input.method.toUpperCase(), uri, query, headers, input.additionalHeaders.join(';'), input.payloadHash].join('\n');
}

/** The V4 scope string: `<date>/<region>/<product>/<terminator>`. */
export function ossV4ScopeString(scope: OssV4Scope): string {
  return `${scope.date}/${scope.region}/${scope.product}/${scope.terminator}`;
}

/** The V4 string to sign: the algorithm, the request time (`x-oss-date`), the scope, the hex SHA-256 of the canonical request. */
export function ossV4StringToSign(timestamp: string, scope: OssV4Scope, canonicalRequest: string): string {
  return [OSS_V4_ALGORITHM, timestamp, ossV4ScopeString(scope), sha256Hex(canonicalRequest)].join('\n');
}

/**
 * The V4 signature: hex HMAC-SHA256 of the string to sign, keyed with the signing key derived
 * from `"aliyun_v4" + secret` through the scope's date, region, product and terminator.
 */
export function ossV4Signature(stringToSign: string, secret: string, scope: OssV4Scope): string {
  let key: Buffer = createHmac('sha256', `aliyun_v4${secret}`).update(scope.date, 'utf8').digest();
  for (const part of [scope.region, scope.product, scope.terminator]) key = createHmac('sha256', key).update(part, 'utf8').digest();
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------
// Request times
// ---------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const GMT_RE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ISO_BASIC_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if (month < 0 || month > 11 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const time = Date.UTC(year, month, day, hour, minute, second);
  return new Date(time).getUTCDate() === day ? time : Number.NaN;
}

/** Epoch ms of an HTTP date (`Tue, 20 Dec 2022 08:48:18 GMT`, two-digit day); NaN when malformed. */
export function parseGmtDate(value: string): number {
  const m = GMT_RE.exec(value.trim());
  if (m === null) return Number.NaN;
  return utc(Number(m[3]), MONTHS.indexOf(m[2]!), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Epoch ms of an ISO 8601 basic UTC time (`20221220T084818Z`); NaN when malformed. */
export function parseIsoBasic(value: string): number {
  const m = ISO_BASIC_RE.exec(value.trim());
  if (m === null) return Number.NaN;
  return utc(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
