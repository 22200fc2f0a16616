/**
 * Exactly-once effects over at-least-once delivery (rules 5, 8 and 13 of docs/consumer-runtime.md),
 * end to end: kinesalite, the local event source mapping (local/esm) invoking the runtime in-process
 * (one handler instance = one warm container), dynalite for the durable store. Every assertion is on
 * effects against the ground truth the test put on the stream, not on record accounting alone.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryQuarantineSink, createKinesisHandler, type KinesisBatchHandler } from '../../consumers/runtime/index';
import type { DurableRecordStore } from '../../consumers/runtime/durable-store';
import { createFixtures } from '../../schemas/fixtures';
import { registry, type OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { ok, runMapping, settings, useStreamFixture, waitFor, type Invocation } from '../local-esm/harness';
import { EffectLog, Gate, contextWithBudget, exactlyOnce, startDurableTables, type DurableTables } from './exactly-once-support';

const esm = useStreamFixture();
const silent = createLogger({ name: 'exactly-once-test', level: 'silent' });
let tables: DurableTables;

beforeAll(async () => {
  tables = await startDurableTables();
});
afterAll(async () => {
  await tables.dynamo.stop();
});

interface Options {
  readonly log: EffectLog;
  readonly hold?: (event: OrderEvent) => Promise<void> | undefined;
  readonly fail?: (event: OrderEvent) => Error | undefined;
  readonly durableStore?: DurableRecordStore;
  readonly quarantine?: InMemoryQuarantineSink;
  readonly timeoutMarginMs?: number;
}

/** One warm container of a consumer whose effect is "record the event id" (after an optional hold or failure). */
function container(options: Options): KinesisBatchHandler {
  const { log } = options;
  const effect = async (event: OrderEvent, meta: { partitionKey: string }) => {
    log.begin(meta.partitionKey, event.id);
    try {
      await (options.hold?.(event) ?? new Promise((resolve) => setImmediate(resolve)));
      const error = options.fail?.(event);
      if (error) throw error;
      log.effects.push(event.id);
    } finally {
      log.end(meta.partitionKey);
    }
  };
  return createKinesisHandler<OrderEvent>({
    registry,
    consumerName: 'exactly-once',
    quarantine: options.quarantine ?? new InMemoryQuarantineSink(),
    metrics: false,
    logger: silent,
    ...(options.timeoutMarginMs !== undefined ? { timeoutMarginMs: options.timeoutMarginMs } : {}),
    ...(options.durableStore !== undefined ? { durableStore: options.durableStore } : {}),
    handlers: { 'order.placed': effect, 'order.paid': effect },
  });
}

const invoke = (handler: KinesisBatchHandler, inv: Invocation, index: number, budgetMs = 60_000) =>
  handler(inv.event as unknown as KinesisStreamEvent, contextWithBudget(budgetMs, `request-${index}`));

const put = (events: readonly OrderEvent[], key: (e: OrderEvent, i: number) => string = (e) => e.data.orderId) =>
  esm.fixture.putTogether(events.map((event, i) => ({ key: key(event, i), data: event })));

describe('rule 5 across invocations (timeout guard, then redelivery to the same warm container)', () => {
  it('a redelivered record waits for its first execution, still running in the background: one execution per key at a time, effects once, in key order', async () => {
    const f = createFixtures({ seed: 51 });
    const placed = f.orderPlaced();
    const paid = f.orderPaid({ orderId: placed.data.orderId });
    const other = f.orderPlaced();
    const puts = await put([placed, paid, other]);
    const gate = new Gate();
    const log = new EffectLog();
    const handler = container({ log, timeoutMarginMs: 150, hold: (event) => (event.id === placed.id ? gate.opened : undefined) });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true, maximumRetryAttempts: 50 }), async (inv, index) => {
      // 400 ms of budget, 150 ms margin: the guard answers while `placed` is held at the gate.
      const response = await invoke(handler, inv, index, 400);
      if (index === 1) gate.open(); // the redelivery has answered: now the first execution may finish
      return ok(response);
    });
    await waitFor(() => esm.running!.checkpoints().includes(puts[2]!.sequenceNumber), 'every record checkpointed', 60_000);
    expect(esm.running.invocations[1]!.sequenceNumbers[0]).toBe(puts[0]!.sequenceNumber); // redelivered from the held record
    expect(exactlyOnce(log, [placed, paid, other])).toEqual({});
    expect(log.maxConcurrentPerKey).toBe(1);
    expect(log.started.filter((id) => id === placed.id)).toHaveLength(1);
    expect(log.effects.indexOf(placed.id)).toBeLessThan(log.effects.indexOf(paid.id));
  });
});

describe('rule 8: an event id in flight is never started twice', () => {
  it('the same event on two partition keys in one batch takes effect once', async () => {
    const f = createFixtures({ seed: 52 });
    const event = f.orderPlaced();
    const puts = await put([event, event], (_e, i) => `key-${i}`);
    const log = new EffectLog();
    const handler = container({ log });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true }), (inv, index) => invoke(handler, inv, index).then(ok));
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'both records checkpointed', 60_000);
    expect(log.started).toEqual([event.id]);
    expect(exactlyOnce(log, [event])).toEqual({});
  });

  it('a retry on another container (the first one crashed after its effects) skips what took effect: DynamoDB claims on dynalite', async () => {
    const f = createFixtures({ seed: 53 });
    const events = Array.from({ length: 6 }, () => f.orderPlaced());
    const puts = await put(events);
    const log = new EffectLog();
    const a = container({ log, durableStore: await tables.store('crash-retry') });
    const b = container({ log, durableStore: await tables.store('crash-retry') });
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true, maximumRetryAttempts: 5 }), async (inv, index) => {
      if (index > 0) return ok(await invoke(b, inv, index));
      await invoke(a, inv, index); // every effect happens, then the container dies before answering
      return { ok: false, errorType: 'Crashed', errorMessage: 'Runtime exited with error: signal: killed', durationMs: 1 };
    });
    await waitFor(() => esm.running!.checkpoints().includes(puts[5]!.sequenceNumber), 'every record checkpointed', 60_000);
    expect(esm.running.invocations.length).toBeGreaterThanOrEqual(2);
    expect(exactlyOnce(log, events)).toEqual({});
  });

  it('an event claimed by another container (lease valid) is reported for redelivery, not run, and runs once in all', async () => {
    const f = createFixtures({ seed: 54 });
    const held = f.orderPlaced();
    const free = f.orderPlaced();
    const puts = await put([held, free]);
    const gate = new Gate();
    const log = new EffectLog();
    const hold = (event: OrderEvent) => (event.id === held.id ? gate.opened : undefined);
    const a = container({ log, hold, durableStore: await tables.store('claim-held') });
    const b = container({ log, hold, durableStore: await tables.store('claim-held') });
    let first: Promise<unknown> | undefined;
    const responses: unknown[] = [];
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, reportBatchItemFailures: true, maximumRetryAttempts: 50 }), async (inv, index) => {
      if (index === 0) {
        // Container A starts the batch (and holds `held`); the same batch reaches container B meanwhile.
        first = invoke(a, inv, index);
        await waitFor(() => log.started.includes(held.id), 'container A started the held event');
      }
      const response = await invoke(b, inv, index);
      responses.push(response);
      if (index === 1) gate.open();
      return ok(response);
    });
    await waitFor(() => esm.running!.checkpoints().includes(puts[1]!.sequenceNumber), 'every record checkpointed', 60_000);
    await first;
    expect(responses[0]).toEqual({ batchItemFailures: [{ itemIdentifier: puts[0]!.sequenceNumber }] });
    expect(log.started.filter((id) => id === held.id)).toHaveLength(1);
    expect(exactlyOnce(log, [held, free])).toEqual({});
  });
});

describe('rule 13: poison records are isolated; a downstream outage is not', () => {
  it('a record failing the same way on 3 deliveries while the others succeed is quarantined with payload, last error and attempts; nothing goes to on-failure', async () => {
    const f = createFixtures({ seed: 55 });
    const events = Array.from({ length: 20 }, () => f.orderPlaced());
    const poison = events[5]!;
    const puts = await put(events);
    const log = new EffectLog();
    const quarantine = new InMemoryQuarantineSink();
    const handler = container({
      log,
      quarantine,
      durableStore: await tables.store('poison'),
      fail: (event) => (event.id === poison.id ? new TypeError(`cannot read properties of undefined (order ${poison.data.orderId})`) : undefined),
    });
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 20, reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 3, onFailureDestination: 'queue' }),
      (inv, index) => invoke(handler, inv, index).then(ok),
    );
    await waitFor(() => esm.running!.checkpoints().includes(puts[19]!.sequenceNumber), 'every record checkpointed', 60_000);
    expect(esm.running.sink.records).toEqual([]);
    expect(exactlyOnce(log, events.filter((e) => e !== poison))).toEqual({});
    expect(quarantine.records).toHaveLength(1);
    const [record] = quarantine.records;
    expect(record!.error).toEqual({
      kind: 'poison-record',
      message: `failed 3 consecutive deliveries with the same error while other records succeeded: TypeError: cannot read properties of undefined (order ${poison.data.orderId})`,
      attempts: 3,
    });
    expect(record!.event).toEqual({ id: poison.id, type: 'order.placed', version: 1 });
    expect(record!.record.sequenceNumber).toBe(puts[5]!.sequenceNumber);
    expect(JSON.parse(Buffer.from(record!.record.data!, 'base64').toString('utf8'))).toEqual(poison);
  });

  it('a downstream outage (every record failing) quarantines nothing: the batch goes to on-failure with none of its records in effect', async () => {
    const f = createFixtures({ seed: 56 });
    const events = Array.from({ length: 10 }, () => f.orderPlaced());
    const puts = await put(events);
    const log = new EffectLog();
    const quarantine = new InMemoryQuarantineSink();
    const handler = container({ log, quarantine, durableStore: await tables.store('outage'), fail: () => new Error('connect ECONNREFUSED 10.0.0.1:443') });
    esm.running = await runMapping(
      esm.fixture,
      settings({ batchSize: 10, reportBatchItemFailures: true, bisectBatchOnFunctionError: true, maximumRetryAttempts: 4, onFailureDestination: 'queue' }),
      (inv, index) => invoke(handler, inv, index).then(ok),
    );
    await waitFor(() => esm.running!.sink.records.length > 0 && esm.running!.checkpoints().includes(puts[9]!.sequenceNumber), 'the batch discarded', 60_000);
    expect(quarantine.records).toEqual([]);
    expect(log.effects).toEqual([]);
    const info = esm.running.sink.records.map((r) => r.KinesisBatchInfo);
    expect(info.reduce((n, i) => n + i.batchSize, 0)).toBe(10);
    expect(info[0]!.startSequenceNumber).toBe(puts[0]!.sequenceNumber);
  });
});
