/**
 * The pipeline definition's mapping settings as a Lambda CreateEventSourceMapping request. Every
 * setting is passed explicitly (AWS's defaults are in the definition already), so a LocalStack or AWS
 * mapping made by the SDK carries the same values the cdktf stack declares.
 */
import type { CreateEventSourceMappingCommandInput } from '@aws-sdk/client-lambda';
import type { MappingSettings } from '../pipeline';

export interface MappingTarget {
  functionName: string;
  streamArn: string;
  /** ARN of the on-failure SQS queue; required when the settings ask for an on-failure destination. */
  onFailureQueueArn?: string;
}

export function createMappingInput(settings: MappingSettings, target: MappingTarget): CreateEventSourceMappingCommandInput {
  const input: CreateEventSourceMappingCommandInput = {
    FunctionName: target.functionName,
    EventSourceArn: target.streamArn,
    Enabled: true,
    BatchSize: settings.batchSize,
    MaximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
    StartingPosition: settings.startingPosition,
    ParallelizationFactor: settings.parallelizationFactor,
    BisectBatchOnFunctionError: settings.bisectBatchOnFunctionError,
    MaximumRetryAttempts: settings.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
  };
  if (settings.startingPositionTimestamp !== undefined) {
    input.StartingPositionTimestamp = new Date(settings.startingPositionTimestamp);
  }
  if (settings.tumblingWindowInSeconds !== undefined) input.TumblingWindowInSeconds = settings.tumblingWindowInSeconds;
  if (settings.filterPatterns.length > 0) {
    // Lambda takes each pattern as a JSON string (Filter.Pattern, at most 4096 characters).
    input.FilterCriteria = { Filters: settings.filterPatterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) };
  }
  if (settings.reportBatchItemFailures) input.FunctionResponseTypes = ['ReportBatchItemFailures'];
  if (settings.onFailureDestination === 'queue') {
    if (target.onFailureQueueArn === undefined) {
      throw new Error(`mapping of ${target.functionName} wants an on-failure queue but none was given`);
    }
    input.DestinationConfig = { OnFailure: { Destination: target.onFailureQueueArn } };
  }
  return input;
}
