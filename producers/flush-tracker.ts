/**
 * Which records a `flush()` waits for: every record put before it. Records carry the epoch they were
 * put in; a flush closes the current epoch and resolves once no record of it or an earlier one is pending.
 */
export class FlushTracker {
  private epoch = 0;
  private readonly pendingByEpoch = new Map<number, number>();
  private waiters: { epoch: number; resolve: () => void }[] = [];

  /** Epoch of records put now. */
  get current(): number {
    return this.epoch;
  }

  /** Waiting flushes. */
  get flushing(): number {
    return this.waiters.length;
  }

  add(epoch: number): void {
    this.pendingByEpoch.set(epoch, (this.pendingByEpoch.get(epoch) ?? 0) + 1);
  }

  settle(epoch: number): void {
    const n = (this.pendingByEpoch.get(epoch) ?? 1) - 1;
    if (n > 0) {
      this.pendingByEpoch.set(epoch, n);
      return;
    }
    this.pendingByEpoch.delete(epoch);
    if (this.waiters.length === 0) return;
    const remaining: { epoch: number; resolve: () => void }[] = [];
    for (const w of this.waiters) {
      if (this.hasPendingUpTo(w.epoch)) remaining.push(w);
      else w.resolve();
    }
    this.waiters = remaining;
  }

  /** Close the current epoch; resolves when everything put so far settled. */
  flush(): Promise<void> {
    const epoch = this.epoch++;
    if (!this.hasPendingUpTo(epoch)) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push({ epoch, resolve }));
  }

  private hasPendingUpTo(epoch: number): boolean {
    // Epochs enter the map in increasing order and leave it when drained: the first key is the oldest.
    for (const pending of this.pendingByEpoch.keys()) return pending <= epoch;
    return false;
  }
}
