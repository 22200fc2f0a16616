/**
 * Rewrites a JSON file atomically: a unique temp file beside it, fsync'd, then renamed over it, so a
 * reader (or a restart after a crash) sees the old file or the new one, never half of either.
 */
import { open, rename, unlink } from 'node:fs/promises';

let tempCounter = 0;

export async function writeJsonFileAtomically(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  const handle = await open(temp, 'w');
  try {
    try {
      await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // A failed write (ENOSPC, EROFS, EIO) leaves no temp file behind: the old file stays as it was.
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
