/**
 * Ordered mode's gate: a record is not placed while a Kinesis record holding an earlier record of
 * the same partition key is unacknowledged (PutRecords does not guarantee order, and a retried entry
 * could land after a later one). Held records are released in put order when the key is clear.
 */
import { Fifo } from './fifo';
import type { Entry, UserRecord } from './records';

export class KeyOrderGate {
  private readonly outstanding = new Map<string, number>();
  private readonly waiting = new Map<string, Fifo<UserRecord>>();

  /** `place` returns false when it could not place the record (see RecordPacker.place). */
  constructor(private readonly place: (record: UserRecord) => boolean) {}

  isOutstanding(key: string): boolean {
    return this.outstanding.has(key);
  }

  /** A new record, in put order. */
  route(record: UserRecord): void {
    const key = record.partitionKey;
    const queue = this.waiting.get(key);
    if (queue) {
      queue.push(record);
      return;
    }
    if (this.outstanding.has(key) || !this.place(record)) {
      const q = new Fifo<UserRecord>();
      q.push(record);
      this.waiting.set(key, q);
    }
  }

  /** A Kinesis record was sealed: its keys are unacknowledged until it settles. */
  sealed(entry: Entry): void {
    for (const key of entry.keys) this.outstanding.set(key, (this.outstanding.get(key) ?? 0) + 1);
  }

  /** A Kinesis record settled (written or finally rejected): release its keys' next records. */
  settled(entry: Entry): void {
    for (const key of entry.keys) {
      const n = (this.outstanding.get(key) ?? 1) - 1;
      if (n > 0) {
        this.outstanding.set(key, n);
        continue;
      }
      this.outstanding.delete(key);
      const queue = this.waiting.get(key);
      if (!queue) continue;
      for (let r = queue.peek(); r !== undefined && !this.outstanding.has(key); r = queue.peek()) {
        if (!this.place(r)) break;
        queue.shift();
      }
      if (queue.length === 0) this.waiting.delete(key);
    }
  }
}
