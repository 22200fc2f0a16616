export {
  KinesisProducer,
  type AggregationOptions,
  type KinesisProducerOptions,
  type ProducerStats,
  type PutResult,
  type RawRecord,
  type ValidationResult,
} from './kinesis-producer';
export * from './errors';
export {
  MAX_PARTITION_KEY_CHARS,
  MAX_RECORDS_PER_REQUEST,
  MAX_REQUEST_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  MAX_LARGE_RECORD_BYTES,
} from './limits';
export type { RetryOptions } from './retry-policy';
