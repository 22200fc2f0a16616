/**
 * THE pipeline definition: the one source both `main.ts` (cdktf) and the local runner (`npm start`)
 * read, so what runs locally is what deploys. Validated when this module loads: a bad setting fails
 * fast with the field path and the rule it breaks.
 *
 * Per-stage differences (shard count, retention, memory, alarm thresholds) are not here: they live in
 * the stage files that infra applies on top of this definition.
 */
import { definePipeline } from './define-pipeline';

export const pipeline = definePipeline({
  name: 'orders',
  streams: {
    orders: {
      capacity: { mode: 'PROVISIONED', shardCount: 2 },
      retentionHours: 24,
      kmsKey: 'customer-managed',
    },
  },
  consumers: {
    'order-metrics': {
      description: 'Order counts and revenue per 60 s tumbling window, published as CloudWatch business metrics',
      entry: 'consumers/order-metrics/handler.ts',
      stream: 'orders',
      memoryMb: 256,
      timeoutSeconds: 60,
      metricsNamespace: 'Orders/Business',
      environment: { BUSINESS_METRICS_NAMESPACE: 'Orders/Business' },
      // PutMetricData has no idempotency key: a DynamoDB claim per window keeps a final invoke that
      // Lambda retries on a new container from publishing (and CloudWatch from counting) a window twice.
      publishLedger: true,
      mapping: {
        batchSize: 500,
        maximumBatchingWindowInSeconds: 1,
        startingPosition: 'TRIM_HORIZON',
        // Tumbling-window state is per shard: one batch at a time per shard keeps it simple and exact.
        parallelizationFactor: 1,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 5,
        // 12 h: an incident shorter than that recovers by itself; older records go to on-failure with at
        // least 12 h (24 h retention) left to redrive them. Reasoning: docs/deploy.md, record age and retention.
        maximumRecordAgeInSeconds: 43_200,
        tumblingWindowInSeconds: 60,
        reportBatchItemFailures: true,
        onFailureDestination: 'queue',
      },
    },
    'order-review': {
      description: 'Sends large or risky new orders to manual review',
      entry: 'consumers/order-review/handler.ts',
      stream: 'orders',
      memoryMb: 256,
      timeoutSeconds: 30,
      invokes: ['review-intake'],
      environment: { REVIEW_AMOUNT_THRESHOLD_MINOR: '250000' },
      mapping: {
        batchSize: 100,
        maximumBatchingWindowInSeconds: 0,
        startingPosition: 'TRIM_HORIZON',
        parallelizationFactor: 2,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 5,
        maximumRecordAgeInSeconds: 43_200,
        reportBatchItemFailures: true,
        onFailureDestination: 'queue',
      },
      // Only new orders can need review. Filtered by the runtime after deaggregation, not by the mapping:
      // Lambda would drop every KPL aggregate (not JSON) on a data filter, new orders inside included.
      recordFilterPatterns: [{ data: { type: ['order.placed'] } }],
    },
  },
  functions: {
    'review-intake': {
      description: 'Downstream review intake (replace with your case-management integration)',
      entry: 'consumers/review-intake/handler.ts',
      memoryMb: 128,
      timeoutSeconds: 10,
      // One review per order: review-intake claims each request's sourceEventId before accepting it, so a
      // redelivered order (order-review retries, redrives) or a duplicate asynchronous delivery never
      // opens a second review.
      idempotencyTable: true,
    },
  },
});
