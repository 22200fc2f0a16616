/**
 * Shards, iterators, polling and batching (page "Using AWS Lambda with Amazon Kinesis"; Kinesis
 * developer guide "Complete the resharding action" for parent-before-child order).
 */
import { describe, expect, it } from 'vitest';
import { MAX_INVOCATION_PAYLOAD_BYTES } from '../../local/esm/batch-assembly';
import { ok, quiesce, runMapping, seqs, settings, settle, settlesWithin, StreamFixture, thrown, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

const invoked = () => esm.running!.invocations.flatMap((i) => i.sequenceNumbers);

describe('the invocation event', () => {
  it('is exactly the record shape Lambda sends, keys in Lambda order', async () => {
    const [put] = await esm.fixture.put([{ key: 'pk-1', data: { hello: 'world' } }]);
    esm.running = await runMapping(esm.fixture, settings({}), () => ok());
    await waitFor(() => esm.running!.invocations.length === 1, 'invocation');
    const { event } = esm.running.invocations[0]!;
    expect(Object.keys(event)).toEqual(['Records']);
    const record = event.Records[0]!;
    expect(record).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'pk-1',
        sequenceNumber: put!.sequenceNumber,
        data: Buffer.from('{"hello":"world"}').toString('base64'),
        approximateArrivalTimestamp: expect.any(Number),
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${put!.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/test-consumer',
      awsRegion: 'us-east-1',
      eventSourceARN: esm.fixture.streamArn,
    });
    expect(Object.keys(record)).toEqual(['kinesis', 'eventSource', 'eventVersion', 'eventID', 'eventName', 'invokeIdentityArn', 'awsRegion', 'eventSourceARN']);
    expect(Object.keys(record.kinesis)).toEqual(['kinesisSchemaVersion', 'partitionKey', 'sequenceNumber', 'data', 'approximateArrivalTimestamp']);
    // Seconds since the epoch with a millisecond fraction.
    const seconds = record.kinesis.approximateArrivalTimestamp;
    expect(Math.abs(seconds * 1000 - Date.now())).toBeLessThan(60_000);
    expect(Number.isInteger(Math.round(seconds * 1000))).toBe(true);
  });
});

describe('starting position', () => {
  it('TRIM_HORIZON delivers the records already in the stream', async () => {
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'TRIM_HORIZON' }), () => ok());
    await waitFor(() => invoked().length === 2, 'both records');
    expect(invoked()).toEqual(seqs(puts, 0, 1));
  });

  it('LATEST delivers only records put after the mapping started', async () => {
    await esm.fixture.put([{ data: 'old-1' }, { data: 'old-2' }]);
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok());
    const fresh = await esm.fixture.put([{ data: 'new-1' }, { data: 'new-2' }]);
    await waitFor(() => invoked().length === 2, 'the new records');
    await quiesce(esm.fixture, esm.running!);
    expect(invoked()).toEqual(seqs(fresh, 0, 1));
  });

  it('AT_TIMESTAMP delivers records that arrived at or after the timestamp', async () => {
    await esm.fixture.put([{ data: 'before' }]);
    await settle(50);
    const at = new Date();
    await settle(50);
    const after = await esm.fixture.put([{ data: 'after-1' }, { data: 'after-2' }]);
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: at.toISOString() }), () => ok());
    await waitFor(() => invoked().length === 2, 'the later records');
    await quiesce(esm.fixture, esm.running!);
    expect(invoked()).toEqual(seqs(after, 0, 1));
  });

  // kinesalite 3.3.3 never answers GetShardIterator AT_TIMESTAMP when no record arrived at or after the
  // timestamp; the mapping must neither wait for it nor make stop() wait (docs/semantics.md, engines).
  it('AT_TIMESTAMP after the last record waits at the tip: a record put after start is delivered and stop() resolves', async () => {
    await esm.fixture.put([{ data: 'before' }]);
    await settle(50);
    const at = new Date();
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: at.toISOString() }), () => ok());
    const later = await esm.fixture.put([{ data: 'later' }]);
    await waitFor(() => invoked().length === 1, 'the record put after start');
    await quiesce(esm.fixture, esm.running!);
    expect(invoked()).toEqual(seqs(later, 0));
    expect(esm.running.stats().recordsRead).toBe(1);
    expect(await settlesWithin(esm.running.mapping.stop())).toBe('settled');
  });
});

describe('batching', () => {
  it('BatchSize caps the records per invocation, order kept', async () => {
    const puts = await esm.fixture.put([0, 1, 2, 3, 4, 5, 6].map((i) => ({ data: { i } })));
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 3 }), () => ok());
    await waitFor(() => invoked().length === 7, 'all records');
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 2), seqs(puts, 3, 4, 5), seqs(puts, 6)]);
  });

  it('MaximumBatchingWindowInSeconds gathers records that arrive within the window into one batch', async () => {
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 100, maximumBatchingWindowInSeconds: 1 }), () => ok());
    const first = await esm.fixture.put([{ data: 'a' }]);
    await waitFor(() => esm.running!.stats().recordsRead === 1, 'first record read');
    const second = await esm.fixture.put([{ data: 'b' }]);
    await waitFor(() => esm.running!.invocations.length === 1, 'one invocation');
    await settle();
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([[first[0]!.sequenceNumber, second[0]!.sequenceNumber]]);
  });

  it('without a batching window each read is invoked as soon as it is available', async () => {
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 100, maximumBatchingWindowInSeconds: 0 }), () => ok());
    const first = await esm.fixture.put([{ data: 'a' }]);
    await waitFor(() => esm.running!.invocations.length === 1, 'first invocation');
    const second = await esm.fixture.put([{ data: 'b' }]);
    await waitFor(() => esm.running!.invocations.length === 2, 'second invocation');
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([[first[0]!.sequenceNumber], [second[0]!.sequenceNumber]]);
  });

  it('a full batch is invoked without waiting for the batching window', async () => {
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 2, maximumBatchingWindowInSeconds: 300 }), () => ok());
    const puts = await esm.fixture.put([{ data: 'a' }, { data: 'b' }, { data: 'c' }]);
    await waitFor(() => esm.running!.invocations.length === 1, 'the full batch');
    await settle();
    // The third record waits for the 300 s window or a full batch.
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1)]);
  });

  it('a batch never exceeds the 6 MB invocation payload', async () => {
    const big = Buffer.alloc(900_000, 0x61); // 900 KB of data; base64 makes each record 1.2 MB in the event
    const puts = await esm.fixture.put(Array.from({ length: 8 }, () => ({ data: big })));
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 100 }), () => ok());
    await waitFor(() => invoked().length === 8, 'all records');
    for (const invocation of esm.running.invocations) {
      expect(Buffer.byteLength(JSON.stringify(invocation.event))).toBeLessThanOrEqual(MAX_INVOCATION_PAYLOAD_BYTES);
    }
    // 5 x 1.2 MB = 6.0 MB fits in 6 MiB (6,291,456 bytes); a sixth record would not.
    expect(esm.running.invocations.map((i) => i.sequenceNumbers.length)).toEqual([5, 3]);
    const first = esm.running.invocations[0]!.event;
    const withSixth = { Records: [...first.Records, esm.running.invocations[1]!.event.Records[0]] };
    expect(Buffer.byteLength(JSON.stringify(withSixth))).toBeGreaterThan(MAX_INVOCATION_PAYLOAD_BYTES);
    expect(invoked()).toEqual(puts.map((p) => p.sequenceNumber));
  });
});

describe('resharding', () => {
  const split = () => esm.fixture.splitFirstShard();

  it('a child shard starts only after its parent is fully processed', async () => {
    const parentRecords = await esm.fixture.put([0, 1, 2].map((i) => ({ key: `p${i}`, data: { i } })));
    await split();
    const childRecords = await esm.fixture.put([0, 1, 2, 3, 4, 5].map((i) => ({ key: `c${i}`, data: { i } })));
    const parentSeqs = new Set(parentRecords.map((p) => p.sequenceNumber));
    // The parent's batch fails twice: its children must wait for it.
    let parentFailures = 0;
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), (inv) =>
      inv.sequenceNumbers.some((s) => parentSeqs.has(s)) && parentFailures++ < 2 ? thrown() : ok(),
    );
    await waitFor(() => invoked().length === 3 * 3 + 6, 'every record');
    const parentId = parentRecords[0]!.shardId;
    const finishedAt = esm.running.activity.findIndex((a) => a.type === 'shard-finished' && a.shardId === parentId);
    const childStarts = esm.running.activity.flatMap((a, index) => (a.type === 'shard-started' && a.shardId !== parentId ? [index] : []));
    expect(finishedAt).toBeGreaterThanOrEqual(0);
    expect(childStarts).toHaveLength(2);
    for (const index of childStarts) expect(index).toBeGreaterThan(finishedAt);
    // Parent records (three attempts) all come before any child record.
    const order = invoked();
    expect(order.slice(0, 9).every((s) => parentSeqs.has(s))).toBe(true);
    expect(new Set(order.slice(9))).toEqual(new Set(childRecords.map((c) => c.sequenceNumber)));
  });

  it('shards created after start are found with ListShards and read from TRIM_HORIZON (even with LATEST)', async () => {
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok());
    const before = await esm.fixture.put([{ key: 'a', data: 1 }]);
    await waitFor(() => invoked().length === 1, 'parent record');
    await split();
    const after = await esm.fixture.put([0, 1, 2, 3].map((i) => ({ key: `k${i}`, data: { i } })));
    await waitFor(() => invoked().length === 5, 'child records');
    expect(invoked()[0]).toBe(before[0]!.sequenceNumber);
    expect(new Set(invoked().slice(1))).toEqual(new Set(after.map((a) => a.sequenceNumber)));
    expect(new Set(after.map((a) => a.shardId)).has(before[0]!.shardId)).toBe(false);
  });
});

describe('resharding: merge', () => {
  it('a merged shard starts only after both parents are fully processed', async () => {
    await esm.fixture.stop();
    esm.fixture = await StreamFixture.start(2);
    const before = await esm.fixture.put(Array.from({ length: 8 }, (_, i) => ({ key: `before-${i}`, data: { i } })));
    const [a, b] = await esm.fixture.mergeFirstTwoShards();
    const after = await esm.fixture.put([0, 1, 2].map((i) => ({ key: `after-${i}`, data: { i } })));
    const parentSeqs = new Set(before.map((p) => p.sequenceNumber));
    // The second parent's first attempt fails: the child must wait for it too.
    let failed = false;
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), (inv) =>
      !failed && inv.event.Records[0]!.eventID.startsWith(b!.ShardId!) ? ((failed = true), thrown()) : ok(),
    );
    await waitFor(() => esm.running!.stats().recordsProcessed === 11, 'all records');
    expect(failed).toBe(true);
    expect(new Set(before.map((p) => p.shardId))).toEqual(new Set([a!.ShardId, b!.ShardId]));
    const childId = after[0]!.shardId;
    expect([a!.ShardId, b!.ShardId]).not.toContain(childId);
    const childStart = esm.running.activity.findIndex((x) => x.type === 'shard-started' && x.shardId === childId);
    for (const parent of [a!.ShardId!, b!.ShardId!]) {
      const finished = esm.running.activity.findIndex((x) => x.type === 'shard-finished' && x.shardId === parent);
      expect(finished).toBeGreaterThanOrEqual(0);
      expect(childStart).toBeGreaterThan(finished);
    }
    const order = invoked();
    const firstChild = order.findIndex((s) => !parentSeqs.has(s));
    expect(order.slice(firstChild).every((s) => !parentSeqs.has(s))).toBe(true);
  });
});

