/**
 * FilterCriteria on Kinesis (pages invocation-eventfiltering and with-kinesis-filtering): filters on
 * the JSON `data` only, ORed; non-matching records are skipped and count as processed.
 */
import { describe, expect, it } from 'vitest';
import { FilterPatternError, LocalEventSourceMapping } from '../../local/esm';
import { FUNCTION_ARN, MemorySink, ok, runMapping, seqs, settings, quiesce, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

describe('FilterCriteria', () => {
  it('sends only records matching one of the filters; the others are skipped and the checkpoint moves past them', async () => {
    const puts = await esm.fixture.put([
      { data: { type: 'order.placed', amount: 5 } }, // filter 1
      { data: { type: 'order.paid', amount: 500 } }, // filter 2
      { data: { type: 'order.paid', amount: 5 } }, // neither
      { data: 'not json at all' }, // non-JSON data never matches a data filter
      { data: { type: 'order.placed', amount: 1 } }, // filter 1
      { data: { type: 'order.shipped' } }, // neither (last record: checkpoint must still reach it)
    ]);
    esm.running = await runMapping(
      esm.fixture,
      settings({
        batchSize: 10,
        filterPatterns: [{ data: { type: ['order.placed'] } }, { data: { amount: [{ numeric: ['>', 100] }] } }],
      }),
      () => ok(),
    );
    await waitFor(() => esm.running!.checkpoints().includes(puts[5]!.sequenceNumber), 'checkpoint past the last record');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations.map((i) => i.sequenceNumbers)).toEqual([seqs(puts, 0, 1, 4)]);
    expect(esm.running.stats()).toMatchObject({ recordsRead: 6, recordsFiltered: 3, recordsProcessed: 3, recordsPending: 0 });
  });

  it('a batch where nothing matches invokes nothing and still checkpoints', async () => {
    const puts = await esm.fixture.put([{ data: { type: 'a' } }, { data: { type: 'b' } }]);
    esm.running = await runMapping(esm.fixture, settings({ filterPatterns: [{ data: { type: [{ prefix: 'order.' }] } }] }), () => ok());
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'checkpoint');
    await quiesce(esm.fixture, esm.running!);
    expect(esm.running.invocations).toEqual([]);
  });

  it('rejects a filter on a metadata key (Kinesis filters only on data) at construction, with a clear error', () => {
    const make = () =>
      new LocalEventSourceMapping({
        kinesis: esm.fixture.client,
        consumerName: 'c',
        functionArn: FUNCTION_ARN,
        streamName: esm.fixture.streamName,
        streamArn: esm.fixture.streamArn,
        region: 'us-east-1',
        settings: settings({ filterPatterns: [{ partitionKey: ['1'] }] }),
        invoke: async () => ok(),
        onFailure: new MemorySink(),
      });
    expect(make).toThrow(FilterPatternError);
    expect(make).toThrow(/only support filtering on the "data" key, got "partitionKey"/);
  });
});
