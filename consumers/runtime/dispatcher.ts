/**
 * Rule 5 (ordering) and rule 7 (timeout guard) scheduling.
 *
 * Records with the same partition key run strictly in batch order (= sequence order: a batch is one
 * shard's records in order, "Lambda with Kinesis"); different keys run concurrently up to a limit.
 * After a transient failure on a key, that key's later records are not started.
 *
 * Fast path: while nothing is in flight and no key has failed, records run straight through in batch
 * order with no per-key bookkeeping at all; a Map entry exists only for a key with a record in flight
 * (async handler) or a failure. A sync handler therefore costs one function call per record.
 */
import { ItemStatus, type RecordItem } from './record-item';

export interface DispatchHooks {
  /**
   * Start one record. Returns undefined when it finished synchronously (its status tells how), or a
   * promise that resolves when it has finished (a rejection means a runtime bug).
   */
  start(item: RecordItem): Promise<void> | undefined;
  /** True when no further record may start (the timeout guard). */
  shouldStop(): boolean;
}

interface Lane {
  failed: boolean;
  head: RecordItem | undefined;
  tail: RecordItem | undefined;
}

function markNotStarted(item: RecordItem): void {
  if (item.status === ItemStatus.Pending) {
    item.status = ItemStatus.Retry;
    item.transient = 'not-started';
  }
}

function markBlocked(item: RecordItem): void {
  if (item.status === ItemStatus.Pending) {
    item.status = ItemStatus.Retry;
    item.transient = 'blocked-by-earlier-failure';
  }
}

export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private inFlight = 0;
  private stopped = false;
  private slotWaiter: (() => void) | undefined;
  private drainWaiter: (() => void) | undefined;
  private fatal: unknown = undefined;
  private hasFatal = false;

  constructor(
    private readonly items: readonly RecordItem[],
    private readonly concurrency: number,
    /** Stop starting anything after the first transient failure (tumbling windows: state must stay contiguous). */
    private readonly stopAllOnFailure: boolean,
    private readonly hooks: DispatchHooks,
  ) {}

  /** Stop starting records (deadline reached); in-flight records keep running. */
  stop(): void {
    this.stopped = true;
  }

  /** Runs every record (or stops early) and resolves when none is in flight. Rejects on a runtime bug. */
  async run(): Promise<void> {
    const { items, lanes, hooks } = this;
    let started = false;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.status !== ItemStatus.Pending) continue; // decode failures wait for quarantine
      if (lanes.size > 0) {
        const lane = lanes.get(item.partitionKey);
        if (lane !== undefined) {
          if (lane.failed) markBlocked(item);
          else if (lane.tail === undefined) lane.head = lane.tail = item;
          else lane.tail = lane.tail.next = item;
          continue;
        }
      }
      while (this.inFlight >= this.concurrency) {
        await new Promise<void>((resolve) => (this.slotWaiter = resolve));
        if (this.hasFatal) throw this.fatal;
      }
      // Rule 7: never start a record too close to the deadline (but always start one, so a
      // too-large margin cannot stall the shard forever).
      if (this.stopped || (started && hooks.shouldStop())) {
        this.stopped = true;
        for (let j = i; j < items.length; j++) markNotStarted(items[j]!);
        break;
      }
      started = true;
      this.runKey(item);
      if (this.stopAllOnFailure && (item.status as ItemStatus) === ItemStatus.Retry) this.stopped = true;
    }
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drainWaiter = resolve));
    if (this.hasFatal) throw this.fatal;
  }

  /** Start `item`, the first record of its key not yet running. */
  private runKey(item: RecordItem): void {
    const pending = this.hooks.start(item);
    if (pending === undefined) {
      if (item.status === ItemStatus.Retry) this.failKey(item.partitionKey, undefined);
      return;
    }
    this.inFlight += 1;
    this.lanes.set(item.partitionKey, { failed: false, head: undefined, tail: undefined });
    pending.then(
      () => this.settledSafely(item),
      (error: unknown) => this.crash(error),
    );
  }

  private settledSafely(item: RecordItem): void {
    try {
      this.settled(item);
    } catch (error) {
      this.crash(error); // a runtime bug while continuing the key: fail the invocation (rule 12)
    }
  }

  /** An async record finished: continue its key, or release its slot. */
  private settled(item: RecordItem): void {
    const lane = this.lanes.get(item.partitionKey)!;
    let current = item;
    for (;;) {
      if (current.status === ItemStatus.Retry) {
        this.failKey(current.partitionKey, lane);
        if (this.stopAllOnFailure) this.stopped = true;
        break;
      }
      const next = lane.head;
      if (next === undefined) {
        this.lanes.delete(item.partitionKey);
        break;
      }
      lane.head = next.next;
      if (lane.head === undefined) lane.tail = undefined;
      next.next = undefined;
      if (this.stopped || this.hooks.shouldStop()) {
        this.stopped = true;
        markNotStarted(next);
        for (let rest = lane.head; rest !== undefined; rest = rest.next) markNotStarted(rest);
        lane.head = lane.tail = undefined;
        this.lanes.delete(item.partitionKey);
        break;
      }
      const pending = this.hooks.start(next);
      if (pending !== undefined) {
        // The key keeps its slot while its next record runs.
        pending.then(
          () => this.settledSafely(next),
          (error: unknown) => this.crash(error),
        );
        return;
      }
      current = next;
    }
    this.release();
  }

  /** Remember a failed key and block its queued records. */
  private failKey(key: string, existing: Lane | undefined): void {
    const lane = existing ?? { failed: true, head: undefined, tail: undefined };
    lane.failed = true;
    for (let rest = lane.head; rest !== undefined; rest = rest.next) markBlocked(rest);
    lane.head = lane.tail = undefined;
    this.lanes.set(key, lane);
    if (this.stopAllOnFailure) this.stopped = true;
  }

  private release(): void {
    this.inFlight -= 1;
    const slot = this.slotWaiter;
    this.slotWaiter = undefined;
    slot?.();
    if (this.inFlight === 0) {
      const drain = this.drainWaiter;
      this.drainWaiter = undefined;
      drain?.();
    }
  }

  private crash(error: unknown): void {
    if (!this.hasFatal) {
      this.hasFatal = true;
      this.fatal = error;
    }
    this.stopped = true;
    this.release();
  }
}
