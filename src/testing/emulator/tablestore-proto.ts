/**
 * The few Table Store protobuf messages the emulator reads and writes, encoded by hand
 * (varints and length-delimited fields) from the service's `.proto` definitions (package
 * `main.proto`, proto2, API 2015-12-31): `Error`, `ListTableResponse`, `CreateTableRequest`,
 * `DescribeTableRequest` / `DeleteTableRequest` and `DescribeTableResponse`. The emulator
 * ships without a protobuf library.
 *
 * @internal
 */

/** A body that is not the protobuf message it should be; the service answers `OTSParameterInvalid`. */
export class ProtoError extends Error {
  override name = 'ProtoError';
}

/** Protobuf wire types used by proto2 scalars and messages (groups are not used by Table Store). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** One field as read from the wire: its number and its varint or bytes (fixed-width fields are skipped). */
type Field = { no: number; varint: bigint; bytes: Buffer | undefined };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const byte = buf[pos++]!;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return [value, pos];
  }
  throw new ProtoError('varint longer than 10 bytes');
}

/** The fields of one message, in wire order (repeated fields appear once per element). */
function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no < 1) throw new ProtoError('field number 0');
    if (wire === VARINT) {
      const [varint, next] = readVarint(buf, pos);
      fields.push({ no, varint, bytes: undefined });
      pos = next;
    } else if (wire === LENGTH_DELIMITED) {
      const [length, start] = readVarint(buf, pos);
      const end = start + Number(length);
      if (length > BigInt(buf.length) || end > buf.length) throw new ProtoError('truncated length-delimited field');
      fields.push({ no, varint: 0n, bytes: buf.subarray(start, end) });
      pos = end;
    } else if (wire === FIXED64 || wire === FIXED32) {
      pos += wire === FIXED64 ? 8 : 4;
      if (pos > buf.length) throw new ProtoError('truncated fixed-width field');
    } else {
      throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
  return fields;
}

const int32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const int64 = (v: bigint): number => Number(BigInt.asIntN(64, v));
const text = (f: Field): string => (f.bytes ?? Buffer.alloc(0)).toString('utf8');
const sub = (f: Field, what: string): Field[] => {
  if (f.bytes === undefined) throw new ProtoError(`${what} is not a message`);
  return readFields(f.bytes);
};

/** Appends protobuf fields to a message being written. */
class Writer {
  private readonly parts: Buffer[] = [];

  private varint(value: bigint): void {
    const bytes: number[] = [];
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.parts.push(Buffer.from(bytes));
  }

  /** An `int32`, `int64`, `bool` or enum field (negative numbers take ten bytes, as in proto2). */
  int(no: number, value: number | boolean | undefined): this {
    if (value === undefined) return this;
    this.varint(BigInt((no << 3) | VARINT));
    this.varint(typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(Math.trunc(value)));
    return this;
  }

  /** A `bytes` field, or an embedded message already written. */
  bytes(no: number, value: Buffer | undefined): this {
    if (value === undefined) return this;
    this.varint(BigInt((no << 3) | LENGTH_DELIMITED));
    this.varint(BigInt(value.length));
    this.parts.push(value);
    return this;
  }

  /** A `string` field (UTF-8). */
  string(no: number, value: string | undefined): this {
    return value === undefined ? this : this.bytes(no, Buffer.from(value, 'utf8'));
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** `PrimaryKeySchema`: a primary key column; `type` 1 INTEGER, 2 STRING, 3 BINARY; `option` 1 AUTO_INCREMENT. */
export type PrimaryKeySchema = { name: string; type: number; option: number | undefined };
/** `DefinedColumnSchema`: a predefined attribute column (type 1..4, 7). */
export type DefinedColumnSchema = { name: string; type: number };
/** `TableMeta`: the table's fixed schema. */
export type TableMeta = { tableName: string; primaryKey: PrimaryKeySchema[]; definedColumn: DefinedColumnSchema[] };
/** `CapacityUnit`: reserved read/write capacity units. */
export type CapacityUnit = { read: number | undefined; write: number | undefined };
/** `TableOptions`: the changeable table settings. */
export type TableOptions = {
  timeToLive: number | undefined;
  maxVersions: number | undefined;
  bloomFilterType: number | undefined;
  blockSize: number | undefined;
  deviationCellVersionInSec: number | undefined;
  allowUpdate: boolean | undefined;
};
/** `CreateTableRequest`, the parts the emulator keeps (partitions and stream spec are read past). */
export type CreateTableRequest = {
  tableMeta: TableMeta;
  reservedThroughput: CapacityUnit;
  tableOptions: TableOptions | undefined;
  /** How many secondary indexes (`index_metas`) were asked for: the emulator does not model them. */
  indexCount: number;
};

function decodeCapacityUnit(fields: Field[]): CapacityUnit {
  const unit: CapacityUnit = { read: undefined, write: undefined };
  for (const f of fields) {
    if (f.no === 1) unit.read = int32(f.varint);
    else if (f.no === 2) unit.write = int32(f.varint);
  }
  return unit;
}

function decodeTableOptions(fields: Field[]): TableOptions {
  const o: TableOptions = {
    timeToLive: undefined,
    maxVersions: undefined,
    bloomFilterType: undefined,
    blockSize: undefined,
    deviationCellVersionInSec: undefined,
    allowUpdate: undefined,
  };
  for (const f of fields) {
    if (f.no === 1) o.timeToLive = int32(f.varint);
    else if (f.no === 2) o.maxVersions = int32(f.varint);
    else if (f.no === 3) o.bloomFilterType = int32(f.varint);
    else if (f.no === 4) o.blockSize = int32(f.varint);
    else if (f.no === 5) o.deviationCellVersionInSec = int64(f.varint);
    else if (f.no === 6) o.allowUpdate = f.varint !== 0n;
  }
  return o;
}

function decodePrimaryKeySchema(fields: Field[]): PrimaryKeySchema {
  let name: string | undefined;
  let type: number | undefined;
  let option: number | undefined;
  for (const f of fields) {
    if (f.no === 1) name = text(f);
    else if (f.no === 2) type = int32(f.varint);
    else if (f.no === 3) option = int32(f.varint);
  }
  if (name === undefined) throw new ProtoError("missing required 'PrimaryKeySchema.name'");
  if (type === undefined) throw new ProtoError("missing required 'PrimaryKeySchema.type'");
  return { name, type, option };
}

function decodeTableMeta(fields: Field[]): TableMeta {
  let tableName: string | undefined;
  const primaryKey: PrimaryKeySchema[] = [];
  const definedColumn: DefinedColumnSchema[] = [];
  for (const f of fields) {
    if (f.no === 1) tableName = text(f);
    else if (f.no === 2) primaryKey.push(decodePrimaryKeySchema(sub(f, 'TableMeta.primary_key')));
    else if (f.no === 3) {
      let name: string | undefined;
      let type: number | undefined;
      for (const c of sub(f, 'TableMeta.defined_column')) {
        if (c.no === 1) name = text(c);
        else if (c.no === 2) type = int32(c.varint);
      }
      if (name === undefined || type === undefined) throw new ProtoError("missing required 'DefinedColumnSchema.name' or 'type'");
      definedColumn.push({ name, type });
    }
  }
  if (tableName === undefined) throw new ProtoError("missing required 'TableMeta.table_name'");
  return { tableName, primaryKey, definedColumn };
}

/** Reads a `CreateTableRequest`; throws {@link ProtoError} when it is malformed or lacks a required field. */
export function decodeCreateTableRequest(body: Buffer): CreateTableRequest {
  let tableMeta: TableMeta | undefined;
  let reservedThroughput: CapacityUnit | undefined;
  let tableOptions: TableOptions | undefined;
  let indexCount = 0;
  for (const f of readFields(body)) {
    if (f.no === 1) tableMeta = decodeTableMeta(sub(f, 'table_meta'));
    else if (f.no === 2) {
      const unit = sub(f, 'reserved_throughput').find((u) => u.no === 1);
      if (unit === undefined) throw new ProtoError("missing required 'ReservedThroughput.capacity_unit'");
      reservedThroughput = decodeCapacityUnit(sub(unit, 'capacity_unit'));
    } else if (f.no === 3) tableOptions = decodeTableOptions(sub(f, 'table_options'));
    else if (f.no === 7) indexCount++;
  }
  if (tableMeta === undefined) throw new ProtoError("missing required 'table_meta'");
  if (reservedThroughput === undefined) throw new ProtoError("missing required 'reserved_throughput'");
  return { tableMeta, reservedThroughput, tableOptions, indexCount };
}

/** Reads the `table_name` (field 1, required) of a `DescribeTableRequest` or `DeleteTableRequest`. */
export function decodeTableNameRequest(body: Buffer): string {
  let tableName: string | undefined;
  for (const f of readFields(body)) if (f.no === 1) tableName = text(f);
  if (tableName === undefined) throw new ProtoError("missing required 'table_name'");
  return tableName;
}

/** `Error { required string code = 1; optional string message = 2; }`: every error body. */
export function encodeError(code: string, message: string): Buffer {
  return new Writer().string(1, code).string(2, message).finish();
}

/** `ListTableResponse { repeated string table_names = 1; }`. */
export function encodeListTableResponse(tableNames: readonly string[]): Buffer {
  const w = new Writer();
  for (const name of tableNames) w.string(1, name);
  return w.finish();
}

/** What `DescribeTableResponse` reports of a table. */
export type TableDescription = {
  meta: TableMeta;
  capacity: { read: number; write: number };
  /** `last_increase_time`, epoch seconds. */
  lastIncreaseTime: number;
  options: TableOptions;
  /** `TableStatus`: 1 ACTIVE. */
  status: number;
};

function encodeTableMeta(meta: TableMeta): Buffer {
  const w = new Writer().string(1, meta.tableName);
  for (const pk of meta.primaryKey) w.bytes(2, new Writer().string(1, pk.name).int(2, pk.type).int(3, pk.option).finish());
  for (const c of meta.definedColumn) w.bytes(3, new Writer().string(1, c.name).int(2, c.type).finish());
  return w.finish();
}

function encodeTableOptions(o: TableOptions): Buffer {
  return new Writer()
    .int(1, o.timeToLive)
    .int(2, o.maxVersions)
    .int(3, o.bloomFilterType)
    .int(4, o.blockSize)
    .int(5, o.deviationCellVersionInSec)
    .int(6, o.allowUpdate)
    .finish();
}

/**
 * `DescribeTableResponse` with its required fields: `table_meta`, `reserved_throughput_details`
 * (`capacity_unit`, `last_increase_time`), `table_options` and `table_status`.
 */
export function encodeDescribeTableResponse(d: TableDescription): Buffer {
  const capacity = new Writer().int(1, d.capacity.read).int(2, d.capacity.write).finish();
  const details = new Writer().bytes(1, capacity).int(2, d.lastIncreaseTime).finish();
  return new Writer()
    .bytes(1, encodeTableMeta(d.meta))
    .bytes(2, details)
    .bytes(3, encodeTableOptions(d.options))
    .int(4, d.status)
    .finish();
}
