export { KinesisProducer, type ProducerStats, type RawRecord } from './kinesis-producer';
export type { AggregationOptions, KinesisProducerOptions, ValidationResult } from './options';
export type { PutResult } from './records';
export * from './errors';
export {
  DEFAULT_MAX_RECORD_BYTES,
  MAX_LARGE_RECORD_BYTES,
  MAX_PARTITION_KEY_CHARS,
  MAX_RECORDS_PER_REQUEST,
  MAX_REQUEST_BYTES,
} from './limits';
export type { RetryOptions } from './retry-policy';
