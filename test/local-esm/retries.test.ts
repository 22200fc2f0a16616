/**
 * Function errors, retries, BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds
 * and the on-failure record (pages "Using AWS Lambda with Amazon Kinesis" Error handling,
 * services-kinesis-batchfailurereporting "Bisecting a batch", kinesis-on-failure-destination).
 */
import { describe, expect, it } from 'vitest';
import type { InvokeOutcome } from '../../local/esm';
import { FUNCTION_ARN, OffsetClock, ok, runMapping, seqs, settings, quiesce, thrown, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

const isoMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('function errors and retries', () => {
  it('thrown error, timeout and crash are all retried, then the batch succeeds', async () => {
    const puts = await esm.fixture.put([{ data: { i: 0 } }, { data: { i: 1 } }]);
    const outcomes: InvokeOutcome[] = [
      thrown('handler threw'),
      { ok: false, errorType: 'TimedOut', errorMessage: 'Task timed out after 1.00 seconds', durationMs: 1000 },
      { ok: false, errorType: 'Crashed', errorMessage: 'Runtime exited with error: signal: killed', durationMs: 3 },
    ];
    esm.running = await runMapping(esm.fixture, settings({}), async (_inv, index) => {
      if (index === 1) await new Promise((resolve) => setTimeout(resolve, 30)); // hangs, then the invoker reports TimedOut
      return outcomes[index] ?? ok();
    });
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual(Array(4).fill(seqs(puts, 0, 1)));
    expect(esm.running.stats()).toMatchObject({ retries: 3, invocationErrors: 3, recordsProcessed: 2, onFailureRecords: 0 });
  });

  it('MaximumRetryAttempts: 1 + N invocations, then an AWS-shaped on-failure record and the shard moves on', async () => {
    const puts = await esm.fixture.put([0, 1, 2].map((i) => ({ data: { i } })));
    const failing = new Set(seqs(puts, 0, 1, 2));
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 3, maximumRetryAttempts: 2, onFailureDestination: 'queue' }), (inv) =>
      inv.sequenceNumbers.some((s) => failing.has(s)) ? thrown() : ok(),
    );
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    const later = await esm.fixture.put([{ data: { i: 3 } }]);
    await waitFor(() => esm.running!.invocations.length === 4, 'the next batch');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([...Array(3).fill(seqs(puts, 0, 1, 2)), [later[0]!.sequenceNumber]]);
    const record = esm.running.sink.records[0]!;
    expect(Object.keys(record)).toEqual(['requestContext', 'responseContext', 'version', 'timestamp', 'KinesisBatchInfo']);
    expect(record).toEqual({
      requestContext: { requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), functionArn: FUNCTION_ARN, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(isoMs),
      KinesisBatchInfo: {
        shardId: puts[0]!.shardId,
        startSequenceNumber: puts[0]!.sequenceNumber,
        endSequenceNumber: puts[2]!.sequenceNumber,
        approximateArrivalOfFirstRecord: expect.stringMatching(isoMs),
        approximateArrivalOfLastRecord: expect.stringMatching(isoMs),
        batchSize: 3,
        streamArn: esm.fixture.streamArn,
      },
    });
    expect(Object.keys(record.KinesisBatchInfo)).toEqual([
      'shardId', 'startSequenceNumber', 'endSequenceNumber', 'approximateArrivalOfFirstRecord', 'approximateArrivalOfLastRecord', 'batchSize', 'streamArn',
    ]);
    const first = esm.running.invocations[0]!.event.Records[0]!.kinesis.approximateArrivalTimestamp;
    expect(Date.parse(record.KinesisBatchInfo.approximateArrivalOfFirstRecord)).toBe(Math.round(first * 1000));
    // Discarded records are checkpointed past (the batch is dropped), then the next record.
    expect(esm.running.checkpoints()).toEqual([puts[2]!.sequenceNumber, later[0]!.sequenceNumber]);
    expect(esm.running.stats()).toMatchObject({ recordsDiscarded: 3, onFailureRecords: 1, retries: 2 });
  });

  it('MaximumRetryAttempts 0: one invocation, approximateInvokeCount 1', async () => {
    await esm.fixture.put([{ data: { i: 0 } }]);
    esm.running = await runMapping(esm.fixture, settings({ maximumRetryAttempts: 0, onFailureDestination: 'queue' }), () => thrown());
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toHaveLength(1);
    expect(esm.running.sink.records[0]!.requestContext.approximateInvokeCount).toBe(1);
  });

  it('onFailureDestination "none": the batch is discarded without a destination record, the shard moves on', async () => {
    const puts = await esm.fixture.put([{ data: { i: 0 } }]);
    esm.running = await runMapping(esm.fixture, settings({ maximumRetryAttempts: 0, onFailureDestination: 'none' }), () => thrown());
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint past the discarded batch');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.sink.records).toEqual([]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
    expect(esm.running.stats()).toMatchObject({ recordsDiscarded: 1, onFailureRecords: 0 });
  });
});

describe('BisectBatchOnFunctionError', () => {
  it('splits a failing batch in two, recursively, without consuming retries; the poison record alone exhausts them', async () => {
    const puts = await esm.fixture.put([0, 1, 2, 3].map((i) => ({ data: { i } })));
    const poison = puts[2]!.sequenceNumber;
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 4, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1, onFailureDestination: 'queue' }),
      (inv) => (inv.sequenceNumbers.includes(poison) ? thrown('poison') : ok()),
    );
    await waitFor(() => esm.running!.checkpoints().includes(puts[3]!.sequenceNumber), 'last checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([
      seqs(puts, 0, 1, 2, 3),
      seqs(puts, 0, 1),
      seqs(puts, 2, 3),
      seqs(puts, 2),
      seqs(puts, 2), // the one retry (MaximumRetryAttempts 1): bisecting consumed none
      seqs(puts, 3),
    ]);
    expect(esm.running.sink.records).toHaveLength(1);
    expect(esm.running.sink.records[0]!.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 });
    expect(esm.running.sink.records[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: poison, endSequenceNumber: poison, batchSize: 1 });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 1, 2, 3));
    expect(esm.running.stats()).toMatchObject({ bisects: 2, retries: 1 });
  });

  it('with a partial response, bisects at the returned sequence number and retries only the remaining records', async () => {
    const puts = await esm.fixture.put([0, 1, 2, 3, 4].map((i) => ({ data: { i } })));
    const failing = puts[2]!.sequenceNumber;
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 5, bisectBatchOnFunctionError: true, reportBatchItemFailures: true, maximumRetryAttempts: 1, onFailureDestination: 'queue' }),
      (inv) => (inv.sequenceNumbers.includes(failing) ? ok({ batchItemFailures: [{ itemIdentifier: failing }] }) : ok()),
    );
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([
      seqs(puts, 0, 1, 2, 3, 4),
      seqs(puts, 2, 3, 4), // split at the failure: no retry consumed
      seqs(puts, 2, 3, 4), // failure at the first record: nothing to split, retry 1
    ]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 1, 4));
    expect(esm.running.sink.records[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: failing, endSequenceNumber: puts[4]!.sequenceNumber, batchSize: 3 });
    expect(esm.running.sink.records[0]!.requestContext.approximateInvokeCount).toBe(2);
  });
});

describe('MaximumRecordAgeInSeconds', () => {
  it('a failing batch whose records get older than the maximum age is discarded with RecordAgeExceeded', async () => {
    const clock = new OffsetClock();
    const puts = await esm.fixture.put([{ data: { i: 0 } }, { data: { i: 1 } }]);
    esm.running = await runMapping(esm.fixture, settings({ maximumRecordAgeInSeconds: 60, onFailureDestination: 'queue' }), () => {
      clock.offsetMs = 61_000; // the records are now 61 s old
      return thrown();
    }, { clock });
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    clock.offsetMs = 0; // the sentinel is young
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toHaveLength(1);
    expect(esm.running.sink.records[0]!.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 1 });
    expect(esm.running.sink.records[0]!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    expect(esm.running.sink.records[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: puts[0]!.sequenceNumber, endSequenceNumber: puts[1]!.sequenceNumber, batchSize: 2 });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 1));
  });

  it('records already older than the maximum age are never sent to the function', async () => {
    const clock = new OffsetClock();
    clock.offsetMs = 120_000;
    const puts = await esm.fixture.put([{ data: { i: 0 } }]);
    esm.running = await runMapping(esm.fixture, settings({ maximumRecordAgeInSeconds: 60, onFailureDestination: 'queue' }), () => ok(), { clock });
    await waitFor(() => esm.running!.sink.records.length === 1, 'on-failure record');
    clock.offsetMs = 0; // the sentinel is young
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toEqual([]);
    expect(esm.running.sink.records[0]!.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
    expect(esm.running.sink.records[0]!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST' });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
  });
});
