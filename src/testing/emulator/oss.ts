/**
 * The emulator's OSS endpoint: recognises OSS-signed requests (V1 and V4, header or signed
 * URL), finds their bucket and key, authenticates them (oss-auth.ts), authorizes them against
 * the caller's RAM and session policies, and serves PutObject, GetObject, HeadObject,
 * DeleteObject and ListObjects from an in-memory store, answering in OSS's shapes (XML errors,
 * `x-oss-request-id`, ETag...).
 *
 * @internal
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './account.js';
import { authorize } from './authorize.js';
import { authenticateOss } from './oss-auth.js';
import { readOssAuth, V1_SUBRESOURCES, type OssHeaders, type OssQuery } from './oss-sign.js';
import type { ProductAnswer, ProductContext, ProductRequest, ProductRoute, ProductService } from './product.js';
import { ApiError, fail } from './respond.js';

/** The operations the endpoint serves; anything else it authenticates, then answers `NotImplemented` (501). */
export type OssAction = 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'ListObjects' | 'NotImplemented';

/** One stored object. */
type StoredObject = {
  readonly body: Buffer;
  readonly contentType: string;
  readonly md5: Buffer;
  /** Epoch ms on the emulator clock. */
  readonly lastModified: number;
  /** `x-oss-meta-*` headers as sent. */
  readonly meta: Readonly<Record<string, string>>;
};

/** Bucket and key of a request, or why they cannot be read. */
type Target = {
  readonly bucket: string | undefined;
  readonly key: string;
  /** The bucket came from the Host header (virtual-hosted style). */
  readonly fromHost: boolean;
  readonly problem?: readonly [number, string, string];
};

/** Per-request identity of the answers: request id, host id, method (HEAD answers have no body). */
type AnswerIds = { readonly requestId: string; readonly hostId: string; readonly method: string };

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

/** Escapes element text (quotes stay literal, as in OSS's `<ETag>"…"</ETag>`). */
function escapeXml(text: string): string {
  return text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

function xml(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => xml(name, v)).join('');
  if (typeof value === 'object') {
    return `<${name}>${Object.entries(value as Record<string, unknown>).map(([k, v]) => xml(k, v)).join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function xmlDocument(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml(root, body)}`;
}

/**
 * OSS's error answer: `<Error><Code/><Message/><RequestId/><HostId/>…extra…<EC/><RecommendDoc/></Error>`
 * as `application/xml`; for HEAD (no body) the same XML, base64, in the `x-oss-err` header.
 */
function errorAnswer(ids: AnswerIds, status: number, code: string, message: string, extra: Record<string, unknown> = {}): ProductAnswer {
  const { EC: ec, ...fields } = extra;
  const trailer = typeof ec === 'string' ? { EC: ec, RecommendDoc: `https://api.aliyun.com/troubleshoot?q=${ec}` } : {};
  const body = xmlDocument('Error', { Code: code, Message: message, RequestId: ids.requestId, HostId: ids.hostId, ...fields, ...trailer });
  const headers: Record<string, string> = { 'Content-Type': 'application/xml', 'x-oss-request-id': ids.requestId };
  if (typeof ec === 'string') headers['x-oss-ec'] = ec;
  if (ids.method === 'HEAD') return { status, headers: { ...headers, 'x-oss-err': Buffer.from(body, 'utf8').toString('base64') }, body: '', code };
  return { status, headers, body, code };
}

// ---------------------------------------------------------------------------
// Reading the request
// ---------------------------------------------------------------------------

function flatHeaders(headers: IncomingHttpHeaders): OssHeaders {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

function decodePathPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** A host that names no bucket: an IP, `localhost`, or an OSS service endpoint (`oss-cn-hangzhou.aliyuncs.com`). */
function isServiceHost(hostname: string): boolean {
  return hostname === '' || hostname === 'localhost' || isIP(hostname) !== 0 || /^oss[a-z0-9-]*\.aliyuncs\.com$/.test(hostname);
}

/**
 * Bucket and key: virtual-hosted style (`Host: <bucket>.<anything>`, key = the whole path)
 * unless the host names no bucket (an IP such as the emulator's own `127.0.0.1:<port>`,
 * `localhost`, an OSS service endpoint), then path style (`/<bucket>/<key>`).
 */
function targetOf(host: string, rawPath: string): Target {
  const hostname = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!).toLowerCase();
  const badKey = [400, 'InvalidObjectName', 'The specified object name is not valid (malformed percent-encoding).'] as const;
  if (!isServiceHost(hostname)) {
    const key = decodePathPart(rawPath.slice(1));
    return key === undefined ? { bucket: hostname.split('.')[0], key: '', fromHost: true, problem: badKey } : { bucket: hostname.split('.')[0], key, fromHost: true };
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: '', fromHost: false };
  const slash = rest.indexOf('/');
  const bucket = decodePathPart(slash === -1 ? rest : rest.slice(0, slash));
  const key = slash === -1 ? '' : decodePathPart(rest.slice(slash + 1));
  if (bucket === undefined || key === undefined) return { bucket: bucket ?? '', key: '', fromHost: false, problem: badKey };
  return { bucket, key, fromHost: false };
}

/** The operation of a request, from its method, target, sub-resources and headers. */
function actionOf(method: string, target: Target, query: OssQuery, headers: OssHeaders): OssAction {
  const subresource = query.some(([k]) => V1_SUBRESOURCES.has(k) && k !== 'security-token' && !k.startsWith('response-'));
  if (target.bucket === undefined) return 'NotImplemented';
  if (target.key === '') return method === 'GET' && !subresource && !query.some(([k]) => k === 'list-type') ? 'ListObjects' : 'NotImplemented';
  if (subresource) return 'NotImplemented';
  if (method === 'PUT') return headers['x-oss-copy-source'] === undefined ? 'PutObject' : 'NotImplemented';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return 'NotImplemented';
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

const etagOf = (object: StoredObject) => `"${object.md5.toString('hex').toUpperCase()}"`;
const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** `response-*` query overrides of a GetObject answer's headers. */
const RESPONSE_OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'Content-Type',
  'response-content-disposition': 'Content-Disposition',
  'response-cache-control': 'Cache-Control',
  'response-content-encoding': 'Content-Encoding',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
};

function checkNames(bucket: string, key: string | undefined): void {
  if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) {
    fail(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  }
  if (key !== undefined && (key === '' || Buffer.byteLength(key, 'utf8') > 1023)) {
    fail(400, 'InvalidObjectName', 'The specified object name is not valid (1 to 1023 bytes of UTF-8).');
  }
}

/** What an operation needs of the request. */
type OperationInput = {
  readonly request: ProductRequest;
  readonly headers: OssHeaders;
  readonly query: OssQuery;
  readonly bucket: string;
  readonly key: string;
  readonly ids: AnswerIds;
  readonly now: number;
};

/**
 * The in-memory store and the five operations. A bucket comes into existence with its first
 * PutObject and lives as long as the emulator (deleting its last object keeps it).
 */
function createStore(accountId: string) {
  const buckets = new Map<string, Map<string, StoredObject>>();

  const bucketOf = (name: string): Map<string, StoredObject> => {
    const bucket = buckets.get(name);
    if (bucket === undefined) fail(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: name });
    return bucket;
  };
  const objectOf = (bucketName: string, key: string): StoredObject => {
    const object = bucketOf(bucketName).get(key);
    if (object === undefined) fail(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    return object;
  };
  const base = (ids: AnswerIds): Record<string, string> => ({ 'x-oss-request-id': ids.requestId });
  const objectHeaders = (object: StoredObject, ids: AnswerIds): Record<string, string> => ({
    ...base(ids),
    'Content-Type': object.contentType,
    ETag: etagOf(object),
    'Last-Modified': new Date(object.lastModified).toUTCString(),
    'Content-MD5': object.md5.toString('base64'),
    'Accept-Ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
    ...object.meta,
  });

  function putObject({ request, headers, bucket, key, ids, now }: OperationInput): ProductAnswer {
    const md5 = createHash('md5').update(request.body).digest();
    const sentMd5 = headers['content-md5'];
    if (sentMd5 !== undefined && sentMd5.trim() !== md5.toString('base64')) {
      fail(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    }
    let objects = buckets.get(bucket);
    if (objects?.has(key) && headers['x-oss-forbid-overwrite']?.toLowerCase() === 'true') {
      fail(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
    }
    if (objects === undefined) buckets.set(bucket, (objects = new Map()));
    const meta = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('x-oss-meta-')));
    const object: StoredObject = { body: Buffer.from(request.body), contentType: headers['content-type'] || 'application/octet-stream', md5, lastModified: now, meta };
    objects.set(key, object);
    return { status: 200, headers: { ...base(ids), ETag: etagOf(object), 'Content-MD5': md5.toString('base64') }, body: '' };
  }

  function getObject({ query, bucket, key, ids }: OperationInput, head: boolean): ProductAnswer {
    const object = objectOf(bucket, key);
    const headers = objectHeaders(object, ids);
    for (const [name, value] of query) {
      const header = RESPONSE_OVERRIDES[name];
      if (header !== undefined) headers[header] = value;
    }
    if (head) return { status: 200, headers: { ...headers, 'Content-Length': String(object.body.length) }, body: '' };
    return { status: 200, headers, body: object.body };
  }

  function deleteObject({ bucket, key, ids }: OperationInput): ProductAnswer {
    bucketOf(bucket).delete(key);
    return { status: 204, headers: base(ids), body: '' };
  }

  function listObjects({ query, bucket, ids }: OperationInput): ProductAnswer {
    const objects = bucketOf(bucket);
    const param = (name: string) => query.find(([k]) => k === name)?.[1];
    const prefix = param('prefix') ?? '';
    const marker = param('marker') ?? '';
    const delimiter = param('delimiter') ?? '';
    const maxKeysText = param('max-keys');
    const maxKeys = maxKeysText === undefined || maxKeysText === '' ? 100 : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > 1000) {
      fail(400, 'InvalidArgument', 'max-keys must be an integer between 0 and 1000.', { ArgumentName: 'max-keys', ArgumentValue: maxKeysText });
    }
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && compareKeys(k, marker) > 0).sort(compareKeys);
    const contents: Record<string, unknown>[] = [];
    const prefixes: string[] = [];
    let nextMarker = '';
    let truncated = false;
    for (const key of keys) {
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      const commonPrefix = cut === -1 ? undefined : key.slice(0, cut + delimiter.length);
      if (commonPrefix !== undefined && prefixes.includes(commonPrefix)) continue;
      if (contents.length + prefixes.length === maxKeys) {
        truncated = true;
        break;
      }
      nextMarker = commonPrefix ?? key;
      if (commonPrefix !== undefined) {
        prefixes.push(commonPrefix);
        continue;
      }
      const object = objects.get(key)!;
      contents.push({
        Key: key,
        LastModified: new Date(object.lastModified).toISOString(),
        ETag: etagOf(object),
        Type: 'Normal',
        Size: object.body.length,
        StorageClass: 'Standard',
        Owner: { ID: accountId, DisplayName: accountId },
      });
    }
    const body = xmlDocument('ListBucketResult', {
      Name: bucket,
      Prefix: prefix,
      Marker: marker,
      MaxKeys: maxKeys,
      Delimiter: delimiter,
      IsTruncated: truncated,
      ...(truncated ? { NextMarker: nextMarker } : {}),
      Contents: contents,
      CommonPrefixes: prefixes.map((p) => ({ Prefix: p })),
    });
    return { status: 200, headers: { ...base(ids), 'Content-Type': 'application/xml' }, body };
  }

  return { putObject, getObject, deleteObject, listObjects };
}

/** RAM action and resource of each modelled operation (HeadObject needs `oss:GetObject`, as on OSS). */
function permissionOf(action: OssAction, accountId: string, bucket: string, key: string): [string, string] | undefined {
  const object = `acs:oss:*:${accountId}:${bucket}/${key}`;
  if (action === 'PutObject') return ['oss:PutObject', object];
  if (action === 'GetObject' || action === 'HeadObject') return ['oss:GetObject', object];
  if (action === 'DeleteObject') return ['oss:DeleteObject', object];
  if (action === 'ListObjects') return ['oss:ListObjects', `acs:oss:*:${accountId}:${bucket}`];
  return undefined;
}

/**
 * The emulator's OSS endpoint, on the emulator's own port (`emu.url`).
 *
 * It claims only OSS-signed requests: `Authorization: OSS …` (V1) or `OSS4-HMAC-SHA256 …` (V4),
 * or a signed URL (`OSSAccessKeyId`, or `x-oss-signature-version`/`x-oss-credential`); STS,
 * IoT Platform and the metadata endpoints are untouched. Every such request is authenticated
 * (see `authenticateOss`: request time within `maxSkewSeconds`, the RAM user key or an issued
 * `STS.` key with its current token, the signature recomputed by the emulator's own verifier),
 * then authorized: the caller's RAM and session policies must allow `oss:PutObject`,
 * `oss:GetObject` (GetObject, HeadObject), `oss:DeleteObject` on
 * `acs:oss:*:<accountId>:<bucket>/<key>`, or `oss:ListObjects` on `acs:oss:*:<accountId>:<bucket>`
 * (else `AccessDenied`, 403, with `AccessDeniedDetail`).
 *
 * Operations (log and fault action names): `PutObject`, `GetObject`, `HeadObject`,
 * `DeleteObject`, `ListObjects` (V1: `prefix`, `marker`, `max-keys`, `delimiter`). Anything
 * else, once authenticated, answers `NotImplemented` (501). The store is in memory, one per
 * emulator: a bucket exists from its first PutObject (`NoSuchBucket` before), bodies are up to
 * the server's 1 MiB request limit.
 *
 * Addressing: the bucket comes from the Host header (virtual-hosted style) unless the host is
 * an IP, `localhost` or an OSS service endpoint, then from the path (`/<bucket>/<key>`). With
 * an IP endpoint, ali-oss (6.x) sends every API call to that IP with the path `/<key>` and
 * `Host: <bucket>.<region>.aliyuncs.com` (virtual-hosted), so the default configuration just
 * works:
 *
 * ```ts
 * import OSS from 'ali-oss';
 * import { startEmulator } from 'alicred/testing';
 * const user = { name: 'u', accessKeyId: 'LTAI5tOssDocUser000001', accessKeySecret: 'doc-secret-0123' };
 * const emu = await startEmulator({ users: [user] });
 * const store = new OSS({ endpoint: emu.url, region: 'oss-cn-hangzhou', bucket: 'my-bucket',
 *   accessKeyId: user.accessKeyId, accessKeySecret: user.accessKeySecret, // or toOssOptions(provider, {...})
 *   authorizationV4: true });                   // optional: V4 instead of V1
 * await store.put('hello.txt', Buffer.from('hi'));
 * await emu.close();
 * ```
 *
 * Signed URLs for a plain `fetch` carry no Host of their own, so they need the bucket in the
 * path: make them with `sldEnable: true` (path style) on a separate client, since `sldEnable`
 * puts the bucket in the path of API calls too while ali-oss still sets the virtual-hosted
 * Host. `signatureUrlV4('GET', 60, {}, key)` then gives `http://127.0.0.1:<port>/<bucket>/<key>?x-oss-…`.
 * ali-oss refuses V1 `signatureUrl()` / `asyncSignatureUrl()` with an IP endpoint; sign on a
 * client whose endpoint is a name that never resolves (e.g. `http://oss.emulator.invalid`,
 * `sldEnable: true`) and replace the URL's origin with `emu.url`: the V1 signature does not
 * cover the host.
 */
export function createOssService(ctx: ProductContext): ProductService {
  const { account, resolved } = ctx;
  const store = createStore(account.accountId);

  function operate(action: OssAction, caller: Caller, input: OperationInput): ProductAnswer {
    const { bucket, key, request } = input;
    if (action === 'NotImplemented') {
      fail(
        501,
        'NotImplemented',
        `The alicred emulator does not model this OSS operation (${request.method} ${request.rawUrl.split('?')[0]}); ` +
          'the request was signed correctly with a valid key and token. It models PutObject, GetObject, HeadObject, DeleteObject and ListObjects (V1).',
      );
    }
    const permission = permissionOf(action, account.accountId, bucket, key);
    if (permission !== undefined) {
      authorize(caller, permission[0], permission[1], account.accountId, 'AccessDenied', 'You have no right to access this object because of RAM policy.');
    }
    checkNames(bucket, action === 'ListObjects' ? undefined : key);
    if (action === 'PutObject') return store.putObject(input);
    if (action === 'GetObject' || action === 'HeadObject') return store.getObject(input, action === 'HeadObject');
    if (action === 'DeleteObject') return store.deleteObject(input);
    return store.listObjects(input);
  }

  function route(request: ProductRequest): ProductRoute | undefined {
    const query: OssQuery = [...request.query];
    const headers = flatHeaders(request.headers);
    const auth = readOssAuth(headers.authorization, query);
    if (auth === undefined) return undefined;
    const ids: AnswerIds = { requestId: randomBytes(12).toString('hex').toUpperCase(), hostId: headers.host ?? '', method: request.method };
    const target = targetOf(headers.host ?? '', request.path);
    const action = actionOf(request.method, target, query, headers);
    const hint =
      target.fromHost && target.bucket !== undefined && target.key.startsWith(`${target.bucket}/`)
        ? ` The path repeats the bucket that Host names (${target.bucket}): ali-oss does this with sldEnable: true and an IP endpoint; drop sldEnable for API calls.`
        : undefined;
    return {
      action,
      accessKeyId: auth.accessKeyId,
      signatureVersion: auth.kind === 'malformed' ? auth.version : auth.kind.startsWith('v1') ? 'oss-v1' : 'oss-v4',
      answer(): ProductAnswer {
        try {
          const now = resolved.clock();
          if (target.problem !== undefined) fail(...target.problem);
          const caller = authenticateOss(account, resolved.maxSkewMs, { method: request.method, headers, query, bucket: target.bucket, key: target.key, auth, hint }, now);
          return operate(action, caller, { request, headers, query, bucket: target.bucket ?? '', key: target.key, ids, now });
        } catch (error) {
          if (error instanceof ApiError) return errorAnswer(ids, error.status, error.code, error.message, error.extra);
          throw error;
        }
      },
      error: (status, code, message) => errorAnswer(ids, status, code, message),
    };
  }

  return { route };
}
