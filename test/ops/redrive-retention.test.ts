/**
 * Records past the stream's retention, on real kinesalite: its records carry their arrival time in
 * the sequence number and GetRecords drops those older than the retention period (24 h minimum), so
 * records written while Date.now() is shifted 25 h back are trimmed, exactly as AWS trims them.
 * A deleted and recreated stream gives sequence numbers Kinesis refuses (InvalidArgumentException).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteStreamCommand, DescribeStreamSummaryCommand, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { LambdaClient, InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import { runCli } from '../../ops/cli';
import { createFixtures } from '../../schemas/fixtures';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, localDataDir, onFailureRecord, putRecords, type StreamHandle, type Written } from './helpers';

const HOUR = 3_600_000;
const placed = createFixtures({ seed: 25 });
let kinesis: EmbeddedKinesis;

beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `fn` with Date.now() shifted by `offsetMs` (kinesalite runs in this process). */
async function shifted<T>(offsetMs: number, fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now.bind(Date);
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

/** A stream whose first `old` records are 25 h old (past the 24 h retention), then `fresh` new ones. */
async function agedStream(name: string, old: number, fresh: number): Promise<{ stream: StreamHandle; old: Written[]; fresh: Written[] }> {
  return shifted(-25 * HOUR, async () => {
    const stream = await createStream(kinesis.endpoint, name, 1);
    const oldRecords = await putRecords(stream, Array.from({ length: old }, (_, i) => ({ partitionKey: `old-${i}`, data: json({ old: i }) })));
    return { stream, old: oldRecords };
  }).then(async ({ stream, old: oldRecords }) => ({
    stream,
    old: oldRecords,
    // order.placed events: order-review's mapping filter lets them through to the function.
    fresh: await putRecords(stream, Array.from({ length: fresh }, (_, i) => ({ partitionKey: `fresh-${i}`, data: json(placed.orderPlaced()) }))),
  }));
}

describe('records past retention', () => {
  it('a range wholly before TRIM_HORIZON is reported unrecoverable with its count; the record is kept', async () => {
    const { stream, old } = await agedStream('trimmed-all', 3, 2);
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    const file = join(dataDir, 'on-failure', 'order-metrics.ndjson');
    const line = JSON.stringify(onFailureRecord(stream.arn, old[0]!.shardId, old[0]!.sequenceNumber, old[2]!.sequenceNumber, 3));
    await writeFile(file, `${line}\n`);

    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-metrics', '--local', '--data-dir', dataDir, '--mode', 'reput'], { io });

    expect(code).toBe(1);
    expect(out.find((l) => l.startsWith('UNRECOVERABLE'))).toContain('read 0/3');
    const lost = out.find((l) => l.includes('UNRECOVERABLE trimmed'));
    expect(lost).toContain(`shardId-000000000000 ${old[0]!.sequenceNumber} .. ${old[2]!.sequenceNumber} (3 record(s))`);
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);
    expect(out.at(-1)).toContain('3 known unrecoverable');
  });

  it('a range whose head is trimmed: the rest is redriven, the head reported precisely', async () => {
    const { stream, old, fresh } = await agedStream('trimmed-head', 3, 3);
    const reader = new ShardRangeReader(stream.client, { limit: 1, minIntervalMs: 0 });
    const read = await reader.read({
      streamName: stream.name,
      shardId: old[1]!.shardId,
      startSequenceNumber: old[1]!.sequenceNumber,
      endSequenceNumber: fresh[1]!.sequenceNumber,
      expectedCount: 4,
    });
    expect(read.records.map((r) => r.SequenceNumber)).toEqual([fresh[0]!.sequenceNumber, fresh[1]!.sequenceNumber]);
    expect(read.unrecoverable).toEqual([
      expect.objectContaining({ reason: 'trimmed', fromSequenceNumber: old[1]!.sequenceNumber, toSequenceNumber: fresh[0]!.sequenceNumber, toInclusive: false, count: 2 }),
    ]);

    // Through the CLI: the readable part is re-invoked; the record stays until --discard-unrecoverable.
    const lambda = new LambdaClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const lambdaMock = mockClient(lambda);
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json({ batchItemFailures: [] }) as InvokeCommandOutput['Payload'] });
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    const file = join(dataDir, 'on-failure', 'order-review.ndjson');
    const line = JSON.stringify(onFailureRecord(stream.arn, old[1]!.shardId, old[1]!.sequenceNumber, fresh[1]!.sequenceNumber, 4));
    await writeFile(file, `${line}\n`);

    const first = captureIo();
    expect(await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir], { io: first.io, clients: { lambda } })).toBe(1);
    expect(first.out.find((l) => l.startsWith('PARTLY-UNRECOVERABLE'))).toContain('redriven 2');
    expect(first.out.find((l) => l.includes('UNRECOVERABLE trimmed'))).toContain(`${old[1]!.sequenceNumber} .. before ${fresh[0]!.sequenceNumber} (2 record(s))`);
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);

    const second = captureIo();
    expect(await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir, '--discard-unrecoverable'], { io: second.io, clients: { lambda } })).toBe(0);
    expect(await readFile(file, 'utf8').catch(() => '')).toBe('');
    const event = JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array));
    expect(event.Records.map((r: { kinesis: { partitionKey: string } }) => r.kinesis.partitionKey)).toEqual(['fresh-0', 'fresh-1']);
  });

  it('sequence numbers of a deleted and recreated stream are reported unrecoverable (InvalidArgumentException)', async () => {
    const stream = await createStream(kinesis.endpoint, 'recreated', 1);
    const gone = await putRecords(stream, [0, 1, 2].map((i) => ({ partitionKey: `k${i}`, data: json({ i }) })));
    await stream.client.send(new DeleteStreamCommand({ StreamName: stream.name }));
    for (;;) {
      try {
        await stream.client.send(new DescribeStreamSummaryCommand({ StreamName: stream.name }));
        await new Promise((r) => setTimeout(r, 20));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) break;
        throw error;
      }
    }
    // Recreated a few seconds "later": its shards get a new creation time inside their sequence numbers.
    const again = await shifted(5000, () => createStream(kinesis.endpoint, 'recreated', 1));
    await putRecords(again, [{ partitionKey: 'new', data: json({ n: 1 }) }]);

    const reader = new ShardRangeReader(again.client, { minIntervalMs: 0 });
    const read = await reader.read({
      streamName: again.name,
      shardId: gone[0]!.shardId,
      startSequenceNumber: gone[0]!.sequenceNumber,
      endSequenceNumber: gone[2]!.sequenceNumber,
      expectedCount: 3,
    });
    expect(read.records).toEqual([]);
    expect(read.unrecoverable).toHaveLength(1);
    expect(read.unrecoverable[0]).toMatchObject({ fromSequenceNumber: gone[0]!.sequenceNumber, toSequenceNumber: gone[2]!.sequenceNumber, toInclusive: true, count: 3 });
    expect(read.unrecoverable[0]!.message).toMatch(/did not come from this stream|invalid/i);
  });
});
