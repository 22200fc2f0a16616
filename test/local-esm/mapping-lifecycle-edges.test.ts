/**
 * The edges of the mapping itself (local/esm/local-event-source-mapping.ts) that the other files leave
 * open: settings validated at construction, an observer that throws, the start/stop log lines and
 * stats an operator reads, stop() before start() and while a batch is in flight, the iterator position
 * of child shards on a restart with stored progress (Kinesis developer guide "Complete the resharding
 * action"; with-kinesis, Enabled option), and shard discovery (new shards, a failing ListShards, no
 * ListShards after stop()).
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import { createKinesisClient } from '../../kinesis/client';
import { LocalEventSourceMapping, MemoryCheckpointStore, type EsmActivity, type MappingIdentity, type MappingProgress } from '../../local/esm';
import type { MappingSettings } from '../../pipeline/definition-schema';
import { createLogger, type Logger } from '../../telemetry/logger';
import { FAST_TIMING, FUNCTION_ARN, linesWith, memoryLogger, MemorySink, ok, runMapping, seqs, settings, type StreamFixture, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

/** Kinesis calls seen by a client of the test's stream, by command name; `before` may hold or fail a call. */
interface Tap {
  calls: Record<string, number>;
  before?: (command: string, nth: number) => Promise<void> | void;
  after?: (command: string, output: Record<string, unknown>) => void;
}

const clients: KinesisClient[] = [];
afterEach(() => {
  // After the hooks of useStreamFixture (reverse order: this one runs first; the mapping is stopped there
  // after, which never needs a Kinesis answer to finish).
  for (const client of clients.splice(0)) client.destroy();
});

function tappedClient(fixture: StreamFixture, tap: Tap): KinesisClient {
  const client = createKinesisClient({ endpoint: fixture.engine.endpoint, region: 'us-east-1' });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const nth = (tap.calls[command] = (tap.calls[command] ?? 0) + 1);
      await tap.before?.(command, nth);
      const result = await next(args);
      tap.after?.(command, result.output as unknown as Record<string, unknown>);
      return result;
    },
    { step: 'initialize' },
  );
  clients.push(client);
  return client;
}

/** The identity the mapping built by runMapping stores its progress under. */
async function identityOf(fixture: StreamFixture): Promise<MappingIdentity> {
  const summary = await fixture.client.send(new DescribeStreamSummaryCommand({ StreamName: fixture.streamName }));
  return {
    consumerName: 'test-consumer',
    functionArn: FUNCTION_ARN,
    streamName: fixture.streamName,
    streamArn: fixture.streamArn,
    streamCreatedAt: summary.StreamDescriptionSummary!.StreamCreationTimestamp!.toISOString(),
  };
}

async function seededStore(fixture: StreamFixture, progress: MappingProgress): Promise<MemoryCheckpointStore> {
  const store = new MemoryCheckpointStore();
  await store.save(await identityOf(fixture), progress);
  store.saves = 0;
  return store;
}

const startedShards = (activity: EsmActivity[]) =>
  Object.fromEntries(activity.flatMap((a) => (a.type === 'shard-started' ? [[a.shardId, a.iteratorType]] : [])));

function directMapping(mappingSettings: MappingSettings, extra: { logger?: Logger; onActivity?: (a: EsmActivity) => void; invoke?: () => Promise<ReturnType<typeof ok>> } = {}) {
  return new LocalEventSourceMapping({
    kinesis: esm.fixture.client,
    consumerName: 'orders-consumer',
    functionArn: FUNCTION_ARN,
    streamName: esm.fixture.streamName,
    streamArn: esm.fixture.streamArn,
    region: 'us-east-1',
    settings: mappingSettings,
    invoke: extra.invoke ?? (async () => ok()),
    onFailure: new MemorySink(),
    logger: extra.logger ?? createLogger({ name: 'esm-test', level: 'silent' }),
    timing: FAST_TIMING,
    ...(extra.onActivity ? { onActivity: extra.onActivity } : {}),
  });
}

describe('settings validated when the mapping is created', () => {
  it('AT_TIMESTAMP without startingPositionTimestamp is rejected, naming the mapping and the missing setting', () => {
    // Settings built by hand (the pipeline schema already refuses them): the mapping must refuse them too.
    const unchecked = { ...settings({}), startingPosition: 'AT_TIMESTAMP' } as MappingSettings;
    expect(() => directMapping(unchecked)).toThrow('mapping of orders-consumer: startingPositionTimestamp is required with AT_TIMESTAMP');
  });
});

describe('the activity observer', () => {
  it('an observer that throws is logged as a warning with its error; the records are still processed and checkpointed', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    const seen: EsmActivity[] = [];
    const mapping = directMapping(settings({ batchSize: 1 }), {
      logger,
      onActivity: (a) => {
        seen.push(a);
        throw new Error('dashboard gone');
      },
    });
    await mapping.start();
    try {
      await waitFor(() => mapping.stats().shards[puts[0]!.shardId]?.checkpoint === puts[1]!.sequenceNumber, 'both records checkpointed');
      expect(mapping.stats()).toMatchObject({ recordsProcessed: 2, invocations: 2, recordsDiscarded: 0 });
      expect(seen.filter((a) => a.type === 'checkpoint').map((a) => (a as { sequenceNumber: string }).sequenceNumber)).toEqual(seqs(puts, 0, 1));
      const warned = linesWith(lines, 'onActivity observer threw');
      expect(warned.length).toBe(seen.length);
      expect(warned[0]).toMatchObject({ level: 'warn', err: { message: 'dashboard gone' } });
    } finally {
      await mapping.stop();
    }
  });
});

describe('start and stop as an operator sees them', () => {
  it('a first start logs the shards, the starting position and resumed: false; stats show the checkpoint writes', async () => {
    const { logger, lines } = memoryLogger();
    const store = new MemoryCheckpointStore();
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { logger, checkpointStore: store, timing: { checkpointWriteDelayMs: 1 } });
    expect(linesWith(lines, 'event source mapping started')).toEqual([
      expect.objectContaining({ level: 'info', shards: 1, startingPosition: 'LATEST', resumed: false }),
    ]);
    // The first start is stored at once (a LATEST mapping resumes from it).
    await waitFor(() => esm.running!.mapping.stats().checkpointWrites?.writes === 1, 'the first start stored');
    expect(store.saves).toBe(1);
    expect(esm.running.mapping.stats().checkpointWrites).toEqual({ writes: 1, failedWrites: 0 });
  });

  it('a restart with stored progress logs resumed: true, reuses no LATEST iterator and rewrites nothing when nothing changed', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: 1 }]);
    const store = await seededStore(esm.fixture, { firstStartedAt: new Date().toISOString(), shards: { [puts[0]!.shardId]: { checkpoint: puts[0]!.sequenceNumber } } });
    const tap: Tap = { calls: {} };
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), {
      logger,
      checkpointStore: store,
      client: tappedClient(esm.fixture, tap),
      timing: { checkpointWriteDelayMs: 1 },
    });
    expect(linesWith(lines, 'event source mapping started')).toEqual([
      expect.objectContaining({ shards: 1, startingPosition: 'LATEST', resumed: true }),
    ]);
    await waitFor(() => startedShards(esm.running!.activity)[puts[0]!.shardId] !== undefined, 'the shard started');
    expect(startedShards(esm.running.activity)).toEqual({ [puts[0]!.shardId]: 'AFTER_SEQUENCE_NUMBER' });
    // One iterator for the shard: the one after its checkpoint (none taken at LATEST and thrown away).
    expect(tap.calls['GetShardIterator']).toBe(1);
    await esm.running.stop();
    // Nothing was checkpointed: the stored progress is still right, no write.
    expect(store.saves).toBe(0);
    expect(esm.running.mapping.stats().checkpointWrites).toEqual({ writes: 0, failedWrites: 0 });
  });

  it('a stored checkpoint of a shard that is no longer in the stream is dropped with a warning naming it', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: 1 }]);
    const store = await seededStore(esm.fixture, { firstStartedAt: new Date().toISOString(), shards: { 'shardId-000000000042': { checkpoint: '4242', finished: true } } });
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { logger, checkpointStore: store });
    // The shard still listed is read as usual (no stored checkpoint: from the starting position).
    await waitFor(() => esm.running!.checkpoints().length === 1, 'the record checkpointed');
    expect(linesWith(lines, 'stored checkpoint ignored: the shard is no longer in the stream (expired?)')).toEqual([
      expect.objectContaining({ level: 'warn', shardId: 'shardId-000000000042', checkpoint: '4242' }),
    ]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
  });

  it('a stream whose creation time is not reported stores its checkpoints under streamCreatedAt "unknown"', async () => {
    const saved: MappingIdentity[] = [];
    const store = new MemoryCheckpointStore();
    const save = store.save.bind(store);
    store.save = async (identity, progress) => {
      saved.push({ ...identity });
      await save(identity, progress);
    };
    const tap: Tap = {
      calls: {},
      after: (command, output) => {
        if (command === 'DescribeStreamSummary') delete (output['StreamDescriptionSummary'] as Record<string, unknown>)['StreamCreationTimestamp'];
      },
    };
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { checkpointStore: store, client: tappedClient(esm.fixture, tap), timing: { checkpointWriteDelayMs: 1 } });
    await waitFor(() => saved.length >= 1, 'the first start stored');
    expect(saved[0]).toEqual({ ...(await identityOf(esm.fixture)), streamCreatedAt: 'unknown' });
  });

  it('stop() before start() stops at once, without a "stopped" summary of a mapping that never ran', async () => {
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { logger, start: false });
    const stopped = esm.running.mapping.stop();
    expect(esm.running.mapping.stats().state).toBe('stopped');
    await stopped;
    expect(linesWith(lines, 'event source mapping stopped')).toEqual([]);
  });

  it('stop() resolves only after the in-flight invocation finished and was checkpointed; the stop line carries the counters', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: 1 }]);
    let release: () => void = () => {};
    esm.running = await runMapping(esm.fixture, settings({}), () => new Promise((resolve) => (release = () => resolve(ok()))), { logger });
    await waitFor(() => esm.running!.invocations.length === 1, 'in-flight invocation');
    const order: string[] = [];
    const stopped = esm.running.mapping.stop().then(() => order.push('stop resolved'));
    // The invocation is released once stop() resolved (wrong) or after a bound: stop() cannot resolve
    // before the release when it waits for the in-flight batch, so the order below holds however slow.
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 300))]);
    order.push('invocation released');
    release();
    await stopped;
    expect(order).toEqual(['invocation released', 'stop resolved']);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
    expect(linesWith(lines, 'event source mapping stopped')).toEqual([
      expect.objectContaining({ level: 'info', recordsRead: 1, recordsProcessed: 1, invocations: 1, recordsDiscarded: 0, inFlightBatches: 0 }),
    ]);
  });
});

describe('stats', () => {
  it('millisBehindLatest is the largest of the reading shards (as reported by GetRecords)', async () => {
    const tap: Tap = {
      calls: {},
      after: (command, output) => {
        if (command === 'GetRecords') output['MillisBehindLatest'] = 7_000;
      },
    };
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { client: tappedClient(esm.fixture, tap) });
    await waitFor(() => (tap.calls['GetRecords'] ?? 0) >= 1 && esm.running!.mapping.stats().shards['shardId-000000000000']?.millisBehindLatest === 7_000, 'a GetRecords answer');
    expect(esm.running.mapping.stats()).toMatchObject({ millisBehindLatest: 7_000, shards: { 'shardId-000000000000': { status: 'reading', millisBehindLatest: 7_000 } } });
  });
});

describe('child shards on a restart with stored progress', () => {
  it('a child of a shard this mapping already read starts at TRIM_HORIZON (LATEST mapping): nothing written to it is skipped', async () => {
    const before = await esm.fixture.put([{ data: 1 }]);
    const parent = await esm.fixture.splitFirstShard();
    const store = await seededStore(esm.fixture, { firstStartedAt: new Date().toISOString(), shards: { [parent.ShardId!]: { checkpoint: before[0]!.sequenceNumber } } });
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { checkpointStore: store });
    await waitFor(() => Object.keys(startedShards(esm.running!.activity)).length === 3, 'the parent and both children started');
    expect(startedShards(esm.running.activity)).toEqual({
      [parent.ShardId!]: 'AFTER_SEQUENCE_NUMBER',
      'shardId-000000000001': 'TRIM_HORIZON',
      'shardId-000000000002': 'TRIM_HORIZON',
    });
  });

  it('a child of a listed shard with no stored progress resumes, like it, from the first start of a LATEST mapping', async () => {
    const parent = await esm.fixture.splitFirstShard();
    const store = await seededStore(esm.fixture, { firstStartedAt: new Date().toISOString(), shards: {} });
    esm.running = await runMapping(esm.fixture, settings({ startingPosition: 'LATEST' }), () => ok(), { checkpointStore: store });
    await waitFor(() => Object.keys(startedShards(esm.running!.activity)).length === 3, 'the parent and both children started');
    expect(startedShards(esm.running.activity)).toEqual({
      [parent.ShardId!]: 'AT_TIMESTAMP',
      'shardId-000000000001': 'AT_TIMESTAMP',
      'shardId-000000000002': 'AT_TIMESTAMP',
    });
  });
});

describe('shard discovery', () => {
  it('a shard created after start() is logged with its parent', async () => {
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { logger });
    const parent = await esm.fixture.splitFirstShard();
    await waitFor(() => linesWith(lines, 'new shard found').length === 2, 'both children found');
    expect(linesWith(lines, 'new shard found')).toEqual([
      expect.objectContaining({ level: 'info', shardId: 'shardId-000000000001', parent: parent.ShardId }),
      expect.objectContaining({ level: 'info', shardId: 'shardId-000000000002', parent: parent.ShardId }),
    ]);
  });

  it('a failing ListShards is logged as a warning with its error and retried: later shards are still found', async () => {
    const { logger, lines } = memoryLogger();
    const tap: Tap = {
      calls: {},
      before: (command, nth) => {
        if (command === 'ListShards' && nth === 2) throw new Error('ListShards throttled');
      },
    };
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { logger, client: tappedClient(esm.fixture, tap) });
    await waitFor(() => linesWith(lines, 'ListShards failed; will retry').length === 1, 'the failed ListShards logged');
    expect(linesWith(lines, 'ListShards failed; will retry')[0]).toMatchObject({ level: 'warn', err: { message: 'ListShards throttled' } });
    await esm.fixture.splitFirstShard();
    await waitFor(() => linesWith(lines, 'new shard found').length === 2, 'both children found after the failure');
  });

  it('stop() lists the shards no more (one ListShards, at start, with a long discovery interval)', async () => {
    const tap: Tap = { calls: {} };
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { client: tappedClient(esm.fixture, tap), timing: { shardDiscoveryIntervalMs: 600_000 } });
    await esm.running.stop();
    expect(tap.calls['ListShards']).toBe(1);
  });

  it('shards found by a ListShards that answers during stop() are not started', async () => {
    let releaseListing: () => void = () => {};
    const held = new Promise<void>((resolve) => (releaseListing = resolve));
    let holding = false;
    const tap: Tap = {
      calls: {},
      before: async (command, nth) => {
        if (command === 'ListShards' && nth === 2) {
          holding = true;
          await held;
        }
      },
    };
    // Discovery runs only when a shard finishes (the interval outlasts the test).
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { client: tappedClient(esm.fixture, tap), timing: { shardDiscoveryIntervalMs: 600_000 } });
    const parent = await esm.fixture.splitFirstShard();
    await waitFor(() => esm.running!.activity.some((a) => a.type === 'shard-finished' && a.shardId === parent.ShardId), 'the parent read to its end');
    await waitFor(() => holding, 'the ListShards after the parent finished, held');
    const stopped = esm.running.mapping.stop();
    releaseListing();
    await stopped;
    const stats = esm.running.mapping.stats();
    expect(stats.state).toBe('stopped');
    expect(Object.fromEntries(Object.entries(stats.shards).map(([id, s]) => [id, s.status]))).toEqual({
      [parent.ShardId!]: 'finished',
      'shardId-000000000001': 'waiting-for-parent',
      'shardId-000000000002': 'waiting-for-parent',
    });
    expect(Object.keys(startedShards(esm.running.activity))).toEqual([parent.ShardId]);
  });
});
