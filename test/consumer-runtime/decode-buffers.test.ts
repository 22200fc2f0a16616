/**
 * Rule 1 (decode) with the reused decode buffer: the runtime decodes base64 into one buffer it keeps
 * across records (grown on demand, larger records get their own), so records of different sizes in
 * any order must never see each other's bytes.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler } from '../../consumers/runtime/index';
import { encodeAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { b64, kinesisRecord, lambdaContext } from './helpers';

describe('rule 1: decode reuses one buffer without mixing records', () => {
  it('decodes records of every size in any order exactly as sent (long, short, over the buffer limit, aggregated)', async () => {
    const f = createFixtures({ seed: 7 });
    const long = f.orderPlaced({ lines: 100 }); // ~8 KB of JSON
    const short = f.orderPaid();
    const medium = f.orderPlaced({ lines: 10 });
    // Valid JSON with a ~100 KiB string (grows the buffer) and one of ~300 KiB (over the reuse limit):
    // both violate the contract and must be quarantined with their data exactly as received.
    const grow = f.orderPlaced();
    grow.data.shippingAddress.name = 'G'.repeat(100 * 1024);
    const huge = f.orderPlaced();
    huge.data.shippingAddress.name = 'H'.repeat(300 * 1024);
    const inAggregate = [f.orderCancelled(), f.orderShipped()];
    const aggregate = encodeAggregate(inAggregate.map((e) => ({ partitionKey: e.data.orderId, data: Buffer.from(JSON.stringify(e)) })));
    const afterShort = f.orderPaid();

    const records = [
      kinesisRecord(0, b64(long), 'k0'),
      kinesisRecord(1, b64(short), 'k1'),
      kinesisRecord(2, b64(grow), 'k2'),
      kinesisRecord(3, b64(medium), 'k3'),
      kinesisRecord(4, b64(huge), 'k4'),
      kinesisRecord(5, Buffer.from(aggregate).toString('base64'), 'k5'),
      // Shorter than everything before it, and invalid: only its own bytes may be judged.
      kinesisRecord(6, b64('{"a":'), 'k6'),
      kinesisRecord(7, b64(afterShort), 'k7'),
    ];
    const seen: unknown[] = [];
    const quarantine = new InMemoryQuarantineSink();
    const handler = createKinesisHandler<OrderEvent>({
      consumerName: 'decode-buffers',
      registry,
      quarantine,
      logDestination: { write: () => true },
      metrics: false,
      concurrency: 1,
      handlers: {
        'order.placed': (e) => void seen.push(e),
        'order.paid': (e) => void seen.push(e),
        'order.shipped': (e) => void seen.push(e),
        'order.cancelled': (e) => void seen.push(e),
      },
    });

    const res = await handler({ Records: records }, lambdaContext());

    expect(res.batchItemFailures).toEqual([]);
    expect(seen).toEqual([long, short, medium, ...inAggregate, afterShort]);
    const byKey = new Map(quarantine.records.map((q) => [q.record.partitionKey, q]));
    expect([...byKey.keys()].sort()).toEqual(['k2', 'k4', 'k6']);
    expect(byKey.get('k2')!.record.data).toBe(records[2]!.kinesis.data);
    expect(byKey.get('k2')!.error.message).toMatch(/shippingAddress\.name: must be at most 200 characters/);
    expect(byKey.get('k4')!.record.data).toBe(records[4]!.kinesis.data);
    expect(byKey.get('k4')!.error.message).toMatch(/shippingAddress\.name: must be at most 200 characters/);
    expect(byKey.get('k6')!.error.kind).toBe('invalid-json');
    expect(byKey.get('k6')!.record.data).toBe(records[6]!.kinesis.data);
  });
});
