/**
 * Fault injection: an HTTP proxy in front of kinesalite fails a share of PutRecords entries per
 * response, answers 500s, resets connections and slows responses. Every event must end up written
 * exactly once per resolved put, or rejected — and ordered mode must keep per-key order throughout.
 * Every fault a test asserts on is scheduled (the first requests get one of each kind); the seeded
 * random mix on top only adds load, so no assertion depends on luck.
 */
import { describe, expect, it } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import { DeliveryError, KinesisProducer } from '../../producers/index';
import type { OrderEvent } from '../../schemas/index';
import { startFaultProxy, type FaultOptions } from '../support/fault-proxy';
import { capturingLogger, eventId, idsByKey, interleavedEvents, quietLogger, readUserRecords, uniqueStreamName, useKinesalite } from './helpers';

const kinesis = useKinesalite();

const HOSTILE: FaultOptions = {
  seed: 1234,
  throttleEntryFraction: 0.25,
  internalFailureEntryFraction: 0.05,
  http500Rate: 0.1,
  requestThrottleRate: 0.05,
  resetRate: 0.1,
  slowRate: 0.1,
  slowMs: 25,
  // Each fault kind at least once, whatever the batching, then the random mix.
  schedule: ['pass', 'reset', 'http500', 'requestThrottle', 'slow', 'throttleEntry', 'internalFailureEntry'],
};

const FAST_RETRIES = { maxAttempts: 40, baseDelayMs: 1, maxDelayMs: 15, maxElapsedMs: 60_000 };

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

async function runUnderFaults(options: { ordered: boolean; aggregation: boolean; faults: FaultOptions; events: OrderEvent[] }) {
  const stream = uniqueStreamName('faults');
  await ensureStream(kinesis.client, { name: stream, shardCount: 3 });
  const proxy = await startFaultProxy(kinesis.endpoint, options.faults);
  try {
    const { logger, lines } = capturingLogger();
    const producer = new KinesisProducer({
      streamName: stream,
      endpoint: proxy.endpoint,
      ordered: options.ordered,
      // Small aggregates and batches: many requests, so every fault kind gets its turn.
      aggregation: options.aggregation ? { maxBytes: 2048 } : false,
      retry: FAST_RETRIES,
      maxBatchRecords: options.aggregation ? 4 : 25,
      lingerMs: 2,
      random: seeded(99),
      logger,
    });
    const outcomes = await Promise.allSettled(options.events.map((e) => producer.put(e)));
    await producer.close();
    const stored = await readUserRecords(kinesis.client, stream);
    return { outcomes, stored, counts: proxy.counts, stats: producer.stats(), lines };
  } finally {
    await proxy.stop();
  }
}

describe.each([
  { ordered: false, aggregation: false },
  { ordered: true, aggregation: false },
  { ordered: false, aggregation: true },
  { ordered: true, aggregation: true },
])('under throttling, 500s, resets and slow responses (ordered=$ordered, aggregation=$aggregation)', ({ ordered, aggregation }) => {
  it('writes each event exactly once per resolved put, rejects the rest, never loses one', async () => {
    const events = interleavedEvents(30, 12, ordered ? 3 : 4);
    const { outcomes, stored, counts, stats } = await runUnderFaults({ ordered, aggregation, faults: HOSTILE, events });

    // The faults really happened (the schedule guarantees each kind once it has enough requests).
    expect(counts.putRecordsRequests).toBeGreaterThan(HOSTILE.schedule!.length);
    expect(counts.throttledEntries).toBeGreaterThan(0);
    expect(counts.internalFailureEntries).toBeGreaterThan(0);
    expect(counts.http500).toBeGreaterThan(0);
    expect(counts.resets).toBeGreaterThan(0);
    expect(counts.slow).toBeGreaterThan(0);
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.throttles).toBeGreaterThan(0);

    const resolved = new Set<string>();
    const rejected = new Set<string>();
    outcomes.forEach((o, i) => (o.status === 'fulfilled' ? resolved : rejected).add(events[i]!.id));
    expect(resolved.size + rejected.size).toBe(events.length);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(DeliveryError);

    const countById = new Map<string, number>();
    for (const s of stored) countById.set(eventId(s.data), (countById.get(eventId(s.data)) ?? 0) + 1);
    for (const id of resolved) expect(countById.get(id)).toBe(1);
    for (const id of rejected) expect(countById.has(id)).toBe(false);
    expect(stored).toHaveLength(resolved.size);
    // With 40 fast attempts nothing should run out of retries here.
    expect(resolved.size).toBe(events.length);

    if (ordered) {
      const expected = idsByKey(events.map((e) => ({ key: e.data.orderId, id: e.id })));
      const actual = idsByKey(stored.map((s) => ({ key: s.partitionKey, id: eventId(s.data) })));
      expect(actual).toEqual(expected);
    }
  });
});

describe('ordering check sensitivity', () => {
  // 3 keys: every request carries several records of each key. The first request's first entry is
  // throttled while a later record of its key in the same request is written: without ordered mode
  // that key is reordered, deterministically (no random fault involved).
  const faults: FaultOptions = { schedule: ['throttleEntry'] };

  it('without ordered mode a throttled entry is overtaken by a later record of its key (so the ordered assertion can fail)', async () => {
    const events = interleavedEvents(3, 12, 3);
    const { stored, counts } = await runUnderFaults({ ordered: false, aggregation: false, faults, events });
    expect(counts.throttledEntries).toBe(1);
    const expected = idsByKey(events.map((e) => ({ key: e.data.orderId, id: e.id })));
    const actual = idsByKey(stored.map((s) => ({ key: s.partitionKey, id: eventId(s.data) })));
    expect(actual).not.toEqual(expected);
  });

  it('with ordered mode the same fault reorders nothing', async () => {
    const events = interleavedEvents(3, 12, 3);
    const { stored, counts } = await runUnderFaults({ ordered: true, aggregation: false, faults, events });
    expect(counts.throttledEntries).toBe(1);
    const expected = idsByKey(events.map((e) => ({ key: e.data.orderId, id: e.id })));
    const actual = idsByKey(stored.map((s) => ({ key: s.partitionKey, id: eventId(s.data) })));
    expect(actual).toEqual(expected);
  });
});

describe('retry bounds', () => {
  it('rejects with the event and the last error code once attempts are exhausted', async () => {
    const stream = uniqueStreamName('exhaust');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    const proxy = await startFaultProxy(kinesis.endpoint, { throttleEntryFraction: 1 });
    try {
      const producer = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
        logger: quietLogger(),
      });
      const events = interleavedEvents(3, 2);
      const outcomes = await Promise.allSettled(events.map((e) => producer.put(e)));
      await producer.close();
      outcomes.forEach((o, i) => {
        expect(o.status).toBe('rejected');
        const error = (o as PromiseRejectedResult).reason as DeliveryError;
        expect(error).toBeInstanceOf(DeliveryError);
        expect(error.errorCode).toBe('ProvisionedThroughputExceededException');
        expect(error.reason).toBe('attempts-exhausted');
        expect(error.attempts).toBe(3);
        expect(error.event).toBe(events[i]);
        expect(error.message).toContain('retry.maxAttempts');
      });
      expect(proxy.counts.throttledEntries).toBe(events.length * 3);
      expect(await readUserRecords(kinesis.client, stream)).toHaveLength(0);
      expect(producer.stats()).toMatchObject({ failed: events.length, written: 0, buffered: 0 });
    } finally {
      await proxy.stop();
    }
  });

  it('rejects when the retry time budget is spent, before the attempts are', async () => {
    const stream = uniqueStreamName('budget');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    const proxy = await startFaultProxy(kinesis.endpoint, { http500Rate: 1 });
    try {
      const producer = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        // Every backoff is 200 ms (random() = 1), which alone exceeds the 50 ms budget.
        retry: { maxAttempts: 100, baseDelayMs: 200, maxDelayMs: 200, maxElapsedMs: 50 },
        random: () => 0.999999,
        logger: quietLogger(),
      });
      const error = (await producer.put(interleavedEvents(1, 1)[0]).catch((e: unknown) => e)) as DeliveryError;
      await producer.close();
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error.reason).toBe('time-exhausted');
      expect(error.errorCode).toBe('InternalFailure');
      expect(error.attempts).toBeLessThan(100);
    } finally {
      await proxy.stop();
    }
  });

  it('does not retry errors that cannot succeed (missing stream)', async () => {
    const producer = new KinesisProducer({ streamName: 'no-such-stream', endpoint: kinesis.endpoint, logger: quietLogger() });
    const error = (await producer.put(interleavedEvents(1, 1)[0]).catch((e: unknown) => e)) as DeliveryError;
    await producer.close();
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.errorCode).toBe('ResourceNotFoundException');
    expect(error.reason).toBe('non-retryable');
    expect(error.attempts).toBe(1);
  });
});

describe('ambiguous failures', () => {
  it('a reset after Kinesis accepted the batch can duplicate (at-least-once) but never loses an event', async () => {
    const events = interleavedEvents(20, 10, 9);
    const { outcomes, stored, counts } = await runUnderFaults({
      ordered: false,
      aggregation: false,
      faults: { seed: 77, resetAfterForwardRate: 0.3, schedule: ['resetAfterForward'] },
      events,
    });
    expect(counts.resetsAfterForward).toBeGreaterThan(0);
    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    const ids = stored.map((s) => eventId(s.data));
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    // Duplicates come only from the entries Kinesis wrote while the client saw a reset.
    expect(ids.length - events.length).toBeLessThanOrEqual(counts.ambiguousEntries);
    expect(ids.length - events.length).toBeGreaterThan(0);
  });
});

describe('request timeouts', () => {
  it('retries a request that outlives requestTimeoutMs; at-least-once, nothing lost', async () => {
    const stream = uniqueStreamName('timeout');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    // The proxy sleeps 400 ms before forwarding the first request: the client gives up at 100 ms,
    // the proxy still forwards (Kinesis wrote it), the retry writes it again.
    const proxy = await startFaultProxy(kinesis.endpoint, { slowMs: 400, schedule: ['slow'] });
    try {
      const { logger, lines } = capturingLogger();
      const producer = new KinesisProducer({
        streamName: stream,
        endpoint: proxy.endpoint,
        requestTimeoutMs: 100,
        retry: { baseDelayMs: 1, maxDelayMs: 5 },
        logger,
      });
      const events = interleavedEvents(5, 4, 13);
      const results = await Promise.all(events.map((e) => producer.put(e)));
      await producer.close();
      expect(proxy.counts.slow).toBe(1);
      expect(results.some((r) => r.attempts > 1)).toBe(true);
      expect(lines.some((l) => /"errorCode":"(ETIMEDOUT|TimeoutError)"/.test(l))).toBe(true);
      // The abandoned first request still lands: its records are then in the stream twice.
      await expect.poll(async () => (await readUserRecords(kinesis.client, stream)).length, { timeout: 30_000 }).toBeGreaterThan(events.length);
      const ids = (await readUserRecords(kinesis.client, stream)).map((u) => eventId(u.data));
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    } finally {
      await proxy.stop();
    }
  });
});

describe('logs', () => {
  it('logs retries and failures as structured lines without any event payload', async () => {
    const events = interleavedEvents(10, 10, 12);
    const { lines } = await runUnderFaults({ ordered: false, aggregation: false, faults: HOSTILE, events });
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(parsed.some((l) => l.msg === 'PutRecords request failed')).toBe(true);
    expect(parsed.some((l) => l.msg.startsWith('PutRecords partially failed'))).toBe(true);
    const all = lines.join('\n');
    for (const e of events) {
      expect(all).not.toContain(e.id);
      expect(all).not.toContain((e.data as { paymentId: string }).paymentId);
    }
  });
});
