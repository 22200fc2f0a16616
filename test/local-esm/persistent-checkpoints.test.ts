/**
 * Checkpoints that survive a restart (checkpoint-store.ts, file-checkpoint-store.ts): a mapping
 * stopped part-way and started again with the same store processes exactly the rest, as an AWS
 * mapping resumes from its per-shard checkpoint ("Lambda keeps track of the last record processed
 * and resumes processing from that point", with-kinesis, Enabled option).
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAllShards } from '../../kinesis/client';
import { formatWindowTime } from '../../local/esm/tumbling-window';
import { CheckpointStoreError, FileCheckpointStore, MemoryCheckpointStore, type MappingIdentity, type MappingProgress } from '../../local/esm';
import { FUNCTION_ARN, type Invocation, ok, runMapping, type RunningMapping, seqs, settings, StreamFixture, thrown, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();
let dir: string;
let first: RunningMapping | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esm-checkpoints-'));
});
afterEach(async () => {
  // Hooks run in reverse order: this one before useStreamFixture's, so the second mapping (esm.running)
  // is stopped here too. A mapping still running writes its checkpoint file while the folder is removed
  // (rm then fails with ENOTEMPTY).
  await first?.stop();
  first = undefined;
  await esm.running?.stop();
  esm.running = undefined;
  await rm(dir, { recursive: true, force: true });
});

const fileStore = () => new FileCheckpointStore({ dir, pipeline: 'test-pipeline' });
const storedFile = () => fileStore().pathOf({ consumerName: 'test-consumer', streamName: esm.fixture.streamName });
const readStored = async () => JSON.parse(await readFile(storedFile(), 'utf8')) as { identity: MappingIdentity; progress: MappingProgress };
const invokedBy = (running: RunningMapping) => running.invocations.flatMap((i) => i.sequenceNumbers);
const startedShards = (running: RunningMapping) =>
  running.activity.flatMap((a) => (a.type === 'shard-started' ? [{ shardId: a.shardId, iteratorType: a.iteratorType }] : []));

describe('persistent checkpoints', () => {
  it('a restarted mapping processes only the rest: no record twice, none lost (file store, checkpoint written on stop)', async () => {
    const before = await esm.fixture.put(Array.from({ length: 9 }, (_, i) => ({ data: { i } })));
    // Batches of 3: the first two succeed, the third fails and the mapping stops during its retries.
    first = await runMapping(esm.fixture, settings({ batchSize: 3 }), (_inv, index) => (index < 2 ? ok() : thrown()), {
      checkpointStore: fileStore(),
      timing: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 },
    });
    await waitFor(() => first!.invocations.length === 3, 'the failing third batch');
    await first.stop();
    expect((await readStored()).progress.shards).toEqual({ [before[0]!.shardId]: { checkpoint: before[5]!.sequenceNumber } });

    const after = await esm.fixture.put(Array.from({ length: 3 }, (_, i) => ({ data: { i: 9 + i } })));
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 3 }), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 6, 'the rest');
    expect(startedShards(esm.running)).toEqual([{ shardId: before[0]!.shardId, iteratorType: 'AFTER_SEQUENCE_NUMBER' }]);
    expect(invokedBy(esm.running)).toEqual([...seqs(before, 6, 7, 8), ...after.map((p) => p.sequenceNumber)]);
    // Exactly once over both runs: the first run's successes and the second run's invocations.
    const succeeded = [...first.invocations.slice(0, 2).flatMap((i) => i.sequenceNumbers), ...invokedBy(esm.running)];
    expect(succeeded).toEqual([...before, ...after].map((p) => p.sequenceNumber));
    expect(esm.running.mapping.stats().shards[before[0]!.shardId]?.checkpoint).toBe(after[2]!.sequenceNumber);
  });

  it('coalesces checkpoint changes into few writes (one here: the delay outlasts the run, stop() flushes)', async () => {
    const puts = await esm.fixture.put(Array.from({ length: 8 }, (_, i) => ({ data: { i } })));
    const store = new MemoryCheckpointStore();
    first = await runMapping(esm.fixture, settings({ batchSize: 1 }), () => ok(), { checkpointStore: store, timing: { checkpointWriteDelayMs: 60_000 } });
    await waitFor(() => first!.checkpoints().length === 8, 'eight checkpoints');
    expect(store.saves).toBe(0);
    await first.stop();
    expect(store.saves).toBe(1);
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: store });
    expect(esm.running.mapping.stats().shards[puts[0]!.shardId]?.checkpoint).toBe(puts[7]!.sequenceNumber);
  });

  it('the file is replaced atomically: no temporary file is left behind, and it names the mapping', async () => {
    await esm.fixture.put([{ data: 1 }]);
    first = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore(), timing: { checkpointWriteDelayMs: 1 } });
    await waitFor(() => first!.checkpoints().length === 1, 'checkpoint');
    await first.stop();
    const files = await readdir(join(dir, 'test-pipeline'));
    expect(files).toEqual([`test-consumer.${esm.fixture.streamName}.json`]);
    const stored = await readStored();
    expect(stored.identity).toMatchObject({ consumerName: 'test-consumer', functionArn: FUNCTION_ARN, streamName: esm.fixture.streamName, streamArn: esm.fixture.streamArn });
    expect(Date.parse(stored.identity.streamCreatedAt)).not.toBeNaN();
  });

  it('a corrupt checkpoint file fails start() with an error naming the file; nothing is read or invoked', async () => {
    await esm.fixture.put([{ data: 1 }]);
    const path = storedFile();
    await fileStore().save(
      { consumerName: 'test-consumer', functionArn: FUNCTION_ARN, streamName: esm.fixture.streamName, streamArn: esm.fixture.streamArn, streamCreatedAt: 'x' },
      { firstStartedAt: new Date().toISOString(), shards: {} },
    );
    await writeFile(path, '{"version":1,"pipeline":"test-pipeline","ident');
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore(), start: false });
    const started = esm.running.mapping.start();
    await expect(started).rejects.toBeInstanceOf(CheckpointStoreError);
    await expect(started).rejects.toThrow(path);
    expect(esm.running.mapping.stats().state).toBe('created');
    expect(esm.running.invocations).toEqual([]);
  });

  it('a checkpoint that is not a sequence number is rejected the same way', async () => {
    first = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore() });
    await first.stop();
    const stored = await readStored();
    const [shard] = await listAllShards(esm.fixture.client, esm.fixture.streamName);
    const shardId = shard!.ShardId!;
    await writeFile(storedFile(), JSON.stringify({ ...stored, progress: { ...stored.progress, shards: { [shardId]: { checkpoint: 'abc' } } } }));
    await expect(fileStore().load(stored.identity)).rejects.toThrow(/checkpoint file .* is not valid/);
  });

  it('checkpoints of another stream incarnation (re-created: other creation time) are ignored', async () => {
    const identity: MappingIdentity = { consumerName: 'c', functionArn: FUNCTION_ARN, streamName: 's', streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', streamCreatedAt: '2026-01-01T00:00:00.000Z' };
    const progress: MappingProgress = { firstStartedAt: '2026-01-01T00:00:01.000Z', shards: { 'shardId-000000000000': { checkpoint: '49', finished: true } } };
    for (const store of [fileStore(), new MemoryCheckpointStore()]) {
      await store.save(identity, progress);
      expect(await store.load(identity)).toEqual(progress);
      expect(await store.load({ ...identity, streamCreatedAt: '2026-01-02T00:00:00.000Z' })).toBeUndefined();
      expect(await store.load({ ...identity, functionArn: `${FUNCTION_ARN}-other` })).toBeUndefined();
    }
  });

  it('a checkpoint Kinesis rejects (record expired or not of this shard) falls back to TRIM_HORIZON for that shard only', async () => {
    await esm.fixture.stop();
    esm.fixture = await StreamFixture.start(2);
    const puts = await esm.fixture.put(Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, data: { i } })));
    const [a, b] = await listAllShards(esm.fixture.client, esm.fixture.streamName);
    const ofA = puts.filter((p) => p.shardId === a!.ShardId);
    const ofB = puts.filter((p) => p.shardId === b!.ShardId);
    expect(ofA.length).toBeGreaterThan(0);
    expect(ofB.length).toBeGreaterThan(1);
    first = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => first!.mapping.stats().recordsProcessed === 12, 'all records');
    await first.stop();
    // Shard A's checkpoint replaced by a sequence number of shard B: GetShardIterator AFTER_SEQUENCE_NUMBER is rejected.
    const stored = await readStored();
    stored.progress.shards[a!.ShardId!] = { checkpoint: ofB[0]!.sequenceNumber };
    await writeFile(storedFile(), JSON.stringify(stored));

    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === ofA.length, 'shard A again');
    expect(startedShards(esm.running).sort((x, y) => x.shardId.localeCompare(y.shardId))).toEqual([
      { shardId: a!.ShardId, iteratorType: 'TRIM_HORIZON' },
      { shardId: b!.ShardId, iteratorType: 'AFTER_SEQUENCE_NUMBER' },
    ]);
    expect(invokedBy(esm.running)).toEqual(ofA.map((p) => p.sequenceNumber));
  });

  it('a checkpoint of a shard that no longer exists is ignored; the listed shards start as usual', async () => {
    first = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore() });
    await first.stop();
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    const stored = await readStored();
    expect(stored.progress.shards).toEqual({});
    stored.progress.shards['shardId-000000000042'] = { checkpoint: puts[1]!.sequenceNumber, finished: true };
    await writeFile(storedFile(), JSON.stringify(stored));
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'both records');
    expect(invokedBy(esm.running)).toEqual(seqs(puts, 0, 1));
    expect(Object.keys(esm.running.mapping.stats().shards)).toEqual([puts[0]!.shardId]);
    await esm.running.stop();
    expect(Object.keys((await readStored()).progress.shards)).toEqual([puts[0]!.shardId]);
  });
});

describe('persistent checkpoints with LATEST', () => {
  it('a LATEST mapping restarted before any checkpoint reads what was put while it was stopped, not what came before its first start', async () => {
    const older = await esm.fixture.put([{ data: 'before the mapping existed' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    first = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { checkpointStore: fileStore() });
    await first.stop();
    expect(first.invocations).toEqual([]);
    const meanwhile = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'the records put while stopped');
    expect(invokedBy(esm.running)).toEqual(meanwhile.map((p) => p.sequenceNumber));
    expect(invokedBy(esm.running)).not.toContain(older[0]!.sequenceNumber);
  });
});

describe('persistent checkpoints across resharding', () => {
  it('split: a parent finished before the restart is not read again; its children start from TRIM_HORIZON', async () => {
    const parentRecords = await esm.fixture.put([0, 1, 2].map((i) => ({ key: `p${i}`, data: { i } })));
    const parent = await esm.fixture.splitFirstShard();
    const childRecords = await esm.fixture.put([0, 1, 2, 3, 4, 5].map((i) => ({ key: `c${i}`, data: { i } })));
    const parentSeqs = new Set(parentRecords.map((p) => p.sequenceNumber));
    const isParent = (inv: Invocation) => inv.sequenceNumbers.every((s) => parentSeqs.has(s));
    // First run: the parent is processed; the children's batches fail until the stop.
    first = await runMapping(esm.fixture, settings({ batchSize: 10 }), (inv) => (isParent(inv) ? ok() : thrown()), {
      checkpointStore: fileStore(),
      timing: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 },
    });
    await waitFor(() => first!.invocations.filter((i) => !isParent(i)).flatMap((i) => i.sequenceNumbers).length === 6, 'every child record tried once');
    await first.stop();
    expect((await readStored()).progress.shards[parent!.ShardId!]).toEqual({ checkpoint: parentRecords[2]!.sequenceNumber, finished: true });

    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 6, 'the children');
    expect(new Set(invokedBy(esm.running))).toEqual(new Set(childRecords.map((c) => c.sequenceNumber)));
    expect(invokedBy(esm.running)).toHaveLength(6);
    const started = startedShards(esm.running);
    expect(started.map((s) => s.shardId)).not.toContain(parent!.ShardId);
    expect(started.map((s) => s.iteratorType)).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON']);
    expect(esm.running.mapping.stats().shards[parent!.ShardId!]?.status).toBe('finished');
  });

  it('merge: the merged child waits for the parent left unfinished at the stop, then reads only what is left', async () => {
    await esm.fixture.stop();
    esm.fixture = await StreamFixture.start(2);
    const before = await esm.fixture.put(Array.from({ length: 8 }, (_, i) => ({ key: `before-${i}`, data: { i } })));
    const [a, b] = await esm.fixture.mergeFirstTwoShards();
    const after = await esm.fixture.put([0, 1, 2].map((i) => ({ key: `after-${i}`, data: { i } })));
    const ofB = new Set(before.filter((p) => p.shardId === b!.ShardId).map((p) => p.sequenceNumber));
    expect(ofB.size).toBeGreaterThan(0);
    // First run: parent A is processed; parent B fails until the stop, so the child never starts.
    first = await runMapping(esm.fixture, settings({ batchSize: 10 }), (inv) => (inv.sequenceNumbers.some((s) => ofB.has(s)) ? thrown() : ok()), {
      checkpointStore: fileStore(),
      timing: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 },
    });
    await waitFor(() => first!.activity.some((x) => x.type === 'shard-finished') && first!.invocations.some((i) => i.sequenceNumbers.some((s) => ofB.has(s))), 'A finished, B tried');
    await first.stop();
    const stored = (await readStored()).progress.shards;
    expect(stored[a!.ShardId!]?.finished).toBe(true);
    expect(stored[b!.ShardId!]).toBeUndefined();

    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === ofB.size + 3, 'B, then the child');
    const order = invokedBy(esm.running);
    expect(new Set(order.slice(0, ofB.size))).toEqual(ofB);
    expect(order.slice(ofB.size)).toEqual(after.map((p) => p.sequenceNumber));
    expect(startedShards(esm.running).map((s) => s.shardId)).not.toContain(a!.ShardId);
  });
});

describe('persistent checkpoints with a tumbling window', () => {
  it('an open window carries on after a restart with the state as of the checkpoint (no final invoke at the stop)', async () => {
    const counting = (inv: Invocation) => {
      const state = (inv.event['state'] ?? {}) as { count?: number };
      return ok({ state: { count: (state.count ?? 0) + inv.event.Records.length } });
    };
    const puts = await esm.fixture.putTogether([0, 1, 2].map((i) => ({ data: { i } })));
    // A 15-minute window (the AWS maximum) stays open during the test.
    const windowed = settings({ tumblingWindowInSeconds: 900 });
    first = await runMapping(esm.fixture, windowed, counting, { checkpointStore: fileStore() });
    await waitFor(() => first!.checkpoints().length === 1, 'the first batch');
    await first.stop();
    expect(first.invocations.map((i) => i.event['isFinalInvokeForWindow'])).toEqual([false]);
    const storedWindow = (await readStored()).progress.shards[puts[0]!.shardId]?.window;
    expect(storedWindow?.state).toEqual({ count: 3 });

    const more = await esm.fixture.putTogether([3, 4].map((i) => ({ data: { i } })));
    esm.running = await runMapping(esm.fixture, windowed, counting, { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.invocations.length >= 1, 'the next invocation');
    const next = esm.running.invocations[0]!;
    // Same window (or, if the records crossed a window boundary, that window's final invoke): either way the stored state.
    expect(next.event['state']).toEqual({ count: 3 });
    expect((next.event['window'] as { start: string }).start).toBe(formatWindowTime(storedWindow!.startMs));
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'the new records');
    expect(invokedBy(esm.running)).toEqual(more.map((p) => p.sequenceNumber));
  });

  it('a final invoke still failing at the stop is made after the restart, with the stored state', async () => {
    while (Date.now() % 1000 > 300) await new Promise((resolve) => setTimeout(resolve, 10));
    const puts = await esm.fixture.putTogether([0, 1, 2].map((i) => ({ data: { i } })));
    const windowed = settings({ tumblingWindowInSeconds: 1 });
    const counting = (inv: Invocation) => {
      const state = (inv.event['state'] ?? {}) as { count?: number };
      return ok({ state: { count: (state.count ?? 0) + inv.event.Records.length } });
    };
    const isFinal = (inv: Invocation) => inv.event['isFinalInvokeForWindow'] === true;
    first = await runMapping(esm.fixture, windowed, (inv) => (isFinal(inv) ? thrown() : counting(inv)), {
      checkpointStore: fileStore(),
      timing: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 },
    });
    await waitFor(() => first!.invocations.some(isFinal), 'the failing final invoke');
    await first.stop();
    expect((await readStored()).progress.shards[puts[0]!.shardId]).toMatchObject({ checkpoint: puts[2]!.sequenceNumber, window: { state: { count: 3 } } });

    esm.running = await runMapping(esm.fixture, windowed, counting, { checkpointStore: fileStore() });
    await waitFor(() => esm.running!.activity.some((a) => a.type === 'outcome'), 'the final invoke again, and its outcome');
    const [final] = esm.running.invocations;
    expect(isFinal(final!)).toBe(true);
    expect(final!.event['state']).toEqual({ count: 3 });
    expect(final!.sequenceNumbers).toEqual([]);
    await esm.running.stop();
    expect((await readStored()).progress.shards[puts[0]!.shardId]).toEqual({ checkpoint: puts[2]!.sequenceNumber });
  });
});
