/**
 * Remembers which windows were published, so a retried final invoke does not publish twice.
 *
 * Lambda retries a failed final invoke with the state it passed before (the state the failed invoke
 * returned is lost), so a marker in the window state alone cannot tell "published, then the invoke
 * failed". The ledger lives outside the state: a publisher claims the window key before writing and
 * releases it if the write fails. A claim that is never released means "published (or being published)".
 */
import { createHash } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PublishLedger {
  /** True when the caller now owns the key; false when it was already claimed (published). */
  claim(windowKey: string): Promise<boolean>;
  /** Gives a claim back after a failed write, so a retry can publish. */
  release(windowKey: string): Promise<void>;
}

/**
 * Per container (Lambda sandbox) memory, bounded: covers a retry that lands on the same warm sandbox,
 * not one on a new sandbox. The fallback when no ledger table is configured; deployed stacks use
 * DynamoDbPublishLedger (dynamodb-publish-ledger.ts).
 */
export class InMemoryPublishLedger implements PublishLedger {
  private readonly keys = new Set<string>();

  constructor(private readonly maxEntries = 1024) {}

  async claim(windowKey: string): Promise<boolean> {
    if (this.keys.has(windowKey)) return false;
    this.keys.add(windowKey);
    // Sets iterate in insertion order: the first key is the oldest claim.
    if (this.keys.size > this.maxEntries) this.keys.delete(this.keys.values().next().value!);
    return true;
  }

  async release(windowKey: string): Promise<void> {
    this.keys.delete(windowKey);
  }
}

/**
 * One marker file per window, created with O_EXCL ('wx'): atomic across processes, so it holds when the
 * local runner replaces a crashed or timed-out worker, and survives runner restarts.
 */
export class FilePublishLedger implements PublishLedger {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly directory: string) {}

  async claim(windowKey: string): Promise<boolean> {
    this.ready ??= mkdir(this.directory, { recursive: true });
    await this.ready;
    try {
      await writeFile(this.markerPath(windowKey), `${windowKey}\n`, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async release(windowKey: string): Promise<void> {
    await unlink(this.markerPath(windowKey)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Window keys contain ARNs ("|", ":", "/"): hash them into a portable file name. */
  private markerPath(windowKey: string): string {
    return join(this.directory, `${createHash('sha256').update(windowKey).digest('hex')}.published`);
  }
}
