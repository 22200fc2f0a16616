/** KinesisProducer settings, their defaults and their bounds. */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { AwsCredentials } from '../kinesis/client';
import type { ContractError } from '../schemas/errors';
import type { OrderEvent } from '../schemas/index';
import type { Logger } from '../telemetry/logger';
import type { MetricPublisher } from '../telemetry/metric-publisher';
import { DEFAULT_MAX_RECORD_BYTES, MAX_LARGE_RECORD_BYTES, MAX_RECORDS_PER_REQUEST, MAX_REQUEST_BYTES, MIB } from './limits';
import { resolveRetryOptions, type ResolvedRetryOptions, type RetryOptions } from './retry-policy';

/** Outcome of validating one input; the schema registry's `safeParse` has this shape. */
export type ValidationResult<E> = { ok: true; event: E } | { ok: false; error: ContractError };

export interface AggregationOptions {
  /** Largest aggregate in bytes, data + partition key (default 51 200, the KPL's AggregationMaxSize). */
  maxBytes?: number;
}

export interface KinesisProducerOptions<E = OrderEvent> {
  /**
   * The stream's name (1-128 of `[a-zA-Z0-9_.-]`) or ARN (`arn:aws...:kinesis:<region>:<account>:stream/<name>`,
   * sent as StreamARN); anything else makes the constructor throw a RangeError.
   */
  streamName: string;
  /**
   * A ready client (you own it; `close()` leaves it open); otherwise one is built from the options below.
   * Build it with `maxAttempts: 1`: the producer retries failed entries itself, SDK retries resend whole batches.
   */
  client?: KinesisClient;
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentials;
  /** HTTP/1.1 handler (default: on for `http://` endpoints, i.e. emulators). */
  http1?: boolean;
  /** Per-request timeout of the client built here (default 30 000 ms); a timed-out request is retried. */
  requestTimeoutMs?: number;
  /** Validation of `put` input (default: the schema registry). */
  validate?: (input: unknown) => ValidationResult<E>;
  /** Partition key of a validated event (default: `data.orderId`). */
  partitionKey?: (event: E) => string;
  /** Bytes written for a validated event (default: its JSON). */
  serialize?: (event: E) => Uint8Array;
  /** Longest time a record waits for its batch to fill (default 20 ms). */
  lingerMs?: number;
  /** Records per PutRecords (default and maximum 500). */
  maxBatchRecords?: number;
  /** Bytes per PutRecords, data + keys (default 5 MiB). */
  maxBatchBytes?: number;
  /** Data + partition key per Kinesis record (default 1 MiB; up to 10 MiB for streams with a raised MaxRecordSizeInKiB). */
  maxRecordBytes?: number;
  /** Concurrent PutRecords requests (default 8). */
  maxInFlightRequests?: number;
  /** Records held (queued, in flight or awaiting retry) before `put` waits (default 20 000). */
  maxBufferedRecords?: number;
  /** Bytes held before `put` waits (default 64 MiB). */
  maxBufferedBytes?: number;
  /** Longest `put` waits for buffer room before rejecting with BufferFullError (default 30 000 ms). */
  maxPutWaitMs?: number;
  retry?: RetryOptions;
  /** Per-key ordering: never send a key's record while an earlier one of that key is unacknowledged. */
  ordered?: boolean;
  /** KPL aggregation of records bound for the same shard (default off). */
  aggregation?: boolean | AggregationOptions;
  /** CloudWatch metrics (off when absent). The producer flushes it on close but does not close it. */
  metrics?: MetricPublisher;
  logger?: Logger;
  /** Random source for backoff jitter (tests pass a seeded one). */
  random?: () => number;
}

export interface ResolvedSettings {
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  maxRecordBytes: number;
  maxInFlight: number;
  maxBufferedRecords: number;
  maxBufferedBytes: number;
  maxPutWaitMs: number;
  retry: ResolvedRetryOptions;
  ordered: boolean;
  aggregate: boolean;
  maxAggregateBytes: number;
}

/** Defaults applied, every number checked (a RangeError names the setting). */
export function resolveSettings(options: KinesisProducerOptions<unknown>): ResolvedSettings {
  const maxRecordBytes = inRange('maxRecordBytes', options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, 1, MAX_LARGE_RECORD_BYTES);
  const aggregation = typeof options.aggregation === 'object' ? options.aggregation : {};
  return {
    lingerMs: nonNegative('lingerMs', options.lingerMs ?? 20),
    maxBatchRecords: inRange('maxBatchRecords', options.maxBatchRecords ?? MAX_RECORDS_PER_REQUEST, 1, MAX_RECORDS_PER_REQUEST),
    maxBatchBytes: inRange('maxBatchBytes', options.maxBatchBytes ?? MAX_REQUEST_BYTES, 1, 10 * MIB),
    maxRecordBytes,
    maxInFlight: inRange('maxInFlightRequests', options.maxInFlightRequests ?? 8, 1, 1000),
    maxBufferedRecords: inRange('maxBufferedRecords', options.maxBufferedRecords ?? 20_000, 1, Number.MAX_SAFE_INTEGER),
    maxBufferedBytes: inRange('maxBufferedBytes', options.maxBufferedBytes ?? 64 * MIB, 1, Number.MAX_SAFE_INTEGER),
    maxPutWaitMs: nonNegative('maxPutWaitMs', options.maxPutWaitMs ?? 30_000),
    retry: resolveRetryOptions(options.retry),
    ordered: options.ordered ?? false,
    aggregate: options.aggregation !== undefined && options.aggregation !== false,
    maxAggregateBytes: Math.min(inRange('aggregation.maxBytes', aggregation.maxBytes ?? 51_200, 64, MAX_LARGE_RECORD_BYTES), maxRecordBytes),
  };
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}
