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
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
