/**
 * consumers/runtime/append-whole-lines.ts: NDJSON appends that never leave a torn line, on a real temp
 * directory. The failure paths use a scheduled fault, never a random one: `open` is wrapped so that a
 * chosen call returns a handle whose writes follow a script (write N bytes for real, then fail with
 * ENOSPC, as a full disk does), and each test checks the bytes on disk and the calls made on the handle.
 * The real full-disk run (a tmpfs) is test/local-runner/disk-full.test.ts.
 */
import type { FileHandle } from 'node:fs/promises';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendWholeLines } from '../../consumers/runtime/append-whole-lines';

const fsControl = vi.hoisted(() => ({
  /** Every handle `open` returned (the real ones), to check that each was closed. */
  opened: [] as FileHandle[],
  /** Replaces the handle of the next successful open (the scheduled fault). */
  wrapNext: undefined as ((real: FileHandle) => FileHandle) | undefined,
  /** Thrown by the next opens, one each, instead of opening. */
  openFailures: [] as Error[],
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    mkdir: vi.fn(actual.mkdir),
    open: vi.fn(async (...args: Parameters<typeof actual.open>) => {
      const failure = fsControl.openFailures.shift();
      if (failure) throw failure;
      const real = await actual.open(...args);
      fsControl.opened.push(real);
      const wrap = fsControl.wrapNext;
      fsControl.wrapNext = undefined;
      return wrap ? wrap(real) : real;
    }),
  };
});

let root: string;
let fileCount = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'append-whole-lines-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(() => {
  // Every path closes its handle (a closed FileHandle's fd is -1).
  expect(fsControl.opened.map((h) => h.fd)).toEqual(fsControl.opened.map(() => -1));
  fsControl.opened.length = 0;
  fsControl.wrapNext = undefined;
  fsControl.openFailures.length = 0;
  vi.mocked(open).mockClear();
  vi.mocked(mkdir).mockClear();
});

/** A fresh file path in the temp directory (not created). */
function newPath(name = 'lines.ndjson'): string {
  fileCount += 1;
  return join(root, `case-${fileCount}`, name);
}

/** A fresh file holding `content`. */
async function fileWith(content: string): Promise<string> {
  const path = newPath();
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  vi.mocked(mkdir).mockClear();
  return path;
}

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

interface Script {
  /** What each write call does, in order: write at most this many bytes for real, or fail. */
  readonly writes: readonly (number | 'ENOSPC')[];
  /** Runs just before a scripted write fails (another process appending meanwhile). */
  readonly beforeFailure?: () => Promise<void>;
  /** The stat call (1-based) that fails. */
  readonly failStat?: number;
  /** The truncate call fails. */
  readonly failTruncate?: boolean;
}

/** What a scripted handle did: its calls in order, and the error its failing write throws. */
interface FaultRecord {
  readonly calls: string[];
  readonly failure: NodeJS.ErrnoException;
}

/** A handle over the real one that follows `script` and records each call. */
class ScriptedHandle {
  private writeCalls = 0;
  private statCalls = 0;

  constructor(
    private readonly real: FileHandle,
    private readonly script: Script,
    private readonly record: FaultRecord,
  ) {}

  private get calls(): string[] {
    return this.record.calls;
  }

  async stat() {
    this.statCalls += 1;
    if (this.script.failStat === this.statCalls) {
      this.calls.push('stat=EIO');
      throw Object.assign(new Error('EIO: i/o error, fstat'), { code: 'EIO' });
    }
    const stats = await this.real.stat();
    this.calls.push(`stat=${stats.size}`);
    return stats;
  }

  async read(buffer: Buffer, offset: number, length: number, position: number) {
    this.calls.push(`read(${offset},${length},${position})`);
    return this.real.read(buffer, offset, length, position);
  }

  async write(buffer: Buffer, offset: number, length: number) {
    const step = this.script.writes[this.writeCalls];
    this.writeCalls += 1;
    if (step === undefined || length === 0) throw new Error(`unexpected write(${offset},${length})`);
    if (step === 'ENOSPC') {
      this.calls.push(`write(${offset},${length})=ENOSPC`);
      await this.script.beforeFailure?.();
      throw this.record.failure;
    }
    const { bytesWritten } = await this.real.write(buffer, offset, Math.min(step, length));
    this.calls.push(`write(${offset},${length})=${bytesWritten}`);
    return { bytesWritten, buffer };
  }

  async truncate(length: number) {
    this.calls.push(`truncate(${length})`);
    if (this.script.failTruncate) throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
    return this.real.truncate(length);
  }

  async close() {
    this.calls.push('close');
    return this.real.close();
  }
}

/** The next open returns a handle following `script`. */
function scheduleFault(script: Script): FaultRecord {
  const record: FaultRecord = { calls: [], failure: enospc() };
  fsControl.wrapNext = (real) => new ScriptedHandle(real, script, record) as unknown as FileHandle;
  return record;
}

/** Whether `path` exists (file or folder). */
async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

describe('appendWholeLines: what is written', () => {
  it('empty text writes nothing: the file (and its folder) is not even created', async () => {
    const path = newPath();
    await appendWholeLines(path, '');
    expect(await exists(join(path, '..'))).toBe(false);
    expect(vi.mocked(open)).not.toHaveBeenCalled();
  });

  it('a text without a trailing newline gets one; a text with one is written as is', async () => {
    const path = await fileWith('');
    await appendWholeLines(path, '{"a":1}');
    await appendWholeLines(path, '{"b":2}\n');
    await appendWholeLines(path, '{"c":3}\n{"d":4}');
    await appendWholeLines(path, '\n{"e":5}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n\n{"e":5}\n');
  });

  it('multi-byte characters are written whole (the loop counts bytes, not characters)', async () => {
    const path = await fileWith('');
    await appendWholeLines(path, '{"city":"Zürich","price":"5 €"}');
    expect(await readFile(path, 'utf8')).toBe('{"city":"Zürich","price":"5 €"}\n');
  });

  it('missing parent folders are created (several levels), then the file', async () => {
    const path = join(newPath('ignored'), 'a', 'b', 'lines.ndjson');
    await appendWholeLines(path, '{"a":1}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
    expect(vi.mocked(mkdir).mock.calls).toEqual([[join(path, '..'), { recursive: true }]]);
    expect(vi.mocked(open)).toHaveBeenCalledTimes(2);
  });

  it('an existing file ending with a newline: the line is appended right after it', async () => {
    const path = await fileWith('{"a":1}\n');
    await appendWholeLines(path, '{"b":2}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(vi.mocked(mkdir)).not.toHaveBeenCalled();
  });

  it('an existing file without a trailing newline (a torn tail): the append starts a new line', async () => {
    const path = await fileWith('{"a":1}\n{"torn":');
    await appendWholeLines(path, '{"b":2}\n');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"torn":\n{"b":2}\n');
  });

  it('a one-byte file is judged by that byte', async () => {
    const newline = await fileWith('\n');
    await appendWholeLines(newline, 'x');
    expect(await readFile(newline, 'utf8')).toBe('\nx\n');
    const other = await fileWith('y');
    await appendWholeLines(other, 'x');
    expect(await readFile(other, 'utf8')).toBe('y\nx\n');
  });

  it('an empty existing file gets no newline in front', async () => {
    const path = await fileWith('');
    await appendWholeLines(path, '{"a":1}');
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
  });

  it('reads only the last byte of the file, at its end', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [100] });
    await appendWholeLines(path, '{"b":2}');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,8)=8', 'close']);
  });
});

describe('appendWholeLines: a failed append (scheduled ENOSPC)', () => {
  it('a partial write is taken back: the file is truncated to exactly its previous content, and the error rethrown', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [5, 'ENOSPC'] });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,13)=5', 'write(5,8)=ENOSPC', 'stat=13', 'truncate(8)', 'close']);
  });

  it('the newline put in front of the line is taken back too (the torn tail stays as it was)', async () => {
    const path = await fileWith('{"torn":');
    const handle = scheduleFault({ writes: [3, 'ENOSPC'] });
    await expect(appendWholeLines(path, '{"b":2}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('{"torn":');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,9)=3', 'write(3,6)=ENOSPC', 'stat=11', 'truncate(8)', 'close']);
  });

  it('a new file that fails mid-write is truncated back to empty', async () => {
    const path = newPath();
    const handle = scheduleFault({ writes: [4, 'ENOSPC'] });
    await expect(appendWholeLines(path, '{"a":1}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('');
    expect(handle.calls).toEqual(['stat=0', 'write(0,8)=4', 'write(4,4)=ENOSPC', 'stat=4', 'truncate(0)', 'close']);
  });

  it('is NOT truncated when another writer appended meanwhile (its line must not be cut)', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [5, 'ENOSPC'], beforeFailure: () => appendFile(path, '{"other":1}\n') });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"id"{"other":1}\n');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,13)=5', 'write(5,8)=ENOSPC', 'stat=25', 'close']);
  });

  it('a failure before any byte went out truncates nothing', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: ['ENOSPC'] });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,13)=ENOSPC', 'close']);
  });

  it('when the size cannot be read back, nothing is truncated and the write error is still the one thrown', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [5, 'ENOSPC'], failStat: 2 });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toBe(handle.failure);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"id"');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,13)=5', 'write(5,8)=ENOSPC', 'stat=EIO', 'close']);
  });

  it('when the truncate itself fails, the write error is still the one thrown', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [5, 'ENOSPC'], failTruncate: true });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toBe(handle.failure);
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,13)=5', 'write(5,8)=ENOSPC', 'stat=13', 'truncate(8)', 'close']);
  });

  it('a failing first stat is rethrown and the handle still closed', async () => {
    const path = await fileWith('{"a":1}\n');
    const handle = scheduleFault({ writes: [], failStat: 1 });
    await expect(appendWholeLines(path, '{"id":"new"}')).rejects.toMatchObject({ code: 'EIO' });
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
    expect(handle.calls).toEqual(['stat=EIO', 'close']);
  });
});

describe('appendWholeLines: short writes and open errors', () => {
  it('a short write (fewer bytes than asked) loops until every byte is written, each write starting where the last stopped', async () => {
    const path = await fileWith('{"torn":');
    const handle = scheduleFault({ writes: [3, 3, 3, 3] });
    await appendWholeLines(path, '{"b":2}');
    expect(await readFile(path, 'utf8')).toBe('{"torn":\n{"b":2}\n');
    expect(handle.calls).toEqual(['stat=8', 'read(0,1,7)', 'write(0,9)=3', 'write(3,6)=3', 'write(6,3)=3', 'close']);
  });

  it('an open error other than ENOENT is rethrown as is, without creating folders or opening again', async () => {
    const path = newPath();
    const denied = Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    fsControl.openFailures.push(denied);
    await expect(appendWholeLines(path, '{"a":1}')).rejects.toBe(denied);
    expect(vi.mocked(open)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(mkdir)).not.toHaveBeenCalled();
    expect(await exists(join(path, '..'))).toBe(false);
  });

  it('a real non-ENOENT error: the parent is a file (ENOTDIR), reported as such', async () => {
    const parent = await fileWith('not a folder');
    await expect(appendWholeLines(join(parent, 'lines.ndjson'), '{"a":1}')).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(vi.mocked(mkdir)).not.toHaveBeenCalled();
    expect(await readFile(parent, 'utf8')).toBe('not a folder');
  });

  it('an open failing again after the folders were created is rethrown (one mkdir, two opens)', async () => {
    const path = newPath();
    const enoent = () => Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
    const [first, second] = [enoent(), enoent()];
    fsControl.openFailures.push(first, second);
    await expect(appendWholeLines(path, '{"a":1}')).rejects.toBe(second);
    expect(vi.mocked(open)).toHaveBeenCalledTimes(2);
    expect(vi.mocked(mkdir).mock.calls).toEqual([[join(path, '..'), { recursive: true }]]);
    expect(await exists(path)).toBe(false);
  });
});
