import { describe, expect, it } from 'vitest';
import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { ensureStream, listAllShards, waitForStreamActive } from '../../kinesis/client';
import { ShardMap } from '../../kinesis/hash-key';
import { KinesisProducer, type PutResult } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import { readAllRecords } from '../support/read-stream';
import { referenceDeaggregate, startsWithKplMagic } from '../support/kpl-reference';
import { eventId, idsByKey, quietLogger, interleavedEvents, readUserRecords, uniqueStreamName, useKinesalite } from './helpers';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

const kinesis = useKinesalite();

describe.each([
  { name: 'plain', aggregation: false },
  { name: 'aggregated', aggregation: true },
])('KinesisProducer ($name) against kinesalite', ({ aggregation }) => {
  it('writes every event completely, in put order per key, on the shard its key hashes to', async () => {
    const stream = uniqueStreamName('complete');
    await ensureStream(kinesis.client, { name: stream, shardCount: 4 });
    const producer = new KinesisProducer({ logger: quietLogger(), streamName: stream, endpoint: kinesis.endpoint, aggregation });
    const events = interleavedEvents(40, 25);
    const results = await Promise.all(events.map((e) => producer.put(e)));
    await producer.close();

    const stored = await readUserRecords(kinesis.client, stream);
    expect(stored).toHaveLength(events.length);
    // Complete: byte-identical payloads, each exactly once.
    const byId = new Map(stored.map((s) => [eventId(s.data), s]));
    expect(byId.size).toBe(events.length);
    for (const e of events) expect(JSON.parse(Buffer.from(byId.get(e.id)!.data).toString('utf8'))).toEqual(e);
    // Placement: every user record sits on the shard its partition key maps to.
    const map = ShardMap.fromShards(await listAllShards(kinesis.client, stream));
    for (const s of stored) expect(s.shardId).toBe(map.shardForPartitionKey(s.partitionKey)!.shardId);
    // The put results name the same place.
    results.forEach((r: PutResult, i) => {
      const s = byId.get(events[i]!.id)!;
      expect(r.shardId).toBe(s.shardId);
      expect(r.sequenceNumber).toBe(s.sequenceNumber);
      expect(r.subSequenceNumber).toBe(s.subSequenceNumber);
    });
    // Order per key as put.
    const expected = idsByKey(events.map((e) => ({ key: e.data.orderId, id: e.id })));
    const actual = idsByKey(stored.map((s) => ({ key: s.partitionKey, id: eventId(s.data) })));
    expect(actual).toEqual(expected);
    expect(stored.some((s) => s.aggregated)).toBe(aggregation);
    expect(producer.stats()).toMatchObject({ accepted: 1000, written: 1000, failed: 0, buffered: 0 });
  });
});

describe('KPL aggregation', () => {
  it('packs many user records per Kinesis record and round-trips through kinesis/kpl.ts and aws-kinesis-agg', async () => {
    const stream = uniqueStreamName('agg');
    await ensureStream(kinesis.client, { name: stream, shardCount: 2 });
    const producer = new KinesisProducer({ logger: quietLogger(), streamName: stream, endpoint: kinesis.endpoint, aggregation: true });
    const events = createFixtures({ seed: 11 }).take(600);
    await Promise.all(events.map((e) => producer.put(e)));
    await producer.close();
    const stats = producer.stats();
    expect(stats.written).toBe(600);

    // What the stream holds, read back and deaggregated independently (aws-kinesis-agg, checksums on).
    const raw = await readAllRecords(kinesis.client, stream);
    expect(raw.length).toBe(stats.kinesisRecordsWritten);
    expect(raw.length).toBeLessThan(600 / 5);
    const ours = await readUserRecords(kinesis.client, stream);
    const theirs: { partitionKey: string; data: string }[] = [];
    for (const r of raw) {
      const users = referenceDeaggregate(r);
      // A record carrying several user records is a KPL aggregate (magic number first).
      if (users.length > 1) expect(startsWithKplMagic(r.data)).toBe(true);
      for (const u of users) theirs.push({ partitionKey: u.partitionKey, data: u.data.toString('base64') });
    }
    expect(theirs).toHaveLength(600);
    expect(raw.filter((r) => startsWithKplMagic(r.data)).length).toBeGreaterThan(0);
    expect(theirs).toEqual(ours.map((u) => ({ partitionKey: u.partitionKey, data: Buffer.from(u.data).toString('base64') })));
    expect(new Set(ours.map((u) => eventId(u.data)))).toEqual(new Set(events.map((e) => e.id)));
  });

  it('refreshes its shard map after a reshard and places new aggregates on the right child shard', async () => {
    const stream = uniqueStreamName('reshard');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    const proxy: FaultProxy = await startFaultProxy(kinesis.endpoint);
    try {
      const producer = new KinesisProducer({ logger: quietLogger(), streamName: stream, endpoint: proxy.endpoint, aggregation: true });
      const f = createFixtures({ seed: 5 });
      await Promise.all(f.take(200).map((e) => producer.put(e)));
      await producer.flush();
      expect(proxy.counts.listShards).toBe(1);

      const [shard] = await listAllShards(kinesis.client, stream);
      await kinesis.client.send(
        new SplitShardCommand({ StreamName: stream, ShardToSplit: shard!.ShardId!, NewStartingHashKey: (1n << 127n).toString() }),
      );
      await waitForStreamActive(kinesis.client, stream);

      // The first batch after the split was predicted for the closed parent: Kinesis answers with a child.
      await Promise.all(f.take(200).map((e) => producer.put(e)));
      await producer.flush();
      // The reload runs in the background: wait for it as long as a slow machine needs (a hang detector, not a timing check).
      await expect.poll(() => proxy.counts.listShards, { timeout: 30_000 }).toBe(2);
      const after = f.take(400);
      const results = await Promise.all(after.map((e) => producer.put(e)));
      await producer.close();

      expect(producer.stats().shardMapRefreshes).toBeGreaterThanOrEqual(1);
      const map = ShardMap.fromShards(await listAllShards(kinesis.client, stream));
      expect(map.ranges).toHaveLength(2);
      after.forEach((e, i) => expect(results[i]!.shardId).toBe(map.shardForPartitionKey(e.data.orderId)!.shardId));
      const stored = await readUserRecords(kinesis.client, stream);
      expect(stored).toHaveLength(800);
    } finally {
      await proxy.stop();
    }
  });
});

describe('ordered mode', () => {
  it('keeps a hot key in order, and with aggregation packs its queued records together', async () => {
    for (const aggregation of [false, true]) {
      const stream = uniqueStreamName('hot');
      await ensureStream(kinesis.client, { name: stream, shardCount: 2 });
      const producer = new KinesisProducer({ logger: quietLogger(), streamName: stream, endpoint: kinesis.endpoint, ordered: true, aggregation });
      const events = interleavedEvents(1, 300, 21);
      await Promise.all(events.map((e) => producer.put(e)));
      await producer.close();
      const stored = await readUserRecords(kinesis.client, stream);
      expect(stored.map((s) => eventId(s.data))).toEqual(events.map((e) => e.id));
      const stats = producer.stats();
      // One record of the key in flight at a time: without aggregation one per request.
      if (aggregation) expect(stats.requests).toBeLessThan(30);
      else expect(stats.requests).toBe(300);
    }
  });
});

describe('flush and close', () => {
  it('flush resolves only after every earlier put settled; put after close is refused', async () => {
    const stream = uniqueStreamName('flush');
    await ensureStream(kinesis.client, { name: stream, shardCount: 1 });
    const producer = new KinesisProducer({ logger: quietLogger(), streamName: stream, endpoint: kinesis.endpoint, lingerMs: 10_000 });
    const settled: boolean[] = [];
    const events = createFixtures({ seed: 2 }).take(30);
    const puts = events.map((e, i) => producer.put(e).then(() => (settled[i] = true)));
    await producer.flush();
    expect(settled.filter(Boolean)).toHaveLength(30);
    expect(producer.stats().buffered).toBe(0);
    await Promise.all(puts);
    await producer.close();
    await expect(producer.put(events[0])).rejects.toMatchObject({ code: 'PRODUCER_CLOSED' });
    expect((await readAllRecords(kinesis.client, stream)).length).toBe(30);
  });
});
