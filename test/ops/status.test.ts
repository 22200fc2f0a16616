/** `ops status`: AWS calls mocked (exact inputs asserted), and the local table from a sample data folder. */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetEventSourceMappingCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../ops/cli';
import { captureIo, localDataDir } from './helpers';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const lambda = new LambdaClient({ region: 'eu-west-1', credentials });
const sqs = new SQSClient({ region: 'eu-west-1', credentials });
const cloudwatch = new CloudWatchClient({ region: 'eu-west-1', credentials });
const lambdaMock = mockClient(lambda);
const sqsMock = mockClient(sqs);
const cwMock = mockClient(cloudwatch);
const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders-prod-orders';
const url = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;

function mockHealthyStage(overrides: { reviewState?: string; reviewDepth?: string; alarms?: string[] } = {}) {
  lambdaMock.on(ListEventSourceMappingsCommand, { FunctionName: 'orders-prod-order-metrics' }).resolves({
    EventSourceMappings: [
      { UUID: 'other', EventSourceArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/some-other-stream' },
      { UUID: 'uuid-metrics', EventSourceArn: STREAM_ARN },
    ],
  });
  lambdaMock.on(ListEventSourceMappingsCommand, { FunctionName: 'orders-prod-order-review' }).resolves({
    EventSourceMappings: [{ UUID: 'uuid-review', EventSourceArn: STREAM_ARN }],
  });
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'uuid-metrics' }).resolves({ UUID: 'uuid-metrics', State: 'Enabled', LastProcessingResult: 'OK' });
  lambdaMock
    .on(GetEventSourceMappingCommand, { UUID: 'uuid-review' })
    .resolves({ UUID: 'uuid-review', State: overrides.reviewState ?? 'Enabled', LastProcessingResult: 'No records processed' });
  sqsMock.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => ({ QueueUrl: url(input.QueueName) }));
  sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => ({
    Attributes: { ApproximateNumberOfMessages: input.QueueUrl.endsWith('order-review-on-failure') ? (overrides.reviewDepth ?? '0') : '0' },
  }));
  cwMock.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'age0', Values: [1200, 90000] },
      { Id: 'errors0', Values: [0] },
      { Id: 'throttles0', Values: [] },
      { Id: 'age1', Values: [] },
      { Id: 'errors1', Values: [0] },
      { Id: 'throttles1', Values: [0] },
    ],
  });
  cwMock.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: (overrides.alarms ?? []).map((name) => ({ AlarmName: name, StateValue: 'ALARM', StateReason: 'Threshold Crossed' })),
  });
}

const run = async (...args: string[]) => {
  const { io, out } = captureIo();
  const code = await runCli(['status', '--stage', 'prod', '--region', 'eu-west-1', ...args], { io, clients: { lambda, sqs, cloudwatch } });
  return { code, out };
};

describe('ops status (AWS)', () => {
  beforeEach(() => {
    lambdaMock.reset();
    sqsMock.reset();
    cwMock.reset();
  });

  it('sends the exact queries and prints a healthy table with exit code 0', async () => {
    mockHealthyStage();
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(lambdaMock.commandCalls(ListEventSourceMappingsCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'orders-prod-order-metrics' },
      { FunctionName: 'orders-prod-order-review' },
    ]);
    expect(lambdaMock.commandCalls(GetEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-metrics' }, { UUID: 'uuid-review' }]);
    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input.QueueName).sort()).toEqual([
      'orders-prod-order-metrics-on-failure',
      'orders-prod-order-metrics-quarantine',
      'orders-prod-order-review-on-failure',
      'orders-prod-order-review-quarantine',
    ]);
    for (const call of sqsMock.commandCalls(GetQueueAttributesCommand)) {
      expect(call.args[0].input.AttributeNames).toEqual(['ApproximateNumberOfMessages']);
    }
    const metricInput = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(metricInput.EndTime!.getTime() - metricInput.StartTime!.getTime()).toBe(3_600_000);
    expect(metricInput.ScanBy).toBe('TimestampDescending');
    expect(metricInput.MetricDataQueries![0]).toEqual({
      Id: 'age0',
      MetricStat: {
        Metric: { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge', Dimensions: [{ Name: 'FunctionName', Value: 'orders-prod-order-metrics' }] },
        Period: 60,
        Stat: 'Maximum',
      },
      ReturnData: true,
    });
    expect(metricInput.MetricDataQueries!.map((q) => `${q.Id}:${q.MetricStat!.Metric!.MetricName}:${q.MetricStat!.Stat}:${q.MetricStat!.Metric!.Dimensions![0]!.Value}`)).toEqual([
      'age0:IteratorAge:Maximum:orders-prod-order-metrics',
      'errors0:Errors:Sum:orders-prod-order-metrics',
      'throttles0:Throttles:Sum:orders-prod-order-metrics',
      'age1:IteratorAge:Maximum:orders-prod-order-review',
      'errors1:Errors:Sum:orders-prod-order-review',
      'throttles1:Throttles:Sum:orders-prod-order-review',
    ]);
    expect(cwMock.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input).toEqual({
      AlarmNamePrefix: 'orders-prod-',
      StateValue: 'ALARM',
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
    expect(out[1]).toMatch(/^CONSUMER\s+MAPPING\s+LAST RESULT\s+ITER AGE\s+ERR 1h\s+THR 1h\s+ON-FAIL\s+QUAR\s+ALARMS\s+HEALTH$/);
    expect(out[2]).toMatch(/^order-metrics\s+Enabled\s+OK\s+1\.2s\s+0\s+0\s+0\s+0\s+0\s+ok$/);
    expect(out[3]).toMatch(/^order-review\s+Enabled\s+No records processed\s+-\s+0\s+0\s+0\s+0\s+0\s+ok$/);
    expect(out.at(-1)).toBe('healthy');
  });

  it('exits 1 and says why when a mapping is disabled, batches wait on-failure and an alarm fires', async () => {
    mockHealthyStage({ reviewState: 'Disabled', reviewDepth: '3', alarms: ['orders-prod-order-review-errors', 'orders-prod-orders-iterator-age'] });
    const { code, out } = await run();
    expect(code).toBe(1);
    const review = out.find((l) => l.startsWith('order-review'))!;
    expect(review).toContain('UNHEALTHY: mapping Disabled; failed batches waiting (ops redrive); 1 alarm(s) in ALARM');
    expect(out).toContain('ALARM orders-prod-orders-iterator-age: Threshold Crossed');
    expect(out.at(-1)).toBe('UNHEALTHY');
  });

  it('--json gives the rows with their reasons', async () => {
    mockHealthyStage({ reviewDepth: '2' });
    const { code, out } = await run('order-review', '--json');
    expect(code).toBe(1);
    const status = JSON.parse(out[0]!);
    expect(status.healthy).toBe(false);
    expect(status.consumers).toHaveLength(1);
    expect(status.consumers[0]).toMatchObject({ consumer: 'order-review', onFailureDepth: 2, reasons: ['failed batches waiting (ops redrive)'] });
  });
});

describe('ops status --local', () => {
  it('builds the table from runner.json and the data files', async () => {
    const dir = await localDataDir('http://127.0.0.1:1', { orders: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders' }, {
      'order-metrics': { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:order-metrics', stats: { state: 'running', iteratorAgeMs: 850, invocationErrors: 0 } },
      'order-review': { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:order-review', stats: { mapping: { state: 'running', iteratorAgeMs: 40, invocationErrors: 2 } } },
    });
    await writeFile(join(dir, 'on-failure', 'order-review.ndjson'), '{"a":1}\n{"a":2}\n');
    await mkdir(join(dir, 'quarantine'), { recursive: true });
    await writeFile(join(dir, 'quarantine', 'order-metrics.ndjson'), '{"q":1}\n');
    const { io, out } = captureIo();
    const code = await runCli(['status', '--local', '--data-dir', dir], { io });
    expect(code).toBe(1);
    expect(out[0]).toContain(`local runner running (pid ${process.pid})`);
    expect(out.find((l) => l.startsWith('order-metrics'))).toMatch(/^order-metrics\s+running\s+-\s+850ms\s+0\s+-\s+0\s+1\s+0\s+UNHEALTHY: quarantined records/);
    expect(out.find((l) => l.startsWith('order-review'))).toMatch(/^order-review\s+running\s+-\s+40ms\s+2\s+-\s+2\s+0\s+0\s+UNHEALTHY: function errors; failed batches waiting/);
  });

  it('is healthy when nothing waits and the runner is alive', async () => {
    const dir = await localDataDir('http://127.0.0.1:1', {}, {
      'order-metrics': { functionArn: 'fn-a', stats: { state: 'running', iteratorAgeMs: 0, invocationErrors: 0 } },
      'order-review': { functionArn: 'fn-b', stats: { state: 'running', iteratorAgeMs: 0, invocationErrors: 0 } },
    });
    const { io, out } = captureIo();
    expect(await runCli(['status', '--local', '--data-dir', dir], { io })).toBe(0);
    expect(out.at(-1)).toBe('healthy');
  });

  it("is healthy on a default npm start: the upstream's deliberately invalid events (and earlier runs' lines) in quarantine are expected, and it says so", async () => {
    // This run read 3 quarantine lines, all of events its upstream made invalid on purpose; 4 more lines
    // are from an earlier run. An operator would not be paged for either.
    const stats = { state: 'running', iteratorAgeMs: 0, invocationErrors: 0, quarantined: 3, validQuarantined: 0, quarantineLinesRead: 3 };
    const dir = await localDataDir('http://127.0.0.1:1', {}, {
      'order-metrics': { functionArn: 'fn-a', stats },
      'order-review': { functionArn: 'fn-b', stats: { ...stats, quarantined: 0, quarantineLinesRead: 0 } },
    });
    await writeFile(join(dir, 'quarantine', 'order-metrics.ndjson'), '{"q":1}\n'.repeat(7));
    const { io, out } = captureIo();
    expect(await runCli(['status', '--local', '--data-dir', dir], { io })).toBe(0);
    expect(out.find((l) => l.startsWith('order-metrics'))).toMatch(/\s7\s+0\s+ok: 7 quarantined as expected \(invalid on purpose, or from earlier runs\)$/);
    expect(out.at(-1)).toBe('healthy');
  });

  it('is UNHEALTHY, saying why, when a valid event or foreign input was quarantined', async () => {
    // 5 lines read this run: 3 quarantined records of this run's upstream, one of them a VALID event
    // (a consumer bug), and 2 lines of records the upstream never produced (foreign input).
    const dir = await localDataDir('http://127.0.0.1:1', {}, {
      'order-metrics': { functionArn: 'fn-a', stats: { state: 'running', iteratorAgeMs: 0, invocationErrors: 0, quarantined: 3, validQuarantined: 1, quarantineLinesRead: 5 } },
      'order-review': { functionArn: 'fn-b', stats: { state: 'running', iteratorAgeMs: 0, invocationErrors: 0, quarantined: 0, validQuarantined: 0, quarantineLinesRead: 0 } },
    });
    await writeFile(join(dir, 'quarantine', 'order-metrics.ndjson'), '{"q":1}\n'.repeat(5));
    const { io, out } = captureIo();
    expect(await runCli(['status', '--local', '--data-dir', dir], { io })).toBe(1);
    expect(out.find((l) => l.startsWith('order-metrics'))).toContain('UNHEALTHY: 3 unexpected quarantined record(s) (valid events or foreign input: fix, then ops redrive --quarantine)');
    expect(out.find((l) => l.startsWith('order-review'))).toMatch(/ok$/);
  });

  it('explains a missing runner', async () => {
    const { io, err } = captureIo();
    expect(await runCli(['status', '--local', '--data-dir', '/nonexistent/ops-data'], { io })).toBe(1);
    expect(err[0]).toContain('no local runner found');
  });
});
