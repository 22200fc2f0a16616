/**
 * Writes a mapping's progress to its CheckpointStore, coalesced: a change schedules one write
 * `delayMs` later that takes a fresh snapshot, so a burst of checkpoints costs one write; writes never
 * overlap; `flush()` (on stop) writes whatever changed since. A failed write is logged, counted
 * (`health()`: the runner's view, summary and exit code show it) and retried after `retryDelayMs`
 * even if nothing changes meanwhile: until a write succeeds, a restart would process again every
 * record checkpointed since the last stored write.
 */
import type { Logger } from '../../telemetry/logger';
import type { CheckpointStore, MappingIdentity, MappingProgress } from './checkpoint-store';

/** How the checkpoint writes of one mapping are going. */
export interface CheckpointWriteHealth {
  writes: number;
  failedWrites: number;
  /** Message of the last failed write (kept after a later success: it happened). */
  lastError?: string;
  /** Progress not stored yet because writes fail (since `unsavedSince`, ISO-8601). */
  unsavedSince?: string;
}

export class ProgressRecorder {
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly counts: CheckpointWriteHealth = { writes: 0, failedWrites: 0 };
  private failingSince: Date | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly identity: MappingIdentity,
    private readonly snapshot: () => MappingProgress,
    private readonly delayMs: number,
    private readonly logger: Logger,
    private readonly retryDelayMs: number = Math.max(1000, delayMs * 5),
  ) {}

  health(): CheckpointWriteHealth {
    return { ...this.counts, ...(this.failingSince !== undefined ? { unsavedSince: this.failingSince.toISOString() } : {}) };
  }

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
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.timer = undefined;
    this.retryTimer = undefined;
    return this.writeIfDirty();
  }

  private writeIfDirty(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.store.save(this.identity, this.snapshot());
        this.counts.writes += 1;
        if (this.failingSince !== undefined) this.logger.info({ since: this.failingSince.toISOString() }, 'checkpoints written again');
        this.failingSince = undefined;
      } catch (error) {
        this.dirty = true;
        this.counts.failedWrites += 1;
        this.counts.lastError = (error as Error).message;
        this.failingSince ??= new Date();
        this.logger.warn({ err: error }, 'writing the checkpoints failed; retrying (a restart now would process again what was checkpointed since the last write)');
        this.retryTimer ??= setTimeout(() => {
          this.retryTimer = undefined;
          void this.writeIfDirty();
        }, this.retryDelayMs);
        this.retryTimer.unref?.();
      }
    });
    return this.chain;
  }
}
