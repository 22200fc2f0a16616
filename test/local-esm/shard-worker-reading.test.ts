/**
 * The shard reader at its edges (local/esm/shard-worker.ts), observed through the Kinesis calls the
 * mapping makes (an SDK middleware on the mapping's own client records GetShardIterator requests and
 * GetRecords pages, and injects scheduled faults):
 * - AT_TIMESTAMP: the first record delivered is the first whose ApproximateArrivalTimestamp is at or
 *   after the timestamp (Kinesis API reference, GetShardIterator: "If a record with this exact time
 *   stamp does not exist, the iterator returned is for the next (later) record");
 * - an expired iterator (ExpiredIteratorException, GetShardIterator: iterators expire after 5 minutes)
 *   resumes AFTER_SEQUENCE_NUMBER of the last record read, or, when nothing was read yet, from the
 *   starting position (a LATEST mapping: the moment it started);
 * - GetShardIterator errors: throttling is retried with the same position; a checkpoint Kinesis no longer
 *   finds falls back to TRIM_HORIZON with a warning (docs/semantics.md rule 36);
 * - cadence: "Lambda polls each shard [...] at a base rate of once per second. When more records are
 *   available, Lambda keeps processing batches until the function catches up" (page "Using AWS Lambda
 *   with Amazon Kinesis"): pages skipped whole (before the timestamp) are followed at once, an idle shard
 *   is polled at the base rate.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ProvisionedThroughputExceededException,
  PutRecordCommand,
  ResourceNotFoundException,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { createKinesisClient, listAllShards } from '../../kinesis/client';
import { type InvokeOutcome, MemoryCheckpointStore } from '../../local/esm';
import { linesWith, memoryLogger, ok, quiesce, runMapping, seqs, settings, StreamFixture, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

interface IteratorRequest {
  shardId: string;
  type: string;
  sequenceNumber?: string;
}

interface Tap {
  /** GetShardIterator requests as sent (including the failed ones), in order. */
  readonly iteratorRequests: IteratorRequest[];
  /** GetRecords calls per shard (answered or failed). */
  getRecordsCalls(shardId: string): number;
  readonly client: KinesisClient;
}

interface TapOptions {
  /** Rewrites GetRecords' Limit: Kinesis may return fewer records than asked (its per-call size limits). */
  pageLimit?: number;
  /** Called before each GetRecords call is sent (1-based count over all shards); an error returned is thrown instead. */
  getRecordsFault?: (call: number, shardId: string) => Error | undefined | Promise<Error | undefined>;
  /** Called before each GetShardIterator request is sent; an error returned is thrown instead. */
  getShardIteratorFault?: (request: IteratorRequest) => Error | undefined;
}

const clients: KinesisClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

/** A client for the mapping alone, with the tap installed (the test's own calls are not recorded). */
function tapClient(options: TapOptions = {}): Tap {
  const client = createKinesisClient({ endpoint: esm.fixture.engine.endpoint, region: 'us-east-1' });
  clients.push(client);
  const shardOf = new Map<string, string>();
  const iteratorRequests: IteratorRequest[] = [];
  const calls = new Map<string, number>();
  let getRecordsCalls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'GetShardIteratorCommand') {
        const request: IteratorRequest = {
          shardId: input['ShardId'] as string,
          type: input['ShardIteratorType'] as string,
          ...(input['StartingSequenceNumber'] !== undefined ? { sequenceNumber: input['StartingSequenceNumber'] as string } : {}),
        };
        iteratorRequests.push(request);
        const fault = options.getShardIteratorFault?.(request);
        if (fault !== undefined) throw fault;
        const result = await next(args);
        const iterator = (result.output as { ShardIterator?: string }).ShardIterator;
        if (iterator !== undefined) shardOf.set(iterator, request.shardId);
        return result;
      }
      if (context.commandName === 'GetRecordsCommand') {
        const shardId = shardOf.get(input['ShardIterator'] as string) ?? 'unknown';
        calls.set(shardId, (calls.get(shardId) ?? 0) + 1);
        const fault = await options.getRecordsFault?.(++getRecordsCalls, shardId);
        if (fault !== undefined) throw fault;
        if (options.pageLimit !== undefined) args.input = { ...input, Limit: options.pageLimit };
        const result = await next(args);
        const nextIterator = (result.output as { NextShardIterator?: string }).NextShardIterator;
        if (nextIterator !== undefined) shardOf.set(nextIterator, shardId);
        return result;
      }
      return next(args);
    },
    { step: 'initialize', name: 'readTap' },
  );
  return { iteratorRequests, getRecordsCalls: (shardId) => calls.get(shardId) ?? 0, client };
}

const expired = () => new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });

/** The records of a shard as Kinesis holds them (sequence number and arrival time), read with the test's client. */
async function storedRecords(shardId: string): Promise<_Record[]> {
  const { client, streamName } = esm.fixture;
  const start = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  const page = await client.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator!, Limit: 10_000 }));
  return page.Records ?? [];
}

const arrivalOf = async (shardId: string, sequenceNumber: string): Promise<number> => {
  const record = (await storedRecords(shardId)).find((r) => r.SequenceNumber === sequenceNumber);
  return record!.ApproximateArrivalTimestamp!.getTime();
};

/** Waits until the clock is past `ms`, so that the next record put arrives strictly later (not a sleep: a condition). */
async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Puts `before` records, then `after` records that arrive strictly later; returns the timestamp equal to
 * the exact arrival time of the first `after` record (what AT_TIMESTAMP starts at).
 */
async function recordsAroundTimestamp(before: number, after: number, key = 'k') {
  const early = await esm.fixture.put(Array.from({ length: before }, (_, i) => ({ key, data: { early: i } })));
  const shardId = early[0]!.shardId;
  await clockPast(await arrivalOf(shardId, early[early.length - 1]!.sequenceNumber));
  const late = await esm.fixture.put(Array.from({ length: after }, (_, i) => ({ key, data: { late: i } })));
  const at = await arrivalOf(shardId, late[0]!.sequenceNumber);
  // Independent check of the setup: every early record arrived strictly before the timestamp.
  const earlyArrivals = await Promise.all(early.map((p) => arrivalOf(shardId, p.sequenceNumber)));
  expect(Math.max(...earlyArrivals)).toBeLessThan(at);
  return { early, late, shardId, timestamp: new Date(at).toISOString() };
}

const invoked = () => esm.running!.invocations.flatMap((i) => i.sequenceNumbers);

/** Puts `count` records on one shard (ExplicitHashKey: the shard's first hash key); returns their sequence numbers. */
async function putTo(shardId: string, count: number): Promise<string[]> {
  const shard = (await listAllShards(esm.fixture.client, esm.fixture.streamName)).find((s) => s.ShardId === shardId)!;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const put = await esm.fixture.client.send(
      new PutRecordCommand({ StreamName: esm.fixture.streamName, PartitionKey: `p${i}`, ExplicitHashKey: shard.HashKeyRange!.StartingHashKey!, Data: Buffer.from(JSON.stringify({ i })) }),
    );
    expect(put.ShardId).toBe(shardId);
    out.push(put.SequenceNumber!);
  }
  return out;
}

describe('AT_TIMESTAMP', () => {
  it('a record that arrived exactly at the timestamp is the first delivered; every earlier one is skipped', async () => {
    const { late, timestamp } = await recordsAroundTimestamp(2, 2);
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: timestamp, batchSize: 10 }), () => ok());
    await waitFor(() => invoked().length === 2, 'the records from the timestamp on');
    await quiesce(esm.fixture, esm.running);
    expect(invoked()).toEqual(seqs(late, 0, 1));
    expect(esm.running.stats().recordsRead).toBe(2);
  });

  it('pages skipped whole are followed at once; a shard that delivered its page, or found none, waits for the base rate', async () => {
    await esm.fixture.stop();
    esm.fixture = await StreamFixture.start(3);
    const [skipping, delivering, idle] = (await listAllShards(esm.fixture.client, esm.fixture.streamName)).map((s) => s.ShardId!) as [string, string, string];
    const early = await putTo(skipping, 12);
    await clockPast(await arrivalOf(skipping, early[early.length - 1]!));
    const [atTimestamp] = await putTo(skipping, 1);
    const at = await arrivalOf(skipping, atTimestamp!);
    const [fresh] = await putTo(delivering, 1);
    // One record per GetRecords page: twelve pages before the timestamp on one shard. The base rate is set
    // far beyond the test's length: a shard that waited for it before its last record would never deliver it.
    const tap = tapClient({ pageLimit: 1 });
    esm.running = await runMapping(
      esm.fixture,
      settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: new Date(at).toISOString() }),
      () => ok(),
      { client: tap.client, timing: { pollIntervalMs: 600_000, busyPollIntervalMs: 5 } },
    );
    await waitFor(() => invoked().length === 2 && tap.getRecordsCalls(idle) >= 1, 'the record at the timestamp, behind twelve skipped pages');
    expect(new Set(invoked())).toEqual(new Set([atTimestamp, fresh]));
    expect(tap.getRecordsCalls(skipping)).toBe(13);
    // Meanwhile (thirteen reads at the busy cadence) the shard that delivered its only page, and the empty
    // shard, were read once each: both are caught up (MillisBehindLatest 0) and wait for the base rate.
    expect(tap.getRecordsCalls(delivering)).toBe(1);
    expect(tap.getRecordsCalls(idle)).toBe(1);
  });

  it('an iterator expiring while records before the timestamp are skipped resumes after the last record skipped, still skipping up to the timestamp', async () => {
    const { early, late, shardId, timestamp } = await recordsAroundTimestamp(3, 1);
    // One record per page: calls 1 and 2 read (and skip) early[0] and early[1]; call 3 finds the iterator expired.
    const tap = tapClient({ pageLimit: 1, getRecordsFault: (call) => (call === 3 ? expired() : undefined) });
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: timestamp }), () => ok(), {
      client: tap.client,
    });
    await waitFor(() => invoked().length === 1, 'the record at the timestamp');
    await quiesce(esm.fixture, esm.running);
    expect(invoked()).toEqual(seqs(late, 0));
    expect(tap.iteratorRequests).toEqual([
      { shardId, type: 'TRIM_HORIZON' },
      { shardId, type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: early[1]!.sequenceNumber },
    ]);
  });

  it('an iterator expiring before anything was read resumes at the starting timestamp: nothing before it is delivered', async () => {
    const { late, shardId, timestamp } = await recordsAroundTimestamp(2, 2);
    const tap = tapClient({ getRecordsFault: (call) => (call === 1 ? expired() : undefined) });
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: timestamp, batchSize: 10 }), () => ok(), {
      client: tap.client,
      logger,
    });
    await waitFor(() => invoked().length === 2, 'the records from the timestamp on');
    await quiesce(esm.fixture, esm.running);
    expect(invoked()).toEqual(seqs(late, 0, 1));
    // Nothing was read before the expiry: no sequence number to resume after, the starting position again.
    expect(tap.iteratorRequests).toEqual([
      { shardId, type: 'TRIM_HORIZON' },
      { shardId, type: 'TRIM_HORIZON' },
    ]);
    // An expired iterator is expected (they live 5 minutes), not a read failure to back off from.
    expect(linesWith(lines, 'GetRecords failed; backing off')).toEqual([]);
  });
});

describe('an expired iterator', () => {
  it('of a LATEST mapping, before anything was read: resumes from the moment the mapping started, so a record put meanwhile is delivered', async () => {
    const [old] = await esm.fixture.put([{ data: 'before the mapping' }]);
    await clockPast(await arrivalOf(old!.shardId, old!.sequenceNumber));
    let releaseFirstRead: () => void = () => {};
    const firstRead = new Promise<void>((resolve) => (releaseFirstRead = resolve));
    let firstReadEntered = false;
    // The first GetRecords (on the LATEST iterator acquired by start()) is held, then fails as expired.
    const tap = tapClient({
      getRecordsFault: async (call) => {
        if (call !== 1) return undefined;
        firstReadEntered = true;
        await firstRead;
        return expired();
      },
    });
    try {
      esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { client: tap.client });
      await waitFor(() => firstReadEntered, 'the first GetRecords');
      const meanwhile = await esm.fixture.put([{ data: 'after start, before the expiry' }]);
      releaseFirstRead();
      await waitFor(() => invoked().length === 1, 'the record put after start');
      await quiesce(esm.fixture, esm.running);
      expect(invoked()).toEqual(seqs(meanwhile, 0));
    } finally {
      releaseFirstRead();
    }
  });

  it('whose re-acquisition is throttled: GetShardIterator is retried after the same record (logged), nothing read twice', async () => {
    const first = await esm.fixture.put([0, 1].map((i) => ({ data: { i } })));
    let healed = false;
    const { logger, lines } = memoryLogger();
    const tap = tapClient({
      getRecordsFault: (call) => (call === 2 ? expired() : undefined),
      getShardIteratorFault: (request) =>
        request.type === 'AFTER_SEQUENCE_NUMBER' && !healed
          ? new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: {} })
          : undefined,
    });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { client: tap.client, logger });
    await waitFor(() => linesWith(lines, 'GetShardIterator failed; retrying').length >= 2, 'two throttled re-acquisitions');
    healed = true;
    const second = await esm.fixture.put([2, 3].map((i) => ({ data: { i } })));
    await waitFor(() => invoked().length === 4, 'the later records');
    await quiesce(esm.fixture, esm.running);
    expect(invoked()).toEqual([...first, ...second].map((p) => p.sequenceNumber));
    const shardId = first[0]!.shardId;
    const resumes = tap.iteratorRequests.slice(1);
    expect(resumes.length).toBeGreaterThanOrEqual(3);
    expect(resumes).toEqual(resumes.map(() => ({ shardId, type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: first[1]!.sequenceNumber })));
    expect(linesWith(lines, 'GetShardIterator failed; retrying')).toHaveLength(resumes.length - 1);
    expect(linesWith(lines, 'GetShardIterator failed; retrying')[0]).toMatchObject({ level: 'warn', err: expect.objectContaining({ message: 'Rate exceeded for shard' }) });
    expect(linesWith(lines, 'the checkpoint is no longer readable (expired or trimmed?): reading the shard from TRIM_HORIZON')).toEqual([]);
  });
});

describe('read-ahead', () => {
  it('a shard whose lanes hold maxBufferedRecordsPerShard records reads no more until they are consumed', async () => {
    await esm.fixture.stop();
    esm.fixture = await StreamFixture.start(2);
    const before = await esm.fixture.put([0, 1, 2, 3, 4].map((i) => ({ key: 'a', data: { i } })));
    const full = before[0]!.shardId;
    const other = (await listAllShards(esm.fixture.client, esm.fixture.streamName)).map((s) => s.ShardId!).find((s) => s !== full)!;
    const tap = tapClient();
    let release: (outcome: InvokeOutcome) => void = () => {};
    // batchSize 1: the first record in flight (held), the four others buffered: the limit (4) is reached.
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 1 }), (_inv, index) => (index === 0 ? new Promise<InvokeOutcome>((resolve) => (release = resolve)) : ok()), {
      client: tap.client,
      timing: { maxBufferedRecordsPerShard: 4 },
    });
    try {
      await waitFor(() => esm.running!.invocations.length === 1 && tap.getRecordsCalls(full) === 1, 'the first record in flight, the rest buffered');
      const later = await esm.fixture.put([{ key: 'a', data: { i: 5 } }]);
      // The other (empty) shard is polled at the same base rate: three more of its polls prove the full shard had its turns.
      const polls = tap.getRecordsCalls(other);
      await waitFor(() => tap.getRecordsCalls(other) >= polls + 3, 'three polls of the other shard');
      expect(tap.getRecordsCalls(full)).toBe(1);
      expect(esm.running.mapping.stats().recordsRead).toBe(5);
      release(ok());
      await waitFor(() => invoked().length === 6, 'every record once the lane consumed the buffer');
      expect(invoked()).toEqual([...before, ...later].map((p) => p.sequenceNumber));
    } finally {
      release(ok());
    }
  });
});

describe('GetShardIterator errors', () => {
  it('a TRIM_HORIZON start whose first GetShardIterator fails is retried from TRIM_HORIZON; no checkpoint is claimed unreadable', async () => {
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    let failures = 0;
    const { logger, lines } = memoryLogger();
    const tap = tapClient({
      getShardIteratorFault: () => (failures++ === 0 ? new ResourceNotFoundException({ message: 'Stream esm-test not found', $metadata: {} }) : undefined),
    });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { client: tap.client, logger });
    await waitFor(() => invoked().length === 2, 'the records');
    expect(invoked()).toEqual(seqs(puts, 0, 1));
    expect(tap.iteratorRequests.map((r) => r.type)).toEqual(['TRIM_HORIZON', 'TRIM_HORIZON']);
    expect(linesWith(lines, 'GetShardIterator failed; retrying')).toHaveLength(1);
    expect(linesWith(lines, 'the checkpoint is no longer readable (expired or trimmed?): reading the shard from TRIM_HORIZON')).toEqual([]);
  });

  it('a stored checkpoint Kinesis no longer finds (ResourceNotFoundException): TRIM_HORIZON with a warning naming it, the shard read again from its start', async () => {
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    const shardId = puts[0]!.shardId;
    const store = new MemoryCheckpointStore();
    const first = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { checkpointStore: store });
    try {
      await waitFor(() => first.checkpoints().includes(puts[1]!.sequenceNumber), 'both records checkpointed');
    } finally {
      await first.stop();
    }
    const { logger, lines } = memoryLogger();
    const tap = tapClient({
      getShardIteratorFault: (request) =>
        request.type === 'AFTER_SEQUENCE_NUMBER' ? new ResourceNotFoundException({ message: 'Shard not found', $metadata: {} }) : undefined,
    });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok(), { client: tap.client, checkpointStore: store, logger });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'the re-read records checkpointed');
    expect(invoked()).toEqual(seqs(puts, 0, 1));
    expect(esm.running.activity.filter((a) => a.type === 'shard-started')).toEqual([{ type: 'shard-started', shardId, iteratorType: 'TRIM_HORIZON' }]);
    expect(tap.iteratorRequests).toEqual([
      { shardId, type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: puts[1]!.sequenceNumber },
      { shardId, type: 'TRIM_HORIZON' },
    ]);
    expect(linesWith(lines, 'the checkpoint is no longer readable (expired or trimmed?): reading the shard from TRIM_HORIZON')).toEqual([
      expect.objectContaining({ level: 'warn', sequenceNumber: puts[1]!.sequenceNumber, shardId }),
    ]);
  });
});
