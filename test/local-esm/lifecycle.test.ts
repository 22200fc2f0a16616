/**
 * Start/stop, stats and robustness: nothing is lost when the destination or the invoker misbehaves.
 */
import { describe, expect, it } from 'vitest';
import { LocalEventSourceMapping, type OnFailureRecord } from '../../local/esm';
import { createKinesisClient } from '../../kinesis/client';
import { createLogger } from '../../telemetry/logger';
import { FAST_TIMING, FUNCTION_ARN, ok, runMapping, seqs, settings, settle, settlesWithin, thrown, useStreamFixture, waitFor } from './harness';
import { startHoldingProxy } from './holding-proxy';

const esm = useStreamFixture();

describe('lifecycle', () => {
  // GetShardIterator: the shard's first call, before any record is read; GetRecords: the polling loop.
  it.each(['GetShardIterator', 'GetRecords'] as const)('stop() aborts a %s call that gets no answer instead of waiting for the request timeout', async (operation) => {
    const proxy = await startHoldingProxy(esm.fixture.engine.endpoint, operation);
    const client = createKinesisClient({ endpoint: proxy.endpoint, region: 'us-east-1' });
    try {
      esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { client });
      await waitFor(() => proxy.held === 1, `a ${operation} call held by the proxy`);
      expect(await settlesWithin(esm.running.mapping.stop())).toBe('settled');
      expect(esm.running.mapping.stats().state).toBe('stopped');
      await waitFor(() => proxy.abortedByClient === 1, 'the held call aborted by the client');
      expect(proxy.held).toBe(1);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });

  it('stop() lets the in-flight invocation finish and checkpoint, then reports stopped', async () => {
    const puts = await esm.fixture.put([{ data: 1 }]);
    let release: () => void = () => {};
    esm.running = await runMapping(esm.fixture, settings({}), () => new Promise((resolve) => (release = () => resolve(ok()))));
    await waitFor(() => esm.running!.invocations.length === 1, 'in-flight invocation');
    expect(esm.running.mapping.stats()).toMatchObject({ state: 'running', inFlightBatches: 1, recordsPending: 1 });
    const stopped = esm.running.mapping.stop();
    expect(esm.running.mapping.stats().state).toBe('stopping');
    release();
    await stopped;
    expect(esm.running.mapping.stats()).toMatchObject({ state: 'stopped', inFlightBatches: 0, recordsPending: 0, recordsProcessed: 1 });
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
  });

  it('stop() does not start another attempt of a failing batch; its records stay pending (not lost, not discarded)', async () => {
    await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(esm.fixture, settings({}), () => thrown(), { timing: { retryBaseDelayMs: 50, retryMaxDelayMs: 50 } });
    await waitFor(() => esm.running!.invocations.length >= 1, 'first failure');
    await esm.running.mapping.stop();
    const count = esm.running.invocations.length;
    await settle();
    expect(esm.running.invocations).toHaveLength(count);
    expect(esm.running.mapping.stats()).toMatchObject({ state: 'stopped', recordsPending: 2, recordsDiscarded: 0, onFailureRecords: 0 });
    expect(esm.running.checkpoints()).toEqual([]);
  });

  it('per-shard stats report status, checkpoint and pending records', async () => {
    const puts = await esm.fixture.put([{ data: 1 }, { data: 2 }]);
    esm.running = await runMapping(esm.fixture, settings({}), () => ok());
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'processed');
    expect(esm.running.mapping.stats().shards).toEqual({
      'shardId-000000000000': { status: 'reading', checkpoint: puts[1]!.sequenceNumber, millisBehindLatest: expect.any(Number), pendingRecords: 0 },
    });
  });
});

describe('robustness', () => {
  it('an on-failure destination that rejects writes is retried; the checkpoint waits until the record is written', async () => {
    const puts = await esm.fixture.put([{ data: 1 }]);
    const written: OnFailureRecord[] = [];
    let rejections = 0;
    const mapping = new LocalEventSourceMapping({
      kinesis: esm.fixture.client,
      consumerName: 'test-consumer',
      functionArn: FUNCTION_ARN,
      streamName: esm.fixture.streamName,
      streamArn: esm.fixture.streamArn,
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
    const puts = await esm.fixture.put([{ data: 1 }]);
    esm.running = await runMapping(esm.fixture, settings({}), (_inv, index) => {
      if (index === 0) throw new Error('worker pool exploded');
      return ok();
    });
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    expect(esm.running.invocations).toHaveLength(2);
    expect(esm.running.checkpoints()).toEqual(seqs(puts, 0));
    expect(esm.running.activity.find((a) => a.type === 'outcome' && a.result === 'failure')).toMatchObject({ reason: 'Crashed: worker pool exploded' });
  });

  it('start() twice is an error; stop() before start() is a no-op', async () => {
    esm.running = await runMapping(esm.fixture, settings({}), () => ok(), { start: false });
    await esm.running.mapping.stop();
    expect(esm.running.mapping.stats().state).toBe('stopped');
    await expect(esm.running.mapping.start()).rejects.toThrow(/starts once/);
  });
});
