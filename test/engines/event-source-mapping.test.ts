/**
 * Scenario 2 on every engine: KinesisProducer -> stream -> LocalEventSourceMapping -> a consumer built
 * with createKinesisHandler. Every event takes effect once or is quarantined once, in order per
 * partition key, the checkpoint reaches the end of every shard; when retries run out, the on-failure
 * record's KinesisBatchInfo names a sequence range that really exists on that engine.
 */
import { GetRecordsCommand, GetShardIteratorCommand, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { expect } from 'vitest';
import { createKinesisHandler, InMemoryQuarantineSink } from '../../consumers/runtime/index';
import { LocalEventSourceMapping, type EsmClock, type FunctionInvoker, type OnFailureRecord } from '../../local/esm/index';
import { mappingSchema, type MappingSettings } from '../../pipeline/definition-schema';
import { KinesisProducer, type PutResult } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { byBigInt, EVERY_ENGINE, FAST_ESM_TIMING, forEachEngine, lambdaContext, readShards, scenario, waitFor, type EngineUnderTest } from './support';

const silent = createLogger({ name: 'engines-test', level: 'silent' });

function settings(input: Record<string, unknown>): MappingSettings {
  return mappingSchema.parse({ startingPosition: 'TRIM_HORIZON', reportBatchItemFailures: true, onFailureDestination: 'queue', ...input });
}

/** A consumer on the real runtime: records each handled event id; `fail(id, attempt)` decides transient failures. */
function consumer(fail: (event: OrderEvent, attempt: number) => boolean) {
  const effects: OrderEvent[] = [];
  const attempts = new Map<string, number>();
  const quarantine = new InMemoryQuarantineSink();
  const step = (event: OrderEvent) => {
    const attempt = (attempts.get(event.id) ?? 0) + 1;
    attempts.set(event.id, attempt);
    if (fail(event, attempt)) throw new Error(`transient failure of ${event.id} (test)`);
    effects.push(event);
  };
  const handler = createKinesisHandler<OrderEvent>({
    registry,
    consumerName: 'engines-esm',
    quarantine,
    metrics: false,
    logger: silent,
    handlers: { 'order.placed': step, 'order.paid': step, 'order.shipped': step, 'order.cancelled': step },
  });
  const invoke: FunctionInvoker = async (event) => {
    const started = performance.now();
    try {
      const response = await handler(event as KinesisStreamEvent, lambdaContext('engines-esm'));
      return { ok: true, response, durationMs: performance.now() - started };
    } catch (error) {
      return { ok: false, errorType: 'Unhandled', errorMessage: (error as Error).message, durationMs: performance.now() - started };
    }
  };
  return { effects, attempts, quarantine, invoke };
}

function startMapping(engine: EngineUnderTest, stream: { name: string; arn: string }, mappingSettings: MappingSettings, invoke: FunctionInvoker, clock?: EsmClock) {
  const onFailure: OnFailureRecord[] = [];
  const mapping = new LocalEventSourceMapping({
    kinesis: engine.client,
    consumerName: 'engines-esm',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:engines-esm',
    streamName: stream.name,
    streamArn: stream.arn,
    region: 'us-east-1',
    settings: mappingSettings,
    invoke,
    onFailure: { write: async (record) => void onFailure.push(record) },
    logger: silent,
    timing: FAST_ESM_TIMING,
    ...(clock !== undefined ? { clock } : {}),
  });
  return { mapping, onFailure };
}

/** Position of a user record in its shard: sequence number, then sub-sequence number. */
function byPosition(a: PutResult, b: PutResult): number {
  return byBigInt(a.sequenceNumber, b.sequenceNumber) || (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0);
}

/** Last sequence number per shard, as GetRecords returns the stream. */
async function shardEnds(engine: EngineUnderTest, streamName: string): Promise<Map<string, string>> {
  const ends = new Map<string, string>();
  for (const { shardId, records } of await readShards(engine.client, streamName)) {
    if (records.length > 0) ends.set(shardId, records[records.length - 1]!.SequenceNumber!);
  }
  return ends;
}

forEachEngine((engine) => {
  for (const aggregation of [false, true]) {
    scenario(
      engine,
      `${aggregation ? 'KPL-aggregated' : 'plain'} records: each event takes effect or is quarantined exactly once, in order per key, after one transient failure; checkpoints reach the shard ends; no on-failure record`,
      EVERY_ENGINE,
      async () => {
        const { events: count, invalid: invalidCount, keys } = engine.volume;
        const f = createFixtures({ seed: aggregation ? 41 : 42 });
        const orderIds = Array.from({ length: keys }, () => f.orderPlaced().data.orderId);
        const events = Array.from({ length: count }, (_, i) => f.orderPaid({ orderId: orderIds[i % keys]! }));
        const invalid = Array.from({ length: invalidCount }, (_, i) => ({ partitionKey: orderIds[i % keys]!, data: JSON.stringify(f.invalid().value) }));
        const flaky = events[Math.floor(count / 2)]!;
        const c = consumer((event, attempt) => event.id === flaky.id && attempt === 1);

        const stream = await engine.createStream(aggregation ? 'esm-agg' : 'esm-plain', 2);
        const { mapping, onFailure } = startMapping(engine, stream, settings({ batchSize: 25, maximumRetryAttempts: 3 }), c.invoke);
        await mapping.start();
        try {
          // Produced while the mapping polls.
          const producer = new KinesisProducer({ streamName: stream.name, client: engine.client, aggregation, ordered: true, logger: silent });
          const [puts] = await Promise.all([Promise.all(events.map((e) => producer.put(e))), Promise.all(invalid.map((r) => producer.putRecord(r)))]);
          await producer.close();
          const ends = await shardEnds(engine, stream.name);
          await waitFor(
            () => [...ends].every(([shardId, last]) => mapping.stats().shards[shardId]?.checkpoint === last),
            'checkpoints at the last record of every shard',
            60_000,
          );

          // Exactly once in effect (the runtime's idempotency absorbs redelivered siblings).
          expect(c.effects.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
          expect(c.attempts.get(flaky.id)).toBe(2);
          expect(c.quarantine.records.map((q) => Buffer.from(q.record.data!, 'base64').toString()).sort()).toEqual(invalid.map((r) => r.data).sort());
          // Order per partition key = order in the shard.
          for (const orderId of orderIds) {
            const expected = events.map((e, i) => ({ e, put: puts[i]! })).filter(({ e }) => e.data.orderId === orderId).sort((a, b) => byPosition(a.put, b.put)).map(({ e }) => e.id);
            expect(c.effects.filter((e) => e.data.orderId === orderId).map((e) => e.id)).toEqual(expected);
          }
          const stats = mapping.stats();
          expect(stats.retries).toBeGreaterThanOrEqual(1);
          expect(stats.recordsDiscarded).toBe(0);
          expect(stats.recordsPending).toBe(0);
          expect(onFailure).toEqual([]);
        } finally {
          await mapping.stop();
        }
      },
      90_000,
    );
  }

  scenario(
    engine,
    'retries exhausted: the on-failure record names a batch whose sequence range reads back from the engine (AT_SEQUENCE_NUMBER)',
    EVERY_ENGINE,
    async () => {
      const f = createFixtures({ seed: 43 });
      const orderIds = ['ord_poison_a', 'ord_poison_b', 'ord_poison_c'];
      const events = Array.from({ length: 30 }, (_, i) => f.orderPaid({ orderId: orderIds[i % 3]! }));
      const poison = events[12]!;
      const c = consumer((event) => event.id === poison.id);
      const stream = await engine.createStream('esm-exhausted', 1);
      const producer = new KinesisProducer({ streamName: stream.name, client: engine.client, ordered: true, logger: silent });
      const puts = await Promise.all(events.map((e) => producer.put(e)));
      await producer.close();
      const ends = await shardEnds(engine, stream.name);
      const [shardId, last] = [...ends][0]!;

      const { mapping, onFailure } = startMapping(engine, stream, settings({ batchSize: 10, maximumRetryAttempts: 2 }), c.invoke);
      await mapping.start();
      try {
        await waitFor(() => onFailure.length === 1 && mapping.stats().shards[shardId]?.checkpoint === last, 'one on-failure record and the checkpoint at the shard end', 60_000);
      } finally {
        await mapping.stop();
      }
      const [record] = onFailure;
      expect(record!.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 });
      const info = record!.KinesisBatchInfo;
      expect(info).toMatchObject({ shardId, streamArn: stream.arn, startSequenceNumber: puts[12]!.sequenceNumber });

      // Read the discarded range back from the engine: it starts at the poison record and holds batchSize records.
      const iterator = (
        await engine.client.send(
          new GetShardIteratorCommand({ StreamName: stream.name, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: info.startSequenceNumber }),
        )
      ).ShardIterator;
      const page = await engine.client.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const fromStart = page.Records ?? [];
      const endIndex = fromStart.findIndex((r) => r.SequenceNumber === info.endSequenceNumber);
      expect(endIndex).toBeGreaterThanOrEqual(0);
      const range: KinesisRecord[] = fromStart.slice(0, endIndex + 1);
      expect(range).toHaveLength(info.batchSize);
      expect(range[0]!.SequenceNumber).toBe(info.startSequenceNumber);
      expect(JSON.parse(Buffer.from(range[0]!.Data!).toString()).id).toBe(poison.id);
      expect(info.approximateArrivalOfFirstRecord).toBe(range[0]!.ApproximateArrivalTimestamp!.toISOString());
      expect(info.approximateArrivalOfLastRecord).toBe(range[range.length - 1]!.ApproximateArrivalTimestamp!.toISOString());

      // Nothing lost: every event took effect once, or lies in the discarded range; the poison never took effect.
      const discarded = new Set(range.map((r) => JSON.parse(Buffer.from(r.Data!).toString()).id as string));
      expect(c.effects.map((e) => e.id)).not.toContain(poison.id);
      expect(new Set(c.effects.map((e) => e.id)).size).toBe(c.effects.length);
      for (const event of events) expect(c.effects.some((e) => e.id === event.id) || discarded.has(event.id), event.id).toBe(true);
      // Records after the discarded batch were processed (the mapping moved on).
      expect(c.effects.map((e) => e.id)).toContain(events[events.length - 1]!.id);
    },
    90_000,
  );
  scenario(
    engine,
    "MaximumRecordAgeInSeconds is measured on the engine's ApproximateArrivalTimestamp: old records go to on-failure (RecordAgeExceeded) with ranges that read back, new ones are processed",
    EVERY_ENGINE,
    async () => {
      const f = createFixtures({ seed: 44 });
      const old = Array.from({ length: 20 }, () => f.orderPlaced());
      const fresh = Array.from({ length: 10 }, () => f.orderPlaced());
      const c = consumer(() => false);
      const stream = await engine.createStream('esm-age', 1);
      const producer = new KinesisProducer({ streamName: stream.name, client: engine.client, logger: silent });
      await Promise.all(old.map((e) => producer.put(e)));
      await producer.flush();
      // The mapping's clock runs 2 minutes ahead: every record already in the stream is older than 60 s.
      const clock = { offsetMs: 120_000, now() { return Date.now() + this.offsetMs; } };
      const { mapping, onFailure } = startMapping(engine, stream, settings({ batchSize: 10, maximumRecordAgeInSeconds: 60 }), c.invoke, clock);
      await mapping.start();
      try {
        await waitFor(() => onFailure.reduce((n, r) => n + r.KinesisBatchInfo.batchSize, 0) === old.length, 'every old record reported on-failure');
        clock.offsetMs = 0;
        await Promise.all(fresh.map((e) => producer.put(e)));
        await producer.close();
        await waitFor(() => c.effects.length === fresh.length, 'the fresh records processed');
      } finally {
        await mapping.stop();
      }
      expect(c.effects.map((e) => e.id).sort()).toEqual(fresh.map((e) => e.id).sort());
      const reported: string[] = [];
      for (const record of onFailure) {
        expect(record.requestContext.condition).toBe('RecordAgeExceeded');
        const info = record.KinesisBatchInfo;
        const iterator = (
          await engine.client.send(
            new GetShardIteratorCommand({ StreamName: stream.name, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: info.startSequenceNumber }),
          )
        ).ShardIterator;
        const records = (await engine.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: info.batchSize }))).Records ?? [];
        expect(records).toHaveLength(info.batchSize);
        expect(records[records.length - 1]!.SequenceNumber).toBe(info.endSequenceNumber);
        reported.push(...records.map((r) => JSON.parse(Buffer.from(r.Data!).toString()).id as string));
      }
      expect(reported.sort()).toEqual(old.map((e) => e.id).sort());
    },
  );
});
