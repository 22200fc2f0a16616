/**
 * The runtime's record filter (consumers/runtime/record-filter.ts): Lambda event-filtering patterns
 * applied to each user record AFTER KPL deaggregation. Rule ("Using event filtering with a Kinesis
 * event source"): Kinesis mappings filter on `data` parsed as JSON, so a mapping-level filter drops a
 * whole KPL aggregate (not JSON) unseen; the runtime filter sees the records inside it.
 */
import agg from 'aws-kinesis-agg';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, RuntimeConfigError, createKinesisHandler, type KinesisHandlerOptions } from '../../consumers/runtime/index';
import { compileRecordFilter, recordFilterFromEnv } from '../../consumers/runtime/record-filter';
import { compileFilters } from '../../kinesis/filter-pattern';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { functionEnvironment, pipeline } from '../../pipeline';
import { EmfCapture, LogCapture, b64, kinesisEvent, kinesisRecord, lambdaContext, seq } from './helpers';

const { RecordAggregator } = agg as unknown as {
  RecordAggregator: new () => { addUserRecord(record: { partitionKey: string; data: Buffer }): void; build(): { data: Buffer } };
};

const PLACED_ONLY = [{ data: { type: ['order.placed'] } }];

function setup(overrides: Partial<KinesisHandlerOptions<OrderEvent>> = {}) {
  const quarantine = new InMemoryQuarantineSink();
  const logs = new LogCapture();
  const emf = new EmfCapture();
  const seen: string[] = [];
  const handler = createKinesisHandler<OrderEvent>({
    consumerName: 'review',
    registry,
    quarantine,
    logDestination: logs,
    metrics: { writer: emf.writer },
    recordFilterPatterns: PLACED_ONLY,
    handlers: {
      'order.placed': (event) => void seen.push(event.id),
      'order.paid': (event) => void seen.push(event.id),
      'order.shipped': (event) => void seen.push(event.id),
      'order.cancelled': (event) => void seen.push(event.id),
    },
    ...overrides,
  });
  return { handler, quarantine, logs, emf, seen };
}

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('record filter after deaggregation (recordFilterPatterns)', () => {
  const f = createFixtures({ seed: 14 });
  const events = Array.from({ length: 40 }, () => f.next());
  const placed = events.filter((e) => e.type === 'order.placed');

  it('a KPL aggregate reaches the handlers record by record: matching records handled, the others filtered, none lost', async () => {
    expect(placed.length).toBeGreaterThan(0);
    expect(placed.length).toBeLessThan(events.length);
    const aggregator = new RecordAggregator();
    for (const e of events) aggregator.addUserRecord({ partitionKey: e.data.orderId, data: Buffer.from(JSON.stringify(e)) });
    const aggregate = aggregator.build().data.toString('base64');
    // Lambda's own filter (the mapping's FilterCriteria, emulated by the shared compiler) would drop the aggregate whole.
    expect(compileFilters(PLACED_ONLY)!.matches(Buffer.from(aggregate, 'base64'))).toBe(false);

    const { handler, seen, quarantine, logs, emf } = setup();
    const result = await handler({ Records: [kinesisRecord(0, aggregate, 'agg')] }, lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen.sort()).toEqual(placed.map((e) => e.id).sort());
    expect(quarantine.records).toEqual([]);
    // Filtered records count as processed (as Lambda counts records its filter drops) and are reported.
    const summary = logs.find('batch processed')[0]!;
    expect(summary).toMatchObject({ received: events.length, processed: events.length, filtered: events.length - placed.length });
    expect(emf.docs[0]).toMatchObject({ RecordsProcessed: events.length, RecordsReceived: events.length });
  });

  it('plain records: same patterns, same result', async () => {
    const { handler, seen } = setup();
    await handler(kinesisEvent(events), lambdaContext());
    expect(seen.sort()).toEqual(placed.map((e) => e.id).sort());
  });

  it('data that is not JSON is quarantined with its payload, never silently filtered (Lambda would drop it)', async () => {
    const { handler, quarantine, seen } = setup();
    const garbage = Buffer.from('not json {').toString('base64');
    const result = await handler({ Records: [kinesisRecord(0, b64(placed[0]!)), kinesisRecord(1, garbage)] }, lambdaContext());
    expect(result).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([placed[0]!.id]);
    expect(quarantine.records.map((r) => [r.error.kind, r.record.sequenceNumber, r.record.data])).toEqual([['invalid-json', seq(1), garbage]]);
  });

  it('a record failing its contract but matching the filter is quarantined; one not matching is filtered, as Lambda would', async () => {
    const { handler, quarantine } = setup();
    const badPlaced = { ...placed[0]!, data: { ...placed[0]!.data, orderId: 42 } };
    const notPlaced = { type: 'order.paid', version: 1, id: 'x' };
    await handler(kinesisEvent([badPlaced, notPlaced]), lambdaContext());
    expect(quarantine.records.map((r) => r.record.sequenceNumber)).toEqual([seq(0)]);
  });

  it('reads RECORD_FILTER_PATTERNS (set from the definition by functionEnvironment) once, with clear errors', async () => {
    const env = functionEnvironment(pipeline, 'order-review', { functionName: (n) => n });
    expect(JSON.parse(env['RECORD_FILTER_PATTERNS']!)).toEqual(PLACED_ONLY);
    expect(functionEnvironment(pipeline, 'order-metrics', { functionName: (n) => n })).not.toHaveProperty('RECORD_FILTER_PATTERNS');
    process.env['RECORD_FILTER_PATTERNS'] = env['RECORD_FILTER_PATTERNS'];
    const { handler, seen } = setup({ recordFilterPatterns: undefined });
    await handler(kinesisEvent(events), lambdaContext());
    expect(seen.sort()).toEqual(placed.map((e) => e.id).sort());
    expect(recordFilterFromEnv({})).toBeUndefined();
    expect(() => recordFilterFromEnv({ RECORD_FILTER_PATTERNS: '{' })).toThrow(RuntimeConfigError);
    expect(() => recordFilterFromEnv({ RECORD_FILTER_PATTERNS: '{"data":1}' })).toThrow(/must be a JSON array of filter pattern objects/);
    expect(() => recordFilterFromEnv({ RECORD_FILTER_PATTERNS: '[{"partitionKey":["a"]}]' })).toThrow(/only support filtering on the "data" key/);
  });

  it('without patterns nothing is filtered', async () => {
    const { handler, seen, logs } = setup({ recordFilterPatterns: [] });
    await handler(kinesisEvent(events), lambdaContext());
    expect(seen).toHaveLength(events.length);
    expect(logs.find('batch processed')[0]).not.toHaveProperty('filtered');
  });
});

describe('compileRecordFilter', () => {
  it('no patterns (undefined or an empty list): no filter at all, so no per-record call', () => {
    expect(compileRecordFilter(undefined)).toBeUndefined();
    expect(compileRecordFilter([])).toBeUndefined();
  });

  it('one pattern: true for matching data, false otherwise; several patterns: any of them', () => {
    const placed = compileRecordFilter(PLACED_ONLY)!;
    expect([placed({ type: 'order.placed' }), placed({ type: 'order.paid' }), placed('not an object')]).toEqual([true, false, false]);
    const either = compileRecordFilter([{ data: { type: ['order.placed'] } }, { data: { type: ['order.paid'] } }])!;
    expect([either({ type: 'order.placed' }), either({ type: 'order.paid' }), either({ type: 'order.shipped' })]).toEqual([true, true, false]);
  });

  it('an invalid pattern is a RuntimeConfigError (at cold start) naming recordFilterPatterns[i] by default', () => {
    const compile = () => compileRecordFilter([{ data: { type: ['order.placed'] } }, { partitionKey: ['a'] }]);
    expect(compile).toThrow(RuntimeConfigError);
    expect(compile).toThrow(
      new RuntimeConfigError('filter pattern at recordFilterPatterns[1]: Kinesis event source mappings only support filtering on the "data" key, got "partitionKey"'),
    );
    expect(() => compileRecordFilter([{ data: 1 }], 'mine')).toThrow(
      new RuntimeConfigError('filter pattern at mine[0]: "data" must be a pattern object or a rule list'),
    );
  });

  it('an error that is not about the pattern (a bug) is rethrown as is, not disguised as configuration', () => {
    const compile = () => compileRecordFilter([null] as unknown as Record<string, unknown>[]);
    expect(compile).toThrow(TypeError);
    expect(compile).not.toThrow(RuntimeConfigError);
  });
});

describe('recordFilterFromEnv (RECORD_FILTER_PATTERNS)', () => {
  const fromEnv = (value: string) => recordFilterFromEnv({ RECORD_FILTER_PATTERNS: value });

  it('unset, empty or blank: no filter', () => {
    expect(recordFilterFromEnv({})).toBeUndefined();
    expect(recordFilterFromEnv({ RECORD_FILTER_PATTERNS: undefined })).toBeUndefined();
    expect(fromEnv('')).toBeUndefined();
    expect(fromEnv('  \n\t ')).toBeUndefined();
  });

  it('an empty JSON array: no filter', () => {
    expect(fromEnv('[]')).toBeUndefined();
  });

  it('a JSON array of pattern objects: the compiled filter', () => {
    const filter = fromEnv(' [{"data":{"type":["order.placed"]}}] ')!;
    expect([filter({ type: 'order.placed' }), filter({ type: 'order.paid' })]).toEqual([true, false]);
  });

  it('reads process.env by default', () => {
    process.env['RECORD_FILTER_PATTERNS'] = JSON.stringify(PLACED_ONLY);
    const filter = recordFilterFromEnv()!;
    expect([filter({ type: 'order.placed' }), filter({ type: 'order.paid' })]).toEqual([true, false]);
    delete process.env['RECORD_FILTER_PATTERNS'];
    expect(recordFilterFromEnv()).toBeUndefined();
  });

  it('text that is not JSON: a RuntimeConfigError saying so', () => {
    expect(() => fromEnv('{')).toThrow(
      new RuntimeConfigError('environment variable RECORD_FILTER_PATTERNS is not JSON (expected an array of filter patterns)'),
    );
  });

  it.each([
    ['an object', '{"data":{"type":["a"]}}'],
    ['a string', '"data"'],
    ['null', 'null'],
    ['a number item', '[1]'],
    ['a string item', '["x"]'],
    ['a null item', '[null]'],
    ['an array item', '[[]]'],
    ['a bad item after a good one', '[{"data":{"type":["a"]}},1]'],
    ['a bad item before a good one', '[null,{"data":{"type":["a"]}}]'],
  ])('JSON that is not an array of objects (%s): a RuntimeConfigError saying what is expected', (_name, value) => {
    expect(() => fromEnv(value)).toThrow(
      new RuntimeConfigError('environment variable RECORD_FILTER_PATTERNS must be a JSON array of filter pattern objects'),
    );
  });

  it('an invalid pattern names the variable and the index', () => {
    expect(() => fromEnv('[{"data":{"type":["a"]}},{"data":"x"}]')).toThrow(
      new RuntimeConfigError('filter pattern at RECORD_FILTER_PATTERNS[1]: "data" must be a pattern object or a rule list'),
    );
  });
});
