/**
 * A plain function of the definition (e.g. review-intake), invoked asynchronously by consumers
 * (`InvocationType: Event`). Lambda retries a failed asynchronous invocation twice and then
 * DROPS the event unless an on-failure destination is configured ("Lambda asynchronous
 * invocation": error handling and destinations). So every plain function gets an on-failure
 * queue, an explicit retry/age policy, and alarms: nothing a consumer hands over disappears.
 * Asynchronous invocation is at least once (an event may arrive twice): a function declaring
 * `idempotencyTable` gets one to claim each invocation's key in.
 */
import { Construct } from 'constructs';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import type { FunctionDefinition } from '../../pipeline';
import { notifyingAlarm } from './alarm';
import { IdempotencyTable } from './idempotency-table';
import { payloadQueueAgeThresholdSeconds } from '../thresholds';
import { queueAlarms } from './pipeline-consumer';
import { PipelineFunction, type AwsLocation, type FunctionObservability } from './pipeline-function';
import { queueSendStatements, SecureQueue } from './secure-queue';

/** Lambda's defaults for asynchronous invocation, written explicitly (PutFunctionEventInvokeConfig). */
export const ASYNC_RETRY_ATTEMPTS = 2;
export const ASYNC_MAX_EVENT_AGE_SECONDS = 21_600;

export interface DownstreamFunctionProps {
  functionName: string;
  definition: FunctionDefinition;
  bundlePath: string;
  /** Table name of the idempotency table, used when the definition declares `idempotencyTable`. */
  idempotencyTableName?: string;
  /** Environment of the function given its idempotency table's name (resolved by the stack). */
  environment: (idempotencyTable: string | undefined) => Record<string, string>;
  location: AwsLocation;
  invokeTargets: string[];
  stageKeyArn: string;
  alarmTopicArn: string;
  /** Alarm period (s): the definition has no alarms block for plain functions, so the stage's consumer period. */
  alarmPeriodSeconds: number;
  observability: FunctionObservability;
  /** `prevent_destroy` on the on-failure queue (it holds the only copy of failed requests) and the table. */
  protect: boolean;
}

export class DownstreamFunction extends Construct {
  readonly fn: PipelineFunction;
  readonly onFailureQueue: SecureQueue;
  readonly invokeConfig: LambdaFunctionEventInvokeConfig;
  readonly idempotency: IdempotencyTable | undefined;

  constructor(scope: Construct, id: string, props: DownstreamFunctionProps) {
    super(scope, id);
    const { location, functionName } = props;
    this.onFailureQueue = new SecureQueue(this, 'on-failure', {
      name: `${functionName}-on-failure`,
      kmsKeyArn: props.stageKeyArn,
      account: location.account,
      protect: props.protect,
    });
    if (props.definition.idempotencyTable && props.idempotencyTableName === undefined) {
      throw new Error(`function ${functionName} declares idempotencyTable but was given no idempotencyTableName`);
    }
    this.idempotency =
      props.definition.idempotencyTable && props.idempotencyTableName !== undefined
        ? new IdempotencyTable(this, 'idempotency', { name: props.idempotencyTableName, protect: props.protect })
        : undefined;
    this.fn = new PipelineFunction(this, 'function', {
      functionName,
      definition: props.definition,
      bundlePath: props.bundlePath,
      environment: props.environment(this.idempotency?.table.name),
      location,
      invokeTargets: props.invokeTargets,
      statements: [
        // Asynchronous-invocation destinations are written with the function's execution role.
        ...queueSendStatements([this.onFailureQueue.queue.arn], props.stageKeyArn, location.region),
        ...(this.idempotency ? [this.idempotency.eventClaimStatement()] : []),
      ],
      observability: props.observability,
    });
    const queuePolicy = this.onFailureQueue.grantSend([this.fn.role.arn]);
    this.invokeConfig = new LambdaFunctionEventInvokeConfig(this, 'async', {
      functionName: this.fn.function.functionName,
      maximumRetryAttempts: ASYNC_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: ASYNC_MAX_EVENT_AGE_SECONDS,
      destinationConfig: { onFailure: { destination: this.onFailureQueue.queue.arn } },
      dependsOn: [this.fn.rolePolicy, queuePolicy],
    });

    const base = { namespace: 'AWS/Lambda', dimensions: { FunctionName: functionName }, period: props.alarmPeriodSeconds, evaluationPeriods: 1 };
    notifyingAlarm(this, 'errors', props.alarmTopicArn, {
      ...base,
      alarmName: `${functionName}-errors`,
      alarmDescription: `${functionName} failed invocations (retried ${ASYNC_RETRY_ATTEMPTS} times, then sent to ${functionName}-on-failure).`,
      metricName: 'Errors',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      treatMissingData: 'notBreaching',
    });
    notifyingAlarm(this, 'throttles', props.alarmTopicArn, {
      ...base,
      alarmName: `${functionName}-throttles`,
      alarmDescription: `${functionName} was throttled (asynchronous events wait, up to ${ASYNC_MAX_EVENT_AGE_SECONDS} s).`,
      metricName: 'Throttles',
      statistic: 'Sum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      treatMissingData: 'notBreaching',
    });
    // Lambda metrics, "Asynchronous invocation metrics": AsyncEventsDropped counts events dropped
    // without running the function (e.g. too old, or throttled past the maximum event age) when the
    // on-failure destination could not take them either; DestinationDeliveryFailures counts events
    // the destination refused. Either way the request is gone.
    for (const [id, metricName, what] of [
      ['async-events-dropped', 'AsyncEventsDropped', 'dropped asynchronous events'],
      ['destination-delivery-failures', 'DestinationDeliveryFailures', `failed to deliver failed events to ${this.onFailureQueue.queueName}`],
    ] as const) {
      notifyingAlarm(this, id, props.alarmTopicArn, {
        ...base,
        alarmName: `${functionName}-${id}`,
        alarmDescription: `Lambda ${what} of ${functionName}: those requests are lost (check throttling, the queue policy and the key policy).`,
        metricName,
        statistic: 'Sum',
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 0,
        treatMissingData: 'notBreaching',
      });
    }
    queueAlarms(this, 'on-failure', this.onFailureQueue, {
      functionName,
      alarmTopicArn: props.alarmTopicArn,
      period: props.alarmPeriodSeconds,
      why: `invocations of ${functionName} failed for good; they hold the full request`,
      ageThresholdSeconds: payloadQueueAgeThresholdSeconds(),
    });
  }
}
