/**
 * Redrive never repeats an effect (pipeline option `idempotencyTable`): an on-failure record covers a
 * shard range part of which already took effect (an earlier attempt, or another lane of the shard with
 * parallelizationFactor > 1). `ops redrive` reads the consumer's idempotency table (dynalite here),
 * sends only what did not take effect, and reports "N redriven, M already done". The consumer runs
 * in-process behind a mocked Lambda Invoke, with its claims in the same table; ground truth: every
 * event the test put took effect exactly once.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDurableStore } from '../../consumers/runtime/dynamodb-durable-store';
import { InMemoryQuarantineSink, createKinesisHandler, type KinesisBatchHandler } from '../../consumers/runtime/index';
import { buildKinesisEvent } from '../../ops/redrive/invoke-redriver';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import { runCli } from '../../ops/cli';
import { pipeline } from '../../pipeline';
import type { PipelineDefinition } from '../../pipeline/definition-schema';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { EffectLog, contextWithBudget, exactlyOnce } from '../consumer-runtime/exactly-once-support';
import { createLedgerTable, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, localDataDir, onFailureRecord, putRecords, type StreamHandle, type Written } from './helpers';

const TABLE = 'order-review-idempotency';
/**
 * The project's definition with an idempotency table on order-review. (The shipped order-review keeps no
 * claims: review-intake dedupes its requests. Redrive's "already done" check is for any consumer that
 * declares a table; order-review is the consumer whose redrive mode this test needs.)
 */
const DEFINITION: PipelineDefinition = {
  ...pipeline,
  consumers: { ...pipeline.consumers, 'order-review': { ...pipeline.consumers['order-review']!, idempotencyTable: true } },
};
const lambdaMock = mockClient(LambdaClient);
let kinesis: EmbeddedKinesis;
let dynamo: EmbeddedDynamoDb;
let stream: StreamHandle;
let table = 0;

beforeAll(async () => {
  kinesis = await startKinesalite();
  dynamo = await startDynalite();
  stream = await createStream(kinesis.endpoint, 'orders', 1);
});
afterAll(async () => {
  lambdaMock.restore();
  await dynamo.stop();
  await kinesis.stop();
});
beforeEach(() => lambdaMock.reset());

interface Setup {
  readonly dataDir: string;
  readonly events: OrderEvent[];
  readonly written: Written[];
  readonly log: EffectLog;
  readonly consumer: KinesisBatchHandler;
  readonly sent: string[];
}

/** 10 order.placed events on the stream, the first 6 already handled by the consumer, an on-failure record over all 10. */
async function setup(seed: number): Promise<Setup> {
  const tableName = `${TABLE}-${++table}`;
  const client = dynamo.client();
  await createLedgerTable(client, tableName);
  const log = new EffectLog();
  const consumer = createKinesisHandler<OrderEvent>({
    registry,
    consumerName: 'order-review',
    quarantine: new InMemoryQuarantineSink(),
    metrics: false,
    logger: createLogger({ name: 'redrive-already-done', level: 'silent' }),
    durableStore: new DynamoDbDurableStore({ client, tableName }),
    handlers: { 'order.placed': async (event) => void log.effects.push(event.id) },
  });
  const fixtures = createFixtures({ seed });
  const events = Array.from({ length: 10 }, () => fixtures.orderPlaced());
  const written = await putRecords(stream, events.map((event) => ({ partitionKey: event.data.orderId, data: json(event) })));
  // The first 6 took effect on an earlier attempt (or in the shard's other lane).
  const reader = new ShardRangeReader(stream.client, { minIntervalMs: 0 });
  const read = await reader.read({ streamName: stream.name, shardId: written[0]!.shardId, startSequenceNumber: written[0]!.sequenceNumber, endSequenceNumber: written[5]!.sequenceNumber });
  const context = { shardId: written[0]!.shardId, invokeIdentityArn: 'arn:aws:iam::000000000000:role/order-review', awsRegion: 'us-east-1', eventSourceARN: stream.arn };
  expect(await consumer(buildKinesisEvent(read.records, context) as unknown as KinesisStreamEvent, contextWithBudget(60_000, 'earlier'))).toEqual({ batchItemFailures: [] });

  const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn }, { 'order-review': { functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:order-review' } });
  const runner = JSON.parse(await readFile(join(dataDir, 'runner.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dataDir, 'runner.json'), JSON.stringify({ ...runner, dynamodbEndpoint: dynamo.endpoint, idempotencyTables: { 'order-review': tableName } }));
  const batch = onFailureRecord(stream.arn, written[0]!.shardId, written[0]!.sequenceNumber, written[9]!.sequenceNumber, 10);
  await writeFile(join(dataDir, 'on-failure', 'order-review.ndjson'), `${JSON.stringify(batch)}\n`);

  const sent: string[] = [];
  lambdaMock.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
    const event = JSON.parse(new TextDecoder().decode(input.Payload)) as KinesisStreamEvent;
    sent.push(...event.Records.map((r) => r.kinesis.sequenceNumber));
    const response = await consumer(event, contextWithBudget(60_000, 'redrive'));
    return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(response)) as InvokeCommandOutput['Payload'] };
  });
  return { dataDir, events, written, log, consumer, sent };
}

describe('ops redrive with the consumer idempotency table', () => {
  it('--mode invoke sends only what did not take effect and reports "4 redriven, 6 already done"; every event took effect once', async () => {
    const s = await setup(91);
    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', s.dataDir], { io, definition: DEFINITION, clients: { lambda: new LambdaClient({ region: 'us-east-1' }), dynamodb: dynamo.client() } });
    expect(out.at(-1)).toBe('1 on-failure record(s): 1 redriven and removed, 0 kept; 4 record(s) redriven, 6 already done, 0 known unrecoverable');
    expect(code).toBe(0);
    expect(out[0]).toContain('redriven 4, 6 already done: removed');
    expect(s.sent).toEqual(s.written.slice(6).map((w) => w.sequenceNumber));
    expect(exactlyOnce(s.log, s.events)).toEqual({});
    expect(await readFile(join(s.dataDir, 'on-failure', 'order-review.ndjson'), 'utf8').catch(() => '')).toBe('');
  });

  it('--mode reput re-puts only what did not take effect', async () => {
    const s = await setup(92);
    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', s.dataDir, '--mode', 'reput'], { io, definition: DEFINITION, clients: { dynamodb: dynamo.client() } });
    expect(out.at(-1)).toBe('1 on-failure record(s): 1 redriven and removed, 0 kept; 4 record(s) redriven, 6 already done, 0 known unrecoverable');
    expect(code).toBe(0);
    // The stream now holds the 10 originals and 4 re-put records: those of the events that had not taken effect.
    const reader = new ShardRangeReader(stream.client, { minIntervalMs: 0 });
    const after = await reader.read({ streamName: stream.name, shardId: s.written[0]!.shardId, startSequenceNumber: s.written[9]!.sequenceNumber, endSequenceNumber: '99999999999999999999999999999999999999999999999999999999', expectedCount: 5 });
    const reput = after.records.slice(1).map((r) => (JSON.parse(Buffer.from(r.Data!).toString('utf8')) as OrderEvent).id);
    expect(reput).toEqual(s.events.slice(6).map((e) => e.id));
  });
});
