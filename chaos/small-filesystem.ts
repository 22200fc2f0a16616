/**
 * A small tmpfs the chaos scenarios and the disk-full tests mount to make a folder run out of space
 * (or turn read-only) on schedule. Linux only, and only where the process may mount (root, or a
 * container with CAP_SYS_ADMIN); otherwise `mountSmallFilesystem` answers why not, and the caller
 * skips with that reason printed.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallFilesystem {
  readonly path: string;
  /** Take every free byte (a filler file), so writes fail with ENOSPC. */
  fill(): Promise<void>;
  /** Give the space back (delete the filler). */
  free(): Promise<void>;
  /** Remount read-only (writes fail with EROFS) or read-write again. */
  setReadOnly(readOnly: boolean): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `sizeBytes` at `path` (created). Resolves the handle, or the reason it cannot. */
export async function mountSmallFilesystem(path: string, sizeBytes: number): Promise<SmallFilesystem | { unavailable: string }> {
  if (process.platform !== 'linux') return { unavailable: `tmpfs mounts need Linux (this is ${process.platform})` };
  await mkdir(path, { recursive: true });
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', path]);
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    return { unavailable: `cannot mount a tmpfs at ${path} (${(e.stderr ?? e.message).trim()}): needs root or CAP_SYS_ADMIN` };
  }
  const filler = join(path, '.filler');
  let mounted = true;
  return {
    path,
    async fill() {
      const handle = await open(filler, 'a');
      try {
        const chunk = Buffer.alloc(64 * 1024, 0x2e);
        for (;;) {
          const { bavail, bsize } = await statfs(path);
          if (bavail === 0) break;
          try {
            await handle.write(chunk, 0, Math.min(chunk.length, bavail * bsize));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
        }
      } finally {
        await handle.close();
      }
    },
    async free() {
      await rm(filler, { force: true });
    },
    async setReadOnly(readOnly) {
      await run('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, path]);
    },
    async unmount() {
      if (!mounted) return;
      mounted = false;
      await run('umount', ['-l', path]).catch(() => undefined);
    },
  };
}
