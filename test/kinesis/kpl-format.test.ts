/**
 * The KPL aggregation format at its edges (kinesis/kpl.ts; issue 19: the mutants the round-trip tests in
 * test/consumer-runtime/kpl.test.ts let survive). Format (awslabs/amazon-kinesis-producer,
 * aggregation-format.md): magic F3 89 9A C2, protobuf AggregatedRecord { repeated string
 * partition_key_table = 1; repeated string explicit_hash_key_table = 2; repeated Record records = 3 },
 * Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
 * required bytes data = 3; repeated Tag tags = 4 }, then the MD5 of the protobuf bytes.
 * Aggregates here are written byte by byte, independently of the encoder under test.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AggregateSizer, KPL_OVERHEAD_BYTES, KplDecodeError, decodeAggregate, encodeAggregate, varintSize, type KplDecodeErrorReason } from '../../kinesis/kpl';

const MAGIC = [0xf3, 0x89, 0x9a, 0xc2];

/** A protobuf varint, written independently (BigInt, 7 bits at a time). */
function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return out;
}
const delimited = (tag: number, payload: number[]) => [tag, ...varint(payload.length), ...payload];
const utf8 = (s: string) => [...Buffer.from(s, 'utf8')];
/** magic + body + MD5(body): a well-formed frame around any protobuf body. */
const frame = (body: number[]) => Buffer.concat([Buffer.from(MAGIC), Buffer.from(body), createHash('md5').update(Buffer.from(body)).digest()]);
/** Record { partition_key_index = pk; [explicit_hash_key_index = ehk;] data = data }. */
const userRecord = (pk: number, data: string, ehk?: number) => delimited(0x1a, [0x08, ...varint(pk), ...(ehk === undefined ? [] : [0x10, ...varint(ehk)]), ...delimited(0x1a, utf8(data))]);

function decodeError(bytes: Uint8Array): KplDecodeError {
  try {
    decodeAggregate(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(KplDecodeError);
    return error as KplDecodeError;
  }
  throw new Error('decodeAggregate accepted a corrupt aggregate');
}
function expectRejected(bytes: Uint8Array, reason: KplDecodeErrorReason, message: string): void {
  const error = decodeError(bytes);
  expect(error.name).toBe('KplDecodeError');
  expect(error.reason).toBe(reason);
  expect(error.message).toBe(message);
}
const plain = (records: ReturnType<typeof decodeAggregate>) => records.map((r) => ({ ...r, data: Buffer.from(r.data).toString('utf8') }));

describe('varints', () => {
  it('varintSize is the length of the protobuf encoding at every 7-bit boundary', () => {
    const values: number[] = [0, 1];
    for (let bits = 7; bits <= 49; bits += 7) values.push(2 ** bits - 1, 2 ** bits, 2 ** bits + 1);
    values.push(Number.MAX_SAFE_INTEGER);
    for (const value of values) expect([value, varintSize(value)]).toEqual([value, varint(value).length]);
  });

  it('the encoder writes multi-byte indices and lengths as protobuf varints', () => {
    // 200 distinct partition keys: the index of the last one (199) takes two varint bytes.
    const records = Array.from({ length: 200 }, (_, i) => ({ partitionKey: `k${i}`, data: Buffer.from(`d${i}`) }));
    const body = [...records.flatMap((r) => delimited(0x0a, utf8(r.partitionKey))), ...records.flatMap((r, i) => userRecord(i, `d${i}`))];
    expect(Buffer.from(encodeAggregate(records)).equals(frame(body))).toBe(true);
  });
});

describe('encodeAggregate writes the format byte by byte', () => {
  it('key tables first (de-duplicated, first-seen order), then the records; the explicit hash key index only when given', () => {
    const ehk = '170141183460469231731687303715884105728';
    const records = [
      { partitionKey: 'b', data: Buffer.from('1') },
      { partitionKey: 'a', explicitHashKey: ehk, data: Buffer.from('2') },
      { partitionKey: 'b', explicitHashKey: ehk, data: Buffer.from('') },
    ];
    const body = [...delimited(0x0a, utf8('b')), ...delimited(0x0a, utf8('a')), ...delimited(0x12, utf8(ehk)), ...userRecord(0, '1'), ...userRecord(1, '2', 0), ...userRecord(0, '', 0)];
    const encoded = encodeAggregate(records);
    expect(Buffer.from(encoded).equals(frame(body))).toBe(true);
    expect(encoded.length).toBe(KPL_OVERHEAD_BYTES + body.length);
  });

  it('an aggregate of nothing is magic + MD5 of the empty body, and decodes to no records', () => {
    const empty = encodeAggregate([]);
    expect(Buffer.from(empty).equals(frame([]))).toBe(true);
    expect(empty.length).toBe(20);
    expect(decodeAggregate(empty)).toEqual([]);
  });

  it('the sizer counts a repeated explicit hash key once, like the table', () => {
    const ehk = '1'.repeat(38);
    const records = [
      { partitionKey: 'p', explicitHashKey: ehk, data: Buffer.from('x') },
      { partitionKey: 'q', explicitHashKey: ehk, data: Buffer.from('y') },
      { partitionKey: 'p', data: Buffer.from('z') },
    ];
    const sizer = new AggregateSizer();
    expect(sizer.count).toBe(0);
    records.forEach((r, i) => expect(sizer.add(r)).toBe(encodeAggregate(records.slice(0, i + 1)).length));
    expect(sizer.count).toBe(3);
    sizer.reset();
    expect(sizer.count).toBe(0);
    expect(sizer.sizeWith(records[1]!)).toBe(encodeAggregate([records[1]!]).length);
  });
});

describe('decodeAggregate reads what the format allows', () => {
  it('user records share the table entries and take their index as sub-sequence number', () => {
    const body = [...delimited(0x0a, utf8('pk-é')), ...delimited(0x12, utf8('42')), ...userRecord(0, 'first', 0), ...userRecord(0, 'second')];
    expect(plain(decodeAggregate(frame(body)))).toEqual([
      { partitionKey: 'pk-é', explicitHashKey: '42', data: 'first', subSequenceNumber: 0 },
      { partitionKey: 'pk-é', explicitHashKey: undefined, data: 'second', subSequenceNumber: 1 },
    ]);
  });

  it('fields may come in any order, and unknown fields (tags, future fields) of every wire type are skipped', () => {
    const tag = delimited(0x22, [...delimited(0x0a, utf8('key')), ...delimited(0x12, utf8('value'))]); // Record.tags (field 4)
    const unknownInRecord = [
      0x28, ...varint(300), // field 5, varint
      0x31, 1, 2, 3, 4, 5, 6, 7, 8, // field 6, fixed64
      0x3d, 1, 2, 3, 4, // field 7, fixed32
    ];
    const record = delimited(0x1a, [...delimited(0x1a, utf8('payload')), ...tag, ...unknownInRecord, 0x08, ...varint(1)]);
    const unknownInAggregate = [0x20, ...varint(2 ** 40), 0x29, 0, 0, 0, 0, 0, 0, 0, 0, 0x35, 9, 9, 9, 9, ...delimited(0x3a, [1, 2, 3])];
    const body = [...record, ...unknownInAggregate, ...delimited(0x0a, utf8('zero')), ...delimited(0x0a, utf8('one'))];
    expect(plain(decodeAggregate(frame(body)))).toEqual([{ partitionKey: 'one', explicitHashKey: undefined, data: 'payload', subSequenceNumber: 0 }]);
  });

  it('a fixed-width field may end exactly at the end of the body', () => {
    const body = [...delimited(0x0a, utf8('k')), ...userRecord(0, 'x'), 0x29, 1, 2, 3, 4, 5, 6, 7, 8];
    expect(plain(decodeAggregate(frame(body)))).toHaveLength(1);
    const fixed32 = [...delimited(0x0a, utf8('k')), ...userRecord(0, 'x'), 0x35, 1, 2, 3, 4];
    expect(plain(decodeAggregate(frame(fixed32)))).toHaveLength(1);
  });

  it('a varint of ten bytes is accepted', () => {
    // partition_key_index 0 written as ten bytes (nine continuation bytes): still index 0.
    const body = [...delimited(0x0a, utf8('k')), ...delimited(0x1a, [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, ...delimited(0x1a, utf8('x'))])];
    expect(plain(decodeAggregate(frame(body)))).toEqual([{ partitionKey: 'k', explicitHashKey: undefined, data: 'x', subSequenceNumber: 0 }]);
  });

  it('a large varint value is read exactly (no 32-bit overflow)', () => {
    // An unknown field with a 2^40 varint between two records must not desynchronise the reader.
    const body = [...delimited(0x0a, utf8('k')), 0x20, ...varint(2 ** 40 + 3), ...userRecord(0, 'x'), 0x20, ...varint(2 ** 52), ...userRecord(0, 'y')];
    expect(plain(decodeAggregate(frame(body))).map((r) => r.data)).toEqual(['x', 'y']);
  });
});

describe('decodeAggregate rejects a corrupt aggregate with its reason', () => {
  it('not an aggregate, too short', () => {
    expectRejected(Buffer.from('{"a":1}'), 'not-aggregate', 'data does not start with the KPL magic number');
    expectRejected(Buffer.from([...MAGIC, ...new Array(15).fill(0)]), 'too-short', 'aggregate of 19 bytes is shorter than magic + MD5 (20 bytes)');
  });

  it('a checksum that differs in its last byte', () => {
    const bytes = frame([...delimited(0x0a, utf8('k')), ...userRecord(0, 'x')]);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    expectRejected(bytes, 'checksum', 'aggregate MD5 checksum does not match its protobuf body (corrupt or truncated)');
  });

  it.each([
    ['a varint cut at the end of the body', [0x0a, 0x80], 'truncated', 'aggregate protobuf ends inside a varint'],
    ['a varint of eleven bytes', [0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'malformed', 'aggregate protobuf has a varint longer than 10 bytes'],
    ['a string running past the body', [0x0a, 0x05, 0x61], 'truncated', 'aggregate protobuf field runs past the end of its message'],
    ['a fixed64 cut short', [0x29, 1, 2, 3, 4, 5, 6, 7], 'truncated', 'aggregate protobuf ends inside a fixed-width field'],
    ['a fixed32 cut short', [0x35, 1, 2, 3], 'truncated', 'aggregate protobuf ends inside a fixed-width field'],
    ['wire type 3 (start group)', [0x23], 'malformed', 'aggregate protobuf uses unsupported wire type 3'],
    ['wire type 4 inside a record', [...delimited(0x0a, utf8('k')), ...delimited(0x1a, [0x08, 0x00, 0x24])], 'malformed', 'aggregate protobuf uses unsupported wire type 4'],
    ['field number 0', [0x02, 0x00], 'malformed', 'aggregate protobuf has field number 0'],
    ['a partition key that is not UTF-8', [0x0a, 0x01, 0xff], 'malformed', 'aggregate partition key is not valid UTF-8'],
    ['an explicit hash key that is not UTF-8', [0x12, 0x02, 0xc3, 0x28], 'malformed', 'aggregate explicit hash key is not valid UTF-8'],
    ['a record without partition_key_index', [...delimited(0x0a, utf8('k')), ...delimited(0x1a, delimited(0x1a, utf8('x')))], 'malformed', 'user record 0 lacks its required partition_key_index'],
    ['a second record without data', [...delimited(0x0a, utf8('k')), ...userRecord(0, 'x'), ...delimited(0x1a, [0x08, 0x00])], 'malformed', 'user record 1 lacks its required data'],
    ['data running past its record (inside the body)', [...delimited(0x0a, utf8('k')), ...delimited(0x1a, [0x08, 0x00, 0x1a, 0x05, 0x61]), 0x20, 0x01, 0x20, 0x01], 'truncated', 'aggregate protobuf field runs past the end of its message'],
    ['a partition key index past the table', [...delimited(0x0a, utf8('k')), ...userRecord(1, 'x')], 'malformed', 'user record 0 points at partition key 1 of a 1-entry table'],
    ['an explicit hash key index past the table', [...delimited(0x0a, utf8('k')), ...delimited(0x12, utf8('9')), ...userRecord(0, 'x', 0), ...userRecord(0, 'y', 1)], 'malformed', 'user record 1 points at explicit hash key 1 of a 1-entry table'],
  ] as const)('%s', (_name, body, reason, message) => {
    expectRejected(frame([...body]), reason, message);
  });
});
