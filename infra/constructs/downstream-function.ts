/**
 * A plain function of the definition (e.g. review-intake), invoked asynchronously by consumers
 * (`InvocationType: Event`). Lambda retries a failed asynchronous invocation twice and then
 * DROPS the event unless an on-failure destination is configured ("Lambda asynchronous
 * invocation": error handling and destinations). So every plain function gets an on-failure
 * queue, an explicit retry/age policy, and alarms: nothing a consumer hands over disappears.
 */
import { Construct } from 'constructs';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config';
import type { FunctionDefinition } from '../../pipeline';
import { notifyingAlarm } from './alarm';
import { PipelineFunction, type AwsLocation } from './pipeline-function';
import { queueSendStatements, SecureQueue } from './secure-queue';

/** Lambda's defaults for asynchronous invocation, written explicitly (PutFunctionEventInvokeConfig). */
export const ASYNC_RETRY_ATTEMPTS = 2;
export const ASYNC_MAX_EVENT_AGE_SECONDS = 21_600;

export interface DownstreamFunctionProps {
  functionName: string;
  definition: FunctionDefinition;
  bundlePath: string;
  environment: Record<string, string>;
  location: AwsLocation;
  invokeTargets: string[];
  stageKeyArn: string;
  alarmTopicArn: string;
  /** Alarm period (s): the definition has no alarms block for plain functions, so the stage's consumer period. */
  alarmPeriodSeconds: number;
}

export class DownstreamFunction extends Construct {
  readonly fn: PipelineFunction;
  readonly onFailureQueue: SecureQueue;
  readonly invokeConfig: LambdaFunctionEventInvokeConfig;

  constructor(scope: Construct, id: string, props: DownstreamFunctionProps) {
    super(scope, id);
    const { location, functionName } = props;
    this.onFailureQueue = new SecureQueue(this, 'on-failure', { name: `${functionName}-on-failure`, kmsKeyArn: props.stageKeyArn, account: location.account });
    this.fn = new PipelineFunction(this, 'function', {
      functionName,
      definition: props.definition,
      bundlePath: props.bundlePath,
      environment: props.environment,
      location,
      invokeTargets: props.invokeTargets,
      // Asynchronous-invocation destinations are written with the function's execution role.
      statements: queueSendStatements([this.onFailureQueue.queue.arn], props.stageKeyArn, location.region),
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
    notifyingAlarm(this, 'on-failure-depth', props.alarmTopicArn, {
      namespace: 'AWS/SQS',
      dimensions: { QueueName: this.onFailureQueue.queueName },
      period: props.alarmPeriodSeconds,
      evaluationPeriods: 1,
      alarmName: `${functionName}-on-failure-depth`,
      alarmDescription: `${this.onFailureQueue.queueName} is not empty: invocations of ${functionName} failed for good; they hold the full request.`,
      metricName: 'ApproximateNumberOfMessagesVisible',
      statistic: 'Maximum',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0,
      // As for the consumers' queues: SQS stops publishing for inactive queues that still hold messages.
      treatMissingData: 'ignore',
    });
  }
}
