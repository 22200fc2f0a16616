/**
 * The shard checkpoint (pure): the highest sequence number up to which every record read is done
 * (processed, filtered out or discarded). With ParallelizationFactor > 1 lanes finish out of order;
 * the checkpoint only moves over a contiguous prefix, as Lambda's shard checkpoint does.
 */
export class CheckpointTracker {
  private readonly order: string[] = [];
  private head = 0;
  private readonly done = new Set<string>();
  private current: string | undefined;

  /** Register records in read (sequence) order. */
  track(sequenceNumbers: readonly string[]): void {
    for (const sequenceNumber of sequenceNumbers) this.order.push(sequenceNumber);
  }

  /** Mark records done; returns the new checkpoint when it moved. */
  complete(sequenceNumbers: readonly string[]): string | undefined {
    for (const sequenceNumber of sequenceNumbers) this.done.add(sequenceNumber);
    const before = this.current;
    while (this.head < this.order.length) {
      const next = this.order[this.head] as string;
      if (!this.done.has(next)) break;
      this.done.delete(next);
      this.current = next;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return this.current !== before ? this.current : undefined;
  }

  get checkpoint(): string | undefined {
    return this.current;
  }

  /** Records tracked but not done. */
  get pending(): number {
    return this.order.length - this.head - this.done.size;
  }
}
