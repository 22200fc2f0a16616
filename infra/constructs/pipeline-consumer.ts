/**
 * A consumer of the pipeline: its function (see PipelineFunction), the event source mapping with
 * every setting of the definition, an enhanced fan-out consumer when asked, its on-failure and
 * quarantine queues, its publish ledger table when asked, and its alarms.
 */
import { Construct } from 'constructs';
import { KinesisStreamConsumer } from '@cdktf/provider-aws/lib/kinesis-stream-consumer';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { ConsumerDefinition, StreamDefinition } from '../../pipeline';
import { eventSourceMappingSettings } from '../mapping-settings';
import type { PolicyStatement } from '../policy-document';
import { runtimeMetricDimensions, RUNTIME_METRICS_NAMESPACE } from '../runtime-metrics';
import { consumerIteratorAgeThresholdMs, durationThresholdMs, onFailureQueueAgeThresholdSeconds, payloadQueueAgeThresholdSeconds } from '../thresholds';
import { notifyingAlarm } from './alarm';
import { PipelineFunction, type AwsLocation, type FunctionObservability } from './pipeline-function';
import { IdempotencyTable } from './idempotency-table';
import { PublishLedgerTable } from './publish-ledger-table';
import type { PipelineStream } from './pipeline-stream';
import { queueSendStatements, SecureQueue } from './secure-queue';

export interface PipelineConsumerProps {
  /** Definition key, e.g. `order-metrics` (the CONSUMER_NAME the runtime sees). */
  name: string;
  /** Deployed function name, e.g. `orders-prod-order-metrics`; also prefixes queues and alarms. */
  functionName: string;
  definition: ConsumerDefinition;
  streamDefinition: StreamDefinition;
  stream: PipelineStream;
  stageKeyArn: string;
  alarmTopicArn: string;
  location: AwsLocation;
  bundlePath: string;
  invokeTargets: string[];
  /** Table name of the publish ledger, when the definition declares `publishLedger`. */
  publishLedgerTableName: string;
  /** Table name of the idempotency table, when the definition declares `idempotencyTable`. */
  idempotencyTableName?: string;
  /** Logs, tracing and log encryption of the stage. */
  observability: FunctionObservability;
  /** `prevent_destroy` on the queues and the tables, deletion protection and PITR on the tables. */
  protect: boolean;
  /** Environment of the function given its quarantine queue URL and table names (resolved by the stack). */
  environment: (quarantineQueueUrl: string, publishLedgerTable: string | undefined, idempotencyTable?: string) => Record<string, string>;
}

export class PipelineConsumer extends Construct {
  readonly fn: PipelineFunction;
  readonly mapping: LambdaEventSourceMapping;
  readonly quarantineQueue: SecureQueue;
  readonly onFailureQueue: SecureQueue | undefined;
  readonly fanOut: KinesisStreamConsumer | undefined;
  readonly publishLedger: PublishLedgerTable | undefined;
  readonly idempotency: IdempotencyTable | undefined;

  constructor(scope: Construct, id: string, props: PipelineConsumerProps) {
    super(scope, id);
    const { definition, location, stream } = props;
    const streamArn = stream.stream.arn;

    this.fanOut = definition.enhancedFanOut
      ? new KinesisStreamConsumer(this, 'fan-out', { name: props.functionName, streamArn })
      : undefined;
    this.quarantineQueue = new SecureQueue(this, 'quarantine', {
      name: `${props.functionName}-quarantine`,
      kmsKeyArn: props.stageKeyArn,
      account: location.account,
      protect: props.protect,
    });
    this.onFailureQueue =
      definition.mapping.onFailureDestination === 'queue'
        ? new SecureQueue(this, 'on-failure', { name: `${props.functionName}-on-failure`, kmsKeyArn: props.stageKeyArn, account: location.account, protect: props.protect })
        : undefined;
    const queueArns = [this.quarantineQueue.queue.arn, ...(this.onFailureQueue ? [this.onFailureQueue.queue.arn] : [])];

    const statements: PolicyStatement[] = [
      {
        // Lambda developer guide, "Using Lambda with Kinesis": execution role permissions for a Kinesis mapping.
        Sid: 'ReadOwnStream',
        Effect: 'Allow',
        Action: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
        Resource: streamArn,
      },
      {
        // kinesis:ListStreams supports no resource-level permissions (Service Authorization Reference,
        // "Amazon Kinesis Data Streams": no resource type), so Resource must be "*".
        Sid: 'ListStreamsForMapping',
        Effect: 'Allow',
        Action: ['kinesis:ListStreams'],
        Resource: '*',
      },
    ];
    if (this.fanOut) {
      statements.push({
        Sid: 'ReadThroughOwnFanOutConsumer',
        Effect: 'Allow',
        Action: ['kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer'],
        Resource: this.fanOut.arn,
      });
    }
    if (stream.decryptKeyArn !== undefined) {
      statements.push({
        Sid: 'DecryptOwnStream',
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: stream.decryptKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `kinesis.${location.region}.amazonaws.com` } },
      });
    }
    // The runtime sends quarantined records; the mapping sends on-failure records with this role.
    statements.push(...queueSendStatements(queueArns, props.stageKeyArn, location.region));
    this.publishLedger = definition.publishLedger ? new PublishLedgerTable(this, 'publish-ledger', { name: props.publishLedgerTableName, protect: props.protect }) : undefined;
    if (this.publishLedger) statements.push(this.publishLedger.claimStatement());
    this.idempotency =
      definition.idempotencyTable && props.idempotencyTableName !== undefined
        ? new IdempotencyTable(this, 'idempotency', { name: props.idempotencyTableName, protect: props.protect })
        : undefined;
    if (this.idempotency) statements.push(this.idempotency.claimStatement());

    this.fn = new PipelineFunction(this, 'function', {
      functionName: props.functionName,
      definition,
      bundlePath: props.bundlePath,
      environment: props.environment(this.quarantineQueue.queue.url, this.publishLedger?.table.name, this.idempotency?.table.name),
      location,
      invokeTargets: props.invokeTargets,
      statements,
      observability: props.observability,
    });
    const roleArn = this.fn.role.arn;
    const queuePolicies = [this.quarantineQueue.grantSend([roleArn]), ...(this.onFailureQueue ? [this.onFailureQueue.grantSend([roleArn])] : [])];

    this.mapping = new LambdaEventSourceMapping(this, 'mapping', {
      // With enhanced fan-out the mapping reads through the consumer ARN ("Using Lambda with Kinesis": stream consumers).
      eventSourceArn: this.fanOut ? this.fanOut.arn : streamArn,
      functionName: this.fn.function.arn,
      enabled: true,
      ...eventSourceMappingSettings(definition.mapping),
      ...(this.onFailureQueue ? { destinationConfig: { onFailure: { destinationArn: this.onFailureQueue.queue.arn } } } : {}),
      // CreateEventSourceMapping checks the role can read the stream: the policy must exist first.
      dependsOn: [this.fn.rolePolicy, ...queuePolicies],
    });

    this.addAlarms(props);
  }

  private addAlarms(props: PipelineConsumerProps): void {
    const { definition, functionName, alarmTopicArn } = props;
    const { periodSeconds: period, evaluationPeriods } = definition.alarms;
    const lambda = { namespace: 'AWS/Lambda', dimensions: { FunctionName: functionName }, period, evaluationPeriods };
    // Lambda publishes these only when it invokes: no data means nothing ran, which other alarms cover
    // (stream iterator age, throttles), so missing data is not breaching.
    notifyingAlarm(this, 'iterator-age', alarmTopicArn, {
      ...lambda,
      alarmName: `${functionName}-iterator-age`,
      alarmDescription: `${functionName} is falling behind its stream: IteratorAge over ${consumerIteratorAgeThresholdMs(definition, props.streamDefinition)} ms, a fraction of how long records live (retention / MaximumRecordAgeInSeconds).`,
      metricName: 'IteratorAge',
      statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: consumerIteratorAgeThresholdMs(definition, props.streamDefinition),
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'errors', alarmTopicArn, {
      ...lambda,
      alarmName: `${functionName}-errors`,
      alarmDescription: `${functionName} invocations failed (batches are retried, then bisected, then sent to on-failure).`,
      metricName: 'Errors',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: definition.alarms.errorsPerPeriod,
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'throttles', alarmTopicArn, {
      ...lambda,
      alarmName: `${functionName}-throttles`,
      alarmDescription: `${functionName} was throttled: its shards stall while throttled.`,
      metricName: 'Throttles',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: definition.alarms.throttlesPerPeriod,
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'duration', alarmTopicArn, {
      ...lambda,
      alarmName: `${functionName}-duration-p99`,
      alarmDescription: `${functionName} p99 duration is near its ${definition.timeoutSeconds} s timeout (a timeout fails the whole batch).`,
      metricName: 'Duration',
      extendedStatistic: 'p99',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: durationThresholdMs(definition),
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'records-quarantined', alarmTopicArn, {
      namespace: RUNTIME_METRICS_NAMESPACE,
      dimensions: runtimeMetricDimensions(props.name),
      period,
      evaluationPeriods: 1,
      alarmName: `${functionName}-records-quarantined`,
      alarmDescription: `${functionName} quarantined records (permanently invalid); they wait in ${functionName}-quarantine.`,
      metricName: 'RecordsQuarantined',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      treatMissingData: 'notBreaching',
    });
    if (this.onFailureQueue) {
      // Lambda metrics, "Asynchronous invocation and event source mapping destination metrics":
      // DestinationDeliveryFailures counts on-failure records the mapping could not write (a KMS or
      // queue policy mistake). Each one loses the only pointer to the failed records.
      notifyingAlarm(this, 'destination-delivery-failures', alarmTopicArn, {
        ...lambda,
        evaluationPeriods: 1,
        alarmName: `${functionName}-destination-delivery-failures`,
        alarmDescription: `The mapping of ${functionName} failed to write on-failure records to ${this.onFailureQueue.queueName}: the pointers to those failed batches are lost (check the queue policy and the key policy).`,
        metricName: 'DestinationDeliveryFailures',
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 0,
        treatMissingData: 'notBreaching',
      });
    }
    const queues: [string, SecureQueue | undefined, string, number][] = [
      ['quarantine', this.quarantineQueue, 'quarantined records wait for a fix and a redrive', payloadQueueAgeThresholdSeconds()],
      [
        'on-failure',
        this.onFailureQueue,
        'batches were discarded after retries / record age; redrive them before the stream retention expires',
        onFailureQueueAgeThresholdSeconds(definition, props.streamDefinition),
      ],
    ];
    for (const [id, queue, why, ageThreshold] of queues) {
      if (!queue) continue;
      queueAlarms(this, id, queue, { functionName, alarmTopicArn, period, why, ageThresholdSeconds: ageThreshold });
    }
  }
}

export interface QueueAlarmProps {
  functionName: string;
  alarmTopicArn: string;
  period: number;
  /** What a message in the queue means, for the alarm description. */
  why: string;
  /** ApproximateAgeOfOldestMessage threshold (s): half the time its messages stay useful (infra/thresholds.ts). */
  ageThresholdSeconds: number;
}

/**
 * Depth and age of a queue of failed records. Depth > 0 says there is work; the age alarm says it
 * must be done now: an on-failure message points at stream positions that expire with the stream's
 * retention, and any message leaves SQS after its retention (14 days).
 */
export function queueAlarms(scope: Construct, id: string, queue: SecureQueue, props: QueueAlarmProps): void {
  const base = { namespace: 'AWS/SQS', dimensions: { QueueName: queue.queueName }, period: props.period, evaluationPeriods: 1, statistic: 'Maximum' as const };
  notifyingAlarm(scope, `${id}-depth`, props.alarmTopicArn, {
    ...base,
    alarmName: `${props.functionName}-${id}-depth`,
    alarmDescription: `${queue.queueName} is not empty: ${props.why}.`,
    metricName: 'ApproximateNumberOfMessagesVisible',
    comparisonOperator: 'GreaterThanThreshold',
    threshold: 0,
    // SQS stops publishing for a queue inactive for six hours even when messages remain
    // (SQS developer guide, "Available CloudWatch metrics for Amazon SQS"): "ignore" keeps
    // the alarm in ALARM until a datapoint shows the queue empty.
    treatMissingData: 'ignore',
  });
  notifyingAlarm(scope, `${id}-age`, props.alarmTopicArn, {
    ...base,
    alarmName: `${props.functionName}-${id}-age`,
    alarmDescription: `The oldest message in ${queue.queueName} is over ${props.ageThresholdSeconds} s old, half of the time it stays useful: ${props.why}.`,
    metricName: 'ApproximateAgeOfOldestMessage',
    comparisonOperator: 'GreaterThanThreshold',
    threshold: props.ageThresholdSeconds,
    treatMissingData: 'ignore',
  });
}
