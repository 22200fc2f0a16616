/**
 * Dispatcher (consumers/runtime/dispatcher.ts) with scripted hooks: rule 5 (a key's records in batch
 * order, none after a failure of the key) and rule 7 (the timeout guard: no record starts once the
 * deadline is near, but always at least one), concurrency, aggregates and a runtime bug. Each case
 * states which record started, which were settled how, and in which order.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatchHooks } from '../../consumers/runtime/dispatcher';
import { ItemStatus, RecordItem, type BatchInfo } from '../../consumers/runtime/record-item';
import { createLogger } from '../../telemetry/logger';
import { LogCapture } from './helpers';

const batch: BatchInfo = { shardId: 'shardId-000000000000', log: createLogger({ name: 'dispatcher-test', destination: new LogCapture() }) };

function item(name: string): RecordItem {
  const key = name[0]!; // "A1" -> key "A"
  const source = { eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders', kinesis: { sequenceNumber: name, partitionKey: key } } as unknown as KinesisStreamRecord;
  return new RecordItem(source, name, key, batch, undefined);
}

interface Deferred {
  resolve(status: ItemStatus): void;
  reject(error: unknown): void;
}

/**
 * Records named "<key><n>"; `sync` names finish synchronously with the given status, every other
 * record runs until the test resolves it. A record given as an array is an aggregate's user records.
 */
function script(records: (string | string[])[], options: { sync?: Record<string, ItemStatus>; stopAfterStarts?: number } = {}) {
  const items = new Map<string, RecordItem>();
  const expanded = records.map((r) => (Array.isArray(r) ? r.map((n) => item(n)) : item(r)));
  for (const e of expanded) for (const i of Array.isArray(e) ? e : [e]) items.set(i.sequenceNumber, i);
  const started: string[] = [];
  const settled: string[] = [];
  const running = new Map<string, Deferred>();
  const hooks: DispatchHooks = {
    expand: (index) => expanded[index]!,
    start: (it) => {
      started.push(it.sequenceNumber);
      const sync = options.sync?.[it.sequenceNumber];
      if (sync !== undefined) {
        it.status = sync;
        return undefined;
      }
      it.status = ItemStatus.Running;
      return new Promise<void>((resolve, reject) => {
        running.set(it.sequenceNumber, {
          resolve: (status) => {
            it.status = status;
            resolve();
          },
          reject,
        });
      });
    },
    shouldStop: () => options.stopAfterStarts !== undefined && started.length >= options.stopAfterStarts,
    settle: (it) => void settled.push(`${it.sequenceNumber}:${ItemStatus[it.status]}${it.transient ? `(${it.transient})` : ''}`),
  };
  const tick = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { hooks, items, started, settled, running, tick };
}

describe('Dispatcher: rule 5, a key in order and nothing after its failure', () => {
  it('runs a key one record at a time in batch order, other keys alongside, up to the concurrency', async () => {
    const s = script(['A1', 'A2', 'B1', 'C1', 'A3']);
    const d = new Dispatcher(5, 2, false, s.hooks);
    const run = d.run();
    await s.tick();
    // A1 and B1 run (2 slots); A2 waits behind A1; C1 waits for a slot, and so does everything after it.
    expect(s.started).toEqual(['A1', 'B1']);
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await s.tick();
    expect(s.started).toEqual(['A1', 'B1', 'A2']); // the key keeps its slot for its next record
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await s.tick();
    expect(s.started).toEqual(['A1', 'B1', 'A2', 'C1']);
    s.running.get('A2')!.resolve(ItemStatus.Done);
    s.running.get('C1')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('A3')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1', 'B1', 'A2', 'C1', 'A3']);
    expect(s.settled).toEqual(['A1:Done', 'B1:Done', 'A2:Done', 'C1:Done', 'A3:Done']);
  });

  it('a failed record blocks the records of its key queued behind it; other keys go on', async () => {
    const s = script(['A1', 'A2', 'B1', 'A3']);
    const d = new Dispatcher(4, 4, false, s.hooks);
    const run = d.run();
    await s.tick();
    expect(s.started).toEqual(['A1', 'B1']);
    s.running.get('A1')!.resolve(ItemStatus.Retry);
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1', 'B1']);
    expect(s.settled).toEqual(['A1:Retry', 'A2:Retry(blocked-by-earlier-failure)', 'A3:Retry(blocked-by-earlier-failure)', 'B1:Done']);
  });

  it('a key that failed synchronously blocks its records that arrive later in the batch', async () => {
    const s = script(['A1', 'B1', 'A2', 'A3'], { sync: { A1: ItemStatus.Retry, B1: ItemStatus.Done } });
    const d = new Dispatcher(4, 1, false, s.hooks);
    await d.run();
    expect(s.started).toEqual(['A1', 'B1']);
    expect(s.settled).toEqual(['A1:Retry', 'B1:Done', 'A2:Retry(blocked-by-earlier-failure)', 'A3:Retry(blocked-by-earlier-failure)']);
  });

  it('a failure after the key continued synchronously still blocks the rest of the key', async () => {
    // A1 async; A2 and A3 queued; A2 then fails synchronously when the key continues.
    const s = script(['A1', 'A2', 'A3', 'A4'], { sync: { A2: ItemStatus.Retry } });
    const d = new Dispatcher(4, 2, false, s.hooks);
    const run = d.run();
    await s.tick();
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1', 'A2']);
    expect(s.settled).toEqual(['A1:Done', 'A2:Retry', 'A3:Retry(blocked-by-earlier-failure)', 'A4:Retry(blocked-by-earlier-failure)']);
  });

  it('with stopAllOnFailure (tumbling windows) nothing starts after the first failure, whatever its key', async () => {
    const s = script(['A1', 'B1', 'C1'], { sync: { A1: ItemStatus.Retry } });
    const d = new Dispatcher(3, 4, true, s.hooks);
    await d.run();
    expect(s.started).toEqual(['A1']);
    expect(d.unsettled().firstUnexpandedRecord).toBe(1);
  });

  it('a key that finished leaves no lane behind: its next record later in the batch starts normally', async () => {
    const s = script(['A1', 'B1', 'A2']);
    const d = new Dispatcher(3, 1, false, s.hooks);
    const run = d.run();
    await s.tick();
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('A2')!.resolve(ItemStatus.Done);
    await run;
    expect(s.settled).toEqual(['A1:Done', 'B1:Done', 'A2:Done']);
  });

  it('a queue drained to its last record and refilled keeps batch order (the lane tail is reset)', async () => {
    const s = script(['A1', 'A2', 'B1', 'A3'], {});
    const d = new Dispatcher(4, 2, false, s.hooks);
    const run = d.run();
    await s.tick();
    expect(s.started).toEqual(['A1', 'B1']); // A2 queued; A3 queued behind A2
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('A2')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('A3')!.resolve(ItemStatus.Done);
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1', 'B1', 'A2', 'A3']);
  });
});

describe('Dispatcher: rule 7, the timeout guard', () => {
  it('always starts the first record, even when the deadline is already near', async () => {
    const s = script(['A1', 'B1'], { sync: { A1: ItemStatus.Done, B1: ItemStatus.Done }, stopAfterStarts: 0 });
    await new Dispatcher(2, 4, false, s.hooks).run();
    expect(s.started).toEqual(['A1']);
    expect(s.settled).toEqual(['A1:Done', 'B1:Retry(not-started)']);
  });

  it('starts nothing once the guard says stop: later keys, a key continuing, and user records of an aggregate', async () => {
    const s = script(['A1', 'A2', ['B1', 'C1']], { stopAfterStarts: 2 });
    const d = new Dispatcher(3, 4, false, s.hooks);
    const run = d.run();
    await s.tick();
    expect(s.started).toEqual(['A1', 'B1']);
    s.running.get('A1')!.resolve(ItemStatus.Done); // A2 was queued behind A1: not started now
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1', 'B1']);
    expect(s.settled).toEqual(expect.arrayContaining(['A2:Retry(not-started)', 'C1:Retry(not-started)']));
    expect(s.settled).toHaveLength(4);
  });

  it('stop() (the deadline passed): in-flight records keep running, unexpanded records are reported as such', async () => {
    const s = script(['A1', 'B1', 'C1']);
    const d = new Dispatcher(3, 1, false, s.hooks);
    const run = d.run();
    await s.tick();
    expect(s.started).toEqual(['A1']);
    d.stop();
    const unsettled = d.unsettled();
    expect(unsettled.items.map((i) => i.sequenceNumber)).toEqual(['A1', 'B1']); // A1 running, B1 waiting for a slot
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1']);
    expect(s.settled).toEqual(['A1:Done', 'B1:Retry(not-started)']);
    expect(d.unsettled().firstUnexpandedRecord).toBe(2);
  });

  it('stop() before the user records of an aggregate start: each is reported not started', async () => {
    const s = script(['A1', ['B1', 'C1', 'D1']], { stopAfterStarts: 99 });
    const d = new Dispatcher(2, 1, false, s.hooks);
    const run = d.run();
    await s.tick();
    d.stop();
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await run;
    expect(s.started).toEqual(['A1']);
    expect(s.settled).toEqual(['A1:Done', 'B1:Retry(not-started)', 'C1:Retry(not-started)', 'D1:Retry(not-started)']);
  });
});

describe('Dispatcher: a runtime bug fails the invocation (rule 12)', () => {
  it('a rejected start rejects run() with that error and starts nothing more', async () => {
    const s = script(['A1', 'B1', 'C1']);
    const d = new Dispatcher(3, 1, false, s.hooks);
    const run = d.run();
    await s.tick();
    s.running.get('A1')!.reject(new TypeError('runtime bug'));
    await expect(run).rejects.toThrow('runtime bug');
    expect(s.started).toEqual(['A1']);
  });

  it('a rejection of a key continuing after its first record: the same', async () => {
    const s = script(['A1', 'A2', 'B1']);
    const d = new Dispatcher(3, 2, false, s.hooks);
    const run = d.run();
    await s.tick();
    s.running.get('A1')!.resolve(ItemStatus.Done);
    await s.tick();
    s.running.get('A2')!.reject(new RangeError('second bug'));
    s.running.get('B1')!.resolve(ItemStatus.Done);
    await expect(run).rejects.toThrow('second bug');
  });

  it('the first bug is the one reported', async () => {
    const s = script(['A1', 'B1']);
    const d = new Dispatcher(2, 2, false, s.hooks);
    const run = d.run();
    await s.tick();
    s.running.get('A1')!.reject(new Error('first'));
    await s.tick();
    s.running.get('B1')!.reject(new Error('second'));
    await expect(run).rejects.toThrow('first');
  });
});
