/**
 * One test (group) per rule of issue 3. Every assertion checks behaviour a broken rule would change.
 */
import { createHash } from 'node:crypto';
import agg from 'aws-kinesis-agg';
import type { Context, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryQuarantineSink,
  LruIdempotencyStore,
  PermanentError,
  RuntimeInvariantError,
  createKinesisHandler,
  createKinesisWindowHandler,
  type IdempotencyStore,
  type QuarantineRecord,
  type QuarantineSink,
  type RecordMeta,
  type WindowInfo,
} from '../../consumers/runtime/index';
import { encodeAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent, type OrderEventOf } from '../../schemas/index';
import { EmfCapture, LogCapture, SHARD_ID, STREAM_ARN, b64, kinesisEvent, kinesisRecord, lambdaContext, seq, setupOrderHandler, tick } from './helpers';

const { RecordAggregator } = agg as unknown as {
  RecordAggregator: new () => {
    addUserRecord(record: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer };
  };
};

function aggregateWithReference(events: readonly { key: string; payload: unknown }[]): string {
  const aggregator = new RecordAggregator();
  for (const e of events) aggregator.addUserRecord({ partitionKey: e.key, data: Buffer.from(JSON.stringify(e.payload)) });
  return aggregator.build().data.toString('base64');
}

const fixtures = () => createFixtures({ seed: 42 });

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('rule 1: decode (base64, KPL deaggregation, corrupt aggregates)', () => {
  it('deaggregates aws-kinesis-agg records into user records with their own keys and sub-sequence numbers', async () => {
    const f = fixtures();
    const events = [f.orderPlaced(), f.orderPlaced(), f.orderPlaced(), f.orderPlaced(), f.orderPlaced()];
    const seen: { id: string; key: string; seq: string; sub: number | undefined }[] = [];
    const { handler } = setupOrderHandler({
      handlers: {
        'order.placed': (e, m) => void seen.push({ id: e.id, key: m.partitionKey, seq: m.sequenceNumber, sub: m.subSequenceNumber }),
      },
    });
    const aggregated = aggregateWithReference(events.slice(1, 4).map((e) => ({ key: e.data.orderId, payload: e })));
    const event = {
      Records: [
        kinesisRecord(0, b64(events[0]), events[0]!.data.orderId),
        kinesisRecord(1, aggregated, 'outer-key'),
        kinesisRecord(2, b64(events[4]), events[4]!.data.orderId),
      ],
    };
    const res = await handler(event, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(seen).toEqual([
      { id: events[0]!.id, key: events[0]!.data.orderId, seq: seq(0), sub: undefined },
      { id: events[1]!.id, key: events[1]!.data.orderId, seq: seq(1), sub: 0 },
      { id: events[2]!.id, key: events[2]!.data.orderId, seq: seq(1), sub: 1 },
      { id: events[3]!.id, key: events[3]!.data.orderId, seq: seq(1), sub: 2 },
      { id: events[4]!.id, key: events[4]!.data.orderId, seq: seq(2), sub: undefined },
    ]);
  });

  it('decodes encodeAggregate output identically to aws-kinesis-agg output', async () => {
    const f = fixtures();
    const events = Array.from({ length: 20 }, () => f.next());
    const collect = async (data: string) => {
      const got: unknown[] = [];
      const { handler } = setupOrderHandler({
        handlers: {
          'order.placed': (e, m) => void got.push([e, m.partitionKey, m.subSequenceNumber]),
          'order.paid': (e, m) => void got.push([e, m.partitionKey, m.subSequenceNumber]),
          'order.shipped': (e, m) => void got.push([e, m.partitionKey, m.subSequenceNumber]),
          'order.cancelled': (e, m) => void got.push([e, m.partitionKey, m.subSequenceNumber]),
        },
      });
      await handler({ Records: [kinesisRecord(0, data, 'k')] }, lambdaContext());
      return got;
    };
    const mine = Buffer.from(
      encodeAggregate(events.map((e) => ({ partitionKey: e.data.orderId, data: Buffer.from(JSON.stringify(e)) }))),
    ).toString('base64');
    const reference = aggregateWithReference(events.map((e) => ({ key: e.data.orderId, payload: e })));
    const a = await collect(mine);
    expect(a).toHaveLength(20);
    expect(a).toEqual(await collect(reference));
  });

  it('treats a corrupt aggregate (bad MD5, truncated protobuf) as a permanent failure of that Kinesis record', async () => {
    const f = fixtures();
    const good = Buffer.from(
      encodeAggregate([f.orderPlaced(), f.orderPlaced()].map((e) => ({ partitionKey: e.data.orderId, data: Buffer.from(JSON.stringify(e)) }))),
    );
    const badMd5 = Buffer.from(good);
    badMd5[badMd5.length - 1] = badMd5[badMd5.length - 1]! ^ 1;
    const body = good.subarray(4, good.length - 16 - 10);
    const truncated = Buffer.concat([good.subarray(0, 4), body, createHash('md5').update(body).digest()]);
    const handled: string[] = [];
    const { handler, quarantine } = setupOrderHandler({ handlers: { 'order.placed': (e) => void handled.push(e.id) } });
    const plain = f.orderPlaced();
    const res = await handler(
      { Records: [kinesisRecord(0, badMd5.toString('base64')), kinesisRecord(1, truncated.toString('base64')), kinesisRecord(2, b64(plain))] },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(handled).toEqual([plain.id]);
    expect(quarantine.records.map((r) => [r.error.kind, r.record.sequenceNumber, r.record.data])).toEqual([
      ['corrupt-aggregate', seq(0), badMd5.toString('base64')],
      ['corrupt-aggregate', seq(1), truncated.toString('base64')],
    ]);
    expect(quarantine.records[0]!.error.message).toMatch(/MD5/);
    expect(quarantine.records[1]!.error.message).toMatch(/runs past the end|ends inside/);
  });
});

describe('rule 2: validate (envelope, then contract by type and version)', () => {
  it('hands handlers the validated event and the record metadata', async () => {
    const f = fixtures();
    const paid = f.orderPaid();
    const { hops: _hops, ...withoutHops } = paid;
    let got: { event: OrderEventOf<'order.paid'>; meta: RecordMeta } | undefined;
    const { handler } = setupOrderHandler({ handlers: { 'order.paid': (event, meta) => void (got = { event, meta }) } });
    const event = kinesisEvent([withoutHops], ['order-key']);
    await handler(event, lambdaContext());
    expect(got).toBeDefined();
    // zod output, not the raw JSON: the `hops` default was applied by the contract
    expect(got!.event).toEqual({ ...paid, hops: 0 });
    expect(got!.meta.sequenceNumber).toBe(seq(0));
    expect(got!.meta.subSequenceNumber).toBeUndefined();
    expect(got!.meta.partitionKey).toBe('order-key');
    expect(got!.meta.shardId).toBe(SHARD_ID);
    expect(got!.meta.streamArn).toBe(STREAM_ARN);
    expect(got!.meta.approximateArrivalTimestamp).toBe(event.Records[0]!.kinesis.approximateArrivalTimestamp);
    expect(got!.meta.arrivalTimeMs).toBe(Math.round(event.Records[0]!.kinesis.approximateArrivalTimestamp * 1000));
  });

  it('validates the envelope before the contract and the contract by (type, version)', async () => {
    const f = fixtures();
    const handled: string[] = [];
    const { handler, quarantine } = setupOrderHandler({ handlers: { 'order.shipped': (e) => void handled.push(e.id) } });
    const ok = f.orderShipped();
    await handler(
      kinesisEvent([{ ...f.orderShipped(), type: 42 }, { ...f.orderShipped(), version: 2 }, { ...f.orderShipped(), data: {} }, ok]),
      lambdaContext(),
    );
    expect(handled).toEqual([ok.id]);
    expect(quarantine.records.map((r) => r.error.kind)).toEqual(['envelope', 'unknown-version', 'schema']);
  });
});

describe('rule 3: classify failures (permanent vs transient)', () => {
  it('quarantines permanent failures and retries everything else', async () => {
    const f = fixtures();
    const looping = { ...f.orderPaid(), hops: 6 };
    const rejectMe = f.orderPaid({ paymentId: 'permanent' });
    const flaky = f.orderPaid({ paymentId: 'transient' });
    const { handler, quarantine } = setupOrderHandler({
      maxHops: 5,
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'permanent') throw new PermanentError('payment belongs to an unknown merchant');
          if (e.data.paymentId === 'transient') throw new Error('database unavailable');
        },
      },
    });
    const res = await handler(
      { Records: [kinesisRecord(0, '%%%not base64%%%'), ...kinesisEvent([{ ...f.orderPaid(), type: 'order.refunded' }, looping, rejectMe, flaky]).Records.map((r, i) => kinesisRecord(i + 1, r.kinesis.data))] },
      lambdaContext(),
    );
    expect(quarantine.records.map((r) => r.error.kind)).toEqual(['invalid-base64', 'unknown-type', 'hops-exceeded', 'handler-permanent']);
    expect(quarantine.records[3]!.error.message).toBe('payment belongs to an unknown merchant');
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(4) }]);
  });

  it('treats an async rejection like a throw', async () => {
    const f = fixtures();
    const { handler, quarantine } = setupOrderHandler({
      handlers: {
        'order.paid': async (e) => {
          await tick();
          if (e.data.paymentId === 'p') throw new PermanentError('never valid');
          throw new Error('timeout talking to the ledger');
        },
      },
    });
    const res = await handler(kinesisEvent([f.orderPaid({ paymentId: 'p' }), f.orderPaid({ paymentId: 't' })]), lambdaContext());
    expect(quarantine.records.map((r) => r.error.kind)).toEqual(['handler-permanent']);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('rule 4: quarantine with everything needed to replay', () => {
  it('writes the original record, the error, the consumer and the time', async () => {
    const f = fixtures();
    const bad = f.orderPlaced();
    bad.data.totalMinor += 1;
    const now = Date.UTC(2026, 5, 1, 12, 0, 0);
    const { handler, quarantine } = setupOrderHandler({ now: () => now });
    const event = kinesisEvent([bad], ['order-key-1']);
    const res = await handler(event, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    const [q] = quarantine.records as [QuarantineRecord];
    expect(q).toEqual({
      format: 'kinesis-pipeline.quarantine.v1',
      consumer: 'test-consumer',
      quarantinedAt: new Date(now).toISOString(),
      error: {
        kind: 'schema',
        message: expect.stringMatching(/^invalid order\.placed v1: data\.totalMinor: must equal the sum/),
        issues: [{ path: 'data.totalMinor', message: expect.stringMatching(/must equal/) }],
      },
      event: { id: bad.id, type: 'order.placed', version: 1 },
      record: {
        streamArn: STREAM_ARN,
        shardId: SHARD_ID,
        sequenceNumber: seq(0),
        eventId: `${SHARD_ID}:${seq(0)}`,
        partitionKey: 'order-key-1',
        approximateArrivalTimestamp: event.Records[0]!.kinesis.approximateArrivalTimestamp,
        arrivalTime: new Date(Math.round(event.Records[0]!.kinesis.approximateArrivalTimestamp * 1000)).toISOString(),
        aggregated: false,
        data: event.Records[0]!.kinesis.data,
        dataBytes: Buffer.from(event.Records[0]!.kinesis.data, 'base64').length,
      },
    });
    // replayable: the payload decodes back to the original event
    expect(JSON.parse(Buffer.from(q.record.data!, 'base64').toString('utf8'))).toEqual(bad);
  });

  it('quarantines an aggregated user record with its own bytes, key and sub-sequence number', async () => {
    const f = fixtures();
    const ok = f.orderPaid();
    const bad = { ...f.orderPaid(), version: 7 };
    const data = Buffer.from(
      encodeAggregate([
        { partitionKey: 'user-a', data: Buffer.from(JSON.stringify(ok)) },
        { partitionKey: 'user-b', data: Buffer.from(JSON.stringify(bad)) },
      ]),
    ).toString('base64');
    const { handler, quarantine } = setupOrderHandler();
    await handler({ Records: [kinesisRecord(0, data, 'outer')] }, lambdaContext());
    const [q] = quarantine.records as [QuarantineRecord];
    expect(q.record).toMatchObject({ aggregated: true, subSequenceNumber: 1, partitionKey: 'outer', userPartitionKey: 'user-b', sequenceNumber: seq(0) });
    expect(JSON.parse(Buffer.from(q.record.data!, 'base64').toString('utf8'))).toEqual(bad);
    expect(q.error.kind).toBe('unknown-version');
  });

  it('reports the record for retry when the quarantine write fails, never drops it', async () => {
    const f = fixtures();
    const failing: QuarantineSink = { write: async () => Promise.reject(new Error('queue unavailable')) };
    const { handler } = setupOrderHandler({ quarantine: failing });
    const res = await handler(kinesisEvent([f.orderPaid(), { not: 'an event' }, f.orderPaid()]), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });

  it('retries only the records the sink could not write', async () => {
    const f = fixtures();
    const written: QuarantineRecord[] = [];
    const partial: QuarantineSink = {
      write: async (records) => {
        written.push(records[0]!);
        return records.map((_, i) => i).filter((i) => i > 0);
      },
    };
    const { handler } = setupOrderHandler({ quarantine: partial });
    const res = await handler(kinesisEvent([f.orderPaid(), 'x', f.orderPaid(), 'y', 'z']), lambdaContext());
    expect(written.map((r) => r.record.sequenceNumber)).toEqual([seq(1)]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(3) }]);
  });

  it('does not quarantine records after the first redelivered one (they come back with the retry)', async () => {
    const f = fixtures();
    const { handler, quarantine } = setupOrderHandler({
      handlers: { 'order.paid': () => Promise.reject(new Error('down')) },
    });
    const res = await handler(kinesisEvent(['bad-0', f.orderPaid(), 'bad-2']), lambdaContext());
    expect(quarantine.records.map((r) => r.record.sequenceNumber)).toEqual([seq(0)]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('rule 5: ordering per partition key, bounded concurrency across keys', () => {
  it('handles each key strictly in sequence order while keys run concurrently up to the limit', async () => {
    const f = fixtures();
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const payloads = Array.from({ length: 40 }, () => f.orderPaid());
    const recordKeys = payloads.map((_, i) => keys[(i * 7) % 5]!);
    const order: Record<string, string[]> = {};
    let running = 0;
    let maxRunning = 0;
    const { handler } = setupOrderHandler({
      concurrency: 3,
      handlers: {
        'order.paid': async (e, m) => {
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          // uneven, deterministic delays so a wrong scheduler would reorder
          await new Promise((r) => setTimeout(r, (e.data.amountMinor % 4) + 1));
          (order[m.partitionKey] ??= []).push(m.sequenceNumber);
          running -= 1;
        },
      },
    });
    const res = await handler(kinesisEvent(payloads, recordKeys), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    for (const key of keys) {
      const expected = recordKeys.map((k, i) => (k === key ? seq(i) : undefined)).filter((s) => s !== undefined);
      expect(order[key]).toEqual(expected);
    }
    expect(maxRunning).toBe(3);
  });

  it('does not start the rest of a key after a transient failure, but finishes other keys', async () => {
    const f = fixtures();
    const payloads = Array.from({ length: 8 }, (_, i) => f.orderPaid({ paymentId: `p${i}` }));
    const recordKeys = ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b'];
    const started: string[] = [];
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': async (e) => {
          started.push(e.data.paymentId);
          await tick();
          if (e.data.paymentId === 'p2') throw new Error('transient');
        },
      },
    });
    const res = await handler(kinesisEvent(payloads, recordKeys), lambdaContext());
    expect(started.filter((p) => ['p0', 'p2', 'p4', 'p6'].includes(p))).toEqual(['p0', 'p2']);
    expect(started.filter((p) => ['p1', 'p3', 'p5', 'p7'].includes(p))).toEqual(['p1', 'p3', 'p5', 'p7']);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
  });

  it('applies the same rule to sync handlers', async () => {
    const f = fixtures();
    const payloads = Array.from({ length: 6 }, (_, i) => f.orderPaid({ paymentId: `p${i}` }));
    const started: string[] = [];
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': (e) => {
          started.push(e.data.paymentId);
          if (e.data.paymentId === 'p1') throw new Error('transient');
        },
      },
    });
    const res = await handler(kinesisEvent(payloads, ['a', 'a', 'b', 'a', 'b', 'a']), lambdaContext());
    expect(started).toEqual(['p0', 'p1', 'p2', 'p4']);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('rule 6: partial batch response', () => {
  it('reports exactly one entry: the lowest sequence number to redeliver from', async () => {
    const f = fixtures();
    const payloads = Array.from({ length: 10 }, (_, i) => f.orderPaid({ paymentId: `p${i}` }));
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': async (e) => {
          // the later failure settles first
          await new Promise((r) => setTimeout(r, e.data.paymentId === 'p3' ? 5 : 0));
          if (e.data.paymentId === 'p3' || e.data.paymentId === 'p7') throw new Error('fail');
        },
      },
    });
    const res = await handler(kinesisEvent(payloads), lambdaContext());
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: seq(3) }] });
  });

  it('returns an empty list when everything succeeded (including quarantined records)', async () => {
    const f = fixtures();
    const { handler } = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
    expect(await handler(kinesisEvent([f.orderPaid(), 'garbage', f.orderPaid()]), lambdaContext())).toEqual({ batchItemFailures: [] });
  });

  it("reports a failing aggregated user record with its Kinesis record's sequence number", async () => {
    const f = fixtures();
    const users = [f.orderPaid({ paymentId: 'ok' }), f.orderPaid({ paymentId: 'fail' })];
    const data = Buffer.from(encodeAggregate(users.map((u, i) => ({ partitionKey: `u${i}`, data: Buffer.from(JSON.stringify(u)) })))).toString('base64');
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'fail') throw new Error('transient');
        },
      },
    });
    const res = await handler({ Records: [kinesisRecord(0, b64(f.orderPaid())), kinesisRecord(1, data)] }, lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('rule 7: timeout guard', () => {
  it('stops starting records below the margin and reports the lowest unstarted one', async () => {
    const f = fixtures();
    let remaining = 10_000;
    const started: number[] = [];
    const { handler } = setupOrderHandler({
      timeoutMarginMs: 3500,
      handlers: {
        'order.paid': (_e, m) => {
          started.push(Number(BigInt(m.sequenceNumber) % 100000n));
          remaining -= 1000;
        },
      },
    });
    const res = await handler(
      kinesisEvent(Array.from({ length: 12 }, () => f.orderPaid())),
      lambdaContext({ getRemainingTimeInMillis: () => remaining }),
    );
    expect(started).toHaveLength(7);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(7) }]);
  });

  it('returns before the Lambda timeout when a handler hangs, reporting the unfinished record', async () => {
    const f = fixtures();
    const end = Date.now() + 400;
    const { handler, logs } = setupOrderHandler({
      timeoutMarginMs: 300,
      handlers: {
        'order.paid': (e) => (e.data.paymentId === 'hang' ? new Promise<void>(() => undefined) : undefined),
      },
    });
    const res = await handler(
      kinesisEvent([f.orderPaid(), f.orderPaid({ paymentId: 'hang' }), f.orderPaid()]),
      lambdaContext({ getRemainingTimeInMillis: () => end - Date.now() }),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
    await tick();
    expect(logs.find('batch partly failed')[0]).toMatchObject({ timeoutGuard: true, processed: 2, retried: 1 });
  });
});

describe('rule 7: timeout guard (records waiting for a slot)', () => {
  it('counts records never reached as retried and reports the hanging one', async () => {
    const f = fixtures();
    const end = Date.now() + 300;
    const emf = new EmfCapture();
    const { handler } = setupOrderHandler({
      concurrency: 1,
      timeoutMarginMs: 200,
      metrics: { writer: emf.writer },
      handlers: { 'order.paid': (e) => (e.data.paymentId === 'hang' ? new Promise<void>(() => undefined) : undefined) },
    });
    const payloads = [f.orderPaid(), f.orderPaid({ paymentId: 'hang' }), f.orderPaid(), f.orderPaid(), f.orderPaid()];
    const res = await handler(kinesisEvent(payloads), lambdaContext({ getRemainingTimeInMillis: () => end - Date.now() }));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
    expect(emf.docs[0]).toMatchObject({ RecordsReceived: 5, RecordsProcessed: 1, RecordsRetried: 4 });
  });
});

describe('rule 8: duplicates are skipped by envelope id', () => {
  it('skips events already handled and counts them', async () => {
    const f = fixtures();
    const events = [f.orderPaid(), f.orderPaid()];
    let calls = 0;
    const { handler, emf } = setupOrderHandler({ handlers: { 'order.paid': () => void (calls += 1) } });
    await handler(kinesisEvent(events), lambdaContext());
    await handler(kinesisEvent([events[1], events[0], events[0]]), lambdaContext());
    expect(calls).toBe(2);
    expect(emf.docs[1]).toMatchObject({ DuplicatesSkipped: 3, RecordsProcessed: 0 });
  });

  it('keeps at most maxEntries ids (least recently used evicted)', () => {
    const store = new LruIdempotencyStore(2);
    store.add('a');
    store.add('b');
    expect(store.has('a')).toBe(true); // refreshes a
    store.add('c'); // evicts b
    expect(store.has('b')).toBe(false);
    expect(store.has('a')).toBe(true);
    expect(store.has('c')).toBe(true);
    expect(store.size).toBe(2);
  });

  it('stores UUIDs exactly and evicts the least recently used generation', async () => {
    const { randomUUID } = await import('node:crypto');
    const store = new LruIdempotencyStore(20_000);
    const kept = Array.from({ length: 10_000 }, () => randomUUID());
    for (const id of kept) store.add(id);
    expect(kept.every((id) => store.has(id))).toBe(true);
    const strangers = Array.from({ length: 10_000 }, () => randomUUID());
    expect(strangers.some((id) => store.has(id))).toBe(false); // no false duplicates (exact 128-bit keys)
    expect(store.has(kept[0]!.toUpperCase())).toBe(false); // ids are compared as strings

    const small = new LruIdempotencyStore(4); // two generations of 2
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => randomUUID()) as [string, string, string, string, string];
    small.add(a);
    small.add(b);
    small.add(c); // a, b move to the previous generation
    expect(small.has(a)).toBe(true); // refreshed into the current generation
    small.add(d); // current full: previous (b) is dropped
    small.add(e);
    expect(small.has(b)).toBe(false);
    expect(small.has(a)).toBe(true);
    expect(small.size).toBeLessThanOrEqual(4);
  });

  it('accepts an async (durable) store', async () => {
    const f = fixtures();
    const ids = new Set<string>();
    const durable: IdempotencyStore = { has: async (id) => ids.has(id), add: async (id) => void ids.add(id) };
    const event = f.orderPaid();
    let calls = 0;
    const a = setupOrderHandler({ idempotency: durable, handlers: { 'order.paid': () => void (calls += 1) } });
    const b = setupOrderHandler({ idempotency: durable, handlers: { 'order.paid': () => void (calls += 1) } });
    await a.handler(kinesisEvent([event]), lambdaContext());
    await b.handler(kinesisEvent([event]), lambdaContext()); // another container, same store
    expect(calls).toBe(1);
    expect(ids.has(event.id)).toBe(true);
  });

  it('does not remember failed events', async () => {
    const f = fixtures();
    const event = f.orderPaid();
    let calls = 0;
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': () => {
          calls += 1;
          if (calls === 1) throw new Error('first attempt fails');
        },
      },
    });
    expect((await handler(kinesisEvent([event]), lambdaContext())).batchItemFailures).toHaveLength(1);
    expect((await handler(kinesisEvent([event]), lambdaContext())).batchItemFailures).toHaveLength(0);
    expect(calls).toBe(2);
  });
});

describe('rule 9: tumbling windows', () => {
  type Totals = { orders: number; revenueMinor: number };
  const windowEvent = (payloads: unknown[], state: unknown, final = false, offset = 0): KinesisStreamTumblingWindowEvent => ({
    Records: payloads.map((p, i) => kinesisRecord(offset + i, b64(p))),
    window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z' },
    state: state as Record<string, unknown>,
    isFinalInvokeForWindow: final,
    isWindowTerminatedEarly: false,
    ...({ shardId: SHARD_ID, eventSourceARN: STREAM_ARN } as object),
  });

  function windowSetup(onEnd: (s: Totals, window: WindowInfo, context: Context) => void, failOn?: string) {
    return createKinesisWindowHandler<OrderEvent, Totals>({
      consumerName: 'window-consumer',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: new LogCapture(),
      metrics: false,
      initialState: () => ({ orders: 0, revenueMinor: 0 }),
      reduce: (state, event) => {
        if (event.type !== 'order.paid') return state;
        if (event.data.paymentId === failOn) throw new Error('transient');
        return { orders: state.orders + 1, revenueMinor: state.revenueMinor + event.data.amountMinor };
      },
      onWindowEnd: (state, window, _log, context) => onEnd(state, window, context),
    });
  }

  it('carries state across invocations and hands the final state to onWindowEnd', async () => {
    const f = fixtures();
    const finals: Totals[] = [];
    const ends: { window: WindowInfo; requestId: string }[] = [];
    const handler = windowSetup((s, window, context) => {
      finals.push(s);
      ends.push({ window, requestId: context.awsRequestId });
    });
    const p = [f.orderPaid({ amountMinor: 100 }), f.orderPaid({ amountMinor: 250 }), f.orderPaid({ amountMinor: 50 })];
    const r1 = await handler(windowEvent(p.slice(0, 2), {}), lambdaContext());
    expect(r1).toEqual({ state: { orders: 2, revenueMinor: 350 }, batchItemFailures: [] });
    const r2 = await handler(windowEvent(p.slice(2), r1.state, false, 2), lambdaContext());
    expect(r2.state).toEqual({ orders: 3, revenueMinor: 400 });
    expect(finals).toEqual([]);
    const r3 = await handler(windowEvent([], r2.state, true), lambdaContext({ awsRequestId: 'req-final' }));
    expect(r3).toEqual({ state: { orders: 3, revenueMinor: 400 }, batchItemFailures: [] });
    expect(finals).toEqual([{ orders: 3, revenueMinor: 400 }]);
    // The window and the final invocation's own Lambda context (e.g. for its remaining time).
    expect(ends).toEqual([
      {
        window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z', shardId: SHARD_ID, streamArn: STREAM_ARN, terminatedEarly: false },
        requestId: 'req-final',
      },
    ]);
  });

  it('on a transient failure returns the state up to the failed record and its sequence number', async () => {
    const f = fixtures();
    const handler = windowSetup(() => undefined, 'boom');
    const p = [f.orderPaid({ amountMinor: 1 }), f.orderPaid({ amountMinor: 2 }), f.orderPaid({ paymentId: 'boom' }), f.orderPaid({ amountMinor: 8 })];
    const res = await handler(windowEvent(p, {}), lambdaContext());
    expect(res).toEqual({ state: { orders: 2, revenueMinor: 3 }, batchItemFailures: [{ itemIdentifier: seq(2) }] });
  });

  it('reduces strictly in order with an async reducer', async () => {
    const f = fixtures();
    const seen: number[] = [];
    const handler = createKinesisWindowHandler<OrderEvent, { amounts: number[] }>({
      consumerName: 'window-async',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: new LogCapture(),
      metrics: false,
      initialState: () => ({ amounts: [] }),
      reduce: async (state, event) => {
        if (event.type !== 'order.paid') return state;
        await new Promise((r) => setTimeout(r, event.data.amountMinor % 3));
        seen.push(event.data.amountMinor);
        return { amounts: [...state.amounts, event.data.amountMinor] };
      },
    });
    const amounts = [305, 101, 202, 407, 500];
    const res = await handler(windowEvent(amounts.map((a) => f.orderPaid({ amountMinor: a })), {}), lambdaContext());
    expect(res.state).toEqual({ amounts });
    expect(seen).toEqual(amounts);
  });

  it('always returns state (AWS counts a response without it as failed) and rejects a non-window event', async () => {
    const handler = windowSetup(() => undefined);
    const res = await handler(windowEvent([], undefined), lambdaContext());
    expect(res.state).toEqual({ orders: 0, revenueMinor: 0 });
    await expect(handler({ Records: [] } as unknown as KinesisStreamTumblingWindowEvent, lambdaContext())).rejects.toThrow(/tumbling window/);
  });

  it('re-reduces records Lambda redelivers with the previous state (no in-memory dedupe by default)', async () => {
    const f = fixtures();
    const handler = windowSetup(() => undefined);
    const p = [f.orderPaid({ amountMinor: 10 }), f.orderPaid({ amountMinor: 20 })];
    const first = await handler(windowEvent(p, {}), lambdaContext());
    expect(first.state).toEqual({ orders: 2, revenueMinor: 30 });
    // the invocation failed after all (e.g. timeout): Lambda retries the same records with the old state
    const retry = await handler(windowEvent(p, {}), lambdaContext());
    expect(retry.state).toEqual({ orders: 2, revenueMinor: 30 });
  });

  it('fails the final invocation when onWindowEnd fails, so Lambda retries it', async () => {
    const handler = windowSetup(() => {
      throw new Error('could not publish');
    });
    await expect(handler(windowEvent([], { orders: 1, revenueMinor: 5 }, true), lambdaContext())).rejects.toThrow('could not publish');
  });
});

describe('rule 10: logging', () => {
  it('binds request id, function name and shard id; record lines carry event id, type and sequence number; personal data redacted', async () => {
    const f = fixtures();
    const placed = f.orderPlaced();
    const { handler, logs } = setupOrderHandler({
      redact: ['event.data.lines'],
      handlers: { 'order.placed': (event, meta) => meta.log.info({ event }, 'handled order') },
    });
    await handler(kinesisEvent([placed, 'not json at all']), lambdaContext({ awsRequestId: 'req-42' }));
    await tick();
    const line = logs.find('handled order')[0]!;
    expect(line).toMatchObject({
      requestId: 'req-42',
      functionName: 'orders-test-consumer',
      shardId: SHARD_ID,
      eventId: placed.id,
      eventType: 'order.placed',
      sequenceNumber: seq(0),
      level: 'info',
    });
    const logged = (line['event'] as { data: Record<string, unknown> }).data;
    expect(logged['shippingAddress']).toBe('[redacted]');
    expect(logged['customer']).toBe('[redacted]');
    expect(logged['lines']).toBe('[redacted]');
    expect(logged['orderId']).toBe(placed.data.orderId);
    const quarantined = logs.find('record quarantined')[0]!;
    expect(quarantined).toMatchObject({ sequenceNumber: seq(1), kind: 'invalid-json', requestId: 'req-42' });
    // payloads never reach the logs
    const raw = logs.raw.join('\n');
    expect(raw).not.toContain(b64('not json at all'));
    expect(raw).not.toContain(placed.data.customer.email);
  });

  it('takes the level from LOG_LEVEL', async () => {
    const f = fixtures();
    process.env['LOG_LEVEL'] = 'debug';
    const debug = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
    process.env['LOG_LEVEL'] = 'warn';
    const quiet = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
    await debug.handler(kinesisEvent([f.orderPaid()]), lambdaContext());
    await quiet.handler(kinesisEvent([f.orderPaid()]), lambdaContext());
    await tick();
    expect(debug.logs.find('record processed')).toHaveLength(1);
    expect(debug.logs.find('batch processed')).toHaveLength(1);
    expect(quiet.logs.lines).toHaveLength(0);
  });

  it('reads LOG_LEVEL when the handler is created (a bad value fails the cold start, naming the levels), though pino is built with the first invocation', async () => {
    const saved = process.env['LOG_LEVEL'];
    try {
      process.env['LOG_LEVEL'] = 'loud';
      expect(() => createKinesisHandler({ registry, consumerName: 'levels', quarantine: new InMemoryQuarantineSink(), metrics: false, handlers: {} })).toThrow(
        'LOG_LEVEL="loud" must be one of fatal, error, warn, info, debug, trace, silent',
      );
      process.env['LOG_LEVEL'] = 'debug';
      const created = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
      process.env['LOG_LEVEL'] = 'silent'; // changed after the handler was created: not read again
      await created.handler(kinesisEvent([fixtures().orderPaid()]), lambdaContext());
      await tick();
      expect(created.logs.find('record processed')).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env['LOG_LEVEL'];
      else process.env['LOG_LEVEL'] = saved;
    }
  });
});

describe('rule 11: metrics (one EMF document per invocation)', () => {
  it('emits the counters with namespace and dimensions', async () => {
    const f = fixtures();
    process.env['METRICS_NAMESPACE'] = 'Test/Consumers';
    const now = 1_767_225_700_000; // 100 s after the first record's arrival
    const { handler, emf } = setupOrderHandler({
      now: () => now,
      metrics: { dimensions: { Stage: 'test' }, writer: (l) => emfLines.push(l) },
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'retry') throw new Error('x');
        },
      },
    });
    const emfLines: string[] = [];
    const ok = f.orderPaid();
    await handler(kinesisEvent([ok, ok, 'bad', f.orderPaid({ paymentId: 'retry' }), f.orderPaid()]), lambdaContext());
    expect(emf.docs).toHaveLength(0);
    expect(emfLines).toHaveLength(1);
    expect(emfLines[0]!.endsWith('\n')).toBe(true);
    const doc = JSON.parse(emfLines[0]!) as Record<string, unknown>;
    expect(doc).toMatchObject({
      _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: 'Test/Consumers', Dimensions: [['ConsumerName', 'Stage']] }] },
      ConsumerName: 'test-consumer',
      Stage: 'test',
      RecordsReceived: 5,
      RecordsProcessed: 2,
      RecordsQuarantined: 1,
      RecordsRetried: 1,
      DuplicatesSkipped: 1,
      BatchDurationMs: 0,
      MaxRecordAgeMs: 100_000,
    });
  });
});

describe('rule 12: a runtime crash throws so Lambda can retry and bisect', () => {
  it('throws on an event that is not a Kinesis batch', async () => {
    const { handler } = setupOrderHandler();
    await expect(handler({} as never, lambdaContext())).rejects.toBeInstanceOf(RuntimeInvariantError);
    const broken = kinesisEvent([{}]);
    delete (broken.Records[0]!.kinesis as { data?: string }).data;
    await expect(handler(broken, lambdaContext())).rejects.toThrow(/not a Kinesis stream record/);
  });

  it('throws when a runtime component fails (not a handler)', async () => {
    const f = fixtures();
    const { handler } = setupOrderHandler({
      handlers: { 'order.paid': () => undefined },
      metrics: {
        writer: () => {
          throw new Error('stdout closed');
        },
      },
    });
    await expect(handler(kinesisEvent([f.orderPaid()]), lambdaContext())).rejects.toThrow('stdout closed');
  });

  it('throws when the runtime fails on the async path (no unhandled rejection, no hang)', async () => {
    const f = fixtures();
    let calls = 0;
    const { handler } = setupOrderHandler({ handlers: { 'order.paid': async () => tick() } });
    const context = lambdaContext({
      getRemainingTimeInMillis: () => {
        calls += 1;
        if (calls > 1) throw new Error('context broken');
        return 60_000;
      },
    });
    await expect(handler(kinesisEvent([f.orderPaid(), f.orderPaid()], ['same', 'same']), context)).rejects.toThrow('context broken');
  });

  it('does not throw for handler errors (they are partial failures)', async () => {
    const f = fixtures();
    const { handler } = setupOrderHandler({
      handlers: {
        'order.paid': () => {
          throw new TypeError('bug in handler');
        },
      },
    });
    await expect(handler(kinesisEvent([f.orderPaid()]), lambdaContext())).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: seq(0) }] });
  });
});

describe('rule 6: partial batch response (sequence numbers compare as numbers)', () => {
  it('reports the numerically lowest failure when sequence numbers differ in length', async () => {
    const f = fixtures();
    const records = [f.orderPaid({ paymentId: 'a' }), f.orderPaid({ paymentId: 'b' })].map((e, i) => {
      const r = kinesisRecord(i, b64(e), `key-${i}`);
      const sequenceNumber = i === 0 ? '999' : '1000'; // 999 < 1000, but '1000' < '999' as strings
      return { ...r, eventID: `${SHARD_ID}:${sequenceNumber}`, kinesis: { ...r.kinesis, sequenceNumber } };
    });
    const { handler } = setupOrderHandler({ handlers: { 'order.paid': () => Promise.reject(new Error('transient')) } });
    expect(await handler({ Records: records }, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: '999' }] });
  });
});

describe('rule 4: quarantine write that outlasts the timeout guard', () => {
  it('reports the record for retry instead of waiting for the write past the Lambda timeout', async () => {
    const f = fixtures();
    const end = Date.now() + 300;
    const hanging: QuarantineSink = { write: () => new Promise<readonly number[]>(() => undefined) };
    const { handler } = setupOrderHandler({ quarantine: hanging, timeoutMarginMs: 200, handlers: { 'order.paid': () => undefined } });
    const res = await handler(kinesisEvent([f.orderPaid(), 'not json', f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: () => end - Date.now() }));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('rule 12: a runtime bug throws, a handler error does not (validation stage)', () => {
  it('throws when the registry itself fails (a bug is not a bad record: nothing is quarantined)', async () => {
    const f = fixtures();
    const quarantine = new InMemoryQuarantineSink();
    const buggy = {
      safeParse: (): never => {
        throw new TypeError('registry bug');
      },
    };
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'buggy',
      registry: buggy,
      quarantine,
      logDestination: new LogCapture(),
      metrics: false,
      handlers: {},
    });
    await expect(handler(kinesisEvent([f.orderPaid()]), lambdaContext())).rejects.toThrow('registry bug');
    expect(quarantine.records).toEqual([]);
  });
});
