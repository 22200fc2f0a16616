/**
 * Append-only NDJSON files of the local data folder. Each line is written with one append call in
 * order (a queue per file), so concurrent writers never interleave half lines and a crash loses at
 * most the line being written.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export class NdjsonFile {
  private tail: Promise<void> = Promise.resolve();
  private dirReady: Promise<unknown> | undefined;

  constructor(readonly path: string) {}

  append(value: unknown): Promise<void> {
    return this.appendText(`${JSON.stringify(value)}\n`);
  }

  appendText(text: string): Promise<void> {
    this.dirReady ??= mkdir(dirname(this.path), { recursive: true });
    const write = this.tail.then(async () => {
      await this.dirReady;
      await appendFile(this.path, text, 'utf8');
    });
    // Keep the chain alive after a failure; the caller of this write still sees the error.
    this.tail = write.catch(() => undefined);
    return write;
  }

  /** Resolves when every write queued so far is on disk. */
  flush(): Promise<void> {
    return this.tail;
  }
}
