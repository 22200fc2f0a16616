/**
 * The bad-input corpus: every kind of broken record ends quarantined with its payload as received,
 * its location (stream, shard, sequence number, partition key, arrival time) and a readable reason
 * (kind, message, validation issues), the batch moves on (no retry), and a good record next to it is handled.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler, type QuarantineRecord } from '../../consumers/runtime/index';
import { registry, type OrderEvent } from '../../schemas/index';
import { corpus, f } from './bad-input-corpus';
import { LogCapture, SHARD_ID, STREAM_ARN, b64, kinesisRecord, lambdaContext, seq } from './helpers';

const json = (value: unknown) => b64(value);

describe('bad-input corpus: each kind is quarantined with its payload and a readable reason', () => {
  const cases = corpus();

  it('covers at least 20 kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name -> $kind', async (bad) => {
    const quarantine = new InMemoryQuarantineSink();
    const handled: string[] = [];
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'corpus',
      registry,
      quarantine,
      maxHops: 5,
      now: () => now,
      logDestination: new LogCapture(),
      metrics: false,
      handlers: {
        'order.placed': (e) => void handled.push(e.id),
        'order.paid': (e) => void handled.push(e.id),
        'order.shipped': (e) => void handled.push(e.id),
        'order.cancelled': (e) => void handled.push(e.id),
      },
    });
    const after = f.orderShipped();
    const received = kinesisRecord(0, bad.data, 'key-bad');
    const res = await handler({ Records: [received, kinesisRecord(1, b64(after), 'key-good')] }, lambdaContext());

    expect(res.batchItemFailures).toEqual([]); // handled: the shard moves on
    expect(handled).toContain(after.id);
    expect(quarantine.records).toHaveLength(1);
    const [record] = quarantine.records as [QuarantineRecord];
    expect(record.format).toBe('kinesis-pipeline.quarantine.v1');
    expect(record.consumer).toBe('corpus');
    expect(record.quarantinedAt).toBe(new Date(now).toISOString());

    // a readable reason: kind, message, and the validation issues of a contract violation
    expect(record.error.kind).toBe(bad.kind);
    expect(record.error.message).toMatch(bad.reason);
    if (bad.kind === 'envelope' || bad.kind === 'schema') {
      expect(bad.issues).toBeDefined();
      expect(record.error.issues?.map((i) => i.path)).toEqual(bad.issues);
      for (const issue of record.error.issues!) {
        expect(issue.message.length).toBeGreaterThan(0);
        expect(record.error.message).toContain(issue.message);
      }
    } else {
      expect(record.error.issues).toBeUndefined();
    }

    // the full payload and where it came from: enough to find the record again and replay it
    const arrival = received.kinesis.approximateArrivalTimestamp;
    const location = {
      streamArn: STREAM_ARN,
      shardId: SHARD_ID,
      sequenceNumber: seq(0),
      eventId: `${SHARD_ID}:${seq(0)}`,
      partitionKey: 'key-bad',
      approximateArrivalTimestamp: arrival,
      arrivalTime: new Date(Math.round(arrival * 1000)).toISOString(),
    };
    if (bad.user) {
      expect(record.record).toEqual({
        ...location,
        subSequenceNumber: bad.user.sub,
        userPartitionKey: `u${bad.user.sub}`,
        aggregated: true,
        data: bad.user.bytes.toString('base64'), // the user record's own bytes
        dataBytes: bad.user.bytes.length,
      });
    } else {
      expect(record.record).toEqual({
        ...location,
        aggregated: false,
        data: bad.data, // verbatim, as received
        dataBytes: bad.kind === 'invalid-base64' ? bad.data.length : Buffer.from(bad.data, 'base64').length,
      });
    }
  });
});

describe('unsafe JSON inside an open contract (one that would accept it)', () => {
  it('quarantines forbidden keys and deep nesting even when the event validates', async () => {
    const { z } = await import('zod');
    const { EventRegistry, defineEvent } = await import('../../schemas/index');
    const noteAdded = defineEvent({
      type: 'note.added',
      version: 1,
      description: 'test contract with an open-ended field',
      data: z.strictObject({ attributes: z.record(z.string(), z.unknown()) }),
    });
    const openRegistry = new EventRegistry([noteAdded]);
    const quarantine = new InMemoryQuarantineSink();
    const handled: unknown[] = [];
    const handler = createKinesisHandler({
      consumerName: 'open',
      registry: openRegistry,
      quarantine,
      logDestination: new LogCapture(),
      metrics: false,
      handlers: { 'note.added': (e: { data: unknown }) => void handled.push(e.data) },
    });
    const envelope = { id: '5f0c6d2e-8f4b-4c7a-9d7e-2b1a3c4d5e6f', type: 'note.added', version: 1, occurredAt: '2026-01-01T00:00:00Z', source: 'test' };
    const deep = { ...envelope, data: { attributes: { x: JSON.parse('['.repeat(60) + ']'.repeat(60)) as unknown } } };
    const ok = { ...envelope, data: { attributes: { colour: 'blue' } } };
    const res = await handler(
      {
        Records: [
          kinesisRecord(0, json(`{"id":"${envelope.id}","type":"note.added","version":1,"occurredAt":"2026-01-01T00:00:00Z","source":"t","data":{"attributes":{"__proto__":{"polluted":true}}}}`)),
          kinesisRecord(1, json(deep)),
          kinesisRecord(2, json(ok)),
        ],
      },
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(quarantine.records.map((r) => r.error.kind)).toEqual(['forbidden-key', 'too-deep']);
    expect(handled).toEqual([{ attributes: { colour: 'blue' } }]);
  });
});
