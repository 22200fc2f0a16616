/** PutMetricData publishing (CloudWatch is mocked: no emulator covers it). */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKinesisClient, ensureStream } from '../../kinesis/client';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { MetricPublisher } from '../../telemetry/metric-publisher';
import { PUT_METRIC_DATA_MAX_DATA, PUT_METRIC_DATA_MAX_REQUEST_BYTES, chunkPutMetricData } from '../../telemetry/put-metric-data-chunks';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { capturingLogger, quietLogger } from './helpers';

const cw = mockClient(CloudWatchClient);
afterEach(() => cw.reset());

function publisher(extra: Partial<ConstructorParameters<typeof MetricPublisher>[0]> = {}) {
  return new MetricPublisher({
    namespace: 'Test/Producer',
    client: new CloudWatchClient({ region: 'us-east-1' }),
    intervalMs: 0,
    logger: quietLogger(),
    ...extra,
  });
}

describe('MetricPublisher', () => {
  it('aggregates samples client-side into StatisticValues and publishes one datum per metric', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const p = publisher({ dimensions: { StreamName: 'orders' } });
    for (const v of [5, 1, 9, 3]) p.record('UserRecordsPut', v);
    p.record('BufferingTime', 12.5, 'Milliseconds');
    expect(await p.flush()).toBe(1);
    const input = cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    expect(input.Namespace).toBe('Test/Producer');
    const put = input.MetricData!.find((d) => d.MetricName === 'UserRecordsPut')!;
    expect(put.StatisticValues).toEqual({ SampleCount: 4, Sum: 18, Minimum: 1, Maximum: 9 });
    expect(put.Dimensions).toEqual([{ Name: 'StreamName', Value: 'orders' }]);
    expect(put.Value).toBeUndefined();
    expect(input.MetricData!.find((d) => d.MetricName === 'BufferingTime')!.Unit).toBe('Milliseconds');
    // Nothing new: no call.
    expect(await p.flush()).toBe(0);
    await p.close();
  });

  it('uses the fewest calls the 1000-metrics-per-request limit allows', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const p = publisher();
    for (let i = 0; i < 2500; i++) p.record('Latency', i, 'Milliseconds', { Partition: String(i) });
    expect(await p.flush()).toBe(3);
    const sizes = cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!.length);
    expect(sizes).toEqual([1000, 1000, 500]);
    await p.close();
  });

  it('splits by the 1 MB request size too', () => {
    const big = 'x'.repeat(1000);
    const datums = Array.from({ length: 1500 }, (_, i) => ({
      MetricName: `m${i}`,
      Dimensions: [{ Name: 'D', Value: big }],
      StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 },
    }));
    const chunks = chunkPutMetricData('ns', datums);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(PUT_METRIC_DATA_MAX_DATA);
      expect(Buffer.byteLength(JSON.stringify({ Namespace: 'ns', MetricData: chunk }))).toBeLessThan(PUT_METRIC_DATA_MAX_REQUEST_BYTES);
    }
    expect(chunks.flat()).toHaveLength(1500);
  });

  it('logs and leaves out a metric PutMetricData would reject, and publishes the others', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const { logger, lines } = capturingLogger();
    const p = publisher({ logger, dimensions: { StreamName: 'orders' } });
    const tooMany = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`D${i}`, 'x']));
    p.record('Wide', 1, 'Count', tooMany);
    p.record('UserRecordsPut', 3);
    expect(await p.flush()).toBe(1);
    const sent = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData!.map((d) => d.MetricName));
    expect(sent).toEqual(['UserRecordsPut']);
    const rejected = lines.map((l) => JSON.parse(l) as { metric?: string; reason?: string }).find((l) => l.metric === 'Wide');
    expect(rejected?.reason).toMatch(/31 dimensions; at most 30/);
    // Not kept for a retry that could never succeed.
    expect(await p.flush()).toBe(0);
    await p.close();
  });

  it('keeps the data of a failed call and sends it with the next one', async () => {
    cw.on(PutMetricDataCommand).rejectsOnce(new Error('throttled')).resolves({});
    const p = publisher();
    p.record('UserRecordsPut', 10);
    expect(await p.flush()).toBe(0);
    p.record('UserRecordsPut', 5);
    expect(await p.flush()).toBe(1);
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls.at(-1)!.args[0].input.MetricData![0]!.StatisticValues).toEqual({ SampleCount: 2, Sum: 15, Minimum: 5, Maximum: 10 });
    await p.close();
  });
});

describe('producer metrics', () => {
  let emulator: EmbeddedKinesis;
  beforeAll(async () => {
    emulator = await startKinesalite();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('reports user and Kinesis records put, buffering time, per stream, on close', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const client = createKinesisClient({ endpoint: emulator.endpoint });
    await ensureStream(client, { name: 'metrics', shardCount: 1 });
    client.destroy();
    const metrics = publisher({ dimensions: { StreamName: 'metrics' } });
    const p = new KinesisProducer({ streamName: 'metrics', endpoint: emulator.endpoint, aggregation: true, metrics, logger: quietLogger() });
    await Promise.all(createFixtures({ seed: 4 }).take(250).map((e) => p.put(e)));
    await p.close();
    const data = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData!);
    const sum = (name: string) => data.filter((d) => d.MetricName === name).reduce((s, d) => s + (d.StatisticValues?.Sum ?? 0), 0);
    expect(sum('UserRecordsPut')).toBe(250);
    expect(sum('KinesisRecordsPut')).toBe(p.stats().kinesisRecordsWritten);
    expect(data.find((d) => d.MetricName === 'BufferingTime')!.StatisticValues!.SampleCount).toBe(250);
    await metrics.close();
  });

  it('publishes nothing when no publisher is configured (off by default)', async () => {
    const client = createKinesisClient({ endpoint: emulator.endpoint });
    await ensureStream(client, { name: 'no-metrics', shardCount: 1 });
    client.destroy();
    const p = new KinesisProducer({ streamName: 'no-metrics', endpoint: emulator.endpoint, logger: quietLogger() });
    await p.put(createFixtures({ seed: 4 }).orderPaid());
    await p.close();
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});
