/**
 * Scenario 1 on every engine: KinesisProducer -> stream -> GetRecords -> the exact Lambda record
 * shape (local/esm's converter) -> createKinesisHandler. Plain and KPL-aggregated records must decode
 * to the same events; invalid records are quarantined with their payload; the partial batch response
 * names a sequence number the engine really assigned.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { expect } from 'vitest';
import { compareSequenceNumbers, createKinesisHandler, InMemoryQuarantineSink, type QuarantineRecord, type RecordMeta } from '../../consumers/runtime/index';
import { toStreamRecord } from '../../local/esm/stream-record';
import { KinesisProducer, type PutResult } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { orderPartitionKey, registry, type OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { byBigInt, EVERY_ENGINE, forEachEngine, lambdaContext, readShards, scenario, SEQUENCE_NUMBER_PATTERN, type EngineUnderTest, type ShardRecords, type Volume } from './support';

const silent = createLogger({ name: 'engines-test', level: 'silent' });
/** Records per Lambda event (a mapping's BatchSize). */
const BATCH = 100;

interface InvalidInput {
  readonly partitionKey: string;
  readonly bytes: Buffer;
}

interface Input {
  readonly valid: OrderEvent[];
  readonly invalid: InvalidInput[];
}

/** Valid order events spread over `keys` orders, plus contract violations and undecodable bytes. */
function makeInput(volume: Volume, seed: number): Input {
  const f = createFixtures({ seed });
  const orderIds = Array.from({ length: volume.keys }, () => f.orderPlaced().data.orderId);
  const valid = Array.from({ length: volume.events }, (_, i) => f.orderPaid({ orderId: orderIds[i % orderIds.length]! }));
  const invalid = Array.from({ length: volume.invalid }, (_, i): InvalidInput => {
    if (i % 3 === 2) return { partitionKey: `garbage-${i}`, bytes: Buffer.from([0xff, 0xfe, 0x00, i, 0x7b]) };
    const { value } = f.invalid();
    const orderId = (value as { data?: { orderId?: unknown } }).data?.orderId;
    return { partitionKey: typeof orderId === 'string' ? orderId : `invalid-${i}`, bytes: Buffer.from(JSON.stringify(value)) };
  });
  return { valid, invalid };
}

interface Handled {
  readonly event: OrderEvent;
  readonly meta: Pick<RecordMeta, 'sequenceNumber' | 'subSequenceNumber' | 'partitionKey' | 'shardId' | 'streamArn'>;
}

interface Run {
  readonly streamArn: string;
  readonly shards: ShardRecords[];
  readonly validPuts: PutResult[];
  readonly invalidPuts: PutResult[];
  readonly handled: Handled[];
  readonly quarantined: QuarantineRecord[];
  readonly failures: string[];
}

/** Lambda events of at most BATCH records per shard, built from what GetRecords returned. */
function lambdaEvents(shards: readonly ShardRecords[], streamArn: string): KinesisStreamEvent[] {
  const events: KinesisStreamEvent[] = [];
  for (const { shardId, records } of shards) {
    for (let i = 0; i < records.length; i += BATCH) {
      const context = { shardId, invokeIdentityArn: 'arn:aws:iam::000000000000:role/engines', awsRegion: 'us-east-1', eventSourceARN: streamArn };
      events.push({ Records: records.slice(i, i + BATCH).map((r) => toStreamRecord(r, context).event) });
    }
  }
  return events;
}

function buildHandler(handled: Handled[], sink: InMemoryQuarantineSink, failOnce?: string) {
  const seen = new Set<string>();
  const record = (event: OrderEvent, meta: RecordMeta) => {
    if (event.id === failOnce && !seen.has(event.id)) {
      seen.add(event.id);
      throw new Error('transient failure (test)');
    }
    const { sequenceNumber, subSequenceNumber, partitionKey, shardId, streamArn } = meta;
    handled.push({ event, meta: { sequenceNumber, subSequenceNumber, partitionKey, shardId, streamArn } });
  };
  return createKinesisHandler<OrderEvent>({
    registry,
    consumerName: 'engines-consumer',
    quarantine: sink,
    metrics: false,
    logger: silent,
    handlers: { 'order.placed': record, 'order.paid': record, 'order.shipped': record, 'order.cancelled': record },
  });
}

async function produceAndConsume(engine: EngineUnderTest, input: Input, aggregation: boolean): Promise<Run> {
  const stream = await engine.createStream(aggregation ? 'rt-agg' : 'rt-plain', 2);
  const producer = new KinesisProducer({ streamName: stream.name, client: engine.client, aggregation, ordered: true, logger: silent });
  const [validPuts, invalidPuts] = await Promise.all([
    Promise.all(input.valid.map((event) => producer.put(event))),
    Promise.all(input.invalid.map((r) => producer.putRecord({ partitionKey: r.partitionKey, data: r.bytes }))),
  ]);
  await producer.close();
  const shards = await readShards(engine.client, stream.name);
  const handled: Handled[] = [];
  const sink = new InMemoryQuarantineSink();
  const handler = buildHandler(handled, sink);
  const failures: string[] = [];
  for (const event of lambdaEvents(shards, stream.arn)) {
    const response = await handler(event, lambdaContext());
    failures.push(...response.batchItemFailures.map((f) => f.itemIdentifier));
  }
  return { streamArn: stream.arn, shards, validPuts, invalidPuts, handled, quarantined: sink.records, failures };
}

/** Sequence numbers of one shard, as GetRecords returned them. */
function sequenceNumbers(shards: readonly ShardRecords[], shardId: string): string[] {
  return shards.find((s) => s.shardId === shardId)?.records.map((r) => r.SequenceNumber!) ?? [];
}

function expectEngineSequenceNumbers(run: Run): void {
  for (const { records } of run.shards) {
    const seqs = records.map((r) => r.SequenceNumber!);
    for (const s of seqs) expect(s).toMatch(SEQUENCE_NUMBER_PATTERN);
    // Within a shard, later records have greater numbers (API reference, Record.SequenceNumber); the runtime's
    // string comparison must agree with numeric order on every pair the engine produced.
    for (let i = 1; i < seqs.length; i++) {
      expect(byBigInt(seqs[i - 1]!, seqs[i]!)).toBe(-1);
      expect(compareSequenceNumbers(seqs[i - 1]!, seqs[i]!)).toBeLessThan(0);
      expect(compareSequenceNumbers(seqs[i]!, seqs[0]!)).toBeGreaterThan(0);
    }
  }
}

function expectEveryEventOnce(run: Run, input: Input, aggregated: boolean): void {
  expect(run.failures).toEqual([]);
  expect(run.handled.map((h) => h.event.id).sort()).toEqual(input.valid.map((e) => e.id).sort());
  input.valid.forEach((event, i) => {
    const handled = run.handled.find((h) => h.event.id === event.id)!;
    const put = run.validPuts[i]!;
    // The event as produced, field for field, and where the producer was told it was written.
    expect(handled.event).toEqual(JSON.parse(JSON.stringify(event)));
    expect(handled.meta).toEqual({
      sequenceNumber: put.sequenceNumber,
      subSequenceNumber: put.subSequenceNumber,
      partitionKey: orderPartitionKey(event),
      shardId: put.shardId,
      streamArn: run.streamArn,
    });
    expect(sequenceNumbers(run.shards, put.shardId)).toContain(put.sequenceNumber);
    if (!aggregated) expect(put.subSequenceNumber).toBeUndefined();
  });
  if (aggregated) {
    // Aggregation really happened: several user records share one Kinesis record.
    const carriers = new Set(run.validPuts.map((p) => p.sequenceNumber));
    expect(carriers.size).toBeLessThan(run.validPuts.length / 2);
  }
}

function expectQuarantined(run: Run, input: Input, aggregated: boolean): Map<string, string> {
  expect(run.quarantined).toHaveLength(input.invalid.length);
  const kinds = new Map<string, string>();
  input.invalid.forEach((invalid, i) => {
    const base64 = invalid.bytes.toString('base64');
    const matching = run.quarantined.filter((q) => q.record.data === base64);
    expect(matching, `invalid input ${i}`).toHaveLength(1);
    const q = matching[0]!;
    const put = run.invalidPuts[i]!;
    expect(q.consumer).toBe('engines-consumer');
    expect(q.error.message.length).toBeGreaterThan(0);
    expect(q.record).toMatchObject({ streamArn: run.streamArn, shardId: put.shardId, sequenceNumber: put.sequenceNumber, aggregated, dataBytes: invalid.bytes.length });
    expect(q.record.subSequenceNumber).toBe(put.subSequenceNumber);
    expect(q.record.eventId).toBe(`${put.shardId}:${put.sequenceNumber}`);
    kinds.set(base64, q.error.kind);
  });
  return kinds;
}

forEachEngine((engine) => {
  scenario(
    engine,
    'plain and KPL-aggregated records decode identically through GetRecords and the runtime; invalid ones are quarantined with payload and reason',
    EVERY_ENGINE,
    async () => {
      const input = makeInput(engine.volume, 11);
      const plain = await produceAndConsume(engine, input, false);
      const aggregated = await produceAndConsume(engine, input, true);
      for (const run of [plain, aggregated]) expectEngineSequenceNumbers(run);
      expectEveryEventOnce(plain, input, false);
      expectEveryEventOnce(aggregated, input, true);
      const plainKinds = expectQuarantined(plain, input, false);
      const aggregatedKinds = expectQuarantined(aggregated, input, true);
      // Same verdict for the same bytes whether they travelled alone or inside an aggregate.
      expect(aggregatedKinds).toEqual(plainKinds);
      expect(new Set(plainKinds.values())).toContain('invalid-utf8');
      expect([...plainKinds.values()].some((k) => k === 'schema' || k === 'unknown-type' || k === 'unknown-version' || k === 'envelope')).toBe(true);
    },
    120_000,
  );

  for (const aggregation of [false, true]) {
    scenario(
      engine,
      `partial batch response (${aggregation ? 'KPL-aggregated' : 'plain'} records) names the lowest failed sequence number as the engine assigned it`,
      EVERY_ENGINE,
      async () => {
        const f = createFixtures({ seed: 23 });
        const orderIds = ['ord_engines_a', 'ord_engines_b', 'ord_engines_c'];
        const events = Array.from({ length: 24 }, (_, i) => f.orderPaid({ orderId: orderIds[i % 3]! }));
        const stream = await engine.createStream(aggregation ? 'pbr-agg' : 'pbr-plain', 1);
        const producer = new KinesisProducer({ streamName: stream.name, client: engine.client, aggregation, ordered: true, logger: silent });
        // Three waves, flushed one by one: with aggregation, three aggregates of 8 user records.
        const puts: PutResult[] = [];
        for (let wave = 0; wave < 3; wave++) {
          const written = Promise.all(events.slice(wave * 8, wave * 8 + 8).map((e) => producer.put(e)));
          await producer.flush();
          puts.push(...(await written));
        }
        await producer.close();
        const shards = await readShards(engine.client, stream.name);
        const [event] = lambdaEvents(shards, stream.arn);
        expect(lambdaEvents(shards, stream.arn)).toHaveLength(1);
        const failing = 10; // a key-b event in the middle of the batch
        const handled: Handled[] = [];
        const handler = buildHandler(handled, new InMemoryQuarantineSink(), events[failing]!.id);

        const first = await handler(event!, lambdaContext());
        const failedSeq = puts[failing]!.sequenceNumber;
        expect(first.batchItemFailures).toEqual([{ itemIdentifier: failedSeq }]);
        expect(failedSeq).toMatch(SEQUENCE_NUMBER_PATTERN);
        const shardSeqs = sequenceNumbers(shards, puts[failing]!.shardId);
        expect(shardSeqs).toContain(failedSeq);
        // Later events of the failed key wait (order per key); every other event is done.
        const keyOfFailed = orderIds[failing % 3];
        const notHandled = events.filter((e) => !handled.some((h) => h.event.id === e.id)).map((e) => e.id);
        expect(notHandled).toEqual(events.filter((e, i) => i >= failing && e.data.orderId === keyOfFailed).map((e) => e.id));

        // Lambda redelivers from the reported record on (records with sequence number >= it, BigInt order).
        const redelivery = { Records: event!.Records.filter((r) => BigInt(r.kinesis.sequenceNumber) >= BigInt(failedSeq)) };
        expect(redelivery.Records.length).toBeGreaterThan(0);
        expect(redelivery.Records.length).toBeLessThan(event!.Records.length);
        const second = await handler(redelivery, lambdaContext());
        expect(second.batchItemFailures).toEqual([]);
        expect(handled.map((h) => h.event.id).sort()).toEqual(events.map((e) => e.id).sort());
        const order = handled.filter((h) => h.event.data.orderId === keyOfFailed).map((h) => h.event.id);
        expect(order).toEqual(events.filter((e) => e.data.orderId === keyOfFailed).map((e) => e.id));
      },
    );
  }
});
