/** Creates the streams of the pipeline definition (when missing) and finds their ARNs and shards. */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { PipelineDefinition, StreamDefinition } from '../pipeline/definition-schema';
import { ensureStream, listAllShards } from '../kinesis/client';

/**
 * Shards of an ON_DEMAND stream created locally: a new on-demand stream starts with 4 MB/s write
 * capacity, i.e. 4 shards (Kinesis developer guide, "Choose the data stream capacity mode",
 * on-demand mode). The emulators know only provisioned streams, so it is created with 4 shards.
 */
export const ON_DEMAND_LOCAL_SHARDS = 4;

export interface LocalStream {
  name: string;
  arn: string;
  shardIds: string[];
}

export function localShardCount(stream: StreamDefinition): number {
  return stream.capacity.mode === 'PROVISIONED' ? stream.capacity.shardCount : ON_DEMAND_LOCAL_SHARDS;
}

export async function createPipelineStreams(client: KinesisClient, definition: PipelineDefinition): Promise<Map<string, LocalStream>> {
  const streams = new Map<string, LocalStream>();
  for (const [name, stream] of Object.entries(definition.streams)) {
    await ensureStream(client, { name, shardCount: localShardCount(stream), timeoutMs: 60_000 });
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    const arn = summary.StreamDescriptionSummary?.StreamARN;
    if (arn === undefined) throw new Error(`DescribeStreamSummary returned no StreamARN for ${name}`);
    const shards = await listAllShards(client, name);
    streams.set(name, { name, arn, shardIds: shards.map((s) => s.ShardId!).filter(Boolean) });
  }
  return streams;
}
