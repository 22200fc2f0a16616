/**
 * One shard: a reader (GetShardIterator, then GetRecords about once per second when caught up,
 * faster while behind: page "Using AWS Lambda with Amazon Kinesis", "Lambda polls each shard [...]
 * at a base rate of once per second. When more records are available, Lambda keeps processing
 * batches until the function catches up") feeding ParallelizationFactor lanes, each running one
 * batch at a time (./lanes.ts). With a tumbling window the shard runs one lane: window state is
 * per shard (page "Time windows").
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  InvalidArgumentException,
  ResourceNotFoundException,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type _Record,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import type { Logger } from '../../telemetry/logger';
import { assembleBatch, type BufferedRecord } from './batch-assembly';
import { runBatch, runFinalInvoke, type BatchHost } from './batch-runner';
import type { StoredWindow } from './checkpoint-store';
import { CheckpointTracker } from './checkpoint-tracker';
import { laneOf } from './lanes';
import type { MappingContext } from './mapping-context';
import { nextPollDelayMs } from './poll-cadence';
import { Signal } from './signal';
import { toStreamRecord, type StreamRecord } from './stream-record';
import {
  buildWindowEvent,
  formatWindowTime,
  stateSizeBytes,
  WINDOW_STATE_LIMIT_BYTES,
  windowClosable,
  windowEventOverheadBytes,
  windowOf,
  type TimeWindow,
} from './tumbling-window';
import type { KinesisEvent, ShardStats } from './types';

/** Kinesis API reference, GetRecords: up to 10,000 records per call. */
const GET_RECORDS_LIMIT = 10_000;

export interface IteratorStart {
  type: ShardIteratorType;
  timestamp?: Date;
  /** An iterator acquired in advance (LATEST at start, so records put right after start() are seen). */
  iterator?: string;
  /** When a pre-acquired LATEST iterator expires before any record was read: resume AT_TIMESTAMP of this time. */
  resumeAt?: Date;
  /** AFTER_SEQUENCE_NUMBER of a stored checkpoint (a restarted mapping resuming the shard). */
  sequenceNumber?: string;
}

interface Lane {
  readonly index: number;
  readonly buffer: BufferedRecord[];
}

interface WindowState {
  window: TimeWindow;
  state: unknown;
}

export class ShardWorker {
  readonly shardId: string;
  status: ShardStats['status'] = 'reading';
  millisBehindLatest = 0;
  /** Resolves when the shard is fully processed (true) or the worker stopped (false). */
  readonly done: Promise<boolean>;

  private readonly ctx: MappingContext;
  private readonly log: Logger;
  private readonly tracker = new CheckpointTracker();
  private readonly lanes: Lane[];
  private readonly laneSignal = new Signal();
  private readonly readerSignal = new Signal();
  private readonly stopSignal = new Signal();
  private stopRequested = false;
  private shardEnded = false;
  /** Last record read from the shard (dispatched or skipped as before an AT_TIMESTAMP start): where an expired iterator resumes. */
  private lastReadSequence: string | undefined;
  /** While set: records that arrived before this time (ms) are skipped, see `acquire`. */
  private skipBeforeMs: number | undefined;
  /** Aborted by requestStop(): an in-flight Kinesis call never delays stop(). */
  private readonly abort = new AbortController();
  private latestArrivalMs = 0;
  private lastPollStartedAt = 0;
  private windowState: WindowState | undefined;
  /** The window state as of the checkpoint (what a checkpoint store keeps): it covers exactly the records up to it. */
  private committedWindow: StoredWindow | undefined;
  /** The stored checkpoint this worker resumed from, until the tracker moves past it. */
  private resumedFrom: string | undefined;
  /** The iterator type actually used (a rejected stored checkpoint falls back to TRIM_HORIZON). */
  private iteratorType: ShardIteratorType;
  /** Lane per partition key, computed once per key (bounded: cleared when it grows past 10,000 keys). */
  private readonly laneCache = new Map<string, number>();

  constructor(ctx: MappingContext, shardId: string, start: IteratorStart, restoredWindow?: StoredWindow) {
    this.ctx = ctx;
    this.shardId = shardId;
    this.log = ctx.logger.child({ shardId });
    this.iteratorType = start.type;
    if (start.type === 'AFTER_SEQUENCE_NUMBER' && start.sequenceNumber !== undefined) {
      this.resumedFrom = start.sequenceNumber;
      this.lastReadSequence = start.sequenceNumber;
    }
    // Page "Time windows": the state travels with the shard's processing; a restarted mapping carries on the window it was in.
    if (restoredWindow !== undefined && ctx.tumblingWindowInSeconds > 0) {
      this.windowState = { window: { startMs: restoredWindow.startMs, endMs: restoredWindow.endMs }, state: restoredWindow.state };
      this.committedWindow = restoredWindow;
    }
    const laneCount = ctx.tumblingWindowInSeconds > 0 ? 1 : ctx.settings.parallelizationFactor;
    this.lanes = Array.from({ length: laneCount }, (_, index) => ({ index, buffer: [] }));
    this.done = this.run(start);
  }

  get checkpoint(): string | undefined {
    return this.tracker.checkpoint ?? this.resumedFrom;
  }

  /** The open tumbling window as of the checkpoint, if any. */
  get persistedWindow(): StoredWindow | undefined {
    return this.committedWindow;
  }

  get pendingRecords(): number {
    return this.tracker.pending;
  }

  requestStop(): void {
    this.stopRequested = true;
    this.abort.abort();
    this.stopSignal.notify();
    this.laneSignal.notify();
    this.readerSignal.notify();
  }

  private async run(start: IteratorStart): Promise<boolean> {
    const reader = this.readLoop(start).catch((error: unknown) => {
      this.log.error({ err: error }, 'shard reader failed');
      this.requestStop();
    });
    await Promise.all([reader, ...this.lanes.map((lane) => this.laneLoop(lane))]);
    const finished = this.shardEnded && this.tracker.pending === 0 && !this.stopRequested;
    this.status = finished ? 'finished' : this.status;
    if (finished) this.ctx.emit({ type: 'shard-finished', shardId: this.shardId });
    return finished;
  }

  private pause(ms: number): Promise<void> {
    return this.stopRequested ? Promise.resolve() : this.stopSignal.wait(ms);
  }

  // ---- reading ---------------------------------------------------------------------------------

  /**
   * The iterator a start position reads from. AT_TIMESTAMP is read as TRIM_HORIZON with the records that
   * arrived before the timestamp skipped: Kinesis API reference, GetShardIterator ("AT_TIMESTAMP - Start
   * reading from the position denoted by a specific time stamp"; Timestamp: "If a record with this exact
   * time stamp does not exist, the iterator returned is for the next (later) record. If the time stamp is
   * older than the current trim horizon, the iterator returned is for the oldest untrimmed data record"),
   * so the first record read is the first with ApproximateArrivalTimestamp >= Timestamp, and every record
   * after it follows. Same result on every engine; GetShardIterator AT_TIMESTAMP itself is not used because
   * kinesalite 3.3.3 never answers it when no record arrived at or after the timestamp (docs/semantics.md).
   */
  private acquire(start: IteratorStart): Promise<string | undefined> {
    if (start.type !== 'AT_TIMESTAMP') return this.iteratorFor(start);
    this.skipBeforeMs = (start.timestamp ?? new Date(0)).getTime();
    return this.iteratorFor({ type: 'TRIM_HORIZON' });
  }

  /** Drops the records before `skipBeforeMs` up to the first one at or after it; from there on nothing is skipped. */
  private skipEarly(records: _Record[]): _Record[] {
    const from = this.skipBeforeMs;
    if (from === undefined || records.length === 0) return records;
    const first = records.findIndex((r) => (r.ApproximateArrivalTimestamp?.getTime() ?? 0) >= from);
    const skipped = first === -1 ? records : records.slice(0, first);
    const last = skipped[skipped.length - 1];
    if (last?.SequenceNumber !== undefined) this.lastReadSequence = last.SequenceNumber;
    if (first === -1) return [];
    this.skipBeforeMs = undefined;
    return records.slice(first);
  }

  private async iteratorFor(start: IteratorStart): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = {
      StreamName: this.ctx.options.streamName,
      ShardId: this.shardId,
      ShardIteratorType: start.type,
    };
    if (start.type === 'AT_TIMESTAMP') input.Timestamp = start.timestamp;
    if (start.type === 'AFTER_SEQUENCE_NUMBER') input.StartingSequenceNumber = start.sequenceNumber ?? this.lastReadSequence;
    for (;;) {
      try {
        return (await this.ctx.options.kinesis.send(new GetShardIteratorCommand(input), { abortSignal: this.abort.signal })).ShardIterator;
      } catch (error) {
        if (this.stopRequested) return undefined;
        if (start.type === 'AFTER_SEQUENCE_NUMBER' && (error instanceof InvalidArgumentException || error instanceof ResourceNotFoundException)) {
          // The sequence number is no longer in the shard (trimmed after the retention period, or not of
          // this shard): read from the oldest record still there, as Lambda does for records that expired.
          this.log.warn(
            { err: error, sequenceNumber: input.StartingSequenceNumber },
            'the checkpoint is no longer readable (expired or trimmed?): reading the shard from TRIM_HORIZON',
          );
          this.resumedFrom = undefined;
          this.lastReadSequence = undefined;
          this.iteratorType = 'TRIM_HORIZON';
          return this.iteratorFor({ type: 'TRIM_HORIZON' });
        }
        this.log.warn({ err: error }, 'GetShardIterator failed; retrying');
        await this.pause(this.ctx.timing.readErrorBackoffMs);
      }
    }
  }

  private bufferedCount(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.buffer.length, 0);
  }

  private async readLoop(start: IteratorStart): Promise<void> {
    const { timing } = this.ctx;
    let iterator = start.iterator ?? (await this.acquire(start));
    this.ctx.emit({ type: 'shard-started', shardId: this.shardId, iteratorType: this.iteratorType });
    while (!this.stopRequested && iterator !== undefined) {
      if (this.bufferedCount() >= timing.maxBufferedRecordsPerShard) {
        await this.readerSignal.wait(timing.pollIntervalMs);
        continue;
      }
      const pollStartedAt = this.ctx.clock.now();
      let out;
      try {
        out = await this.ctx.options.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: GET_RECORDS_LIMIT }), {
          abortSignal: this.abort.signal,
        });
      } catch (error) {
        if (this.stopRequested) break;
        if (error instanceof ExpiredIteratorException) {
          // Iterators expire after 5 minutes (Kinesis API reference, GetShardIterator): resume after the last record read.
          iterator = await this.acquire(
            this.lastReadSequence !== undefined
              ? { type: 'AFTER_SEQUENCE_NUMBER' }
              : start.resumeAt !== undefined
                ? { type: 'AT_TIMESTAMP', timestamp: start.resumeAt }
                : start,
          );
          continue;
        }
        // Errors before invocation (throttling, network) are retried; they consume no retry attempt
        // (page "Using AWS Lambda with Amazon Kinesis", Error handling).
        this.log.warn({ err: error }, 'GetRecords failed; backing off');
        await this.pause(timing.readErrorBackoffMs);
        continue;
      }
      this.lastPollStartedAt = pollStartedAt;
      this.millisBehindLatest = out.MillisBehindLatest ?? 0;
      const page = out.Records ?? [];
      const records = this.skipEarly(page);
      if (records.length > 0) this.dispatch(records.map((record) => toStreamRecord(record, this.recordContext())));
      iterator = out.NextShardIterator;
      if (iterator === undefined) {
        // A closed shard read to its end (no NextShardIterator): children may start once it is processed.
        this.shardEnded = true;
        this.millisBehindLatest = 0;
      }
      this.laneSignal.notify();
      if (iterator === undefined) break;
      // A page skipped whole (before an AT_TIMESTAMP start) may have more behind it: read on at the busy cadence.
      const skippedWhole = page.length > 0 && records.length === 0;
      await this.pause(skippedWhole ? timing.busyPollIntervalMs : nextPollDelayMs(records.length, out.MillisBehindLatest, timing));
    }
    this.laneSignal.notify();
  }

  private recordContext() {
    return {
      shardId: this.shardId,
      invokeIdentityArn: this.ctx.invokeIdentityArn,
      awsRegion: this.ctx.options.region,
      eventSourceARN: this.ctx.options.streamArn,
    };
  }

  private dispatch(records: StreamRecord[]): void {
    const { ctx } = this;
    const now = ctx.clock.now();
    this.tracker.track(records.map((r) => r.sequenceNumber));
    ctx.counters.recordsRead += records.length;
    const filtered: string[] = [];
    for (const record of records) {
      this.lastReadSequence = record.sequenceNumber;
      this.latestArrivalMs = Math.max(this.latestArrivalMs, record.arrivalMs);
      // invocation-eventfiltering: records that match no filter are not sent; the iterator moves past them.
      if (ctx.filter !== undefined && !ctx.filter.matches(record.data)) {
        filtered.push(record.sequenceNumber);
        ctx.emit({ type: 'filtered', shardId: this.shardId, sequenceNumber: record.sequenceNumber });
        continue;
      }
      const lane = this.lanes[this.lanes.length === 1 ? 0 : this.laneIndex(record.partitionKey)] as Lane;
      lane.buffer.push({ record, bufferedAt: now });
    }
    if (filtered.length > 0) {
      ctx.counters.recordsFiltered += filtered.length;
      this.complete(filtered);
    }
  }

  private laneIndex(partitionKey: string): number {
    let index = this.laneCache.get(partitionKey);
    if (index === undefined) {
      if (this.laneCache.size >= 10_000) this.laneCache.clear();
      index = laneOf(partitionKey, this.lanes.length);
      this.laneCache.set(partitionKey, index);
    }
    return index;
  }

  // ---- processing ------------------------------------------------------------------------------

  private complete(sequenceNumbers: readonly string[]): void {
    const moved = this.tracker.complete(sequenceNumbers);
    if (moved !== undefined) {
      this.resumedFrom = undefined;
      this.committedWindow =
        this.windowState === undefined
          ? undefined
          : { startMs: this.windowState.window.startMs, endMs: this.windowState.window.endMs, state: this.windowState.state };
      this.ctx.emit({ type: 'checkpoint', shardId: this.shardId, sequenceNumber: moved });
      this.ctx.progressChanged();
    }
    this.readerSignal.notify();
  }

  private host(lane: Lane): BatchHost {
    const tumbling = this.ctx.tumblingWindowInSeconds > 0;
    return {
      shardId: this.shardId,
      lane: lane.index,
      stopping: () => this.stopRequested,
      pause: (ms) => this.pause(ms),
      buildEvent: (records, final) => {
        const plain: KinesisEvent = { Records: records.map((r) => r.event) };
        if (!tumbling || this.windowState === undefined) return plain;
        return buildWindowEvent({
          records: plain.Records,
          window: this.windowState.window,
          state: this.windowState.state,
          shardId: this.shardId,
          eventSourceARN: this.ctx.options.streamArn,
          isFinalInvokeForWindow: final !== undefined,
          isWindowTerminatedEarly: final?.terminatedEarly ?? false,
        });
      },
      succeeded: async (records, state) => {
        const last = records[records.length - 1];
        if (last !== undefined) {
          const age = Math.max(0, this.ctx.clock.now() - last.arrivalMs);
          this.ctx.counters.iteratorAgeMs = age;
          this.ctx.counters.maxIteratorAgeMs = Math.max(this.ctx.counters.maxIteratorAgeMs, age);
        }
        this.ctx.counters.recordsProcessed += records.length;
        if (tumbling && this.windowState !== undefined) {
          this.windowState.state = state;
          if (stateSizeBytes(state) > WINDOW_STATE_LIMIT_BYTES) {
            // "Your state can be a maximum of 1 MB per shard. If it exceeds that size, Lambda terminates the window early."
            this.log.warn({ bytes: stateSizeBytes(state) }, 'window state above 1 MB: terminating the window early');
            // Stopped before the early final invoke succeeded: the records stay pending (read again after a
            // restart, with the state as of the checkpoint), so the terminated state is not lost.
            if (!(await runFinalInvoke(this.ctx, this.host(lane), true))) return;
            this.windowState.state = {};
          }
        }
        this.complete(records.map((r) => r.sequenceNumber));
      },
      discarded: (records) => this.complete(records.map((r) => r.sequenceNumber)),
    };
  }

  private readerView() {
    return { latestArrivalMs: this.latestArrivalMs, lastPollStartedAt: this.lastPollStartedAt, shardEnded: this.shardEnded };
  }

  /**
   * The mapping stops with a window open. A stream that outlives the mapping keeps it open: it is stored
   * with the checkpoint (if there is a store) and carries on after a restart. A stream that ends with
   * the mapping (`closeWindowsAtStop`) closes it with its final invoke, as a shard end does. Either way
   * nothing is dropped without a word.
   */
  private async windowAtStop(host: BatchHost): Promise<void> {
    const open = this.windowState;
    if (open === undefined) return;
    const window = { start: formatWindowTime(open.window.startMs), end: formatWindowTime(open.window.endMs) };
    if (this.ctx.options.closeWindowsAtStop) {
      const ended = await runFinalInvoke(this.ctx, host, false);
      if (ended) {
        this.committedWindow = undefined;
        this.ctx.progressChanged();
        this.log.info({ window }, 'stream ends with the mapping: open window closed with its final invoke at stop');
      } else {
        this.log.warn({ window }, 'the final invoke of the open window failed at stop: its figures were not published');
        this.ctx.emit({ type: 'window-dropped', shardId: this.shardId, window });
      }
    } else if (this.ctx.options.checkpointStore === undefined) {
      this.log.warn({ window }, 'open window dropped at stop: no checkpoint store keeps its state and no final invoke was asked for');
      this.ctx.emit({ type: 'window-dropped', shardId: this.shardId, window });
    }
  }

  private async laneLoop(lane: Lane): Promise<void> {
    const { ctx } = this;
    const tumbling = ctx.tumblingWindowInSeconds > 0;
    const host = this.host(lane);
    for (;;) {
      const now = ctx.clock.now();
      const head = lane.buffer[0];
      if (tumbling && this.windowState !== undefined) {
        const current = this.windowState.window;
        const headInWindow = head !== undefined && windowOf(head.record.arrivalMs, ctx.tumblingWindowInSeconds).startMs === current.startMs;
        if (!headInWindow) {
          if (this.stopRequested) {
            await this.windowAtStop(host);
            this.windowState = undefined;
          } else if (windowClosable(current, this.readerView())) {
            // End of the window: the final invoke with isFinalInvokeForWindow, then the state is dropped.
            const ended = await runFinalInvoke(ctx, host, false);
            this.windowState = undefined;
            if (ended) {
              // The window is over (its state dropped): a restart must not invoke it again. When the
              // mapping stopped before the final invoke succeeded, the stored window is kept for the restart.
              this.committedWindow = undefined;
              ctx.progressChanged();
            }
            continue;
          } else {
            await this.laneSignal.wait(Math.max(1, current.endMs - now));
            continue;
          }
        }
      }
      if (head === undefined) {
        if (this.stopRequested || this.shardEnded) return;
        await this.laneSignal.wait();
        continue;
      }
      let flush = this.stopRequested || this.shardEnded;
      let extraEventBytes = 0;
      let sameGroup: ((a: StreamRecord, b: StreamRecord) => boolean) | undefined;
      if (tumbling) {
        const window = windowOf(head.record.arrivalMs, ctx.tumblingWindowInSeconds);
        // A new window starts with a fresh state.
        this.windowState ??= { window, state: {} };
        flush ||= windowClosable(window, this.readerView());
        extraEventBytes = windowEventOverheadBytes(this.windowState.state, this.shardId, ctx.options.streamArn);
        const length = ctx.tumblingWindowInSeconds;
        sameGroup = (a, b) => windowOf(a.arrivalMs, length).startMs === windowOf(b.arrivalMs, length).startMs;
      }
      const assembled = assembleBatch(
        lane.buffer,
        now,
        { batchSize: ctx.settings.batchSize, maximumBatchingWindowInSeconds: ctx.settings.maximumBatchingWindowInSeconds, extraEventBytes },
        { flush, ...(sameGroup ? { sameGroup } : {}) },
      );
      if (assembled.trigger === undefined) {
        await this.laneSignal.wait(assembled.readyAt !== undefined ? Math.max(1, assembled.readyAt - now) : undefined);
        continue;
      }
      lane.buffer.splice(0, assembled.records.length);
      await runBatch(ctx, host, assembled.records);
      // An open window still gets its turn at the top of the loop (windowAtStop).
      if (this.stopRequested && lane.buffer.length === 0 && !(tumbling && this.windowState !== undefined)) return;
    }
  }
}
