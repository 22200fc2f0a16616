/** Read back everything in a stream (tests): every shard from TRIM_HORIZON until caught up. */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../../kinesis/client';

export interface StoredRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
}

/** All records, per shard in sequence order. */
export async function readAllRecords(client: KinesisClient, streamName: string): Promise<StoredRecord[]> {
  const shards = await listAllShards(client, streamName);
  const out: StoredRecord[] = [];
  for (const shard of shards) {
    const shardId = shard.ShardId!;
    let iterator = (
      await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        out.push({ shardId, sequenceNumber: r.SequenceNumber!, partitionKey: r.PartitionKey!, data: r.Data! });
      }
      if ((page.Records ?? []).length === 0 || page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}
