/**
 * Redrive in reput mode and quarantine redrive on real kinesalite: the exact bytes and partition keys
 * go back into the stream (KPL aggregates and invalid payloads included), files are drained.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { _Record } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAllShards } from '../../kinesis/client';
import { hashKeyToString, partitionKeyToHashKey, shardIdForPartitionKey } from '../../kinesis/hash-key';
import { encodeAggregate } from '../../kinesis/kpl';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import { runCli } from '../../ops/cli';
import { createFixtures } from '../../schemas/fixtures';
import { startKinesalite, type EmbeddedKinesis } from '../support/emulators';
import { captureIo, createStream, json, localDataDir, onFailureRecord, putRecords, type StreamHandle } from './helpers';

let kinesis: EmbeddedKinesis;

beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis.stop();
});

async function readAll(stream: StreamHandle): Promise<_Record[]> {
  const reader = new ShardRangeReader(stream.client, { minIntervalMs: 0, maxIdlePolls: 1 });
  const shards = await listAllShards(stream.client, stream.name);
  const all: _Record[] = [];
  for (const shard of shards) {
    const read = await reader.read({
      streamName: stream.name,
      shardId: shard.ShardId!,
      startSequenceNumber: shard.SequenceNumberRange!.StartingSequenceNumber!,
      endSequenceNumber: '9'.repeat(128), // sequence numbers are up to 128 decimal digits
    });
    all.push(...read.records);
  }
  return all;
}

describe('ops redrive --mode reput', () => {
  it('re-puts the raw records of the range with their partition keys (aggregate and invalid payload included)', async () => {
    const stream = await createStream(kinesis.endpoint, 'reput-orders', 1);
    const fixtures = createFixtures({ seed: 3 });
    const a = fixtures.orderPlaced();
    const b = fixtures.orderPlaced();
    const aggregate = encodeAggregate([
      { partitionKey: a.data.orderId, data: json(a) },
      { partitionKey: b.data.orderId, data: json(b) },
    ]);
    const invalid = new TextEncoder().encode('{"type":"order.placed", not json');
    const before = await putRecords(stream, [
      { partitionKey: 'before', data: json(fixtures.orderPlaced()) },
      { partitionKey: a.data.orderId, data: aggregate },
      { partitionKey: 'bad-key', data: invalid },
      { partitionKey: 'plain', data: json(fixtures.orderPlaced()) },
      { partitionKey: 'after', data: json(fixtures.orderPlaced()) },
    ]);
    const range = before.slice(1, 4);
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    const file = join(dataDir, 'on-failure', 'order-metrics.ndjson');
    await writeFile(file, `${JSON.stringify(onFailureRecord(stream.arn, range[0]!.shardId, range[0]!.sequenceNumber, range[2]!.sequenceNumber, 3))}\n`);

    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-metrics', '--local', '--data-dir', dataDir, '--mode', 'reput', '--get-records-limit', '1'], { io });

    expect(code).toBe(0);
    const all = await readAll(stream);
    expect(all).toHaveLength(8);
    const reput = all.slice(5);
    expect(reput.map((r) => r.PartitionKey)).toEqual(range.map((r) => r.partitionKey));
    expect(reput.map((r) => Buffer.from(r.Data!).toString('hex'))).toEqual(range.map((r) => Buffer.from(r.data).toString('hex')));
    expect(await readFile(file, 'utf8').catch(() => '')).toBe('');
    expect(out.some((l) => l.startsWith('REDRIVEN') && l.includes('redriven 3'))).toBe(true);
  });

  it("keeps an aggregate on its user records' shard even when its outer partition key hashes elsewhere", async () => {
    const stream = await createStream(kinesis.endpoint, 'reput-routing', 2);
    const shards = await listAllShards(stream.client, stream.name);
    const keyOn = (shardId: string, prefix: string) => {
      for (let i = 0; ; i++) if (shardIdForPartitionKey(shards, `${prefix}-${i}`) === shardId) return `${prefix}-${i}`;
    };
    const [shard0, shard1] = [shards[0]!.ShardId!, shards[1]!.ShardId!];
    const user = keyOn(shard1, 'user');
    const outer = keyOn(shard0, 'outer');
    const aggregate = encodeAggregate([{ partitionKey: user, data: json({ n: 1 }) }]);
    // As a KPL producer routes it: the outer key is arbitrary, the explicit hash key picks the shard.
    const [original] = await putRecords(stream, [{ partitionKey: outer, data: aggregate, explicitHashKey: hashKeyToString(partitionKeyToHashKey(user)) }]);
    expect(original!.shardId).toBe(shard1);
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    await writeFile(
      join(dataDir, 'on-failure', 'order-metrics.ndjson'),
      `${JSON.stringify(onFailureRecord(stream.arn, original!.shardId, original!.sequenceNumber, original!.sequenceNumber, 1))}\n`,
    );
    const { io } = captureIo();
    expect(await runCli(['redrive', 'order-metrics', '--local', '--data-dir', dataDir, '--mode', 'reput'], { io })).toBe(0);
    const onShard1 = (await readAll(stream)).filter((r) => Buffer.from(r.Data!).equals(Buffer.from(aggregate)));
    expect(onShard1).toHaveLength(2);
    const reader = new ShardRangeReader(stream.client, { minIntervalMs: 0, maxIdlePolls: 1 });
    const shard0Records = await reader.read({ streamName: stream.name, shardId: shard0, startSequenceNumber: shards[0]!.SequenceNumberRange!.StartingSequenceNumber!, endSequenceNumber: '9'.repeat(128) });
    expect(shard0Records.records).toHaveLength(0);
  });

  it('--dry-run re-puts nothing', async () => {
    const stream = await createStream(kinesis.endpoint, 'reput-dry', 1);
    const written = await putRecords(stream, [{ partitionKey: 'k', data: json({ x: 1 }) }]);
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    const file = join(dataDir, 'on-failure', 'order-metrics.ndjson');
    const line = JSON.stringify(onFailureRecord(stream.arn, written[0]!.shardId, written[0]!.sequenceNumber, written[0]!.sequenceNumber, 1));
    await writeFile(file, `${line}\n`);
    const { io, out } = captureIo();
    expect(await runCli(['redrive', 'order-metrics', '--local', '--data-dir', dataDir, '--mode', 'reput', '--dry-run'], { io })).toBe(0);
    expect(await readAll(stream)).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`${line}\n`);
    expect(out.find((l) => l.startsWith('DRY-RUN'))).toContain('would re-put 1 record(s)');
  });
});

describe('ops redrive --quarantine', () => {
  it('re-validates: valid records are re-put and removed, still-invalid ones stay with the reason', async () => {
    const stream = await createStream(kinesis.endpoint, 'quarantine-orders', 1);
    const dataDir = await localDataDir(kinesis.endpoint, { orders: stream.arn });
    const fixtures = createFixtures({ seed: 11 });
    const nowValid = fixtures.orderPaid();
    const stillInvalid = { ...fixtures.orderPaid(), data: { ...fixtures.orderPaid().data, currency: 'EURO' } };
    const quarantine = (event: unknown, sequenceNumber: string, reason: string) => ({
      format: 'kinesis-pipeline.quarantine.v1',
      consumer: 'order-review',
      quarantinedAt: '2026-11-25T16:00:00.000Z',
      error: { kind: 'handler-permanent', message: reason },
      event: { id: (event as { id: string }).id, type: 'order.paid', version: 1 },
      record: {
        streamArn: stream.arn,
        shardId: 'shardId-000000000000',
        sequenceNumber,
        eventId: `shardId-000000000000:${sequenceNumber}`,
        partitionKey: (event as { data: { orderId: string } }).data.orderId,
        approximateArrivalTimestamp: 1764086400.123,
        arrivalTime: '2026-11-25T16:00:00.123Z',
        aggregated: false,
        data: Buffer.from(JSON.stringify(event)).toString('base64'),
        dataBytes: JSON.stringify(event).length,
      },
    });
    const file = join(dataDir, 'quarantine', 'order-review.ndjson');
    const invalidLine = JSON.stringify(quarantine(stillInvalid, '2', 'bad currency'));
    await writeFile(file, `${JSON.stringify(quarantine(nowValid, '1', 'downstream rejected it'))}\n${invalidLine}\n`);

    const { io, out } = captureIo();
    const code = await runCli(['redrive', 'order-review', '--local', '--data-dir', dataDir, '--quarantine'], { io });

    expect(code).toBe(1); // one record is still invalid
    const all = await readAll(stream);
    expect(all).toHaveLength(1);
    expect(all[0]!.PartitionKey).toBe(nowValid.data.orderId);
    expect(JSON.parse(Buffer.from(all[0]!.Data!).toString())).toEqual(nowValid);
    expect(await readFile(file, 'utf8')).toBe(`${invalidLine}\n`);
    const kept = out.find((l) => l.startsWith('STILL-INVALID'));
    expect(kept).toContain('data.currency');
    expect(out.find((l) => l.startsWith('REPUT'))).toContain(nowValid.id);
  });
});
