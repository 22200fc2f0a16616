/**
 * HandlerRunner (consumers/runtime/handler-runner.ts) at the unit level: what happens to a record when
 * an idempotency level fails or answers late. The rule throughout: a record is handled, skipped as a
 * duplicate, or retried; a failing store never loses a record and never fails one that took effect.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLAIM_LEASE_MS, HandlerRunner, type ClaimStoreHolder, type EventStep } from '../../consumers/runtime/handler-runner';
import { MemoryDurableStore, type EventClaim, type EventClaimResult } from '../../consumers/runtime/durable-store';
import type { IdempotencyStore } from '../../consumers/runtime/idempotency';
import { LruIdempotencyStore } from '../../consumers/runtime/idempotency';
import { ItemStatus, RecordItem, type BatchInfo } from '../../consumers/runtime/record-item';
import type { AnyEvent } from '../../consumers/runtime/types';
import { createLogger } from '../../telemetry/logger';
import { LogCapture } from './helpers';

let sequence = 0;
function item(id: string, batch: BatchInfo): RecordItem {
  sequence += 1;
  const source = { eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders', kinesis: { sequenceNumber: String(sequence), partitionKey: 'pk' } } as unknown as KinesisStreamRecord;
  const it = new RecordItem(source, String(sequence), 'pk', batch, undefined);
  it.event = { id, type: 'order.placed', version: 1 } as unknown as AnyEvent;
  it.eventId = id;
  return it;
}

function setup(options: { idempotency?: IdempotencyStore; durable?: MemoryDurableStore; step?: EventStep } = {}) {
  const capture = new LogCapture();
  const log = createLogger({ name: 'handler-runner-test', destination: capture });
  const handled: string[] = [];
  const step: EventStep = options.step ?? ((event) => void handled.push(event.id));
  const claims: ClaimStoreHolder = { store: options.durable };
  const runner = new HandlerRunner((type) => (type === 'order.placed' ? step : undefined), options.idempotency, log, claims);
  const batch: BatchInfo = { shardId: 'shardId-000000000000', log };
  return { runner, batch, capture, handled };
}

const ID = '2b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';

describe('HandlerRunner: a failing or slow idempotency level never loses a record', () => {
  it('an asynchronous first level that fails: the record is retried, not handled, not dropped', async () => {
    const failing: IdempotencyStore = { has: () => Promise.reject(new Error('ECONNRESET')), add: () => undefined };
    const { runner, batch, handled } = setup({ idempotency: failing });
    const record = item(ID, batch);
    await runner.start(record);
    expect(record.status).toBe(ItemStatus.Retry);
    expect(record.transient).toBe('idempotency-error');
    expect((record.transientError as Error).message).toBe('ECONNRESET');
    expect(handled).toEqual([]);
  });

  it('a first level that throws synchronously: the same', () => {
    const failing: IdempotencyStore = { has: () => { throw new Error('corrupt'); }, add: () => undefined };
    const { runner, batch, handled } = setup({ idempotency: failing });
    const record = item(ID, batch);
    expect(runner.start(record)).toBeUndefined();
    expect(record.status).toBe(ItemStatus.Retry);
    expect(record.transient).toBe('idempotency-error');
    expect(handled).toEqual([]);
  });

  it('an asynchronous first level answering "seen": a duplicate, not handled', async () => {
    const seen: IdempotencyStore = { has: () => Promise.resolve(true), add: () => undefined };
    const { runner, batch, handled } = setup({ idempotency: seen });
    const record = item(ID, batch);
    await runner.start(record);
    expect(record.status).toBe(ItemStatus.Duplicate);
    expect(handled).toEqual([]);
  });

  it('remembering a handled event fails (sync or async): the record is done, the loss of dedupe is logged', async () => {
    for (const add of [() => { throw new Error('full'); }, () => Promise.reject(new Error('full'))] as const) {
      const store: IdempotencyStore = { has: () => false, add };
      const { runner, batch, handled, capture } = setup({ idempotency: store });
      const record = item(ID, batch);
      await runner.start(record);
      expect(record.status).toBe(ItemStatus.Done);
      expect(handled).toEqual([ID]);
      expect(capture.find('idempotency store could not record a handled event; a redelivery of it will run again')).toEqual([
        expect.objectContaining({ err: expect.objectContaining({ message: 'full' }) }),
      ]);
    }
  });

  it('an asynchronous first level: the record is done only once `add` resolved', async () => {
    let resolveAdd!: () => void;
    const store: IdempotencyStore = { has: () => false, add: () => new Promise<void>((r) => (resolveAdd = r)) };
    const { runner, batch } = setup({ idempotency: store });
    const record = item(ID, batch);
    const running = runner.start(record)!;
    await Promise.resolve();
    expect(record.status).not.toBe(ItemStatus.Done);
    resolveAdd();
    await running;
    expect(record.status).toBe(ItemStatus.Done);
  });

  it('the effect happened but COMPLETED cannot be written: the record is done (never retried into a second effect now), the gap is logged', async () => {
    class NoComplete extends MemoryDurableStore {
      override complete(): Promise<void> {
        return Promise.reject(new Error('ProvisionedThroughputExceededException'));
      }
    }
    const { runner, batch, handled, capture } = setup({ idempotency: new LruIdempotencyStore(10), durable: new NoComplete() });
    const record = item(ID, batch);
    await runner.start(record);
    expect(handled).toEqual([ID]);
    expect(record.status).toBe(ItemStatus.Done);
    expect(capture.find('idempotency store could not mark a handled event completed; a redelivery after the claim lease will run it again')).toEqual([
      expect.objectContaining({ eventId: ID, level: 'error' }),
    ]);
  });

  it('a handler failure releases the claim; a release that fails is logged and the record is still retried', async () => {
    class NoRelease extends MemoryDurableStore {
      override release(): Promise<void> {
        return Promise.reject(new Error('timeout'));
      }
    }
    const durable = new NoRelease();
    const { runner, batch, capture } = setup({ idempotency: new LruIdempotencyStore(10), durable, step: () => Promise.reject(new Error('downstream 503')) });
    const record = item(ID, batch);
    await runner.start(record);
    expect(record.status).toBe(ItemStatus.Retry);
    expect(record.transient).toBe('handler-error');
    expect(capture.find('idempotency claim could not be released; a redelivery takes it over after its lease')).toEqual([
      expect.objectContaining({ eventId: ID, level: 'warn' }),
    ]);
  });

  it('a claim made without a Lambda context holds for the Lambda maximum timeout (15 minutes)', async () => {
    const leases: number[] = [];
    class Recording extends MemoryDurableStore {
      override claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
        leases.push(leaseMs);
        return super.claim(eventId, leaseMs);
      }
    }
    expect(DEFAULT_CLAIM_LEASE_MS).toBe(900_000);
    const { runner, batch } = setup({ idempotency: new LruIdempotencyStore(10), durable: new Recording() });
    await runner.start(item(ID, batch));
    const withLease = setup({ idempotency: new LruIdempotencyStore(10), durable: new Recording() });
    withLease.batch.leaseMs = 4321;
    await withLease.runner.start(item(ID, withLease.batch));
    expect(leases).toEqual([900_000, 4321]);
  });

  it('the invocation answered while the claim was on the wire: the claim is released, the handler never runs, the record is retried', async () => {
    const released: string[] = [];
    class Slow extends MemoryDurableStore {
      gate!: () => void;
      override async claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
        await new Promise<void>((r) => (this.gate = r));
        return super.claim(eventId, leaseMs);
      }
      override release(claim: EventClaim): Promise<void> {
        released.push(claim.eventId);
        return super.release(claim);
      }
    }
    const durable = new Slow();
    const { runner, batch, handled } = setup({ idempotency: new LruIdempotencyStore(10), durable });
    const record = item(ID, batch);
    const running = runner.start(record)!;
    await Promise.resolve();
    batch.closed = true; // the timeout guard answered the invocation
    durable.gate();
    await running;
    expect(handled).toEqual([]);
    expect(released).toEqual([ID]);
    expect(record.status).toBe(ItemStatus.Retry);
    expect(record.transient).toBe('not-started');
    // Released: a redelivery can claim it at once.
    expect((await MemoryDurableStore.prototype.claim.call(durable, ID, 1000)).outcome).toBe('claimed');
  });

  it('an id still running waits; if the invocation answered meanwhile, the waiting record is not started but retried', async () => {
    let finish!: () => void;
    const calls: string[] = [];
    const step: EventStep = (event) => {
      calls.push(event.id);
      return calls.length === 1 ? new Promise<void>((r) => (finish = r)) : undefined;
    };
    const { runner } = setup({ idempotency: new LruIdempotencyStore(10), step });
    const log = createLogger({ name: 't', destination: new LogCapture() });
    const first: BatchInfo = { shardId: 'shardId-000000000000', log };
    const second: BatchInfo = { shardId: 'shardId-000000000000', log };
    const a = item(ID, first);
    const b = item(ID, second); // the same event on another key (or a redelivery), while `a` runs
    const runningA = runner.start(a)!;
    const runningB = runner.start(b)!;
    expect(b.status).toBe(ItemStatus.Running);
    second.closed = true;
    finish();
    await runningA;
    await runningB;
    expect(calls).toEqual([ID]);
    expect(a.status).toBe(ItemStatus.Done);
    expect(b.status).toBe(ItemStatus.Retry);
    expect(b.transient).toBe('not-started');
  });

  it('an id still running waits, then counts as the duplicate it is once the first execution succeeded', async () => {
    let finish!: () => void;
    const calls: string[] = [];
    const step: EventStep = (event) => {
      calls.push(event.id);
      return new Promise<void>((r) => (finish = r));
    };
    const { runner, batch } = setup({ idempotency: new LruIdempotencyStore(10), step });
    const a = item(ID, batch);
    const b = item(ID, batch);
    const runningA = runner.start(a)!;
    const runningB = runner.start(b)!;
    finish();
    await Promise.all([runningA, runningB]);
    expect(calls).toEqual([ID]);
    expect(a.status).toBe(ItemStatus.Done);
    expect(b.status).toBe(ItemStatus.Duplicate);
  });

  it('an event another container completed is remembered in the first level: its next redelivery here asks the durable store no more', async () => {
    const claims: string[] = [];
    class Counting extends MemoryDurableStore {
      override claim(eventId: string, leaseMs: number): Promise<EventClaimResult> {
        claims.push(eventId);
        return super.claim(eventId, leaseMs);
      }
    }
    const durable = new Counting();
    const other = await durable.claim(ID, 1000); // another container handled it
    if (other.outcome !== 'claimed') throw new Error('setup');
    await durable.complete(other.claim);
    const { runner, batch, handled } = setup({ idempotency: new LruIdempotencyStore(10), durable });
    const first = item(ID, batch);
    await runner.start(first);
    const again = item(ID, batch);
    await runner.start(again);
    expect(handled).toEqual([]);
    expect([first.status, again.status]).toEqual([ItemStatus.Duplicate, ItemStatus.Duplicate]);
    expect(claims).toEqual([ID, ID]); // the setup's own claim, then one from this container: not two
  });
});
