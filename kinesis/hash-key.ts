/**
 * Partition key -> shard, the way Kinesis does it: "Kinesis Data Streams uses MD5 to map partition
 * keys to 128-bit integer values and to map associated data records to shards using the hash key
 * ranges of the shards" (Kinesis API reference, PutRecords / Shard.HashKeyRange).
 * The MD5 digest is read as a big-endian unsigned 128-bit integer.
 */
import { createHash } from 'node:crypto';
import type { Shard } from '@aws-sdk/client-kinesis';

/** The largest hash key: 2^128 - 1. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** MD5 of the UTF-8 partition key as an unsigned big-endian 128-bit integer. */
export function partitionKeyToHashKey(partitionKey: string): bigint {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest();
  return (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
}

/** Decimal string form, as `ExplicitHashKey` and `HashKeyRange` carry it. */
export function hashKeyToString(hashKey: bigint): string {
  return hashKey.toString(10);
}

export interface ShardRange {
  readonly shardId: string;
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * Lookup of the open shard owning a hash key, by binary search over sorted, non-overlapping ranges.
 * Build once per shard listing, not per record.
 */
export class ShardMap {
  readonly ranges: readonly ShardRange[];

  constructor(ranges: readonly ShardRange[]) {
    this.ranges = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** From a ListShards result: only open shards (no EndingSequenceNumber) take writes. */
  static fromShards(shards: readonly Shard[]): ShardMap {
    const ranges: ShardRange[] = [];
    for (const shard of shards) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
      const range = shard.HashKeyRange;
      if (!shard.ShardId || !range?.StartingHashKey || !range.EndingHashKey) continue;
      ranges.push({ shardId: shard.ShardId, start: BigInt(range.StartingHashKey), end: BigInt(range.EndingHashKey) });
    }
    return new ShardMap(ranges);
  }

  /** The shard whose range contains `hashKey`, or undefined when no open shard covers it. */
  shardForHashKey(hashKey: bigint): ShardRange | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const range = this.ranges[mid]!;
      if (hashKey < range.start) hi = mid - 1;
      else if (hashKey > range.end) lo = mid + 1;
      else return range;
    }
    return undefined;
  }

  shardForPartitionKey(partitionKey: string): ShardRange | undefined {
    return this.shardForHashKey(partitionKeyToHashKey(partitionKey));
  }
}

/** Shard id for a partition key among `shards` (open shards only). */
export function shardIdForPartitionKey(shards: readonly Shard[], partitionKey: string): string | undefined {
  return ShardMap.fromShards(shards).shardForPartitionKey(partitionKey)?.shardId;
}
