/**
 * Writes a mapping's progress to its CheckpointStore, coalesced: a change schedules one write
 * `delayMs` later that takes a fresh snapshot, so a burst of checkpoints costs one write; writes never
 * overlap; `flush()` (on stop) writes whatever changed since. A failed write is logged and retried
 * with the next write (the records after the stored checkpoint would at worst be processed again).
 */
import type { Logger } from '../../telemetry/logger';
import type { CheckpointStore, MappingIdentity, MappingProgress } from './checkpoint-store';

export class ProgressRecorder {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: CheckpointStore,
    private readonly identity: MappingIdentity,
    private readonly snapshot: () => MappingProgress,
    private readonly delayMs: number,
    private readonly logger: Logger,
  ) {}

  changed(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeIfDirty();
    }, this.delayMs);
  }

  /** Write pending progress now; resolves when it is stored (or the write failed and was logged). */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.writeIfDirty();
  }

  private writeIfDirty(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.store.save(this.identity, this.snapshot());
      } catch (error) {
        this.dirty = true;
        this.logger.warn({ err: error }, 'writing the checkpoints failed; will retry with the next change or at stop');
      }
    });
    return this.chain;
  }
}
