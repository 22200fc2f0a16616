import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ensureStream, listAllShards } from '../../kinesis/client';
import { MAX_HASH_KEY, ShardMap, partitionKeyToHashKey, shardIdForPartitionKey } from '../../kinesis/hash-key';
import { useKinesalite } from './helpers';

describe('partitionKeyToHashKey', () => {
  it('is the MD5 digest read as an unsigned big-endian 128-bit integer', () => {
    for (const key of ['a', 'order-1', 'ünïcødé', '']) {
      const hex = createHash('md5').update(key, 'utf8').digest('hex');
      expect(partitionKeyToHashKey(key)).toBe(BigInt(`0x${hex}`));
    }
    // Known vector: MD5("a") = 0cc175b9c0f1b6a831c399e269772661.
    expect(partitionKeyToHashKey('a').toString(16)).toBe('cc175b9c0f1b6a831c399e269772661');
  });

  it('stays within 0..2^128-1', () => {
    for (let i = 0; i < 1000; i++) {
      const h = partitionKeyToHashKey(`k${i}`);
      expect(h >= 0n && h <= MAX_HASH_KEY).toBe(true);
    }
  });
});

describe('ShardMap', () => {
  const shards = [
    { ShardId: 's2', HashKeyRange: { StartingHashKey: '200', EndingHashKey: '299' }, SequenceNumberRange: { StartingSequenceNumber: '1' } },
    { ShardId: 's1', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '199' }, SequenceNumberRange: { StartingSequenceNumber: '1' } },
    { ShardId: 'closed', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '299' }, SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } },
  ];
  it('finds the open shard containing a hash key, inclusive at both ends, ignoring closed shards', () => {
    const map = ShardMap.fromShards(shards);
    expect(map.ranges.map((r) => r.shardId)).toEqual(['s1', 's2']);
    expect(map.shardForHashKey(0n)?.shardId).toBe('s1');
    expect(map.shardForHashKey(199n)?.shardId).toBe('s1');
    expect(map.shardForHashKey(200n)?.shardId).toBe('s2');
    expect(map.shardForHashKey(299n)?.shardId).toBe('s2');
    expect(map.shardForHashKey(300n)).toBeUndefined();
  });
});

describe('agreement with a real engine', () => {
  const kinesis = useKinesalite();

  it('predicts the shard kinesalite picks for 200 keys on a 5-shard stream', async () => {
    await ensureStream(kinesis.client, { name: 'hash', shardCount: 5 });
    const shards = await listAllShards(kinesis.client, 'hash');
    expect(shards).toHaveLength(5);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = `key-${i}`;
      const out = await kinesis.client.send(new PutRecordCommand({ StreamName: 'hash', PartitionKey: key, Data: Buffer.from('x') }));
      expect(shardIdForPartitionKey(shards, key)).toBe(out.ShardId);
      seen.add(out.ShardId!);
    }
    expect(seen.size).toBe(5);
  });
});
