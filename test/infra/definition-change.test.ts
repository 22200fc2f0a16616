/**
 * The pipeline definition drives the stack: a consumer added to a copy of the definition
 * (through definePipeline, as a team would add one) is deployed with its function, role, queues,
 * mapping, alarms and dashboard entries, with no infra code change.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { definePipeline, pipeline, type PipelineDefinitionInput } from '../../pipeline';
import { allViolations } from '../../infra/policy-checks';
import { expectResource, findResource, resources, stageConfig, statements, synthStage, type Synthesized } from './synth-helpers';

let before: Synthesized;
let after: Synthesized;

beforeAll(() => {
  const extended = definePipeline({
    ...(structuredClone(pipeline) as PipelineDefinitionInput),
    streams: {
      ...pipeline.streams,
      // Mapping-level filters below: this stream's producers never aggregate (KPL aggregates would be dropped).
      shipments: { capacity: { mode: 'ON_DEMAND' }, retentionHours: 72, kmsKey: 'customer-managed', aggregatedRecords: 'never' },
    },
    consumers: {
      ...pipeline.consumers,
      'shipment-notifier': {
        entry: 'consumers/shipment-notifier/handler.ts',
        stream: 'shipments',
        memoryMb: 384,
        timeoutSeconds: 20,
        enhancedFanOut: true,
        invokes: ['review-intake'],
        environment: { NOTIFY_CHANNEL: 'email' },
        publishLedger: true,
        mapping: {
          batchSize: 50,
          startingPosition: 'LATEST',
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: 3,
          maximumRecordAgeInSeconds: 600,
          filterPatterns: [{ data: { type: ['order.shipped'] } }, { data: { type: ['order.cancelled'] } }],
          reportBatchItemFailures: true,
          onFailureDestination: 'queue',
        },
      },
    },
  });
  before = synthStage(pipeline, stageConfig('staging'));
  after = synthStage(extended, stageConfig('staging'));
});

describe('adding a consumer (and a stream) to the definition', () => {
  it('adds exactly one more of each per-consumer resource', () => {
    const count = (s: Synthesized, type: string) => resources(s, type).length;
    expect(count(after, 'aws_lambda_function')).toBe(count(before, 'aws_lambda_function') + 1);
    expect(count(after, 'aws_iam_role')).toBe(count(before, 'aws_iam_role') + 1);
    expect(count(after, 'aws_cloudwatch_log_group')).toBe(count(before, 'aws_cloudwatch_log_group') + 1);
    expect(count(after, 'aws_lambda_event_source_mapping')).toBe(count(before, 'aws_lambda_event_source_mapping') + 1);
    expect(count(after, 'aws_sqs_queue')).toBe(count(before, 'aws_sqs_queue') + 2);
    expect(count(after, 'aws_kinesis_stream')).toBe(2);
    expect(count(after, 'aws_kinesis_stream_consumer')).toBe(1);
    expect(count(after, 'aws_dynamodb_table')).toBe(count(before, 'aws_dynamodb_table') + 1);
    // 10 consumer alarms + 3 for the new stream
    expect(count(after, 'aws_cloudwatch_metric_alarm')).toBe(count(before, 'aws_cloudwatch_metric_alarm') + 13);
  });

  it('deploys the new consumer with its own settings and least-privilege role', () => {
    expectResource(after, 'aws_kinesis_stream', { name: 'orders-staging-shipments', stream_mode_details: { stream_mode: 'ON_DEMAND' }, retention_period: 72 });
    expectResource(after, 'aws_lambda_function', { function_name: 'orders-staging-shipment-notifier', memory_size: 384, timeout: 20, runtime: 'nodejs22.x' });
    expectResource(after, 'aws_lambda_event_source_mapping', {
      batch_size: 50,
      starting_position: 'LATEST',
      maximum_retry_attempts: 3,
      maximum_record_age_in_seconds: 600,
      filter_criteria: { filter: [{ pattern: '{"data":{"type":["order.shipped"]}}' }, { pattern: '{"data":{"type":["order.cancelled"]}}' }] },
    });
    const fn = findResource(after, 'aws_lambda_function', 'function_name', 'orders-staging-shipment-notifier');
    expect((fn['environment'] as { variables: Record<string, string> }).variables).toMatchObject({
      CONSUMER_NAME: 'shipment-notifier',
      NOTIFY_CHANNEL: 'email',
      REVIEW_INTAKE_FUNCTION_NAME: 'orders-staging-review-intake',
    });
    const streamId = Object.entries(after.tf.resource['aws_kinesis_stream']!).find(([, s]) => s['name'] === 'orders-staging-shipments')![0];
    const policy = resources(after, 'aws_iam_role_policy').find((p) => String(p['role']).includes('shipment-notifier'))!;
    const read = statements(policy['policy']).find((s) => s.Sid === 'ReadOwnStream')!;
    expect(read.Resource).toBe(`\${aws_kinesis_stream.${streamId}.arn}`);
    // publishLedger: its own table, its name in the environment, GetItem/PutItem/DeleteItem on it only.
    const ledger = findResource(after, 'aws_dynamodb_table', 'name', 'orders-staging-shipment-notifier-publish-ledger');
    const ledgerId = Object.entries(after.tf.resource['aws_dynamodb_table']!).find(([, t]) => t === ledger)![0];
    expect((fn['environment'] as { variables: Record<string, string> }).variables['PUBLISH_LEDGER_TABLE']).toBe(`\${aws_dynamodb_table.${ledgerId}.name}`);
    expect(statements(policy['policy']).find((s) => s.Sid === 'ClaimInOwnPublishLedger')).toMatchObject({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: `\${aws_dynamodb_table.${ledgerId}.arn}`,
    });
    expect(findResource(after, 'aws_cloudwatch_metric_alarm', 'alarm_name', 'orders-staging-shipment-notifier-iterator-age')['threshold']).toBe(60_000);
  });

  it('still passes every policy check', () => {
    expect(allViolations(after.tf)).toEqual([]);
  });
});
