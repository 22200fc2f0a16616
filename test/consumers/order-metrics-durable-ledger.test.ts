/**
 * The deployed order-metrics handler with PUBLISH_LEDGER_TABLE set, its DynamoDB client pointed at
 * dynalite (AWS_ENDPOINT_URL_DYNAMODB, honoured by the SDK v3): a final window invoke that published
 * and then failed, retried by Lambda on a new container (a fresh module: new ledger, new clients), does
 * not publish again. CloudWatch is mocked (aws-sdk-client-mock); DynamoDB is real.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OrderEvent } from '../../schemas';
import { createFixtures } from '../../schemas/fixtures';
import { LEDGER_EXPIRY_ATTRIBUTE, LEDGER_KEY_ATTRIBUTE } from '../../pipeline/publish-ledger-table';
import { LEASE_UNTIL_ATTRIBUTE, STATUS_ATTRIBUTE } from '../../consumers/order-metrics/dynamodb-publish-ledger';
import { FilePublishLedger } from '../../consumers/order-metrics/file-publish-ledger';
import { businessMetricsFilePath, publishedMarkersDir } from '../../consumers/order-metrics/file-publisher';
import { LEASE_MARGIN_MS } from '../../consumers/order-metrics/claim-lease';
import { createLedgerTable, EMULATOR_CREDENTIALS, startDynalite, type EmbeddedDynamoDb } from '../support/dynalite';
import { SHARD_ID, STREAM_ARN, kinesisRecord, lambdaContext, windowEvent } from './kinesis-event';

const cw = mockClient(CloudWatchClient);
let db: EmbeddedDynamoDb;
let admin: DynamoDBClient;
let tableCount = 0;

// A window near the real clock: PutMetricData only takes time stamps from the last two weeks.
const startMs = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
const WINDOW = { start: new Date(startMs).toISOString().replace('.000', ''), end: new Date(startMs + 60_000).toISOString().replace('.000', '') };
const WINDOW_KEY = `${STREAM_ARN}|${SHARD_ID}|${WINDOW.start}|${WINDOW.end}`;

beforeAll(async () => {
  db = await startDynalite();
  admin = db.client();
});
afterAll(async () => {
  await db.stop();
});
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
  cw.on(PutMetricDataCommand).resolves({});
});
afterEach(() => {
  cw.reset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  vi.resetModules();
});

/** A new Lambda container: the handler module loaded afresh (config, clients and ledger built at init). */
async function newContainer(env: Record<string, string>) {
  const base = {
    BUSINESS_METRICS_NAMESPACE: 'Orders/Business',
    BUSINESS_METRICS_DIMENSIONS: '{"Stage":"test"}',
    LOG_LEVEL: 'silent',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_MAX_ATTEMPTS: '1',
    QUARANTINE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-test-order-metrics-quarantine',
  };
  for (const [k, v] of Object.entries({ ...base, ...env })) vi.stubEnv(k, v);
  vi.resetModules();
  return (await import('../../consumers/order-metrics/handler')).handler;
}

const finalInvoke = (events: readonly OrderEvent[]) =>
  windowEvent(
    events.map((e) => kinesisRecord(e, e.data.orderId, startMs + 1000)),
    { window: WINDOW, final: true },
  );

const placedPublished = () =>
  cw.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input.MetricData!.find((d) => d.MetricName === 'OrdersPlaced')!.Value);

describe('order-metrics with the DynamoDB publish ledger (PUBLISH_LEDGER_TABLE)', () => {
  it('a final invoke that published, then failed, and is retried on a new container publishes nothing more', async () => {
    const table = `ledger-${++tableCount}`;
    await createLedgerTable(admin, table);
    const events = createFixtures({ seed: 71 }).take(30);
    const placed = events.filter((e) => e.type === 'order.placed').length;
    const event = finalInvoke(events);

    // Container A publishes the window; then the invocation fails (timeout, crash: its response is lost).
    const containerA = await newContainer({ PUBLISH_LEDGER_TABLE: table });
    const a = await containerA(structuredClone(event), lambdaContext('order-metrics'));
    expect(a.state['publishedWindowKey']).toBe(WINDOW_KEY);
    expect(placedPublished()).toEqual([placed]);
    const claim = await admin.send(new GetItemCommand({ TableName: table, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: WINDOW_KEY } }, ConsistentRead: true }));
    expect(claim.Item?.[LEDGER_EXPIRY_ATTRIBUTE]?.N).toMatch(/^\d+$/);

    // Lambda retries the same event (the previous state, the same records) on container B.
    const containerB = await newContainer({ PUBLISH_LEDGER_TABLE: table });
    const b = await containerB(structuredClone(event), lambdaContext('order-metrics'));
    expect(b.batchItemFailures).toEqual([]);
    expect(b.state['publishedWindowKey']).toBe(WINDOW_KEY);
    expect(placedPublished()).toEqual([placed]);
  });

  it('without the table (in-memory ledger) the same retry on a new container publishes the window twice', async () => {
    const events = createFixtures({ seed: 72 }).take(20);
    const placed = events.filter((e) => e.type === 'order.placed').length;
    const event = finalInvoke(events);
    await (await newContainer({}))(structuredClone(event), lambdaContext('order-metrics'));
    await (await newContainer({}))(structuredClone(event), lambdaContext('order-metrics'));
    expect(placedPublished()).toEqual([placed, placed]);
  });

  it('a ledger failure fails the final invoke before anything is published; the retry publishes once', async () => {
    const table = `ledger-${++tableCount}`;
    const event = finalInvoke(createFixtures({ seed: 73 }).take(10));
    const handler = await newContainer({ PUBLISH_LEDGER_TABLE: table });
    // The table does not exist yet: PutItem fails with ResourceNotFoundException, the invoke fails.
    await expect(handler(structuredClone(event), lambdaContext('order-metrics'))).rejects.toThrow(/non-existent table|not found/i);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    await createLedgerTable(admin, table);
    await handler(structuredClone(event), lambdaContext('order-metrics'));
    await (await newContainer({ PUBLISH_LEDGER_TABLE: table }))(structuredClone(event), lambdaContext('order-metrics'));
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it('a sandbox that dies after claiming (PutMetricData never returns) holds the window for its lease: the retry fails, the retry after the lease publishes exactly once', async () => {
    const table = `ledger-${++tableCount}`;
    await createLedgerTable(admin, table);
    const events = createFixtures({ seed: 74 }).take(25);
    const placed = events.filter((e) => e.type === 'order.placed').length;
    const event = finalInvoke(events);
    // The first PutMetricData never answers (the sandbox is stopped mid-call, so nothing reaches
    // CloudWatch); later calls are delivered.
    cw.reset();
    let calls = 0;
    const delivered: number[] = [];
    cw.on(PutMetricDataCommand).callsFake((input: { MetricData: { MetricName: string; Value: number }[] }) => {
      calls += 1;
      if (calls === 1) return new Promise(() => undefined);
      delivered.push(input.MetricData.find((d) => d.MetricName === 'OrdersPlaced')!.Value);
      return {};
    });
    // Only Date is faked: the lease expires because the clock moves, not because the test waits.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      const dying = await newContainer({ PUBLISH_LEDGER_TABLE: table });
      void dying(structuredClone(event), lambdaContext('order-metrics', 60_000)); // never settles: the sandbox is gone
      await vi.waitFor(() => expect(calls).toBe(1));
      const claim = await admin.send(new GetItemCommand({ TableName: table, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: WINDOW_KEY } }, ConsistentRead: true }));
      expect(claim.Item?.[STATUS_ATTRIBUTE]).toEqual({ S: 'IN_PROGRESS' });
      // The lease: the invocation's remaining time at the claim plus the margin.
      expect(Number(claim.Item?.[LEASE_UNTIL_ATTRIBUTE]?.N) - Date.now()).toBeGreaterThan(60_000);
      expect(Number(claim.Item?.[LEASE_UNTIL_ATTRIBUTE]?.N) - Date.now()).toBeLessThanOrEqual(60_000 + LEASE_MARGIN_MS);

      // Lambda retries while the lease is valid: the invoke fails, nothing is skipped or published.
      const early = await newContainer({ PUBLISH_LEDGER_TABLE: table });
      await expect(early(structuredClone(event), lambdaContext('order-metrics'))).rejects.toThrow(/being published by another invocation/);
      expect(delivered).toEqual([]);

      // After the lease (the dead invocation's timeout) the next retry takes the claim over.
      vi.setSystemTime(Date.now() + 60_000 + LEASE_MARGIN_MS + 1);
      const retry = await newContainer({ PUBLISH_LEDGER_TABLE: table });
      const published = await retry(structuredClone(event), lambdaContext('order-metrics'));
      expect(published.state['publishedWindowKey']).toBe(WINDOW_KEY);
      expect(delivered).toEqual([placed]);
      const done = await admin.send(new GetItemCommand({ TableName: table, Key: { [LEDGER_KEY_ATTRIBUTE]: { S: WINDOW_KEY } }, ConsistentRead: true }));
      expect(done.Item?.[STATUS_ATTRIBUTE]).toEqual({ S: 'COMPLETED' });

      // Any later retry of the same invoke (e.g. its response was lost) publishes nothing more.
      vi.setSystemTime(Date.now() + 3_600_000);
      await (await newContainer({ PUBLISH_LEDGER_TABLE: table }))(structuredClone(event), lambdaContext('order-metrics'));
      expect(delivered).toEqual([placed]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('locally (LOCAL_DATA_DIR): a worker that died after claiming holds the window until the lease expires; then it is published exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'order-metrics-lease-'));
    const events = createFixtures({ seed: 75 }).take(25);
    const placed = events.filter((e) => e.type === 'order.placed').length;
    const event = finalInvoke(events);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      // The dead worker's claim, exactly as its ledger wrote it (no line was appended).
      const dead = await new FilePublishLedger(publishedMarkersDir(dataDir)).claim(WINDOW_KEY, { leaseMs: 30_000 });
      expect(dead.outcome).toBe('claimed');
      const worker = () => newContainer({ LOCAL_DATA_DIR: dataDir, QUARANTINE_QUEUE_URL: '' });
      await expect((await worker())(structuredClone(event), lambdaContext('order-metrics'))).rejects.toThrow(/being published by another invocation/);
      await expect(readFile(businessMetricsFilePath(dataDir, 'Orders/Business'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
      vi.setSystemTime(Date.now() + 30_001);
      await (await worker())(structuredClone(event), lambdaContext('order-metrics'));
      await (await worker())(structuredClone(event), lambdaContext('order-metrics'));
      const lines = (await readFile(businessMetricsFilePath(dataDir, 'Orders/Business'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as { MetricName: string; Value: number });
      expect(lines.filter((l) => l.MetricName === 'OrdersPlaced').map((l) => l.Value)).toEqual([placed]);
    } finally {
      vi.useRealTimers();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad table name at cold start, naming the variable', async () => {
    await expect(newContainer({ PUBLISH_LEDGER_TABLE: 'x' })).rejects.toThrow(/PUBLISH_LEDGER_TABLE must be a DynamoDB table name/);
  });
});
