/**
 * KinesisProducer: validated events in, PutRecords batches out, nothing lost.
 *
 * Life of a record: `put` validates (registry), derives the partition key, serialises, checks the
 * Kinesis limits, then waits for buffer room (backpressure). Admitted records pass the ordering gate
 * (ordered mode), are packed into Kinesis records (one each, or KPL aggregates per shard), batched
 * into PutRecords requests (500 records / 5 MiB / linger), sent with bounded concurrency, and only
 * the failed entries of a response are retried (PutRecords is not atomic: Kinesis API reference,
 * PutRecords). Every field Kinesis validates is checked before a record is admitted (limits.ts), and a
 * request Kinesis still rejects as a whole for a malformed entry is split until only the offending
 * entries fail. Every `put` promise settles: resolved with shard and sequence number, or rejected
 * with a typed error.
 */
import {
  PutRecordsCommand,
  type KinesisClient,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../kinesis/client';
import { orderPartitionKey, registry, type OrderEvent } from '../schemas/index';
import { createLogger, type Logger } from '../telemetry/logger';
import type { MetricPublisher, StatisticSet } from '../telemetry/metric-publisher';
import { EventValidationError } from '../schemas/errors';
import {
  BufferFullError,
  DeliveryError,
  EventRejectedError,
  PartitionKeyError,
  ProducerClosedError,
  ProducerError,
  RecordDataError,
  type DeliveryFailureReason,
} from './errors';
import { Fifo } from './fifo';
import { FlushTracker } from './flush-tracker';
import { KeyOrderGate } from './key-order';
import { checkPartitionKey, checkRecordSize, parseExplicitHashKey, recordBytes, streamTarget, toDataBytes, type StreamTarget } from './limits';
import { resolveSettings, type KinesisProducerOptions, type ResolvedSettings, type ValidationResult } from './options';
import { RecordPacker } from './packer';
import type { Entry, PutResult, UserRecord } from './records';
import { backoffDelay, errorCodeOf, isRetryableCode, isThrottleCode, mayBeCausedByOneEntry } from './retry-policy';
import { ShardRouter } from './shard-router';

export type { PutResult } from './records';
export type { AggregationOptions, KinesisProducerOptions, ValidationResult } from './options';

/** A pre-serialised record for `putRecord` (no contract validation). */
export interface RawRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array | string;
  /** Decimal 128-bit hash key (0..2^128-1) overriding the partition key's MD5 for routing. */
  readonly explicitHashKey?: string;
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
  /** User records currently held (queued, in flight, backing off, or held back by ordering). */
  buffered: number;
  /** Shard map reloads after the first (aggregation; triggered by reshards). */
  shardMapRefreshes: number;
  /** Requests rejected as a whole for a malformed entry and split to fail only that entry. */
  splits: number;
  inFlightRequests: number;
}

interface Waiter {
  readonly record: UserRecord;
  readonly timer: NodeJS.Timeout;
  cancelled: boolean;
}

/** Final failures of one response, logged as one line. */
interface FailureSummary {
  kinesisRecords: number;
  userRecords: number;
  reasons: Partial<Record<DeliveryFailureReason, number>>;
  codes: Record<string, number>;
}

function defaultPartitionKey(event: unknown): string {
  const data = (event as { data?: { orderId?: unknown } } | null)?.data;
  if (typeof data?.orderId === 'string') return orderPartitionKey({ data: { orderId: data.orderId } });
  throw new PartitionKeyError('event has no data.orderId: pass options.partitionKey to choose its partition key');
}

function defaultSerialize(event: unknown): Uint8Array {
  const json = JSON.stringify(event) as string | undefined; // undefined for undefined, functions, symbols
  if (json === undefined) throw new TypeError(`${typeof event} has no JSON form`);
  return Buffer.from(json, 'utf8');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class KinesisProducer<E = OrderEvent> {
  readonly streamName: string;
  private readonly target: StreamTarget;
  private readonly client: KinesisClient;
  private readonly ownsClient: boolean;
  private readonly validate: (input: unknown) => ValidationResult<E>;
  private readonly keyOf: (event: E) => string;
  private readonly serialize: (event: E) => Uint8Array;
  private readonly settings: ResolvedSettings;
  private readonly metrics: MetricPublisher | undefined;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly router: ShardRouter | undefined;
  private readonly packer: RecordPacker;
  private readonly gate: KeyOrderGate | undefined;
  private readonly flushes = new FlushTracker();

  // Records admitted while the shard map loads (aggregation), routed in put order once it is there.
  private readonly intake = new Fifo<UserRecord>();
  // Sealed Kinesis records waiting for a request, and retries whose backoff has passed.
  private readonly ready = new Fifo<Entry>();
  private readyBytes = 0;
  private readonly retryReady = new Fifo<Entry>();
  // Halves of requests rejected as a whole for a malformed entry: sent as they are, never merged again.
  private readonly isolating = new Fifo<Entry[]>();
  private delayed: Entry[] = [];
  private inFlight = 0;
  private lingerDeadline: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pumping = false;
  private pumpScheduled = false;

  // Backpressure.
  private bufferedRecords = 0;
  private bufferedBytes = 0;
  private readonly waiters = new Fifo<Waiter>();
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
    splits: 0,
  };

  constructor(options: KinesisProducerOptions<E>) {
    this.target = streamTarget(options.streamName);
    this.streamName = options.streamName;
    this.settings = resolveSettings(options as KinesisProducerOptions<unknown>);
    this.log = options.logger ?? createLogger({ name: 'producer', base: { stream: options.streamName } });
    this.validate = options.validate ?? ((input) => registry.safeParse(input) as unknown as ValidationResult<E>);
    this.keyOf = options.partitionKey ?? defaultPartitionKey;
    this.serialize = options.serialize ?? defaultSerialize;
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
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        // The producer retries failed entries itself; SDK retries would resend whole batches.
        maxAttempts: 1,
        maxSockets: Math.max(50, this.settings.maxInFlight * 2),
      });
    this.router = this.settings.aggregate
      ? new ShardRouter(this.client, this.streamName, this.log, () => this.onShardMapChange())
      : undefined;
    this.packer = new RecordPacker({
      aggregate: this.settings.aggregate,
      maxAggregateBytes: this.settings.maxAggregateBytes,
      ordered: this.settings.ordered,
      router: this.router,
      emit: (entry) => this.enqueueEntry(entry),
      isOutstanding: (key) => this.gate?.isOutstanding(key) ?? false,
    });
    this.gate = this.settings.ordered ? new KeyOrderGate((record) => this.place(record)) : undefined;
  }

  /**
   * Validate `event`, then write it. Resolves once Kinesis acknowledged it; rejects with
   * EventRejectedError / PartitionKeyError / RecordLimitError / RecordDataError (nothing sent),
   * BufferFullError (backpressure wait exceeded), DeliveryError (retries exhausted, or not retryable)
   * or ProducerClosedError. Never throws, whatever `event` is.
   */
  put(event: unknown): Promise<PutResult> {
    if (this.closed) return this.rejectEarly(new ProducerClosedError());
    let parsed: ValidationResult<E>;
    try {
      parsed = this.validate(event);
      if (typeof parsed !== 'object' || parsed === null) throw new TypeError(`validate() returned ${String(parsed)}, not { ok, event | error }`);
    } catch (error) {
      const message = asError(error).message;
      return this.rejectEarly(new EventRejectedError(new EventValidationError('schema', `validate() failed: ${message}`, [{ path: '', message }])));
    }
    if (!parsed.ok) return this.rejectEarly(new EventRejectedError(parsed.error));
    let partitionKey: unknown;
    try {
      partitionKey = this.keyOf(parsed.event);
    } catch (error) {
      if (error instanceof PartitionKeyError) return this.rejectEarly(error);
      return this.rejectEarly(new PartitionKeyError(`the partitionKey function threw: ${asError(error).message}`, { cause: error }));
    }
    let data: Uint8Array;
    try {
      data = toDataBytes(this.serialize(parsed.event), 'the serialize function result');
    } catch (error) {
      if (error instanceof ProducerError) return this.rejectEarly(error);
      return this.rejectEarly(new RecordDataError(`the event could not be serialised: ${asError(error).message}`, { cause: error }));
    }
    return this.enqueue(partitionKey, data, undefined, undefined, event);
  }

  /**
   * Write pre-serialised data without contract validation. Kinesis's own rules still apply: partition
   * key, explicit hash key and size are checked before the record is admitted.
   */
  putRecord(record: RawRecord): Promise<PutResult> {
    if (this.closed) return this.rejectEarly(new ProducerClosedError());
    if (typeof record !== 'object' || record === null) {
      return this.rejectEarly(new RecordDataError(`putRecord needs { partitionKey, data, explicitHashKey? }, got ${record === null ? 'null' : typeof record}`));
    }
    let data: Uint8Array;
    let hashKey: bigint | undefined;
    try {
      data = toDataBytes(record.data, 'putRecord data');
      if (record.explicitHashKey !== undefined) hashKey = parseExplicitHashKey(record.explicitHashKey);
    } catch (error) {
      return this.rejectEarly(asError(error));
    }
    return this.enqueue(record.partitionKey, data, record.explicitHashKey, hashKey, record);
  }

  /** Resolves when every record put before this call is written or rejected. */
  flush(): Promise<void> {
    const done = this.flushes.flush();
    this.pump();
    return done;
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

  // ---------------------------------------------------------------- admission and backpressure

  private rejectEarly(error: Error): Promise<PutResult> {
    this.counters.rejected++;
    return Promise.reject(error);
  }

  private enqueue(
    partitionKey: unknown,
    data: Uint8Array,
    explicitHashKey: string | undefined,
    hashKey: bigint | undefined,
    source: unknown,
  ): Promise<PutResult> {
    let bytes: number;
    try {
      checkPartitionKey(partitionKey);
      bytes = recordBytes(data.length, partitionKey);
      checkRecordSize(bytes, this.settings.maxRecordBytes);
    } catch (error) {
      return this.rejectEarly(asError(error));
    }
    const key: string = partitionKey;
    this.counters.accepted++;
    const epoch = this.flushes.current;
    this.flushes.add(epoch);
    return new Promise<PutResult>((resolve, reject) => {
      const record: UserRecord = { partitionKey: key, explicitHashKey, hashKey, data, bytes, source, epoch, enqueuedAt: 0, resolve, reject };
      // Waiting puts go first, so records are admitted in put order.
      if (this.waiters.length === 0 && this.hasRoom(bytes)) {
        this.admit(record);
        this.schedulePump();
      } else {
        this.wait(record);
      }
    });
  }

  private hasRoom(bytes: number): boolean {
    if (this.bufferedRecords === 0) return true; // a record bigger than maxBufferedBytes may still go alone
    return this.bufferedRecords < this.settings.maxBufferedRecords && this.bufferedBytes + bytes <= this.settings.maxBufferedBytes;
  }

  private wait(record: UserRecord): void {
    const s = this.settings;
    const waiter: Waiter = {
      record,
      cancelled: false,
      timer: setTimeout(() => {
        waiter.cancelled = true;
        this.counters.rejected++;
        this.counters.accepted--;
        record.reject(
          new BufferFullError(
            `producer buffer full for ${s.maxPutWaitMs} ms (maxPutWaitMs): ${this.bufferedRecords} records / ` +
              `${this.bufferedBytes} bytes held (maxBufferedRecords ${s.maxBufferedRecords}, maxBufferedBytes ` +
              `${s.maxBufferedBytes}); Kinesis is not keeping up - nothing was sent for this record`,
          ),
        );
        this.flushes.settle(record.epoch);
        this.admitWaiters();
      }, s.maxPutWaitMs),
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
    if ((this.router && !this.router.ready) || this.intake.length > 0) {
      this.router?.load();
      this.intake.push(record);
    } else {
      this.route(record);
    }
  }

  private drainIntake(): void {
    if (this.router && !this.router.ready) return;
    for (const record of this.intake.drain()) this.route(record);
  }

  private route(record: UserRecord): void {
    if (this.gate) this.gate.route(record);
    else this.place(record);
  }

  private place(record: UserRecord): boolean {
    this.lingerDeadline ??= performance.now() + this.settings.lingerMs;
    return this.packer.place(record);
  }

  private enqueueEntry(entry: Entry): void {
    this.gate?.sealed(entry);
    this.ready.push(entry);
    this.readyBytes += entry.bytes;
  }

  private onShardMapChange(): void {
    // Open aggregates were grouped by the old map: send them as they are, group anew from now on.
    this.packer.sealAll();
    this.pump();
  }

  // ---------------------------------------------------------------- batching and sending

  /** Coalesce the pumps of a synchronous burst of puts into one, so they share batches. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    if (this.ready.length >= this.settings.maxBatchRecords || this.readyBytes >= this.settings.maxBatchBytes) {
      this.pump();
      return;
    }
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.drainIntake();
      const now = performance.now();
      this.promoteDueRetries(now);
      const s = this.settings;
      while (this.inFlight < s.maxInFlight) {
        const half = this.isolating.shift();
        if (half !== undefined) {
          this.send(half, true);
          continue;
        }
        const lingerDue =
          this.flushes.flushing > 0 || this.closed || (this.lingerDeadline !== undefined && this.lingerDeadline <= now);
        const full = this.ready.length >= s.maxBatchRecords || this.readyBytes >= s.maxBatchBytes;
        // Retries go out as soon as their backoff passed; fresh records ride along.
        if (!full && !lingerDue && this.retryReady.length === 0) break;
        if (!full && lingerDue && this.packer.openCount > 0) this.packer.sealAll();
        if (this.ready.length === 0 && this.retryReady.length === 0) break;
        this.send(this.takeBatch());
      }
      if (this.ready.length === 0 && this.packer.openCount === 0) this.lingerDeadline = undefined;
      this.armTimer(now);
    } finally {
      this.pumping = false;
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let bytes = 0;
    const { maxBatchRecords, maxBatchBytes } = this.settings;
    for (const queue of [this.retryReady, this.ready]) {
      for (let e = queue.peek(); e !== undefined && batch.length < maxBatchRecords; e = queue.peek()) {
        if (batch.length > 0 && bytes + e.bytes > maxBatchBytes) return batch;
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
    const later: Entry[] = [];
    for (const e of this.delayed) {
      if (e.notBefore <= now) this.retryReady.push(e);
      else later.push(e);
    }
    this.delayed = later;
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

  private send(batch: Entry[], split = false): void {
    this.inFlight++;
    this.counters.requests++;
    const now = performance.now();
    let buffering: StatisticSet | undefined;
    const records: PutRecordsRequestEntry[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      if (split) e.splitSends++;
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
      .send(new PutRecordsCommand({ ...this.target, Records: records }))
      .then(
        (out) => this.onResponse(batch, out, now),
        (error: unknown) => this.onRequestError(batch, error),
      )
      .catch((error: unknown) => {
        // A bug in response handling must not strand promises: fail what is unsettled, loudly.
        this.log.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'producer response handling failed');
        const summary = newSummary();
        for (const e of batch) if (!e.done && !e.retrying) this.finalFailure(e, 'InternalProducerError', 'non-retryable', String(error), summary);
        this.logFailures(summary);
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
      const error = Object.assign(new Error(`PutRecords returned ${results.length} results for ${batch.length} records`), {
        name: 'InternalFailure',
      });
      this.onRequestError(batch, error);
      return;
    }
    let failed = 0;
    let failedUsers = 0;
    let codes: Record<string, number> | undefined;
    let written = 0;
    let writtenUsers = 0;
    let throttled = 0;
    const summary = newSummary();
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
        this.failEntry(e, code, r.ErrorMessage ?? code, undefined, summary);
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
      this.log.info(
        { failed, failedUserRecords: failedUsers, errorCodes: codes, records: batch.length },
        'PutRecords partially failed; failed entries will be retried',
      );
    }
    this.logFailures(summary);
  }

  private onRequestError(batch: Entry[], error: unknown): void {
    const code = errorCodeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (isThrottleCode(code)) {
      this.counters.throttles += batch.length;
      this.metrics?.record('Throttles', batch.length);
    }
    if (batch.length > 1 && mayBeCausedByOneEntry(code)) {
      this.split(batch, code, message);
      return;
    }
    this.log.warn({ errorCode: code, message, records: batch.length, retryable: isRetryableCode(code) }, 'PutRecords request failed');
    const summary = newSummary();
    for (const e of batch) this.failEntry(e, code, message, error, summary);
    this.logFailures(summary);
  }

  /**
   * The request was rejected as a whole for something one entry can cause (validation): its other
   * entries did nothing wrong. Send each half on its own, halving again while rejected, so only the
   * offending entries fail (at most log2(500) = 9 rounds). These sends do not use up retry.maxAttempts.
   */
  private split(batch: Entry[], code: string, message: string): void {
    this.counters.splits++;
    this.log.warn(
      { errorCode: code, message, records: batch.length },
      'PutRecords request rejected as a whole; splitting it to find the entries that cause it',
    );
    const middle = Math.ceil(batch.length / 2);
    for (const e of batch) e.retrying = true;
    this.isolating.push(batch.slice(0, middle));
    this.isolating.push(batch.slice(middle));
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
      // Settle the put before the flush accounting, so a flush never resolves ahead of its puts.
      u.resolve(
        e.aggregated
          ? { shardId, sequenceNumber, subSequenceNumber: i, attempts: e.attempts }
          : { shardId, sequenceNumber, attempts: e.attempts },
      );
      this.release(u);
    }
    this.gate?.settled(e);
  }

  private failEntry(e: Entry, code: string, message: string, cause: unknown, summary: FailureSummary): void {
    const retry = this.settings.retry;
    if (!isRetryableCode(code)) return this.finalFailure(e, code, 'non-retryable', message, summary, cause);
    const attempts = e.attempts - e.splitSends;
    if (attempts >= retry.maxAttempts) return this.finalFailure(e, code, 'attempts-exhausted', message, summary, cause);
    const now = performance.now();
    const delay = backoffDelay(attempts, retry, this.random);
    if (now + delay - e.firstSentAt > retry.maxElapsedMs) return this.finalFailure(e, code, 'time-exhausted', message, summary, cause);
    e.notBefore = now + delay;
    e.retrying = true;
    this.delayed.push(e);
  }

  private finalFailure(e: Entry, code: string, reason: DeliveryFailureReason, message: string, summary: FailureSummary, cause?: unknown): void {
    e.done = true;
    const elapsed = Math.round(performance.now() - e.firstSentAt);
    const why =
      reason === 'non-retryable'
        ? 'the error is not retryable'
        : reason === 'attempts-exhausted'
          ? `retries exhausted after ${e.attempts - e.splitSends} attempts (retry.maxAttempts)`
          : `retry time exhausted after ${elapsed} ms (retry.maxElapsedMs ${this.settings.retry.maxElapsedMs})`;
    this.counters.failed += e.users.length;
    summary.kinesisRecords++;
    summary.userRecords += e.users.length;
    summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1;
    summary.codes[code] = (summary.codes[code] ?? 0) + 1;
    const text = `record not written to ${this.streamName}: ${why}; last error ${code}: ${message}`;
    for (const u of e.users) {
      u.reject(new DeliveryError(u.source, u.partitionKey, code, e.attempts, reason, text, { cause }));
      this.release(u);
    }
    this.gate?.settled(e);
  }

  /** One error line per response for the records given up on (never their payloads). */
  private logFailures(summary: FailureSummary): void {
    if (summary.kinesisRecords === 0) return;
    this.metrics?.record('UserRecordsFailed', summary.userRecords);
    this.log.error(
      { kinesisRecords: summary.kinesisRecords, userRecords: summary.userRecords, reasons: summary.reasons, errorCodes: summary.codes },
      'records not written; their put() promises were rejected with DeliveryError',
    );
  }

  /** A user record settled: free its buffer room and count it off its flush epoch. */
  private release(u: UserRecord): void {
    this.bufferedRecords--;
    this.bufferedBytes -= u.bytes;
    this.flushes.settle(u.epoch);
    if (this.waiters.length > 0) this.admitWaiters();
  }
}

function newSummary(): FailureSummary {
  return { kinesisRecords: 0, userRecords: 0, reasons: {}, codes: {} };
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
