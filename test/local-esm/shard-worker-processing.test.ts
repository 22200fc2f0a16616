/**
 * The shard worker's lanes at their edges (local/esm/shard-worker.ts):
 * - the tumbling-window state limit: "Your state can be a maximum of 1 MB per shard. If it exceeds that
 *   size, Lambda terminates the window early" (page "Time windows"): 1 MB itself is allowed;
 * - a stop in the middle of a window's life: an early final invoke still failing keeps its records
 *   pending; the open window's final invoke at stop (`closeWindowsAtStop`) is made even when the stop
 *   arrives during a batch, and when it fails the window is reported dropped; with a checkpoint store the
 *   window is kept (or, once closed at stop, removed) so a restart neither loses nor repeats it
 *   (docs/semantics.md rules 35 and 36);
 * - stop() drains what was already read (rule 35: "stop() drains gracefully [...] in-flight invocations
 *   finish and checkpoint");
 * - the lane of a partition key is computed once per key, and the memory of those lanes is bounded
 *   (10,000 keys, comment of `laneCache`).
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type InvokeOutcome, type MappingIdentity, type MappingProgress, MemoryCheckpointStore } from '../../local/esm';
import { laneOf } from '../../local/esm/lanes';
import { formatWindowTime, WINDOW_STATE_LIMIT_BYTES } from '../../local/esm/tumbling-window';
import { type Invocation, linesWith, memoryLogger, ok, runMapping, seqs, settings, thrown, useStreamFixture, waitFor } from './harness';

vi.mock('../../local/esm/lanes', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../local/esm/lanes')>();
  return { ...actual, laneOf: vi.fn(actual.laneOf) };
});

const esm = useStreamFixture();

afterEach(() => {
  vi.mocked(laneOf).mockClear();
});

/** Wait until early in a second, so records put now share a 1 s window. */
async function startOfSecond(): Promise<void> {
  while (Date.now() % 1000 > 300) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Count records into the state (what an aggregating function does). */
const counting = (inv: Invocation) => {
  const state = (inv.event['state'] ?? {}) as { count?: number };
  return ok({ state: { count: (state.count ?? 0) + inv.event.Records.length } });
};
const isFinal = (inv: Invocation) => inv.event['isFinalInvokeForWindow'] === true;
const shape = (inv: Invocation) => ({
  records: inv.sequenceNumbers,
  final: inv.event['isFinalInvokeForWindow'],
  early: inv.event['isWindowTerminatedEarly'],
  state: inv.event['state'],
});

/** A state whose JSON is exactly `bytes` long. */
const stateOfBytes = (bytes: number) => ({ blob: 'x'.repeat(bytes - '{"blob":""}'.length) });

/** A checkpoint store that keeps the last progress saved (what a restart would load). */
class LastSavedStore extends MemoryCheckpointStore {
  last: MappingProgress | undefined;
  override async save(identity: MappingIdentity, progress: MappingProgress): Promise<void> {
    this.last = JSON.parse(JSON.stringify(progress)) as MappingProgress;
    await super.save(identity, progress);
  }
}

describe('the 1 MB window state limit', () => {
  it('a state of exactly 1 MB is kept: no early termination, the window ends normally with that state', async () => {
    const exact = stateOfBytes(WINDOW_STATE_LIMIT_BYTES);
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(1024 * 1024);
    await startOfSecond();
    const puts = await esm.fixture.put([{ data: 1 }]);
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1 }), (inv, index) => (index === 0 ? ok({ state: exact }) : ok({ state: inv.event['state'] })));
    await waitFor(() => esm.running!.invocations.length === 2 && esm.running!.activity.filter((a) => a.type === 'outcome').length === 2, 'the final invoke and its outcome');
    expect(esm.running.invocations.map(shape)).toEqual([
      { records: seqs(puts, 0), final: false, early: false, state: {} },
      { records: [], final: true, early: false, state: exact },
    ]);
  });

  it('one byte more terminates the window early, logged with the size', async () => {
    const over = stateOfBytes(WINDOW_STATE_LIMIT_BYTES + 1);
    const { logger, lines } = memoryLogger();
    await startOfSecond();
    const puts = await esm.fixture.put([{ data: 1 }]);
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1 }), (inv, index) => (index === 0 ? ok({ state: over }) : ok({ state: inv.event['state'] })), { logger });
    await waitFor(() => esm.running!.invocations.length === 3, 'early termination and end of window');
    expect(esm.running.invocations.map(shape)).toEqual([
      { records: seqs(puts, 0), final: false, early: false, state: {} },
      { records: [], final: true, early: true, state: over },
      { records: [], final: true, early: false, state: {} },
    ]);
    expect(linesWith(lines, 'window state above 1 MB: terminating the window early')).toEqual([
      expect.objectContaining({ level: 'warn', bytes: WINDOW_STATE_LIMIT_BYTES + 1, shardId: puts[0]!.shardId }),
    ]);
  });

  it('a stop while the early final invoke is still failing leaves the batch pending (not checkpointed): the terminated state is not lost', async () => {
    const over = stateOfBytes(WINDOW_STATE_LIMIT_BYTES + 1);
    await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(
      esm.fixture,
      settings({ tumblingWindowInSeconds: 60, batchSize: 10 }),
      (inv) => (isFinal(inv) ? thrown() : ok({ state: over })),
      { timing: { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 } },
    );
    await waitFor(() => esm.running!.activity.some((a) => a.type === 'retry'), 'the early final invoke failed, its retry waiting');
    await esm.running.stop();
    expect(esm.running.invocations.map((inv) => ({ records: inv.sequenceNumbers.length, early: inv.event['isWindowTerminatedEarly'] }))).toEqual([
      { records: 2, early: false },
      { records: 0, early: true },
    ]);
    expect(esm.running.checkpoints()).toEqual([]);
    expect(esm.running.mapping.stats()).toMatchObject({ recordsPending: 2 });
  });
});

describe('an open window at stop', () => {
  it('closeWindowsAtStop, stop during a batch: the batch finishes, then the window gets its final invoke with the state the batch returned', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }]);
    let release: (outcome: InvokeOutcome) => void = () => {};
    esm.running = await runMapping(
      esm.fixture,
      settings({ tumblingWindowInSeconds: 60 }),
      (inv, index) => (index === 0 ? new Promise<InvokeOutcome>((resolve) => (release = resolve)) : counting(inv)),
      { closeWindowsAtStop: true },
    );
    await waitFor(() => esm.running!.invocations.length === 1, 'the batch in flight');
    const stopped = esm.running.mapping.stop();
    release(ok({ state: { count: 1 } }));
    await stopped;
    expect(esm.running.invocations.map((inv) => ({ records: inv.sequenceNumbers, final: inv.event['isFinalInvokeForWindow'] }))).toEqual([
      { records: seqs(puts, 0), final: false },
      { records: [], final: true },
    ]);
    expect(esm.running.invocations[1]!.event['state']).toEqual({ count: 1 });
    expect(esm.running.activity.filter((a) => a.type === 'window-dropped')).toEqual([]);
  });

  it('closeWindowsAtStop, the final invoke fails at stop: the window is reported dropped (window-dropped with its bounds, a warning)', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }]);
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60 }), (inv) => (isFinal(inv) ? thrown() : counting(inv)), {
      closeWindowsAtStop: true,
      logger,
    });
    await waitFor(() => esm.running!.checkpoints().includes(puts[0]!.sequenceNumber), 'the record folded in');
    await esm.running.stop();
    expect(esm.running.invocations.map(isFinal)).toEqual([false, true]);
    const window = esm.running.invocations[0]!.event['window'] as { start: string; end: string };
    expect(esm.running.activity.filter((a) => a.type === 'window-dropped')).toEqual([{ type: 'window-dropped', shardId: puts[0]!.shardId, window }]);
    expect(linesWith(lines, 'the final invoke of the open window failed at stop: its figures were not published')).toEqual([
      expect.objectContaining({ level: 'warn', window }),
    ]);
    expect(linesWith(lines, 'stream ends with the mapping: open window closed with its final invoke at stop')).toEqual([]);
  });

  it('closeWindowsAtStop with a checkpoint store: once closed at stop, the window is removed from the stored progress (a restart does not repeat it)', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }, { data: 'b' }]);
    const shardId = puts[0]!.shardId;
    const store = new LastSavedStore();
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60, batchSize: 10 }), counting, { closeWindowsAtStop: true, checkpointStore: store, logger });
    // The window as of the checkpoint is stored before the stop.
    await waitFor(() => store.last?.shards[shardId]?.window !== undefined, 'the open window stored');
    expect(store.last!.shards[shardId]).toMatchObject({ checkpoint: puts[1]!.sequenceNumber, window: { state: { count: 2 } } });
    await esm.running.stop();
    expect(esm.running.invocations.map(isFinal)).toEqual([false, true]);
    expect(store.last!.shards[shardId]).toEqual({ checkpoint: puts[1]!.sequenceNumber });
    const window = esm.running.invocations[0]!.event['window'];
    expect(linesWith(lines, 'stream ends with the mapping: open window closed with its final invoke at stop')).toEqual([expect.objectContaining({ level: 'info', window })]);
  });

  it('with a checkpoint store and no closeWindowsAtStop: the window is kept in the store, not reported dropped', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }]);
    const shardId = puts[0]!.shardId;
    const store = new LastSavedStore();
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60 }), counting, { checkpointStore: store, logger });
    await waitFor(() => esm.running!.checkpoints().includes(puts[0]!.sequenceNumber), 'the record folded in');
    await esm.running.stop();
    const window = esm.running.invocations[0]!.event['window'] as { start: string; end: string };
    expect(store.last!.shards[shardId]).toMatchObject({ checkpoint: puts[0]!.sequenceNumber, window: { state: { count: 1 } } });
    expect(formatWindowTime(store.last!.shards[shardId]!.window!.startMs)).toBe(window.start);
    expect(esm.running.activity.filter((a) => a.type === 'window-dropped')).toEqual([]);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('without a checkpoint store or closeWindowsAtStop: the dropped window is reported (window-dropped) and logged as a warning, with its bounds', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }]);
    const { logger, lines } = memoryLogger();
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60 }), counting, { logger });
    await waitFor(() => esm.running!.checkpoints().includes(puts[0]!.sequenceNumber), 'the record folded in');
    await esm.running.stop();
    const window = esm.running.invocations[0]!.event['window'] as { start: string; end: string };
    expect(esm.running.activity.filter((a) => a.type === 'window-dropped')).toEqual([{ type: 'window-dropped', shardId: puts[0]!.shardId, window }]);
    expect(linesWith(lines, 'open window dropped at stop: no checkpoint store keeps its state and no final invoke was asked for')).toEqual([
      expect.objectContaining({ level: 'warn', window, shardId: puts[0]!.shardId }),
    ]);
  });
});

describe('stop()', () => {
  it('drains what was already read: the batches buffered behind the in-flight one are invoked and checkpointed before stop() resolves', async () => {
    const puts = await esm.fixture.put([0, 1, 2].map((i) => ({ data: { i } })));
    let release: (outcome: InvokeOutcome) => void = () => {};
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 1 }), (_inv, index) =>
      index === 0 ? new Promise<InvokeOutcome>((resolve) => (release = resolve)) : ok(),
    );
    // One GetRecords read all three: the first is in flight, the other two wait in the lane.
    await waitFor(() => esm.running!.invocations.length === 1 && esm.running!.mapping.stats().recordsRead === 3, 'the first batch in flight, the rest read');
    const stopped = esm.running.mapping.stop();
    release(ok());
    await stopped;
    expect(esm.running.invocations.map((inv) => inv.sequenceNumbers)).toEqual([seqs(puts, 0), seqs(puts, 1), seqs(puts, 2)]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0, 1, 2));
    expect(esm.running.mapping.stats()).toMatchObject({ state: 'stopped', recordsPending: 0 });
  });
});

describe('lanes per partition key', () => {
  const hashesOf = (key: string) => vi.mocked(laneOf).mock.calls.filter(([k]) => k === key).length;

  it('a key seen again is not hashed again', async () => {
    await esm.fixture.put(['a', 'b', 'a', 'b', 'a'].map((key, i) => ({ key, data: { i } })));
    esm.running = await runMapping(esm.fixture, settings({ parallelizationFactor: 2 }), () => ok());
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 5, 'all records');
    expect([hashesOf('a'), hashesOf('b')]).toEqual([1, 1]);
  });

  it('the lanes remembered are bounded at 10,000 keys: after 10,001 other keys the first one is hashed again', async () => {
    const keys = [...Array.from({ length: 10_001 }, (_, i) => `key-${i}`), 'key-0'];
    for (let from = 0; from < keys.length; from += 500) {
      const entries = keys.slice(from, from + 500).map((key) => ({ PartitionKey: key, Data: Buffer.from('{}') }));
      const out = await esm.fixture.client.send(new PutRecordsCommand({ StreamName: esm.fixture.streamName, Records: entries }));
      expect(out.FailedRecordCount ?? 0).toBe(0);
    }
    esm.running = await runMapping(esm.fixture, settings({ parallelizationFactor: 2, batchSize: 1000 }), () => ok());
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === keys.length, 'all records', 40_000);
    expect(hashesOf('key-1')).toBe(1);
    expect(hashesOf('key-0')).toBe(2);
  });
});
