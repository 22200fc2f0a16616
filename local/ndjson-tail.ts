/**
 * Follows an NDJSON file that others append to (quarantine and metrics files written by the
 * consumers): each `read()` returns the complete lines appended since the last one, parsed. Call
 * `skipExisting()` first so lines of earlier runs are not counted again.
 */
import { LineTail } from './line-tail';

export class NdjsonTail {
  private readonly lines: LineTail;
  /** Lines that are not JSON (torn or foreign): counted and kept as a sample, never skipped silently. */
  unreadable = 0;
  lastUnreadable: string | undefined;

  constructor(readonly path: string) {
    this.lines = new LineTail(path);
  }

  /** Skip what the file already holds (call once, before the run writes to it). */
  skipExisting(): Promise<void> {
    return this.lines.skipExisting();
  }

  async read(): Promise<unknown[]> {
    const values: unknown[] = [];
    for (const line of await this.lines.read()) {
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
