/**
 * Follows every shard of a stream with GetRecords (Kinesis API reference: ListShards,
 * GetShardIterator, GetRecords), handing each page of records to a callback.
 *
 * - Start position per shard: LATEST (open shards only), TRIM_HORIZON, or AT_TIMESTAMP.
 * - Resharding: a shard whose NextShardIterator is null is closed and fully read; its children
 *   start (from TRIM_HORIZON) only once every parent is finished, so per-key order holds.
 * - Pace: at most one GetRecords per shard every `busyIntervalMs` while behind (Kinesis allows 5
 *   per shard per second, shared with the event source mappings) and every `pollIntervalMs` once
 *   caught up (Lambda's own rhythm: about once per second).
 * - Caught up = a page with no records and MillisBehindLatest 0.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { listAllShards } from '../../kinesis/client';

export type TailStart = { readonly type: 'LATEST' } | { readonly type: 'TRIM_HORIZON' } | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date };

export interface TailOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly start: TailStart;
  /** Called with every non-empty page, in order per shard. Return `false` to stop tailing. */
  readonly onRecords: (shardId: string, records: readonly _Record[]) => boolean | void;
  /** Stop once every shard is caught up (or finished). */
  readonly untilCaughtUp?: boolean;
  readonly limit?: number;
  readonly pollIntervalMs?: number;
  readonly busyIntervalMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Emulate AT_TIMESTAMP by reading from TRIM_HORIZON and skipping records that arrived earlier.
   * For the local emulators: kinesalite never answers GetShardIterator AT_TIMESTAMP on a shard with
   * no record at or after the timestamp (AWS returns an iterator at the tip), and kinesis-mock does
   * not honour AT_TIMESTAMP. Local streams are small, so the scan is cheap.
   */
  readonly timestampByScan?: boolean;
}

interface ShardState {
  readonly shard: Shard;
  status: 'waiting' | 'reading' | 'finished';
  caughtUp: boolean;
}

export async function tailStream(options: TailOptions): Promise<void> {
  const pollMs = options.pollIntervalMs ?? 1000;
  const busyMs = options.busyIntervalMs ?? 200;
  const states = new Map<string, ShardState>();
  const running = new Set<Promise<void>>();
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  options.signal?.addEventListener('abort', stop, { once: true });

  const allCaughtUp = () => [...states.values()].every((s) => s.status === 'finished' || (s.status === 'reading' && s.caughtUp));

  const discover = async (initial: boolean): Promise<void> => {
    const shards = await listAllShards(options.kinesis, options.streamName);
    const known = new Set(shards.map((s) => s.ShardId!));
    for (const shard of shards) {
      if (states.has(shard.ShardId!)) continue;
      const open = shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
      // LATEST: closed shards hold nothing new. Otherwise read parents before children.
      if (initial && options.start.type === 'LATEST' && !open) continue;
      states.set(shard.ShardId!, { shard, status: 'waiting', caughtUp: false });
    }
    for (const state of states.values()) {
      if (state.status !== 'waiting') continue;
      const parents = [state.shard.ParentShardId, state.shard.AdjacentParentShardId].filter(
        (p): p is string => p !== undefined && known.has(p) && states.has(p),
      );
      if (parents.some((p) => states.get(p)!.status !== 'finished')) continue;
      state.status = 'reading';
      const startType: TailStart = initial ? options.start : { type: 'TRIM_HORIZON' };
      const task = readShard(state, startType).finally(() => running.delete(task));
      running.add(task);
    }
  };

  const readShard = async (state: ShardState, requested: TailStart): Promise<void> => {
    const shardId = state.shard.ShardId!;
    const notBefore = requested.type === 'AT_TIMESTAMP' && options.timestampByScan ? requested.timestamp.getTime() : undefined;
    const start: TailStart = notBefore !== undefined ? { type: 'TRIM_HORIZON' } : requested;
    const iteratorInput = (after?: string): GetShardIteratorCommandInput => {
      const base = { StreamName: options.streamName, ShardId: shardId };
      if (after !== undefined) return { ...base, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after };
      if (start.type === 'AT_TIMESTAMP') return { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: start.timestamp };
      return { ...base, ShardIteratorType: start.type };
    };
    let iterator = (await options.kinesis.send(new GetShardIteratorCommand(iteratorInput()))).ShardIterator;
    let last: string | undefined;
    while (!stopped && iterator) {
      let out;
      try {
        out = await options.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, ...(options.limit ? { Limit: options.limit } : {}) }));
      } catch (error) {
        // Iterators expire after 5 minutes; resume right after the last record seen.
        if (!(error instanceof ExpiredIteratorException)) throw error;
        iterator = (await options.kinesis.send(new GetShardIteratorCommand(iteratorInput(last)))).ShardIterator;
        continue;
      }
      const all = out.Records ?? [];
      const records = notBefore === undefined ? all : all.filter((r) => (r.ApproximateArrivalTimestamp?.getTime() ?? 0) >= notBefore);
      if (all.length > 0) last = all[all.length - 1]!.SequenceNumber;
      if (records.length > 0 && options.onRecords(shardId, records) === false) stop();
      iterator = out.NextShardIterator ?? undefined;
      state.caughtUp = all.length === 0 && out.MillisBehindLatest === 0;
      if (!iterator) break;
      if (options.untilCaughtUp && allCaughtUp()) stop();
      if (stopped) break;
      await sleep(state.caughtUp ? pollMs : busyMs, options.signal);
    }
    if (!iterator) {
      state.status = 'finished';
      if (!stopped) await discover(false);
      if (options.untilCaughtUp && allCaughtUp()) stop();
    }
  };

  try {
    await discover(true);
    if (options.untilCaughtUp && states.size === 0) return;
    while (running.size > 0) await Promise.race(running);
  } catch (error) {
    stop(); // one shard failed: stop the others too
    await Promise.allSettled(running);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
