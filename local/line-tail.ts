/**
 * Follows a text file others append to (a function's log, a quarantine or metrics file): each
 * `read()` returns the complete lines appended since the last one (a line still being written waits
 * for its newline); `skipExisting()` starts after what is there. A truncated file is read again from the start.
 */
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export class LineTail {
  private offset = 0;
  private partial = '';
  private decoder = new StringDecoder('utf8');

  constructor(readonly path: string) {}

  async skipExisting(): Promise<void> {
    this.offset = await stat(this.path).then((s) => s.size, () => 0);
  }

  async read(): Promise<string[]> {
    const size = await stat(this.path).then((s) => s.size, () => -1);
    if (size < 0) return [];
    if (size < this.offset) {
      // Truncated or replaced: start over.
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
    return lines.filter((line) => line.trim() !== '');
  }
}
