/**
 * ParallelizationFactor (page "Using AWS Lambda with Amazon Kinesis": up to 10 concurrent batches per
 * shard, "in-order processing at the partition-key level").
 */
import { describe, expect, it } from 'vitest';
import { laneOf } from '../../local/esm/lanes';
import { ok, runMapping, settings, thrown, useStreamFixture, waitFor } from './harness';

const esm = useStreamFixture();

describe('ParallelizationFactor', () => {
  it('runs up to N batches of one shard at once, one key never in two concurrent batches, order per key kept', async () => {
    const keys = Array.from({ length: 12 }, (_, k) => `customer-${k}`);
    const items = Array.from({ length: 96 }, (_, n) => ({ key: keys[n % keys.length]!, data: { n, key: keys[n % keys.length] } }));
    const puts = await esm.fixture.put(items);
    let inFlight = 0;
    let maxInFlight = 0;
    const keysInFlight = new Map<string, number>();
    let overlap = false;
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 4, parallelizationFactor: 4 }), async (inv) => {
      const batchKeys = new Set(inv.event.Records.map((r) => r.kinesis.partitionKey));
      for (const key of batchKeys) {
        if ((keysInFlight.get(key) ?? 0) > 0) overlap = true;
        keysInFlight.set(key, (keysInFlight.get(key) ?? 0) + 1);
      }
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 15));
      inFlight--;
      for (const key of batchKeys) keysInFlight.set(key, (keysInFlight.get(key) ?? 0) - 1);
      return ok();
    });
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 96, 'all records');
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(overlap).toBe(false);
    // Per key, records were delivered in sequence order.
    const delivered = esm.running.invocations.flatMap((i) => i.event.Records);
    for (const key of keys) {
      const forKey = delivered.filter((r) => r.kinesis.partitionKey === key).map((r) => r.kinesis.sequenceNumber);
      const expected = puts.filter((p) => p.partitionKey === key).map((p) => p.sequenceNumber);
      expect(forKey).toEqual(expected);
    }
    // Every key always went to the same lane (MD5 of the key).
    const laneOfKey = new Map<string, Set<number>>();
    esm.running.activity.forEach((a) => {
      if (a.type !== 'invoke') return;
      for (const seq of a.sequenceNumbers) {
        const key = puts.find((p) => p.sequenceNumber === seq)!.partitionKey;
        laneOfKey.set(key, (laneOfKey.get(key) ?? new Set()).add(a.lane));
      }
    });
    for (const [key, lanes] of laneOfKey) expect([...lanes]).toEqual([laneOf(key, 4)]);
    // The shard checkpoint ends at the last record.
    expect(esm.running.mapping.stats().shards['shardId-000000000000']!.checkpoint).toBe(puts[95]!.sequenceNumber);
  });

  it('a failing lane blocks only its own keys; the checkpoint waits for it', async () => {
    // Two keys in different lanes.
    const [slowKey, fastKey] = (() => {
      const found: string[] = [];
      for (let k = 0; found.length < 2; k++) if (found.length === 0 || laneOf(`k${k}`, 2) !== laneOf(found[0]!, 2)) found.push(`k${k}`);
      return found as [string, string];
    })();
    const puts = await esm.fixture.put([
      { key: slowKey, data: 's0' },
      { key: fastKey, data: 'f0' },
      { key: fastKey, data: 'f1' },
    ]);
    let failures = 0;
    let release = false;
    esm.running = await runMapping(esm.fixture, settings({ batchSize: 10, parallelizationFactor: 2 }), (inv) =>
      inv.event.Records[0]!.kinesis.partitionKey === slowKey && (!release || failures === 0) ? (failures++, thrown()) : ok(),
    );
    await waitFor(() => esm.running!.mapping.stats().recordsProcessed === 2, 'fast lane done');
    // The fast lane finished, but the shard checkpoint cannot pass the failing first record.
    expect(esm.running.checkpoints()).toEqual([]);
    release = true;
    await waitFor(() => esm.running!.checkpoints().length === 1, 'checkpoint');
    expect(esm.running.checkpoints()).toEqual([puts[2]!.sequenceNumber]);
  });
});
