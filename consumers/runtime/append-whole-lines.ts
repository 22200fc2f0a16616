/**
 * Appends complete lines to an NDJSON file, never leaving a torn line behind, for every local
 * effect file (quarantine, on-failure, metrics, review requests).
 *
 * `fs.appendFile` on a full disk (ENOSPC) or a failing device can write part of its text and then
 * fail; the caller retries, and the retried line is glued onto the partial one: both become one line
 * that no reader can parse. Here:
 * - the text is written with O_APPEND in a loop that knows how many bytes went out;
 * - a failed append takes its partial bytes back (ftruncate to the size before), when no other
 *   process appended meanwhile (the file is exactly "before + our bytes"), then rethrows so the
 *   caller retries as before;
 * - when the file does not end with a newline (a torn tail left by a process killed mid-write, or an
 *   earlier failure that could not be taken back), the append starts with one: the fragment stays a
 *   line of its own (readers report it as unreadable) and the new line is intact.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

const NEWLINE = 0x0a;

export async function appendWholeLines(path: string, text: string): Promise<void> {
  if (text.length === 0) return;
  const body = text.endsWith('\n') ? text : `${text}\n`;
  let handle;
  try {
    handle = await open(path, 'a+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    handle = await open(path, 'a+');
  }
  try {
    const before = (await handle.stat()).size;
    let prefix = '';
    if (before > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, before - 1);
      if (last[0] !== NEWLINE) prefix = '\n';
    }
    const bytes = Buffer.from(prefix + body, 'utf8');
    let written = 0;
    try {
      while (written < bytes.length) {
        // O_APPEND: the position is ignored, every write goes to the current end.
        const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
    } catch (error) {
      if (written > 0) {
        const now = (await handle.stat().catch(() => undefined))?.size;
        if (now === before + written) await handle.truncate(before).catch(() => undefined);
      }
      throw error;
    }
  } finally {
    await handle.close();
  }
}
