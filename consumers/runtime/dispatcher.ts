/**
 * Rule 5 (ordering) and rule 7 (timeout guard) scheduling.
 *
 * Records with the same partition key run strictly in batch order (= sequence order: a batch is one
 * shard's records in order, "Lambda with Kinesis"); different keys run concurrently up to a limit.
 * After a transient failure on a key, that key's later records are not started.
 *
 * Fast path: records are expanded, decoded and run one at a time in batch order; while nothing is in
 * flight and no key has failed there is no per-key bookkeeping at all (a Map entry exists only for a
 * key with a record in flight or a failure), and a finished record is handed to `settle` and dropped,
 * so a batch keeps no per-record state alive (what the garbage collector would otherwise have to copy).
 */
import { ItemStatus, type RecordItem } from './record-item';

export interface DispatchHooks {
  /** The items of Kinesis record `index`: one, or the user records of an aggregate. */
  expand(index: number): RecordItem | RecordItem[];
  /**
   * Start one record. Returns undefined when it finished synchronously (its status tells how), or a
   * promise that resolves when it has finished (a rejection means a runtime bug).
   */
  start(item: RecordItem): Promise<void> | undefined;
  /** True when no further record may start (the timeout guard). */
  shouldStop(): boolean;
  /** A record reached its outcome for this dispatch (Done, Duplicate, ToQuarantine or Retry). */
  settle(item: RecordItem): void;
}

interface Lane {
  failed: boolean;
  /** The key's record in flight. */
  running: RecordItem | undefined;
  /** The key's records waiting behind it (linked through `item.next`). */
  head: RecordItem | undefined;
  tail: RecordItem | undefined;
}

/** What was never reached when the dispatch stopped or the deadline cut it short. */
export interface Unsettled {
  /** Records in flight or queued behind one (the deadline came first). */
  readonly items: RecordItem[];
  /** Index of the first Kinesis record never expanded, if any; every later one is unstarted too. */
  readonly firstUnexpandedRecord: number | undefined;
}

export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private inFlight = 0;
  private stopped = false;
  private started = false;
  private slotWaiter: (() => void) | undefined;
  private drainWaiter: (() => void) | undefined;
  private fatal: unknown = undefined;
  private hasFatal = false;
  /** Next record to expand, and the item waiting for a slot (for `unsettled` at the deadline). */
  private cursor = 0;
  private waiting: RecordItem | undefined;
  private waitingRest: RecordItem[] | undefined;
  private waitingRestFrom = 0;
  /** User records expanded so far. */
  itemsSeen = 0;

  constructor(
    private readonly recordCount: number,
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
    const { hooks } = this;
    for (let i = 0; i < this.recordCount; i++) {
      this.cursor = i;
      if (this.stopped) break;
      const expanded = hooks.expand(i);
      this.cursor = i + 1;
      if (!Array.isArray(expanded)) {
        this.itemsSeen += 1;
        if (this.place(expanded)) await this.startWhenFree(expanded, undefined, 0);
        continue;
      }
      this.itemsSeen += expanded.length;
      for (let j = 0; j < expanded.length; j++) {
        const item = expanded[j]!;
        if (this.stopped) {
          this.notStarted(item);
          continue;
        }
        if (this.place(item)) await this.startWhenFree(item, expanded, j + 1);
      }
    }
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drainWaiter = resolve));
    if (this.hasFatal) throw this.fatal;
  }

  /** Records not settled, for the response when the deadline cut the dispatch short (or after it stopped). */
  unsettled(): Unsettled {
    const items: RecordItem[] = [];
    for (const lane of this.lanes.values()) {
      if (lane.running !== undefined && !isSettled(lane.running)) items.push(lane.running);
      for (let q = lane.head; q !== undefined; q = q.next) items.push(q);
    }
    if (this.waiting !== undefined) items.push(this.waiting);
    if (this.waitingRest !== undefined) for (let j = this.waitingRestFrom; j < this.waitingRest.length; j++) items.push(this.waitingRest[j]!);
    return { items, firstUnexpandedRecord: this.cursor < this.recordCount ? this.cursor : undefined };
  }

  /**
   * Route one item: settle it when it is already decided, queue it behind its key, or start it.
   * Returns true when it must wait for a free slot first.
   */
  private place(item: RecordItem): boolean {
    if (item.status !== ItemStatus.Pending) {
      this.hooks.settle(item); // failed while expanding (corrupt aggregate): waits for quarantine
      return false;
    }
    if (this.lanes.size > 0) {
      const lane = this.lanes.get(item.partitionKey);
      if (lane !== undefined) {
        if (lane.failed) this.blocked(item);
        else if (lane.tail === undefined) lane.head = lane.tail = item;
        else lane.tail = lane.tail.next = item;
        return false;
      }
    }
    if (this.inFlight >= this.concurrency) return true;
    this.startNow(item);
    return false;
  }

  private async startWhenFree(item: RecordItem, rest: RecordItem[] | undefined, restFrom: number): Promise<void> {
    this.waiting = item;
    this.waitingRest = rest;
    this.waitingRestFrom = restFrom;
    while (this.inFlight >= this.concurrency) {
      await new Promise<void>((resolve) => (this.slotWaiter = resolve));
      if (this.hasFatal) throw this.fatal;
    }
    this.waiting = undefined;
    this.waitingRest = undefined;
    this.startNow(item);
  }

  private startNow(item: RecordItem): void {
    // Rule 7: never start a record too close to the deadline (but always start one, so a too-large
    // margin cannot stall the shard forever).
    if (this.stopped || (this.started && this.hooks.shouldStop())) {
      this.stopped = true;
      this.notStarted(item);
      return;
    }
    this.started = true;
    const pending = this.hooks.start(item);
    if (pending === undefined) {
      this.finishedSync(item, undefined);
      return;
    }
    this.inFlight += 1;
    item.pending = pending;
    this.lanes.set(item.partitionKey, { failed: false, running: item, head: undefined, tail: undefined });
    pending.then(
      () => this.settledSafely(item),
      (error: unknown) => this.crash(error),
    );
  }

  /** A record finished without going async. */
  private finishedSync(item: RecordItem, lane: Lane | undefined): void {
    this.hooks.settle(item);
    if (item.status === ItemStatus.Retry) this.failKey(item.partitionKey, lane);
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
    lane.running = undefined;
    this.hooks.settle(item);
    let current = item;
    for (;;) {
      if (current.status === ItemStatus.Retry) {
        this.failKey(current.partitionKey, lane);
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
        this.notStarted(next);
        for (let rest = lane.head; rest !== undefined; rest = rest.next) this.notStarted(rest);
        lane.head = lane.tail = undefined;
        this.lanes.delete(item.partitionKey);
        break;
      }
      const pending = this.hooks.start(next);
      if (pending !== undefined) {
        // The key keeps its slot while its next record runs.
        lane.running = next;
        next.pending = pending;
        pending.then(
          () => this.settledSafely(next),
          (error: unknown) => this.crash(error),
        );
        return;
      }
      this.hooks.settle(next);
      current = next;
    }
    this.release();
  }

  /** Remember a failed key and block its queued records. */
  private failKey(key: string, existing: Lane | undefined): void {
    const lane = existing ?? { failed: true, running: undefined, head: undefined, tail: undefined };
    lane.failed = true;
    const queued = lane.head;
    lane.head = lane.tail = undefined;
    this.lanes.set(key, lane);
    for (let rest = queued; rest !== undefined; ) {
      const next = rest.next;
      rest.next = undefined;
      this.blocked(rest);
      rest = next;
    }
    if (this.stopAllOnFailure) this.stopped = true;
  }

  private blocked(item: RecordItem): void {
    item.status = ItemStatus.Retry;
    item.transient = 'blocked-by-earlier-failure';
    this.hooks.settle(item);
  }

  private notStarted(item: RecordItem): void {
    item.status = ItemStatus.Retry;
    item.transient = 'not-started';
    this.hooks.settle(item);
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

function isSettled(item: RecordItem): boolean {
  return item.status !== ItemStatus.Pending && item.status !== ItemStatus.Running;
}
