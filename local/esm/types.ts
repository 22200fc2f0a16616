/**
 * Public types of the local event source mapping (the contract the local runner consumes).
 * Shapes follow the Lambda developer guide pages "Using AWS Lambda with Amazon Kinesis"
 * (event record, on-failure invocation record) and "Time windows" (tumbling-window event).
 */
import type { CheckpointWriteHealth } from './progress-recorder';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { MappingSettings } from '../../pipeline/definition-schema';
import type { Logger } from '../../telemetry/logger';
import type { CheckpointStore } from './checkpoint-store';

/** What one invocation of the function produced. The invoker enforces the timeout itself. */
export type InvokeOutcome =
  | { ok: true; response: unknown; durationMs: number }
  | { ok: false; errorType: 'Unhandled' | 'TimedOut' | 'Crashed'; errorMessage: string; durationMs: number };

/** Invokes the function synchronously (RequestResponse) with one event. */
export type FunctionInvoker = (event: object) => Promise<InvokeOutcome>;

/** Conditions Lambda writes into `requestContext.condition` (page "kinesis-on-failure-destination"). */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The invocation record Lambda sends to an on-failure destination for a discarded Kinesis batch. */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  responseContext: {
    statusCode: number;
    executedVersion: string;
    /** Present when the last invocation ended in a function error ("Unhandled"). */
    functionError?: 'Unhandled';
  };
  version: '1.0';
  /** ISO-8601 with milliseconds, e.g. `2019-11-14T00:38:06.021Z`. */
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** Where discarded-batch records go (an SQS queue on AWS, an NDJSON file locally). */
export interface OnFailureSink {
  write(record: OnFailureRecord): Promise<void>;
}

/** One record of the event Lambda sends for Kinesis. */
export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: '1.0';
    partitionKey: string;
    sequenceNumber: string;
    /** Base64 of the record's data. */
    data: string;
    /** Seconds since the epoch, with milliseconds as the fraction (e.g. 1545084650.987). */
    approximateArrivalTimestamp: number;
  };
  eventSource: 'aws:kinesis';
  eventVersion: '1.0';
  /** `shardId-000000000006:<sequenceNumber>` */
  eventID: string;
  eventName: 'aws:kinesis:record';
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export interface KinesisEvent {
  Records: KinesisEventRecord[];
}

/** The event with TumblingWindowInSeconds set (page "Time windows", KinesisTimeWindowEvent). */
export interface KinesisTimeWindowEvent extends KinesisEvent {
  /** ISO-8601 without milliseconds, e.g. `2020-12-09T07:04:00Z`. */
  window: { start: string; end: string };
  state: unknown;
  shardId: string;
  eventSourceARN: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/** Source of "now" (ms since epoch). Tests shift it to age records without waiting. */
export interface EsmClock {
  now(): number;
}

/** Timing knobs. Defaults follow AWS where AWS documents a number; tests pass small values. */
export interface EsmTiming {
  /** Wait between GetRecords calls on a caught-up shard (AWS: "once per second"). Default 1000. */
  pollIntervalMs: number;
  /** Wait between GetRecords calls while behind (Kinesis allows 5 GetRecords/s per shard). Default 200. */
  busyPollIntervalMs: number;
  /** ListShards period to find new shards after resharding. Default 5000. */
  shardDiscoveryIntervalMs: number;
  /** First retry delay after a failed invocation; doubles per retry. Default 1000 (AWS publishes none). */
  retryBaseDelayMs: number;
  /** Cap of the retry delay. Default 30000. */
  retryMaxDelayMs: number;
  /** Wait after a failed Kinesis call (throttling, network) before trying again. Default 1000. */
  readErrorBackoffMs: number;
  /** Read-ahead limit per shard (records read but not yet processed). Default 20000. */
  maxBufferedRecordsPerShard: number;
  /** With a checkpoint store: how long checkpoint changes are gathered into one write. Default 200. */
  checkpointWriteDelayMs: number;
}

/** Observable steps, in order, for the runner's view and for tests. */
export type EsmActivity =
  | { type: 'invoke'; shardId: string; lane: number; sequenceNumbers: string[]; final?: boolean; terminatedEarly?: boolean }
  | { type: 'outcome'; shardId: string; lane: number; result: 'success' | 'partial' | 'failure'; reason?: string }
  | { type: 'checkpoint'; shardId: string; sequenceNumber: string }
  | { type: 'bisect'; shardId: string; lane: number; left: string[]; right: string[] }
  | { type: 'retry'; shardId: string; lane: number; sequenceNumbers: string[]; retry: number; delayMs: number }
  | { type: 'discard'; shardId: string; condition: OnFailureCondition; sequenceNumbers: string[] }
  | { type: 'filtered'; shardId: string; sequenceNumber: string }
  | { type: 'shard-started'; shardId: string; iteratorType: string }
  | { type: 'shard-finished'; shardId: string }
  /** A tumbling window open at stop whose state was neither stored nor published (its figures are lost). */
  | { type: 'window-dropped'; shardId: string; window: { start: string; end: string } };

export interface LocalEventSourceMappingOptions {
  kinesis: KinesisClient;
  consumerName: string;
  functionArn: string;
  streamName: string;
  streamArn: string;
  region: string;
  settings: MappingSettings;
  invoke: FunctionInvoker;
  onFailure: OnFailureSink;
  logger?: Logger;
  clock?: EsmClock;
  /** Addition to the agreed contract: timing knobs (see EsmTiming). */
  timing?: Partial<EsmTiming>;
  /** Addition: the execution role ARN put in `invokeIdentityArn` (default `arn:aws:iam::<account>:role/<consumerName>`). */
  invokeIdentityArn?: string;
  /** Addition: observer of every step (invocations, checkpoints, bisects, discards). Must not throw. */
  onActivity?: (activity: EsmActivity) => void;
  /**
   * Addition: where shard checkpoints survive a restart (local/esm/checkpoint-store.ts). Without it
   * progress lives in memory and a new mapping starts from its starting position.
   */
  checkpointStore?: CheckpointStore;
  /**
   * The stream ends with this mapping (the local runner's in-memory stream dies when it stops): at
   * stop, an open tumbling window gets its final invoke, as when a shard ends ("When the shard ends,
   * Lambda considers the window closed"), instead of being dropped with its state. Default false:
   * a stream that outlives the mapping keeps the window open (stored with the checkpoints).
   */
  closeWindowsAtStop?: boolean;
}

export interface ShardStats {
  status: 'waiting-for-parent' | 'reading' | 'finished';
  /** Highest sequence number up to which every record is processed (Lambda's checkpoint). */
  checkpoint: string | undefined;
  /** MillisBehindLatest of the last GetRecords. */
  millisBehindLatest: number;
  /** Records read but not yet processed (buffered or in flight). */
  pendingRecords: number;
}

/** What a mapping counts as it runs (part of its stats). */
export interface EsmCounters {
  recordsRead: number;
  /** Records the function processed successfully (a success or the successful part of a partial response). */
  recordsProcessed: number;
  /** Records skipped by FilterCriteria (they count as processed). */
  recordsFiltered: number;
  /** Records discarded after retries or age, reported to the on-failure destination. */
  recordsDiscarded: number;
  invocations: number;
  /** Invocations that failed (function error, invalid response). */
  invocationErrors: number;
  retries: number;
  bisects: number;
  onFailureRecords: number;
  inFlightBatches: number;
  /** Lambda's IteratorAge: age of the last record of the last processed batch, at completion (ms). */
  iteratorAgeMs: number;
  maxIteratorAgeMs: number;
}

export interface EsmStats extends EsmCounters {
  state: 'created' | 'running' | 'stopping' | 'stopped';
  shards: Record<string, ShardStats>;
  /** Records read but not processed yet. */
  recordsPending: number;
  /** Max MillisBehindLatest over the shards being read. */
  millisBehindLatest: number;
  /** Checkpoint writes to the mapping's checkpoint store (absent without a store). */
  checkpointWrites?: CheckpointWriteHealth;
}
