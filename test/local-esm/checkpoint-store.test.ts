/**
 * checkpoint-store.ts (sameMapping, MemoryCheckpointStore, CheckpointStoreError) and the defaults of
 * mapping-context.ts (DEFAULT_TIMING as documented on EsmTiming in types.ts, emptyCounters).
 */
import { describe, expect, it } from 'vitest';
import { CheckpointStoreError, DEFAULT_TIMING, MemoryCheckpointStore, type MappingIdentity, type MappingProgress } from '../../local/esm';
import { sameMapping } from '../../local/esm/checkpoint-store';
import { emptyCounters } from '../../local/esm/mapping-context';
import { IDENTITY } from './sample-identity';

const progress = (checkpoint: string): MappingProgress => ({ firstStartedAt: '2024-05-01T09:00:00.000Z', shards: { 'shardId-000000000000': { checkpoint } } });

const FIELDS: Array<keyof MappingIdentity> = ['consumerName', 'functionArn', 'streamName', 'streamArn', 'streamCreatedAt'];

describe('sameMapping', () => {
  it('equal identities (other objects) are the same mapping', () => {
    expect(sameMapping(IDENTITY, { ...IDENTITY })).toBe(true);
  });

  it.each(FIELDS)('another %s alone makes another mapping (both ways)', (field) => {
    const other = { ...IDENTITY, [field]: `${IDENTITY[field]}-other` };
    expect(sameMapping(IDENTITY, other)).toBe(false);
    expect(sameMapping(other, IDENTITY)).toBe(false);
  });
});

describe('CheckpointStoreError', () => {
  it('is an Error named CheckpointStoreError, keeping message and cause', () => {
    const cause = new Error('disk');
    const error = new CheckpointStoreError('cannot read', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CheckpointStoreError');
    expect(error.message).toBe('cannot read');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('CheckpointStoreError: cannot read');
  });
});

describe('MemoryCheckpointStore', () => {
  it('nothing saved: undefined; saves are counted; the latest save of a mapping wins', async () => {
    const store = new MemoryCheckpointStore();
    expect(await store.load(IDENTITY)).toBeUndefined();
    expect(store.saves).toBe(0);
    await store.save(IDENTITY, progress('1'));
    await store.save({ ...IDENTITY }, progress('2'));
    await store.save(IDENTITY, progress('3'));
    expect(store.saves).toBe(3);
    expect(await store.load({ ...IDENTITY })).toEqual(progress('3'));
  });

  it('keeps mappings apart: another stream creation time (re-created stream) has no progress', async () => {
    const store = new MemoryCheckpointStore();
    const recreated = { ...IDENTITY, streamCreatedAt: '2024-04-02T00:00:00.000Z' };
    await store.save(IDENTITY, progress('10'));
    expect(await store.load(recreated)).toBeUndefined();
    await store.save(recreated, progress('20'));
    expect(await store.load(IDENTITY)).toEqual(progress('10'));
    expect(await store.load(recreated)).toEqual(progress('20'));
  });

  it('stores copies: changing the saved or loaded objects afterwards changes nothing stored', async () => {
    const store = new MemoryCheckpointStore();
    const identity = { ...IDENTITY };
    const saved = progress('5');
    await store.save(identity, saved);
    identity.streamName = 'changed-after-save';
    saved.shards['shardId-000000000000']!.checkpoint = '999';
    const loaded = await store.load(IDENTITY);
    expect(loaded).toEqual(progress('5'));
    loaded!.shards['shardId-000000000000']!.checkpoint = '777';
    expect(await store.load(IDENTITY)).toEqual(progress('5'));
  });
});

describe('mapping defaults', () => {
  it('DEFAULT_TIMING is what EsmTiming documents (AWS numbers where AWS has them)', () => {
    expect(DEFAULT_TIMING).toEqual({
      pollIntervalMs: 1000, // AWS: polls a caught-up shard once per second
      busyPollIntervalMs: 200, // 5 GetRecords per second per shard
      shardDiscoveryIntervalMs: 5000,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 30_000,
      readErrorBackoffMs: 1000,
      maxBufferedRecordsPerShard: 20_000,
      checkpointWriteDelayMs: 200,
    });
  });

  it('emptyCounters: every counter at 0, a new object each time', () => {
    const counters = emptyCounters();
    expect(counters).toEqual({
      recordsRead: 0,
      recordsProcessed: 0,
      recordsFiltered: 0,
      recordsDiscarded: 0,
      invocations: 0,
      invocationErrors: 0,
      retries: 0,
      bisects: 0,
      onFailureRecords: 0,
      inFlightBatches: 0,
      iteratorAgeMs: 0,
      maxIteratorAgeMs: 0,
    });
    counters.recordsRead = 5;
    expect(emptyCounters().recordsRead).toBe(0);
  });
});
