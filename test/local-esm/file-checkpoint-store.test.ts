/**
 * FileCheckpointStore (local/esm/file-checkpoint-store.ts) on a temp folder, no emulator: the file
 * path, the round trip, no file (ENOENT) vs an unreadable one, a corrupt or invalid file (a
 * CheckpointStoreError naming the file, with the parse error as `cause`), the sequence-number check
 * (Kinesis: SequenceNumber matches `0|([1-9]\d{0,128})`), and a file of another pipeline, stream or
 * function (ignored with a warning).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { CheckpointStoreError, FileCheckpointStore, type MappingIdentity, type MappingProgress } from '../../local/esm';
import type { Logger } from '../../telemetry/logger';
import { IDENTITY } from './sample-identity';


const PROGRESS: MappingProgress = {
  firstStartedAt: '2024-05-01T09:00:00.000Z',
  shards: {
    'shardId-000000000000': { checkpoint: '49590338271490256608559692538361571095921575989136588898' },
    'shardId-000000000001': { checkpoint: '0', finished: true },
    'shardId-000000000002': { window: { startMs: 1_714_550_400_000, endMs: 1_714_550_460_000, state: { total: 3, ids: ['a', 'b'] } } },
    'shardId-000000000003': { checkpoint: '7', finished: false, window: { startMs: 0, endMs: 1000, state: null } },
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esm-file-store-'));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

function stubLogger() {
  const warn = vi.fn();
  return { logger: { warn, info: vi.fn() } as unknown as Logger, warn };
}

const storeOf = (pipeline = 'orders-pipeline', logger?: Logger) => new FileCheckpointStore({ dir, pipeline, ...(logger ? { logger } : {}) });

/** A valid file body as `save` writes it, to be edited by a test. */
const fileBody = (overrides: Record<string, unknown> = {}) => ({
  version: 1,
  pipeline: 'orders-pipeline',
  identity: IDENTITY,
  updatedAt: '2024-05-01T10:00:00.000Z',
  progress: PROGRESS,
  ...overrides,
});

async function writeRaw(store: FileCheckpointStore, text: string): Promise<string> {
  const path = store.pathOf(IDENTITY);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

async function loadError(store: FileCheckpointStore, identity: MappingIdentity = IDENTITY): Promise<CheckpointStoreError> {
  const error = await store.load(identity).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointStoreError);
  return error as CheckpointStoreError;
}

describe('FileCheckpointStore: paths and round trip', () => {
  it('one file per mapping: <dir>/<pipeline>/<consumer>.<stream>.json, names URI-encoded', () => {
    const store = new FileCheckpointStore({ dir, pipeline: 'team/orders v2' });
    expect(store.pathOf({ consumerName: 'order-metrics', streamName: 'orders' })).toBe(join(dir, 'team%2Forders%20v2', 'order-metrics.orders.json'));
    // A "/" or ".." in a name never escapes the pipeline folder.
    expect(store.pathOf({ consumerName: '../evil', streamName: 'a/b' })).toBe(join(dir, 'team%2Forders%20v2', '..%2Fevil.a%2Fb.json'));
  });

  it('no file yet: no progress (undefined), and nothing is created by loading', async () => {
    const store = storeOf();
    await expect(store.load(IDENTITY)).resolves.toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('saves into folders it creates, and loads back exactly what was saved', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2024-05-01T10:15:30.250Z') });
    const nestedDir = join(dir, 'data', 'checkpoints');
    const store = new FileCheckpointStore({ dir: nestedDir, pipeline: 'orders-pipeline' });
    await store.save(IDENTITY, PROGRESS);

    const path = join(nestedDir, 'orders-pipeline', 'order-metrics.orders.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      version: 1,
      pipeline: 'orders-pipeline',
      identity: IDENTITY,
      updatedAt: '2024-05-01T10:15:30.250Z',
      progress: PROGRESS,
    });
    expect(await store.load(IDENTITY)).toEqual(PROGRESS);
    // No temp file is left beside it.
    expect(await readdir(join(nestedDir, 'orders-pipeline'))).toEqual(['order-metrics.orders.json']);
  });

  it('a second save replaces the progress (the folder exists already)', async () => {
    const store = storeOf();
    await store.save(IDENTITY, PROGRESS);
    const next: MappingProgress = { firstStartedAt: PROGRESS.firstStartedAt, shards: { 'shardId-000000000000': { checkpoint: '123' } } };
    await store.save(IDENTITY, next);
    expect(await store.load(IDENTITY)).toEqual(next);
  });
});

describe('FileCheckpointStore: unreadable, corrupt and invalid files', () => {
  it('a checkpoint path that cannot be read (a folder) is an error naming the file, with the read error as cause', async () => {
    const store = storeOf();
    const path = store.pathOf(IDENTITY);
    await mkdir(path, { recursive: true });
    const error = await loadError(store);
    expect(error.name).toBe('CheckpointStoreError');
    const cause = error.cause as NodeJS.ErrnoException;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.code).toBe('EISDIR');
    expect(error.message).toBe(`cannot read the checkpoint file ${path}: ${cause.message}`);
  });

  it('a file that is not JSON: an error naming the file and how to recover, the JSON error as cause', async () => {
    const store = storeOf();
    const path = await writeRaw(store, '{"version": 1, "pipeline": ');
    const error = await loadError(store);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    const detail = (error.cause as Error).message.replace(/\s+/g, ' ');
    expect(error.message).toBe(
      `the checkpoint file ${path} is not valid (${detail}); fix it, or delete it to start the mapping of order-metrics again ` +
        'from its starting position (records already processed would be processed again)',
    );
  });

  it('a JSON file of the wrong shape: the validation problems on one line, each with its field, the ZodError as cause', async () => {
    const store = storeOf();
    const path = await writeRaw(store, JSON.stringify({ version: 2, identity: IDENTITY, updatedAt: 'x', progress: PROGRESS }));
    const error = await loadError(store);
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect(error.message.startsWith(`the checkpoint file ${path} is not valid (✖ `)).toBe(true);
    expect(error.message).toContain('→ at version');
    expect(error.message).toContain('→ at pipeline');
    expect(error.message).not.toContain('→ at identity');
    // One line, single spaces: a log line or terminal message, not zod's multi-line report.
    expect(error.message).not.toMatch(/\s{2}|\n/);
    expect(error.message.endsWith('; fix it, or delete it to start the mapping of order-metrics again from its starting position (records already processed would be processed again)')).toBe(true);
  });

  it.each([
    ['version', { version: 2 }],
    ['pipeline', { pipeline: 7 }],
    ['identity.streamArn', { identity: { ...IDENTITY, streamArn: undefined } }],
    ['identity.streamCreatedAt', { identity: { ...IDENTITY, streamCreatedAt: 1 } }],
    ['updatedAt', { updatedAt: undefined }],
    ['progress.firstStartedAt', { progress: { shards: {} } }],
    ['progress.shards.*.finished', { progress: { firstStartedAt: 'x', shards: { s: { finished: 'yes' } } } }],
    ['progress.shards.*.window.endMs', { progress: { firstStartedAt: 'x', shards: { s: { window: { startMs: 0, state: 1 } } } } }],
  ])('rejects a file with a bad %s', async (field, overrides) => {
    const store = storeOf();
    await writeRaw(store, JSON.stringify(fileBody(overrides)));
    const error = await loadError(store);
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect(error.message).toContain('is not valid (✖');
  });
});

describe('FileCheckpointStore: stored sequence numbers (Kinesis: 0|([1-9]\\d{0,128}))', () => {
  const max = `9${'9'.repeat(128)}`; // 129 digits: the longest sequence number Kinesis allows
  const tooLong = `1${'0'.repeat(129)}`; // 130 digits

  it.each([
    ['0', '0'],
    ['1', '1'],
    ['9', '9'],
    ['10', '10'],
    ['a real one', '49590338271490256608559692538361571095921575989136588898'],
    ['129 digits', max],
    ['129 digits starting with 1', `1${'0'.repeat(128)}`],
  ])('accepts %s', async (_name, checkpoint) => {
    const store = storeOf();
    const progress: MappingProgress = { firstStartedAt: 'x', shards: { 'shardId-000000000000': { checkpoint } } };
    await writeRaw(store, JSON.stringify(fileBody({ progress })));
    expect(await store.load(IDENTITY)).toEqual(progress);
  });

  it.each([
    ['empty', ''],
    ['a leading zero', '01'],
    ['two zeros', '00'],
    ['130 digits', tooLong],
    ['a sign', '-1'],
    ['a fraction', '1.5'],
    ['a trailing letter', '123a'],
    ['a leading letter', 'a123'],
    ['a leading space', ' 123'],
    ['a trailing newline', '123\n'],
    ['letters only', 'abc'],
  ])('rejects %s, naming the checkpoint field', async (_name, checkpoint) => {
    const store = storeOf();
    await writeRaw(store, JSON.stringify(fileBody({ progress: { firstStartedAt: 'x', shards: { 'shardId-000000000000': { checkpoint } } } })));
    const error = await loadError(store);
    expect(error.cause).toBeInstanceOf(z.ZodError);
    expect(error.message).toContain('→ at progress.shards["shardId-000000000000"].checkpoint');
  });
});

describe('FileCheckpointStore: a file of another mapping', () => {
  it.each<[string, Partial<MappingIdentity>]>([
    ['consumer', { consumerName: 'other-consumer' }],
    ['function', { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:other' }],
    ['stream name', { streamName: 'orders-old' }],
    ['stream ARN', { streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders' }],
    ['stream creation time (stream re-created)', { streamCreatedAt: '2024-04-02T00:00:00.000Z' }],
  ])('another %s: ignored with a warning (the mapping starts from its starting position)', async (_name, change) => {
    const { logger, warn } = stubLogger();
    const store = storeOf('orders-pipeline', logger);
    const stored = { ...IDENTITY, ...change };
    const path = await writeRaw(store, JSON.stringify(fileBody({ identity: stored })));
    expect(await store.load(IDENTITY)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      { path, stored, current: IDENTITY },
      'stored checkpoints belong to another stream or function (re-created?): ignored, the mapping starts from its starting position',
    );
  });

  it('a file written for another pipeline (same identity): ignored with a warning', async () => {
    const { logger, warn } = stubLogger();
    const store = storeOf('orders-pipeline', logger);
    const path = await writeRaw(store, JSON.stringify(fileBody({ pipeline: 'payments-pipeline' })));
    expect(await store.load(IDENTITY)).toBeUndefined();
    expect(warn).toHaveBeenCalledWith({ path, stored: IDENTITY, current: IDENTITY }, expect.stringContaining('another stream or function'));
  });

  it('without a logger a foreign file is still ignored (no crash), and the next save replaces it', async () => {
    const store = storeOf();
    await writeRaw(store, JSON.stringify(fileBody({ identity: { ...IDENTITY, streamCreatedAt: 'earlier' } })));
    expect(await store.load(IDENTITY)).toBeUndefined();
    await store.save(IDENTITY, PROGRESS);
    expect(await store.load(IDENTITY)).toEqual(PROGRESS);
  });

  it('the same mapping and pipeline: loaded, no warning', async () => {
    const { logger, warn } = stubLogger();
    const store = storeOf('orders-pipeline', logger);
    await writeRaw(store, JSON.stringify(fileBody()));
    expect(await store.load(IDENTITY)).toEqual(PROGRESS);
    expect(warn).not.toHaveBeenCalled();
  });
});
