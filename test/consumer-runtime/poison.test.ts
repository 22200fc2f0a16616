/**
 * Rule 13 at the unit level (consumers/runtime/poison.ts): what makes a failed delivery isolated, what
 * makes an invocation an outage, and when a record becomes poison. The end-to-end cases (a poison
 * record on kinesalite, a downstream outage) are in exactly-once.test.ts; these pin each boundary of
 * the rule, including the cases those runs cannot tell apart.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryDurableStore, type DurableRecordStore } from '../../consumers/runtime/durable-store';
import { ISOLATED_FAILURE_SHARE, failureSignature, isolatePoisonRecords, type FailureLists } from '../../consumers/runtime/poison';
import { ItemStatus, RecordItem } from '../../consumers/runtime/record-item';
import { createLogger, type Logger } from '../../telemetry/logger';
import { LogCapture } from './helpers';

const STREAM = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';

function logger(): { log: Logger; capture: LogCapture } {
  const capture = new LogCapture();
  return { log: createLogger({ name: 'poison-test', destination: capture }), capture };
}

/** A record of the batch that failed transiently in its handler with `error`. */
function failedItem(sequence: number, error: unknown, log: Logger): RecordItem {
  const source = { eventSourceARN: STREAM, kinesis: { sequenceNumber: String(sequence), partitionKey: `pk-${sequence}` } } as unknown as KinesisStreamRecord;
  const item = new RecordItem(source, String(sequence), `pk-${sequence}`, { shardId: 'shardId-000000000000', log }, undefined);
  item.status = ItemStatus.Retry;
  item.transient = 'handler-error';
  item.transientError = error;
  return item;
}

/** One delivery: `failures` records failing (sequence numbers 1..), `successes` others succeeded. */
async function deliver(
  store: DurableRecordStore,
  failures: readonly { sequence: number; error: unknown }[],
  successes: number,
  threshold = 3,
): Promise<{ outcome: FailureLists; capture: LogCapture }> {
  const { log, capture } = logger();
  const outcome: FailureLists = { retry: failures.map((f) => failedItem(f.sequence, f.error, log)), toQuarantine: [] };
  await isolatePoisonRecords(outcome, successes, store, threshold, log);
  return { outcome, capture };
}

const seqs = (items: readonly RecordItem[]) => items.map((i) => i.sequenceNumber);
const boom = new TypeError('cannot read properties of undefined');

describe('failureSignature', () => {
  it('is "<name>: <message>" for an Error, "thrown: <value>" otherwise, at most 300 characters', () => {
    expect(failureSignature(new RangeError('too big'))).toBe('RangeError: too big');
    expect(failureSignature('a string')).toBe('thrown: a string');
    expect(failureSignature(42)).toBe('thrown: 42');
    const long = failureSignature(new Error('x'.repeat(1000)));
    expect(long).toHaveLength(300);
    expect(long.startsWith('Error: xxx')).toBe(true);
  });
});

describe('isolatePoisonRecords (rule 13)', () => {
  it('a record failing alone K times while others succeed becomes poison on the K-th delivery, not before', async () => {
    const store = new MemoryDurableStore();
    for (let delivery = 1; delivery <= 2; delivery++) {
      const { outcome } = await deliver(store, [{ sequence: 1, error: boom }], 19);
      expect({ delivery, retry: seqs(outcome.retry), quarantine: seqs(outcome.toQuarantine) }).toEqual({ delivery, retry: ['1'], quarantine: [] });
    }
    const { outcome } = await deliver(store, [{ sequence: 1, error: boom }], 19);
    expect(seqs(outcome.retry)).toEqual([]);
    expect(seqs(outcome.toQuarantine)).toEqual(['1']);
    const [item] = outcome.toQuarantine;
    expect(item!.status).toBe(ItemStatus.ToQuarantine);
    expect(item!.permanent).toEqual({
      kind: 'poison-record',
      message: 'failed 3 consecutive deliveries with the same error while other records succeeded: TypeError: cannot read properties of undefined',
      attempts: 3,
    });
    expect(item!.transient).toBeUndefined();
    expect(item!.transientError).toBeUndefined();
  });

  it('only the poison record leaves the retry list; the other failures stay, in their order', async () => {
    const store = new MemoryDurableStore();
    const other = (n: number) => new Error(`timeout ${n}`); // a different signature each delivery: never a streak
    let last: FailureLists | undefined;
    for (let delivery = 1; delivery <= 3; delivery++) {
      ({ outcome: last } = await deliver(store, [{ sequence: 1, error: other(delivery) }, { sequence: 2, error: boom }, { sequence: 3, error: other(delivery + 10) }], 30));
    }
    expect(seqs(last!.retry)).toEqual(['1', '3']);
    expect(seqs(last!.toQuarantine)).toEqual(['2']);
  });

  it('a failure that is not a handler error (a claim held elsewhere, a quarantine write) is never counted', async () => {
    const store = new MemoryDurableStore();
    for (let delivery = 1; delivery <= 4; delivery++) {
      const { log } = logger();
      const item = failedItem(1, boom, log);
      item.transient = 'in-progress-elsewhere';
      const outcome: FailureLists = { retry: [item], toQuarantine: [] };
      await isolatePoisonRecords(outcome, 10, store, 3, log);
      expect(seqs(outcome.toQuarantine)).toEqual([]);
    }
  });

  it('no success in the invocation: never isolated, so no streak of failures alone makes a record poison', async () => {
    const store = new MemoryDurableStore();
    for (let delivery = 1; delivery <= 5; delivery++) {
      const { outcome } = await deliver(store, [{ sequence: 1, error: boom }], 0);
      expect(seqs(outcome.toQuarantine)).toEqual([]);
    }
  });

  it(`isolated means at most ${ISOLATED_FAILURE_SHARE * 100} % of the handled records share the error: exactly 10 % is isolated, more is not`, async () => {
    // 1 failure of 10 handled (9 successes): 1 <= 0.1 * 10, isolated.
    const atShare = new MemoryDurableStore();
    let outcome: FailureLists | undefined;
    for (let d = 0; d < 3; d++) ({ outcome } = await deliver(atShare, [{ sequence: 1, error: boom }], 9));
    expect(seqs(outcome!.toQuarantine)).toEqual(['1']);
    // 2 failures with one signature of 19 handled (17 successes): 2 > 1.9, a shared cause, not isolated.
    const aboveShare = new MemoryDurableStore();
    for (let d = 0; d < 5; d++) {
      ({ outcome } = await deliver(aboveShare, [{ sequence: 1, error: boom }, { sequence: 2, error: boom }], 17));
      expect(seqs(outcome.toQuarantine)).toEqual([]);
    }
  });

  it('one success is enough for isolation when the failure is a small share', async () => {
    // 1 failure of 10 handled needs 9 successes; with 1 success and 1 failure the share is 50 %: not isolated.
    const store = new MemoryDurableStore();
    let outcome: FailureLists | undefined;
    for (let d = 0; d < 4; d++) ({ outcome } = await deliver(store, [{ sequence: 1, error: boom }], 1));
    expect(seqs(outcome!.toQuarantine)).toEqual([]);
  });

  it('an outage (2+ failures, no success) blames nobody, even a record whose streak was isolated before', async () => {
    const store = new MemoryDurableStore();
    const down = new Error('connect ECONNREFUSED 10.0.0.1:443');
    // Delivery 1: record 1 fails alone, the rest work: isolated.
    await deliver(store, [{ sequence: 1, error: down }], 19);
    // Deliveries 2-4: the downstream is down, every record fails the same way: an outage.
    for (let d = 2; d <= 4; d++) {
      const { outcome, capture } = await deliver(store, [{ sequence: 1, error: down }, { sequence: 2, error: down }, { sequence: 3, error: down }], 0);
      expect(seqs(outcome.toQuarantine)).toEqual([]);
      expect(seqs(outcome.retry)).toEqual(['1', '2', '3']);
      expect(capture.find('every record that ran failed: treated as a downstream outage, no record is blamed')).toEqual([
        expect.objectContaining({ failed: 3, level: 'warn' }),
      ]);
    }
  });

  it('a single failing record with no success is not an outage: its isolated streak still counts', async () => {
    // Delivery 1 isolated (others succeeded); deliveries 2-3 hold only this record (bisected down to it).
    const store = new MemoryDurableStore();
    await deliver(store, [{ sequence: 1, error: boom }], 19);
    await deliver(store, [{ sequence: 1, error: boom }], 0);
    const { outcome, capture } = await deliver(store, [{ sequence: 1, error: boom }], 0);
    expect(seqs(outcome.toQuarantine)).toEqual(['1']);
    expect(capture.find('every record that ran failed: treated as a downstream outage, no record is blamed')).toEqual([]);
  });

  it('a different error restarts the count', async () => {
    const store = new MemoryDurableStore();
    await deliver(store, [{ sequence: 1, error: boom }], 19);
    await deliver(store, [{ sequence: 1, error: boom }], 19);
    const { outcome: changed } = await deliver(store, [{ sequence: 1, error: new Error('another cause') }], 19);
    expect(seqs(changed.toQuarantine)).toEqual([]);
    const { outcome: next } = await deliver(store, [{ sequence: 1, error: new Error('another cause') }], 19);
    expect(seqs(next.toQuarantine)).toEqual([]);
    const { outcome: third } = await deliver(store, [{ sequence: 1, error: new Error('another cause') }], 19);
    expect(seqs(third.toQuarantine)).toEqual(['1']);
  });

  it('a store that cannot count leaves the record to be retried and says why', async () => {
    const store = new MemoryDurableStore();
    store.recordFailure = () => Promise.reject(new Error('ProvisionedThroughputExceededException'));
    const { outcome, capture } = await deliver(store, [{ sequence: 7, error: boom }], 19, 1);
    expect(seqs(outcome.retry)).toEqual(['7']);
    expect(seqs(outcome.toQuarantine)).toEqual([]);
    expect(capture.find('could not count a failed delivery (poison-record detection); the record is retried')).toEqual([
      expect.objectContaining({ sequenceNumber: '7', err: expect.objectContaining({ message: 'ProvisionedThroughputExceededException' }) }),
    ]);
  });

  it('counts each failure once per delivery: K deliveries, not K failures in one batch', async () => {
    // The same signature on 2 records of one delivery counts once for each record, not twice for one.
    const store = new MemoryDurableStore();
    let outcome: FailureLists | undefined;
    for (let d = 0; d < 2; d++) ({ outcome } = await deliver(store, [{ sequence: 1, error: boom }, { sequence: 2, error: boom }], 40, 3));
    expect(seqs(outcome!.toQuarantine)).toEqual([]);
    ({ outcome } = await deliver(store, [{ sequence: 1, error: boom }, { sequence: 2, error: boom }], 40, 3));
    expect(seqs(outcome.toQuarantine).sort()).toEqual(['1', '2']);
  });

  it('two failures and no success are already an outage', async () => {
    const store = new MemoryDurableStore();
    await deliver(store, [{ sequence: 1, error: boom }], 19); // isolated once
    for (let d = 2; d <= 4; d++) {
      const { outcome } = await deliver(store, [{ sequence: 1, error: boom }, { sequence: 2, error: new Error('other') }], 0);
      expect(seqs(outcome.toQuarantine)).toEqual([]);
    }
  });

  it('no success means not isolated even when every failure has its own error', async () => {
    // 10 different errors, nothing succeeded: each is 10 % of the handled records, but nothing works.
    const store = new MemoryDurableStore();
    await deliver(store, Array.from({ length: 10 }, (_, i) => ({ sequence: i + 1, error: new Error(`cause ${i}`) })), 0);
    // Then record 1 fails alone twice more (bisected down to it): never isolated, so never poison.
    await deliver(store, [{ sequence: 1, error: new Error('cause 0') }], 0);
    const { outcome } = await deliver(store, [{ sequence: 1, error: new Error('cause 0') }], 0);
    expect(seqs(outcome.toQuarantine)).toEqual([]);
  });

  it('a single success is enough when the failure is at most 10 % of the handled records', async () => {
    // Record 1 and eight others fail, each with its own error, one record succeeds: 1 of 10, isolated.
    const store = new MemoryDurableStore();
    let outcome: FailureLists | undefined;
    for (let d = 0; d < 3; d++) {
      ({ outcome } = await deliver(store, [{ sequence: 1, error: boom }, ...Array.from({ length: 8 }, (_, i) => ({ sequence: i + 2, error: new Error(`cause ${i} of delivery ${d}`) }))], 1));
    }
    expect(seqs(outcome!.toQuarantine)).toEqual(['1']);
  });
});
