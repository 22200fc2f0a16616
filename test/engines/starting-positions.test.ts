/**
 * Scenario 3: the mapping's LATEST and AT_TIMESTAMP starting positions on each engine (TRIM_HORIZON
 * runs in event-source-mapping.test.ts). Both engines implement GetShardIterator AT_TIMESTAMP (inclusive
 * of a record arriving exactly at the timestamp; checked below), but kinesalite's never answers when no
 * record of the shard arrived at or after the timestamp, so the mapping reads AT_TIMESTAMP as
 * TRIM_HORIZON and skips the earlier records (local/esm/shard-worker.ts): every scenario runs on both.
 */
import { GetRecordsCommand, GetShardIteratorCommand, InvalidArgumentException } from '@aws-sdk/client-kinesis';
import { expect } from 'vitest';
import { LocalEventSourceMapping, type KinesisEvent } from '../../local/esm/index';
import { mappingSchema, type MappingSettings } from '../../pipeline/definition-schema';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { EVERY_ENGINE, FAST_ESM_TIMING, forEachEngine, readShards, scenario, waitFor, type EngineUnderTest } from './support';

const silent = createLogger({ name: 'engines-test', level: 'silent' });

/** Events over enough order ids that both shards of a 2-shard stream get some (checked, not assumed). */
function events(seed: number, count: number): OrderEvent[] {
  const f = createFixtures({ seed });
  return Array.from({ length: count }, () => f.orderPlaced());
}

async function put(engine: EngineUnderTest, streamName: string, batch: readonly OrderEvent[]) {
  const producer = new KinesisProducer({ streamName, client: engine.client, logger: silent });
  const results = await Promise.all(batch.map((e) => producer.put(e)));
  await producer.close();
  return results;
}

/** A mapping whose function acknowledges everything and keeps the event ids it was given. */
async function startMapping(engine: EngineUnderTest, stream: { name: string; arn: string }, input: Record<string, unknown>) {
  const delivered: string[] = [];
  const mapping = new LocalEventSourceMapping({
    kinesis: engine.client,
    consumerName: 'engines-start',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:engines-start',
    streamName: stream.name,
    streamArn: stream.arn,
    region: 'us-east-1',
    settings: mappingSchema.parse({ batchSize: 100, ...input }) as MappingSettings,
    invoke: async (event) => {
      for (const r of (event as KinesisEvent).Records) delivered.push((JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { id: string }).id);
      return { ok: true, response: null, durationMs: 0 };
    },
    onFailure: { write: async () => undefined },
    logger: silent,
    timing: FAST_ESM_TIMING,
  });
  await mapping.start();
  return { mapping, delivered };
}

async function untilCheckpointsAtEnd(engine: EngineUnderTest, streamName: string, mapping: LocalEventSourceMapping): Promise<void> {
  const ends = new Map<string, string>();
  for (const { shardId, records } of await readShards(engine.client, streamName)) {
    if (records.length > 0) ends.set(shardId, records[records.length - 1]!.SequenceNumber!);
  }
  await waitFor(() => [...ends].every(([shardId, last]) => mapping.stats().shards[shardId]?.checkpoint === last), 'checkpoints at the shard ends');
}

/** The engine's clock must have passed `ms` before a record can arrive after it. */
async function untilAfter(ms: number): Promise<void> {
  await waitFor(() => Date.now() > ms + 1, 'the clock to pass the timestamp');
}

forEachEngine((engine) => {
  scenario(engine, 'LATEST: only records put after the mapping started are delivered', EVERY_ENGINE, async () => {
    const stream = await engine.createStream('latest', 2);
    const before = events(51, 20);
    const after = events(52, 20);
    await put(engine, stream.name, before);
    const { mapping, delivered } = await startMapping(engine, stream, { startingPosition: 'LATEST' });
    try {
      const puts = await put(engine, stream.name, after);
      expect(new Set(puts.map((p) => p.shardId)).size).toBe(2);
      await untilCheckpointsAtEnd(engine, stream.name, mapping);
      expect([...delivered].sort()).toEqual(after.map((e) => e.id).sort());
      expect(mapping.stats().recordsRead).toBe(after.length);
    } finally {
      await mapping.stop();
    }
  });

  scenario(
    engine,
    'AT_TIMESTAMP: records that arrived before the timestamp are skipped, those at or after it (and later ones) delivered',
    EVERY_ENGINE,
    async () => {
      const stream = await engine.createStream('at-timestamp', 2);
      const old = events(61, 20);
      const recent = events(62, 30);
      const later = events(63, 10);
      await put(engine, stream.name, old);
      const arrivals = (await readShards(engine.client, stream.name)).flatMap((s) => s.records.map((r) => r.ApproximateArrivalTimestamp!.getTime()));
      const timestamp = Math.max(...arrivals) + 1;
      await untilAfter(timestamp);
      const recentPuts = await put(engine, stream.name, recent);
      // Precondition of the direct GetShardIterator AT_TIMESTAMP calls below on kinesalite (see the file comment).
      expect(new Set(recentPuts.map((p) => p.shardId)).size).toBe(2);

      // The API the mapping relies on: a record arriving exactly at the timestamp is included; a future timestamp is rejected.
      const shards = await readShards(engine.client, stream.name);
      const firstRecent = shards[0]!.records.find((r) => r.ApproximateArrivalTimestamp!.getTime() >= timestamp)!;
      const exact = await engine.client.send(
        new GetShardIteratorCommand({ StreamName: stream.name, ShardId: shards[0]!.shardId, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: firstRecent.ApproximateArrivalTimestamp }),
      );
      const page = await engine.client.send(new GetRecordsCommand({ ShardIterator: exact.ShardIterator }));
      expect(page.Records?.[0]?.SequenceNumber).toBe(firstRecent.SequenceNumber);
      await expect(
        engine.client.send(
          new GetShardIteratorCommand({ StreamName: stream.name, ShardId: shards[0]!.shardId, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.now() + 3_600_000) }),
        ),
      ).rejects.toBeInstanceOf(InvalidArgumentException);

      const { mapping, delivered } = await startMapping(engine, stream, { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: new Date(timestamp).toISOString() });
      try {
        await put(engine, stream.name, later);
        await untilCheckpointsAtEnd(engine, stream.name, mapping);
        expect([...delivered].sort()).toEqual([...recent, ...later].map((e) => e.id).sort());
      } finally {
        await mapping.stop();
      }
    },
  );

  scenario(
    engine,
    'AT_TIMESTAMP after the last record of every shard: the mapping waits at the tip and delivers what arrives next',
    EVERY_ENGINE,
    async () => {
      const stream = await engine.createStream('at-timestamp-tip', 2);
      const old = events(71, 20);
      const recent = events(72, 20);
      await put(engine, stream.name, old);
      const arrivals = (await readShards(engine.client, stream.name)).flatMap((s) => s.records.map((r) => r.ApproximateArrivalTimestamp!.getTime()));
      const timestamp = Math.max(...arrivals) + 1;
      await untilAfter(timestamp);
      const { mapping, delivered } = await startMapping(engine, stream, { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: new Date(timestamp).toISOString() });
      try {
        await put(engine, stream.name, recent);
        await untilCheckpointsAtEnd(engine, stream.name, mapping);
        expect([...delivered].sort()).toEqual(recent.map((e) => e.id).sort());
      } finally {
        await mapping.stop();
      }
    },
  );
});
