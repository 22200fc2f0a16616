/**
 * An event written twice by an ambiguous PutRecords (same id, same partition key, so same shard) whose
 * copies straddle a window boundary: order-metrics counts it once, in the window of the first copy
 * (consumers/order-metrics/window-seed.ts), judged by the ground truth `ops verify` computes from the
 * stream (ops/verify). Built deterministically: Lambda-shaped window invocations with the arrival
 * times of the copies in consecutive windows, the local file publisher and its ledger.
 * Also (issue 13 c): the window consumer's skips reach the EMF metric DuplicatesSkipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readOrderMetricsConfig } from '../../consumers/order-metrics/config';
import { FileBusinessMetricsPublisher, businessMetricsFilePath } from '../../consumers/order-metrics/file-publisher';
import { RecordInspector } from '../../ops/decode/record-inspector';
import { compareWindows } from '../../ops/verify/compare-effects';
import { expectedEffects } from '../../ops/verify/ground-truth';
import { readObservedWindows } from '../../ops/verify/observed-effects';
import { createFixtures } from '../../schemas/fixtures';
import type { OrderEvent } from '../../schemas/index';
import { createLogger } from '../../telemetry/logger';
import { SHARD_ID, kinesisRecord, lambdaContext, windowEvent } from './kinesis-event';

const NAMESPACE = 'Orders/Business';
// Windows near the real clock: PutMetricData (and so the publisher) only takes recent time stamps.
const w1 = Math.floor(Date.now() / 60_000) * 60_000 - 180_000;
const w2 = w1 + 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000', '');
const W1 = { start: iso(w1), end: iso(w2) };
const W2 = { start: iso(w2), end: iso(w2 + 60_000) };

let dataDir: string;
let createOrderMetricsHandler: typeof import('../../consumers/order-metrics/handler').createOrderMetricsHandler;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'order-metrics-xw-'));
  // The module builds its own handler at import (configuration from the environment); unused here.
  vi.stubEnv('BUSINESS_METRICS_NAMESPACE', NAMESPACE);
  vi.stubEnv('LOCAL_DATA_DIR', dataDir);
  ({ createOrderMetricsHandler } = await import('../../consumers/order-metrics/handler'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dataDir, { recursive: true, force: true });
});

function newHandler() {
  const emf: Record<string, unknown>[] = [];
  const config = readOrderMetricsConfig({ BUSINESS_METRICS_NAMESPACE: NAMESPACE });
  const handler = createOrderMetricsHandler({
    config,
    publisher: new FileBusinessMetricsPublisher({ dataDir, namespace: NAMESPACE }),
    runtime: { logger: createLogger({ name: 'xw-test', level: 'silent' }), metrics: { writer: (line: string) => void emf.push(JSON.parse(line) as Record<string, unknown>) } },
  });
  return { handler, emf };
}

/** Runs the window invocations of one shard in order, carrying the state as Lambda does (JSON). */
async function runWindow(handler: ReturnType<typeof newHandler>['handler'], window: { start: string; end: string }, batches: KinesisStreamRecord[][]) {
  let state: Record<string, unknown> = {}; // Lambda: every window starts with a fresh state
  for (const [i, records] of [...batches, []].entries()) {
    const final = i === batches.length;
    const response = await handler(windowEvent(records, { window, state, final }), lambdaContext('order-metrics'));
    expect(response.batchItemFailures).toEqual([]);
    state = JSON.parse(JSON.stringify(response.state)) as Record<string, unknown>;
  }
  return state;
}

async function verdict(records: readonly KinesisStreamRecord[]) {
  const expected = expectedEffects(new RecordInspector().inspectEventRecords(records, SHARD_ID), { windowSeconds: 60 });
  const observed = await readObservedWindows({ metricsFile: businessMetricsFilePath(dataDir, NAMESPACE), checkpointFiles: [] });
  return compareWindows({ consumer: 'order-metrics', expected: expected.windows, observed }).verdict;
}

describe('order-metrics: an event written twice across a window boundary', () => {
  it('is counted once, in the window of its first copy (ground truth: DOUBLE 0, MISSING 0); the skips reach EMF DuplicatesSkipped', async () => {
    const events: OrderEvent[] = createFixtures({ seed: 83 }).take(20);
    const at = (e: OrderEvent, ms: number) => kinesisRecord(e, e.data.orderId, ms);
    const straddler = events[9]!;
    // Window 1: events 0-9, the last at 59.5 s. The producer's retried request writes event 9 again,
    // arriving at 0.8 s into window 2 (same partition key, so the same shard, a later sequence number).
    const firstWindow = [events.slice(0, 5).map((e, i) => at(e, w1 + 1000 + i)), events.slice(5, 10).map((e, i) => at(e, w1 + 59_000 + i * 100))];
    const secondWindow = [
      [at(straddler, w2 + 800), ...events.slice(10, 15).map((e, i) => at(e, w2 + 1000 + i))],
      // and a redelivery inside window 2 (the in-window check, as before)
      [...events.slice(15).map((e, i) => at(e, w2 + 2000 + i)), at(events[12]!, w2 + 3000)],
    ];
    const { handler, emf } = newHandler();
    await runWindow(handler, W1, firstWindow);
    const closed = await runWindow(handler, W2, secondWindow);

    const all = [...firstWindow.flat(), ...secondWindow.flat()];
    expect(await verdict(all)).toMatchObject({ expected: 20, actual: 20, missing: 0, double: 0, ok: true });
    expect(closed['duplicatesSkipped']).toBe(2);
    const sum = (name: string) => emf.reduce((t, doc) => t + (typeof doc[name] === 'number' ? (doc[name] as number) : 0), 0);
    expect(sum('DuplicatesSkipped')).toBe(2);
    expect(sum('RecordsProcessed')).toBe(20); // the skipped copies are not "processed"
  });

  it('seeds nothing when the previous window of the shard was not published (first window, or another shard)', async () => {
    const events: OrderEvent[] = createFixtures({ seed: 84 }).take(4);
    const { handler } = newHandler();
    const records = events.map((e, i) => kinesisRecord(e, e.data.orderId, w2 + 1000 + i));
    const state = await runWindow(handler, W2, [records]);
    expect(state['recentEventIds']).toEqual(events.map((e) => e.id));
    expect(state['duplicatesSkipped']).toBe(0);
  });
});
