/**
 * Checkpointing and partial batch responses (page services-kinesis-batchfailurereporting).
 * Each test drives a scripted function against kinesalite and asserts the exact invocations and
 * checkpoints Lambda would produce.
 */
import { describe, expect, it } from 'vitest';
import { ok, runMapping, seqs, settings, quiesce, thrown, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

const five = () => esm.fixture.put([0, 1, 2, 3, 4].map((i) => ({ data: { i } })));

describe('checkpointing', () => {
  it('success checkpoints past the whole batch', async () => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), () => ok());
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 2, 3, 4)]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 4));
    expect(esm.running.stats()).toMatchObject({ recordsProcessed: 5, recordsPending: 0, invocations: 1, retries: 0 });
  });

  it('partial response: checkpoints before the lowest reported sequence number and retries from there', async () => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true }), (_inv, index) =>
      index === 0 ? ok({ batchItemFailures: [{ itemIdentifier: puts[3]!.sequenceNumber }, { itemIdentifier: puts[1]!.sequenceNumber }] }) : ok(),
    );
    await waitFor(() => esm.running!.checkpoints().includes(puts[4]!.sequenceNumber), 'final checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 2, 3, 4), seqs(puts, 1, 2, 3, 4)]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0, 4));
    expect(esm.running.stats()).toMatchObject({ retries: 1, recordsProcessed: 5 });
  });

  it.each([
    ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ['a null batchItemFailures list', { batchItemFailures: null }],
    ['an empty response', {}],
    ['a null response', null],
  ])('%s is complete success', async (_name, response) => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true }), () => ok(response));
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toHaveLength(1);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 4));
  });

  it('without ReportBatchItemFailures the response is ignored (success)', async () => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: false }), () =>
      ok({ batchItemFailures: [{ itemIdentifier: puts[2]!.sequenceNumber }] }),
    );
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toHaveLength(1);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 4));
  });

  it.each([
    ['an empty-string itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ['a wrongly named key', (s: string) => ({ batchItemFailures: [{ itemIdentifer: s }] })],
    ['an identifier that is not in the batch', () => ({ batchItemFailures: [{ itemIdentifier: '12345' }] })],
    ['a malformed batchItemFailures', () => ({ batchItemFailures: 'all of them' })],
  ])('%s fails the whole batch', async (_name, response) => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true }), (_inv, index) =>
      index === 0 ? ok(response(puts[2]!.sequenceNumber)) : ok(),
    );
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    // The whole batch is retried: nothing was checkpointed by the first response.
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 2, 3, 4), seqs(puts, 0, 1, 2, 3, 4)]);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 4));
    expect(esm.running.stats().invocationErrors).toBe(1);
  });

  it('a function error checkpoints nothing; the retried batch checkpoints once it succeeds', async () => {
    const puts = await five();
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10 }), (_inv, index) => (index < 2 ? thrown() : ok()));
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual(Array(3).fill(seqs(puts, 0, 1, 2, 3, 4)));
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 4));
  });
});
