import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { SQSClient, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OrderEvent } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import type { BusinessMetricLine } from '../../consumers/order-metrics/file-publisher';
import { STREAM_ARN, SHARD_ID, kinesisRecord, lambdaContext, windowEvent } from './kinesis-event';

const cw = mockClient(CloudWatchClient);
const sqs = mockClient(SQSClient);
let dataDir: string;

// A window near the real clock: PutMetricData only takes time stamps from the last two weeks.
const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
const WINDOW = { start: new Date(startMs).toISOString().replace('.000', ''), end: new Date(startMs + 60_000).toISOString().replace('.000', '') };

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'order-metrics-h-'));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
});
afterEach(async () => {
  cw.reset();
  sqs.reset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
  await rm(dataDir, { recursive: true, force: true });
});

async function loadHandler(env: Record<string, string>) {
  const base = { BUSINESS_METRICS_NAMESPACE: 'Orders/Business', BUSINESS_METRICS_DIMENSIONS: '{"Stage":"test"}', LOG_LEVEL: 'silent', AWS_REGION: 'eu-west-1' };
  for (const [k, v] of Object.entries({ ...base, ...env })) vi.stubEnv(k, v);
  vi.resetModules();
  return (await import('../../consumers/order-metrics/handler')).handler;
}

const records = (events: readonly OrderEvent[]) => events.map((e) => kinesisRecord(e, e.data.orderId, startMs + 1000));

function expectedFigures(events: readonly OrderEvent[]) {
  const out: Record<string, number> = { OrdersPlaced: 0, OrdersPaid: 0, OrdersShipped: 0, OrdersCancelled: 0 };
  const name = { 'order.placed': 'OrdersPlaced', 'order.paid': 'OrdersPaid', 'order.shipped': 'OrdersShipped', 'order.cancelled': 'OrdersCancelled' } as const;
  for (const e of events) {
    out[name[e.type]]! += 1;
    if (e.type === 'order.paid') out[`RevenueMinor/${e.data.currency}`] = (out[`RevenueMinor/${e.data.currency}`] ?? 0) + e.data.amountMinor;
  }
  return out;
}

function figuresOf(lines: readonly { MetricName?: string; Dimensions?: readonly { Name?: string; Value?: string }[]; Value?: number }[]) {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const currency = l.Dimensions?.find((d) => d.Name === 'Currency')?.Value;
    const key = currency ? `${l.MetricName}/${currency}` : l.MetricName!;
    out[key] = (out[key] ?? 0) + l.Value!;
  }
  return out;
}

async function fileLines(): Promise<BusinessMetricLine[]> {
  const text = await readFile(join(dataDir, 'metrics', 'Orders', 'Business.ndjson'), 'utf8').catch(() => '');
  return text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l) as BusinessMetricLine);
}

describe('order-metrics handler (tumbling window, local file sink)', () => {
  it('carries state across invokes, publishes on the final invoke only, and a retried final invoke publishes nothing more', async () => {
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    const events = createFixtures({ seed: 61 }).take(60);
    const first = await handler(windowEvent(records(events.slice(0, 25)), { window: WINDOW }), lambdaContext('order-metrics'));
    expect(first.batchItemFailures).toEqual([]);
    expect(await fileLines()).toEqual([]);
    const carried = JSON.parse(JSON.stringify(first.state));
    const finalEvent = windowEvent(records(events.slice(25)), { window: WINDOW, state: carried, final: true });
    const final = await handler(finalEvent, lambdaContext('order-metrics'));
    expect(final.batchItemFailures).toEqual([]);
    expect(final.state['publishedWindowKey']).toBe(`${STREAM_ARN}|${SHARD_ID}|${WINDOW.start}|${WINDOW.end}`);
    const lines = await fileLines();
    expect(figuresOf(lines)).toEqual(expectedFigures(events));
    expect(new Set(lines.map((l) => l.Timestamp))).toEqual(new Set([new Date(WINDOW.start).toISOString()]));
    expect(lines[0]!.Dimensions).toEqual([{ Name: 'Stage', Value: 'test' }]);

    // Lambda retries the final invoke with the same input (e.g. the response was lost): no second publish.
    const retried = await handler(JSON.parse(JSON.stringify(finalEvent)), lambdaContext('order-metrics'));
    expect(await fileLines()).toHaveLength(lines.length);
    expect(retried.state['placed']).toBe(final.state['placed']);
  });

  it('does not publish twice after a worker replacement (fresh module) retries the final invoke', async () => {
    const events = createFixtures({ seed: 62 }).take(30);
    const finalEvent = windowEvent(records(events), { window: WINDOW, final: true });
    const a = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    await a(JSON.parse(JSON.stringify(finalEvent)), lambdaContext('order-metrics'));
    const b = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    await b(JSON.parse(JSON.stringify(finalEvent)), lambdaContext('order-metrics'));
    expect(figuresOf(await fileLines())).toEqual(expectedFigures(events));
  });

  it('quarantines an invalid record and keeps folding the valid ones', async () => {
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    const f = createFixtures({ seed: 63 });
    const valid = f.take(10);
    const recs = [...records(valid.slice(0, 5)), kinesisRecord('{"not":"an event"}', 'pk-bad', startMs + 1000), ...records(valid.slice(5))];
    const response = await handler(windowEvent(recs, { window: WINDOW, final: true }), lambdaContext('order-metrics'));
    expect(response.batchItemFailures).toEqual([]);
    expect(figuresOf(await fileLines())).toEqual(expectedFigures(valid));
    const quarantine = (await readFile(join(dataDir, 'quarantine', 'order-metrics.ndjson'), 'utf8')).trimEnd().split('\n');
    expect(quarantine).toHaveLength(1);
    expect(JSON.parse(quarantine[0]!).error.kind).toBe('envelope');
  });

  it('does not publish when the final invoke has a failed record; the retry that completes the window publishes', async () => {
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    const f = createFixtures({ seed: 67 });
    // A carried state whose EUR revenue cannot grow any more: folding the payment throws (transient).
    const first = await handler(windowEvent(records([f.orderPlaced()]), { window: WINDOW }), lambdaContext('order-metrics'));
    const nearOverflow = { ...first.state, revenueMinor: { EUR: Number.MAX_SAFE_INTEGER - 1 } };
    const payment = f.orderPaid({ amountMinor: 500, currency: 'EUR' });
    const recs = records([f.orderShipped(), payment]);
    const final = await handler(windowEvent(recs, { window: WINDOW, state: nearOverflow, final: true }), lambdaContext('order-metrics'));
    expect(final.batchItemFailures).toEqual([{ itemIdentifier: recs[1]!.kinesis.sequenceNumber }]);
    expect(final.state['shipped']).toBe(1);
    expect(final.state['publishedWindowKey']).toBeUndefined();
    expect(await fileLines()).toEqual([]);
    // Lambda redelivers from the failed record with the returned state; here the state is repaired.
    const repaired = { ...final.state, revenueMinor: {} };
    const retry = await handler(windowEvent([recs[1]!], { window: WINDOW, state: repaired, final: true }), lambdaContext('order-metrics'));
    expect(retry.batchItemFailures).toEqual([]);
    const figures = figuresOf(await fileLines());
    expect([figures['OrdersPlaced'], figures['OrdersShipped'], figures['OrdersPaid'], figures['RevenueMinor/EUR']]).toEqual([1, 1, 1, 500]);
  });

  it('publishes a window Lambda terminated early under its own key (start and end)', async () => {
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    const events = createFixtures({ seed: 68 }).take(5);
    const early = { start: WINDOW.start, end: new Date(startMs + 30_000).toISOString() };
    const res = await handler(windowEvent(records(events), { window: early, final: true, terminatedEarly: true }), lambdaContext('order-metrics'));
    expect(res.state['publishedWindowKey']).toBe(`${STREAM_ARN}|${SHARD_ID}|${early.start}|${early.end}`);
    expect(figuresOf(await fileLines())).toEqual(expectedFigures(events));
  });

  it('skips a redelivered event already folded into the window', async () => {
    const handler = await loadHandler({ LOCAL_DATA_DIR: dataDir });
    const paid = createFixtures({ seed: 64 }).orderPaid({ amountMinor: 777, currency: 'EUR' });
    const first = await handler(windowEvent(records([paid]), { window: WINDOW }), lambdaContext('order-metrics'));
    const final = await handler(windowEvent(records([paid]), { window: WINDOW, state: JSON.parse(JSON.stringify(first.state)), final: true }), lambdaContext('order-metrics'));
    expect(final.state['paid']).toBe(1);
    expect(figuresOf(await fileLines())['RevenueMinor/EUR']).toBe(777);
  });
});

describe('order-metrics handler (CloudWatch)', () => {
  it('publishes one PutMetricData per window on the final invoke, timestamped at the window start', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const handler = await loadHandler({ QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-test-order-metrics-quarantine' });
    const events = createFixtures({ seed: 65 }).take(40);
    const first = await handler(windowEvent(records(events.slice(0, 20)), { window: WINDOW }), lambdaContext('order-metrics'));
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    const final = windowEvent(records(events.slice(20)), { window: WINDOW, state: JSON.parse(JSON.stringify(first.state)), final: true });
    await handler(final, lambdaContext('order-metrics'));
    await handler(JSON.parse(JSON.stringify(final)), lambdaContext('order-metrics'));
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.Namespace).toBe('Orders/Business');
    expect(input.MetricData!.every((d) => d.Timestamp!.getTime() === startMs)).toBe(true);
    expect(input.MetricData![0]).toEqual({ MetricName: 'OrdersPlaced', Dimensions: [{ Name: 'Stage', Value: 'test' }], Timestamp: new Date(startMs), Value: expectedFigures(events)['OrdersPlaced'], Unit: 'Count' });
    expect(figuresOf(input.MetricData!)).toEqual(expectedFigures(events));
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('a failed publish fails the final invoke; Lambda\'s retry (previous state, same records) publishes the full window once', async () => {
    cw.on(PutMetricDataCommand).rejectsOnce(Object.assign(new Error('Internal'), { name: 'InternalServiceFault', $fault: 'server' })).resolves({});
    const handler = await loadHandler({ QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', AWS_MAX_ATTEMPTS: '1' });
    const events = createFixtures({ seed: 66 }).take(25);
    const final = windowEvent(records(events), { window: WINDOW, final: true });
    await expect(handler(JSON.parse(JSON.stringify(final)), lambdaContext('order-metrics'))).rejects.toThrow('Internal');
    const retried = await handler(JSON.parse(JSON.stringify(final)), lambdaContext('order-metrics'));
    expect(retried.batchItemFailures).toEqual([]);
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(2);
    // The retried records were folded again (not skipped as duplicates), so the figures are complete.
    expect(figuresOf(calls[1]!.args[0].input.MetricData!)).toEqual(expectedFigures(events));
  });
});
