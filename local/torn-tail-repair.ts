/**
 * At start, the runner checks the NDJSON files of the data folder (quarantine, on-failure, metrics,
 * invocations, invoke-requests) for a torn last line: bytes after the last newline, left by a writer
 * killed mid-append or by a failed append on a full disk before appends were made whole. Readers
 * would skip such a fragment silently (or glue the next line onto it). It is moved to
 * `<file>.torn` (appended, with the time and size) and reported, so the file holds whole lines only.
 */
import { open, readdir, stat, appendFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TornTailRepair {
  readonly file: string;
  readonly bytes: number;
  readonly movedTo: string;
}

const FOLDERS = ['quarantine', 'on-failure', 'metrics', 'invocations', 'invoke-requests'];

async function ndjsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.')) out.push(...(await ndjsonFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.ndjson')) out.push(path);
  }
  return out;
}

/** Cuts a torn last line off one file; undefined when the file ends with a newline (or is empty). */
export async function repairTornTail(file: string): Promise<TornTailRepair | undefined> {
  const size = (await stat(file)).size;
  if (size === 0) return undefined;
  const handle = await open(file, 'r+');
  try {
    // Look back in chunks for the last newline.
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    let cut = -1;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return undefined;
    while (end > 0 && cut < 0) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const at = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) cut = start + at + 1;
      end = start;
    }
    if (cut < 0) cut = 0;
    const fragment = Buffer.alloc(size - cut);
    await handle.read(fragment, 0, fragment.length, cut);
    const movedTo = `${file}.torn`;
    await appendFile(movedTo, `${JSON.stringify({ at: new Date().toISOString(), bytes: fragment.length, fragment: fragment.toString('utf8') })}\n`);
    await handle.truncate(cut);
    return { file, bytes: fragment.length, movedTo };
  } finally {
    await handle.close();
  }
}

export async function repairTornTails(dataDir: string): Promise<TornTailRepair[]> {
  const repairs: TornTailRepair[] = [];
  for (const folder of FOLDERS) {
    for (const file of await ndjsonFiles(join(dataDir, folder))) {
      const repair = await repairTornTail(file);
      if (repair) repairs.push(repair);
    }
  }
  return repairs;
}
