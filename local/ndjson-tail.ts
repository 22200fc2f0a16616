/**
 * Follows an NDJSON file that others append to (quarantine and metrics files written by the
 * consumers): each `read()` returns the complete lines appended since the last one. It starts at
 * the file's size when created, so lines of earlier runs are not counted again.
 */
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export class NdjsonTail {
  private offset = 0;
  private partial = '';
  private started = false;
  // Keeps a multi-byte character split across two reads whole.
  private decoder = new StringDecoder('utf8');
  /** Lines that are not JSON (torn or foreign): counted and kept as a sample, never skipped silently. */
  unreadable = 0;
  lastUnreadable: string | undefined;

  constructor(readonly path: string) {}

  /** Skip what the file already holds (call once, before the run writes to it). */
  async skipExisting(): Promise<void> {
    this.offset = await stat(this.path).then((s) => s.size, () => 0);
    this.started = true;
  }

  async read(): Promise<unknown[]> {
    if (!this.started) this.started = true;
    const size = await stat(this.path).then((s) => s.size, () => -1);
    if (size < 0) return [];
    if (size < this.offset) {
      // Truncated or replaced by someone: start over.
      this.offset = 0;
      this.partial = '';
      this.decoder = new StringDecoder('utf8');
    }
    if (size === this.offset) return [];
    const handle = await open(this.path, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      text = this.partial + this.decoder.write(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const values: unknown[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        values.push(JSON.parse(line));
      } catch {
        // A damaged (torn) or foreign line: not ours to interpret, but the runner reports it.
        this.unreadable += 1;
        this.lastUnreadable = line.length > 80 ? `${line.slice(0, 80)}...` : line;
      }
    }
    return values;
  }
}
