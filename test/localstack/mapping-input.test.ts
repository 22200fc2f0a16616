import { describe, expect, it } from 'vitest';
import { createMappingInput } from '../../localstack/mapping-input';
import { pipeline } from '../../pipeline';

describe('createMappingInput (CreateEventSourceMapping from the pipeline definition)', () => {
  it('passes every setting of order-review explicitly, patterns as JSON strings, on-failure queue as destination', () => {
    // The shipped order-review filters in its runtime; a mapping-level filter is given here to check its wire form.
    const settings = { ...pipeline.consumers['order-review']!.mapping, filterPatterns: [{ data: { type: ['order.placed'] } }] };
    const input = createMappingInput(settings, {
      functionName: 'orders-local-order-review',
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders-local-orders',
      onFailureQueueArn: 'arn:aws:sqs:us-east-1:000000000000:q',
    });
    expect(input).toEqual({
      FunctionName: 'orders-local-order-review',
      EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders-local-orders',
      Enabled: true,
      BatchSize: settings.batchSize,
      MaximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
      StartingPosition: settings.startingPosition,
      ParallelizationFactor: settings.parallelizationFactor,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: settings.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
      FilterCriteria: { Filters: [{ Pattern: '{"data":{"type":["order.placed"]}}' }] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } },
    });
  });

  it('sends no FilterCriteria when the mapping has no filter patterns', () => {
    const settings = { ...pipeline.consumers['order-review']!.mapping, filterPatterns: [] };
    const input = createMappingInput(settings, { functionName: 'f', streamArn: 's', onFailureQueueArn: 'q' });
    expect(input).not.toHaveProperty('FilterCriteria');
  });

  it('carries the tumbling window and the AT_TIMESTAMP start as a Date', () => {
    const settings = {
      ...pipeline.consumers['order-metrics']!.mapping,
      startingPosition: 'AT_TIMESTAMP' as const,
      startingPositionTimestamp: '2026-01-01T00:00:00Z',
    };
    const input = createMappingInput(settings, { functionName: 'f', streamArn: 's', onFailureQueueArn: 'q' });
    expect(input.TumblingWindowInSeconds).toBe(60);
    expect(input.StartingPositionTimestamp).toEqual(new Date('2026-01-01T00:00:00Z'));
  });

  it('refuses an on-failure destination without a queue rather than deploying a mapping that drops batches', () => {
    const settings = pipeline.consumers['order-review']!.mapping;
    expect(() => createMappingInput(settings, { functionName: 'f', streamArn: 's' })).toThrow(/on-failure queue/);
  });
});
