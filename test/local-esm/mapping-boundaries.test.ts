/**
 * The edges of one batch's run (local/esm/batch-runner.ts) that the other files leave open: records
 * expiring at the head of a batch, a partial response on the last attempt, an on-failure destination
 * that rejects the record (also across a stop), the final invoke of a tumbling window that exhausts its
 * retries, and the log lines an operator relies on (pages "Using AWS Lambda with Amazon Kinesis" Error
 * handling, services-kinesis-parameters, services-kinesis-batchfailurereporting, "Time windows").
 */
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import type { OnFailureRecord } from '../../local/esm';
import { FAST_TIMING, type Invocation, linesWith, memoryLogger, ok, PinnedClock, quiesce, runMapping, seqs, settings, settlesWithin, thrown, useStreamFixture, waitFor, type StreamFixture } from './harness';

const esm = useStreamFixture();

/** ApproximateArrivalTimestamp (ms) of the shard's records, read from Kinesis itself. */
async function arrivalsMs(fixture: StreamFixture, shardId: string): Promise<number[]> {
  const it = await fixture.client.send(new GetShardIteratorCommand({ StreamName: fixture.streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  const out = await fixture.client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  return (out.Records ?? []).map((r) => r.ApproximateArrivalTimestamp!.getTime());
}

/**
 * Two records, the first older than 60 s by the returned clock and the second not (MaximumRecordAgeInSeconds 60).
 */
async function oldThenYoung(): Promise<{ puts: Awaited<ReturnType<StreamFixture['put']>>; clock: PinnedClock }> {
  const first = await esm.fixture.put([{ key: 'a', data: { i: 0 } }]);
  await new Promise((resolve) => setTimeout(resolve, 5)); // distinct arrival milliseconds (checked below)
  const second = await esm.fixture.put([{ key: 'b', data: { i: 1 } }]);
  const [a0, a1] = await arrivalsMs(esm.fixture, first[0]!.shardId);
  expect(a1!).toBeGreaterThan(a0!);
  // The first record is 60.001 s old (> 60 s); the second at most 60 s.
  return { puts: [...first, ...second], clock: new PinnedClock(a0! + 60_001) };
}

const isFinal = (inv: Invocation) => inv.event['isFinalInvokeForWindow'] === true;

describe('MaximumRecordAgeInSeconds inside a batch', () => {
  it('only the expired head of a batch is discarded (RecordAgeExceeded); the young rest is still invoked', async () => {
    const { puts, clock } = await oldThenYoung();
    esm.running = await runMapping(esm.fixture, settings({ maximumRecordAgeInSeconds: 60, onFailureDestination: 'queue' }), () => ok(), { clock });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'the young record processed');
    await quiesce(esm.fixture, esm.running);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 1)]);
    expect(esm.running.sink.records).toHaveLength(1);
    const record = esm.running.sink.records[0]!;
    expect(record.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
    expect(record.KinesisBatchInfo).toMatchObject({ startSequenceNumber: puts[0]!.sequenceNumber, endSequenceNumber: puts[0]!.sequenceNumber, batchSize: 1 });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0, 1));
    expect(esm.running.stats()).toMatchObject({ recordsDiscarded: 1, recordsProcessed: 1, onFailureRecords: 1, invocations: 1 });
  });
});

describe('a partial batch response on the last attempt', () => {
  it('only the records from the failed item on are discarded; the records before it count as processed', async () => {
    const puts = await esm.fixture.put([0, 1, 2].map((i) => ({ data: { i } })));
    const failing = puts[1]!.sequenceNumber;
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 3, reportBatchItemFailures: true, maximumRetryAttempts: 0, onFailureDestination: 'queue' }),
      (inv) => (inv.sequenceNumbers.includes(failing) ? ok({ batchItemFailures: [{ itemIdentifier: failing }] }) : ok()),
    );
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    await quiesce(esm.fixture, esm.running);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 2)]);
    const record = esm.running.sink.records[0]!;
    expect(record.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 });
    // The function returned (no function error): no functionError in the response context.
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(record.KinesisBatchInfo).toMatchObject({ startSequenceNumber: failing, endSequenceNumber: puts[2]!.sequenceNumber, batchSize: 2 });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0, 2));
    expect(esm.running.stats()).toMatchObject({ recordsProcessed: 1, recordsDiscarded: 2, onFailureRecords: 1 });
  });
});

describe('the on-failure destination', () => {
  it('a rejected on-failure record is logged as an error and written again until accepted; the shard then moves on', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: { i: 0 } }]);
    esm.running = await runMapping(esm.fixture, settings({ maximumRetryAttempts: 0, onFailureDestination: 'queue' }), () => thrown(), { logger, start: false });
    const sink = esm.running.sink;
    let rejections = 2;
    const accept = sink.write.bind(sink);
    sink.write = async (record: OnFailureRecord) => {
      if (rejections > 0) {
        rejections -= 1;
        throw new Error('destination unavailable');
      }
      await accept(record);
    };
    await esm.running.mapping.start();
    await waitFor(() => sink.records.length === 1, 'the on-failure record accepted');
    await quiesce(esm.fixture, esm.running);
    expect(sink.records).toHaveLength(1);
    expect(sink.records[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: puts[0]!.sequenceNumber, batchSize: 1 });
    const rejected = linesWith(lines, 'on-failure destination rejected the record; retrying');
    expect(rejected).toHaveLength(2);
    for (const line of rejected) {
      expect(line).toMatchObject({ level: 'error', shardId: puts[0]!.shardId, err: expect.objectContaining({ message: 'destination unavailable' }) });
    }
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
    expect(esm.running.stats()).toMatchObject({ onFailureRecords: 1, recordsDiscarded: 1 });
  });

  it('a stop while the destination rejects completes; the discard stays undone (records pending, nothing after them invoked) and a restart redoes it', async () => {
    const { puts, clock } = await oldThenYoung();
    const mappingSettings = settings({ maximumRecordAgeInSeconds: 60, onFailureDestination: 'queue' });
    const first = await runMapping(esm.fixture, mappingSettings, () => ok(), { clock, start: false });
    esm.running = first;
    let rejecting = true;
    let attempts = 0;
    first.sink.write = async () => {
      attempts += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (rejecting) throw new Error('destination unavailable');
    };
    await first.mapping.start();
    await waitFor(() => attempts >= 1, 'the destination rejecting the expired record');
    const stopped = await settlesWithin(first.mapping.stop());
    rejecting = false; // lets a mapping that ignored the stop end after all
    expect(stopped).toBe('settled');
    // Neither discarded nor processed: the expired record and the young one behind it stay pending.
    expect(first.invocations).toEqual([]);
    expect(first.checkpoints()).toEqual([]);
    expect(first.activity.filter((a) => a.type === 'discard')).toEqual([]);
    expect(first.stats()).toMatchObject({ recordsDiscarded: 0, onFailureRecords: 0, invocations: 0 });

    // Read again from the starting position (no checkpoint store): the discard is written this time.
    esm.running = await runMapping(esm.fixture, mappingSettings, () => ok(), { clock });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'the young record processed after the restart');
    expect(esm.running.sink.records.map((r) => [r.requestContext.condition, r.KinesisBatchInfo.startSequenceNumber, r.KinesisBatchInfo.batchSize])).toEqual([
      ['RecordAgeExceeded', puts[0]!.sequenceNumber, 1],
    ]);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 1)]);
  });

  it('without a destination, a failed batch is logged (with its reason) and its discard logged with the on-failure record', async () => {
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: { i: 0 } }, { data: { i: 1 } }]);
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 2, maximumRetryAttempts: 0, onFailureDestination: 'none' }), () => thrown('bad record'), { logger });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'checkpoint past the discarded batch');
    await quiesce(esm.fixture, esm.running);
    expect(linesWith(lines, 'batch failed')).toEqual([
      expect.objectContaining({ level: 'warn', shardId: puts[0]!.shardId, lane: 0, records: 2, reason: 'Unhandled: bad record' }),
    ]);
    const discarded = linesWith(lines, 'batch discarded; no on-failure destination configured');
    expect(discarded).toHaveLength(1);
    expect(discarded[0]).toMatchObject({
      level: 'warn',
      onFailure: {
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1, functionArn: expect.any(String) },
        responseContext: { functionError: 'Unhandled' },
        KinesisBatchInfo: { shardId: puts[0]!.shardId, startSequenceNumber: puts[0]!.sequenceNumber, endSequenceNumber: puts[1]!.sequenceNumber, batchSize: 2 },
      },
    });
    expect(esm.running.sink.records).toEqual([]);
    expect(esm.running.stats()).toMatchObject({ recordsDiscarded: 2, onFailureRecords: 0, invocationErrors: 1 });
  });
});

describe('tumbling windows: failures', () => {
  /** Wait until early in a second, so records put now share a 1 s window. */
  async function startOfSecond(): Promise<void> {
    while (Date.now() % 1000 > 300) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  it('a partial response failing at the first record processed nothing: the retry gets the state the window had, not the returned one', async () => {
    await startOfSecond();
    const puts = await esm.fixture.putTogether([{ data: 1 }, { data: 2 }]);
    const counting = (inv: Invocation) => ok({ state: { count: (((inv.event['state'] ?? {}) as { count?: number }).count ?? 0) + inv.event.Records.length } });
    esm.running = await runMapping(esm.fixture, settings({ tumblingWindowInSeconds: 1, reportBatchItemFailures: true }), (inv, index) =>
      index === 0 ? ok({ state: { count: 99 }, batchItemFailures: [{ itemIdentifier: puts[0]!.sequenceNumber }] }) : counting(inv),
    );
    await waitFor(() => esm.running!.invocations.length === 3, 'retry and final invoke');
    const shape = esm.running.invocations.map((inv) => ({ records: inv.sequenceNumbers, final: inv.event['isFinalInvokeForWindow'], state: inv.event['state'] }));
    expect(shape).toEqual([
      { records: seqs(puts, 0, 1), final: false, state: {} },
      { records: seqs(puts, 0, 1), final: false, state: {} },
      { records: [], final: true, state: { count: 2 } },
    ]);
    expect(esm.running.stats()).toMatchObject({ retries: 1, recordsProcessed: 2 });
  });

  it('a final invoke (window terminated early) that exhausts its retries: counted, logged as an error with its reason, state dropped, the shard moves on', async () => {
    // 15-minute windows: the window does not end by itself during the test (not started in its last 5 s).
    while (Date.now() % 900_000 > 895_000) await new Promise((resolve) => setTimeout(resolve, 50));
    const { logger, lines } = memoryLogger();
    const puts = await esm.fixture.put([{ data: 'a' }]);
    const big = { blob: 'x'.repeat(1024 * 1024) };
    esm.running = await runMapping(
      esm.fixture,
      settings({ tumblingWindowInSeconds: 900, maximumRetryAttempts: 1 }),
      (inv) => (isFinal(inv) ? thrown('final broke') : ok({ state: big })),
      { logger },
    );
    await waitFor(() => esm.running!.checkpoints().includes(puts[0]!.sequenceNumber), 'the record checkpointed after the dropped final invoke');
    await esm.running.stop();
    const shardId = puts[0]!.shardId;
    expect(esm.running.invocations.map((inv) => ({ records: inv.sequenceNumbers, final: isFinal(inv), early: inv.event['isWindowTerminatedEarly'] }))).toEqual([
      { records: seqs(puts, 0), final: false, early: false },
      { records: [], final: true, early: true },
      { records: [], final: true, early: true }, // the one retry
    ]);
    const finalSteps = esm.running.activity.filter((a) => (a.type === 'invoke' && a.final === true) || (a.type === 'retry' && a.sequenceNumbers.length === 0));
    expect(finalSteps).toEqual([
      { type: 'invoke', shardId, lane: 0, sequenceNumbers: [], final: true, terminatedEarly: true },
      { type: 'retry', shardId, lane: 0, sequenceNumbers: [], retry: 1, delayMs: FAST_TIMING.retryBaseDelayMs },
      { type: 'invoke', shardId, lane: 0, sequenceNumbers: [], final: true, terminatedEarly: true },
    ]);
    expect(linesWith(lines, 'final window invocation exhausted its retries; window state dropped')).toEqual([
      expect.objectContaining({ level: 'error', shardId, reason: 'Unhandled: final broke' }),
    ]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
    // After the stop nothing is in flight.
    expect(esm.running.stats()).toMatchObject({ invocations: 3, invocationErrors: 2, retries: 1, recordsProcessed: 1, inFlightBatches: 0 });
  });
});
