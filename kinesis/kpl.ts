/**
 * KPL record aggregation: encode and decode the Kinesis Producer Library aggregate format.
 *
 * Format (awslabs/amazon-kinesis-producer, aggregation-format.md):
 *   4 magic bytes F3 89 9A C2
 *   protobuf AggregatedRecord {
 *     repeated string partition_key_table = 1;
 *     repeated string explicit_hash_key_table = 2;
 *     repeated Record records = 3;
 *   }
 *   Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 *            required bytes data = 3; repeated Tag tags = 4; }
 *   16-byte MD5 of the protobuf bytes.
 * All user records of an aggregate share the Kinesis record's sequence number; the index of a user
 * record inside the aggregate is its sub-sequence number. Lambda does not deaggregate.
 *
 * The protobuf codec is hand-written (no protobufjs at runtime): fields are emitted in field-number
 * order like protobufjs does, so `encodeAggregate` output is byte-identical to `aws-kinesis-agg`'s for
 * the same input.
 */
import { createHash } from 'node:crypto';

/** The 4 magic bytes that open every KPL aggregate. */
export const KPL_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2);
/** Length of the MD5 trailer. */
export const KPL_CHECKSUM_BYTES = 16;
/** Bytes an aggregate adds around its protobuf body (magic + MD5). */
export const KPL_OVERHEAD_BYTES = KPL_MAGIC.length + KPL_CHECKSUM_BYTES;

/** One user record to aggregate. */
export interface KplUserRecord {
  readonly partitionKey: string;
  /** Decimal 128-bit hash key overriding the partition key's MD5 for shard routing. */
  readonly explicitHashKey?: string | undefined;
  readonly data: Uint8Array;
}

/** One user record decoded from an aggregate. `data` is a view into the aggregate's bytes (no copy). */
export interface DecodedUserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey?: string | undefined;
  readonly data: Uint8Array;
  /** Index of the user record inside the aggregate (KPL's sub-sequence number). */
  readonly subSequenceNumber: number;
}

/** Why an aggregate could not be decoded. */
export type KplDecodeErrorReason = 'too-short' | 'not-aggregate' | 'checksum' | 'truncated' | 'malformed';

/** A corrupt aggregate: bad checksum, truncated or malformed protobuf. */
export class KplDecodeError extends Error {
  constructor(
    readonly reason: KplDecodeErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'KplDecodeError';
  }
}

// Protobuf tags: (field number << 3) | wire type. Wire type 2 = length-delimited, 0 = varint.
const TAG_PK_TABLE = 0x0a;
const TAG_EHK_TABLE = 0x12;
const TAG_RECORDS = 0x1a;
const TAG_PK_INDEX = 0x08;
const TAG_EHK_INDEX = 0x10;
const TAG_DATA = 0x1a;

/** True when `bytes` starts with the KPL magic number (a cheap check: 4 byte compares). */
export function isAggregate(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0xf3 && bytes[1] === 0x89 && bytes[2] === 0x9a && bytes[3] === 0xc2
  );
}

/** Number of bytes of a protobuf varint encoding `value` (non-negative integer). */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 4;
  let v = Math.floor(value / 0x10000000);
  while (v > 0) {
    size += 1;
    v = Math.floor(v / 0x80);
  }
  return size;
}

function lengthDelimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/**
 * Incremental size of an aggregate under construction: what `encodeAggregate` would return for the
 * records added so far, in O(1) per record. A producer uses it to pack aggregates up to a size limit.
 */
export class AggregateSizer {
  private readonly pkIndex = new Map<string, number>();
  private readonly ehkIndex = new Map<string, number>();
  private bodyBytes = 0;
  private records = 0;

  /** Encoded size in bytes (magic + protobuf + MD5) of the records added so far; 0 when empty. */
  get size(): number {
    return this.records === 0 ? 0 : KPL_OVERHEAD_BYTES + this.bodyBytes;
  }

  /** Number of user records added. */
  get count(): number {
    return this.records;
  }

  /** Encoded size the aggregate would have after adding `record` (does not add it). */
  sizeWith(record: KplUserRecord): number {
    return KPL_OVERHEAD_BYTES + this.bodyBytes + this.delta(record);
  }

  /** Add `record`; returns the new encoded size. */
  add(record: KplUserRecord): number {
    this.bodyBytes += this.delta(record);
    this.records += 1;
    if (!this.pkIndex.has(record.partitionKey)) this.pkIndex.set(record.partitionKey, this.pkIndex.size);
    const ehk = record.explicitHashKey;
    if (ehk !== undefined && !this.ehkIndex.has(ehk)) this.ehkIndex.set(ehk, this.ehkIndex.size);
    return this.size;
  }

  /** Forget every record (start a new aggregate). */
  reset(): void {
    this.pkIndex.clear();
    this.ehkIndex.clear();
    this.bodyBytes = 0;
    this.records = 0;
  }

  private delta(record: KplUserRecord): number {
    let bytes = 0;
    let pkIdx = this.pkIndex.get(record.partitionKey);
    if (pkIdx === undefined) {
      pkIdx = this.pkIndex.size;
      bytes += lengthDelimitedSize(Buffer.byteLength(record.partitionKey, 'utf8'));
    }
    let inner = 1 + varintSize(pkIdx);
    const ehk = record.explicitHashKey;
    if (ehk !== undefined) {
      let ehkIdx = this.ehkIndex.get(ehk);
      if (ehkIdx === undefined) {
        ehkIdx = this.ehkIndex.size;
        bytes += lengthDelimitedSize(Buffer.byteLength(ehk, 'utf8'));
      }
      inner += 1 + varintSize(ehkIdx);
    }
    inner += lengthDelimitedSize(record.data.length);
    return bytes + lengthDelimitedSize(inner);
  }
}

/** Encoded size of one aggregate holding `records` (same as `encodeAggregate(records).length`). */
export function aggregateSize(records: readonly KplUserRecord[]): number {
  const sizer = new AggregateSizer();
  for (const record of records) sizer.add(record);
  return sizer.size;
}

function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Encode user records into one KPL aggregate (magic + protobuf + MD5). Partition keys and explicit
 * hash keys are de-duplicated into the tables in first-seen order, as the KPL and aws-kinesis-agg do.
 */
export function encodeAggregate(records: readonly KplUserRecord[]): Uint8Array {
  const pkTable: string[] = [];
  const pkIndex = new Map<string, number>();
  const ehkTable: string[] = [];
  const ehkIndex = new Map<string, number>();
  const pkIdx = new Array<number>(records.length);
  const ehkIdx = new Array<number>(records.length);
  const innerSizes = new Array<number>(records.length);
  let body = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    let p = pkIndex.get(r.partitionKey);
    if (p === undefined) {
      p = pkTable.length;
      pkIndex.set(r.partitionKey, p);
      pkTable.push(r.partitionKey);
      body += lengthDelimitedSize(Buffer.byteLength(r.partitionKey, 'utf8'));
    }
    pkIdx[i] = p;
    let inner = 1 + varintSize(p);
    if (r.explicitHashKey !== undefined) {
      let e = ehkIndex.get(r.explicitHashKey);
      if (e === undefined) {
        e = ehkTable.length;
        ehkIndex.set(r.explicitHashKey, e);
        ehkTable.push(r.explicitHashKey);
        body += lengthDelimitedSize(Buffer.byteLength(r.explicitHashKey, 'utf8'));
      }
      ehkIdx[i] = e;
      inner += 1 + varintSize(e);
    } else {
      ehkIdx[i] = -1;
    }
    inner += lengthDelimitedSize(r.data.length);
    innerSizes[i] = inner;
    body += lengthDelimitedSize(inner);
  }

  const out = Buffer.allocUnsafe(KPL_OVERHEAD_BYTES + body);
  out.set(KPL_MAGIC, 0);
  let pos = KPL_MAGIC.length;
  const writeString = (tag: number, s: string): void => {
    const len = Buffer.byteLength(s, 'utf8');
    out[pos++] = tag;
    pos = writeVarint(out, pos, len);
    pos += out.write(s, pos, len, 'utf8');
  };
  for (const pk of pkTable) writeString(TAG_PK_TABLE, pk);
  for (const ehk of ehkTable) writeString(TAG_EHK_TABLE, ehk);
  for (let i = 0; i < records.length; i++) {
    const data = records[i]!.data;
    out[pos++] = TAG_RECORDS;
    pos = writeVarint(out, pos, innerSizes[i]!);
    out[pos++] = TAG_PK_INDEX;
    pos = writeVarint(out, pos, pkIdx[i]!);
    if (ehkIdx[i]! >= 0) {
      out[pos++] = TAG_EHK_INDEX;
      pos = writeVarint(out, pos, ehkIdx[i]!);
    }
    out[pos++] = TAG_DATA;
    pos = writeVarint(out, pos, data.length);
    out.set(data, pos);
    pos += data.length;
  }
  const digest = createHash('md5').update(out.subarray(KPL_MAGIC.length, pos)).digest();
  out.set(digest, pos);
  return out;
}

/** Minimal protobuf reader over a byte range; every read is bounds-checked. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new KplDecodeError('truncated', 'aggregate protobuf ends inside a varint');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 0x80;
    }
    throw new KplDecodeError('malformed', 'aggregate protobuf has a varint longer than 10 bytes');
  }

  /** Reads a length prefix and returns the end offset of the delimited bytes. */
  delimited(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new KplDecodeError('truncated', 'aggregate protobuf field runs past the end of its message');
    return end;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new KplDecodeError('malformed', `aggregate protobuf uses unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new KplDecodeError('truncated', 'aggregate protobuf ends inside a fixed-width field');
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readString(r: Reader, what: string): string {
  const end = r.delimited();
  try {
    const s = utf8.decode(r.buf.subarray(r.pos, end));
    r.pos = end;
    return s;
  } catch {
    throw new KplDecodeError('malformed', `aggregate ${what} is not valid UTF-8`);
  }
}

/**
 * Decode a KPL aggregate into its user records, verifying the magic number and the MD5 trailer.
 * Throws `KplDecodeError` for a corrupt aggregate. Returned `data` fields are views into `bytes`.
 */
export function decodeAggregate(bytes: Uint8Array): DecodedUserRecord[] {
  if (!isAggregate(bytes)) throw new KplDecodeError('not-aggregate', 'data does not start with the KPL magic number');
  if (bytes.length < KPL_OVERHEAD_BYTES) {
    throw new KplDecodeError('too-short', `aggregate of ${bytes.length} bytes is shorter than magic + MD5 (20 bytes)`);
  }
  const bodyEnd = bytes.length - KPL_CHECKSUM_BYTES;
  const body = bytes.subarray(KPL_MAGIC.length, bodyEnd);
  const digest = createHash('md5').update(body).digest();
  for (let i = 0; i < KPL_CHECKSUM_BYTES; i++) {
    if (digest[i] !== bytes[bodyEnd + i]) {
      throw new KplDecodeError('checksum', 'aggregate MD5 checksum does not match its protobuf body (corrupt or truncated)');
    }
  }

  const pkTable: string[] = [];
  const ehkTable: string[] = [];
  const raw: { pk: number; ehk: number; start: number; end: number }[] = [];
  const r = new Reader(bytes, KPL_MAGIC.length, bodyEnd);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 1 && wire === 2) pkTable.push(readString(r, 'partition key'));
    else if (field === 2 && wire === 2) ehkTable.push(readString(r, 'explicit hash key'));
    else if (field === 3 && wire === 2) {
      const end = r.delimited();
      let pk = -1;
      let ehk = -1;
      let start = -1;
      let dataEnd = -1;
      while (r.pos < end) {
        const t = r.varint();
        const f = Math.floor(t / 8);
        const w = t & 7;
        const inner = new Reader(bytes, r.pos, end);
        if (f === 1 && w === 0) pk = inner.varint();
        else if (f === 2 && w === 0) ehk = inner.varint();
        else if (f === 3 && w === 2) {
          dataEnd = inner.delimited();
          start = inner.pos;
          inner.pos = dataEnd;
        } else inner.skip(w); // tags (field 4) and unknown fields
        r.pos = inner.pos;
      }
      if (pk < 0) throw new KplDecodeError('malformed', `user record ${raw.length} lacks its required partition_key_index`);
      if (start < 0) throw new KplDecodeError('malformed', `user record ${raw.length} lacks its required data`);
      raw.push({ pk, ehk, start, end: dataEnd });
    } else if (field === 0) {
      throw new KplDecodeError('malformed', 'aggregate protobuf has field number 0');
    } else r.skip(wire);
  }

  const out = new Array<DecodedUserRecord>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const { pk, ehk, start, end } = raw[i]!;
    const partitionKey = pkTable[pk];
    if (partitionKey === undefined) {
      throw new KplDecodeError('malformed', `user record ${i} points at partition key ${pk} of a ${pkTable.length}-entry table`);
    }
    let explicitHashKey: string | undefined;
    if (ehk >= 0) {
      explicitHashKey = ehkTable[ehk];
      if (explicitHashKey === undefined) {
        throw new KplDecodeError('malformed', `user record ${i} points at explicit hash key ${ehk} of a ${ehkTable.length}-entry table`);
      }
    }
    out[i] = { partitionKey, explicitHashKey, data: bytes.subarray(start, end), subSequenceNumber: i };
  }
  return out;
}
