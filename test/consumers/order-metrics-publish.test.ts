import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFixtures } from '../../schemas/fixtures';
import { BUSINESS_METRIC_NAMES, buildWindowMetrics, windowKeyOf, type WindowPublication } from '../../consumers/order-metrics/business-metrics';
import type { BusinessMetricsPublisher, PublishOutcome } from '../../consumers/order-metrics/business-metrics-publisher';
import { FileBusinessMetricsPublisher, businessMetricsFilePath, type BusinessMetricLine } from '../../consumers/order-metrics/file-publisher';
import { closeWindow } from '../../consumers/order-metrics/publish-window';
import { FilePublishLedger } from '../../consumers/order-metrics/file-publish-ledger';
import { InMemoryPublishLedger } from '../../consumers/order-metrics/publish-ledger';
import { WindowClaimHeldError } from '../../consumers/order-metrics/publish-once';
import { WindowAccumulator, readWindowState, type WindowState } from '../../consumers/order-metrics/window-state';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/orders';
const WINDOW = { start: '2026-03-02T10:00:00Z', end: '2026-03-02T10:01:00Z' };
const NOW = new Date('2026-03-02T10:01:05Z');
const DIMENSIONS = [{ Name: 'Stage', Value: 'test' }];

function windowState(): WindowState {
  const f = createFixtures({ seed: 21 });
  const acc = new WindowAccumulator();
  acc.fold(f.orderPlaced());
  acc.fold(f.orderPlaced());
  acc.fold(f.orderPaid({ amountMinor: 4200, currency: 'EUR' }));
  acc.fold(f.orderPaid({ amountMinor: 300, currency: 'SEK' }));
  acc.fold(f.orderShipped());
  return acc.state;
}

/** A publisher that records what it is asked to publish and fails on demand (fault injection). */
class RecordingPublisher implements BusinessMetricsPublisher {
  readonly calls: WindowPublication[] = [];
  failNext = false;
  constructor(private readonly inner: BusinessMetricsPublisher) {}
  async publish(publication: WindowPublication): Promise<PublishOutcome> {
    this.calls.push(publication);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('injected publish failure');
    }
    return this.inner.publish(publication);
  }
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'order-metrics-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function readLines(namespace: string): Promise<BusinessMetricLine[]> {
  const text = await readFile(businessMetricsFilePath(dataDir, namespace), 'utf8');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as BusinessMetricLine);
}

describe('buildWindowMetrics', () => {
  it('emits the four counts (zeros included) and one RevenueMinor per currency, timestamped at the window start', () => {
    const data = buildWindowMetrics(windowState(), WINDOW, DIMENSIONS);
    const start = new Date(WINDOW.start);
    expect(data).toEqual([
      { MetricName: 'OrdersPlaced', Dimensions: DIMENSIONS, Timestamp: start, Value: 2, Unit: 'Count' },
      { MetricName: 'OrdersPaid', Dimensions: DIMENSIONS, Timestamp: start, Value: 2, Unit: 'Count' },
      { MetricName: 'OrdersShipped', Dimensions: DIMENSIONS, Timestamp: start, Value: 1, Unit: 'Count' },
      { MetricName: 'OrdersCancelled', Dimensions: DIMENSIONS, Timestamp: start, Value: 0, Unit: 'Count' },
      { MetricName: 'RevenueMinor', Dimensions: [...DIMENSIONS, { Name: 'Currency', Value: 'EUR' }], Timestamp: start, Value: 4200, Unit: 'None' },
      { MetricName: 'RevenueMinor', Dimensions: [...DIMENSIONS, { Name: 'Currency', Value: 'SEK' }], Timestamp: start, Value: 300, Unit: 'None' },
    ]);
  });
});

describe('closeWindow (final invoke of a window)', () => {
  it('publishes the window once to the file sink, in the PutMetricData-shaped line format', async () => {
    const publisher = new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' });
    const { state, outcome } = await closeWindow({
      state: windowState(),
      window: WINDOW,
      eventSourceArn: STREAM_ARN,
      shardId: 'shardId-000000000000',
      dimensions: DIMENSIONS,
      publisher,
      now: NOW,
    });
    expect(outcome).toBe('published');
    expect(state.publishedWindowKey).toBe(windowKeyOf(STREAM_ARN, 'shardId-000000000000', WINDOW));
    const lines = await readLines('Orders/Business');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({
      Namespace: 'Orders/Business',
      MetricName: BUSINESS_METRIC_NAMES.ordersPlaced,
      Dimensions: DIMENSIONS,
      Timestamp: '2026-03-02T10:00:00.000Z',
      Value: 2,
      Unit: 'Count',
    });
    expect(lines.filter((l) => l.MetricName === 'RevenueMinor').map((l) => [l.Dimensions.at(-1)!.Value, l.Value])).toEqual([
      ['EUR', 4200],
      ['SEK', 300],
    ]);
  });

  it('does not publish twice when the final invoke is retried with the pre-publish state on a new worker', async () => {
    // Lambda retries a failed final invoke with the state it passed before: the marker in the returned
    // state is lost. The file ledger (a new publisher instance = a replaced worker) must stop the repeat.
    const passedIn = JSON.stringify(windowState());
    const first = new RecordingPublisher(new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' }));
    const a = await closeWindow({ state: readWindowState(JSON.parse(passedIn)), window: WINDOW, eventSourceArn: STREAM_ARN, shardId: 'shardId-000000000000', dimensions: DIMENSIONS, publisher: first, now: NOW });
    const second = new RecordingPublisher(new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' }));
    const b = await closeWindow({ state: readWindowState(JSON.parse(passedIn)), window: WINDOW, eventSourceArn: STREAM_ARN, shardId: 'shardId-000000000000', dimensions: DIMENSIONS, publisher: second, now: NOW });
    expect([a.outcome, b.outcome]).toEqual(['published', 'already-published']);
    expect(await readLines('Orders/Business')).toHaveLength(6);
    expect(b.state.publishedWindowKey).toBe(a.state.publishedWindowKey);
  });

  it('skips the publisher entirely when the state already carries this window\'s marker', async () => {
    const publisher = new RecordingPublisher(new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' }));
    const input = { window: WINDOW, eventSourceArn: STREAM_ARN, shardId: 'shardId-000000000000', dimensions: DIMENSIONS, publisher, now: NOW };
    const { state } = await closeWindow({ ...input, state: windowState() });
    const again = await closeWindow({ ...input, state: readWindowState(JSON.parse(JSON.stringify(state))) });
    expect(again.outcome).toBe('already-published');
    expect(publisher.calls).toHaveLength(1);
  });

  it('publishes after a failed publish is retried (the claim is released), exactly once', async () => {
    const publisher = new RecordingPublisher(new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' }));
    const input = { window: WINDOW, eventSourceArn: STREAM_ARN, shardId: 'shardId-000000000000', dimensions: DIMENSIONS, publisher, now: NOW };
    publisher.failNext = true;
    await expect(closeWindow({ ...input, state: windowState() })).rejects.toThrow('injected publish failure');
    const retried = await closeWindow({ ...input, state: windowState() });
    expect(retried.outcome).toBe('published');
    expect(publisher.calls).toHaveLength(2);
    expect(await readLines('Orders/Business')).toHaveLength(6);
  });

  it('publishes each shard\'s window separately (same window, two shards)', async () => {
    const publisher = new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' });
    const input = { window: WINDOW, eventSourceArn: STREAM_ARN, dimensions: DIMENSIONS, publisher, now: NOW };
    const a = await closeWindow({ ...input, shardId: 'shardId-000000000000', state: windowState() });
    const b = await closeWindow({ ...input, shardId: 'shardId-000000000001', state: windowState() });
    expect([a.outcome, b.outcome]).toEqual(['published', 'published']);
    const placed = (await readLines('Orders/Business')).filter((l) => l.MetricName === 'OrdersPlaced');
    expect(placed.map((l) => l.Value)).toEqual([2, 2]);
    // One claim generation and one completion per window (a file each).
    expect((await readdir(join(dataDir, 'metrics', '.published'))).filter((f) => f.endsWith('.json'))).toHaveLength(4);
  });

  it('does not publish (and does not block the shard) a window older than PutMetricData accepts', async () => {
    const publisher = new RecordingPublisher(new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business' }));
    const input = {
      window: WINDOW,
      eventSourceArn: STREAM_ARN,
      shardId: 'shardId-000000000000',
      dimensions: DIMENSIONS,
      publisher,
      now: new Date(Date.parse(WINDOW.start) + 15 * 24 * 3600 * 1000),
    };
    const { outcome, state } = await closeWindow({ ...input, state: windowState() });
    expect(outcome).toBe('outside-cloudwatch-time-range');
    expect(publisher.calls).toHaveLength(0);
    // Marked as done for exactly this stream, shard and window: its retry publishes nothing either.
    expect(state.publishedWindowKey).toBe(`${STREAM_ARN}|shardId-000000000000|${WINDOW.start}|${WINDOW.end}`);
    expect((await closeWindow({ ...input, state: structuredClone(state) })).outcome).toBe('already-published');
    // The same state presented for another shard's window is not mistaken for it.
    expect((await closeWindow({ ...input, shardId: 'shardId-000000000001', state: structuredClone(state) })).outcome).toBe('outside-cloudwatch-time-range');
  });

  it('in-memory ledger: a retry in the same container is skipped; memory stays bounded', async () => {
    const ledger = new InMemoryPublishLedger(2);
    const a = await ledger.claim('a');
    if (a.outcome !== 'claimed') throw new Error('expected a claim');
    await ledger.complete(a.claim);
    expect(await ledger.claim('a')).toEqual({ outcome: 'already-published' });
    await ledger.claim('b');
    await ledger.claim('c'); // evicts the oldest ('a')
    expect((await ledger.claim('c')).outcome).toBe('held-by-other');
    expect((await ledger.claim('a')).outcome).toBe('claimed');
  });

  it('a worker that died after claiming (no line written) holds the window until its lease expires; then it is published once', async () => {
    let nowMs = NOW.getTime();
    const clock = () => new Date(nowMs);
    const ledgerDir = join(dataDir, 'metrics', '.published');
    const workerA = new FilePublishLedger(ledgerDir, { clock });
    const claim = await workerA.claim(windowKeyOf(STREAM_ARN, 'shardId-000000000000', WINDOW), { leaseMs: 10_000 });
    expect(claim.outcome).toBe('claimed');
    const input = { window: WINDOW, eventSourceArn: STREAM_ARN, shardId: 'shardId-000000000000', dimensions: DIMENSIONS, now: NOW };
    const workerB = () => new FileBusinessMetricsPublisher({ dataDir, namespace: 'Orders/Business', ledger: new FilePublishLedger(ledgerDir, { clock }) });
    await expect(closeWindow({ ...input, publisher: workerB(), state: windowState() })).rejects.toBeInstanceOf(WindowClaimHeldError);
    await expect(readLines('Orders/Business')).rejects.toMatchObject({ code: 'ENOENT' });
    nowMs += 10_001;
    expect((await closeWindow({ ...input, publisher: workerB(), state: windowState() })).outcome).toBe('published');
    expect((await closeWindow({ ...input, publisher: workerB(), state: windowState() })).outcome).toBe('already-published');
    expect(await readLines('Orders/Business')).toHaveLength(6);
  });

  it('an old-format marker (<sha256>.published) still counts as published', async () => {
    const key = windowKeyOf(STREAM_ARN, 'shardId-000000000000', WINDOW);
    const ledgerDir = join(dataDir, 'metrics', '.published');
    await mkdir(ledgerDir, { recursive: true });
    await writeFile(join(ledgerDir, `${createHash('sha256').update(key).digest('hex')}.published`), `${key}\n`);
    expect(await new FilePublishLedger(ledgerDir).claim(key)).toEqual({ outcome: 'already-published' });
  });
});
