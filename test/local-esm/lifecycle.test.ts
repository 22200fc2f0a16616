/**
 * Start/stop, stats and robustness: nothing is lost when the destination or the invoker misbehaves.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalEventSourceMapping, type OnFailureRecord } from '../../local/esm';
import { createLogger } from '../../telemetry/logger';
import { FAST_TIMING, FUNCTION_ARN, ok, runMapping, seqs, settings, settle, StreamFixture, thrown, waitFor, type RunningMapping } from './harness';

let fixture: StreamFixture;
let running: RunningMapping | undefined;

beforeEach(async () => {
  fixture = await StreamFixture.start();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await fixture.stop();
});

describe('lifecycle', () => {
  it('stop() lets the in-flight invocation finish and checkpoint, then reports stopped', async () => {
    const puts = await fixture.put([{ data: 1 }]);
    let release: () => void = () => {};
    running = await runMapping(fixture, settings({}), () => new Promise((resolve) => (release = () => resolve(ok()))));
    await waitFor(() => running!.invocations.length === 1, 'in-flight invocation');
    expect(running.mapping.stats()).toMatchObject({ state: 'running', inFlightBatches: 1, recordsPending: 1 });
    const stopped = running.mapping.stop();
    expect(running.mapping.stats().state).toBe('stopping');
    release();
    await stopped;
    expect(running.mapping.stats()).toMatchObject({ state: 'stopped', inFlightBatches: 0, recordsPending: 0, recordsProcessed: 1 });
    expect(running.checkpoints()).toEqual(seqs(puts, 0));
  });

  it('stop() does not start another attempt of a failing batch; its records stay pending (not lost, not discarded)', async () => {
    await fixture.put([{ data: 1 }, { data: 2 }]);
    running = await runMapping(fixture, settings({}), () => thrown(), { timing: { retryBaseDelayMs: 50, retryMaxDelayMs: 50 } });
    await waitFor(() => running!.invocations.length >= 1, 'first failure');
    await running.mapping.stop();
    const count = running.invocations.length;
    await settle();
    expect(running.invocations).toHaveLength(count);
    expect(running.mapping.stats()).toMatchObject({ state: 'stopped', recordsPending: 2, recordsDiscarded: 0, onFailureRecords: 0 });
    expect(running.checkpoints()).toEqual([]);
  });

  it('per-shard stats report status, checkpoint and pending records', async () => {
    const puts = await fixture.put([{ data: 1 }, { data: 2 }]);
    running = await runMapping(fixture, settings({}), () => ok());
    await waitFor(() => running!.mapping.stats().recordsProcessed === 2, 'processed');
    expect(running.mapping.stats().shards).toEqual({
      'shardId-000000000000': { status: 'reading', checkpoint: puts[1]!.sequenceNumber, millisBehindLatest: expect.any(Number), pendingRecords: 0 },
    });
  });
});

describe('robustness', () => {
  it('an on-failure destination that rejects writes is retried; the checkpoint waits until the record is written', async () => {
    const puts = await fixture.put([{ data: 1 }]);
    const written: OnFailureRecord[] = [];
    let rejections = 0;
    const mapping = new LocalEventSourceMapping({
      kinesis: fixture.client,
      consumerName: 'test-consumer',
      functionArn: FUNCTION_ARN,
      streamName: fixture.streamName,
      streamArn: fixture.streamArn,
      region: 'us-east-1',
      settings: settings({ maximumRetryAttempts: 0, onFailureDestination: 'queue' }),
      invoke: async () => thrown(),
      onFailure: {
        write: async (record) => {
          if (rejections++ < 2) throw new Error('queue unavailable');
          written.push(record);
        },
      },
      logger: createLogger({ name: 'esm-test', level: 'silent' }),
      timing: FAST_TIMING,
    });
    await mapping.start();
    try {
      await waitFor(() => written.length === 1, 'written on the third try');
      await waitFor(() => mapping.stats().shards['shardId-000000000000']?.checkpoint === puts[0]!.sequenceNumber, 'checkpoint');
      expect(rejections).toBe(3);
      expect(mapping.stats()).toMatchObject({ onFailureRecords: 1, recordsDiscarded: 1 });
    } finally {
      await mapping.stop();
    }
  });

  it('an invoker that throws is treated as a crashed function and retried', async () => {
    const puts = await fixture.put([{ data: 1 }]);
    running = await runMapping(fixture, settings({}), (_inv, index) => {
      if (index === 0) throw new Error('worker pool exploded');
      return ok();
    });
    await waitFor(() => running!.checkpoints().length === 1, 'checkpoint');
    expect(running.invocations).toHaveLength(2);
    expect(running.checkpoints()).toEqual(seqs(puts, 0));
    expect(running.activity.find((a) => a.type === 'outcome' && a.result === 'failure')).toMatchObject({ reason: 'Crashed: worker pool exploded' });
  });

  it('start() twice is an error; stop() before start() is a no-op', async () => {
    running = await runMapping(fixture, settings({}), () => ok(), { start: false });
    await running.mapping.stop();
    expect(running.mapping.stats().state).toBe('stopped');
    await expect(running.mapping.start()).rejects.toThrow(/starts once/);
  });
});
