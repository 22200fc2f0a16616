/**
 * Append-only NDJSON files of the local data folder. Each line is written with one append call in
 * order (a queue per file), so concurrent writers never interleave half lines, a crash loses at
 * most the line being written, and a failed append (disk full) leaves no torn line (append-whole-lines.ts).
 */
import { appendWholeLines } from '../consumers/runtime/append-whole-lines';

export class NdjsonFile {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  append(value: unknown): Promise<void> {
    return this.appendText(`${JSON.stringify(value)}\n`);
  }

  appendText(text: string): Promise<void> {
    const write = this.tail.then(() => appendWholeLines(this.path, text));
    // Keep the chain alive after a failure; the caller of this write still sees the error.
    this.tail = write.catch(() => undefined);
    return write;
  }

  /** Resolves when every write queued so far is on disk. */
  flush(): Promise<void> {
    return this.tail;
  }
}
