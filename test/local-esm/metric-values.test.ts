/**
 * The local mapping's IteratorAge against an independent computation. Lambda's IteratorAge metric
 * ("Using Lambda function metrics": "the age of the last record in the event ... the time between when
 * Kinesis received the record and when the event source mapping sent the event to the function") is
 * kept per mapping as `iteratorAgeMs` (last processed batch) and `maxIteratorAgeMs`. The clock is pinned
 * by the function itself to a known distance from the last record's arrival time, as read from the event.
 */
import { describe, expect, it } from 'vitest';
import { ok, PinnedClock, runMapping, settings, thrown, useStreamFixture, waitFor, type Invocation } from './harness';

const esm = useStreamFixture();

/** Kinesis ApproximateArrivalTimestamp (seconds, millisecond precision) of an event record, in ms. */
const arrivalMs = (invocation: Invocation, index: number): number => Math.round(invocation.event.Records[index]!.kinesis.approximateArrivalTimestamp * 1000);

/** Put records one at a time with distinct arrival milliseconds, so "first" and "last" record differ. */
async function putDistinct(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const before = Date.now();
    await esm.fixture.put([{ key: `k${i}`, data: { i } }]);
    // Wait for the next millisecond (an event, not a delay): the next record cannot share this arrival time.
    while (Date.now() === before) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('IteratorAge of the local event source mapping', () => {
  it('is "now" minus the arrival of the LAST record of the last processed batch; the maximum is kept', async () => {
    await putDistinct(4);
    const clock = new PinnedClock();
    const ages = [7_000, 3_000];
    const expected: { last: number; first: number }[] = [];
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 2 }),
      (invocation, index) => {
        const last = arrivalMs(invocation, invocation.event.Records.length - 1);
        expected.push({ last, first: arrivalMs(invocation, 0) });
        clock.pinned = last + ages[index]!;
        return ok();
      },
      { clock },
    );
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 4, 'four records processed');
    const stats = esm.running.mapping.stats();
    expect(esm.running.invocations.map((i) => i.sequenceNumbers.length)).toEqual([2, 2]);
    expect(expected[0]!.first).toBeLessThan(expected[0]!.last); // the first record is older: using it would show
    expect(stats.iteratorAgeMs).toBe(3_000);
    expect(stats.maxIteratorAgeMs).toBe(7_000);
  });

  it('a failed invocation does not move it; the successful retry does', async () => {
    await putDistinct(2);
    const clock = new PinnedClock();
    let last = 0;
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 10, maximumRetryAttempts: 1 }),
      (invocation, index) => {
        last = arrivalMs(invocation, invocation.event.Records.length - 1);
        clock.pinned = last + (index === 0 ? 90_000 : 1_500);
        return index === 0 ? thrown() : ok();
      },
      { clock },
    );
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'both records processed after the retry');
    const stats = esm.running.mapping.stats();
    expect(esm.running.invocations).toHaveLength(2);
    expect(stats.iteratorAgeMs).toBe(1_500);
    expect(stats.maxIteratorAgeMs).toBe(1_500);
  });

  it('is never negative (a clock behind the arrival time reads 0)', async () => {
    await putDistinct(1);
    const clock = new PinnedClock();
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 10 }),
      (invocation) => {
        clock.pinned = arrivalMs(invocation, 0) - 5_000;
        return ok();
      },
      { clock },
    );
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 1, 'record processed');
    expect(esm.running.mapping.stats().iteratorAgeMs).toBe(0);
  });
});
