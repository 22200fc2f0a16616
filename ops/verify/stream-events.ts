/**
 * Every user event a stream holds, read from the oldest record of every shard (open and closed) to its
 * tip, decoded and validated exactly as the consumers do (ops/decode/record-inspector.ts): the input
 * of the ground-truth check.
 *
 * Kinesis API reference, GetRecords: a page may be empty while the iterator is still behind
 * (`MillisBehindLatest` > 0), so reading stops only on a null `NextShardIterator` (a closed shard
 * read to its end) or an empty page with `MillisBehindLatest` 0 (the tip of an open shard).
 */
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { listAllShards } from '../../kinesis/client';
import { RecordInspector } from '../decode/record-inspector';
import type { GroundTruthEvent } from './ground-truth';

/** Empty pages in a row after which a shard that still claims to be behind is reported, not read forever. */
const MAX_EMPTY_PAGES = 200;

export interface StreamEvents {
  readonly streamName: string;
  readonly events: GroundTruthEvent[];
  /** Kinesis records read (a KPL aggregate is one record holding several events). */
  readonly records: number;
  readonly shards: number;
}

export async function readStreamEvents(kinesis: KinesisClient, streamName: string, streamArn: string): Promise<StreamEvents> {
  const inspector = new RecordInspector();
  const shards = await listAllShards(kinesis, streamName);
  const events: GroundTruthEvent[] = [];
  let records = 0;
  for (const shard of shards) {
    const shardId = shard.ShardId!;
    let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' })))
      .ShardIterator;
    let emptyPages = 0;
    while (iterator !== undefined && iterator !== null) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const got = page.Records ?? [];
      records += got.length;
      if (got.length > 0) {
        // The raw record data travels along: the mapping's filter judges the Kinesis record's data.
        const dataBySequence = new Map(got.map((r) => [r.SequenceNumber!, r.Data ?? new Uint8Array()]));
        for (const event of inspector.inspectRecords(got, shardId, streamArn)) events.push({ ...event, data: dataBySequence.get(event.sequenceNumber)! });
        emptyPages = 0;
      } else {
        if (page.MillisBehindLatest === 0 || page.MillisBehindLatest === undefined) break;
        if (++emptyPages >= MAX_EMPTY_PAGES) throw new Error(`${streamName}/${shardId}: still ${page.MillisBehindLatest} ms behind after ${MAX_EMPTY_PAGES} empty GetRecords pages`);
      }
      iterator = page.NextShardIterator;
    }
  }
  return { streamName, events, records, shards: shards.length };
}
