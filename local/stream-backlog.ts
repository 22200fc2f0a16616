/**
 * What a runner on a stream that outlives it (`--persist-stream`, `--endpoint`) must drain besides its
 * own records: the records already on the stream that a consumer had not checkpointed when this run
 * began (an earlier run killed before it caught up). An AWS mapping resumes from its checkpoint
 * ("Lambda keeps track of the last record processed and resumes processing from that point", Lambda
 * developer guide, "Using Lambda with Kinesis", Enabled), so those records are this run's work as much
 * as its own.
 *
 * - At start (mappings started, upstream not yet): the consumers' checkpoints are noted at once, and
 *   the shards are read in the background (a Kinesis that does not answer never delays the start):
 *   per shard, the records after each consumer's checkpoint that arrived before this run's start
 *   (ApproximateArrivalTimestamp) are that consumer's BACKLOG. Only for a consumer that reads them: it
 *   has a checkpoint on the shard, or starts at TRIM_HORIZON (a LATEST or AT_TIMESTAMP mapping without
 *   a checkpoint never reads what was there before it started).
 * - At drain (upstream stopped): the tip of every shard as it is then. A consumer has drained a shard
 *   when its checkpoint is at or past that tip, or the shard is finished (closed and read), or, for a
 *   consumer without the backlog, when nothing arrived on the shard during the run.
 * Every read goes from a known sequence number (the lowest checkpoint at start, the highest known one
 * at drain) to the tip, so it costs the backlog, not the stream's length.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { StartingPosition } from '../pipeline/definition-schema';
import type { ShardStats } from './esm/types';
import type { LocalStream } from './streams';

/** Empty pages in a row after which a shard that still claims to be behind is reported, not read forever. */
const MAX_EMPTY_PAGES = 200;
/** GetRecords Limit of these reads: pages of 1000 (a drain reads a short tail; a backlog takes a few pages). */
export const TAIL_PAGE_LIMIT = 1000;

export interface BacklogConsumer {
  readonly name: string;
  readonly stream: LocalStream;
  readonly startingPosition: StartingPosition;
  /** The mapping's view of a shard now (its checkpoint, whether it is finished). */
  shard(shardId: string): ShardStats | undefined;
}

/** Per consumer: records of earlier runs waiting at this run's start, and how many are checkpointed now. */
export interface BacklogCount {
  readonly backlogAtStart: number;
  readonly backlogCheckpointed: number;
}

const seq = (s: string | undefined): bigint | undefined => (s === undefined ? undefined : BigInt(s));
const max = (a: bigint | undefined, b: bigint | undefined) => (a === undefined ? b : b === undefined || a > b ? a : b);

interface TailRecord {
  readonly sequence: bigint;
  readonly arrivalMs: number;
}

/** Records of a shard after `after` (from TRIM_HORIZON when undefined) up to its tip, in order. */
export async function readShardTail(kinesis: KinesisClient, streamName: string, shardId: string, after: bigint | undefined): Promise<TailRecord[]> {
  const start =
    after === undefined
      ? ({ ShardIteratorType: 'TRIM_HORIZON' } as const)
      : ({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after.toString() } as const);
  let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ...start }))).ShardIterator;
  const tail: TailRecord[] = [];
  let emptyPages = 0;
  // Kinesis API reference, GetRecords: a page may be empty while the iterator is still behind; the tip is
  // an empty page with MillisBehindLatest 0, the end of a closed shard a null NextShardIterator.
  while (iterator !== undefined && iterator !== null) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: TAIL_PAGE_LIMIT }));
    const records = page.Records ?? [];
    for (const record of records) tail.push({ sequence: BigInt(record.SequenceNumber!), arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? 0 });
    if (records.length > 0) emptyPages = 0;
    else if (page.MillisBehindLatest === 0 || page.MillisBehindLatest === undefined) break;
    else if (++emptyPages >= MAX_EMPTY_PAGES) throw new Error(`${streamName}/${shardId}: still ${page.MillisBehindLatest} ms behind after ${MAX_EMPTY_PAGES} empty GetRecords pages`);
    iterator = page.NextShardIterator;
  }
  return tail;
}

/** Count of sorted `values` in (lo, hi]. */
function countIn(values: readonly bigint[], lo: bigint | undefined, hi: bigint | undefined): number {
  if (hi === undefined) return 0;
  const firstAbove = (bound: bigint) => {
    let a = 0;
    let b = values.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (values[m]! <= bound) a = m + 1;
      else b = m;
    }
    return a;
  };
  return firstAbove(hi) - (lo === undefined ? 0 : firstAbove(lo));
}

interface ShardAtStart {
  /** Records on the shard after the lowest checkpoint at start (sorted), the tip being the last. */
  readonly sequences: readonly bigint[];
  readonly tip: bigint | undefined;
}

export class StreamBacklog {
  /** consumer -> shard -> its checkpoint at start (undefined: none). */
  private readonly startCheckpoints: ReadonlyMap<string, ReadonlyMap<string, bigint | undefined>>;
  /** Records that arrived before this instant are from before this run. */
  private readonly cutoffMs: number;
  /** `${stream}|${shard}` -> the shard at start, once read. */
  private shards: ReadonlyMap<string, ShardAtStart> | undefined;
  private reading: Promise<ReadonlyMap<string, ShardAtStart>>;

  /** Call once the mappings have started (their stored checkpoints loaded) and before the upstream produces. */
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly consumers: readonly BacklogConsumer[],
  ) {
    // Checkpoints now, synchronously: the mappings start processing the backlog at once.
    this.startCheckpoints = new Map(consumers.map((c) => [c.name, new Map(c.stream.shardIds.map((s) => [s, seq(c.shard(s)?.checkpoint)]))]));
    this.cutoffMs = Date.now();
    this.reading = this.readStart();
    this.reading.catch(() => undefined); // awaited (and retried) by drainTarget
  }

  private async readStart(): Promise<ReadonlyMap<string, ShardAtStart>> {
    const shards = new Map<string, ShardAtStart>();
    for (const stream of new Set(this.consumers.map((c) => c.stream))) {
      const readers = this.consumers.filter((c) => c.stream === stream);
      for (const shardId of stream.shardIds) {
        const checkpoints = readers.map((c) => this.startCheckpoints.get(c.name)!.get(shardId));
        // From the lowest checkpoint; from TRIM_HORIZON as soon as one consumer has none.
        const from = checkpoints.includes(undefined) ? undefined : checkpoints.reduce((a, b) => (a! < b! ? a : b));
        const earlier = (await readShardTail(this.kinesis, stream.name, shardId, from)).filter((r) => r.arrivalMs < this.cutoffMs).map((r) => r.sequence);
        shards.set(`${stream.name}|${shardId}`, { sequences: earlier, tip: earlier.at(-1) ?? from });
      }
    }
    this.shards = shards;
    return shards;
  }

  private readsBacklog(consumer: BacklogConsumer, shardId: string): boolean {
    return consumer.startingPosition === 'TRIM_HORIZON' || this.startCheckpoints.get(consumer.name)!.get(shardId) !== undefined;
  }

  /** Zero until the stream was read at start (drainTarget waits for that read). */
  count(consumer: BacklogConsumer): BacklogCount {
    let backlogAtStart = 0;
    let backlogCheckpointed = 0;
    for (const shardId of consumer.stream.shardIds) {
      const shard = this.shards?.get(`${consumer.stream.name}|${shardId}`);
      if (shard === undefined || !this.readsBacklog(consumer, shardId)) continue;
      const from = this.startCheckpoints.get(consumer.name)!.get(shardId);
      backlogAtStart += countIn(shard.sequences, from, shard.tip);
      const stats = consumer.shard(shardId);
      const now = stats?.status === 'finished' ? shard.tip : seq(stats?.checkpoint);
      const reached = now === undefined || shard.tip === undefined ? undefined : now < shard.tip ? now : shard.tip;
      backlogCheckpointed += countIn(shard.sequences, from, reached);
    }
    return { backlogAtStart, backlogCheckpointed };
  }

  /**
   * Reads the tip of every shard now (call with the upstream stopped) and returns a test of "every
   * consumer has checkpointed up to it". A record written after this call is not waited for. Throws
   * on a Kinesis error (the caller retries).
   */
  async drainTarget(): Promise<() => boolean> {
    const shards = await this.reading.catch(() => (this.reading = this.readStart()));
    const targets: { consumer: BacklogConsumer; shardId: string; tip: bigint }[] = [];
    for (const [key, atStart] of shards) {
      const [streamName, shardId] = key.split('|') as [string, string];
      const readers = this.consumers.filter((c) => c.stream.name === streamName);
      let known = atStart.tip;
      for (const c of readers) known = max(known, seq(c.shard(shardId)?.checkpoint));
      const tip = (await readShardTail(this.kinesis, streamName, shardId, known)).at(-1)?.sequence ?? known;
      if (tip === undefined) continue;
      for (const consumer of readers) {
        // Nothing arrived during the run and the consumer does not read what was there before: nothing to wait for.
        if (!this.readsBacklog(consumer, shardId) && atStart.tip !== undefined && tip <= atStart.tip) continue;
        targets.push({ consumer, shardId, tip });
      }
    }
    return () =>
      targets.every(({ consumer, shardId, tip }) => {
        const stats = consumer.shard(shardId);
        const checkpoint = seq(stats?.checkpoint);
        return stats?.status === 'finished' || (checkpoint !== undefined && checkpoint >= tip);
      });
  }
}
