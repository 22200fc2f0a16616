import { describe, expect, it } from 'vitest';
import agg from 'aws-kinesis-agg';
import {
  AggregateSizer,
  KplDecodeError,
  aggregateSize,
  decodeAggregate,
  encodeAggregate,
  isAggregate,
  type KplUserRecord,
} from '../../kinesis/kpl';

interface AggUserRecord {
  partitionKey: string;
  explicitPartitionKey?: string;
  subSequenceNumber: number;
  data: string;
}

/** RecordAggregator exists in aws-kinesis-agg's JS but not in its type declarations. */
const { RecordAggregator } = agg as unknown as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; explicitHashKey?: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer };
  };
};

/** aws-kinesis-agg's own encoder (the reference producer). */
function referenceEncode(records: readonly KplUserRecord[]): Buffer {
  const aggregator = new RecordAggregator();
  for (const r of records) {
    aggregator.addUserRecord({
      partitionKey: r.partitionKey,
      ...(r.explicitHashKey !== undefined ? { explicitHashKey: r.explicitHashKey } : {}),
      data: Buffer.from(r.data),
    });
  }
  return aggregator.build().data;
}

/** aws-kinesis-agg's own decoder (checksums on). */
function referenceDecode(bytes: Uint8Array): AggUserRecord[] {
  let out: AggUserRecord[] | undefined;
  let failure: Error | undefined;
  agg.deaggregateSync(
    { partitionKey: 'outer', sequenceNumber: '1', data: Buffer.from(bytes).toString('base64') } as never,
    true,
    (err: Error | null, records?: AggUserRecord[]) => {
      if (err) failure = err;
      else out = records;
    },
  );
  if (failure) throw failure;
  return out!;
}

function sample(count: number): KplUserRecord[] {
  const records: KplUserRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      partitionKey: `order-${i % 7}-${'ключ'.repeat(i % 3)}`,
      ...(i % 4 === 0 ? { explicitHashKey: String(BigInt(2) ** BigInt(127) + BigInt(i % 2)) } : {}),
      data: Buffer.from(JSON.stringify({ i, text: 'x'.repeat((i % 50) * 37) })),
    });
  }
  return records;
}

describe('KPL aggregation (rule 1: decode)', () => {
  it('encodes byte-identically to aws-kinesis-agg', () => {
    for (const n of [1, 2, 17, 300]) {
      const records = sample(n);
      expect(Buffer.from(encodeAggregate(records)).equals(referenceEncode(records))).toBe(true);
    }
  });

  it('aws-kinesis-agg decodes what encodeAggregate writes', () => {
    const records = sample(50);
    const decoded = referenceDecode(encodeAggregate(records));
    expect(decoded).toHaveLength(50);
    decoded.forEach((d, i) => {
      expect(d.partitionKey).toBe(records[i]!.partitionKey);
      // aws-kinesis-agg (protobufjs) reads an absent optional index as 0, so only compare present keys
      if (records[i]!.explicitHashKey !== undefined) expect(d.explicitPartitionKey).toBe(records[i]!.explicitHashKey);
      expect(d.subSequenceNumber).toBe(i);
      expect(Buffer.from(d.data, 'base64').equals(Buffer.from(records[i]!.data))).toBe(true);
    });
  });

  it('decodeAggregate decodes what aws-kinesis-agg writes', () => {
    const records = sample(120);
    const bytes = referenceEncode(records);
    expect(isAggregate(bytes)).toBe(true);
    const decoded = decodeAggregate(bytes);
    expect(decoded).toHaveLength(120);
    decoded.forEach((d, i) => {
      expect(d.partitionKey).toBe(records[i]!.partitionKey);
      expect(d.explicitHashKey).toBe(records[i]!.explicitHashKey);
      expect(d.subSequenceNumber).toBe(i);
      expect(Buffer.from(d.data).equals(Buffer.from(records[i]!.data))).toBe(true);
    });
  });

  it('handles empty data and multi-byte varints', () => {
    const records: KplUserRecord[] = [
      { partitionKey: 'a', data: new Uint8Array(0) },
      { partitionKey: 'b', data: new Uint8Array(70_000).fill(7) },
    ];
    const bytes = encodeAggregate(records);
    expect(Buffer.from(bytes).equals(referenceEncode(records))).toBe(true);
    const decoded = decodeAggregate(bytes);
    expect(decoded[0]!.data.length).toBe(0);
    expect(decoded[1]!.data.length).toBe(70_000);
  });

  it('sizes incrementally exactly as encoded', () => {
    const records = sample(200);
    const sizer = new AggregateSizer();
    expect(sizer.size).toBe(0);
    for (let i = 0; i < records.length; i++) {
      const predicted = sizer.sizeWith(records[i]!);
      expect(sizer.add(records[i]!)).toBe(predicted);
      expect(predicted).toBe(encodeAggregate(records.slice(0, i + 1)).length);
    }
    expect(sizer.count).toBe(200);
    expect(aggregateSize(records)).toBe(sizer.size);
    sizer.reset();
    expect(sizer.size).toBe(0);
  });

  it('rejects a corrupt aggregate: bad MD5', () => {
    const bytes = Buffer.from(encodeAggregate(sample(3)));
    bytes[10] = bytes[10]! ^ 0xff;
    expect(() => decodeAggregate(bytes)).toThrowError(KplDecodeError);
    expect(() => decodeAggregate(bytes)).toThrow(/MD5/);
    // the reference agrees it is corrupt
    expect(() => referenceDecode(bytes)).toThrow();
  });

  it('rejects a corrupt aggregate: truncated', () => {
    const bytes = encodeAggregate(sample(3));
    const cut = bytes.subarray(0, bytes.length - 30);
    expect(() => decodeAggregate(cut)).toThrowError(KplDecodeError);
    expect(() => decodeAggregate(bytes.subarray(0, 10))).toThrow(/shorter than/);
  });

  it('rejects a truncated protobuf whose checksum matches', async () => {
    const { createHash } = await import('node:crypto');
    const good = encodeAggregate(sample(2));
    const body = good.subarray(4, good.length - 16 - 5); // cut inside the last record
    const forged = Buffer.concat([good.subarray(0, 4), body, createHash('md5').update(body).digest()]);
    let error: unknown;
    try {
      decodeAggregate(forged);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KplDecodeError);
    expect((error as KplDecodeError).reason).toBe('truncated');
  });

  it('rejects an out-of-range partition key index', async () => {
    const { createHash } = await import('node:crypto');
    // records { partition_key_index: 3, data: "x" } with an empty key table
    const body = Buffer.from([0x1a, 0x05, 0x08, 0x03, 0x1a, 0x01, 0x78]);
    const forged = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), body, createHash('md5').update(body).digest()]);
    expect(() => decodeAggregate(forged)).toThrow(/partition key 3/);
  });

  it('isAggregate only matches the magic number', () => {
    expect(isAggregate(Buffer.from('{"a":1}'))).toBe(false);
    expect(isAggregate(Uint8Array.of(0xf3, 0x89, 0x9a))).toBe(false);
    expect(isAggregate(Uint8Array.of(0xf3, 0x89, 0x9a, 0xc2))).toBe(true);
  });
});
