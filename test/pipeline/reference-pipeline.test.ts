import { describe, expect, it } from 'vitest';
import {
  FUNCTION_LIMITS,
  IDEMPOTENCY_RETENTION_VARIABLE,
  IDEMPOTENCY_TABLE_VARIABLE,
  MAPPING_LIMITS,
  PUBLISH_LEDGER_TABLE_VARIABLE,
  STREAM_LIMITS,
  definePipeline,
  functionEnvironment,
  pipeline,
  type PipelineDefinitionInput,
} from '../../pipeline/index';

describe('the reference pipeline definition', () => {
  it('loads: one stream "orders" and the two reference consumers', () => {
    expect(pipeline.name).toBe('orders');
    expect(Object.keys(pipeline.streams)).toEqual(['orders']);
    expect(Object.keys(pipeline.consumers).sort()).toEqual(['order-metrics', 'order-review']);
    for (const consumer of Object.values(pipeline.consumers)) expect(consumer.stream).toBe('orders');
  });

  it('is a fixed point of validation (what runs locally is exactly what deploys)', () => {
    expect(definePipeline(structuredClone(pipeline))).toEqual(pipeline);
  });

  it.each(Object.keys(pipeline.consumers))('%s has production-grade failure handling', (name) => {
    const { mapping } = pipeline.consumers[name]!;
    // A poison record is isolated by bisecting, retried a bounded number of times, then sent to the
    // on-failure queue: it never blocks its shard until it expires (the AWS defaults would).
    expect(mapping.bisectBatchOnFunctionError).toBe(true);
    expect(mapping.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(mapping.maximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(mapping.maximumRecordAgeInSeconds).toBeGreaterThanOrEqual(MAPPING_LIMITS.maximumRecordAgeInSeconds.min);
    // Records must be given up well before the stream's retention deletes them.
    expect(mapping.maximumRecordAgeInSeconds).toBeLessThan(pipeline.streams.orders!.retentionHours * 3600);
    expect(mapping.onFailureDestination).toBe('queue');
    expect(mapping.reportBatchItemFailures).toBe(true);
  });

  it('order-metrics aggregates in a tumbling window; order-review only receives new orders', () => {
    expect(pipeline.consumers['order-metrics']!.mapping.tumblingWindowInSeconds).toBeGreaterThan(0);
    // Filtered by the runtime after KPL deaggregation: a mapping-level data filter would drop aggregates.
    expect(pipeline.consumers['order-review']!.recordFilterPatterns).toEqual([{ data: { type: ['order.placed'] } }]);
    expect(pipeline.consumers['order-review']!.mapping.filterPatterns).toEqual([]);
    expect(pipeline.consumers['order-review']!.invokes).toEqual(['review-intake']);
    expect(Object.keys(pipeline.functions)).toContain('review-intake');
  });

  it('order-metrics declares a durable publish ledger (PutMetricData has no idempotency key); order-review does not', () => {
    expect(pipeline.consumers['order-metrics']!.publishLedger).toBe(true);
    expect(pipeline.consumers['order-review']!.publishLedger).toBe(false);
  });

  it('the ledger table reaches the environment of a consumer declaring it, only when the deployment resolves one', () => {
    const resolved = { functionName: (n: string) => `orders-dev-${n}`, publishLedgerTable: (c: string) => `orders-dev-${c}-publish-ledger` };
    expect(functionEnvironment(pipeline, 'order-metrics', resolved)[PUBLISH_LEDGER_TABLE_VARIABLE]).toBe('orders-dev-order-metrics-publish-ledger');
    expect(functionEnvironment(pipeline, 'order-review', resolved)).not.toHaveProperty(PUBLISH_LEDGER_TABLE_VARIABLE);
    expect(functionEnvironment(pipeline, 'review-intake', resolved)).not.toHaveProperty(PUBLISH_LEDGER_TABLE_VARIABLE);
    // Locally (no table resolved) the consumer keeps its marker-file ledger under LOCAL_DATA_DIR.
    const local = functionEnvironment(pipeline, 'order-metrics', { functionName: (n) => n, extra: { LOCAL_DATA_DIR: '/tmp/data' } });
    expect(local).not.toHaveProperty(PUBLISH_LEDGER_TABLE_VARIABLE);
  });

  it('a function declaring idempotencyTable gets its table and a retention past the longest stream retention; consumers keep their own stream\'s', () => {
    // Built here, not read from pipeline.ts: two streams, so "longest" and "the consumer's own" differ.
    const definition = definePipeline({
      name: 'shop',
      streams: { orders: { capacity: { mode: 'ON_DEMAND' }, retentionHours: 48 }, returns: { capacity: { mode: 'ON_DEMAND' }, retentionHours: 168 } },
      consumers: {
        reader: {
          entry: 'consumers/reader/handler.ts',
          stream: 'orders',
          idempotencyTable: true,
          invokes: ['intake', 'plain'],
          mapping: { startingPosition: 'TRIM_HORIZON' },
        },
      },
      functions: { intake: { entry: 'consumers/intake/handler.ts', idempotencyTable: true }, plain: { entry: 'consumers/plain/handler.ts' } },
    });
    const resolved = { functionName: (n: string) => `shop-dev-${n}`, idempotencyTable: (n: string) => `shop-dev-${n}-idempotency` };
    const intake = functionEnvironment(definition, 'intake', resolved);
    expect(intake[IDEMPOTENCY_TABLE_VARIABLE]).toBe('shop-dev-intake-idempotency');
    // 168 h (returns, the longest) + 1 day: a redriven record of any stream still finds its claim.
    expect(intake[IDEMPOTENCY_RETENTION_VARIABLE]).toBe(String(168 * 3600 + 86_400));
    // A plain function has no stream of its own: no consumer-only variables.
    expect(intake).not.toHaveProperty('POISON_RECORD_ATTEMPTS');
    const reader = functionEnvironment(definition, 'reader', resolved);
    expect(reader[IDEMPOTENCY_TABLE_VARIABLE]).toBe('shop-dev-reader-idempotency');
    expect(reader[IDEMPOTENCY_RETENTION_VARIABLE]).toBe(String(48 * 3600 + 86_400));
    for (const env of [functionEnvironment(definition, 'plain', resolved), functionEnvironment(definition, 'intake', { functionName: resolved.functionName })]) {
      expect(env).not.toHaveProperty(IDEMPOTENCY_TABLE_VARIABLE);
      expect(env).not.toHaveProperty(IDEMPOTENCY_RETENTION_VARIABLE);
    }
  });

  it('stream is encrypted and functions have handler entries', () => {
    expect(pipeline.streams.orders!.kmsKey).toBe('customer-managed');
    for (const fn of [...Object.values(pipeline.consumers), ...Object.values(pipeline.functions)]) {
      expect(fn.entry).toMatch(/^consumers\/[a-z-]+\/handler\.ts$/);
    }
  });
});

describe('defaults equal the AWS defaults', () => {
  const minimal: PipelineDefinitionInput = {
    name: 'minimal',
    streams: { events: { capacity: { mode: 'ON_DEMAND' } } },
    consumers: { reader: { entry: 'consumers/reader/handler.ts', stream: 'events', mapping: { startingPosition: 'LATEST' } } },
  };

  it('event source mapping (Lambda "services-kinesis-parameters" table)', () => {
    const { mapping } = definePipeline(minimal).consumers['reader']!;
    expect(mapping).toEqual({
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      startingPosition: 'LATEST',
      parallelizationFactor: 1,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
      filterPatterns: [],
      reportBatchItemFailures: false,
      onFailureDestination: 'none',
    });
    expect(mapping.tumblingWindowInSeconds).toBeUndefined();
  });

  it('the limits table carries the same defaults', () => {
    expect(MAPPING_LIMITS.batchSize.default).toBe(100);
    expect(MAPPING_LIMITS.maximumBatchingWindowInSeconds.default).toBe(0);
    expect(MAPPING_LIMITS.parallelizationFactor.default).toBe(1);
    expect(MAPPING_LIMITS.maximumRetryAttempts.default).toBe(-1);
    expect(MAPPING_LIMITS.maximumRecordAgeInSeconds.default).toBe(-1);
  });

  it('stream retention defaults to 24 hours (Kinesis CreateStream)', () => {
    const stream = definePipeline(minimal).streams['events']!;
    expect(stream.retentionHours).toBe(24);
    expect(STREAM_LIMITS.retentionHours.default).toBe(24);
  });

  it('function memory and timeout defaults are the project choice (256 MB / 60 s), not Lambda 128 MB / 3 s', () => {
    const reader = definePipeline(minimal).consumers['reader']!;
    expect(reader.memoryMb).toBe(FUNCTION_LIMITS.memoryMb.default);
    expect(reader.timeoutSeconds).toBe(FUNCTION_LIMITS.timeoutSeconds.default);
    expect([reader.memoryMb, reader.timeoutSeconds]).toEqual([256, 60]);
  });

  it('no enhanced fan-out, no reserved concurrency, no invocations, no publish ledger unless declared', () => {
    const reader = definePipeline(minimal).consumers['reader']!;
    expect(reader.publishLedger).toBe(false);
    expect(reader.enhancedFanOut).toBe(false);
    expect(reader.reservedConcurrency).toBeUndefined();
    expect(reader.invokes).toEqual([]);
  });
});
