/**
 * The collector: the run's metrics under the stage's deployed names, from the functions' EMF
 * documents and REPORT lines, the business metrics file, the quarantine / on-failure files and the
 * runner's counters (deltas per tick; Lambda metrics only when the function ran).
 */
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDir } from '../../local/data-dir';
import type { DeployedNames } from '../../local/dashboard/deployed-definitions';
import { datumSamples, emfSamples, LocalMetricsCollector, type CollectorInput } from '../../local/dashboard/local-metrics';
import type { MetricSample } from '../../local/dashboard/metric-store';
import type { ConsumerView, RunnerSnapshot } from '../../local/runner-types';
import { pipeline } from '../../pipeline/pipeline';

const names: DeployedNames = {
  stage: 'dev',
  streams: { orders: 'orders-dev-orders' },
  functions: { 'order-metrics': 'orders-dev-order-metrics', 'order-review': 'orders-dev-order-review', 'review-intake': 'orders-dev-review-intake' },
  consumerQueues: {
    'order-metrics': { quarantine: 'orders-dev-order-metrics-quarantine', onFailure: 'orders-dev-order-metrics-on-failure' },
    'order-review': { quarantine: 'orders-dev-order-review-quarantine', onFailure: 'orders-dev-order-review-on-failure' },
  },
  functionQueues: { 'review-intake': 'orders-dev-review-intake-on-failure' },
};

const find = (samples: MetricSample[], metricName: string, dimension: string) => samples.filter((s) => s.metricName === metricName && Object.values(s.dimensions).includes(dimension)).map((s) => s.v);

describe('EMF documents and PutMetricData data as samples', () => {
  it('every metric of every dimension set of each directive (Embedded metric format specification), array values one by one', () => {
    const line = JSON.stringify({
      _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['ConsumerName'], ['ConsumerName', 'Stage']], Metrics: [{ Name: 'Latency' }, { Name: 'Count' }] }] },
      ConsumerName: 'c',
      Stage: 'dev',
      Latency: [3, 5],
      Count: 2,
    });
    const samples = emfSamples(line, 7);
    expect(samples).toEqual([
      { t: 7, namespace: 'N', metricName: 'Latency', dimensions: { ConsumerName: 'c' }, v: 3 },
      { t: 7, namespace: 'N', metricName: 'Latency', dimensions: { ConsumerName: 'c' }, v: 5 },
      { t: 7, namespace: 'N', metricName: 'Count', dimensions: { ConsumerName: 'c' }, v: 2 },
      { t: 7, namespace: 'N', metricName: 'Latency', dimensions: { ConsumerName: 'c', Stage: 'dev' }, v: 3 },
      { t: 7, namespace: 'N', metricName: 'Latency', dimensions: { ConsumerName: 'c', Stage: 'dev' }, v: 5 },
      { t: 7, namespace: 'N', metricName: 'Count', dimensions: { ConsumerName: 'c', Stage: 'dev' }, v: 2 },
    ]);
    expect(emfSamples('{"level":30,"msg":"not a metric"}', 1)).toEqual([]);
    expect(emfSamples('START RequestId: x', 1)).toEqual([]);
  });

  it('a PutMetricData datum: Value, Values or StatisticValues.Sum, with its dimensions', () => {
    expect(datumSamples({ Namespace: 'Orders/Business', MetricName: 'RevenueMinor', Dimensions: [{ Name: 'Currency', Value: 'EUR' }], Value: 1250 }, 3)).toEqual([
      { t: 3, namespace: 'Orders/Business', metricName: 'RevenueMinor', dimensions: { Currency: 'EUR' }, v: 1250 },
    ]);
    expect(datumSamples({ Namespace: 'N', MetricName: 'M', StatisticValues: { Sum: 9, SampleCount: 3 } }, 3).map((s) => s.v)).toEqual([9]);
    expect(datumSamples({ MetricName: 'no namespace', Value: 1 }, 3)).toEqual([]);
  });
});

describe('LocalMetricsCollector', () => {
  let root: string;
  let dataDir: DataDir;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'local-metrics-'));
    dataDir = new DataDir(root);
    await dataDir.ensure();
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const append = async (path: string, ...lines: string[]) => {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, lines.map((l) => `${l}\n`).join(''));
  };
  const consumer = (name: string, over: Partial<ConsumerView>): ConsumerView => ({
    name, stream: 'orders', state: 'running', batchesPerSecond: 0, recordsPerSecond: 0, iteratorAgeMs: 0, millisBehindLatest: 0, maxIteratorAgeMs: 0,
    inFlight: 0, retries: 0, invocationErrors: 0, processed: 0, filtered: 0, quarantined: 0, validQuarantined: 0, quarantineLinesRead: 0, onFailure: 0, duplicatesSkipped: 0, missing: 0, ...over,
  });
  const input = (records: number, consumers: ConsumerView[], functions: CollectorInput['functions']): CollectorInput => ({
    snapshot: {
      streams: [{ name: 'orders', arn: 'arn', shards: 2, putRate: 0, records, invalid: 0, failedPuts: 0 }],
      consumers,
      functions: [],
    } as unknown as RunnerSnapshot,
    functions,
  });

  it('names every metric as the stage deploys it and counts only what happened since the last tick', async () => {
    // Lines of an earlier run are not this run's.
    await append(dataDir.quarantineFile('order-review'), '{"old":true}');
    await append(dataDir.logFile('order-review'), 'REPORT RequestId: old\tDuration: 99999.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB');
    const collector = new LocalMetricsCollector(pipeline, names, dataDir);
    await collector.skipExisting();

    await append(
      dataDir.logFile('order-review'),
      'START RequestId: r1 Version: $LATEST',
      JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'KinesisPipeline/Consumers', Dimensions: [['ConsumerName']], Metrics: [{ Name: 'RecordsQuarantined' }] }] }, ConsumerName: 'order-review', RecordsQuarantined: 1 }),
      'REPORT RequestId: r1\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB',
    );
    await append(dataDir.quarantineFile('order-review'), '{"reason":"total mismatch"}');
    await append(dataDir.metricsFile('Orders/Business'), JSON.stringify({ Namespace: 'Orders/Business', MetricName: 'OrdersPlaced', Value: 4 }));
    const first = await collector.collect(
      input(10, [consumer('order-review', { iteratorAgeMs: 800, millisBehindLatest: 300, processed: 9, quarantined: 1 }), consumer('order-metrics', { processed: 10 })], {
        'order-review': { invocations: 2, errors: 1, throttles: 0 },
        'order-metrics': { invocations: 0, errors: 0, throttles: 0 },
      }),
      1000,
    );
    expect(find(first, 'RecordsQuarantined', 'order-review')).toEqual([1]);
    expect(find(first, 'Duration', 'orders-dev-order-review')).toEqual([12.5]);
    expect(find(first, 'Invocations', 'orders-dev-order-review')).toEqual([2]);
    expect(find(first, 'Errors', 'orders-dev-order-review')).toEqual([1]);
    expect(find(first, 'IteratorAge', 'orders-dev-order-review')).toEqual([800]);
    // order-metrics did not run: no Lambda datapoint at all, as on AWS.
    expect(find(first, 'IteratorAge', 'orders-dev-order-metrics')).toEqual([]);
    expect(find(first, 'Errors', 'orders-dev-order-metrics')).toEqual([]);
    expect(find(first, 'IncomingRecords', 'orders-dev-orders')).toEqual([10]);
    expect(find(first, 'GetRecords.Records', 'orders-dev-orders')).toEqual([20]);
    expect(find(first, 'GetRecords.IteratorAgeMilliseconds', 'orders-dev-orders')).toEqual([300]);
    expect(find(first, 'ApproximateNumberOfMessagesVisible', 'orders-dev-order-review-quarantine')).toEqual([1]);
    expect(find(first, 'ApproximateNumberOfMessagesVisible', 'orders-dev-review-intake-on-failure')).toEqual([0]);
    expect(first.filter((s) => s.metricName === 'OrdersPlaced').map((s) => [s.namespace, s.v])).toEqual([['Orders/Business', 4]]);
    expect(first.every((s) => s.t === 1000)).toBe(true);

    await append(dataDir.onFailureFile('order-review'), '{"requestContext":{}}');
    const second = await collector.collect(
      input(15, [consumer('order-review', { processed: 9, quarantined: 1, onFailure: 3 }), consumer('order-metrics', { processed: 10 })], {
        'order-review': { invocations: 2, errors: 1, throttles: 1 },
        'order-metrics': { invocations: 0, errors: 0, throttles: 0 },
      }),
      2000,
    );
    expect(find(second, 'IncomingRecords', 'orders-dev-orders')).toEqual([5]);
    expect(find(second, 'Invocations', 'orders-dev-order-review')).toEqual([]);
    expect(find(second, 'Throttles', 'orders-dev-order-review')).toEqual([1]);
    expect(find(second, 'Duration', 'orders-dev-order-review')).toEqual([]);
    // The queues keep what was put in them.
    expect(find(second, 'ApproximateNumberOfMessagesVisible', 'orders-dev-order-review-quarantine')).toEqual([1]);
    expect(find(second, 'ApproximateNumberOfMessagesVisible', 'orders-dev-order-review-on-failure')).toEqual([1]);
  });
});
