/**
 * Stage-aware names of the deployed resources an operator works on. One rule for every resource
 * (`<pipeline>-<stage>-<key>`, pipeline/function-environment.ts `deployedName`), plus the per-consumer
 * queue suffixes the deployers use (`-on-failure`, `-quarantine`).
 */
import { deployedName, type PipelineDefinition } from '../pipeline';

export interface ConsumerResourceNames {
  /** Definition key, e.g. `order-metrics`. */
  readonly consumer: string;
  readonly functionName: string;
  /** Deployed stream name the consumer reads. */
  readonly streamName: string;
  readonly onFailureQueueName: string;
  readonly quarantineQueueName: string;
}

export function consumerResourceNames(definition: PipelineDefinition, stage: string, consumer: string): ConsumerResourceNames {
  const def = definition.consumers[consumer];
  if (!def) {
    throw new Error(`unknown consumer "${consumer}"; consumers of pipeline "${definition.name}": ${Object.keys(definition.consumers).join(', ')}`);
  }
  const functionName = deployedName(definition, stage, consumer);
  return {
    consumer,
    functionName,
    streamName: deployedName(definition, stage, def.stream),
    onFailureQueueName: `${functionName}-on-failure`,
    quarantineQueueName: `${functionName}-quarantine`,
  };
}

/** Deployed name of a stream of the definition. */
export function streamResourceName(definition: PipelineDefinition, stage: string, stream: string): string {
  if (!(stream in definition.streams)) {
    throw new Error(`unknown stream "${stream}"; streams of pipeline "${definition.name}": ${Object.keys(definition.streams).join(', ')}`);
  }
  return deployedName(definition, stage, stream);
}

/** Prefix every alarm of a stage starts with (DescribeAlarms AlarmNamePrefix). */
export function alarmPrefix(definition: PipelineDefinition, stage: string): string {
  return `${definition.name}-${stage}-`;
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` -> `<name>`. */
export function streamNameFromArn(arn: string): string {
  const match = /^arn:aws[a-z-]*:kinesis:[^:]*:[^:]*:stream\/(.+)$/.exec(arn);
  if (!match) throw new Error(`not a Kinesis stream ARN: "${arn}"`);
  return match[1]!;
}
