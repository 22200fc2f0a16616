/**
 * Packs user records into Kinesis records: one each, or KPL aggregates of records bound for the
 * same shard (shard from the stream's hash-key ranges; without a shard map, only records of the same
 * partition key share an aggregate, as only they are certain to share a shard).
 */
import { partitionKeyToHashKey } from '../kinesis/hash-key';
import { AggregateSizer, encodeAggregate, KPL_OVERHEAD_BYTES, varintSize } from '../kinesis/kpl';
import { aggregateEntry, singleEntry, type Entry, type UserRecord } from './records';
import type { ShardRouter } from './shard-router';

interface OpenAggregate {
  readonly shardId: string | undefined;
  readonly records: UserRecord[];
  readonly sizer: AggregateSizer;
  /** UTF-8 bytes of the first record's key: the aggregate's own partition key. */
  readonly keyBytes: number;
}

export interface PackerOptions {
  /** Aggregate at all (else every user record is its own Kinesis record). */
  aggregate: boolean;
  /** Largest aggregate, data + its partition key. */
  maxAggregateBytes: number;
  ordered: boolean;
  router: ShardRouter | undefined;
  /** Receives every sealed Kinesis record, in order. */
  emit: (entry: Entry) => void;
  /** Ordered mode: true while a sealed record of this key is unacknowledged. */
  isOutstanding: (partitionKey: string) => boolean;
}

export class RecordPacker {
  private readonly open = new Map<string, OpenAggregate>();

  constructor(private readonly options: PackerOptions) {}

  /** Open aggregates not yet sealed. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Place a record. Returns false (record not placed) when, in ordered mode, sealing the open
   * aggregate just made the record's key outstanding: it must wait for that aggregate's outcome.
   */
  place(record: UserRecord): boolean {
    const o = this.options;
    if (!o.aggregate) {
      o.emit(singleEntry(record, undefined, o.ordered));
      return true;
    }
    const { groupKey, shardId } = this.groupOf(record);
    let aggregate = this.open.get(groupKey);
    const keyBytes = Buffer.byteLength(record.partitionKey, 'utf8');
    // Upper bound of an aggregate holding only this record (key in the table and as the record's key).
    const alone = KPL_OVERHEAD_BYTES + 2 * keyBytes + record.data.length + 16 + varintSize(record.data.length);
    if (alone > o.maxAggregateBytes) {
      // Too big to share an aggregate: its own Kinesis record, after what is already open.
      if (aggregate) this.seal(groupKey, aggregate);
      if (o.ordered && o.isOutstanding(record.partitionKey)) return false;
      o.emit(singleEntry(record, shardId, o.ordered));
      return true;
    }
    if (aggregate && aggregate.sizer.sizeWith(record) + aggregate.keyBytes > o.maxAggregateBytes) {
      this.seal(groupKey, aggregate);
      aggregate = undefined;
      if (o.ordered && o.isOutstanding(record.partitionKey)) return false;
    }
    if (!aggregate) {
      aggregate = { shardId, records: [], sizer: new AggregateSizer(), keyBytes };
      this.open.set(groupKey, aggregate);
    }
    aggregate.records.push(record);
    aggregate.sizer.add(record);
    return true;
  }

  /** Seal every open aggregate (linger expired, flush, or the shard map changed). */
  sealAll(): void {
    for (const [groupKey, aggregate] of this.open) this.seal(groupKey, aggregate);
  }

  private seal(groupKey: string, aggregate: OpenAggregate): void {
    this.open.delete(groupKey);
    const { records } = aggregate;
    // An aggregate of one is sent as the plain record (as the KPL does).
    if (records.length === 1) this.options.emit(singleEntry(records[0]!, aggregate.shardId, this.options.ordered));
    else this.options.emit(aggregateEntry(records, encodeAggregate(records), aggregate.keyBytes, aggregate.shardId, this.options.ordered));
  }

  private groupOf(record: UserRecord): { groupKey: string; shardId: string | undefined } {
    const map = this.options.router?.map;
    if (map) {
      const hashKey = record.hashKey ?? partitionKeyToHashKey(record.partitionKey);
      const shard = map.shardForHashKey(hashKey);
      if (shard) return { groupKey: shard.shardId, shardId: shard.shardId };
    }
    return { groupKey: `key:${record.explicitHashKey ?? record.partitionKey}`, shardId: undefined };
  }
}
