export { LocalEventSourceMapping } from './local-event-source-mapping';
export { FilterPatternError, compileFilters, type RecordFilter } from '../../kinesis/filter-pattern';
export { DEFAULT_TIMING } from './mapping-context';
export {
  CheckpointStoreError,
  MemoryCheckpointStore,
  type CheckpointStore,
  type MappingIdentity,
  type MappingProgress,
  type StoredShardProgress,
  type StoredWindow,
} from './checkpoint-store';
export { FileCheckpointStore, type FileCheckpointStoreOptions } from './file-checkpoint-store';
export type {
  EsmActivity,
  EsmClock,
  EsmCounters,
  EsmStats,
  EsmTiming,
  FunctionInvoker,
  InvokeOutcome,
  KinesisEvent,
  KinesisEventRecord,
  KinesisTimeWindowEvent,
  LocalEventSourceMappingOptions,
  OnFailureCondition,
  OnFailureRecord,
  OnFailureSink,
  ShardStats,
} from './types';
