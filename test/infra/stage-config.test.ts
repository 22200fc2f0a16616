/** Stage files: validated configuration, applied over the definition with the definition's own limits. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../pipeline';
import { applyStage } from '../../infra/apply-stage';
import { loadStageConfig, loadStageConfigs, parseStageConfig, StageConfigError, type StageConfigInput } from '../../infra/stage-config';
import { STAGES_DIR, stageConfig } from './synth-helpers';

const base: StageConfigInput = { stage: 'test', region: 'eu-west-1', account: '123456789012', backend: { type: 's3', bucket: 'team-terraform-state' } };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StageConfigError);
    return [...(error as StageConfigError).problems];
  }
  return expect.fail('expected a StageConfigError');
}

describe('stage files', () => {
  it('the project has dev, staging and prod, each valid', () => {
    expect(loadStageConfigs(STAGES_DIR).map((s) => s.stage)).toEqual(['dev', 'prod', 'staging']);
  });

  it('defaults: info logs, protected stateful resources, pass-through tracing, no source maps, no e-mail, no overrides', () => {
    const config = parseStageConfig(base, 'inline');
    expect(config).toMatchObject({
      backend: { type: 's3', bucket: 'team-terraform-state', keyPrefix: 'cdktf' },
      logLevel: 'info',
      systemLogLevel: 'INFO',
      protectStatefulResources: true,
      tracing: 'PassThrough',
      sourceMaps: false,
      streams: {},
      consumers: {},
      functions: {},
      tags: {},
    });
    expect(config.alarmEmail).toBeUndefined();
  });

  it('every stage keeps its state in S3 with a lock file: no local state, no DynamoDB lock table', () => {
    const { backend: _backend, ...withoutBackend } = base;
    expect(problems(() => parseStageConfig(withoutBackend, 'x.json'))).toEqual([
      'backend: is required: every stage keeps its Terraform state in S3, e.g. {"type": "s3", "bucket": "<state bucket>"}',
    ]);
    expect(problems(() => parseStageConfig({ ...base, backend: { type: 'local' } }, 'x.json'))[0]).toMatch(/^backend\.type: must be "s3"/);
    expect(problems(() => parseStageConfig({ ...base, backend: { type: 's3', bucket: 'b-state', dynamodbTable: 'locks' } }, 'x.json'))).toEqual([
      'backend.dynamodbTable: is not a known setting',
    ]);
    expect(problems(() => parseStageConfig({ ...base, backend: { type: 's3', bucket: 'Not_A_Bucket' } }, 'x.json'))[0]).toMatch(/^backend\.bucket: must be an S3 bucket name/);
  });

  it('rejects bad values with the field path and the rule', () => {
    expect(problems(() => parseStageConfig({ ...base, account: '12345' }, 'x.json'))).toEqual(['account: must be a 12-digit AWS account id']);
    expect(problems(() => parseStageConfig({ ...base, region: 'Europe' }, 'x.json'))).toEqual(['region: must be an AWS region code, e.g. eu-west-1']);
    expect(problems(() => parseStageConfig({ ...base, alarmEmail: 'not-mail' }, 'x.json'))).toEqual(['alarmEmail: must be an e-mail address']);
    expect(problems(() => parseStageConfig({ ...base, shards: 3 }, 'x.json'))).toEqual(['shards: is not a known setting']);
    expect(problems(() => parseStageConfig({ ...base, consumers: { 'order-review': { memory: 1 } } }, 'x.json'))).toEqual([
      'consumers.order-review.memory: is not a known setting',
    ]);
    expect(problems(() => parseStageConfig({ ...base, tracing: 'On' }, 'x.json'))).toEqual(['tracing: must be "Active" or "PassThrough"']);
  });

  it('the stage name must match the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stages-'));
    writeFileSync(join(dir, 'qa.json'), JSON.stringify({ ...base, stage: 'uat' }));
    expect(problems(() => loadStageConfig(join(dir, 'qa.json')))).toEqual(['stage: must match the file name ("qa"), got "uat"']);
    writeFileSync(join(dir, 'broken.json'), '{ "stage": ');
    expect(problems(() => loadStageConfig(join(dir, 'broken.json')))[0]).toMatch(/^cannot be read as JSON/);
  });
});

describe('applyStage', () => {
  it('applies shard count, retention, KMS key, memory, reserved concurrency, log retention and alarm thresholds', () => {
    const prod = applyStage(pipeline, stageConfig('prod'));
    expect(prod.streams['orders']).toMatchObject({ capacity: { mode: 'PROVISIONED', shardCount: 4 }, retentionHours: 168, kmsKey: 'customer-managed' });
    expect(prod.streams['orders']!.alarms.periodSeconds).toBe(60);
    expect(prod.consumers['order-metrics']).toMatchObject({ memoryMb: 512, reservedConcurrency: 8, logRetentionDays: 90 });
    expect(prod.consumers['order-metrics']!.alarms).toMatchObject({ periodSeconds: 60, evaluationPeriods: 3, durationFractionOfTimeout: 0.8 });
    // untouched fields keep the definition's values
    expect(prod.consumers['order-metrics']!.mapping).toEqual(pipeline.consumers['order-metrics']!.mapping);
    expect(prod.consumers['order-metrics']!.environment).toEqual({ BUSINESS_METRICS_NAMESPACE: 'Orders/Business', BUSINESS_METRICS_DIMENSIONS: '{"Stage":"prod"}' });
    const dev = applyStage(pipeline, stageConfig('dev'));
    expect(dev.streams['orders']).toMatchObject({ capacity: { mode: 'PROVISIONED', shardCount: 1 }, kmsKey: 'alias/aws/kinesis' });
  });

  it('does not change the definition it is given', () => {
    const copy = structuredClone(pipeline);
    applyStage(pipeline, stageConfig('prod'));
    expect(pipeline).toEqual(copy);
  });

  it('holds overrides to the definition\'s AWS limits', () => {
    const stage = parseStageConfig({ ...base, consumers: { 'order-metrics': { memoryMb: 20_000 } }, streams: { orders: { retentionHours: 9000 } } }, 'x');
    expect(problems(() => applyStage(pipeline, stage))).toEqual([
      'streams.orders.retentionHours: must be between 24 and 8760',
      'consumers.order-metrics.memoryMb: must be between 128 and 10240',
    ]);
  });

  it('rejects overrides of consumers, streams or functions the definition lacks', () => {
    const stage = parseStageConfig({ ...base, consumers: { 'order-metrix': { memoryMb: 512 } }, functions: { nope: {} } }, 'x');
    expect(problems(() => applyStage(pipeline, stage))).toEqual([
      'consumers.order-metrix: no consumer "order-metrix" in pipeline "orders" (declared: order-metrics, order-review)',
      'functions.nope: no function "nope" in pipeline "orders" (declared: review-intake)',
    ]);
  });

  it('rejects shardCount together with capacity', () => {
    const stage = parseStageConfig({ ...base, streams: { orders: { shardCount: 2, capacity: { mode: 'ON_DEMAND' } } } }, 'x');
    expect(problems(() => applyStage(pipeline, stage))).toEqual(['streams.orders: set either shardCount or capacity, not both']);
  });

  it('the business alarm must watch the dimensions the consumer publishes with, on a consumer with a namespace', () => {
    const mismatch = parseStageConfig({ ...base, businessAlarm: { consumer: 'order-metrics', metricName: 'OrdersPlaced', dimensions: { Stage: 'prod' } } }, 'x');
    expect(problems(() => applyStage(pipeline, mismatch))).toEqual([
      "businessAlarm.dimensions: must equal the consumer's BUSINESS_METRICS_DIMENSIONS ({}), or the alarm watches a metric nobody publishes",
    ]);
    const noNamespace = parseStageConfig({ ...base, businessAlarm: { consumer: 'order-review', metricName: 'X' } }, 'x');
    expect(problems(() => applyStage(pipeline, noNamespace))).toEqual(['businessAlarm.consumer: consumer "order-review" declares no metricsNamespace']);
    const matching = parseStageConfig(
      {
        ...base,
        consumers: { 'order-metrics': { environment: { BUSINESS_METRICS_DIMENSIONS: '{"B":"2","A":"1"}' } } },
        businessAlarm: { consumer: 'order-metrics', metricName: 'OrdersPlaced', dimensions: { A: '1', B: '2' } },
      },
      'x',
    );
    expect(applyStage(pipeline, matching).consumers['order-metrics']!.environment['BUSINESS_METRICS_DIMENSIONS']).toBe('{"B":"2","A":"1"}');
  });
});
