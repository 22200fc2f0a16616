/**
 * AWS limits and defaults the pipeline definition enforces, each with the page it comes from.
 * Kept in one place so the definition schema, the local event source mapping and the infra
 * read the same numbers.
 */

/** Lambda API reference, CreateEventSourceMapping, and "Lambda with Kinesis" parameters (services-kinesis-parameters). */
export const MAPPING_LIMITS = {
  batchSize: { min: 1, max: 10_000, default: 100 },
  maximumBatchingWindowInSeconds: { min: 0, max: 300, default: 0 },
  parallelizationFactor: { min: 1, max: 10, default: 1 },
  /** -1 = retry until the record expires (the AWS default). */
  maximumRetryAttempts: { min: -1, max: 10_000, default: -1 },
  /** -1 = infinite (the AWS default); otherwise 60..604800. */
  maximumRecordAgeInSeconds: { infinite: -1, min: 60, max: 604_800, default: -1 },
  tumblingWindowInSeconds: { min: 0, max: 900 },
  /** Lambda quota: 5 filters per event source mapping (FilterCriteria), ORed together. */
  maxFilters: 5,
  /** Lambda API reference, Filter.Pattern: maximum length 4096. */
  maxFilterPatternLength: 4096,
} as const;

/** Kinesis API reference, CreateStream / IncreaseStreamRetentionPeriod: 24..8760 hours. */
export const STREAM_LIMITS = {
  retentionHours: { min: 24, max: 8760, default: 24 },
  /** Kinesis API reference, CreateStream StreamName: 1-128 chars of [a-zA-Z0-9_.-]. */
  streamName: /^[a-zA-Z0-9_.-]{1,128}$/,
} as const;

/** Lambda API reference, CreateFunction: MemorySize 128..10240 MB, Timeout 1..900 s. */
export const FUNCTION_LIMITS = {
  memoryMb: { min: 128, max: 10_240, default: 256 },
  timeoutSeconds: { min: 1, max: 900, default: 60 },
} as const;

/** SQS developer guide, "Amazon SQS message quotas": message retention up to 1,209,600 s (14 days). */
export const SQS_LIMITS = {
  maxRetentionSeconds: 1_209_600,
} as const;
