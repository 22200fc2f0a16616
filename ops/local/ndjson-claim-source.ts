/**
 * An NDJSON file of the local data folder (on-failure/<consumer>.ndjson, quarantine/<consumer>.ndjson)
 * as a redrive source, safe while the local runner keeps appending to it:
 *
 * 1. claim: the file is renamed to `<file>.redrive-<pid>-<ms>` (atomic). The runner's next append
 *    (`appendFile`, one call per line) creates a fresh file, so nothing it writes is lost or mixed in.
 * 2. work on the claimed lines; `ack` marks the ones that succeeded.
 * 3. close: the claimed file is read again (an append that had opened it just before the rename lands
 *    there), every line not acknowledged is appended back to the live file in one write, and the claim
 *    is removed. A crash before that leaves the claim file, which the next redrive picks up (its pid is
 *    gone): nothing is ever lost, at worst redriven twice (consumers are idempotent by event id).
 *
 * Read-only mode (dry run) reads the file without claiming it.
 */
import { appendFile, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { MessageSource, SourceItem } from '../redrive/message-source';

interface Claim {
  readonly path: string;
  /** Lines read at claim time (index = line number - 1). */
  readonly lines: readonly string[];
  readonly acked: Set<number>;
}

interface FileItem extends SourceItem {
  readonly claim: Claim;
  readonly index: number;
}

export interface NdjsonClaimSourceOptions {
  readonly path: string;
  /** Read without claiming or changing anything (dry run). */
  readonly readOnly?: boolean;
}

export class NdjsonClaimSource implements MessageSource {
  readonly description: string;
  private claims: Claim[] | undefined;

  constructor(private readonly options: NdjsonClaimSourceOptions) {
    this.description = options.path;
  }

  async next(): Promise<readonly SourceItem[]> {
    if (this.claims !== undefined) return [];
    this.claims = await this.claim();
    const items: FileItem[] = [];
    for (const claim of this.claims) {
      claim.lines.forEach((line, index) => {
        if (line.trim() === '') return;
        items.push({ id: `${basename(this.options.path)}:${index + 1}`, body: line, claim, index });
      });
    }
    return items;
  }

  async ack(item: SourceItem): Promise<void> {
    if (this.options.readOnly) throw new Error('read-only source: nothing can be acknowledged');
    const fileItem = item as FileItem;
    fileItem.claim.acked.add(fileItem.index);
  }

  async close(): Promise<void> {
    if (this.options.readOnly || this.claims === undefined) return;
    for (const claim of this.claims) {
      const now = splitLines(await readFile(claim.path, 'utf8'));
      const keep = now.filter((line, index) => line.trim() !== '' && !claim.acked.has(index));
      if (keep.length > 0) await appendFile(this.options.path, `${keep.join('\n')}\n`, 'utf8');
      await unlink(claim.path);
    }
    this.claims = [];
  }

  private async claim(): Promise<Claim[]> {
    const dir = dirname(this.options.path);
    const base = basename(this.options.path);
    const paths: string[] = [];
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Claims left by a redrive that died (its process is gone) are taken over.
    for (const name of names) {
      const match = new RegExp(`^${escapeRegExp(base)}\\.redrive-(\\d+)-\\d+$`).exec(name);
      if (match && !processAlive(Number(match[1]))) paths.push(join(dir, name));
    }
    if (names.includes(base)) {
      if (this.options.readOnly) paths.push(this.options.path);
      else {
        const claimed = `${this.options.path}.redrive-${process.pid}-${Date.now()}`;
        await rename(this.options.path, claimed);
        paths.push(claimed);
      }
    }
    const claims: Claim[] = [];
    for (const path of paths) claims.push({ path, lines: splitLines(await readFile(path, 'utf8')), acked: new Set() });
    return claims;
  }
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
