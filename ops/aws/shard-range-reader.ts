/**
 * Reads back exactly the Kinesis records of one shard between two sequence numbers (inclusive) —
 * what an on-failure record points at — and says precisely what could not be read.
 *
 * Rules implemented (Kinesis API reference, GetShardIterator / GetRecords):
 * - AT_SEQUENCE_NUMBER starts at the batch's first record; GetRecords pages through the shard with
 *   NextShardIterator, as many calls as needed; a response may be empty while MillisBehindLatest > 0.
 * - A null NextShardIterator means the shard is closed and fully read (resharding).
 * - Iterators expire after 5 minutes (ExpiredIteratorException): a fresh one is taken
 *   AFTER_SEQUENCE_NUMBER the last record read; that is not data loss.
 * - Records older than the retention period are trimmed: TRIM_HORIZON then points past them. The
 *   start sequence number of an on-failure record is the sequence number of a real record, so if the
 *   first record read is later than it, the records before were trimmed.
 * - Within a shard sequence numbers increase; they are compared as 128-bit integers, never as strings.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  InvalidArgumentException,
  ResourceNotFoundException,
  type GetRecordsCommandOutput,
  type KinesisClient,
  type _Record,
} from '@aws-sdk/client-kinesis';

export interface ShardRange {
  readonly streamName: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** Records the batch had (KinesisBatchInfo.batchSize), when known: lets trimmed counts be exact. */
  readonly expectedCount?: number | undefined;
}

/** A part of the range that can no longer be read. */
export interface UnrecoverablePart {
  readonly reason: 'trimmed' | 'invalid-sequence-number' | 'shard-not-found' | 'end-not-reached';
  /** First sequence number of the lost part (inclusive). */
  readonly fromSequenceNumber: string;
  /** Last lost sequence number when known (inclusive), else the bound it lies before. */
  readonly toSequenceNumber: string;
  /** `to` is exact (inclusive) or an exclusive bound ("before the first record still readable"). */
  readonly toInclusive: boolean;
  /** Number of records lost, when it can be known (batch size minus records read). */
  readonly count?: number | undefined;
  readonly message: string;
}

export interface ShardRangeRead {
  readonly range: ShardRange;
  /** The records read, in sequence order, all within [start, end]. */
  readonly records: _Record[];
  readonly unrecoverable: UnrecoverablePart[];
  readonly getRecordsCalls: number;
}

export interface ShardRangeReaderOptions {
  /** GetRecords Limit (1..10000; default 1000). Small values page through more calls. */
  limit?: number;
  /** Minimum time between GetRecords calls on the shard (default 200 ms: Kinesis allows 5 per shard per second, shared with the event source mapping). */
  minIntervalMs?: number;
  /** Give up after this many GetRecords calls without reaching the end (default 10000). */
  maxCalls?: number;
  /**
   * Consecutive empty responses with MillisBehindLatest 0 before the shard counts as caught up
   * (default 5). One is not proof: an engine may return an empty page while skipping trimmed records.
   */
  maxIdlePolls?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ShardRangeReader {
  private readonly limit: number;
  private readonly minIntervalMs: number;
  private readonly maxCalls: number;
  private readonly maxIdlePolls: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly kinesis: KinesisClient,
    options: ShardRangeReaderOptions = {},
  ) {
    this.limit = options.limit ?? 1000;
    this.minIntervalMs = options.minIntervalMs ?? 200;
    this.maxCalls = options.maxCalls ?? 10_000;
    this.maxIdlePolls = options.maxIdlePolls ?? 5;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async read(range: ShardRange): Promise<ShardRangeRead> {
    const start = BigInt(range.startSequenceNumber);
    const end = BigInt(range.endSequenceNumber);
    const records: _Record[] = [];
    const unrecoverable: UnrecoverablePart[] = [];
    let calls = 0;

    let iterator: string | undefined;
    try {
      iterator = await this.iterator(range, 'AT_SEQUENCE_NUMBER', range.startSequenceNumber);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        unrecoverable.push(this.lost(range, 'shard-not-found', range.startSequenceNumber, range.endSequenceNumber, true, undefined, error.message));
        return { range, records, unrecoverable, getRecordsCalls: calls };
      }
      if (!(error instanceof InvalidArgumentException)) throw error;
      // Kinesis refuses a sequence number it no longer (or never) had: find where the shard starts now.
      const probe = await this.firstAvailable(range);
      calls += probe.calls;
      if (probe.sequenceNumber === undefined || BigInt(probe.sequenceNumber) > end) {
        unrecoverable.push(this.lost(range, 'trimmed', range.startSequenceNumber, range.endSequenceNumber, true, undefined, error.message));
        return { range, records, unrecoverable, getRecordsCalls: calls };
      }
      if (BigInt(probe.sequenceNumber) <= start) {
        // The range should still be there, yet Kinesis says the number is not of this shard/stream.
        unrecoverable.push(
          this.lost(range, 'invalid-sequence-number', range.startSequenceNumber, range.endSequenceNumber, true, undefined, error.message),
        );
        return { range, records, unrecoverable, getRecordsCalls: calls };
      }
      iterator = await this.iterator(range, 'AT_SEQUENCE_NUMBER', probe.sequenceNumber);
    }

    let lastRead: string | undefined;
    let done = false;
    let lastCall = 0;
    let idle = 0;
    while (!done) {
      if (calls >= this.maxCalls) break;
      const wait = lastCall + this.minIntervalMs - Date.now();
      if (calls > 0 && wait > 0) await this.sleep(wait);
      lastCall = Date.now();
      let out;
      try {
        calls += 1;
        out = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.limit }));
      } catch (error) {
        if (!(error instanceof ExpiredIteratorException)) throw error;
        iterator =
          lastRead === undefined
            ? await this.iterator(range, 'AT_SEQUENCE_NUMBER', range.startSequenceNumber)
            : await this.iterator(range, 'AFTER_SEQUENCE_NUMBER', lastRead);
        continue;
      }
      for (const record of out.Records ?? []) {
        const seq = BigInt(record.SequenceNumber!);
        if (seq > end) {
          done = true;
          break;
        }
        if (seq < start) continue;
        records.push(record);
        lastRead = record.SequenceNumber!;
        if (seq === end) {
          done = true;
          break;
        }
      }
      if (done) break;
      if (out.NextShardIterator === undefined || out.NextShardIterator === null) break; // shard closed and fully read
      const caughtUp = (out.Records?.length ?? 0) === 0 && out.MillisBehindLatest === 0;
      idle = caughtUp ? idle + 1 : 0;
      if (idle >= this.maxIdlePolls) break;
      iterator = out.NextShardIterator;
    }

    this.reportGaps(range, records, unrecoverable, done, calls);
    return { range, records, unrecoverable, getRecordsCalls: calls };
  }

  /** Trimmed head (first record read is after start) and unread tail (end never reached). */
  private reportGaps(range: ShardRange, records: _Record[], unrecoverable: UnrecoverablePart[], reachedEnd: boolean, calls: number): void {
    const missing = range.expectedCount !== undefined ? Math.max(0, range.expectedCount - records.length) : undefined;
    const first = records[0]?.SequenceNumber;
    if (first === undefined) {
      if (unrecoverable.length === 0) {
        unrecoverable.push(
          this.lost(range, 'trimmed', range.startSequenceNumber, range.endSequenceNumber, true, missing,
            'no record of the range is left in the shard: past the stream retention period'),
        );
      }
      return;
    }
    if (first !== range.startSequenceNumber) {
      unrecoverable.push(
        this.lost(range, 'trimmed', range.startSequenceNumber, first, false, reachedEnd ? missing : undefined,
          `the shard now starts at ${first}: the records before it are past the stream retention period`),
      );
    }
    if (!reachedEnd) {
      const last = records[records.length - 1]!.SequenceNumber!;
      unrecoverable.push(
        this.lost(range, 'end-not-reached', last, range.endSequenceNumber, true, undefined,
          calls >= this.maxCalls
            ? `stopped after ${calls} GetRecords calls without reaching the end sequence number`
            : 'the shard ended (or is caught up) before the end sequence number'),
      );
    }
  }

  /** Sequence number of the oldest record still in the shard (TRIM_HORIZON), if any. */
  private async firstAvailable(range: ShardRange): Promise<{ sequenceNumber?: string; calls: number }> {
    let iterator: string | undefined = await this.iterator(range, 'TRIM_HORIZON');
    let calls = 0;
    let idle = 0;
    while (iterator !== undefined && calls < this.maxCalls) {
      calls += 1;
      const out: GetRecordsCommandOutput = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const first = out.Records?.[0]?.SequenceNumber;
      if (first !== undefined) return { sequenceNumber: first, calls };
      idle = out.MillisBehindLatest === 0 ? idle + 1 : 0;
      if (idle >= this.maxIdlePolls) return { calls };
      iterator = out.NextShardIterator ?? undefined;
    }
    return { calls };
  }

  private async iterator(
    range: ShardRange,
    type: 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON',
    sequenceNumber?: string,
  ): Promise<string> {
    const out = await this.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: range.streamName,
        ShardId: range.shardId,
        ShardIteratorType: type,
        ...(sequenceNumber !== undefined ? { StartingSequenceNumber: sequenceNumber } : {}),
      }),
    );
    if (!out.ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${range.shardId}`);
    return out.ShardIterator;
  }

  private lost(
    range: ShardRange,
    reason: UnrecoverablePart['reason'],
    from: string,
    to: string,
    toInclusive: boolean,
    count: number | undefined,
    message: string,
  ): UnrecoverablePart {
    const known = count ?? (from === range.startSequenceNumber && to === range.endSequenceNumber ? range.expectedCount : undefined);
    return { reason, fromSequenceNumber: from, toSequenceNumber: to, toInclusive, count: known, message };
  }
}
