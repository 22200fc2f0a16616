/**
 * Rule 11, the values: every field of the runtime's EMF document against an independent computation.
 * The clock is injected and advanced by the handlers themselves, records carry known arrival times,
 * so BatchDurationMs, MaxRecordAgeMs and the document's Timestamp have exact expected values (a
 * frozen clock would let `durationMs: 0` pass).
 */
import { describe, expect, it } from 'vitest';
import type { KinesisStreamRecord, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { InMemoryQuarantineSink, PermanentError, createKinesisHandler, createKinesisWindowHandler, type KinesisHandlerOptions } from '../../consumers/runtime/index';
import { encodeAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { LogCapture, b64, kinesisRecord, lambdaContext, seq, tick } from './helpers';

/** A clock that moves only when told to. */
class ManualClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);

/** A record whose approximateArrivalTimestamp is `arrivalMs` (Kinesis gives seconds with millisecond precision). */
function arriving(index: number, payload: unknown, arrivalMs: number, partitionKey = `pk-${index}`): KinesisStreamRecord {
  const r = kinesisRecord(index, payload instanceof Uint8Array ? b64(payload) : b64(payload), partitionKey);
  r.kinesis.approximateArrivalTimestamp = arrivalMs / 1000;
  return r;
}

interface EmfDoc {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [metric: string]: unknown;
}

function setup(clock: ManualClock, overrides: Partial<KinesisHandlerOptions<OrderEvent>> = {}) {
  const docs: EmfDoc[] = [];
  const quarantine = new InMemoryQuarantineSink();
  const logs = new LogCapture();
  const handler = createKinesisHandler<OrderEvent>({
    consumerName: 'metric-values',
    registry,
    quarantine,
    logDestination: logs,
    now: clock.now,
    metrics: { namespace: 'Test/Values', writer: (line) => docs.push(JSON.parse(line) as EmfDoc) },
    handlers: {},
    ...overrides,
  });
  return { handler, docs, quarantine, logs };
}

const fixtures = () => createFixtures({ seed: 1911, startTime: T0 - 60_000 });

describe('rule 11: EMF metric values against an independent computation', () => {
  it('BatchDurationMs is the clock time the invocation took; Timestamp is when it finished', async () => {
    const clock = new ManualClock(T0);
    const f = fixtures();
    const steps = [40, 25, 135, 7];
    let call = 0;
    const { handler, docs } = setup(clock, {
      handlers: {
        'order.paid': () => {
          clock.advance(steps[call++]!);
        },
      },
    });
    const events = [f.orderPaid(), f.orderPaid(), f.orderPaid()];
    await handler({ Records: events.map((e, i) => arriving(i, e, T0 - 1000, 'same-key')) }, lambdaContext());
    expect(docs).toHaveLength(1);
    expect(docs[0]!['BatchDurationMs']).toBe(40 + 25 + 135);
    expect(docs[0]!._aws.Timestamp).toBe(T0 + 200);
    // Each invocation measures itself, not the container's age.
    clock.advance(10_000);
    await handler({ Records: [arriving(3, f.orderPaid(), T0, 'k')] }, lambdaContext());
    expect(docs[1]!['BatchDurationMs']).toBe(7);
  });

  it('MaxRecordAgeMs is finish time minus the OLDEST arrival, whatever its position in the batch', async () => {
    const clock = new ManualClock(T0);
    const f = fixtures();
    const { handler, docs, logs } = setup(clock, { handlers: { 'order.paid': () => clock.advance(100) } });
    // Arrivals out of order across keys: the oldest is the middle record (42 s before T0).
    const arrivals = [T0 - 5_000, T0 - 42_000, T0 - 17_250];
    await handler({ Records: arrivals.map((a, i) => arriving(i, f.orderPaid(), a)) }, lambdaContext());
    const finishedAt = T0 + 300;
    expect(docs[0]!['MaxRecordAgeMs']).toBe(finishedAt - Math.min(...arrivals));
    expect(docs[0]!['BatchDurationMs']).toBe(300);
    await tick();
    const [summary] = logs.find('batch processed');
    expect(summary).toMatchObject({ received: 3, processed: 3, durationMs: 300, maxRecordAgeMs: finishedAt - Math.min(...arrivals) });
    expect(summary).not.toHaveProperty('retryFromSequenceNumber');
  });

  it('the whole document: namespace, dimensions with their values, every metric with its unit, the request id', async () => {
    const clock = new ManualClock(T0);
    const { handler, docs } = setup(clock, {
      metrics: { namespace: 'Test/Values', dimensions: { Stage: 'unit' }, writer: (line) => docs.push(JSON.parse(line) as EmfDoc) },
    });
    await handler({ Records: [] }, lambdaContext({ awsRequestId: 'req-metric-values' }));
    expect(docs).toEqual([
      {
        _aws: {
          Timestamp: T0,
          CloudWatchMetrics: [
            {
              Namespace: 'Test/Values',
              Dimensions: [['ConsumerName', 'Stage']],
              Metrics: [
                { Name: 'RecordsReceived', Unit: 'Count' },
                { Name: 'RecordsProcessed', Unit: 'Count' },
                { Name: 'RecordsFiltered', Unit: 'Count' },
                { Name: 'RecordsQuarantined', Unit: 'Count' },
                { Name: 'RecordsRetried', Unit: 'Count' },
                { Name: 'DuplicatesSkipped', Unit: 'Count' },
                { Name: 'BatchDurationMs', Unit: 'Milliseconds' },
                { Name: 'MaxRecordAgeMs', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        ConsumerName: 'metric-values',
        Stage: 'unit',
        requestId: 'req-metric-values',
        RecordsReceived: 0,
        RecordsProcessed: 0,
        RecordsFiltered: 0,
        RecordsQuarantined: 0,
        RecordsRetried: 0,
        DuplicatesSkipped: 0,
        BatchDurationMs: 0,
        MaxRecordAgeMs: 0,
      },
    ]);
    // No request id (a context without one): no requestId member at all.
    await handler({ Records: [] }, lambdaContext({ awsRequestId: undefined as unknown as string }));
    expect(docs[1]).not.toHaveProperty('requestId');
  });

  it('an empty batch: zero counts, age 0, duration as measured', async () => {
    const clock = new ManualClock(T0);
    const { handler, docs } = setup(clock);
    await handler({ Records: [] }, lambdaContext());
    expect(docs[0]).toMatchObject({ RecordsReceived: 0, RecordsProcessed: 0, RecordsQuarantined: 0, RecordsRetried: 0, DuplicatesSkipped: 0, MaxRecordAgeMs: 0, BatchDurationMs: 0 });
    expect(docs[0]!._aws.Timestamp).toBe(T0);
  });

  it('counts each outcome exactly: processed, quarantined (bad data, PermanentError), retried from a failure, duplicates, aggregate user records', async () => {
    const clock = new ManualClock(T0);
    const f = fixtures();
    const permanent = f.orderPaid();
    const failing = f.orderPaid();
    const ok = f.orderPaid();
    const inside = [f.orderPaid(), f.orderPaid(), f.orderPaid()];
    const { handler, docs, quarantine, logs } = setup(clock, {
      handlers: {
        'order.paid': (e) => {
          clock.advance(1);
          if (e.id === permanent.id) throw new PermanentError('never valid');
          if (e.id === failing.id) throw new Error('downstream down');
        },
      },
    });
    const aggregate = encodeAggregate(inside.map((e) => ({ partitionKey: 'agg', data: new TextEncoder().encode(JSON.stringify(e)) })));
    const records = [
      arriving(0, ok, T0 - 10, 'a'),
      arriving(1, ok, T0 - 10, 'b'), // the same event id again: a duplicate
      arriving(2, '{broken', T0 - 10, 'c'),
      arriving(3, permanent, T0 - 10, 'd'),
      arriving(4, aggregate, T0 - 10, 'agg'),
      arriving(5, failing, T0 - 10, 'e'),
      arriving(6, f.orderPaid(), T0 - 10, 'e'), // same key after the failure: not started, retried
    ];
    records[2]!.kinesis.data = Buffer.from('{broken').toString('base64');
    const response = await handler({ Records: records }, lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: seq(5) }]);
    expect(quarantine.records).toHaveLength(2);
    // Received: 6 plain records + 3 user records of the aggregate. Processed: ok + 3 aggregated.
    expect(docs[0]).toMatchObject({ RecordsReceived: 9, RecordsProcessed: 4, RecordsQuarantined: 2, RecordsRetried: 2, DuplicatesSkipped: 1 });
    // The invocation's summary log line carries the same counts and where the retry starts.
    await tick();
    expect(logs.find('batch partly failed')).toEqual([
      expect.objectContaining({ received: 9, processed: 4, quarantined: 2, retried: 2, duplicates: 1, retryFromSequenceNumber: seq(5) }),
    ]);
  });

  it('the window handler reports the same fields with the same clock', async () => {
    const clock = new ManualClock(T0);
    const f = fixtures();
    const docs: EmfDoc[] = [];
    const handler = createKinesisWindowHandler<OrderEvent, { n: number }>({
      consumerName: 'window-values',
      registry,
      quarantine: new InMemoryQuarantineSink(),
      logDestination: new LogCapture(),
      now: clock.now,
      metrics: { writer: (line) => docs.push(JSON.parse(line) as EmfDoc) },
      initialState: () => ({ n: 0 }),
      reduce: (state) => {
        clock.advance(30);
        return { n: state.n + 1 };
      },
    });
    const arrivals = [T0 - 2_000, T0 - 9_000];
    // Lambda's tumbling-window event also carries shardId and eventSourceARN (not in @types/aws-lambda).
    const event: KinesisStreamTumblingWindowEvent & { shardId: string; eventSourceARN: string } = {
      Records: arrivals.map((a, i) => arriving(i, f.orderPaid(), a)),
      window: { start: new Date(T0 - 60_000).toISOString(), end: new Date(T0).toISOString() },
      state: {},
      shardId: 'shardId-000000000003',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders',
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    };
    const response = await handler(event, lambdaContext());
    expect(response.state).toEqual({ n: 2 });
    expect(docs[0]).toMatchObject({ RecordsReceived: 2, RecordsProcessed: 2, BatchDurationMs: 60, MaxRecordAgeMs: 60 + 9_000 });
    expect(docs[0]!._aws.Timestamp).toBe(T0 + 60);
  });
});
