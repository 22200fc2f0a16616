/**
 * Follows an NDJSON file that others append to (quarantine and metrics files written by the
 * consumers): each `read()` returns the complete lines appended since the last one, parsed. Call
 * `skipExisting()` first so lines of earlier runs are not counted again.
 */
import { LineTail } from './line-tail';

export class NdjsonTail {
  private readonly lines: LineTail;

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
        // A foreign or damaged line: not ours to interpret.
      }
    }
    return values;
  }
}
