/**
 * One bad record never costs its neighbours: a PutRecords request that Kinesis rejects as a whole
 * (InvalidArgumentException / ValidationException, not retryable) because of one entry is split until
 * only that entry fails; the other records of the request are written. The fault proxy plays Kinesis
 * rejecting every request that carries a marked entry.
 */
import { describe, expect, it } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import { DeliveryError, KinesisProducer } from '../../producers/index';
import { startFaultProxy } from '../support/fault-proxy';
import { eventId, interleavedEvents, quietLogger, readUserRecords, uniqueStreamName, useKinesalite } from './helpers';

const kinesis = useKinesalite();
const POISON = ['poison-a', 'poison-b'];

describe.each([
  { aggregation: false, ordered: false, errorType: 'InvalidArgumentException' },
  { aggregation: true, ordered: false, errorType: 'ValidationException' },
  { aggregation: false, ordered: true, errorType: 'InvalidArgumentException' },
])('a request rejected as a whole for one entry (aggregation=$aggregation, ordered=$ordered, $errorType)', ({ aggregation, ordered, errorType }) => {
  it('fails only the marked entries and writes the other 300 records of their requests', async () => {
    const stream = uniqueStreamName('isolate');
    await ensureStream(kinesis.client, { name: stream, shardCount: 2 });
    const proxy = await startFaultProxy(kinesis.endpoint, { rejectRequestsWithKeys: POISON, rejectErrorType: errorType });
    try {
      const producer = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        aggregation,
        ordered,
        // One attempt: isolating the bad entries must not use up the good ones' retry budget.
        retry: { maxAttempts: 1 },
        logger: quietLogger(),
      });
      const events = interleavedEvents(100, 3, 31);
      // The marked records are too big to share a KPL aggregate, so each is its own Kinesis record.
      const poison = { data: new Uint8Array(60 * 1024).fill(120) };
      const puts: Promise<unknown>[] = [];
      events.forEach((e, i) => {
        puts.push(producer.put(e));
        if (i === 10) puts.push(producer.putRecord({ partitionKey: POISON[0]!, ...poison }));
        if (i === 200) puts.push(producer.putRecord({ partitionKey: POISON[1]!, ...poison }));
      });
      const outcomes = await Promise.allSettled(puts);
      await producer.close();

      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(rejected).toHaveLength(2);
      for (const r of rejected) {
        expect(r.reason).toBeInstanceOf(DeliveryError);
        expect((r.reason as DeliveryError).errorCode).toBe(errorType);
        expect((r.reason as DeliveryError).reason).toBe('non-retryable');
        expect(POISON).toContain((r.reason as DeliveryError).partitionKey);
      }
      const stored = await readUserRecords(kinesis.client, stream);
      expect(stored.map((s) => eventId(s.data)).sort()).toEqual(events.map((e) => e.id).sort());
      expect(stored.some((s) => POISON.includes(s.partitionKey))).toBe(false);
      // Kinesis really rejected whole requests, and the producer split them.
      expect(proxy.counts.rejectedRequests).toBeGreaterThan(0);
      const stats = producer.stats();
      expect(stats.splits).toBeGreaterThan(0);
      expect(stats).toMatchObject({ written: events.length, failed: 2, buffered: 0 });
    } finally {
      await proxy.stop();
    }
  });
});

describe('whole-request rejections every entry would get alike', () => {
  it('are not split: a missing stream fails the request once, every record with ResourceNotFoundException', async () => {
    const producer = new KinesisProducer({ streamName: 'no-such-stream-isolation', endpoint: kinesis.endpoint, logger: quietLogger() });
    const outcomes = await Promise.allSettled(interleavedEvents(20, 1, 33).map((e) => producer.put(e)));
    await producer.close();
    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as DeliveryError).errorCode === 'ResourceNotFoundException')).toBe(true);
    expect(producer.stats()).toMatchObject({ requests: 1, splits: 0, failed: 20 });
  });
});
