/**
 * The stage stacks, resource by resource: every setting the issue lists, asserted on the
 * synthesized Terraform JSON of the real stage files and the real pipeline definition.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Testing } from 'cdktf';
import { pipeline, type PipelineDefinition } from '../../pipeline';
import { applyStage } from '../../infra/apply-stage';
import { consumerIteratorAgeThresholdMs, durationThresholdMs, streamIteratorAgeThresholdMs } from '../../infra/thresholds';
import {
  asArray,
  expectResource,
  fakeBundleDir,
  findResource,
  resources,
  stageConfig,
  statements,
  synthStage,
  type Block,
  type Synthesized,
} from './synth-helpers';
import { deployedBundles } from '../support/deployed-bundles';

let dev: Synthesized;
let staging: Synthesized;
let prod: Synthesized;

beforeAll(async () => {
  // The real bundles, built as `npm run build:lambdas` builds them (test/deployed runs them).
  const bundles = (await deployedBundles()).dir;
  dev = synthStage(pipeline, stageConfig('dev'), bundles);
  staging = synthStage(pipeline, stageConfig('staging'), bundles);
  prod = synthStage(pipeline, stageConfig('prod'), bundles);
});

const policyOf = (s: Synthesized, roleName: string): ReturnType<typeof statements> => {
  const role = findResource(s, 'aws_iam_role', 'name', roleName);
  const policies = resources(s, 'aws_iam_role_policy').filter((p) => String(p['role']).includes(String(roleRef(s, role))));
  expect(policies).toHaveLength(1);
  return statements(policies[0]!['policy']);
};
/** `${aws_iam_role.<id>.name}` of a role block. */
const roleRef = (s: Synthesized, role: Block): string => {
  const id = Object.entries(s.tf.resource['aws_iam_role']!).find(([, r]) => r === role)![0];
  return `aws_iam_role.${id}.name`;
};

describe('provider, backend, tags', () => {
  it('configures region, the only allowed account and default tags on every resource, per stage', () => {
    for (const [s, stage] of [
      [dev, 'dev'],
      [staging, 'staging'],
      [prod, 'prod'],
    ] as const) {
      const config = stageConfig(stage);
      expect(
        Testing.toHaveProviderWithProperties(s.json, 'aws', {
          region: config.region,
          allowed_account_ids: [config.account],
        }),
      ).toBe(true);
      const tags = (s.tf.provider['aws']![0]!['default_tags'] as { tags: Record<string, string> }[])[0]!.tags;
      expect(tags).toMatchObject({ Project: 'orders', Stage: stage, ManagedBy: 'cdktf', Stack: `orders-${stage}`, ...config.tags });
    }
  });

  it('keeps every stage\'s state in S3, locked with the native S3 lock file (use_lockfile), and declares required_version', () => {
    for (const [s, stage, account] of [
      [dev, 'dev', '111111111111'],
      [staging, 'staging', '222222222222'],
      [prod, 'prod', '333333333333'],
    ] as const) {
      expect(s.tf.terraform['backend']).toEqual({
        s3: {
          bucket: `orders-terraform-state-${account}`,
          key: `kinesis-pipeline/orders-${stage}.tfstate`,
          region: 'eu-west-1',
          encrypt: true,
          use_lockfile: true,
        },
      });
      expect(s.tf.terraform['required_version']).toBe('>= 1.10.0');
    }
  });
});

describe('stream', () => {
  it('applies per-stage capacity, retention, KMS key and shard-level metrics', () => {
    expectResource(dev, 'aws_kinesis_stream', {
      name: 'orders-dev-orders',
      stream_mode_details: { stream_mode: 'PROVISIONED' },
      shard_count: 1,
      retention_period: 24,
      encryption_type: 'KMS',
      kms_key_id: 'alias/aws/kinesis',
    });
    expectResource(staging, 'aws_kinesis_stream', { name: 'orders-staging-orders', shard_count: 2, retention_period: 48, encryption_type: 'KMS' });
    expectResource(prod, 'aws_kinesis_stream', {
      name: 'orders-prod-orders',
      shard_count: 4,
      retention_period: 168,
      encryption_type: 'KMS',
      shard_level_metrics: ['IncomingRecords', 'IteratorAgeMilliseconds', 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded'],
    });
    const prodKeyId = Object.keys(prod.tf.resource['aws_kms_key']!)[0]!;
    expect(resources(prod, 'aws_kinesis_stream')[0]!['kms_key_id']).toBe(`\${aws_kms_key.${prodKeyId}.arn}`);
  });

  it('creates a rotated customer-managed key per stage', () => {
    for (const s of [dev, staging, prod]) {
      expect(resources(s, 'aws_kms_key')).toHaveLength(1);
      expectResource(s, 'aws_kms_key', { enable_key_rotation: true });
    }
    expectResource(prod, 'aws_kms_alias', { name: 'alias/orders-prod' });
    expectResource(dev, 'aws_kms_key', { deletion_window_in_days: 7 });
  });

  it('on-demand capacity has no shard count', () => {
    const onDemand = synthStage(pipeline, { ...stageConfig('dev'), streams: { orders: { capacity: { mode: 'ON_DEMAND' } } } });
    const stream = resources(onDemand, 'aws_kinesis_stream')[0]!;
    expect(stream['stream_mode_details']).toEqual({ stream_mode: 'ON_DEMAND' });
    expect(stream).not.toHaveProperty('shard_count');
  });
});

describe('functions', () => {
  it('deploys every consumer and plain function on Node.js 22 arm64 with the definition\'s sizing and a zipped asset', () => {
    for (const [name, memory, timeout] of [
      ['orders-dev-order-metrics', 256, 60],
      ['orders-dev-order-review', 256, 30],
      ['orders-dev-review-intake', 128, 10],
    ] as const) {
      expectResource(dev, 'aws_lambda_function', {
        function_name: name,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler: 'index.handler',
        memory_size: memory,
        timeout,
      });
      const fn = findResource(dev, 'aws_lambda_function', 'function_name', name);
      expect(fn['filename']).toMatch(/^assets\/.+\/archive\.zip$/);
      expect(fn['source_code_hash']).toEqual(expect.any(String));
      expect(fn).not.toHaveProperty('reserved_concurrent_executions');
    }
  });

  it('applies per-stage memory and reserved concurrency', () => {
    expectResource(prod, 'aws_lambda_function', { function_name: 'orders-prod-order-metrics', memory_size: 512, reserved_concurrent_executions: 8 });
    expectResource(prod, 'aws_lambda_function', { function_name: 'orders-prod-order-review', memory_size: 512, reserved_concurrent_executions: 16 });
    expectResource(prod, 'aws_lambda_function', { function_name: 'orders-prod-review-intake', memory_size: 256, reserved_concurrent_executions: 20 });
  });

  it('passes configuration through the environment: names, namespaces, queue URLs, log level', () => {
    const metrics = findResource(prod, 'aws_lambda_function', 'function_name', 'orders-prod-order-metrics');
    const quarantineId = Object.entries(prod.tf.resource['aws_sqs_queue']!).find(([, q]) => q['name'] === 'orders-prod-order-metrics-quarantine')![0];
    const ledgerId = Object.entries(prod.tf.resource['aws_dynamodb_table']!).find(([, t]) => t['name'] === 'orders-prod-order-metrics-publish-ledger')![0];
    expect((metrics['environment'] as { variables: Record<string, string> }).variables).toEqual({
      CONSUMER_NAME: 'order-metrics',
      METRICS_NAMESPACE: 'KinesisPipeline/Consumers',
      BUSINESS_METRICS_NAMESPACE: 'Orders/Business',
      BUSINESS_METRICS_DIMENSIONS: '{"Stage":"prod"}',
      LOG_LEVEL: 'info',
      POISON_RECORD_ATTEMPTS: '3',
      QUARANTINE_QUEUE_URL: `\${aws_sqs_queue.${quarantineId}.url}`,
      PUBLISH_LEDGER_TABLE: `\${aws_dynamodb_table.${ledgerId}.name}`,
    });
    const review = findResource(dev, 'aws_lambda_function', 'function_name', 'orders-dev-order-review');
    expect((review['environment'] as { variables: Record<string, string> }).variables).toMatchObject({
      CONSUMER_NAME: 'order-review',
      REVIEW_INTAKE_FUNCTION_NAME: 'orders-dev-review-intake',
      REVIEW_AMOUNT_THRESHOLD_MINOR: pipeline.consumers['order-review']!.environment['REVIEW_AMOUNT_THRESHOLD_MINOR'],
      LOG_LEVEL: 'debug',
      QUARANTINE_QUEUE_URL: expect.stringMatching(/^\$\{aws_sqs_queue\..+\.url\}$/),
      // The definition's recordFilterPatterns, for the runtime's after-deaggregation filter.
      RECORD_FILTER_PATTERNS: '[{"data":{"type":["order.placed"]}}]',
    });
    const intake = findResource(dev, 'aws_lambda_function', 'function_name', 'orders-dev-review-intake');
    expect((intake['environment'] as { variables: Record<string, string> }).variables).not.toHaveProperty('QUARANTINE_QUEUE_URL');
    expect((review['environment'] as { variables: Record<string, string> }).variables).not.toHaveProperty('PUBLISH_LEDGER_TABLE');
  });

  it('gives every function its own log group with the (per-stage) retention, wired to the function', () => {
    expectResource(dev, 'aws_cloudwatch_log_group', { name: '/aws/lambda/orders-dev-order-metrics', retention_in_days: 7 });
    expectResource(staging, 'aws_cloudwatch_log_group', { name: '/aws/lambda/orders-staging-review-intake', retention_in_days: 14 });
    expectResource(prod, 'aws_cloudwatch_log_group', { name: '/aws/lambda/orders-prod-order-review', retention_in_days: 90 });
    const fn = findResource(prod, 'aws_lambda_function', 'function_name', 'orders-prod-order-review');
    expect((fn['logging_config'] as Block)['log_group']).toMatch(/^\$\{aws_cloudwatch_log_group\..+\.name\}$/);
    expect(asArray(fn['depends_on'] as string[]).some((d) => d.startsWith('aws_cloudwatch_log_group.'))).toBe(true);
  });
});

describe('least-privilege roles', () => {
  it('order-metrics: reads only its stream, sends only to its queues, publishes only to its namespace, writes only its logs', () => {
    const sts = policyOf(prod, 'orders-prod-order-metrics');
    const bySid = Object.fromEntries(sts.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(
      [
        'ClaimInOwnPublishLedger',
        'DecryptOwnStream',
        'EncryptMessagesForOwnQueues',
        'ListStreamsForMapping',
        'PublishOwnMetricsNamespace',
        'ReadOwnStream',
        'SendToOwnQueues',
        'WriteOwnLogGroup',
        // prod traces actively (stage setting tracing: Active)
        'WriteXRayTraces',
      ].sort(),
    );
    expect(bySid['WriteXRayTraces']).toEqual({ Sid: 'WriteXRayTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
    expect(policyOf(dev, 'orders-dev-order-metrics').map((st) => st.Sid)).not.toContain('WriteXRayTraces');
    const ledgerId = Object.entries(prod.tf.resource['aws_dynamodb_table']!).find(([, t]) => t['name'] === 'orders-prod-order-metrics-publish-ledger')![0];
    expect(bySid['ClaimInOwnPublishLedger']).toEqual({
      Sid: 'ClaimInOwnPublishLedger',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: `\${aws_dynamodb_table.${ledgerId}.arn}`,
    });
    expect(bySid['ReadOwnStream']!.Action).toEqual(['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']);
    expect(bySid['ReadOwnStream']!.Resource).toMatch(/^\$\{aws_kinesis_stream\..+\.arn\}$/);
    expect(bySid['PublishOwnMetricsNamespace']).toMatchObject({
      Action: ['cloudwatch:PutMetricData'],
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'Orders/Business' } },
    });
    expect(bySid['DecryptOwnStream']).toMatchObject({ Action: ['kms:Decrypt'], Condition: { StringEquals: { 'kms:ViaService': 'kinesis.eu-west-1.amazonaws.com' } } });
    expect(asArray(bySid['SendToOwnQueues']!.Resource)).toHaveLength(2);
    expect(asArray(bySid['SendToOwnQueues']!.Resource).every((r) => /aws_sqs_queue\.consumer-order-metrics_/.test(r))).toBe(true);
    expect(bySid['WriteOwnLogGroup']!.Resource).toMatch(/^\$\{aws_cloudwatch_log_group\.consumer-order-metrics_.+\.arn\}:\*$/);
  });

  // The idempotency tables these roles may touch follow pipeline/pipeline.ts (its flags move between
  // definitions); the describe block on idempotency tables below pins each case on definitions of its own.
  it('order-review may invoke exactly review-intake, publishes no metrics, and touches no table but an idempotency table it declares', () => {
    const sts = policyOf(dev, 'orders-dev-order-review');
    const invoke = sts.find((s) => s.Sid === 'InvokeDownstreamFunctions')!;
    expect(invoke).toMatchObject({ Action: ['lambda:InvokeFunction'], Resource: ['arn:aws:lambda:eu-west-1:111111111111:function:orders-dev-review-intake'] });
    expect(sts.some((s) => asArray(s.Action).includes('cloudwatch:PutMetricData'))).toBe(false);
    expect(sts.filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:'))).map((s) => s.Sid)).toEqual(
      pipeline.consumers['order-review']!.idempotencyTable ? ['ClaimInOwnIdempotencyTable'] : [],
    );
    // dev reads with the AWS managed key: its key policy authorises account principals via Kinesis.
    expect(sts.some((s) => s.Sid === 'DecryptOwnStream')).toBe(false);
  });

  it('review-intake (no stream, no downstream) only writes its logs, sends to its own on-failure queue and claims in an idempotency table it declares', () => {
    const sts = policyOf(dev, 'orders-dev-review-intake');
    expect(sts.map((s) => s.Sid)).toEqual([
      'WriteOwnLogGroup',
      'SendToOwnQueues',
      'EncryptMessagesForOwnQueues',
      ...(pipeline.functions['review-intake']!.idempotencyTable ? ['ClaimEventsInOwnIdempotencyTable'] : []),
    ]);
    const queueId = Object.entries(dev.tf.resource['aws_sqs_queue']!).find(([, q]) => q['name'] === 'orders-dev-review-intake-on-failure')![0];
    expect(sts[1]!.Resource).toEqual([`\${aws_sqs_queue.${queueId}.arn}`]);
  });

  it('review-intake, invoked asynchronously, sends failed events to its on-failure queue after explicit retries', () => {
    const queueId = Object.entries(dev.tf.resource['aws_sqs_queue']!).find(([, q]) => q['name'] === 'orders-dev-review-intake-on-failure')![0];
    const fnId = Object.entries(dev.tf.resource['aws_lambda_function']!).find(([, f]) => f['function_name'] === 'orders-dev-review-intake')![0];
    expectResource(dev, 'aws_lambda_function_event_invoke_config', {
      function_name: `\${aws_lambda_function.${fnId}.function_name}`,
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 21_600,
      destination_config: { on_failure: { destination: `\${aws_sqs_queue.${queueId}.arn}` } },
    });
    for (const id of ['errors', 'throttles', 'on-failure-depth']) {
      expect(resources(dev, 'aws_cloudwatch_metric_alarm').some((a) => a['alarm_name'] === `orders-dev-review-intake-${id}`)).toBe(true);
    }
  });

  it('trust policies let only the Lambda service assume a role', () => {
    for (const role of resources(staging, 'aws_iam_role')) {
      expect(JSON.parse(role['assume_role_policy'] as string)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Sid: 'LambdaAssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      });
    }
  });
});

describe('publish ledger (consumer option publishLedger) and idempotency tables (consumer and function option idempotencyTable)', () => {
  // Definitions built here (copies of the reference one), so these hold whichever consumer or function
  // pipeline/pipeline.ts gives a table: every table option on, and every one off.
  const everyTable = (): PipelineDefinition => {
    const definition = structuredClone(pipeline);
    definition.consumers['order-metrics']!.publishLedger = true;
    definition.consumers['order-review']!.idempotencyTable = true;
    definition.functions['review-intake']!.idempotencyTable = true;
    // A second, longer-lived stream: a function's claims must outlive the longest retention, not one stream's.
    definition.streams['returns'] = { ...structuredClone(definition.streams['orders']!), retentionHours: 72 };
    return definition;
  };
  const noTable = (): PipelineDefinition => {
    const definition = structuredClone(pipeline);
    definition.consumers['order-metrics']!.publishLedger = false;
    definition.consumers['order-review']!.idempotencyTable = false;
    definition.functions['review-intake']!.idempotencyTable = false;
    return definition;
  };
  const synthesized: Record<'dev' | 'staging' | 'prod', Synthesized> = {} as Record<'dev' | 'staging' | 'prod', Synthesized>;
  beforeAll(() => {
    for (const stage of ['dev', 'staging', 'prod'] as const) synthesized[stage] = synthStage(everyTable(), stageConfig(stage));
  });
  const table = (s: Synthesized, name: string) => Object.entries(s.tf.resource['aws_dynamodb_table']!).find(([, t]) => t['name'] === name);
  const variablesOf = (s: Synthesized, functionName: string) =>
    (findResource(s, 'aws_lambda_function', 'function_name', functionName)['environment'] as { variables: Record<string, string> }).variables;
  const dynamoGrants = (s: Synthesized) =>
    resources(s, 'aws_iam_role_policy').flatMap((p) =>
      statements(p['policy'])
        .filter((st) => asArray(st.Action).some((a) => a.startsWith('dynamodb:')))
        .map((st) => ({ role: String(p['role']), statement: st })),
    );

  it('one on-demand table per declaring consumer or function and stage (order-metrics publish ledger, order-review and review-intake idempotency): string partition key ledgerKey, TTL on expiresAt; deletion protection, PITR and prevent_destroy where protected', () => {
    for (const [stage, protect] of [
      ['dev', false],
      ['staging', true],
      ['prod', true],
    ] as const) {
      const s = synthesized[stage];
      const names = [`orders-${stage}-order-metrics-publish-ledger`, `orders-${stage}-order-review-idempotency`, `orders-${stage}-review-intake-idempotency`];
      expect(resources(s, 'aws_dynamodb_table').map((t) => t['name']).sort()).toEqual(names);
      for (const name of names) {
        expect(table(s, name)![1]).toEqual({
          name,
          billing_mode: 'PAY_PER_REQUEST',
          hash_key: 'ledgerKey',
          attribute: [{ name: 'ledgerKey', type: 'S' }],
          ttl: { attribute_name: 'expiresAt', enabled: true },
          deletion_protection_enabled: protect,
          point_in_time_recovery: { enabled: protect },
          lifecycle: { prevent_destroy: protect },
        });
      }
      const ref = (name: string) => `\${aws_dynamodb_table.${table(s, name)![0]}.name}`;
      expect(s.tf.output['consumer-order-metrics-publish-ledger-table']!['value']).toBe(ref(names[0]!));
      expect(s.tf.output['consumer-order-review-idempotency-table']!['value']).toBe(ref(names[1]!));
      expect(s.tf.output['function-review-intake-idempotency-table']!['value']).toBe(ref(names[2]!));
    }
    expect(synthesized.prod.tf.output).not.toHaveProperty('consumer-order-review-publish-ledger-table');
    expect(synthesized.prod.tf.output).not.toHaveProperty('consumer-order-metrics-idempotency-table');
  });

  it('only the role declaring a table may touch it: the ledger with GetItem, PutItem, DeleteItem; a consumer\'s idempotency table also with UpdateItem; a function\'s with GetItem, PutItem, DeleteItem only', () => {
    const s = synthesized.staging;
    const arn = (name: string) => `\${aws_dynamodb_table.${table(s, name)![0]}.arn}`;
    const grants = dynamoGrants(s);
    expect(grants.map((g) => g.statement.Sid).sort()).toEqual(['ClaimEventsInOwnIdempotencyTable', 'ClaimInOwnIdempotencyTable', 'ClaimInOwnPublishLedger']);
    const bySid = Object.fromEntries(grants.map((g) => [g.statement.Sid, g]));
    expect(bySid['ClaimInOwnPublishLedger']!.role).toMatch(/aws_iam_role\.consumer-order-metrics_/);
    expect(bySid['ClaimInOwnPublishLedger']!.statement).toEqual({
      Sid: 'ClaimInOwnPublishLedger',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: arn('orders-staging-order-metrics-publish-ledger'),
    });
    expect(bySid['ClaimInOwnIdempotencyTable']!.role).toMatch(/aws_iam_role\.consumer-order-review_/);
    expect(bySid['ClaimInOwnIdempotencyTable']!.statement).toEqual({
      Sid: 'ClaimInOwnIdempotencyTable',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: arn('orders-staging-order-review-idempotency'),
    });
    // A plain function keeps no attempt counters: no UpdateItem (Lambda retries a failed asynchronous invocation itself).
    expect(bySid['ClaimEventsInOwnIdempotencyTable']!.role).toMatch(/aws_iam_role\.function-review-intake_/);
    expect(bySid['ClaimEventsInOwnIdempotencyTable']!.statement).toEqual({
      Sid: 'ClaimEventsInOwnIdempotencyTable',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      Resource: arn('orders-staging-review-intake-idempotency'),
    });
  });

  it('the idempotency table name and the item retention reach the declaring function and consumer only: a consumer\'s stream retention + 1 day, a function\'s longest stream retention + 1 day', () => {
    for (const stage of ['dev', 'staging', 'prod'] as const) {
      const s = synthesized[stage];
      const retention = (stream: string) => Number(findResource(s, 'aws_kinesis_stream', 'name', `orders-${stage}-${stream}`)['retention_period']);
      const review = variablesOf(s, `orders-${stage}-order-review`);
      expect(review['IDEMPOTENCY_TABLE']).toBe(`\${aws_dynamodb_table.${table(s, `orders-${stage}-order-review-idempotency`)![0]}.name}`);
      expect(review['IDEMPOTENCY_RETENTION_SECONDS']).toBe(String(retention('orders') * 3600 + 86_400));
      const intake = variablesOf(s, `orders-${stage}-review-intake`);
      expect(intake['IDEMPOTENCY_TABLE']).toBe(`\${aws_dynamodb_table.${table(s, `orders-${stage}-review-intake-idempotency`)![0]}.name}`);
      expect(intake['IDEMPOTENCY_RETENTION_SECONDS']).toBe(String(Math.max(retention('orders'), retention('returns')) * 3600 + 86_400));
      expect(JSON.stringify(variablesOf(s, `orders-${stage}-order-metrics`))).not.toContain('IDEMPOTENCY_');
    }
    // dev: orders 24 h, returns 72 h; the function follows the longest (72 h), the consumer its own stream (24 h).
    expect(variablesOf(synthesized.dev, 'orders-dev-review-intake')['IDEMPOTENCY_RETENTION_SECONDS']).toBe(String(72 * 3600 + 86_400));
    expect(variablesOf(synthesized.dev, 'orders-dev-order-review')['IDEMPOTENCY_RETENTION_SECONDS']).toBe(String(24 * 3600 + 86_400));
  });

  it('a function without idempotencyTable gets no table, no statement and no variable, while a consumer keeps its own', () => {
    const definition = noTable();
    definition.consumers['order-review']!.idempotencyTable = true;
    const s = synthStage(definition, stageConfig('dev'));
    expect(resources(s, 'aws_dynamodb_table').map((t) => t['name'])).toEqual(['orders-dev-order-review-idempotency']);
    expect(dynamoGrants(s).map((g) => g.statement.Sid)).toEqual(['ClaimInOwnIdempotencyTable']);
    expect(policyOf(s, 'orders-dev-review-intake').some((st) => asArray(st.Action).some((a) => a.startsWith('dynamodb:')))).toBe(false);
    expect(JSON.stringify(variablesOf(s, 'orders-dev-review-intake'))).not.toContain('IDEMPOTENCY_');
    expect(s.tf.output).not.toHaveProperty('function-review-intake-idempotency-table');
  });

  it('a function declaring idempotencyTable gets its table even when no consumer has one', () => {
    const definition = noTable();
    definition.functions['review-intake']!.idempotencyTable = true;
    const s = synthStage(definition, stageConfig('dev'));
    expect(resources(s, 'aws_dynamodb_table').map((t) => t['name'])).toEqual(['orders-dev-review-intake-idempotency']);
    expect(dynamoGrants(s).map((g) => [g.statement.Sid, g.role.match(/aws_iam_role\.([a-z-]+)_/)?.[1]])).toEqual([['ClaimEventsInOwnIdempotencyTable', 'function-review-intake']]);
    expect(variablesOf(s, 'orders-dev-review-intake')).toMatchObject({ IDEMPOTENCY_TABLE: expect.stringMatching(/^\$\{aws_dynamodb_table\..+\.name\}$/), IDEMPOTENCY_RETENTION_SECONDS: String(24 * 3600 + 86_400) });
    expect(JSON.stringify(variablesOf(s, 'orders-dev-order-review'))).not.toContain('IDEMPOTENCY_');
  });

  it('a consumer or function without the options gets no table, no statement and no variable', () => {
    const s = synthStage(noTable(), stageConfig('dev'));
    expect(resources(s, 'aws_dynamodb_table')).toHaveLength(0);
    expect(s.json).not.toContain('dynamodb:');
    expect(s.json).not.toContain('PUBLISH_LEDGER_TABLE');
    expect(s.json).not.toContain('IDEMPOTENCY_TABLE');
    expect(s.json).not.toContain('IDEMPOTENCY_RETENTION_SECONDS');
  });
});

describe('event source mappings', () => {
  it('carry every setting of the definition', () => {
    expectResource(dev, 'aws_lambda_event_source_mapping', {
      batch_size: 500,
      maximum_batching_window_in_seconds: 1,
      starting_position: 'TRIM_HORIZON',
      parallelization_factor: 1,
      bisect_batch_on_function_error: true,
      maximum_retry_attempts: 5,
      maximum_record_age_in_seconds: 43_200,
      tumbling_window_in_seconds: 60,
      function_response_types: ['ReportBatchItemFailures'],
      enabled: true,
    });
    expectResource(dev, 'aws_lambda_event_source_mapping', {
      batch_size: 100,
      maximum_batching_window_in_seconds: 0,
      parallelization_factor: 2,
    });
    // order-review filters in the runtime (recordFilterPatterns), after deaggregation: no mapping-level filter
    // that would drop KPL aggregates unseen.
    for (const mapping of resources(prod, 'aws_lambda_event_source_mapping')) expect(mapping).not.toHaveProperty('filter_criteria');
    for (const mapping of resources(dev, 'aws_lambda_event_source_mapping')) {
      expect(mapping['event_source_arn']).toMatch(/^\$\{aws_kinesis_stream\..+\.arn\}$/);
      expect(((mapping['destination_config'] as Block)['on_failure'] as Block)['destination_arn']).toMatch(/^\$\{aws_sqs_queue\..+on-failure.+\.arn\}$/);
      expect(asArray(mapping['depends_on'] as string[]).some((d) => d.startsWith('aws_iam_role_policy.'))).toBe(true);
    }
  });

  it('AT_TIMESTAMP passes the timestamp, enhanced fan-out reads through a registered consumer', () => {
    const definition = structuredClone(pipeline);
    const metrics = definition.consumers['order-metrics']!;
    metrics.mapping = { ...metrics.mapping, startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: '2026-01-02T03:04:05+01:00' };
    metrics.enhancedFanOut = true;
    const s = synthStage(definition, stageConfig('staging'));
    expectResource(s, 'aws_kinesis_stream_consumer', { name: 'orders-staging-order-metrics' });
    expectResource(s, 'aws_lambda_event_source_mapping', { starting_position: 'AT_TIMESTAMP', starting_position_timestamp: '2026-01-02T02:04:05.000Z' });
    const mapping = resources(s, 'aws_lambda_event_source_mapping').find((m) => m['starting_position'] === 'AT_TIMESTAMP')!;
    expect(mapping['event_source_arn']).toMatch(/^\$\{aws_kinesis_stream_consumer\..+\.arn\}$/);
    const sts = policyOf(s, 'orders-staging-order-metrics');
    expect(sts.find((x) => x.Sid === 'ReadThroughOwnFanOutConsumer')).toMatchObject({
      Action: ['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer'],
      Resource: expect.stringMatching(/^\$\{aws_kinesis_stream_consumer\..+\.arn\}$/),
    });
  });
});

describe('queues and topic', () => {
  it('per consumer an on-failure and a quarantine queue: stage key, 14 days, TLS only, owner account only, send by the function role', () => {
    const keyId = Object.keys(staging.tf.resource['aws_kms_key']!)[0]!;
    for (const name of ['order-metrics-quarantine', 'order-metrics-on-failure', 'order-review-quarantine', 'order-review-on-failure']) {
      expectResource(staging, 'aws_sqs_queue', {
        name: `orders-staging-${name}`,
        kms_master_key_id: `\${aws_kms_key.${keyId}.arn}`,
        message_retention_seconds: 1_209_600,
      });
    }
    // + review-intake's on-failure queue
    expect(resources(staging, 'aws_sqs_queue_policy')).toHaveLength(5);
    for (const policy of resources(staging, 'aws_sqs_queue_policy')) {
      const sts = statements(policy['policy']);
      expect(sts.find((s) => s.Sid === 'DenyInsecureTransport')).toMatchObject({ Effect: 'Deny', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
      expect(sts.find((s) => s.Sid === 'DenyOtherAccounts')).toMatchObject({ Effect: 'Deny', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '222222222222' } } });
      const allow = sts.filter((s) => s.Effect === 'Allow');
      expect(allow).toHaveLength(1);
      expect(allow[0]).toMatchObject({ Action: ['sqs:SendMessage'], Principal: { AWS: [expect.stringMatching(/^\$\{aws_iam_role\..+\.arn\}$/)] } });
    }
  });

  it('an encrypted alarm topic, published to only by this account\'s alarms, with the stage e-mail', () => {
    for (const s of [dev, staging, prod]) {
      const keyId = Object.keys(s.tf.resource['aws_kms_key']!)[0]!;
      expectResource(s, 'aws_sns_topic', { kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` });
    }
    expectResource(prod, 'aws_sns_topic', { name: 'orders-prod-alarms' });
    expectResource(prod, 'aws_sns_topic_subscription', { protocol: 'email', endpoint: 'orders-oncall@example.com' });
    expect(resources(dev, 'aws_sns_topic_subscription')).toHaveLength(0);
    const sts = statements(resources(prod, 'aws_sns_topic_policy')[0]!['policy']);
    expect(sts.find((s) => s.Effect === 'Allow')).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['sns:Publish'],
      Condition: { StringEquals: { 'aws:SourceAccount': '333333333333' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:333333333333:alarm:*' } },
    });
    const keyPolicy = statements(resources(prod, 'aws_kms_key')[0]!['policy']);
    expect(keyPolicy.find((s) => s.Sid === 'CloudWatchAlarmsPublishToEncryptedTopic')).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' } });
  });
});

describe('alarms', () => {
  const alarm = (s: Synthesized, name: string): Block => findResource(s, 'aws_cloudwatch_metric_alarm', 'alarm_name', name);

  it('per consumer: iterator age, errors, throttles, duration p99, both queue depths, records quarantined', () => {
    const stage = applyStage(pipeline, stageConfig('prod'));
    const consumer = stage.consumers['order-review']!;
    const stream = stage.streams['orders']!;
    const fn = 'orders-prod-order-review';
    expect(alarm(prod, `${fn}-iterator-age`)).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'IteratorAge',
      statistic: 'Maximum',
      dimensions: { FunctionName: fn },
      comparison_operator: 'GreaterThanThreshold',
      threshold: consumerIteratorAgeThresholdMs(consumer, stream),
      period: 60,
      evaluation_periods: 3,
    });
    // 10 % of min(168 h retention, 43200 s MaximumRecordAgeInSeconds) = 4320 s.
    expect(alarm(prod, `${fn}-iterator-age`)['threshold']).toBe(4_320_000);
    expect(alarm(prod, `${fn}-errors`)).toMatchObject({ metric_name: 'Errors', statistic: 'Sum', threshold: 0 });
    expect(alarm(prod, `${fn}-throttles`)).toMatchObject({ metric_name: 'Throttles', statistic: 'Sum', threshold: 0 });
    expect(alarm(prod, `${fn}-duration-p99`)).toMatchObject({ metric_name: 'Duration', extended_statistic: 'p99', threshold: durationThresholdMs(consumer) });
    expect(alarm(prod, `${fn}-duration-p99`)['threshold']).toBe(24_000);
    for (const queue of ['quarantine', 'on-failure']) {
      expect(alarm(prod, `${fn}-${queue}-depth`)).toMatchObject({
        namespace: 'AWS/SQS',
        metric_name: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: `${fn}-${queue}` },
        comparison_operator: 'GreaterThanThreshold',
        threshold: 0,
        treat_missing_data: 'ignore',
      });
    }
    // Queue age: on-failure messages point at stream positions, redrivable for retention - record age
    // (168 h - 12 h); the alarm fires at half of that. Quarantine messages hold the payload: half of 14 days.
    expect(alarm(prod, `${fn}-on-failure-age`)).toMatchObject({
      namespace: 'AWS/SQS',
      metric_name: 'ApproximateAgeOfOldestMessage',
      statistic: 'Maximum',
      dimensions: { QueueName: `${fn}-on-failure` },
      threshold: 280_800,
    });
    expect(alarm(prod, `${fn}-quarantine-age`)).toMatchObject({ metric_name: 'ApproximateAgeOfOldestMessage', threshold: 604_800 });
    expect(alarm(dev, 'orders-dev-order-review-on-failure-age')['threshold']).toBe(21_600); // (24 h - 12 h) / 2
    // Lambda metrics: the mapping failed to write an on-failure record (the only pointer to a failed batch).
    expect(alarm(prod, `${fn}-destination-delivery-failures`)).toMatchObject({
      namespace: 'AWS/Lambda',
      metric_name: 'DestinationDeliveryFailures',
      dimensions: { FunctionName: fn },
      statistic: 'Sum',
      comparison_operator: 'GreaterThanThreshold',
      threshold: 0,
    });
    expect(alarm(prod, `${fn}-records-quarantined`)).toMatchObject({
      namespace: 'KinesisPipeline/Consumers',
      metric_name: 'RecordsQuarantined',
      dimensions: { ConsumerName: 'order-review' },
      statistic: 'Sum',
      threshold: 0,
    });
  });

  it('per asynchronously invoked function: AsyncEventsDropped and DestinationDeliveryFailures (the request is lost otherwise)', () => {
    for (const metric of ['AsyncEventsDropped', 'DestinationDeliveryFailures']) {
      const id = metric === 'AsyncEventsDropped' ? 'async-events-dropped' : 'destination-delivery-failures';
      expect(alarm(staging, `orders-staging-review-intake-${id}`)).toMatchObject({
        namespace: 'AWS/Lambda',
        metric_name: metric,
        dimensions: { FunctionName: 'orders-staging-review-intake' },
        statistic: 'Sum',
        threshold: 0,
      });
    }
    expect(alarm(staging, 'orders-staging-review-intake-on-failure-age')).toMatchObject({ metric_name: 'ApproximateAgeOfOldestMessage', threshold: 604_800 });
  });

  it('per stream: write and read throttling, iterator age as a fraction of the shortest record lifetime of its consumers', () => {
    const applied = applyStage(pipeline, stageConfig('staging'));
    const stream = applied.streams['orders']!;
    expect(alarm(staging, 'orders-staging-orders-write-throttled')).toMatchObject({ namespace: 'AWS/Kinesis', metric_name: 'WriteProvisionedThroughputExceeded', dimensions: { StreamName: 'orders-staging-orders' } });
    expect(alarm(staging, 'orders-staging-orders-read-throttled')).toMatchObject({ metric_name: 'ReadProvisionedThroughputExceeded' });
    expect(alarm(staging, 'orders-staging-orders-iterator-age')).toMatchObject({
      metric_name: 'GetRecords.IteratorAgeMilliseconds',
      statistic: 'Maximum',
      threshold: streamIteratorAgeThresholdMs(stream, Object.values(applied.consumers)),
    });
    // 10 % of min(48 h, 12 h record age): fires before the consumers discard anything.
    expect(alarm(staging, 'orders-staging-orders-iterator-age')['threshold']).toBe(4_320_000);
  });

  it('business alarm: orders placed zero while the stream has traffic, missing data handled on purpose', () => {
    const business = alarm(prod, 'orders-prod-order-metrics-OrdersPlaced-zero-during-traffic');
    expect(business).toMatchObject({ comparison_operator: 'GreaterThanOrEqualToThreshold', threshold: 1, evaluation_periods: 3, datapoints_to_alarm: 3, treat_missing_data: 'notBreaching' });
    const queries = business['metric_query'] as Block[];
    expect(queries.find((q) => q['id'] === 'business')!['metric']).toMatchObject({
      namespace: 'Orders/Business',
      metric_name: 'OrdersPlaced',
      dimensions: { Stage: 'prod' },
      stat: 'Sum',
      // two 60 s tumbling windows fit in the smallest period >= 120 s
      period: 300,
    });
    expect(queries.find((q) => q['id'] === 'traffic')!['metric']).toMatchObject({ namespace: 'AWS/Kinesis', metric_name: 'IncomingRecords', dimensions: { StreamName: 'orders-prod-orders' } });
    expect(queries.find((q) => q['return_data'] === true)!['expression']).toBe('IF(traffic > 100 AND FILL(business, 0) <= 0, 1, 0)');
  });

  it('every alarm notifies the stage topic on ALARM and on OK', () => {
    for (const s of [dev, staging, prod]) {
      const topicId = Object.keys(s.tf.resource['aws_sns_topic']!)[0]!;
      const all = resources(s, 'aws_cloudwatch_metric_alarm');
      // 10 per consumer x 2, 6 for the plain function, 3 for the stream, 1 business alarm
      expect(all).toHaveLength(30);
      for (const a of all) {
        expect(a['alarm_actions']).toEqual([`\${aws_sns_topic.${topicId}.arn}`]);
        expect(a['ok_actions']).toEqual([`\${aws_sns_topic.${topicId}.arn}`]);
      }
    }
  });
});

describe('protection of stateful resources (stage setting protectStatefulResources)', () => {
  const lifecycleOf = (s: Synthesized, type: string): unknown[] => resources(s, type).map((r) => (r['lifecycle'] as Block | undefined)?.['prevent_destroy']);

  it('staging and prod: prevent_destroy on the stream, the key, every queue and the table; dev: none', () => {
    for (const type of ['aws_kinesis_stream', 'aws_kms_key', 'aws_sqs_queue', 'aws_dynamodb_table']) {
      expect(lifecycleOf(prod, type).every((p) => p === true), `prod ${type}`).toBe(true);
      expect(lifecycleOf(staging, type).every((p) => p === true), `staging ${type}`).toBe(true);
      expect(lifecycleOf(dev, type).every((p) => p === false), `dev ${type}`).toBe(true);
    }
    expect(lifecycleOf(prod, 'aws_sqs_queue')).toHaveLength(5);
  });

  it('a stream never deregisters enhanced fan-out consumers on delete (EnforceConsumerDeletion false)', () => {
    for (const s of [dev, staging, prod]) expect(resources(s, 'aws_kinesis_stream')[0]!['enforce_consumer_deletion']).toBe(false);
  });
});

describe('logs and tracing', () => {
  it('JSON log format with the stage log level as application level and INFO system logs; X-Ray Active in prod only', () => {
    for (const [s, level, tracing] of [
      [dev, 'DEBUG', 'PassThrough'],
      [staging, 'INFO', 'PassThrough'],
      [prod, 'INFO', 'Active'],
    ] as const) {
      for (const fn of resources(s, 'aws_lambda_function')) {
        expect(fn['logging_config']).toMatchObject({ log_format: 'JSON', application_log_level: level, system_log_level: 'INFO' });
        expect(fn['tracing_config']).toEqual({ mode: tracing });
        // Source maps are a debug choice (stage sourceMaps), off in every shipped stage.
        expect((fn['environment'] as { variables: Record<string, string> }).variables).not.toHaveProperty('NODE_OPTIONS');
      }
    }
  });

  it('log groups are encrypted with the stage key, which lets CloudWatch Logs use it only for this stage\'s log groups', () => {
    const keyId = Object.keys(prod.tf.resource['aws_kms_key']!)[0]!;
    for (const group of resources(prod, 'aws_cloudwatch_log_group')) expect(group['kms_key_id']).toBe(`\${aws_kms_key.${keyId}.arn}`);
    const keyPolicy = statements(resources(prod, 'aws_kms_key')[0]!['policy']);
    expect(keyPolicy.find((st) => st.Sid === 'CloudWatchLogsEncryptStageLogGroups')).toEqual({
      Sid: 'CloudWatchLogsEncryptStageLogGroups',
      Effect: 'Allow',
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Resource: '*',
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:333333333333:log-group:/aws/lambda/orders-prod-*' } },
    });
    expect(keyPolicy.find((st) => st.Sid === 'CloudWatchAlarmsPublishToEncryptedTopic')!.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '333333333333' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:333333333333:alarm:*' },
    });
  });

  it('a stage with sourceMaps runs with --enable-source-maps, and refuses bundles without maps', () => {
    const debug = { ...stageConfig('dev'), sourceMaps: true };
    expect(() => synthStage(pipeline, debug)).toThrow(/sets "sourceMaps": true but the bundles of order-metrics, order-review, review-intake have none: run `npm run build:lambdas -- --source-maps`/);
    const bundles = fakeBundleDir(pipeline);
    for (const name of ['order-metrics', 'order-review', 'review-intake']) writeFileSync(join(bundles, name, 'index.mjs.map'), '{}');
    const s = synthStage(pipeline, debug, bundles);
    for (const fn of resources(s, 'aws_lambda_function')) {
      expect((fn['environment'] as { variables: Record<string, string> }).variables['NODE_OPTIONS']).toBe('--enable-source-maps');
    }
  });
});

describe('placeholder values (account ids, e-mails, state buckets)', () => {
  it('a stage with placeholders synthesizes a plan-time guard listing each value to replace; a real stage has none', () => {
    const guard = resources(prod, 'terraform_data')[0]!;
    const precondition = ((guard['lifecycle'] as Block)['precondition'] as Block[])[0]!;
    expect(precondition['condition']).toBe('${var.allow_placeholder_stage}');
    expect(precondition['error_message']).toBe(
      'stage prod still has placeholder values; edit stages/prod.json before deploying:\n' +
        "  account: 333333333333 is a placeholder account id (put the stage's AWS account id)\n" +
        '  alarmEmail: orders-oncall@example.com is at a reserved domain nobody reads (put your on-call address)\n' +
        '  backend.bucket: orders-terraform-state-333333333333 is a placeholder state bucket (create yours, versioned, and put its name)',
    );
    expect(prod.tf['variable' as keyof typeof prod.tf]).toMatchObject({ allow_placeholder_stage: { type: 'bool', default: false } });
    const real = synthStage(pipeline, {
      ...stageConfig('prod'),
      account: '480173920456',
      alarmEmail: 'orders-oncall@acme-retail.io',
      backend: { type: 's3', bucket: 'acme-orders-tfstate-480173920456', keyPrefix: 'kinesis-pipeline' },
    });
    expect(resources(real, 'terraform_data')).toEqual([]);
  });
});

describe('dashboard and outputs', () => {
  it('one dashboard per stage with throughput, iterator age, errors, throttles, duration, queue depths and business metrics', () => {
    const dashboard = resources(prod, 'aws_cloudwatch_dashboard');
    expect(dashboard).toHaveLength(1);
    expect(dashboard[0]!['dashboard_name']).toBe('orders-prod');
    const body = JSON.parse(dashboard[0]!['dashboard_body'] as string) as { widgets: { properties: { title: string; metrics: unknown[] } }[] };
    const titles = body.widgets.map((w) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Stream throughput (records)',
        'Iterator age (ms)',
        'Errors and throttles',
        'Duration p99 (ms)',
        'Quarantine and on-failure depth',
        'Business metrics: Orders/Business',
      ]),
    );
    const text = JSON.stringify(body);
    for (const needle of ['orders-prod-orders', 'orders-prod-order-review-on-failure', 'orders-prod-order-metrics-quarantine', 'RecordsQuarantined', "SEARCH('Namespace=\\\"Orders/Business\\\"'"]) {
      expect(text).toContain(needle);
    }
  });

  it('outputs stream name and ARN, queue URLs, topic ARN and dashboard URL', () => {
    const outputs = prod.tf.output;
    for (const key of [
      'stream-orders-name',
      'stream-orders-arn',
      'consumer-order-metrics-quarantine-queue-url',
      'consumer-order-metrics-on-failure-queue-url',
      'consumer-order-review-quarantine-queue-url',
      'consumer-order-review-on-failure-queue-url',
      'function-review-intake-name',
      'function-review-intake-on-failure-queue-url',
      'alarm-topic-arn',
      'stage-key-arn',
      'dashboard-url',
    ]) {
      expect(outputs, key).toHaveProperty(key);
    }
    expect(outputs['dashboard-url']!['value']).toBe('https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=orders-prod');
  });
});

describe('synth-time warnings', () => {
  it('warns when reserved concurrency is below shards x parallelization factor', () => {
    const config = stageConfig('prod');
    const tight = synthStage(pipeline, { ...config, consumers: { ...config.consumers, 'order-review': { ...config.consumers['order-review'], reservedConcurrency: 4 } } });
    const messages = JSON.stringify(tight.stack.node.metadata);
    expect(messages).toContain('consumer order-review: reservedConcurrency 4 < 8 (shards x parallelizationFactor)');
    expect(JSON.stringify(prod.stack.node.metadata)).not.toContain('reservedConcurrency');
  });
});
