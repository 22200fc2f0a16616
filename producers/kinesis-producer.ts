/**
 * KinesisProducer: validated events in, PutRecords batches out, nothing lost.
 *
 * Life of a record: `put` validates (registry), derives the partition key, serialises, checks the
 * Kinesis limits, then waits for buffer room (backpressure). Admitted records are packed into
 * Kinesis records (one each, or KPL aggregates per shard), batched into PutRecords requests
 * (500 records / 5 MiB / linger), sent with bounded concurrency, and only the failed entries of a
 * response are retried (PutRecords is not atomic: Kinesis API reference, PutRecords). Every `put`
 * promise settles: resolved with shard and sequence number, or rejected with a typed error.
 */
import {
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { AggregateSizer, encodeAggregate, KPL_OVERHEAD_BYTES, varintSize } from '../kinesis/kpl';
import { createKinesisClient, type AwsCredentials } from '../kinesis/client';
import { partitionKeyToHashKey } from '../kinesis/hash-key';
import { orderPartitionKey, registry, type OrderEvent } from '../schemas/index';
import type { ContractError } from '../schemas/errors';
import { createLogger, type Logger } from '../telemetry/logger';
import type { MetricPublisher, StatisticSet } from '../telemetry/metric-publisher';
import {
  BufferFullError,
  DeliveryError,
  EventRejectedError,
  PartitionKeyError,
  ProducerClosedError,
  type DeliveryFailureReason,
} from './errors';
import { Fifo } from './fifo';
import {
  checkPartitionKey,
  checkRecordSize,
  DEFAULT_MAX_RECORD_BYTES,
  MAX_LARGE_RECORD_BYTES,
  MAX_RECORDS_PER_REQUEST,
  MAX_REQUEST_BYTES,
  MIB,
  recordBytes,
} from './limits';
import {
  backoffDelay,
  errorCodeOf,
  isRetryableCode,
  isThrottleCode,
  resolveRetryOptions,
  type ResolvedRetryOptions,
  type RetryOptions,
} from './retry-policy';
import { ShardRouter } from './shard-router';

/** Where a record was written. */
export interface PutResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** Position inside a KPL aggregate (all its user records share `sequenceNumber`); absent when not aggregated. */
  readonly subSequenceNumber?: number;
  /** Sends it took (1 = first try). */
  readonly attempts: number;
}

/** A pre-serialised record for `putRecord` (no contract validation). */
export interface RawRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array | string;
  /** Decimal 128-bit hash key overriding the partition key's MD5 for routing. */
  readonly explicitHashKey?: string;
}

/** Outcome of validating one input; the schema registry's `safeParse` has this shape. */
export type ValidationResult<E> = { ok: true; event: E } | { ok: false; error: ContractError };

export interface AggregationOptions {
  /** Largest aggregate in bytes, data + partition key (default 51 200, the KPL's AggregationMaxSize). */
  maxBytes?: number;
}

export interface KinesisProducerOptions<E = OrderEvent> {
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
  /** Bytes per PutRecords, data + keys (default and usual maximum 5 MiB). */
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

export interface ProducerStats {
  /** User records accepted by `put`/`putRecord` (validated, within limits). */
  accepted: number;
  /** User records durably written. */
  written: number;
  /** Kinesis records written (aggregates count once). */
  kinesisRecordsWritten: number;
  /** PutRecords requests sent. */
  requests: number;
  /** Kinesis records re-sent after a failure. */
  retries: number;
  /** Kinesis records that failed with a throttling error. */
  throttles: number;
  /** User records rejected after sending was attempted (retries exhausted / not retryable). */
  failed: number;
  /** User records rejected before sending (validation, limits, buffer full, closed). */
  rejected: number;
  /** User records currently held. */
  buffered: number;
  /** Shard map reloads after the first (aggregation; triggered by reshards). */
  shardMapRefreshes: number;
  inFlightRequests: number;
}

interface UserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Uint8Array;
  readonly bytes: number;
  readonly source: unknown;
  readonly epoch: number;
  enqueuedAt: number;
  resolve: (result: PutResult) => void;
  reject: (error: Error) => void;
}

/** One Kinesis record of a PutRecords request: a single user record or a KPL aggregate. */
interface Entry {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Uint8Array;
  readonly bytes: number;
  readonly users: readonly UserRecord[];
  readonly aggregated: boolean;
  /** Shard predicted from the shard map (aggregation only). */
  readonly shardId: string | undefined;
  /** Distinct partition keys (ordered mode only). */
  readonly keys: readonly string[];
  attempts: number;
  firstSentAt: number;
  notBefore: number;
  /** Settled (written or rejected). */
  done: boolean;
  /** Waiting for its backoff to pass. */
  retrying: boolean;
}

interface OpenAggregate {
  readonly shardId: string | undefined;
  readonly records: UserRecord[];
  readonly sizer: AggregateSizer;
  readonly keyBytes: number;
}

interface Waiter {
  readonly record: UserRecord;
  readonly timer: NodeJS.Timeout;
  cancelled: boolean;
}

const EMPTY_KEYS: readonly string[] = [];
const textEncoder = new TextEncoder();

function defaultPartitionKey(event: unknown): string {
  const data = (event as { data?: { orderId?: unknown } } | null)?.data;
  if (typeof data?.orderId === 'string') return orderPartitionKey({ data: { orderId: data.orderId } });
  throw new PartitionKeyError('event has no data.orderId: pass options.partitionKey to choose its partition key');
}

function defaultSerialize(event: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export class KinesisProducer<E = OrderEvent> {
  readonly streamName: string;
  private readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly validate: (input: unknown) => ValidationResult<E>;
  private readonly keyOf: (event: E) => string;
  private readonly serialize: (event: E) => Uint8Array;
  private readonly lingerMs: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly maxRecordBytes: number;
  private readonly maxInFlight: number;
  private readonly maxBufferedRecords: number;
  private readonly maxBufferedBytes: number;
  private readonly maxPutWaitMs: number;
  private readonly retry: ResolvedRetryOptions;
  private readonly ordered: boolean;
  private readonly aggregateMaxBytes: number;
  private readonly aggregating: boolean;
  private readonly metrics: MetricPublisher | undefined;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly router: ShardRouter | undefined;

  // Pipeline state.
  private readonly intake = new Fifo<UserRecord>();
  private readonly aggregates = new Map<string, OpenAggregate>();
  private readonly ready = new Fifo<Entry>();
  private readyBytes = 0;
  private readonly retryReady = new Fifo<Entry>();
  private delayed: Entry[] = [];
  private inFlight = 0;
  private lingerDeadline: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pumping = false;

  // Ordered mode: unacknowledged Kinesis records per key, and records held back behind them.
  private readonly outstanding = new Map<string, number>();
  private readonly waiting = new Map<string, Fifo<UserRecord>>();

  // Backpressure and flush accounting.
  private bufferedRecords = 0;
  private bufferedBytes = 0;
  private readonly waiters = new Fifo<Waiter>();
  private epoch = 0;
  private readonly pendingByEpoch = new Map<number, number>();
  private flushWaiters: { epoch: number; resolve: () => void }[] = [];
  private flushing = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  private readonly counters = {
    accepted: 0,
    written: 0,
    kinesisRecordsWritten: 0,
    requests: 0,
    retries: 0,
    throttles: 0,
    failed: 0,
    rejected: 0,
  };

  constructor(options: KinesisProducerOptions<E>) {
    this.streamName = options.streamName;
    this.log = options.logger ?? createLogger({ name: 'producer', base: { stream: options.streamName } });
    this.validate = options.validate ?? ((input) => registry.safeParse(input) as unknown as ValidationResult<E>);
    this.keyOf = options.partitionKey ?? defaultPartitionKey;
    this.serialize = options.serialize ?? defaultSerialize;
    this.lingerMs = nonNegative('lingerMs', options.lingerMs ?? 20);
    this.maxBatchRecords = inRange('maxBatchRecords', options.maxBatchRecords ?? MAX_RECORDS_PER_REQUEST, 1, MAX_RECORDS_PER_REQUEST);
    this.maxRecordBytes = inRange('maxRecordBytes', options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, 1, MAX_LARGE_RECORD_BYTES);
    this.maxBatchBytes = inRange('maxBatchBytes', options.maxBatchBytes ?? MAX_REQUEST_BYTES, 1, 10 * MIB);
    this.maxInFlight = inRange('maxInFlightRequests', options.maxInFlightRequests ?? 8, 1, 1000);
    this.maxBufferedRecords = inRange('maxBufferedRecords', options.maxBufferedRecords ?? 20_000, 1, Number.MAX_SAFE_INTEGER);
    this.maxBufferedBytes = inRange('maxBufferedBytes', options.maxBufferedBytes ?? 64 * MIB, 1, Number.MAX_SAFE_INTEGER);
    this.maxPutWaitMs = nonNegative('maxPutWaitMs', options.maxPutWaitMs ?? 30_000);
    this.retry = resolveRetryOptions(options.retry);
    this.ordered = options.ordered ?? false;
    this.aggregating = options.aggregation !== undefined && options.aggregation !== false;
    const aggregation = typeof options.aggregation === 'object' ? options.aggregation : {};
    this.aggregateMaxBytes = Math.min(
      inRange('aggregation.maxBytes', aggregation.maxBytes ?? 51_200, 64, MAX_LARGE_RECORD_BYTES),
      this.maxRecordBytes,
    );
    this.metrics = options.metrics;
    this.random = options.random ?? Math.random;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      createKinesisClient({
        ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
        ...(options.region !== undefined ? { region: options.region } : {}),
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
        ...(options.http1 !== undefined ? { http1: options.http1 } : {}),
        // The producer retries failed entries itself; SDK retries would resend whole batches.
        maxAttempts: 1,
        maxSockets: Math.max(50, this.maxInFlight * 2),
      });
    this.router = this.aggregating
      ? new ShardRouter(this.client, this.streamName, this.log, () => this.onShardMapChange())
      : undefined;
  }

  /**
   * Validate `event`, then write it. Resolves once Kinesis acknowledged it; rejects with
   * EventRejectedError / PartitionKeyError / RecordLimitError (nothing sent), BufferFullError
   * (backpressure wait exceeded), DeliveryError (retries exhausted) or ProducerClosedError.
   */
  put(event: unknown): Promise<PutResult> {
    if (this.closed) return this.rejectEarly(new ProducerClosedError());
    let parsed: ValidationResult<E>;
    try {
      parsed = this.validate(event);
    } catch (error) {
      return this.rejectEarly(error instanceof Error ? error : new Error(String(error)));
    }
    if (!parsed.ok) return this.rejectEarly(new EventRejectedError(parsed.error));
    let partitionKey: string;
    let data: Uint8Array;
    try {
      partitionKey = this.keyOf(parsed.event);
      if (typeof partitionKey !== 'string') throw new PartitionKeyError(`partition key must be a string, got ${typeof partitionKey}`);
      data = this.serialize(parsed.event);
    } catch (error) {
      const wrapped =
        error instanceof PartitionKeyError
          ? error
          : new PartitionKeyError(`could not derive partition key or data: ${(error as Error).message}`, { cause: error });
      return this.rejectEarly(wrapped);
    }
    return this.enqueue(partitionKey, data, undefined, event);
  }

  /** Write pre-serialised data without contract validation (limits still apply). */
  putRecord(record: RawRecord): Promise<PutResult> {
    if (this.closed) return this.rejectEarly(new ProducerClosedError());
    const data = typeof record.data === 'string' ? textEncoder.encode(record.data) : record.data;
    return this.enqueue(record.partitionKey, data, record.explicitHashKey, record);
  }

  /** Resolves when every record put before this call is written or rejected. */
  flush(): Promise<void> {
    const epoch = this.epoch++;
    if (!this.hasPendingUpTo(epoch)) return Promise.resolve();
    this.flushing++;
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ epoch, resolve }));
    this.pump();
    return done.finally(() => {
      this.flushing--;
    });
  }

  /** Refuse new records, drain everything (write or reject), release resources. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.flush();
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.router?.stop();
      await this.metrics?.flush();
      if (this.ownsClient) this.client.destroy();
    })();
    return this.closing;
  }

  stats(): ProducerStats {
    return {
      ...this.counters,
      buffered: this.bufferedRecords,
      inFlightRequests: this.inFlight,
      shardMapRefreshes: this.router?.refreshes ?? 0,
    };
  }

  // ---------------------------------------------------------------- admission

  private rejectEarly(error: Error): Promise<PutResult> {
    this.counters.rejected++;
    return Promise.reject(error);
  }

  private enqueue(partitionKey: string, data: Uint8Array, explicitHashKey: string | undefined, source: unknown): Promise<PutResult> {
    let bytes: number;
    try {
      checkPartitionKey(partitionKey);
      bytes = recordBytes(data.length, partitionKey);
      checkRecordSize(bytes, this.maxRecordBytes);
    } catch (error) {
      return this.rejectEarly(error as Error);
    }
    this.counters.accepted++;
    const epoch = this.epoch;
    this.pendingByEpoch.set(epoch, (this.pendingByEpoch.get(epoch) ?? 0) + 1);
    return new Promise<PutResult>((resolve, reject) => {
      const record: UserRecord = { partitionKey, explicitHashKey, data, bytes, source, epoch, enqueuedAt: 0, resolve, reject };
      if (this.waiters.length === 0 && this.hasRoom(bytes)) {
        this.admit(record);
        this.schedulePump();
      } else {
        this.wait(record);
      }
    });
  }

  private hasRoom(bytes: number): boolean {
    if (this.bufferedRecords === 0) return true; // one oversize-for-buffer record may always go alone
    return this.bufferedRecords < this.maxBufferedRecords && this.bufferedBytes + bytes <= this.maxBufferedBytes;
  }

  private wait(record: UserRecord): void {
    const waiter: Waiter = {
      record,
      cancelled: false,
      timer: setTimeout(() => {
        waiter.cancelled = true;
        this.counters.rejected++;
        this.counters.accepted--;
        this.settleEpoch(record.epoch);
        record.reject(
          new BufferFullError(
            `producer buffer full for ${this.maxPutWaitMs} ms (maxPutWaitMs): ${this.bufferedRecords} records / ` +
              `${this.bufferedBytes} bytes held (maxBufferedRecords ${this.maxBufferedRecords}, maxBufferedBytes ` +
              `${this.maxBufferedBytes}); Kinesis is not keeping up - nothing was sent for this record`,
          ),
        );
        this.admitWaiters();
      }, this.maxPutWaitMs),
    };
    this.waiters.push(waiter);
  }

  private admitWaiters(): void {
    let admitted = false;
    for (let w = this.waiters.peek(); w !== undefined; w = this.waiters.peek()) {
      if (w.cancelled) {
        this.waiters.shift();
        continue;
      }
      if (!this.hasRoom(w.record.bytes)) break;
      this.waiters.shift();
      clearTimeout(w.timer);
      this.admit(w.record);
      admitted = true;
    }
    if (admitted) this.schedulePump();
  }

  private admit(record: UserRecord): void {
    record.enqueuedAt = performance.now();
    this.bufferedRecords++;
    this.bufferedBytes += record.bytes;
    if (this.router && !this.router.ready) {
      this.router.load();
      this.intake.push(record);
    } else if (this.intake.length > 0) {
      this.intake.push(record);
    } else {
      this.route(record);
    }
  }

  /** Records admitted while the shard map loaded, routed in put order. */
  private drainIntake(): void {
    if (this.router && !this.router.ready) return;
    for (const record of this.intake.drain()) this.route(record);
  }

  private route(record: UserRecord): void {
    if (this.ordered) {
      const key = record.partitionKey;
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push(record);
        return;
      }
      if (this.outstanding.has(key) || !this.place(record)) {
        const q = new Fifo<UserRecord>();
        q.push(record);
        this.waiting.set(key, q);
      }
      return;
    }
    this.place(record);
  }

  /**
   * Put a record into a Kinesis record: its own, or the open aggregate of its shard. Returns false
   * (record not placed) when, in ordered mode, sealing an aggregate just made its key outstanding.
   */
  private place(record: UserRecord): boolean {
    this.armLinger();
    if (!this.aggregating) {
      this.enqueueEntry(this.singleEntry(record, undefined));
      return true;
    }
    const { groupKey, shardId } = this.groupOf(record);
    let aggregate = this.aggregates.get(groupKey);
    const keyBytes = Buffer.byteLength(record.partitionKey, 'utf8');
    const alone = KPL_OVERHEAD_BYTES + keyBytes * 2 + record.data.length + 16 + varintSize(record.data.length);
    if (alone > this.aggregateMaxBytes) {
      // Too big to share an aggregate: send it as its own Kinesis record, after what is already open.
      if (aggregate) this.seal(groupKey, aggregate);
      if (this.ordered && this.outstanding.has(record.partitionKey)) return false;
      this.enqueueEntry(this.singleEntry(record, shardId));
      return true;
    }
    if (aggregate && aggregate.sizer.sizeWith(record) + aggregate.keyBytes > this.aggregateMaxBytes) {
      this.seal(groupKey, aggregate);
      aggregate = undefined;
      if (this.ordered && this.outstanding.has(record.partitionKey)) return false;
    }
    if (!aggregate) {
      aggregate = { shardId, records: [], sizer: new AggregateSizer(), keyBytes };
      this.aggregates.set(groupKey, aggregate);
    }
    aggregate.records.push(record);
    aggregate.sizer.add(record);
    return true;
  }

  private groupOf(record: UserRecord): { groupKey: string; shardId: string | undefined } {
    const map = this.router?.map;
    if (map) {
      const hashKey = record.explicitHashKey !== undefined ? BigInt(record.explicitHashKey) : partitionKeyToHashKey(record.partitionKey);
      const shard = map.shardForHashKey(hashKey);
      if (shard) return { groupKey: shard.shardId, shardId: shard.shardId };
    }
    // No shard map: only records of the same key are certain to share a shard.
    return { groupKey: `key:${record.explicitHashKey ?? record.partitionKey}`, shardId: undefined };
  }

  private seal(groupKey: string, aggregate: OpenAggregate): void {
    this.aggregates.delete(groupKey);
    const { records } = aggregate;
    if (records.length === 1) {
      this.enqueueEntry(this.singleEntry(records[0]!, aggregate.shardId));
      return;
    }
    const first = records[0]!;
    const data = encodeAggregate(records);
    let keys = EMPTY_KEYS;
    if (this.ordered) keys = [...new Set(records.map((r) => r.partitionKey))];
    this.enqueueEntry({
      // The aggregate routes like its first user record: all of them map to the same shard.
      partitionKey: first.partitionKey,
      explicitHashKey: first.explicitHashKey,
      data,
      bytes: data.length + aggregate.keyBytes,
      users: records,
      aggregated: true,
      shardId: aggregate.shardId,
      keys,
      attempts: 0,
      firstSentAt: 0,
      notBefore: 0,
      done: false,
      retrying: false,
    });
  }

  private sealAll(): void {
    for (const [groupKey, aggregate] of this.aggregates) this.seal(groupKey, aggregate);
  }

  private singleEntry(record: UserRecord, shardId: string | undefined): Entry {
    return {
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey,
      data: record.data,
      bytes: record.bytes,
      users: [record],
      aggregated: false,
      shardId,
      keys: this.ordered ? [record.partitionKey] : EMPTY_KEYS,
      attempts: 0,
      firstSentAt: 0,
      notBefore: 0,
      done: false,
      retrying: false,
    };
  }

  private enqueueEntry(entry: Entry): void {
    for (const key of entry.keys) this.outstanding.set(key, (this.outstanding.get(key) ?? 0) + 1);
    this.ready.push(entry);
    this.readyBytes += entry.bytes;
  }

  private onShardMapChange(): void {
    // Open aggregates were grouped by the old map: send them as they are, group anew from now on.
    this.sealAll();
    this.pump();
  }

  // ---------------------------------------------------------------- sending

  private pumpScheduled = false;

  /** Coalesce the pumps of a synchronous burst of puts into one, so they share batches. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    if (this.ready.length >= this.maxBatchRecords || this.readyBytes >= this.maxBatchBytes) {
      this.pump();
      return;
    }
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private armLinger(): void {
    this.lingerDeadline ??= performance.now() + this.lingerMs;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.drainIntake();
      const now = performance.now();
      this.promoteDueRetries(now);
      while (this.inFlight < this.maxInFlight) {
        const lingerDue =
          this.flushing > 0 || this.closed || (this.lingerDeadline !== undefined && this.lingerDeadline <= now);
        const full = this.ready.length >= this.maxBatchRecords || this.readyBytes >= this.maxBatchBytes;
        // Retries go out as soon as their backoff passed; fresh records ride along.
        if (!full && !lingerDue && this.retryReady.length === 0) break;
        if (!full && lingerDue && this.aggregates.size > 0) this.sealAll();
        if (this.ready.length === 0 && this.retryReady.length === 0) break;
        this.send(this.takeBatch());
      }
      if (this.ready.length === 0 && this.aggregates.size === 0) this.lingerDeadline = undefined;
      this.armTimer(now);
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    for (const queue of [this.retryReady, this.ready]) {
      for (let e = queue.peek(); e !== undefined && batch.length < this.maxBatchRecords; e = queue.peek()) {
        if (batch.length > 0 && bytes + e.bytes > this.maxBatchBytes) return batch;
        queue.shift();
        if (queue === this.ready) this.readyBytes -= e.bytes;
        batch.push(e);
        bytes += e.bytes;
      }
    }
    return batch;
  }

  private promoteDueRetries(now: number): void {
    if (this.delayed.length === 0) return;
    const due: Entry[] = [];
    const later: Entry[] = [];
    for (const e of this.delayed) (e.notBefore <= now ? due : later).push(e);
    if (due.length === 0) return;
    this.delayed = later;
    for (const e of due) this.retryReady.push(e);
  }

  private armTimer(now: number): void {
    let wakeAt = Number.POSITIVE_INFINITY;
    if (this.lingerDeadline !== undefined && this.lingerDeadline > now) wakeAt = this.lingerDeadline;
    for (const e of this.delayed) if (e.notBefore < wakeAt) wakeAt = e.notBefore;
    if (wakeAt === Number.POSITIVE_INFINITY || wakeAt >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = wakeAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, Math.max(0, Math.ceil(wakeAt - now)));
  }

  private send(batch: Entry[]): void {
    this.inFlight++;
    this.counters.requests++;
    const now = performance.now();
    let buffering: StatisticSet | undefined;
    const records: PutRecordsRequestEntry[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      if (e.attempts === 0) {
        e.firstSentAt = now;
        if (this.metrics) buffering = addBufferingTimes(buffering, e.users, now);
      } else {
        this.counters.retries++;
      }
      e.attempts++;
      e.retrying = false;
      records[i] =
        e.explicitHashKey === undefined
          ? { Data: e.data, PartitionKey: e.partitionKey }
          : { Data: e.data, PartitionKey: e.partitionKey, ExplicitHashKey: e.explicitHashKey };
    }
    if (buffering) this.metrics?.recordStats('BufferingTime', buffering, 'Milliseconds');
    this.client
      .send(new PutRecordsCommand({ StreamName: this.streamName, Records: records }))
      .then(
        (out) => this.onResponse(batch, out, now),
        (error: unknown) => this.onRequestError(batch, error),
      )
      .catch((error: unknown) => {
        // A bug in response handling must not strand promises: fail the batch loudly.
        this.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'producer response handling failed');
        for (const e of batch) if (!e.done && !e.retrying) this.finalFailure(e, 'InternalProducerError', 'non-retryable', String(error));
      })
      .finally(() => {
        this.inFlight--;
        this.pump();
      });
  }

  private onResponse(batch: Entry[], out: PutRecordsCommandOutput, sentAt: number): void {
    this.metrics?.record('RequestTime', performance.now() - sentAt, 'Milliseconds');
    const results = out.Records ?? [];
    if (results.length !== batch.length) {
      this.onRequestError(batch, Object.assign(new Error(`PutRecords returned ${results.length} results for ${batch.length} records`), { name: 'InternalFailure' }));
      return;
    }
    let failed = 0;
    let failedUsers = 0;
    let codes: Record<string, number> | undefined;
    let written = 0;
    let writtenUsers = 0;
    let throttled = 0;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const r: PutRecordsResultEntry = results[i]!;
      if (r.ErrorCode === undefined && r.SequenceNumber !== undefined && r.ShardId !== undefined) {
        written++;
        writtenUsers += e.users.length;
        this.succeed(e, r.ShardId, r.SequenceNumber);
      } else {
        const code = r.ErrorCode ?? 'InternalFailure';
        failed++;
        failedUsers += e.users.length;
        if (isThrottleCode(code)) throttled++;
        (codes ??= {})[code] = (codes[code] ?? 0) + 1;
        this.failEntry(e, code, r.ErrorMessage ?? code);
      }
    }
    this.counters.throttles += throttled;
    if (this.metrics) {
      this.metrics.record('UserRecordsPut', writtenUsers);
      this.metrics.record('KinesisRecordsPut', written);
      if (failed > 0) this.metrics.record('KinesisRecordsFailedInResponse', failed);
      if (throttled > 0) this.metrics.record('Throttles', throttled);
    }
    if (failed > 0) {
      this.log.info({ failed, failedUserRecords: failedUsers, errorCodes: codes, records: batch.length }, 'PutRecords partially failed; failed entries will be retried');
    }
  }

  private onRequestError(batch: Entry[], error: unknown): void {
    const code = errorCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (isThrottleCode(code)) {
      this.counters.throttles += batch.length;
      this.metrics?.record('Throttles', batch.length);
    }
    this.log.warn(
      { errorCode: code, message, records: batch.length, retryable: isRetryableCode(code) },
      'PutRecords request failed',
    );
    for (const e of batch) this.failEntry(e, code, message, error);
  }

  private succeed(e: Entry, shardId: string, sequenceNumber: string): void {
    e.done = true;
    this.counters.kinesisRecordsWritten++;
    this.counters.written += e.users.length;
    // Kinesis chose another shard than the map predicted: the stream was resharded (KPL does the same).
    if (e.shardId !== undefined && e.shardId !== shardId) this.router?.refreshSoon();
    const users = e.users;
    for (let i = 0; i < users.length; i++) {
      const u = users[i]!;
      this.release(u);
      u.resolve(
        e.aggregated
          ? { shardId, sequenceNumber, subSequenceNumber: i, attempts: e.attempts }
          : { shardId, sequenceNumber, attempts: e.attempts },
      );
    }
    this.completeEntry(e);
  }

  private failEntry(e: Entry, code: string, message: string, cause?: unknown): void {
    if (!isRetryableCode(code)) return this.finalFailure(e, code, 'non-retryable', message, cause);
    if (e.attempts >= this.retry.maxAttempts) return this.finalFailure(e, code, 'attempts-exhausted', message, cause);
    const now = performance.now();
    const delay = backoffDelay(e.attempts, this.retry, this.random);
    if (now + delay - e.firstSentAt > this.retry.maxElapsedMs) return this.finalFailure(e, code, 'time-exhausted', message, cause);
    e.notBefore = now + delay;
    e.retrying = true;
    this.delayed.push(e);
  }

  private finalFailure(e: Entry, code: string, reason: DeliveryFailureReason, message: string, cause?: unknown): void {
    e.done = true;
    const elapsed = Math.round(performance.now() - e.firstSentAt);
    const why =
      reason === 'non-retryable'
        ? 'the error is not retryable'
        : reason === 'attempts-exhausted'
          ? `retries exhausted after ${e.attempts} attempts (retry.maxAttempts)`
          : `retry time exhausted after ${elapsed} ms (retry.maxElapsedMs ${this.retry.maxElapsedMs})`;
    this.counters.failed += e.users.length;
    this.metrics?.record('UserRecordsFailed', e.users.length);
    this.log.error(
      { errorCode: code, reason, attempts: e.attempts, elapsedMs: elapsed, userRecords: e.users.length, partitionKey: e.partitionKey },
      'records not written',
    );
    for (const u of e.users) {
      this.release(u);
      u.reject(
        new DeliveryError(u.source, u.partitionKey, code, e.attempts, reason, `record not written to ${this.streamName}: ${why}; last error ${code}: ${message}`, {
          cause,
        }),
      );
    }
    this.completeEntry(e);
  }

  /** Ordered mode: an entry is acknowledged (either way), so the next records of its keys may go. */
  private completeEntry(e: Entry): void {
    for (const key of e.keys) {
      const n = (this.outstanding.get(key) ?? 1) - 1;
      if (n > 0) {
        this.outstanding.set(key, n);
        continue;
      }
      this.outstanding.delete(key);
      const queue = this.waiting.get(key);
      if (!queue) continue;
      for (let r = queue.peek(); r !== undefined && !this.outstanding.has(key); r = queue.peek()) {
        if (!this.place(r)) break;
        queue.shift();
      }
      if (queue.length === 0) this.waiting.delete(key);
    }
  }

  /** A user record settled: free its buffer room and count it off its flush epoch. */
  private release(u: UserRecord): void {
    this.bufferedRecords--;
    this.bufferedBytes -= u.bytes;
    this.settleEpoch(u.epoch);
    if (this.waiters.length > 0) this.admitWaiters();
  }

  private settleEpoch(epoch: number): void {
    const n = (this.pendingByEpoch.get(epoch) ?? 1) - 1;
    if (n > 0) {
      this.pendingByEpoch.set(epoch, n);
      return;
    }
    this.pendingByEpoch.delete(epoch);
    if (this.flushWaiters.length === 0) return;
    const remaining: { epoch: number; resolve: () => void }[] = [];
    for (const w of this.flushWaiters) {
      if (this.hasPendingUpTo(w.epoch)) remaining.push(w);
      else w.resolve();
    }
    this.flushWaiters = remaining;
  }

  private hasPendingUpTo(epoch: number): boolean {
    // Epochs enter the map in increasing order and leave it when drained: the first key is the oldest.
    for (const pending of this.pendingByEpoch.keys()) return pending <= epoch;
    return false;
  }
}

function addBufferingTimes(stats: StatisticSet | undefined, users: readonly UserRecord[], now: number): StatisticSet {
  const s = stats ?? { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: 0 };
  for (const u of users) {
    const t = now - u.enqueuedAt;
    s.count++;
    s.sum += t;
    if (t < s.min) s.min = t;
    if (t > s.max) s.max = t;
  }
  return s;
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
