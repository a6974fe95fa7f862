/**
 * The emulator's Table Store (OTS) endpoint, driven by the real `tablestore` client (5.6.x):
 * requests signed by the SDK and judged by the emulator's own verifier, with a RAM user's
 * key, with STS credentials the emulator issued (fromRamRole, also through
 * bindTableStoreClient), and refused for a wrong secret, a tampered or expired token, a
 * skewed clock and a session policy; plus raw requests for the wire details (protobuf error
 * bodies, response headers and their Authorization). Only 127.0.0.1 is contacted.
 *
 * The SDK reports a service error as `{ code: <HTTP status>, message: <raw body> + " requestId:…" }`
 * (its error parser expects XML, which 5.6.5 does not ship), so the protobuf `Error` body's
 * code and message appear as text in `message`.
 */
import { createHash, createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStsCache, fromRamRole, fromStatic, type RefreshingProvider } from '../src/index.js';
import { bindTableStoreClient } from '../src/adapters/tablestore.js';
import { startEmulator, type Emulator, type EmulatorOptions, type Policy } from '../src/testing/index.js';

// ---------------------------------------------------------------------------
// The tablestore package (CJS, no types) and its compiled protos (for raw bodies)
// ---------------------------------------------------------------------------

const require = createRequire(import.meta.url);

type OtsResult = Record<string, unknown> & { RequestId?: string };
type OtsClient = {
  config: object;
  listTable(params: object): Promise<OtsResult & { tableNames: string[] }>;
  createTable(params: object): Promise<OtsResult>;
  describeTable(params: object): Promise<OtsResult & { tableMeta: { tableName: string; primaryKey: { name: string; type: number }[] } }>;
  deleteTable(params: object): Promise<OtsResult>;
  getRow(params: object): Promise<OtsResult>;
};
const TableStore = require('tablestore') as { Client: new (config: object) => OtsClient };
type ProtoType = { decode(bytes: Uint8Array): Record<string, unknown> };
const protos = (require('tablestore/lib/protocol/tablestore_compiled_proto.js') as { main: { proto: Record<string, ProtoType> } }).main.proto;

const INSTANCE = 'test-instance';

type Key = { accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined };

function otsClient(emu: Emulator, key: Partial<Key> = {}, maxRetries = 0): OtsClient {
  return new TableStore.Client({
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.accessKeySecret,
    stsToken: key.securityToken,
    endpoint: emu.url,
    instancename: INSTANCE,
    maxRetries,
  });
}

/** What the SDK rejects with for a service error. */
type OtsFailure = { status: number; raw: string };
async function otsFailure(promise: Promise<unknown>): Promise<OtsFailure> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: unknown; message: string };
    return { status: Number(e.code), raw: e.message };
  }
  throw new Error('expected the Table Store call to fail');
}

const createParams = (tableName: string) => ({
  tableMeta: { tableName, primaryKey: [{ name: 'device', type: 'STRING' }, { name: 'ts', type: 'INTEGER' }] },
  reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
  tableOptions: { timeToLive: -1, maxVersions: 1 },
});

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

const allow = (...actions: string[]): Policy => ({ Statement: [{ Effect: 'Allow', Action: actions }] });
const ALICE = { name: 'alice', accessKeyId: 'LTAI5tOtsAlice00000001', accessKeySecret: 'alice-ots-secret-0123456789' };
const BOB = { name: 'bob', accessKeyId: 'LTAI5tOtsBob0000000002', accessKeySecret: 'bob-ots-secret-0123456789' };
const CAROL = { name: 'carol', accessKeyId: 'LTAI5tOtsCarol00000003', accessKeySecret: 'carol-ots-secret-0123456789' };

const fixture = (extra: EmulatorOptions = {}): EmulatorOptions => ({
  users: [ALICE, { ...BOB, policies: [allow('iot:*')] }, { ...CAROL, disabled: true }],
  roles: [{ name: 'ots-operator', trustedUsers: ['alice'], policies: [allow('ots:*')] }],
  ...extra,
});

const providers: RefreshingProvider[] = [];
function roleProvider(emu: Emulator, policy?: Policy): RefreshingProvider {
  const provider = fromRamRole({
    source: fromStatic(ALICE),
    roleArn: emu.roleArn('ots-operator'),
    durationSeconds: 900,
    sts: { endpoint: emu.stsEndpoint },
    cache: createStsCache(),
    refresh: { backgroundTimer: false },
    ...(policy ? { policy: JSON.stringify(policy) } : {}),
  });
  providers.push(provider);
  return provider;
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator(fixture());
});
afterAll(async () => {
  for (const p of providers) p.close();
  await emu.close();
});

const lastRecord = (e: Emulator) => e.requests().at(-1)!;

// ---------------------------------------------------------------------------
// The real client, accepted
// ---------------------------------------------------------------------------

describe('Table Store endpoint: the tablestore client, accepted', () => {
  it("a RAM user's key: CreateTable, then ListTable shows the table; DescribeTable and DeleteTable work", async () => {
    const client = otsClient(emu, ALICE);
    const created = await client.createTable(createParams('sensor_data'));
    expect(created.RequestId).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await client.listTable({});
    expect(listed.tableNames).toContain('sensor_data');

    const described = await client.describeTable({ tableName: 'sensor_data' });
    expect(described.tableMeta.tableName).toBe('sensor_data');
    expect(described.tableMeta.primaryKey.map((pk) => [pk.name, pk.type])).toEqual([['device', 2], ['ts', 1]]);

    const again = await otsFailure(client.createTable(createParams('sensor_data')));
    expect(again.status).toBe(409);
    expect(again.raw).toContain('OTSObjectAlreadyExist');

    await client.deleteTable({ tableName: 'sensor_data' });
    expect((await client.listTable({})).tableNames).not.toContain('sensor_data');
    const gone = await otsFailure(client.describeTable({ tableName: 'sensor_data' }));
    expect(gone.status).toBe(404);
    expect(gone.raw).toContain('OTSObjectNotExist');
  });

  it('the request log records the action, the AccessKeyId and signatureVersion "ots"', async () => {
    const before = emu.callCount('ListTable');
    await otsClient(emu, ALICE).listTable({});
    expect(emu.callCount('ListTable')).toBe(before + 1);
    expect(lastRecord(emu)).toMatchObject({
      method: 'POST',
      path: '/ListTable',
      action: 'ListTable',
      version: '',
      accessKeyId: ALICE.accessKeyId,
      signatureVersion: 'ots',
      status: 200,
      code: undefined,
      fault: false,
    });
  });

  it('STS credentials the emulator issued (fromRamRole) sign Table Store requests, token included', async () => {
    const creds = await roleProvider(emu)();
    expect(creds.accessKeyId).toMatch(/^STS\./);
    const client = otsClient(emu, creds);
    await client.createTable(createParams('from_role'));
    expect((await client.listTable({})).tableNames).toContain('from_role');
    expect(lastRecord(emu)).toMatchObject({ action: 'ListTable', accessKeyId: creds.accessKeyId, signatureVersion: 'ots', status: 200 });
    // STS (a POP API) is still answered on the same port: no x-ots-* headers there.
    expect(emu.requests().some((r) => r.action === 'AssumeRole' && r.status === 200 && r.signatureVersion !== 'ots')).toBe(true);
  });

  it('bindTableStoreClient(client, fromRamRole(...)) signs every request with the provider\'s credentials', async () => {
    const provider = roleProvider(emu);
    const client = bindTableStoreClient(otsClient(emu), provider);
    expect((await client.listTable({})).tableNames).toContain('from_role');
    expect(lastRecord(emu).accessKeyId).toBe((await provider()).accessKeyId);
  });

  it('tables are kept per instance name (case-insensitive) and per emulator', async () => {
    const as = (instancename: string) =>
      new TableStore.Client({ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.accessKeySecret, endpoint: emu.url, instancename, maxRetries: 0 });
    const other = as('other-instance');
    expect((await other.listTable({})).tableNames).toEqual([]);
    const upper = as(INSTANCE.toUpperCase());
    expect((await upper.listTable({})).tableNames).toContain('from_role');
    const fresh = await startEmulator(fixture());
    try {
      expect((await otsClient(fresh, ALICE).listTable({})).tableNames).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('faults are injected by Table Store action; the client retries a 503 of a repeatable operation', async () => {
    emu.inject({ action: 'ListTable', status: 503, code: 'OTSServerBusy', message: 'Server is busy.' });
    const before = emu.callCount('ListTable');
    const listed = await otsClient(emu, ALICE, 1).listTable({});
    expect(listed.tableNames).toContain('from_role');
    const [faulted, retried] = emu.requests().slice(-2);
    expect(emu.callCount('ListTable')).toBe(before + 2);
    expect(faulted).toMatchObject({ action: 'ListTable', status: 503, code: 'OTSServerBusy', fault: true });
    expect(retried).toMatchObject({ action: 'ListTable', status: 200, fault: false });
  });
});

// ---------------------------------------------------------------------------
// The real client, refused
// ---------------------------------------------------------------------------

describe('Table Store endpoint: the tablestore client, refused', () => {
  it('a wrong secret: 403 OTSAuthFailed "Signature mismatch." (the secret never echoed)', async () => {
    const failure = await otsFailure(otsClient(emu, { ...ALICE, accessKeySecret: 'not-the-secret' }).listTable({}));
    expect(failure.status).toBe(403);
    expect(failure.raw).toContain('OTSAuthFailed');
    expect(failure.raw).toContain('Signature mismatch.');
    expect(failure.raw).toContain('/ListTable\\nPOST\\n\\nx-ots-accesskeyid:');
    expect(failure.raw).not.toContain('not-the-secret');
    expect(failure.raw).not.toContain(ALICE.accessKeySecret);
    expect(lastRecord(emu)).toMatchObject({ action: 'ListTable', accessKeyId: ALICE.accessKeyId, signatureVersion: 'ots', status: 403, code: 'OTSAuthFailed' });
  });

  it('an unknown AccessKeyId and a disabled one: the documented OTSAuthFailed messages', async () => {
    const unknown = await otsFailure(otsClient(emu, { accessKeyId: 'LTAI5tNobody0000000009', accessKeySecret: 'x' }).listTable({}));
    expect(unknown.status).toBe(403);
    expect(unknown.raw).toContain('The AccessKeyID does not exist.');
    const disabled = await otsFailure(otsClient(emu, CAROL).listTable({}));
    expect(disabled.raw).toContain('The AccessKeyID is disabled.');
  });

  it('an STS key with a tampered token, a token of another key, or no token at all', async () => {
    const issued = await roleProvider(emu)();
    // Credentials keep the secret out of spreads and prints: copy the three fields.
    const creds = { accessKeyId: issued.accessKeyId, accessKeySecret: issued.accessKeySecret, securityToken: issued.securityToken };
    const token = creds.securityToken!;
    const tampered = await otsFailure(otsClient(emu, { ...creds, securityToken: `${token.slice(0, -4)}AAAA` }).listTable({}));
    expect(tampered.status).toBe(403);
    expect(tampered.raw).toContain('OTSAuthFailed');
    expect(tampered.raw).toContain('The STS token is invalid.');
    expect(tampered.raw).not.toContain(token.slice(4, 40));

    const otherCreds = await roleProvider(emu, allow('ots:ListTable'))();
    const mismatched = await otsFailure(otsClient(emu, { ...creds, securityToken: otherCreds.securityToken }).listTable({}));
    expect(mismatched.raw).toContain('The STS token does not belong to the AccessKeyID.');

    const missing = await otsFailure(otsClient(emu, { ...creds, securityToken: undefined }).listTable({}));
    expect(missing.raw).toContain('The STS token is missing');
  });

  it('an expired STS token (the emulator clock moved past Expiration): "The STS token has expired."', async () => {
    let offset = 0;
    const timed = await startEmulator(fixture({ clock: () => Date.now() + offset, maxSkewSeconds: 7200 }));
    try {
      const creds = await roleProvider(timed)();
      const client = otsClient(timed, creds);
      await client.listTable({});
      offset = 3600_000; // one hour later on the emulator clock: past the 900 s session, within the 2 h skew
      const expired = await otsFailure(client.listTable({}));
      expect(expired.status).toBe(403);
      expect(expired.raw).toContain('OTSAuthFailed');
      expect(expired.raw).toContain('The STS token has expired.');
      expect(lastRecord(timed)).toMatchObject({ action: 'ListTable', accessKeyId: creds.accessKeyId, code: 'OTSAuthFailed' });
      // The RAM user's own key does not expire.
      await otsClient(timed, ALICE).listTable({});
    } finally {
      await timed.close();
    }
  });

  it('x-ots-date outside maxSkew: 403 "Mismatch between system time and x-ots-date"', async () => {
    let offset = 0;
    const timed = await startEmulator(fixture({ clock: () => Date.now() + offset }));
    try {
      await otsClient(timed, ALICE).listTable({});
      offset = 20 * 60_000; // 20 min > the default 15 min
      const skewed = await otsFailure(otsClient(timed, ALICE).listTable({}));
      expect(skewed.status).toBe(403);
      expect(skewed.raw).toContain('Mismatch between system time and x-ots-date:');
    } finally {
      await timed.close();
    }
  });

  it('a session policy denying ots:* refuses with 403 OTSNoPermissionAccess (SessionPolicy, ExplicitDeny)', async () => {
    const denyOts: Policy = { Version: '1', Statement: [{ Effect: 'Deny', Action: 'ots:*', Resource: '*' }, { Effect: 'Allow', Action: '*', Resource: '*' }] };
    const creds = await roleProvider(emu, denyOts)();
    const denied = await otsFailure(otsClient(emu, creds).listTable({}));
    expect(denied.status).toBe(403);
    expect(denied.raw).toContain('OTSNoPermissionAccess');
    expect(denied.raw).toContain('You have no permission to access the requested resource');
    expect(denied.raw).toContain('ots:ListTable');
    expect(denied.raw).toContain('SessionPolicy');
    expect(denied.raw).toContain('ExplicitDeny');
    expect(lastRecord(emu)).toMatchObject({ action: 'ListTable', status: 403, code: 'OTSNoPermissionAccess' });
  });

  it("a RAM user whose policies do not allow ots:* (ImplicitDeny); a session policy allowing only ListTable", async () => {
    const bob = await otsFailure(otsClient(emu, BOB).listTable({}));
    expect(bob.raw).toContain('OTSNoPermissionAccess');
    expect(bob.raw).toContain('ImplicitDeny');

    const creds = await roleProvider(emu, { Version: '1', Statement: [{ Effect: 'Allow', Action: 'ots:ListTable', Resource: '*' }] })();
    const client = otsClient(emu, creds);
    await client.listTable({});
    const create = await otsFailure(client.createTable(createParams('not_allowed')));
    expect(create.raw).toContain('ots:CreateTable');
  });

  it('an operation the emulator does not model (GetRow): 501 with a clear message, after authentication', async () => {
    const client = otsClient(emu, ALICE);
    const failure = await otsFailure(client.getRow({ tableName: 'from_role', primaryKey: [{ device: 'd1' }] }));
    expect(failure.status).toBe(501);
    expect(failure.raw).toContain('Emulator.OperationNotModeled');
    expect(failure.raw).toContain('does not model the Table Store operation GetRow');
    expect(lastRecord(emu)).toMatchObject({ action: 'GetRow', accessKeyId: ALICE.accessKeyId, signatureVersion: 'ots', status: 501 });

    // A wrong secret is still refused first.
    const unsigned = await otsFailure(otsClient(emu, { ...ALICE, accessKeySecret: 'nope' }).getRow({ tableName: 't', primaryKey: [{ device: 'd1' }] }));
    expect(unsigned.status).toBe(403);
    expect(unsigned.raw).toContain('Signature mismatch.');
  });
});

// ---------------------------------------------------------------------------
// Raw requests: the wire format
// ---------------------------------------------------------------------------

const md5 = (body: Buffer) => createHash('md5').update(body).digest('base64');

/**
 * A Table Store request signed by this test (HMAC-SHA1 over path, method, an empty query and
 * the sorted x-ots-* headers), independently of the SDK and of the emulator's verifier.
 */
function signedHeaders(path: string, key: Key, body: Buffer, date = new Date()): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ots-date': date.toISOString(),
    'x-ots-apiversion': '2015-12-31',
    'x-ots-accesskeyid': key.accessKeyId,
    'x-ots-instancename': INSTANCE,
    'x-ots-contentmd5': md5(body),
    ...(key.securityToken ? { 'x-ots-ststoken': key.securityToken } : {}),
  };
  const canonical = Object.keys(headers).sort().map((n) => `${n}:${headers[n]}`).join('\n');
  headers['x-ots-signature'] = createHmac('sha1', key.accessKeySecret).update(`${path}\nPOST\n\n${canonical}\n`).digest('base64');
  return headers;
}

async function post(path: string, headers: Record<string, string>, body = Buffer.alloc(0), method = 'POST') {
  const res = await fetch(`${emu.url}${path}`, { method, headers, ...(method === 'POST' ? { body } : {}) });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('Table Store endpoint: wire format', () => {
  it('answers carry x-ots-contentmd5/-requestid/-date/-contenttype and a response Authorization signed for the caller', async () => {
    const { res, body } = await post('/ListTable', signedHeaders('/ListTable', ALICE, Buffer.alloc(0)));
    expect(res.status).toBe(200);
    expect(protos.ListTableResponse!.decode(body).tableNames).toContain('from_role');
    const h = (name: string) => res.headers.get(name) ?? '';
    expect(h('x-ots-contentmd5')).toBe(md5(body));
    expect(h('x-ots-contenttype')).toBe('protocol buffer');
    expect(h('x-ots-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(h('x-ots-date')) - Date.now())).toBeLessThan(60_000);
    // Authorization: OTS <id>:base64(HMAC-SHA1(secret, sorted x-ots-* lines + "\n" + path)).
    const names: string[] = [];
    res.headers.forEach((_value, name) => {
      if (name.startsWith('x-ots-')) names.push(name);
    });
    names.sort();
    const canonical = names.map((n) => `${n}:${h(n)}`).join('\n');
    const expected = createHmac('sha1', ALICE.accessKeySecret).update(`${canonical}\n/ListTable`).digest('base64');
    expect(h('authorization')).toBe(`OTS ${ALICE.accessKeyId}:${expected}`);
  });

  it('error bodies are the protobuf Error { code, message }; a refused caller gets no Authorization', async () => {
    const { res, body } = await post('/ListTable', signedHeaders('/ListTable', { ...ALICE, accessKeySecret: 'wrong' }, Buffer.alloc(0)));
    expect(res.status).toBe(403);
    const error = protos.Error!.decode(body);
    expect(error.code).toBe('OTSAuthFailed');
    expect(String(error.message)).toMatch(/^Signature mismatch\./);
    expect(res.headers.get('authorization')).toBeNull();
    expect(res.headers.get('x-ots-contentmd5')).toBe(md5(body));
  });

  it('a body that does not match x-ots-contentmd5, missing headers, GET, an unknown operation', async () => {
    const body = Buffer.from([0x0a, 0x01, 0x74]); // DescribeTableRequest { table_name: 't' }
    const headers = signedHeaders('/DescribeTable', ALICE, body);
    const tampered = await post('/DescribeTable', headers, Buffer.from([0x0a, 0x01, 0x75]));
    expect(tampered.res.status).toBe(403);
    expect(protos.Error!.decode(tampered.body).message).toBe('Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');

    const { 'x-ots-date': _date, ...noDate } = signedHeaders('/ListTable', ALICE, Buffer.alloc(0));
    const missing = await post('/ListTable', noDate);
    expect(missing.res.status).toBe(400);
    expect(protos.Error!.decode(missing.body)).toMatchObject({ code: 'OTSParameterInvalid', message: 'Missing header: x-ots-date.' });

    const get = await post('/ListTable', signedHeaders('/ListTable', ALICE, Buffer.alloc(0)), Buffer.alloc(0), 'GET');
    expect(get.res.status).toBe(405);
    expect(protos.Error!.decode(get.body).code).toBe('OTSMethodNotAllowed');

    const unknown = await post('/ListTables', signedHeaders('/ListTables', ALICE, Buffer.alloc(0)));
    expect(unknown.res.status).toBe(400);
    expect(protos.Error!.decode(unknown.body)).toMatchObject({ code: 'OTSParameterInvalid', message: 'Unsupported operation: ListTables.' });
    // Refused after authentication: the answer is signed for the caller.
    expect(unknown.res.headers.get('authorization')).toMatch(new RegExp(`^OTS ${ALICE.accessKeyId}:[A-Za-z0-9+/]{27}=$`));
    expect(lastRecord(emu)).toMatchObject({ action: 'ListTables', signatureVersion: 'ots', code: 'OTSParameterInvalid' });
  });

  it('a CreateTable body that is not a CreateTableRequest: 400 OTSParameterInvalid', async () => {
    const body = Buffer.from([0x12, 0x02, 0x0a, 0x00]); // reserved_throughput only: table_meta is required
    const { res, body: answer } = await post('/CreateTable', signedHeaders('/CreateTable', ALICE, body), body);
    expect(res.status).toBe(400);
    expect(protos.Error!.decode(answer)).toMatchObject({ code: 'OTSParameterInvalid' });
    expect(String(protos.Error!.decode(answer).message)).toContain('table_meta');
  });
});
