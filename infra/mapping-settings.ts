/**
 * The event source mapping settings of a consumer, in the AWS provider's terms
 * (`aws_lambda_event_source_mapping`; Lambda API reference, CreateEventSourceMapping). Every
 * setting of the definition is written explicitly, defaults included, so the deployed mapping
 * never depends on a provider or service default changing.
 */
import type { MappingSettings } from '../pipeline';

export interface EventSourceMappingSettings {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  startingPosition: string;
  /** RFC 3339 (the provider's format); Lambda stores it as Unix seconds. */
  startingPositionTimestamp?: string;
  parallelizationFactor: number;
  bisectBatchOnFunctionError: boolean;
  maximumRetryAttempts: number;
  maximumRecordAgeInSeconds: number;
  tumblingWindowInSeconds?: number;
  functionResponseTypes: string[];
  /** Each pattern serialised as a JSON string (Lambda's FilterCriteria.Filters[].Pattern). */
  filterCriteria?: { filter: { pattern: string }[] };
}

export function eventSourceMappingSettings(mapping: MappingSettings): EventSourceMappingSettings {
  const settings: EventSourceMappingSettings = {
    batchSize: mapping.batchSize,
    maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
    startingPosition: mapping.startingPosition,
    parallelizationFactor: mapping.parallelizationFactor,
    bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
    maximumRetryAttempts: mapping.maximumRetryAttempts,
    maximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds,
    // Without ReportBatchItemFailures Lambda ignores a partial batch response ("services-kinesis-batchfailurereporting").
    functionResponseTypes: mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
  };
  if (mapping.startingPositionTimestamp !== undefined) {
    settings.startingPositionTimestamp = new Date(mapping.startingPositionTimestamp).toISOString();
  }
  // 0 and absent both mean "no tumbling window"; omit rather than send 0.
  if (mapping.tumblingWindowInSeconds) settings.tumblingWindowInSeconds = mapping.tumblingWindowInSeconds;
  if (mapping.filterPatterns.length > 0) {
    settings.filterCriteria = { filter: mapping.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) };
  }
  return settings;
}
