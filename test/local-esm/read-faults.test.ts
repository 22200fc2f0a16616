/**
 * Read faults, injected into the real client talking to kinesalite (a middleware fails chosen
 * GetRecords calls): an expired iterator is re-acquired after the last record read (Kinesis API
 * reference, GetShardIterator / ExpiredIteratorException), throttling backs off; nothing is skipped
 * or read twice.
 */
import { ExpiredIteratorException, ProvisionedThroughputExceededException } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { ok, runMapping, settings, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

/** Fail the GetRecords calls whose 1-based index is in `failing` with `error()`. */
function injectGetRecordsFaults(failing: Set<number>, error: () => Error): { calls: () => number } {
  let calls = 0;
  esm.fixture.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetRecordsCommand' && failing.has(++calls)) throw error();
      return next(args);
    },
    { step: 'initialize', name: 'faultInjection' },
  );
  return { calls: () => calls };
}

describe('read faults', () => {
  it('an expired shard iterator is re-acquired after the last record read: nothing skipped, nothing twice', async () => {
    const first = await esm.fixture.put([0, 1, 2].map((i) => ({ data: { i } })));
    // Call 1 reads the first records; calls 2 and 3 fail as if the iterator had expired.
    const faults = injectGetRecordsFaults(new Set([2, 3]), () => new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} }));
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok());
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 3 && faults.calls() >= 4, 'first records and the expiries');
    const second = await esm.fixture.put([3, 4].map((i) => ({ data: { i } })));
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 5, 'later records');
    expect(esm.running.invocations.flatMap((i) => i.sequenceNumbers)).toEqual([...first, ...second].map((p) => p.sequenceNumber));
  });

  it('read throttling (ProvisionedThroughputExceededException) backs off and continues', async () => {
    const puts = await esm.fixture.put([0, 1].map((i) => ({ data: { i } })));
    const faults = injectGetRecordsFaults(
      new Set([1, 2, 3]),
      () => new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', $metadata: {} }),
    );
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { timing: { readErrorBackoffMs: 5 } });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'records after throttling');
    expect(faults.calls()).toBeGreaterThanOrEqual(4);
    expect(esm.running.invocations.flatMap((i) => i.sequenceNumbers)).toEqual(puts.map((p) => p.sequenceNumber));
  });
});
