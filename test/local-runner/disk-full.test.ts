/**
 * A full disk (a real one: a small tmpfs, filled on purpose) under the data folder's writers:
 * - NDJSON appends (quarantine, on-failure, metrics, review requests) never leave a torn line: a
 *   failed append takes its partial bytes back, and an append after a torn tail starts a new line;
 * - an atomic JSON write (checkpoints, runner.json) that fails leaves no temp file.
 * Skipped, with the reason printed, where this process cannot mount a tmpfs (not root, not Linux).
 */
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallFilesystem, type SmallFilesystem } from '../../chaos/small-filesystem';
import { appendWholeLines } from '../../consumers/runtime/append-whole-lines';
import { writeJsonFileAtomically } from '../../local/esm/atomic-json-file';

let root: string;
let fs: SmallFilesystem | undefined;
let unavailable = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'disk-full-'));
  const mounted = await mountSmallFilesystem(join(root, 'small'), 64 * 1024);
  if ('unavailable' in mounted) {
    unavailable = mounted.unavailable;
    console.log(`disk-full tests skipped: ${unavailable}`);
  } else fs = mounted;
});

afterAll(async () => {
  await fs?.unmount();
  await rm(root, { recursive: true, force: true });
});

/** A line larger than a tmpfs page, so that on a full disk part of it fits in the file's last page and the rest does not. */
const bigLine = `${JSON.stringify({ id: 'big', pad: 'x'.repeat(6000) })}\n`;

describe('NDJSON appends on a full disk', () => {
  it('fs.appendFile really tears a line there (the fault this guards against is real)', async (ctx) => {
    if (!fs) return ctx.skip();
    const file = join(fs.path, 'raw.ndjson');
    await writeFile(file, '{"a":1}\n');
    await fs.fill();
    try {
      await expect(appendFile(file, bigLine)).rejects.toMatchObject({ code: 'ENOSPC' });
      const text = await readFile(file, 'utf8');
      expect(text.length).toBeGreaterThan('{"a":1}\n'.length); // a partial line stayed
      expect(text.endsWith('\n')).toBe(false);
    } finally {
      await fs.free();
      await rm(file, { force: true });
    }
  });

  it('appendWholeLines fails without leaving any part of the line, and the retry after space returns writes it whole', async (ctx) => {
    if (!fs) return ctx.skip();
    const file = join(fs.path, 'quarantine.ndjson');
    await writeFile(file, '{"a":1}\n');
    await fs.fill();
    try {
      await expect(appendWholeLines(file, bigLine)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect(await readFile(file, 'utf8')).toBe('{"a":1}\n');
    } finally {
      await fs.free();
    }
    await appendWholeLines(file, bigLine);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { a?: number; id?: string }).id ?? 'a')).toEqual(['a', 'big']);
  });

  it('starts a new line after a torn tail (a writer killed mid-line), so the new line stays readable', async () => {
    const file = join(root, 'torn.ndjson');
    await writeFile(file, '{"a":1}\n{"id":"half');
    await appendWholeLines(file, '{"id":"whole"}\n');
    expect(await readFile(file, 'utf8')).toBe('{"a":1}\n{"id":"half\n{"id":"whole"}\n');
  });
});

describe('atomic JSON writes on a full disk', () => {
  it('leave no temp file behind when the write fails, and the old file intact', async (ctx) => {
    if (!fs) return ctx.skip();
    const file = join(fs.path, 'checkpoint.json');
    await writeJsonFileAtomically(file, { checkpoint: '1' });
    await fs.fill();
    try {
      await expect(writeJsonFileAtomically(file, { checkpoint: '2', pad: 'x'.repeat(8000) })).rejects.toMatchObject({ code: 'ENOSPC' });
    } finally {
      await fs.free();
    }
    expect((await readdir(fs.path)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ checkpoint: '1' });
  });

  it('leave no temp file behind when serialising fails after the temp file was created', async () => {
    const file = join(root, 'bad.json');
    await expect(writeJsonFileAtomically(file, { toJSON: () => { throw new Error('not serialisable'); } })).rejects.toThrow('not serialisable');
    expect((await readdir(root)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('torn tails found at start', () => {
  it('are moved aside to <file>.torn and reported, leaving whole lines only', async () => {
    const { repairTornTails } = await import('../../local/torn-tail-repair');
    const dir = join(root, 'data');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'quarantine'), { recursive: true });
    await mkdir(join(dir, 'on-failure'), { recursive: true });
    await writeFile(join(dir, 'quarantine', 'c.ndjson'), '{"a":1}\n{"b":');
    await writeFile(join(dir, 'on-failure', 'c.ndjson'), '{"a":1}\n');
    const repairs = await repairTornTails(dir);
    expect(repairs).toEqual([{ file: join(dir, 'quarantine', 'c.ndjson'), bytes: 5, movedTo: join(dir, 'quarantine', 'c.ndjson.torn') }]);
    expect(await readFile(join(dir, 'quarantine', 'c.ndjson'), 'utf8')).toBe('{"a":1}\n');
    expect(JSON.parse(await readFile(join(dir, 'quarantine', 'c.ndjson.torn'), 'utf8'))).toMatchObject({ bytes: 5, fragment: '{"b":' });
    expect(await readFile(join(dir, 'on-failure', 'c.ndjson'), 'utf8')).toBe('{"a":1}\n');
  });
});
