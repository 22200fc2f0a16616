/**
 * The consumer runtime: turns typed per-event handlers into a Lambda handler for a Kinesis event
 * source mapping with AWS's exact retry semantics (partial batch response, ordering per partition
 * key, quarantine of bad records, timeout guard, duplicates, tumbling windows). See
 * /work/team/readme-consumer-runtime.md for a walkthrough.
 */
export { createKinesisHandler, type KinesisHandlerOptions, type KinesisBatchHandler } from './create-handler';
export {
  createKinesisWindowHandler,
  WINDOW_STATE_LIMIT_BYTES,
  type KinesisWindowHandlerOptions,
  type KinesisWindowBatchHandler,
  type WindowInfo,
  type WindowState,
} from './create-window-handler';
export { PermanentError, isPermanentError, RuntimeConfigError, RuntimeInvariantError } from './errors';
export {
  InMemoryQuarantineSink,
  buildQuarantineRecord,
  serializeQuarantineRecord,
  withoutPayload,
  type QuarantineSink,
} from './quarantine';
export {
  SqsQuarantineSink,
  SQS_DEFAULT_MAX_MESSAGE_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_MESSAGE_BYTES_LIMIT,
  type SqsQuarantineSinkOptions,
} from './sqs-quarantine-sink';
export { FileQuarantineSink, localQuarantineFile } from './file-quarantine-sink';
export { LruIdempotencyStore, DEFAULT_IDEMPOTENCY_ENTRIES, type IdempotencyStore } from './idempotency';
export {
  quarantineSinkFromEnv,
  DEFAULT_CONCURRENCY,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_TIMEOUT_MARGIN_MS,
  type ConsumerRuntimeOptions,
  type MetricsOptions,
} from './options';
export { RUNTIME_METRIC_NAMES, type InvocationCounts } from './metrics';
export { DEFAULT_MAX_JSON_DEPTH } from './safe-json';
export { compareSequenceNumbers } from './sequence-number';
export type { EventValidator } from './decode';
export type {
  AnyEvent,
  EventHandler,
  EventHandlers,
  PermanentFailureKind,
  QuarantineError,
  QuarantineRecord,
  QuarantinedRecordSource,
  RecordMeta,
  TransientFailureKind,
} from './types';
