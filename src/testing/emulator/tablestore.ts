/**
 * The emulator's Table Store (OTS) endpoint, API 2015-12-31: protobuf bodies POSTed to
 * `/<Operation>` and signed with `x-ots-*` headers (tablestore-sign.ts). Requests are judged
 * like the service judges them: headers, request time, body MD5, the caller's key and STS
 * token (shared with every product, auth.ts), the signature, then the caller's RAM policies
 * for `ots:<Operation>`. `ListTable`, `CreateTable`, `DescribeTable` and `DeleteTable` work on
 * in-memory tables kept per instance name; every other operation is refused, after
 * authentication, with an error saying the emulator does not model it. Answers carry the
 * service's `x-ots-*` response headers and, once the caller is known, the response
 * `Authorization` signature.
 *
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { Account } from './account.js';
import { resolveAccessKey, type KeyProblem } from './auth.js';
import { authorize } from './authorize.js';
import type { ProductAnswer, ProductContext, ProductRequest, ProductRoute, ProductService } from './product.js';
import { ApiError, fail } from './respond.js';
import {
  ProtoError,
  decodeCreateTableRequest,
  decodeTableNameRequest,
  encodeDescribeTableResponse,
  encodeError,
  encodeListTableResponse,
  type CreateTableRequest,
  type TableMeta,
  type TableOptions,
} from './tablestore-proto.js';
import {
  OTS_API_VERSION,
  REQUIRED_OTS_HEADERS,
  hasOtsHeaders,
  headerValue,
  otsContentMd5,
  otsResponseAuthorization,
  parseOtsDate,
  verifyOtsRequest,
} from './tablestore-sign.js';

/** Operations the emulator answers with data. */
const MODELED = ['ListTable', 'CreateTable', 'DescribeTable', 'DeleteTable'] as const;

/**
 * Table Store operations that exist but are not modelled (PutRow/GetRow and friends need
 * PlainBuffer rows with CRC-8 checksums): they get {@link NOT_MODELED_CODE} once authenticated
 * and authorized. Any other name is `OTSParameterInvalid` "Unsupported operation", as the
 * service answers.
 */
const KNOWN = new Set<string>([
  ...MODELED,
  'UpdateTable', 'ComputeSplitPointsBySize', 'GetRow', 'PutRow', 'UpdateRow', 'DeleteRow', 'GetRange',
  'BatchGetRow', 'BatchWriteRow', 'ListSearchIndex', 'CreateSearchIndex', 'UpdateSearchIndex',
  'DeleteSearchIndex', 'DescribeSearchIndex', 'Search', 'ComputeSplits', 'ParallelScan', 'CreateIndex',
  'DropIndex', 'StartLocalTransaction', 'CommitTransaction', 'AbortTransaction', 'SQLQuery',
  'ListStream', 'DescribeStream', 'GetShardIterator', 'GetStreamRecord',
]);

/** Code of the answer to an operation the emulator does not model (HTTP 501). */
export const NOT_MODELED_CODE = 'Emulator.OperationNotModeled';

const AUTH_FAILED = 'OTSAuthFailed';
const INVALID = 'OTSParameterInvalid';
const NO_PERMISSION_MESSAGE = 'You have no permission to access the requested resource, please contact the resource owner';
/** Tables per instance, as the service's default quota. */
const MAX_TABLES = 64;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/**
 * Messages of `OTSAuthFailed` (403) for each {@link KeyProblem}. Unknown and disabled keys use
 * the service's documented texts; the token cases say which check failed (never the token).
 */
const KEY_MESSAGES: Record<KeyProblem, string> = {
  'not-found': 'The AccessKeyID does not exist.',
  revoked: 'The AccessKeyID does not exist.',
  inactive: 'The AccessKeyID is disabled.',
  'missing-token': 'The STS token is missing: an STS AccessKeyID needs the x-ots-ststoken header.',
  'malformed-token': 'The STS token is invalid.',
  'token-mismatch': 'The STS token does not belong to the AccessKeyID.',
  'token-expired': 'The STS token has expired.',
};

/** One emulated table. */
type Table = { meta: TableMeta; capacity: { read: number; write: number }; options: TableOptions; createdAt: number };

/** The operation a path names (`/ListTable` -> `ListTable`), or `''`. */
function operationOf(path: string): string {
  return /^\/[A-Za-z][A-Za-z0-9]*$/.test(path) ? path.slice(1) : '';
}

function parseBody<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtoError) fail(400, INVALID, `Failed to parse the ProtoBuf message: ${error.message}.`);
    throw error;
  }
}

/** The service's checks of a CreateTable request, with its error messages. */
function checkCreateTable(req: CreateTableRequest, tables: ReadonlyMap<string, Table>): void {
  const { tableName, primaryKey, definedColumn } = req.tableMeta;
  if (!NAME_RE.test(tableName)) fail(400, INVALID, `Invalid table name: '${tableName}'.`);
  if (primaryKey.length === 0) fail(400, INVALID, 'Failed to create table with no primary key.');
  if (primaryKey.length > 4) fail(400, INVALID, 'The number of primary key columns must be in range: [1, 4].');
  const names = new Set<string>();
  for (const column of [...primaryKey, ...definedColumn]) {
    if (!NAME_RE.test(column.name)) fail(400, INVALID, `Invalid column name: '${column.name}'.`);
    if (names.has(column.name)) fail(400, INVALID, `Duplicated column name: '${column.name}'.`);
    names.add(column.name);
  }
  for (const pk of primaryKey) {
    if (pk.type < 1 || pk.type > 3) fail(400, INVALID, `Invalid primary key type of '${pk.name}': ${pk.type}.`);
    if (pk.option !== undefined && (pk.option !== 1 || pk.type !== 1)) {
      fail(400, INVALID, `Only an INTEGER primary key column can be AUTO_INCREMENT: '${pk.name}'.`);
    }
  }
  if (primaryKey[0]?.option !== undefined) fail(400, INVALID, 'The first primary key column can not be AUTO_INCREMENT.');
  const { read = 0, write = 0 } = req.reservedThroughput;
  if (read < 0 || write < 0) fail(400, INVALID, 'The reserved capacity unit can not be negative.');
  const ttl = req.tableOptions?.timeToLive;
  if (ttl !== undefined && ttl !== -1 && ttl < 86400) fail(400, INVALID, 'The value of time_to_live must be -1 or at least 86400 (seconds).');
  const versions = req.tableOptions?.maxVersions;
  if (versions !== undefined && versions < 1) fail(400, INVALID, 'The value of max_versions must be at least 1.');
  if (req.indexCount > 0) fail(501, NOT_MODELED_CODE, 'The alicred emulator does not model secondary indexes (CreateTable index_metas).');
  if (tables.has(tableName)) fail(409, 'OTSObjectAlreadyExist', 'Requested table already exists.');
  if (tables.size >= MAX_TABLES) fail(403, 'OTSQuotaExhausted', 'Number of tables exceeded the quota.');
}

/** The Table Store endpoint of the emulator, with its own tables (per instance name). */
export function createTableStoreService(ctx: ProductContext): ProductService {
  const { account, resolved } = ctx;
  /** Tables by lower-case instance name (instance names are case-insensitive), then table name. */
  const instances = new Map<string, Map<string, Table>>();
  const tablesOf = (instance: string) => {
    let tables = instances.get(instance.toLowerCase());
    if (tables === undefined) instances.set(instance.toLowerCase(), (tables = new Map()));
    return tables;
  };

  function run(operation: string, body: Buffer, instance: string, now: number): Buffer {
    const tables = tablesOf(instance);
    switch (operation) {
      case 'ListTable':
        return encodeListTableResponse([...tables.keys()]);
      case 'CreateTable': {
        const req = parseBody(() => decodeCreateTableRequest(body));
        checkCreateTable(req, tables);
        const o = req.tableOptions;
        tables.set(req.tableMeta.tableName, {
          meta: req.tableMeta,
          capacity: { read: req.reservedThroughput.read ?? 0, write: req.reservedThroughput.write ?? 0 },
          options: {
            timeToLive: o?.timeToLive ?? -1,
            maxVersions: o?.maxVersions ?? 1,
            bloomFilterType: o?.bloomFilterType,
            blockSize: o?.blockSize,
            deviationCellVersionInSec: o?.deviationCellVersionInSec ?? 86400,
            allowUpdate: o?.allowUpdate ?? true,
          },
          createdAt: now,
        });
        return Buffer.alloc(0);
      }
      case 'DescribeTable':
      case 'DeleteTable': {
        const name = parseBody(() => decodeTableNameRequest(body));
        const table = tables.get(name);
        if (table === undefined) fail(404, 'OTSObjectNotExist', 'Requested table does not exist.');
        if (operation === 'DeleteTable') {
          tables.delete(name);
          return Buffer.alloc(0);
        }
        return encodeDescribeTableResponse({
          meta: table.meta,
          capacity: table.capacity,
          lastIncreaseTime: Math.floor(table.createdAt / 1000),
          options: table.options,
          status: 1, // ACTIVE
        });
      }
      default:
        fail(
          501,
          NOT_MODELED_CODE,
          `The alicred emulator does not model the Table Store operation ${operation}; the request was signed correctly ` +
            `with a valid key (and token) and is allowed by the caller's policies. It models ${MODELED.join(', ')}.`,
        );
    }
  }

  function route(request: ProductRequest): ProductRoute | undefined {
    const { headers } = request;
    if (!hasOtsHeaders(headers)) return undefined;
    const operation = operationOf(request.path);
    const accessKeyId = headerValue(headers, 'x-ots-accesskeyid');
    /** The caller's key and secret once authenticated: answers are then signed for it. */
    let signer: { accessKeyId: string; secret: string } | undefined;

    const answerWith = (status: number, body: Buffer, code: string | undefined): ProductAnswer => {
      const otsHeaders: Record<string, string> = {
        'x-ots-contentmd5': otsContentMd5(body),
        'x-ots-contenttype': 'protocol buffer',
        'x-ots-date': new Date(resolved.clock()).toISOString(),
        'x-ots-requestid': randomUUID(),
      };
      const authorization = signer && otsResponseAuthorization(signer.accessKeyId, signer.secret, request.path, otsHeaders);
      return {
        status,
        headers: { 'Content-Type': 'application/octet-stream', ...otsHeaders, ...(authorization ? { Authorization: authorization } : {}) },
        body,
        code,
      };
    };

    function answer(): ProductAnswer {
      const now = resolved.clock();
      if (request.method !== 'POST') fail(405, 'OTSMethodNotAllowed', 'OTSMethodNotAllowedOnly POST method for requests is supported.');
      for (const name of REQUIRED_OTS_HEADERS) {
        if (!headerValue(headers, name)) fail(400, INVALID, `Missing header: ${name}.`);
      }
      const apiVersion = headerValue(headers, 'x-ots-apiversion')!;
      if (apiVersion !== OTS_API_VERSION) fail(400, INVALID, `Unsupported API version: ${apiVersion}.`);
      const date = headerValue(headers, 'x-ots-date')!;
      const time = parseOtsDate(date);
      if (Number.isNaN(time)) fail(400, INVALID, `Invalid date format: ${date}.`);
      if (Math.abs(now - time) > resolved.maxSkewMs) fail(403, AUTH_FAILED, `Mismatch between system time and x-ots-date: ${date}.`);
      if (otsContentMd5(request.body) !== headerValue(headers, 'x-ots-contentmd5')) {
        fail(403, AUTH_FAILED, 'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
      }
      const found = resolveAccessKey(account, accessKeyId!, headerValue(headers, 'x-ots-ststoken'), now);
      if (!found.ok) fail(403, AUTH_FAILED, KEY_MESSAGES[found.problem]);
      const check = verifyOtsRequest(request.method, request.path, request.query, headers, found.secret);
      if (!check.ok) {
        // The server's string to sign helps find a signer bug; the token's value is left out.
        const shown = check.stringToSign.replace(/^x-ots-ststoken:.*$/m, 'x-ots-ststoken:<the token sent>');
        fail(403, AUTH_FAILED, `Signature mismatch. The emulator's string to sign (HMAC-SHA1, base64) is: ${JSON.stringify(shown)}`);
      }
      signer = { accessKeyId: accessKeyId!, secret: found.secret };
      if (!KNOWN.has(operation)) fail(400, INVALID, `Unsupported operation: ${operation || request.path}.`);
      authorizeOperation(account, found.caller, operation);
      return answerWith(200, run(operation, request.body, headerValue(headers, 'x-ots-instancename')!, now), undefined);
    }

    return {
      action: operation,
      accessKeyId,
      signatureVersion: 'ots',
      answer,
      error: (status, code, message) => answerWith(status, encodeError(code, message), code),
    };
  }

  return { route };
}

/**
 * `OTSNoPermissionAccess` (403) unless the caller's policies allow `ots:<operation>`; the
 * message names the action and the policy type that refused (the body has no other field).
 */
function authorizeOperation(account: Account, caller: Parameters<typeof authorize>[0], operation: string): void {
  try {
    authorize(caller, `ots:${operation}`, undefined, account.accountId, 'OTSNoPermissionAccess', NO_PERMISSION_MESSAGE);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const detail = error.extra.AccessDeniedDetail as Record<string, unknown> | undefined;
    const why = detail === undefined ? '' : ` (AuthAction: ${String(detail.AuthAction)}, NoPermissionType: ${String(detail.NoPermissionType)}, PolicyType: ${String(detail.PolicyType)})`;
    throw new ApiError(error.status, error.code, `${error.message}${why}`);
  }
}
