/**
 * consumers/runtime/runtime.ts, one invocation end to end, on the edges the rule tests do not reach:
 * - the log lines operators search for (rule 10), their messages and fields, at info and debug level;
 * - the timeout guard's arithmetic (rule 7): margin = min(timeoutMarginMs, remaining / 2), the answer at
 *   remaining - margin, the boundary of "below the margin", no timer left behind;
 * - no Lambda context (local tools, tests): the 15-minute lease, no guard;
 * - rule 5 across invocations: a key cut short by the guard is not started again before its execution ends,
 *   and not at all if the next invocation answered meanwhile;
 * - the idempotency claim's lease (rule 8), a durable store that fails to load, rule 13 on the memory store;
 * - quarantine next to a retry inside one KPL aggregate (one sequence number), window-mode quarantine (rule 9).
 * Faults are scheduled; time is either a fake timer or a scripted remaining time.
 */
import type { Context, KinesisStreamEvent, KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InMemoryQuarantineSink,
  PermanentError,
  RuntimeInvariantError,
  createKinesisWindowHandler,
  type QuarantineRecord,
} from '../../consumers/runtime/index';
import { MemoryDurableStore, type DurableRecordStore, type EventClaim, type RecordLocation } from '../../consumers/runtime/durable-store';
import { encodeAggregate } from '../../kinesis/kpl';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { EmfCapture, LogCapture, SHARD_ID, STREAM_ARN, b64, kinesisEvent, kinesisRecord, lambdaContext, seq, setupOrderHandler, tick } from './helpers';

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
  vi.useRealTimers();
});

/** A promise the test settles. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The memory store, with every claim's lease written down. */
class LeaseRecordingStore implements DurableRecordStore {
  readonly leases: number[] = [];
  private readonly inner = new MemoryDurableStore();
  constructor(private readonly failClaims = false) {}
  async claim(eventId: string, leaseMs: number) {
    this.leases.push(leaseMs);
    if (this.failClaims) throw new Error('ProvisionedThroughputExceededException');
    return this.inner.claim(eventId, leaseMs);
  }
  complete(claim: EventClaim) {
    return this.inner.complete(claim);
  }
  release(claim: EventClaim) {
    return this.inner.release(claim);
  }
  recordFailure(location: RecordLocation, signature: string, isolated: boolean) {
    return this.inner.recordFailure(location, signature, isolated);
  }
  isCompleted(eventId: string) {
    return this.inner.isCompleted(eventId);
  }
}

const fixtures = () => createFixtures({ seed: 7 });

describe('rule 10: the log lines of one invocation', () => {
  it('debug level: processed, duplicate, quarantined, failed and redelivered records each get their line with their fields; the summary counts them', async () => {
    process.env['LOG_LEVEL'] = 'debug';
    const f = fixtures();
    const first = { ...f.orderPaid(), traceId: 'trace-abc' };
    const failing = f.orderPaid({ paymentId: 'fail' });
    const { handler, logs, quarantine } = setupOrderHandler({
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'fail') throw new Error('downstream said no');
        },
      },
    });
    const payloads = [first, f.orderPaid(), first, { not: 'an event' }, failing, f.orderPaid()];
    const keys = ['k-a', 'k-b', 'k-a', 'k-c', 'k-d', 'k-d'];
    const res = await handler(kinesisEvent(payloads, keys), lambdaContext());
    await tick();
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(4) }]);

    const processed = logs.find('record processed');
    expect(processed.map((l) => l['sequenceNumber'])).toEqual(expect.arrayContaining([seq(0), seq(1)]));
    expect(processed.find((l) => l['sequenceNumber'] === seq(0))).toMatchObject({ eventId: first.id, eventType: 'order.paid' });

    expect(logs.find('duplicate skipped')).toEqual([expect.objectContaining({ sequenceNumber: seq(2), eventId: first.id })]);

    const quarantined = logs.find('record quarantined');
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatchObject({ level: 'warn', sequenceNumber: seq(3), kind: quarantine.records[0]!.error.kind, reason: quarantine.records[0]!.error.message });
    expect(quarantined[0]!['issues']).toEqual(quarantine.records[0]!.error.issues);
    expect((quarantined[0]!['issues'] as unknown[]).length).toBeGreaterThan(0);
    // An unvalidated record: no event id or type in the line (they could be anything, personal data included).
    expect(quarantined[0]).not.toHaveProperty('eventId');

    const failed = logs.find('record failed; it will be redelivered');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'error', sequenceNumber: seq(4), kind: 'handler-error', eventId: failing.id, eventType: 'order.paid' });
    expect((failed[0]!['err'] as { message: string }).message).toBe('downstream said no');

    const redelivered = logs.find('record will be redelivered');
    expect(redelivered).toEqual([expect.objectContaining({ level: 'debug', sequenceNumber: seq(5), kind: 'blocked-by-earlier-failure' })]);

    expect(logs.find('batch partly failed')).toEqual([
      expect.objectContaining({ level: 'warn', received: 6, processed: 2, duplicates: 1, quarantined: 1, retried: 2, handlerErrors: 1, retryFromSequenceNumber: seq(4) }),
    ]);
    expect(logs.find('batch processed')).toEqual([]);
  });

  it('info level: no per-record debug lines; a clean batch logs "batch processed" without retry fields', async () => {
    process.env['LOG_LEVEL'] = 'info';
    const f = fixtures();
    const { handler, logs } = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
    const event = f.orderPaid();
    await handler(kinesisEvent([event, event], ['k', 'k']), lambdaContext());
    await tick();
    expect(logs.lines.filter((l) => l['level'] === 'debug')).toEqual([]);
    const summary = logs.find('batch processed');
    expect(summary).toEqual([expect.objectContaining({ level: 'info', received: 2, processed: 1, duplicates: 1, retried: 0, quarantined: 0 })]);
    expect(summary[0]).not.toHaveProperty('retryFromSequenceNumber');
    expect(summary[0]).not.toHaveProperty('timeoutGuard');
    expect(summary[0]).not.toHaveProperty('filtered');
  });

  it('a user record of an aggregate is logged with its sub-sequence number; the envelope trace id rides along', async () => {
    process.env['LOG_LEVEL'] = 'debug';
    const f = fixtures();
    const traced = { ...f.orderPaid(), traceId: 'trace-xyz' };
    const plain = f.orderPaid();
    const data = Buffer.from(
      encodeAggregate([
        { partitionKey: 'k-1', data: Buffer.from(JSON.stringify(plain)) },
        { partitionKey: 'k-2', data: Buffer.from(JSON.stringify(traced)) },
      ]),
    ).toString('base64');
    const { handler, logs } = setupOrderHandler({ handlers: { 'order.paid': () => undefined } });
    await handler({ Records: [kinesisRecord(0, data)] }, lambdaContext());
    await tick();
    const processed = logs.find('record processed');
    expect(processed).toHaveLength(2);
    expect(processed.find((l) => l['eventId'] === traced.id)).toMatchObject({ subSequenceNumber: 1, sequenceNumber: seq(0) });
    const failedTraced = { ...f.orderPaid({ paymentId: 'fail' }), traceId: 'trace-fail' };
    const { handler: failingHandler, logs: failLogs } = setupOrderHandler({
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'fail') throw new Error('no');
        },
      },
    });
    await failingHandler(kinesisEvent([failedTraced]), lambdaContext());
    await tick();
    const failed = failLogs.find('record failed; it will be redelivered')[0]!;
    expect(failed).toMatchObject({ traceId: 'trace-fail', eventId: failedTraced.id });
    expect(failed).not.toHaveProperty('subSequenceNumber');
  });
});

describe('rule 4: quarantine write failures are logged and the records redelivered', () => {
  it('a sink that throws: one error line with the count, each record redelivered as quarantine-failed', async () => {
    process.env['LOG_LEVEL'] = 'debug';
    const sink = {
      write: async (_records: readonly QuarantineRecord[]): Promise<readonly number[]> => {
        throw new Error('AccessDenied');
      },
    };
    const { handler, logs } = setupOrderHandler({ quarantine: sink });
    const res = await handler(kinesisEvent([{ bad: 1 }, { bad: 2 }]), lambdaContext());
    await tick();
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
    const error = logs.find('quarantine write failed; records will be redelivered');
    expect(error).toEqual([expect.objectContaining({ level: 'error', records: 2 })]);
    expect((error[0]!['err'] as { message: string }).message).toBe('AccessDenied');
    expect(logs.find('record will be redelivered').map((l) => [l['sequenceNumber'], l['kind']])).toEqual([
      [seq(0), 'quarantine-failed'],
      [seq(1), 'quarantine-failed'],
    ]);
    expect(logs.find('record quarantined')).toEqual([]);
    expect(logs.find('quarantine write did not finish before the timeout guard; records will be redelivered')).toEqual([]);
  });

  it('a sink still writing at the timeout guard: the timeout line, not the failure line', async () => {
    const sink = { write: (): Promise<readonly number[]> => new Promise(() => undefined) };
    const end = Date.now() + 400;
    const { handler, logs } = setupOrderHandler({ quarantine: sink, timeoutMarginMs: 300 });
    const res = await handler(kinesisEvent([{ bad: 1 }]), lambdaContext({ getRemainingTimeInMillis: () => end - Date.now() }));
    await tick();
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
    expect(logs.find('quarantine write did not finish before the timeout guard; records will be redelivered')).toEqual([
      expect.objectContaining({ level: 'error', records: 1 }),
    ]);
    expect(logs.find('quarantine write failed; records will be redelivered')).toEqual([]);
  });

  it('inside one KPL aggregate: a permanent failure after a retried user record is not quarantined now (it comes back with the retry)', async () => {
    const f = fixtures();
    const data = Buffer.from(
      encodeAggregate([
        { partitionKey: 'k-1', data: Buffer.from(JSON.stringify(f.orderPaid({ paymentId: 'fail' }))) },
        { partitionKey: 'k-2', data: Buffer.from(JSON.stringify({ not: 'an event' })) },
      ]),
    ).toString('base64');
    const { handler, quarantine, emf } = setupOrderHandler({
      handlers: {
        'order.paid': (e) => {
          if (e.data.paymentId === 'fail') throw new Error('transient');
        },
      },
    });
    const res = await handler({ Records: [kinesisRecord(0, data)] }, lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
    expect(quarantine.records).toEqual([]);
    expect(emf.docs[0]).toMatchObject({ RecordsReceived: 2, RecordsQuarantined: 0, RecordsRetried: 2 });
  });
});

describe('rule 7: the timeout guard, exactly', () => {
  it('the margin is at most half the remaining time: a 100 ms handler finishes with 1 s left and a 5 s margin setting', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const f = fixtures();
    const { handler } = setupOrderHandler({
      timeoutMarginMs: 5000,
      handlers: { 'order.paid': () => new Promise<void>((resolve) => setTimeout(resolve, 100)) },
    });
    let settled = false;
    const pending = handler(kinesisEvent([f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: () => 1000 })).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toBe(true);
    expect((await pending).batchItemFailures).toEqual([]);
    // The guard's timer is cleared once the invocation answered.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a hanging handler: the invocation answers at remaining - margin, not a millisecond earlier', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const f = fixtures();
    const { handler } = setupOrderHandler({ timeoutMarginMs: 300, handlers: { 'order.paid': () => new Promise<void>(() => undefined) } });
    let settled = false;
    const pending = handler(kinesisEvent([f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: () => 1000 })).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(699);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expect((await pending).batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
  });

  it('"below the margin" is strict: with exactly the margin left, the next record still starts', async () => {
    const f = fixtures();
    const calls = { n: 0 };
    const started: string[] = [];
    const remaining = (left: number) => () => (calls.n++ === 0 ? 10_000 : left);
    const { handler } = setupOrderHandler({ timeoutMarginMs: 3000, concurrency: 1, handlers: { 'order.paid': (_e, m) => void started.push(m.sequenceNumber) } });
    const res = await handler(kinesisEvent([f.orderPaid(), f.orderPaid(), f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: remaining(3000) }));
    expect(res.batchItemFailures).toEqual([]);
    expect(started).toEqual([seq(0), seq(1), seq(2)]);
    calls.n = 0;
    started.length = 0;
    const cut = await handler(kinesisEvent([f.orderPaid(), f.orderPaid(), f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: remaining(2999) }));
    // The first record always starts; the others find less than the margin left.
    expect(started).toEqual([seq(0)]);
    expect(cut.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
  });
});

describe('without a Lambda context (local tools, tests)', () => {
  it('runs the batch without a guard, logs without request fields, and leases claims for the Lambda maximum of 15 minutes', async () => {
    const f = fixtures();
    const store = new LeaseRecordingStore();
    const { handler, logs, emf } = setupOrderHandler({ durableStore: store, handlers: { 'order.paid': () => new Promise<void>((resolve) => setTimeout(resolve, 5)) } });
    const res = await handler(kinesisEvent([f.orderPaid(), f.orderPaid()]), undefined as unknown as Context);
    await tick();
    expect(res.batchItemFailures).toEqual([]);
    expect(emf.docs[0]).toMatchObject({ RecordsProcessed: 2, RecordsRetried: 0 });
    expect(store.leases).toEqual([15 * 60_000, 15 * 60_000]);
    expect(logs.find('batch processed')[0]).not.toHaveProperty('requestId');
  });

  it('with a context, a claim is leased for the remaining time plus the 5 s clock-skew margin', async () => {
    const f = fixtures();
    const store = new LeaseRecordingStore();
    const { handler } = setupOrderHandler({ durableStore: store, handlers: { 'order.paid': () => undefined } });
    await handler(kinesisEvent([f.orderPaid()]), lambdaContext({ getRemainingTimeInMillis: () => 42_000.4 }));
    expect(store.leases).toEqual([47_001]);
  });
});

describe('rule 12: not a Kinesis event', () => {
  it.each([
    ['null', null],
    ['Records not an array', { Records: 'x' }],
  ])('%s: RuntimeInvariantError naming the problem', async (_name, event) => {
    const { handler } = setupOrderHandler();
    const call = handler(event as unknown as KinesisStreamEvent, lambdaContext());
    await expect(call).rejects.toBeInstanceOf(RuntimeInvariantError);
    await expect(call).rejects.toThrow('event.Records is not an array: this is not a Kinesis event');
  });
});

describe('the durable store', () => {
  it('a store that fails to load fails the invocation (a runtime error, Lambda retries) and is loaded again next time', async () => {
    const f = fixtures();
    let loads = 0;
    const { handler } = setupOrderHandler({
      durableStore: async () => {
        loads += 1;
        if (loads === 1) throw new Error('cannot reach DynamoDB');
        return new MemoryDurableStore();
      },
      handlers: { 'order.paid': () => undefined },
    });
    await expect(handler(kinesisEvent([f.orderPaid()]), lambdaContext())).rejects.toThrow('cannot reach DynamoDB');
    expect((await handler(kinesisEvent([f.orderPaid()]), lambdaContext())).batchItemFailures).toEqual([]);
    expect(loads).toBe(2);
  });

  it('a claim that fails is an idempotency error: the record is redelivered and counted as a handler error', async () => {
    const f = fixtures();
    const ran: string[] = [];
    const { handler, logs } = setupOrderHandler({ durableStore: new LeaseRecordingStore(true), handlers: { 'order.paid': (e) => void ran.push(e.id) } });
    const res = await handler(kinesisEvent([f.orderPaid()]), lambdaContext());
    await tick();
    expect(ran).toEqual([]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
    expect(logs.find('record failed; it will be redelivered')).toEqual([expect.objectContaining({ kind: 'idempotency-error' })]);
    expect(logs.find('batch partly failed')[0]).toMatchObject({ handlerErrors: 1 });
  });

  it('rule 13 without a durable store: the memory store counts the attempts, and poisonAttempts 0 turns the rule off', async () => {
    const f = fixtures();
    const poison = f.orderPaid({ paymentId: 'poison' });
    const run = async (poisonAttempts: number, deliveries: number) => {
      const { handler, quarantine } = setupOrderHandler({
        poisonAttempts,
        handlers: {
          'order.paid': (e) => {
            if (e.data.paymentId === 'poison') throw new Error('always fails the same way');
          },
        },
      });
      const results = [];
      // Nine records that work and the poison one: its failures are isolated (10 % of the batch).
      const others = Array.from({ length: 9 }, () => f.orderPaid());
      const keys = [...others.map((_, i) => `k-${i}`), 'k-poison'];
      for (let n = 0; n < deliveries; n++) results.push(await handler(kinesisEvent([...others, poison], keys), lambdaContext()));
      return { results, quarantine };
    };
    const on = await run(2, 2);
    expect(on.results.map((r) => r.batchItemFailures)).toEqual([[{ itemIdentifier: seq(9) }], []]);
    expect(on.quarantine.records.map((r) => r.record.sequenceNumber)).toEqual([seq(9)]);
    const off = await run(0, 4);
    expect(off.results.map((r) => r.batchItemFailures)).toEqual(Array.from({ length: 4 }, () => [{ itemIdentifier: seq(9) }]));
    expect(off.quarantine.records).toEqual([]);
  });
});

describe('rule 5 across invocations: a key cut short by the timeout guard', () => {
  /** A context with 150 ms left: with a 50 ms margin the guard answers after ~100 ms. */
  const shortContext = (): Context => {
    const end = Date.now() + 150;
    return lambdaContext({ getRemainingTimeInMillis: () => end - Date.now() });
  };

  /** A handler noting the payment id of each record it starts; 'a-1' hangs until `hang` opens, 'b-1' opens `bDone`. */
  function recordingHandler(hang: ReturnType<typeof gate>, bDone?: ReturnType<typeof gate>) {
    const started: string[] = [];
    const { handler } = setupOrderHandler({
      timeoutMarginMs: 50,
      handlers: {
        'order.paid': async (e) => {
          started.push(e.data.paymentId);
          if (e.data.paymentId === 'a-1') await hang.promise;
          if (e.data.paymentId === 'b-1') bDone?.open();
        },
      },
    });
    return { handler, started };
  }

  it('is not started again in the next invocation before its earlier execution ended; other keys go on meanwhile', async () => {
    const f = fixtures();
    const hang = gate();
    const bDone = gate();
    const { handler, started } = recordingHandler(hang, bDone);
    const first = await handler(kinesisEvent([f.orderPaid({ paymentId: 'a-1' })], ['A']), shortContext());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);

    const second = handler(kinesisEvent([f.orderPaid({ paymentId: 'a-2' }), f.orderPaid({ paymentId: 'b-1' })], ['A', 'B']), lambdaContext());
    await bDone.promise;
    await tick();
    expect(started).toEqual(['a-1', 'b-1']);
    hang.open();
    expect((await second).batchItemFailures).toEqual([]);
    expect(started).toEqual(['a-1', 'b-1', 'a-2']);
  });

  it('is not started at all if the next invocation answered before the earlier execution ended', async () => {
    const f = fixtures();
    const hang = gate();
    const { handler, started } = recordingHandler(hang);
    await handler(kinesisEvent([f.orderPaid({ paymentId: 'a-1' })], ['A']), shortContext());
    const second = await handler(kinesisEvent([f.orderPaid({ paymentId: 'a-2' })], ['A']), shortContext());
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: seq(0) }]);
    hang.open();
    // A third invocation on another key proves the container went on after the release.
    const third = await handler(kinesisEvent([f.orderPaid({ paymentId: 'c-1' })], ['C']), lambdaContext());
    expect(third.batchItemFailures).toEqual([]);
    await tick();
    expect(started).toEqual(['a-1', 'c-1']);
  });
});

describe('rule 9: window mode writes each permanent failure before reducing further', () => {
  type Totals = { paid: number };
  const windowEvent = (payloads: unknown[]): KinesisStreamTumblingWindowEvent => ({
    Records: payloads.map((p, i) => kinesisRecord(i, b64(p))),
    window: { start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:01:00Z' },
    state: {},
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
    ...({ shardId: SHARD_ID, eventSourceARN: STREAM_ARN } as object),
  });

  function windowSetup(sink: { write(records: readonly QuarantineRecord[]): Promise<readonly number[]> }) {
    const logs = new LogCapture();
    const emf = new EmfCapture();
    const reducedAtWrite: number[] = [];
    let reduced = 0;
    const handler = createKinesisWindowHandler<OrderEvent, Totals>({
      consumerName: 'window-consumer',
      registry,
      quarantine: {
        write: async (records) => {
          reducedAtWrite.push(reduced);
          return sink.write(records);
        },
      },
      logDestination: logs,
      metrics: { writer: emf.writer },
      initialState: () => ({ paid: 0 }),
      // Async reducer: a PermanentError it throws is quarantined after its promise settles.
      reduce: async (state, event) => {
        await tick();
        if (event.type === 'order.paid' && event.data.paymentId === 'permanent') throw new PermanentError('refund of an unknown order');
        reduced += 1;
        return { paid: state.paid + 1 };
      },
      onWindowEnd: () => undefined,
    });
    return { handler, logs, emf, reducedAtWrite };
  }

  it('the invalid record and the reducer\'s permanent failure are each written before the next record is reduced, and counted', async () => {
    const f = fixtures();
    const sink = new InMemoryQuarantineSink();
    const { handler, logs, emf, reducedAtWrite } = windowSetup(sink);
    const res = await handler(windowEvent([f.orderPaid(), { not: 'an event' }, f.orderPaid(), f.orderPaid({ paymentId: 'permanent' }), f.orderPaid()]), lambdaContext());
    await tick();
    expect(res).toMatchObject({ state: { paid: 3 }, batchItemFailures: [] });
    expect(reducedAtWrite).toEqual([1, 2]);
    expect(logs.find('record quarantined').map((l) => [l['sequenceNumber'], l['kind']])).toEqual([
      [seq(1), sink.records[0]!.error.kind],
      [seq(3), 'handler-permanent'],
    ]);
    expect(emf.docs[0]).toMatchObject({ RecordsReceived: 5, RecordsProcessed: 3, RecordsQuarantined: 2, RecordsRetried: 0 });
  });

  it('a failed write stops the window there: the state holds nothing from that record on, which is redelivered', async () => {
    const f = fixtures();
    const sink = {
      write: async (): Promise<readonly number[]> => {
        throw new Error('queue unavailable');
      },
    };
    const { handler, logs, emf } = windowSetup(sink);
    const res = await handler(windowEvent([f.orderPaid(), { not: 'an event' }, f.orderPaid()]), lambdaContext());
    await tick();
    expect(res).toMatchObject({ state: { paid: 1 }, batchItemFailures: [{ itemIdentifier: seq(1) }] });
    const line = logs.find('quarantine write failed; the record and everything after it will be redelivered');
    expect(line).toEqual([expect.objectContaining({ level: 'error', sequenceNumber: seq(1) })]);
    expect((line[0]!['err'] as { message: string }).message).toBe('queue unavailable');
    expect(emf.docs[0]).toMatchObject({ RecordsQuarantined: 0 });
  });
});

describe('the root logger is built with the first invocation, not at init (issue 15)', () => {
  it('no logger before ready(); one logger after, kept; a handler logs from its first invocation on', async () => {
    const { ConsumerRuntime } = await import('../../consumers/runtime/runtime');
    const logs = new LogCapture();
    const runtime = new ConsumerRuntime({ registry, consumerName: 'lazy-log', logDestination: logs, metrics: false, quarantine: new InMemoryQuarantineSink(), handlers: {} } as never);
    expect(runtime.builtLog).toBeUndefined();
    expect(() => runtime.log).toThrow(RuntimeInvariantError);
    await runtime.ready();
    const built = runtime.log;
    expect(runtime.builtLog).toBe(built);
    await runtime.ready();
    expect(runtime.log).toBe(built);

    const f = createFixtures({ seed: 77 });
    const { handler, logs: handlerLogs } = setupOrderHandler({ handlers: { 'order.paid': (_e, meta) => void meta.log.warn('from the handler') } });
    expect(handlerLogs.lines).toHaveLength(0);
    await handler(kinesisEvent([f.orderPaid()]), lambdaContext());
    await tick();
    expect(handlerLogs.find('from the handler')).toHaveLength(1);
  });
});
