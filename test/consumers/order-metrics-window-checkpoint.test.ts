/**
 * Rule 9 (window state consistent with the checkpoint), end to end on kinesalite with the local event
 * source mapping and order-metrics in-process: a failed quarantine write makes the runtime report a
 * retry from the invalid record; nothing after it may be in the returned state. When the mapping's
 * retries run out, the rest of the batch goes to on-failure and `ops redrive --mode reput` brings it
 * back: the published windows must then hold every unique valid event of the stream exactly once.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamTumblingWindowEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BusinessMetricsPublisher } from '../../consumers/order-metrics/business-metrics-publisher';
import type { QuarantineRecord, QuarantineSink } from '../../consumers/runtime/index';
import { ShardRangeReader } from '../../ops/aws/shard-range-reader';
import type { MessageSource, SourceItem } from '../../ops/redrive/message-source';
import { redriveOnFailure } from '../../ops/redrive/redrive-on-failure';
import { KinesisProducer } from '../../producers/index';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { contextWithBudget } from '../consumer-runtime/exactly-once-support';
import { ok, runMapping, settings, useStreamFixture, waitFor } from '../local-esm/harness';

const esm = useStreamFixture();
const silent = createLogger({ name: 'window-checkpoint-test', level: 'silent' });

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

/** Fails its first `failures` writes (a scheduled fault), then keeps what it is given. */
class FlakyQuarantine implements QuarantineSink {
  readonly records: QuarantineRecord[] = [];
  writes = 0;
  constructor(private readonly failures: number) {}
  async write(records: readonly QuarantineRecord[]): Promise<readonly number[]> {
    this.writes += 1;
    if (this.writes <= this.failures) throw new Error('SQS SendMessageBatch: ServiceUnavailable (scheduled)');
    this.records.push(...records);
    return [];
  }
}

/** Figures of every published window, summed (what CloudWatch would add up). */
class SummingPublisher implements BusinessMetricsPublisher {
  readonly figures: Record<string, number> = {};
  readonly windows: string[] = [];
  async publish(publication: { windowKey: string; data: readonly { MetricName?: string; Dimensions?: readonly { Name?: string; Value?: string }[]; Value?: number }[] }) {
    this.windows.push(publication.windowKey);
    for (const datum of publication.data) {
      const currency = datum.Dimensions?.find((d) => d.Name === 'Currency')?.Value;
      const key = currency ? `${datum.MetricName}/${currency}` : datum.MetricName!;
      this.figures[key] = (this.figures[key] ?? 0) + datum.Value!;
    }
    return 'published' as const;
  }
}

/** Ground truth from the events put on the stream. */
function expectedFigures(events: readonly OrderEvent[]): Record<string, number> {
  const name = { 'order.placed': 'OrdersPlaced', 'order.paid': 'OrdersPaid', 'order.shipped': 'OrdersShipped', 'order.cancelled': 'OrdersCancelled' } as const;
  const out: Record<string, number> = { OrdersPlaced: 0, OrdersPaid: 0, OrdersShipped: 0, OrdersCancelled: 0 };
  for (const e of events) {
    out[name[e.type]]! += 1;
    if (e.type === 'order.paid') out[`RevenueMinor/${e.data.currency}`] = (out[`RevenueMinor/${e.data.currency}`] ?? 0) + e.data.amountMinor;
  }
  return out;
}

class MemorySource implements MessageSource {
  readonly description = 'memory';
  readonly acked: SourceItem[] = [];
  private given = false;
  constructor(private readonly items: SourceItem[]) {}
  async next() {
    if (this.given) return [];
    this.given = true;
    return this.items;
  }
  async ack(item: SourceItem) {
    this.acked.push(item);
  }
  async close() {}
}

async function startOfSecond(): Promise<void> {
  while (Date.now() % 1000 > 200) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('rule 9: window state consistent with the checkpoint', () => {
  it('a failed quarantine write stops the fold at the invalid record; after on-failure and a reput redrive the published windows equal the unique valid events', async () => {
    vi.stubEnv('BUSINESS_METRICS_NAMESPACE', 'Orders/Business');
    vi.stubEnv('LOG_LEVEL', 'silent');
    vi.stubEnv('LOCAL_DATA_DIR', await mkdtemp(join(tmpdir(), 'window-checkpoint-'))); // the module's own handler (unused here)
    const { createOrderMetricsHandler } = await import('../../consumers/order-metrics/handler');
    const { readOrderMetricsConfig } = await import('../../consumers/order-metrics/config');
    const publisher = new SummingPublisher();
    const quarantine = new FlakyQuarantine(2);
    const handler = createOrderMetricsHandler({
      config: readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: 'Orders/Business' }),
      publisher,
      runtime: { quarantine, logger: silent, metrics: false },
    });

    const f = createFixtures({ seed: 71, startTime: Date.now() });
    const valid = f.take(12);
    const invalid = f.invalid().value;
    await startOfSecond();
    const puts = await esm.fixture.putTogether([
      ...valid.slice(0, 4).map((e) => ({ key: e.data.orderId, data: e })),
      { key: 'invalid-0', data: invalid },
      ...valid.slice(4).map((e) => ({ key: e.data.orderId, data: e })),
    ]);
    esm.running = await runMapping(
      esm.fixture,
      settings({ tumblingWindowInSeconds: 1, batchSize: 100, reportBatchItemFailures: true, maximumRetryAttempts: 1, onFailureDestination: 'queue' }),
      async (inv, index) => ok(await handler(inv.event as unknown as KinesisStreamTumblingWindowEvent, contextWithBudget(60_000, `request-${index}`))),
    );
    await waitFor(() => esm.running!.sink.records.length === 1 && publisher.windows.length === 1, 'retries exhausted and the first window published', 60_000);
    const discarded = esm.running.sink.records[0]!.KinesisBatchInfo;
    expect(discarded.startSequenceNumber).toBe(puts[4]!.sequenceNumber);
    // What the mapping dropped is exactly what the published state does not hold.
    expect(publisher.figures).toEqual(expectedFigures(valid.slice(0, 4)));

    const producer = new KinesisProducer({ streamName: esm.fixture.streamName, client: esm.fixture.client, ordered: true, aggregation: false, logger: silent });
    const summary = await redriveOnFailure({
      source: new MemorySource([{ id: 'on-failure-1', body: JSON.stringify(esm.running.sink.records[0]) }]),
      reader: new ShardRangeReader(esm.fixture.client, { minIntervalMs: 0 }),
      mode: 'reput',
      dryRun: false,
      discardUnrecoverable: false,
      putter: producer,
    });
    await producer.close();
    expect(summary.ok).toBe(true);
    expect(summary.recordsRedriven).toBe(valid.length - 4 + 1);
    await waitFor(() => publisher.windows.length === 2, 'the window of the re-put records published', 60_000);
    expect(publisher.figures).toEqual(expectedFigures(valid));
    expect(quarantine.records.map((r) => r.record.partitionKey)).toEqual(['invalid-0']);
  });
});
