/**
 * Redrive in invoke mode against real kinesalite (reading the exact range back) with Lambda mocked
 * (aws-sdk-client-mock): the exact Invoke inputs, the event shape, partial batch responses, and what
 * happens to the on-failure file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import { runCli } from '../../ops/cli';
import { definePipeline, pipeline } from '../../pipeline';
import { createFixtures } from '../../schemas/fixtures';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, localDataDir, onFailureRecord, putRecords, type StreamHandle, type Written } from './helpers';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:order-review';
const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];

let kinesis: EmbeddedKinesis;
let stream: StreamHandle;
let written: Written[];
let mixed: Written[];

beforeAll(async () => {
  kinesis = await startKinesalite();
  stream = await createStream(kinesis.endpoint, 'orders', 1);
  const fixtures = createFixtures({ seed: 8 });
  // order-review's mapping filters on {"data":{"type":["order.placed"]}}: these all pass it.
  written = await putRecords(
    stream,
    Array.from({ length: 20 }, () => fixtures.orderPlaced()).map((event) => ({ partitionKey: event.data.orderId, data: json(event) })),
  );
  mixed = await putRecords(
    stream,
    [fixtures.orderPaid(), fixtures.orderPlaced(), fixtures.orderShipped(), fixtures.orderPlaced()].map((event) => ({ partitionKey: event.data.orderId, data: json(event) })),
  );
});

afterAll(async () => {
  await kinesis.stop();
});

/** The event Lambda sends for `records` (Lambda developer guide, Kinesis example event), written out here independently. */
function expectedEvent(records: readonly Written[], arrivals: Map<string, number>) {
  return {
    Records: records.map((r) => ({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: Buffer.from(r.data).toString('base64'),
        approximateArrivalTimestamp: arrivals.get(r.sequenceNumber),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${r.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/order-review',
      awsRegion: 'us-east-1',
      eventSourceARN: stream.arn,
    })),
  };
}

async function arrivalsOf(): Promise<Map<string, number>> {
  const reader = new ShardRangeReader(stream.client, { minIntervalMs: 0 });
  const read = await reader.read({ streamName: stream.name, shardId: written[0]!.shardId, startSequenceNumber: written[0]!.sequenceNumber, endSequenceNumber: mixed[3]!.sequenceNumber });
  return new Map(read.records.map((r) => [r.SequenceNumber!, r.ApproximateArrivalTimestamp!.getTime() / 1000]));
}

describe('ShardRangeReader on kinesalite', () => {
  it('reads exactly the records of the range, across several GetRecords calls', async () => {
    const calls: number[] = [];
    stream.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === GetRecordsCommand.name) calls.push((args.input as { Limit?: number }).Limit ?? -1);
        return next(args);
      },
      { step: 'initialize', name: 'countGetRecords' },
    );
    try {
      const reader = new ShardRangeReader(stream.client, { limit: 3, minIntervalMs: 0 });
      const range = written.slice(5, 15);
      const read = await reader.read({
        streamName: stream.name,
        shardId: range[0]!.shardId,
        startSequenceNumber: range[0]!.sequenceNumber,
        endSequenceNumber: range[9]!.sequenceNumber,
        expectedCount: 10,
      });
      expect(read.records.map((r) => r.SequenceNumber)).toEqual(range.map((r) => r.sequenceNumber));
      expect(read.records.map((r) => Buffer.from(r.Data!).toString())).toEqual(range.map((r) => Buffer.from(r.data).toString()));
      expect(read.unrecoverable).toEqual([]);
      expect(calls.length).toBeGreaterThanOrEqual(4);
      expect(calls.every((limit) => limit === 3)).toBe(true);
      expect(read.getRecordsCalls).toBe(calls.length);
    } finally {
      stream.client.middlewareStack.remove('countGetRecords');
    }
  });
});

describe('ops redrive --mode invoke (local data folder)', () => {
  const lambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const lambdaMock = mockClient(lambda);
  let dataDir: string;
  let file: string;

  beforeEach(async () => {
    lambdaMock.reset();
    dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn }, { 'order-review': { functionArn: FUNCTION_ARN } });
    file = join(dataDir, 'on-failure', 'order-review.ndjson');
  });

  it('re-invokes with the exact event, resumes from a partial batch response, then drains the file', async () => {
    const range = written.slice(2, 9);
    const keep = JSON.stringify({ not: 'an on-failure record' });
    await writeFile(file, `${JSON.stringify(onFailureRecord(stream.arn, range[0]!.shardId, range[0]!.sequenceNumber, range[6]!.sequenceNumber, 7, FUNCTION_ARN))}\n${keep}\n`);
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payload({ batchItemFailures: [{ itemIdentifier: range[5]!.sequenceNumber }, { itemIdentifier: range[3]!.sequenceNumber }] }) })
      .resolvesOnce({ StatusCode: 200, Payload: payload({ batchItemFailures: [] }) });

    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir, '--get-records-limit', '2'], { io, clients: { lambda } });

    const invokes = lambdaMock.commandCalls(InvokeCommand);
    expect(invokes).toHaveLength(2);
    const arrivals = await arrivalsOf();
    const first = invokes[0]!.args[0].input;
    expect(first.FunctionName).toBe(FUNCTION_ARN);
    expect(first.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(first.Payload as Uint8Array))).toEqual(expectedEvent(range, arrivals));
    // Lambda checkpoints at the lowest reported sequence number and retries everything from there.
    const second = invokes[1]!.args[0].input;
    expect(JSON.parse(new TextDecoder().decode(second.Payload as Uint8Array))).toEqual(expectedEvent(range.slice(3), arrivals));
    // The redriven record is gone; the unparseable line stays (nothing is dropped).
    expect(await readFile(file, 'utf8')).toBe(`${keep}\n`);
    expect(out.some((l) => l.startsWith('REDRIVEN') && l.includes('read 7/7') && l.includes('redriven 7'))).toBe(true);
    expect(out.some((l) => l.startsWith('INVALID'))).toBe(true);
    expect(code).toBe(1); // the invalid line was kept
  });

  it('keeps the on-failure record when the function keeps failing, after --max-attempts invocations', async () => {
    const range = written.slice(10, 13);
    const line = JSON.stringify(onFailureRecord(stream.arn, range[0]!.shardId, range[0]!.sequenceNumber, range[2]!.sequenceNumber, 3, FUNCTION_ARN));
    await writeFile(file, `${line}\n`);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorType: 'Error', errorMessage: 'still broken' }) });

    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir, '--max-attempts', '2'], { io, clients: { lambda } });

    expect(code).toBe(1);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(2);
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);
    expect(out.find((l) => l.startsWith('FAILED'))).toContain('still broken');
  });

  it('a whole-batch failure response (empty itemIdentifier) retries every record', async () => {
    const range = written.slice(0, 2);
    await writeFile(file, `${JSON.stringify(onFailureRecord(stream.arn, range[0]!.shardId, range[0]!.sequenceNumber, range[1]!.sequenceNumber, 2, FUNCTION_ARN))}\n`);
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payload({ batchItemFailures: [{ itemIdentifier: '' }] }) })
      .resolvesOnce({ StatusCode: 200, Payload: payload(null) });
    const { io } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir], { io, clients: { lambda } });
    const invokes = lambdaMock.commandCalls(InvokeCommand).map((c) => JSON.parse(new TextDecoder().decode(c.args[0].input.Payload as Uint8Array)));
    expect(invokes.map((e) => e.Records.length)).toEqual([2, 2]);
    expect(code).toBe(0);
    // Drained: no line left (the claimed file is removed; the runner's next append creates a new one).
    expect(await readFile(file, 'utf8').catch(() => '')).toBe('');
  });

  it("applies the mapping's filter criteria: records the mapping would not send are not sent, and count as processed", async () => {
    await writeFile(file, `${JSON.stringify(onFailureRecord(stream.arn, mixed[0]!.shardId, mixed[0]!.sequenceNumber, mixed[3]!.sequenceNumber, 4, FUNCTION_ARN))}\n`);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ batchItemFailures: [] }) });
    const { io, out } = captureIo();
    // The shipped order-review filters in its runtime (its stream may carry KPL aggregates); a mapping-level
    // data filter is what redrive must honour, so this test gives order-review one on a never-aggregated stream.
    const mappingFiltered = definePipeline({
      ...pipeline,
      streams: { ...pipeline.streams, orders: { ...pipeline.streams['orders']!, aggregatedRecords: 'never' } },
      consumers: {
        ...pipeline.consumers,
        'order-review': {
          ...pipeline.consumers['order-review']!,
          recordFilterPatterns: [],
          mapping: { ...pipeline.consumers['order-review']!.mapping, filterPatterns: [{ data: { type: ['order.placed'] } }] },
        },
      },
    });
    expect(await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir], { io, clients: { lambda }, definition: mappingFiltered })).toBe(0);
    const invokes = lambdaMock.commandCalls(InvokeCommand);
    expect(invokes).toHaveLength(1);
    const event = JSON.parse(new TextDecoder().decode(invokes[0]!.args[0].input.Payload as Uint8Array));
    expect(event).toEqual(expectedEvent([mixed[1]!, mixed[3]!], await arrivalsOf()));
    expect(out.find((l) => l.startsWith('REDRIVEN'))).toContain("redriven 4 (2 dropped by the mapping's filter)");
  });

  it('an Invoke API error fails that batch only: every on-failure record is kept and reported', async () => {
    const a = JSON.stringify(onFailureRecord(stream.arn, written[0]!.shardId, written[0]!.sequenceNumber, written[1]!.sequenceNumber, 2, FUNCTION_ARN));
    const b = JSON.stringify(onFailureRecord(stream.arn, written[2]!.shardId, written[2]!.sequenceNumber, written[3]!.sequenceNumber, 2, FUNCTION_ARN));
    await writeFile(file, `${a}\n${b}\n`);
    lambdaMock.on(InvokeCommand).rejects(new Error('Function not found: order-review'));
    const { io, out } = captureIo();
    expect(await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir], { io, clients: { lambda } })).toBe(1);
    expect(out.filter((l) => l.startsWith('FAILED') && l.includes('Function not found'))).toHaveLength(2);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(2);
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean).sort()).toEqual([a, b].sort());
  });

  it('--dry-run reads and reports without invoking or touching the file', async () => {
    const range = written.slice(4, 8);
    const line = JSON.stringify(onFailureRecord(stream.arn, range[0]!.shardId, range[0]!.sequenceNumber, range[3]!.sequenceNumber, 4, FUNCTION_ARN));
    await writeFile(file, `${line}\n`);
    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir, '--dry-run'], { io, clients: { lambda } });
    expect(code).toBe(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);
    expect(out.find((l) => l.startsWith('DRY-RUN'))).toContain('would invoke');
    expect(out.find((l) => l.startsWith('DRY-RUN'))).toContain('4 record(s)');
  });

  it('refuses invoke mode for a tumbling-window consumer and says why', async () => {
    const { io, err } = captureIo();
    const code = await runCli(['redrive', 'order-metrics', '--local', '--data-dir', dataDir], { io, clients: { lambda } });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--mode reput');
  });
});
