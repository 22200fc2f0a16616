/** Validation, Kinesis limits and backpressure: each rejects clearly and sends nothing it should not. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import {
  BufferFullError,
  EventRejectedError,
  ExplicitHashKeyError,
  KinesisProducer,
  PartitionKeyError,
  type KinesisProducerOptions,
  RecordDataError,
  RecordLimitError,
} from '../../producers/index';
import { listAllShards } from '../../kinesis/client';
import { ShardMap } from '../../kinesis/hash-key';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { startFaultProxy } from '../support/fault-proxy';
import { readAllRecords } from '../support/read-stream';
import { quietLogger, uniqueStreamName, useKinesalite } from './helpers';

const kinesis = useKinesalite();
let stream: string;

beforeAll(async () => {
  stream = uniqueStreamName('limits');
  await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
});

function producer(extra: Partial<KinesisProducerOptions<OrderEvent>> = {}) {
  return new KinesisProducer({ streamName: stream, endpoint: kinesis.endpoint, logger: quietLogger(), ...extra });
}

describe('validation', () => {
  it('rejects an invalid event at once with the contract issues, and sends nothing', async () => {
    const p = producer();
    const fixtures = createFixtures({ seed: 21 });
    const kinds = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const bad = fixtures.invalid();
      kinds.add(bad.kind);
      const error = (await p.put(bad.value).catch((e: unknown) => e)) as EventRejectedError;
      expect(error).toBeInstanceOf(EventRejectedError);
      expect(error.code).toBe('EVENT_INVALID');
      expect(error.message).toMatch(/^event rejected, nothing sent: /);
      expect(error.contractError.kind).toMatch(/envelope|schema|unknown-type|unknown-version/);
    }
    expect(kinds.size).toBeGreaterThan(3);
    await p.close();
    expect(p.stats()).toMatchObject({ requests: 0, rejected: 30, accepted: 0 });
  });

  it('names the offending field', async () => {
    const p = producer();
    const event = createFixtures({ seed: 1 }).orderPlaced();
    event.data.totalMinor += 1;
    const error = (await p.put(event).catch((e: unknown) => e)) as EventRejectedError;
    expect(error.issues.map((i) => i.path)).toContain('data.totalMinor');
    await p.close();
  });
});

describe('partition key', () => {
  it('uses data.orderId by default and a custom function when given', async () => {
    const event = createFixtures({ seed: 3 }).orderPaid({ orderId: 'ord-key-check' });
    const custom = producer({ partitionKey: (e) => `custom-${e.type}` });
    const result = await custom.put(event);
    await custom.close();
    const stored = (await readAllRecords(kinesis.client, stream)).find((r) => r.sequenceNumber === result.sequenceNumber)!;
    expect(stored.partitionKey).toBe('custom-order.paid');

    const byDefault = producer();
    const r2 = await byDefault.put(event);
    await byDefault.close();
    expect((await readAllRecords(kinesis.client, stream)).find((r) => r.sequenceNumber === r2.sequenceNumber)!.partitionKey).toBe('ord-key-check');
  });

  it('rejects a key function that throws or returns a non-string', async () => {
    const event = createFixtures({ seed: 4 }).orderPaid();
    const throwing = producer({
      partitionKey: () => {
        throw new Error('boom');
      },
    });
    await expect(throwing.put(event)).rejects.toBeInstanceOf(PartitionKeyError);
    const numeric = producer({ partitionKey: () => 42 as unknown as string });
    await expect(numeric.put(event)).rejects.toThrow(/partition key must be a string/);
    await Promise.all([throwing.close(), numeric.close()]);
  });
});

describe('Kinesis limits', () => {
  it('rejects a partition key over 256 characters, naming the limit', async () => {
    const p = producer();
    const error = (await p.putRecord({ partitionKey: 'k'.repeat(257), data: 'x' }).catch((e: unknown) => e)) as RecordLimitError;
    expect(error).toBeInstanceOf(RecordLimitError);
    expect(error.limit).toBe('PartitionKeyLength');
    expect(error.actual).toBe(257);
    expect(error.maximum).toBe(256);
    expect(error.message).toContain('256 characters');
    // 256 characters (even multi-byte ones) are fine.
    await expect(p.putRecord({ partitionKey: 'é'.repeat(256), data: 'x' })).resolves.toHaveProperty('sequenceNumber');
    await p.close();
  });

  it('rejects an empty partition key', async () => {
    const p = producer();
    await expect(p.putRecord({ partitionKey: '', data: 'x' })).rejects.toMatchObject({ limit: 'PartitionKeyLength' });
    await p.close();
  });

  it('rejects data + key over 1 MiB, naming the limit, and accepts exactly 1 MiB', async () => {
    const p = producer();
    const key = 'big';
    const error = (await p
      .putRecord({ partitionKey: key, data: new Uint8Array(1024 * 1024 - key.length + 1) })
      .catch((e: unknown) => e)) as RecordLimitError;
    expect(error).toBeInstanceOf(RecordLimitError);
    expect(error.limit).toBe('RecordSize');
    expect(error.actual).toBe(1024 * 1024 + 1);
    expect(error.message).toContain('1 MiB');
    const ok = await p.putRecord({ partitionKey: key, data: new Uint8Array(1024 * 1024 - key.length) });
    expect(ok.sequenceNumber).toMatch(/^\d+$/);
    await p.close();
    expect(p.stats()).toMatchObject({ rejected: 1, written: 1 });
  });

  it('splits batches at the 5 MiB request limit', async () => {
    const local = uniqueStreamName('five-mib');
    await ensureStream(kinesis.client, { name: local, shardCount: 2 });
    const p = new KinesisProducer({ streamName: local, endpoint: kinesis.endpoint, logger: quietLogger() });
    const data = new Uint8Array(900 * 1024);
    await Promise.all(Array.from({ length: 12 }, (_, i) => p.putRecord({ partitionKey: `k${i}`, data })));
    await p.close();
    // 12 x 900 KiB = 10.5 MiB: at least 3 requests of <= 5 MiB each.
    expect(p.stats().requests).toBeGreaterThanOrEqual(3);
    expect(await readAllRecords(kinesis.client, local)).toHaveLength(12);
  });

  it('PartitionKey: "Unicode strings": a key with a lone UTF-16 surrogate, or no string at all, is refused before sending', async () => {
    const p = producer();
    await expect(p.putRecord({ partitionKey: 'ord-\udc00', data: 'x' })).rejects.toThrow(/not valid Unicode/);
    await expect(p.putRecord({ partitionKey: 42 as unknown as string, data: 'x' })).rejects.toBeInstanceOf(PartitionKeyError);
    // A well-formed astral character is one character of the 256.
    await expect(p.putRecord({ partitionKey: '😀'.repeat(257), data: 'x' })).rejects.toMatchObject({ limit: 'PartitionKeyLength', actual: 257 });
    await p.close();
    expect(p.stats()).toMatchObject({ requests: 0, rejected: 3 });
  });

  it('Data: a blob (bytes or a string): anything else, or an event serialize() cannot turn into bytes, is refused before sending', async () => {
    const p = producer();
    await expect(p.putRecord({ partitionKey: 'k', data: 42 as unknown as string })).rejects.toBeInstanceOf(RecordDataError);
    await expect(p.putRecord(null as unknown as { partitionKey: string; data: string })).rejects.toMatchObject({ code: 'DATA_INVALID' });
    const bigints = producer({ serialize: () => Buffer.from(JSON.stringify({ n: 1n })) });
    await expect(bigints.put(createFixtures({ seed: 5 }).orderPaid())).rejects.toThrow(/could not be serialised: .*BigInt/);
    await Promise.all([p.close(), bigints.close()]);
    expect(p.stats().requests + bigints.stats().requests).toBe(0);
  });

  it('refuses invalid options with a message naming them', () => {
    expect(() => producer({ maxBatchRecords: 501 })).toThrow(/maxBatchRecords must be an integer in 1..500/);
    expect(() => producer({ lingerMs: -1 })).toThrow(/lingerMs/);
  });
});

describe('PutRecordsRequestEntry.ExplicitHashKey: pattern 0|([1-9]\\d{0,38}), a 128-bit hash value', () => {
  it.each([{ aggregation: false }, { aggregation: true }])(
    'a valid key routes the record to the shard owning it, whatever its partition key (aggregation=$aggregation)',
    async ({ aggregation }) => {
      const local = uniqueStreamName('ehk');
      await ensureStream(kinesis.client, { name: local, shardCount: 2 });
      const p = new KinesisProducer({ streamName: local, endpoint: kinesis.endpoint, aggregation, logger: quietLogger() });
      const keys = ['0', '1', ((1n << 127n) - 1n).toString(), (1n << 127n).toString(), ((1n << 128n) - 1n).toString()];
      const results = await Promise.all(keys.map((explicitHashKey, i) => p.putRecord({ partitionKey: `same-key`, data: `r${i}`, explicitHashKey })));
      await p.close();
      const map = ShardMap.fromShards(await listAllShards(kinesis.client, local));
      keys.forEach((k, i) => expect(results[i]!.shardId).toBe(map.shardForHashKey(BigInt(k))!.shardId));
      expect(new Set(results.map((r) => r.shardId)).size).toBe(2);
    },
  );

  it.each([{ aggregation: false }, { aggregation: true }])(
    'a key outside the pattern or above 2^128-1 is refused with ExplicitHashKeyError, nothing sent (aggregation=$aggregation)',
    async ({ aggregation }) => {
      const p = producer({ aggregation });
      for (const explicitHashKey of ['abc', '-1', '01', '1.5', '', ' 1', (1n << 128n).toString(), '9'.repeat(39), '1'.repeat(40)]) {
        const error = (await p.putRecord({ partitionKey: 'k', data: 'x', explicitHashKey }).catch((e: unknown) => e)) as ExplicitHashKeyError;
        expect(error, explicitHashKey).toBeInstanceOf(ExplicitHashKeyError);
        expect(error.code).toBe('EXPLICIT_HASH_KEY_INVALID');
      }
      await p.close();
      expect(p.stats()).toMatchObject({ requests: 0, accepted: 0, rejected: 9, buffered: 0 });
    },
  );
});

describe('StreamName (1-128 of [a-zA-Z0-9_.-]) or StreamARN (arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+)', () => {
  it('accepts a stream name or ARN and refuses anything else at construction, naming the rule', () => {
    const make = (streamName: string) => new KinesisProducer({ streamName, endpoint: kinesis.endpoint, logger: quietLogger() });
    for (const ok of ['orders', 'a', 'A-b_c.1', 'x'.repeat(128), 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders', 'arn:aws-cn:kinesis:cn-north-1:123456789012:stream/o']) {
      void make(ok).close();
    }
    for (const bad of ['', 'orders!', 'has space', 'x'.repeat(129), 'ord/ers']) expect(() => make(bad), bad).toThrow(/not a Kinesis stream name/);
    for (const bad of ['arn:aws:kinesis:eu-west-1:1234:stream/orders', 'arn:aws:sqs:eu-west-1:123456789012:stream/orders', 'arn:aws:kinesis:eu-west-1:123456789012:stream/']) {
      expect(() => make(bad), bad).toThrow(/not a Kinesis stream ARN/);
    }
  });
});

describe('backpressure', () => {
  it('makes put wait for room, and turns a wait beyond maxPutWaitMs into BufferFullError', async () => {
    // Requests are held by the proxy until the third put has timed out: no room can free up before
    // (no sleep racing the 20 ms timer).
    const proxy = await startFaultProxy(kinesis.endpoint);
    proxy.hold();
    try {
      const p = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        maxBufferedRecords: 2,
        maxInFlightRequests: 1,
        maxPutWaitMs: 20,
        lingerMs: 0,
        logger: quietLogger(),
      });
      const events = createFixtures({ seed: 8 }).take(3);
      const puts = events.map((e) => p.put(e));
      await Promise.allSettled([puts[2]]);
      expect(proxy.held).toBeLessThanOrEqual(1);
      proxy.release();
      const outcomes = await Promise.allSettled(puts);
      await p.close();
      expect(outcomes[0]!.status).toBe('fulfilled');
      expect(outcomes[1]!.status).toBe('fulfilled');
      const third = outcomes[2] as PromiseRejectedResult;
      expect(third.reason).toBeInstanceOf(BufferFullError);
      expect((third.reason as Error).message).toContain('maxPutWaitMs');
      expect(p.stats()).toMatchObject({ written: 2, rejected: 1 });
    } finally {
      await proxy.stop();
    }
  });

  it('never holds more than maxBufferedRecords, and every waiting put gets through when time allows', async () => {
    const proxy = await startFaultProxy(kinesis.endpoint, { slowRate: 1, slowMs: 20 });
    try {
      const p = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        maxBufferedRecords: 25,
        maxBatchRecords: 10,
        maxInFlightRequests: 2,
        maxPutWaitMs: 30_000,
        logger: quietLogger(),
      });
      let maxSeen = 0;
      const events = createFixtures({ seed: 9 }).take(200);
      const puts = events.map((e) => {
        const promise = p.put(e);
        maxSeen = Math.max(maxSeen, p.stats().buffered);
        return promise.then(() => (maxSeen = Math.max(maxSeen, p.stats().buffered)));
      });
      await Promise.all(puts);
      await p.close();
      expect(maxSeen).toBeLessThanOrEqual(25);
      expect(p.stats()).toMatchObject({ written: 200, rejected: 0 });
    } finally {
      await proxy.stop();
    }
  });
});
