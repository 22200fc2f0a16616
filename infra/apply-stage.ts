/**
 * Applies a stage's overrides to the pipeline definition and re-validates the result with the
 * definition's own schema, so per-stage values obey the same AWS limits (a prod memory of 20000 MB
 * fails with `consumers.order-metrics.memoryMb: must be between 128 and 10240`).
 */
import { definePipeline, PipelineDefinitionError, type PipelineDefinition, type PipelineDefinitionInput } from '../pipeline';
import { StageConfigError, type StageConfig } from './stage-config';

type Overrides<T> = { [K in keyof T]?: T[K] | undefined };

/** Copies only the keys whose override value is defined. */
function defined<T extends object>(overrides: Overrides<T>): Partial<T> {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function unknownNames(section: string, overrides: Record<string, unknown>, declared: Record<string, unknown>, pipelineName: string): string[] {
  return Object.keys(overrides)
    .filter((key) => !(key in declared))
    .map((key) => `${section}.${key}: no ${section.replace(/s$/, '')} "${key}" in pipeline "${pipelineName}" (declared: ${Object.keys(declared).join(', ') || 'none'})`);
}

/**
 * A CloudWatch alarm matches dimensions exactly: the alarm's must be the ones the consumer publishes
 * with, which order-metrics reads from BUSINESS_METRICS_DIMENSIONS (a JSON object; absent = none).
 */
function businessDimensionsMismatch(environment: Record<string, string>, alarmDimensions: Record<string, string>): string | undefined {
  const raw = environment[BUSINESS_DIMENSIONS_VARIABLE]?.trim();
  let published: unknown = {};
  if (raw) {
    try {
      published = JSON.parse(raw);
    } catch {
      return `${BUSINESS_DIMENSIONS_VARIABLE} of the consumer is not JSON`;
    }
  }
  const canonical = (d: unknown): string => JSON.stringify(Object.entries(d as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
  return canonical(published) === canonical(alarmDimensions)
    ? undefined
    : `must equal the consumer's ${BUSINESS_DIMENSIONS_VARIABLE} (${raw || '{}'}), or the alarm watches a metric nobody publishes`;
}

/** Environment variable holding the business metrics' dimensions (consumers/order-metrics/config.ts). */
export const BUSINESS_DIMENSIONS_VARIABLE = 'BUSINESS_METRICS_DIMENSIONS';

/** The definition as deployed to `stage`: overrides applied, validated. Throws StageConfigError. */
export function applyStage(definition: PipelineDefinition, stage: StageConfig, source = `stage ${stage.stage}`): PipelineDefinition {
  const problems = [
    ...unknownNames('streams', stage.streams, definition.streams, definition.name),
    ...unknownNames('consumers', stage.consumers, definition.consumers, definition.name),
    ...unknownNames('functions', stage.functions, definition.functions, definition.name),
  ];
  if (stage.businessAlarm) {
    const consumer = definition.consumers[stage.businessAlarm.consumer];
    if (!consumer) problems.push(`businessAlarm.consumer: no consumer "${stage.businessAlarm.consumer}" in pipeline "${definition.name}"`);
    else if (!consumer.metricsNamespace) problems.push(`businessAlarm.consumer: consumer "${stage.businessAlarm.consumer}" declares no metricsNamespace`);
    else {
      const environment = { ...consumer.environment, ...stage.consumers[stage.businessAlarm.consumer]?.environment };
      const mismatch = businessDimensionsMismatch(environment, stage.businessAlarm.dimensions);
      if (mismatch) problems.push(`businessAlarm.dimensions: ${mismatch}`);
    }
  }
  if (problems.length > 0) throw new StageConfigError(source, problems);

  const streams = Object.fromEntries(
    Object.entries(definition.streams).map(([key, stream]) => {
      const o = stage.streams[key];
      if (!o) return [key, stream];
      if (o.shardCount !== undefined && o.capacity !== undefined) {
        throw new StageConfigError(source, [`streams.${key}: set either shardCount or capacity, not both`]);
      }
      const capacity = o.capacity ?? (o.shardCount !== undefined ? { mode: 'PROVISIONED' as const, shardCount: o.shardCount } : stream.capacity);
      return [
        key,
        {
          ...stream,
          ...defined({ retentionHours: o.retentionHours, kmsKey: o.kmsKey, shardLevelMetrics: o.shardLevelMetrics }),
          capacity,
          alarms: { ...stream.alarms, ...defined(o.alarms ?? {}) },
        },
      ];
    }),
  );
  const consumers = Object.fromEntries(
    Object.entries(definition.consumers).map(([key, consumer]) => {
      const o = stage.consumers[key];
      if (!o) return [key, consumer];
      const { alarms, environment, ...fields } = o;
      return [
        key,
        {
          ...consumer,
          ...defined(fields),
          environment: { ...consumer.environment, ...environment },
          alarms: { ...consumer.alarms, ...defined(alarms ?? {}) },
        },
      ];
    }),
  );
  const functions = Object.fromEntries(
    Object.entries(definition.functions).map(([key, fn]) => {
      const o = stage.functions[key];
      if (!o) return [key, fn];
      const { environment, ...fields } = o;
      return [key, { ...fn, ...defined(fields), environment: { ...fn.environment, ...environment } }];
    }),
  );

  try {
    return definePipeline({ ...definition, streams, consumers, functions } as PipelineDefinitionInput);
  } catch (error) {
    if (error instanceof PipelineDefinitionError) throw new StageConfigError(source, error.problems);
    throw error;
  }
}
