/** `ops status` against AWS: mapping (Lambda), metrics and alarms (CloudWatch), queue depths (SQS). */
import { consumerIteratorAgeThresholdMs } from '../../infra/thresholds';
import { alarmsInAlarm, type FiringAlarm } from '../aws/alarms';
import { fetchConsumerMetrics, lastHour } from '../aws/consumer-metrics';
import { findStreamMappings, getMapping } from '../aws/event-source-mappings';
import { queueDepth } from '../aws/queue-depth';
import { resolveConsumer, type OpsContext } from '../context';
import { alarmPrefix } from '../naming';
import type { ConsumerStatus } from './consumer-status';

export interface AwsStatus {
  readonly rows: ConsumerStatus[];
  /** Every alarm of the stage in ALARM (consumer ones and the others, e.g. stream alarms). */
  readonly alarms: FiringAlarm[];
}

export async function collectAwsStatus(ctx: OpsContext, consumers: readonly string[], now = new Date()): Promise<AwsStatus> {
  const targets = consumers.map((name) => resolveConsumer(ctx, name));
  const [metrics, alarms] = await Promise.all([
    fetchConsumerMetrics(ctx.clients.cloudwatch, targets.map((t) => t.functionName), lastHour(now)),
    alarmsInAlarm(ctx.clients.cloudwatch, alarmPrefix(ctx.definition, ctx.stage)),
  ]);
  const rows = await Promise.all(
    targets.map(async (t): Promise<ConsumerStatus> => {
      const mappings = await findStreamMappings(ctx.clients.lambda, t.functionName, t.streamName);
      const mapping = mappings[0]?.UUID !== undefined ? await getMapping(ctx.clients.lambda, mappings[0].UUID) : undefined;
      const [onFailureDepth, quarantineDepth] = await Promise.all([
        t.definition.mapping.onFailureDestination === 'queue' ? queueDepth(ctx.clients.sqs, t.onFailureQueueName) : Promise.resolve(undefined),
        queueDepth(ctx.clients.sqs, t.quarantineQueueName),
      ]);
      const m = metrics.get(t.functionName);
      const stream = ctx.definition.streams[t.definition.stream]!;
      return {
        consumer: t.name,
        functionName: t.functionName,
        mappingState: mapping?.State,
        lastResult: mapping?.LastProcessingResult,
        iteratorAgeMs: m?.iteratorAgeMs,
        iteratorAgeThresholdMs: consumerIteratorAgeThresholdMs(t.definition, stream),
        errors: m?.errors,
        throttles: m?.throttles,
        onFailureDepth,
        quarantineDepth,
        alarms: alarms.filter((a) => a.name.startsWith(`${t.functionName}-`)).map((a) => a.name),
      };
    }),
  );
  return { rows, alarms };
}
