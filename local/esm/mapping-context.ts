/** What every part of one mapping shares: options, resolved timing, counters, the activity feed. */
import type { MappingSettings } from '../../pipeline/definition-schema';
import type { Logger } from '../../telemetry/logger';
import type { RecordFilter } from '../../kinesis/filter-pattern';
import type { EsmActivity, EsmClock, EsmCounters, EsmTiming, LocalEventSourceMappingOptions } from './types';

export const DEFAULT_TIMING: EsmTiming = {
  pollIntervalMs: 1000,
  busyPollIntervalMs: 200,
  shardDiscoveryIntervalMs: 5000,
  retryBaseDelayMs: 1000,
  retryMaxDelayMs: 30_000,
  readErrorBackoffMs: 1000,
  maxBufferedRecordsPerShard: 20_000,
  checkpointWriteDelayMs: 200,
};

export function emptyCounters(): EsmCounters {
  return {
    recordsRead: 0,
    recordsProcessed: 0,
    recordsFiltered: 0,
    recordsDiscarded: 0,
    invocations: 0,
    invocationErrors: 0,
    retries: 0,
    bisects: 0,
    onFailureRecords: 0,
    inFlightBatches: 0,
    iteratorAgeMs: 0,
    maxIteratorAgeMs: 0,
  };
}

export interface MappingContext {
  readonly options: LocalEventSourceMappingOptions;
  readonly settings: MappingSettings;
  readonly clock: EsmClock;
  readonly timing: EsmTiming;
  readonly logger: Logger;
  readonly filter: RecordFilter | undefined;
  readonly invokeIdentityArn: string;
  readonly counters: EsmCounters;
  /** Tumbling window length in seconds, or 0 (none). */
  readonly tumblingWindowInSeconds: number;
  emit(activity: EsmActivity): void;
  /** A shard's checkpoint, window state or finished flag changed (persisted when the mapping has a checkpoint store). */
  progressChanged(): void;
}
