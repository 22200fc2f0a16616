/**
 * The producer's CloudWatch metrics against an independent computation: an injected clock
 * (performance.now, which the producer reads) that the test advances, and record counts taken from what
 * the stream holds, read back and deaggregated with aws-kinesis-agg. The metrics travel through a real
 * CloudWatchClient to a local PutMetricData capture (no CloudWatch emulator exists).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { ensureStream } from '../../kinesis/client';
import { createKinesisClient } from '../../kinesis/client';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { MetricPublisher } from '../../telemetry/metric-publisher';
import { referenceDeaggregate, startsWithKplMagic } from '../support/kpl-reference';
import { startPutMetricDataCapture, type JsonMetricDatum, type PutMetricDataCapture } from '../support/put-metric-data-capture';
import { readAllRecords } from '../support/read-stream';
import { quietLogger, uniqueStreamName, useKinesalite } from './helpers';

const kinesis = useKinesalite();
let capture: PutMetricDataCapture;
beforeAll(async () => {
  capture = await startPutMetricDataCapture();
});
afterAll(async () => {
  await capture?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
  capture.requests.length = 0;
});

/** performance.now() under the test's control. */
function manualClock(start: number): { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return {
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

function published(): JsonMetricDatum[] {
  return capture.requests.flatMap((r) => r.input.MetricData);
}
const stats = (name: string) => {
  const data = published().filter((d) => d.MetricName === name);
  expect(data, name).toHaveLength(1);
  return data[0]!.StatisticValues;
};

describe('producer metrics, value by value', () => {
  it('BufferingTime is put-to-send per user record, RequestTime the PutRecords round trip, counts match the stream', async () => {
    const stream = uniqueStreamName('metric-values');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    const metrics = new MetricPublisher({ namespace: 'Test/Producer', client: capture.client(), intervalMs: 0, dimensions: { StreamName: stream }, logger: quietLogger() });
    const client = createKinesisClient({ endpoint: kinesis.endpoint });
    const clock = manualClock(50_000);
    // Each PutRecords round trip takes exactly 250 ms on the injected clock.
    client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if ((args.input as { Records?: unknown }).Records !== undefined) clock.advance(250);
        return out;
      },
      { step: 'initialize', name: 'advanceClockOnResponse' },
    );
    const producer = new KinesisProducer({ streamName: stream, client, aggregation: true, lingerMs: 60_000, metrics, logger: quietLogger() });
    const f = createFixtures({ seed: 1920 });
    const events = [f.orderPaid(), f.orderPaid(), f.orderPaid()];
    const puts: Promise<unknown>[] = [];
    puts.push(producer.put(events[0]!)); // buffered at 50 000
    clock.advance(400);
    puts.push(producer.put(events[1]!)); // at 50 400
    clock.advance(100);
    puts.push(producer.put(events[2]!)); // at 50 500
    clock.set(51_000);
    await producer.flush(); // sent at 51 000
    await Promise.all(puts);
    await producer.close();
    client.destroy();

    const raw = await readAllRecords(kinesis.client, stream);
    const users = raw.flatMap((r) => referenceDeaggregate(r));
    expect(users).toHaveLength(3);
    expect(raw).toHaveLength(1); // one shard, one linger: one aggregate
    expect(startsWithKplMagic(raw[0]!.data)).toBe(true);

    expect(stats('BufferingTime')).toEqual({ SampleCount: 3, Sum: 1000 + 600 + 500, Minimum: 500, Maximum: 1000 });
    expect(stats('RequestTime')).toEqual({ SampleCount: 1, Sum: 250, Minimum: 250, Maximum: 250 });
    expect(stats('UserRecordsPut')!.Sum).toBe(users.length);
    expect(stats('KinesisRecordsPut')!.Sum).toBe(raw.length);
    expect(published().filter((d) => d.MetricName === 'BufferingTime')[0]!.Unit).toBe('Milliseconds');
    for (const d of published()) expect(d.Dimensions).toContainEqual({ Name: 'StreamName', Value: stream });
    await metrics.close();
  });

  it('without aggregation KinesisRecordsPut equals UserRecordsPut equals the records on the stream', async () => {
    const stream = uniqueStreamName('metric-plain');
    await ensureStream(kinesis.client, { name: stream, shardCount: 2 });
    const metrics = new MetricPublisher({ namespace: 'Test/Producer', client: capture.client(), intervalMs: 0, logger: quietLogger() });
    const producer = new KinesisProducer({ streamName: stream, endpoint: kinesis.endpoint, metrics, logger: quietLogger() });
    const events = createFixtures({ seed: 1921 }).take(37);
    await Promise.all(events.map((e) => producer.put(e)));
    await producer.close();
    const raw = await readAllRecords(kinesis.client, stream);
    expect(raw).toHaveLength(37);
    expect(raw.some((r) => startsWithKplMagic(r.data))).toBe(false);
    const sum = (name: string) => published().filter((d) => d.MetricName === name).reduce((s, d) => s + (d.StatisticValues?.Sum ?? 0), 0);
    expect(sum('UserRecordsPut')).toBe(raw.length);
    expect(sum('KinesisRecordsPut')).toBe(raw.length);
    await metrics.close();
  });
});
