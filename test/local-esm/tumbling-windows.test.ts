/**
 * Tumbling windows (page "Time windows", services-kinesis-windows): state per shard and window,
 * windows by arrival time, isFinalInvokeForWindow, isWindowTerminatedEarly, a response without
 * `state` is a failed invocation, 1 MB state limit.
 */
import { describe, expect, it } from 'vitest';
import { formatWindowTime } from '../../local/esm/tumbling-window';
import { type Invocation, ok, runMapping, seqs, settings, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

/** Wait until early in a second, so records put now share a 1 s window. */
async function startOfSecond(): Promise<void> {
  while (Date.now() % 1000 > 300) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** Count records into the state (what an aggregating function does). */
const counting = (inv: Invocation) => {
  const state = (inv.event['state'] ?? {}) as { count?: number };
  return ok({ state: { count: (state.count ?? 0) + inv.event.Records.length } });
};

const windowFields = (inv: Invocation) => {
  const { Records: _records, ...rest } = inv.event;
  return rest;
};

describe('tumbling windows', () => {
  it('aggregates with state, then a final invoke ends the window; the event carries window, shardId and eventSourceARN', async () => {
    await startOfSecond();
    const puts = await esm.fixture.putTogether([0, 1, 2].map((i) => ({ data: { i } })));
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1 }), counting);
    await waitFor(() => esm.running!.invocations.length === 2, 'aggregate + final invoke');
    const arrival = esm.running.invocations[0]!.event.Records[0]!.kinesis.approximateArrivalTimestamp * 1000;
    const start = Math.floor(arrival / 1000) * 1000;
    const window = { start: formatWindowTime(start), end: formatWindowTime(start + 1000) };
    expect(window.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(esm.running.invocations[0]!.sequenceNumbers).toEqual(seqs(puts, 0, 1, 2));
    expect(Object.keys(esm.running.invocations[0]!.event)).toEqual(['Records', 'window', 'state', 'shardId', 'eventSourceARN', 'isFinalInvokeForWindow', 'isWindowTerminatedEarly']);
    expect(windowFields(esm.running.invocations[0]!)).toEqual({
      window, state: {}, shardId: puts[0]!.shardId, eventSourceARN: esm.fixture.streamArn, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false,
    });
    expect(esm.running.invocations[1]!.sequenceNumbers).toEqual([]);
    expect(windowFields(esm.running.invocations[1]!)).toEqual({
      window, state: { count: 3 }, shardId: puts[0]!.shardId, eventSourceARN: esm.fixture.streamArn, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false,
    });
    await waitFor(() => esm.running!.checkpoints().includes(puts[2]!.sequenceNumber), 'checkpoint');
  });

  it('records of different windows never share an invocation; each window gets a fresh state', async () => {
    await startOfSecond();
    const first = await esm.fixture.put([{ data: 'w1' }]);
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const second = await esm.fixture.put([{ data: 'w2' }]);
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1, batchSize: 10 }), counting);
    await waitFor(() => esm.running!.invocations.length === 4, 'two windows');
    const shape = esm.running.invocations.map((inv) => ({ records: inv.sequenceNumbers, final: inv.event['isFinalInvokeForWindow'], state: inv.event['state'] }));
    expect(shape).toEqual([
      { records: seqs(first, 0), final: false, state: {} },
      { records: [], final: true, state: { count: 1 } },
      { records: seqs(second, 0), final: false, state: {} },
      { records: [], final: true, state: { count: 1 } },
    ]);
    // Each invocation's window is the 1 s window of its records' arrival time.
    const windowOfArrival = (inv: Invocation) => {
      const start = Math.floor(inv.event.Records[0]!.kinesis.approximateArrivalTimestamp) * 1000;
      return { start: formatWindowTime(start), end: formatWindowTime(start + 1000) };
    };
    expect(esm.running.invocations[0]!.event['window']).toEqual(windowOfArrival(esm.running.invocations[0]!));
    expect(esm.running.invocations[1]!.event['window']).toEqual(windowOfArrival(esm.running.invocations[0]!));
    expect(esm.running.invocations[2]!.event['window']).toEqual(windowOfArrival(esm.running.invocations[2]!));
    expect(esm.running.invocations[2]!.event['window']).not.toEqual(esm.running.invocations[0]!.event['window']);
  });

  it('a response without state is a failed invocation and is retried', async () => {
    await startOfSecond();
    const puts = await esm.fixture.putTogether([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1, reportBatchItemFailures: true }), (inv, index) =>
      index === 0 ? ok({ batchItemFailures: [] }) : counting(inv),
    );
    await waitFor(() => esm.running!.invocations.length === 3, 'retry and final');
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1), seqs(puts, 0, 1), []]);
    expect(esm.running.invocations[2]!.event['state']).toEqual({ count: 2 });
    expect(esm.running.mapping.stats()).toMatchObject({ invocationErrors: 1, retries: 1 });
  });

  it('a state above 1 MB terminates the window early; the window continues with a fresh state', async () => {
    await startOfSecond();
    await esm.fixture.put([{ data: 1 }]);
    const big = { blob: 'x'.repeat(1024 * 1024) };
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1 }), (inv, index) => (index === 0 ? ok({ state: big }) : ok({ state: inv.event['state'] })));
    await waitFor(() => esm.running!.invocations.length === 3, 'early termination and end of window');
    const shape = esm.running.invocations.map((inv) => ({
      records: inv.sequenceNumbers.length,
      final: inv.event['isFinalInvokeForWindow'],
      early: inv.event['isWindowTerminatedEarly'],
      state: inv.event['state'],
    }));
    expect(shape).toEqual([
      { records: 1, final: false, early: false, state: {} },
      { records: 0, final: true, early: true, state: big },
      { records: 0, final: true, early: false, state: {} },
    ]);
  });

  it('a failing final invoke is retried and holds the shard until it succeeds', async () => {
    await startOfSecond();
    const first = await esm.fixture.put([{ data: 'w1' }]);
    let finalFailures = 0;
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1 }), (inv) =>
      inv.event['isFinalInvokeForWindow'] === true && finalFailures++ < 2 ? ok({}) : counting(inv),
      // Retries wait 150 ms: long enough for the next window's record to be read meanwhile.
      { timing: { retryBaseDelayMs: 150, retryMaxDelayMs: 150 } },
    );
    await waitFor(() => esm.running!.invocations.length === 2, 'first final invoke');
    const second = await esm.fixture.put([{ data: 'next window' }]);
    await waitFor(() => esm.running!.invocations.some((i) => i.sequenceNumbers.includes(second[0]!.sequenceNumber)), 'next window');
    const shape = esm.running.invocations.slice(0, 5).map((inv) => ({ records: inv.sequenceNumbers, final: inv.event['isFinalInvokeForWindow'] }));
    expect(shape).toEqual([
      { records: seqs(first, 0), final: false },
      { records: [], final: true }, // no state in the response: failed
      { records: [], final: true }, // retried
      { records: [], final: true }, // succeeds
      { records: seqs(second, 0), final: false },
    ]);
    expect(esm.running.invocations[3]!.event['state']).toEqual({ count: 1 });
  });

  it('with a tumbling window the shard runs one batch at a time whatever ParallelizationFactor says (state is per shard)', async () => {
    await startOfSecond();
    const puts = await esm.fixture.putTogether([0, 1, 2, 3, 4, 5].map((i) => ({ key: `key-${i}`, data: { i } })));
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1, parallelizationFactor: 3, batchSize: 10 }), counting);
    await waitFor(() => esm.running!.invocations.length === 2, 'aggregate + final');
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([puts.map((p) => p.sequenceNumber), []]);
    expect(esm.running.invocations[1]!.event['state']).toEqual({ count: 6 });
  });

  it('closeWindowsAtStop: a stream that ends with the mapping (in-memory) gets the open window\'s final invoke at stop, not a silent drop', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }, { data: 'b' }]);
    // 60 s windows: the window is still open when the mapping stops.
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60 }), counting, { closeWindowsAtStop: true });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'records folded in');
    expect(esm.running.invocations.map((inv) => inv.event['isFinalInvokeForWindow'])).toEqual([false]);
    await esm.running.stop();
    const final = esm.running.invocations[1]!;
    expect(windowFields(final)).toMatchObject({ isFinalInvokeForWindow: true, state: { count: 2 } });
    expect(esm.running.activity.some((a) => a.type === 'window-dropped')).toBe(false);
  });

  it('without a checkpoint store or closeWindowsAtStop, an open window dropped at stop is reported (window-dropped), never silent', async () => {
    const puts = await esm.fixture.put([{ data: 'a' }]);
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 60 }), counting);
    await waitFor(() => esm.running!.checkpoints().includes(puts[0]!.sequenceNumber), 'record folded in');
    await esm.running.stop();
    expect(esm.running.invocations.map((inv) => inv.event['isFinalInvokeForWindow'])).toEqual([false]);
    expect(esm.running.activity.filter((a) => a.type === 'window-dropped')).toEqual([expect.objectContaining({ shardId: puts[0]!.shardId })]);
  });
});
