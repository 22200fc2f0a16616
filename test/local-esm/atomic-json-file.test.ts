/**
 * writeJsonFileAtomically (local/esm/atomic-json-file.ts): temp file beside the target, written,
 * fsync'd and closed before the rename; a failed write (scheduled fault in writeFile, sync, rename or
 * the cleanup) leaves the old file as it was and no temp file. node:fs/promises is wrapped to record
 * the calls and inject the faults; everything else is the real file system in a temp folder.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeJsonFileAtomically } from '../../local/esm/atomic-json-file';

const fs = vi.hoisted(() => ({
  /** Calls seen by the module under test, in order: `open <file>`, `write`, `sync`, `close`, `rename <from> <to>`, `unlink <file>`. */
  calls: [] as string[],
  /** Scheduled faults: the next call of that kind rejects with this error. */
  faults: {} as Partial<Record<'writeFile' | 'sync' | 'rename' | 'unlink', Error>>,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const fault = (kind: keyof typeof fs.faults) => {
    const error = fs.faults[kind];
    delete fs.faults[kind];
    if (error) throw error;
  };
  return {
    ...real,
    open: async (path: string, flags: string) => {
      const handle = await real.open(path, flags);
      fs.calls.push(`open ${path}`);
      return {
        writeFile: async (data: string, encoding: BufferEncoding) => {
          fs.calls.push('write');
          fault('writeFile');
          return handle.writeFile(data, encoding);
        },
        sync: async () => {
          fs.calls.push('sync');
          fault('sync');
          return handle.sync();
        },
        close: async () => {
          fs.calls.push('close');
          return handle.close();
        },
      };
    },
    rename: async (from: string, to: string) => {
      fs.calls.push(`rename ${from} ${to}`);
      fault('rename');
      return real.rename(from, to);
    },
    unlink: async (path: string) => {
      fs.calls.push(`unlink ${path}`);
      fault('unlink');
      return real.unlink(path);
    },
  };
});

const ioError = (code: string) => Object.assign(new Error(`${code}: scripted fault`), { code });

let dir: string;
let target: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esm-atomic-'));
  target = join(dir, 'state.json');
  fs.calls = [];
  fs.faults = {};
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The temp file of the last write, from the recorded `open` call. */
const tempOf = () => fs.calls.find((c) => c.startsWith('open '))!.slice('open '.length);

describe('writeJsonFileAtomically', () => {
  it('writes 2-space JSON with a final newline through a temp file beside the target: write, fsync, close, then rename', async () => {
    await writeJsonFileAtomically(target, { a: 1, b: ['x'], c: { d: null } });
    expect(await readFile(target, 'utf8')).toBe('{\n  "a": 1,\n  "b": [\n    "x"\n  ],\n  "c": {\n    "d": null\n  }\n}\n');
    const temp = tempOf();
    expect(basename(temp)).toMatch(new RegExp(`^state\\.json\\.${process.pid}\\.\\d+\\.tmp$`));
    expect(join(temp, '..')).toBe(dir);
    expect(fs.calls).toEqual([`open ${temp}`, 'write', 'sync', 'close', `rename ${temp} ${target}`]);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('replaces an existing file; every write uses its own temp file', async () => {
    await writeFile(target, '{"old": true}\n');
    await writeJsonFileAtomically(target, { version: 1 });
    const first = tempOf();
    fs.calls = [];
    await writeJsonFileAtomically(target, { version: 2, text: 'é ✓' });
    const second = tempOf();
    expect(second).not.toBe(first);
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual({ version: 2, text: 'é ✓' });
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it.each([
    ['writing', 'writeFile' as const, ['write', 'close']],
    ['fsync', 'sync' as const, ['write', 'sync', 'close']],
  ])('a failure while %s: rejected with that error, handle closed, temp removed, old file untouched', async (_name, kind, handleCalls) => {
    await writeFile(target, '{"old": true}\n');
    const error = ioError('ENOSPC');
    fs.faults[kind] = error;
    await expect(writeJsonFileAtomically(target, { new: true })).rejects.toBe(error);
    const temp = tempOf();
    expect(fs.calls).toEqual([`open ${temp}`, ...handleCalls, `unlink ${temp}`]);
    expect(await readFile(target, 'utf8')).toBe('{"old": true}\n');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('a failed rename (the target is a folder): rejected with the rename error, temp removed', async () => {
    await mkdir(target);
    const error = await writeJsonFileAtomically(target, { new: true }).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.syscall).toBe('rename');
    const temp = tempOf();
    expect(fs.calls).toEqual([`open ${temp}`, 'write', 'sync', 'close', `rename ${temp} ${target}`, `unlink ${temp}`]);
    expect(await readdir(dir)).toEqual(['state.json']);
    expect(await readdir(target)).toEqual([]);
  });

  it('when removing the temp file fails too, the original error is the one reported', async () => {
    await writeFile(target, '{"old": true}\n');
    const renameError = ioError('EIO');
    fs.faults.rename = renameError;
    fs.faults.unlink = ioError('EROFS');
    await expect(writeJsonFileAtomically(target, { new: true })).rejects.toBe(renameError);
    expect(await readFile(target, 'utf8')).toBe('{"old": true}\n');
  });

  it('a folder that does not exist: rejected (ENOENT), nothing created', async () => {
    const missing = join(dir, 'missing', 'state.json');
    const error = await writeJsonFileAtomically(missing, {}).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toBe('ENOENT');
    expect(await readdir(dir)).toEqual([]);
  });
});
