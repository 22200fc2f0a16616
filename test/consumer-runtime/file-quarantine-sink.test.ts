/**
 * consumers/runtime/file-quarantine-sink.ts: the local runner's quarantine file lives at
 * `<dataDir>/quarantine/<consumer>.ndjson` (the ops CLI reads it there), holds one
 * serializeQuarantineRecord line per record (U+FFFE/U+FFFF escaped like the SQS bodies), and an empty
 * write touches nothing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileQuarantineSink, localQuarantineFile } from '../../consumers/runtime/file-quarantine-sink';
import { serializeQuarantineRecord } from '../../consumers/runtime/quarantine';
import type { QuarantineRecord } from '../../consumers/runtime/types';
import { quarantineRecord } from './helpers';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-quarantine-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record = (i: number, message: string): QuarantineRecord => quarantineRecord(i, { consumer: 'orders', message });

describe('FileQuarantineSink', () => {
  it('the local quarantine file is <dataDir>/quarantine/<consumer>.ndjson', () => {
    expect(localQuarantineFile('/var/lib/pipeline', 'order-metrics')).toBe('/var/lib/pipeline/quarantine/order-metrics.ndjson');
  });

  it('write([]) returns [] and creates neither the folder nor the file', async () => {
    const path = localQuarantineFile(dir, 'orders');
    expect(await new FileQuarantineSink(path).write([])).toEqual([]);
    expect(existsSync(join(dir, 'quarantine'))).toBe(false);
  });

  it('appends one serializeQuarantineRecord line per record, U+FFFE escaped', async () => {
    const path = localQuarantineFile(dir, 'orders');
    const sink = new FileQuarantineSink(path);
    const first = [record(0, 'bad \ufffe byte order mark'), record(1, 'plain')];
    const second = [record(2, 'third')];
    expect(await sink.write(first)).toEqual([]);
    expect(await sink.write(second)).toEqual([]);
    const text = await readFile(path, 'utf8');
    expect(text).toBe([...first, ...second].map((r) => `${serializeQuarantineRecord(r)}\n`).join(''));
    expect(text.split('\n')[0]).toContain('bad \\ufffe byte order mark');
    expect(text).not.toContain('\ufffe');
    expect((JSON.parse(text.split('\n')[0]!) as QuarantineRecord).error.message).toBe('bad \ufffe byte order mark');
  });
});
