export { LocalEventSourceMapping } from './local-event-source-mapping';
export { FilterPatternError, compileFilters, type RecordFilter } from './filter-pattern';
export { DEFAULT_TIMING } from './mapping-context';
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
